#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A proxy in front of a docker-registry for bale's registry tests (standard library only).

  regproxy.py --upstream 127.0.0.1:PORT --port-file F token
      Bearer token auth as distribution's token spec describes: GET /token (Basic
      credentials user:secret required), or POST /token with the refresh-token grant of the
      identity token "identity-token-for-user", issues tokens for the requested scopes; /v2/ requests
      need a token whose scope covers the repository and action (pull for GET/HEAD, push for
      the rest), else 401 with a Bearer challenge. GET /stats gives {"tokens": issued}.

  regproxy.py --upstream 127.0.0.1:PORT --port-file F fault
      The first path component of the repository chooses a fault; the rest is the upstream
      repository ("/v2/wrongdigest/test/busybox/..." serves test/busybox):
        wrongdigest   blobs come with one byte changed
        truncated     blobs stop after half their bytes (Content-Length stays complete)
        flaky         the first GET of each path answers 500
        ratelimit     the first request of each path answers 429 with Retry-After: 1
        broken        every blob request answers 503
        nochallenge   every request answers 401 without WWW-Authenticate
        bigmanifest   manifests are 5 MiB of JSON
        badsize       manifests give each layer one byte more than it has (digest recomputed)
        slow          blob GETs are sent in 64 KiB pieces, 5 ms apart (a 24 MB blob takes 1.9 s
                      or more: its bytes move for long enough that progress must report them)
        redirect      Basic auth (user:secret) required; blobs redirect (307) to
                      http://localhost:PORT/redirected/..., which refuses requests that carry
                      Authorization: the credentials must not follow a redirect to another host
        bigconfig     manifests name a config of 64 MiB (generated, its digest right)
        bigindex      manifests are image indexes of 5 MiB
        endlessmanifest  manifests come chunked and never end
        endlessblob   blobs come chunked and never end
        hostile       the upstream image with one more layer of a shape chosen by the next path
                      component ("/v2/hostile/dotdot/test/busybox/..."), aimed at the directory
                      $REGPROXY_CANARY: dotdot (a file named ../../..CANARY/dotdot), absolute
                      (CANARY/absolute), hardlink (links to ../..CANARY/c and CANARY/c),
                      symlink (s -> CANARY, then s/through), symlinkrel (the same through
                      ../../..), whiteout (s -> CANARY, then s/.wh.c), bomb (a gzip of 1 GiB
                      of zeros as the layer, 1 MB on the wire)
        ok            no fault
"""
import argparse
import base64
import gzip
import io
import hashlib
import http.client
import http.server
import json
import os
import secrets
import tarfile
import sys
import threading
import time
import urllib.parse

USER, SECRET = "user", "secret"
IDENTITY_TOKEN = "identity-token-for-user"
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate"}


class State:
    tokens = {}  # token -> set of (repo, action)
    issued = 0
    seen = set()
    lock = threading.Lock()


def basic_ok(header):
    if not header or not header.startswith("Basic "):
        return False
    try:
        user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
    except Exception:
        return False
    return user == USER and pw == SECRET


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # A streamed upload (bale and containers/image PATCH a blob of unknown length):
            # relayed with a Content-Length.
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if n == 0:
                    while self.rfile.readline().strip():  # trailers, then the blank line
                        pass
                    return data
                data += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def upstream(self, path, body, method=None):
        conn = http.client.HTTPConnection(self.server.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP and k.lower() != "authorization"}
        conn.request(method or self.command, path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp, data

    def relay(self, path, body, mangle=None):
        resp, data = self.upstream(path, body)
        headers = [(k, v) for k, v in resp.getheaders()
                   if k.lower() not in HOP and k.lower() != "content-length"]
        if mangle and resp.status == 200:
            data, headers = mangle(data, headers)
        self.reply(resp.status, data, headers)

    # ---- token mode --------------------------------------------------------------------------
    def token_endpoint(self, body):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if self.command == "POST":
            # OAuth2 refresh-token grant (distribution's oauth.md), for identity tokens.
            q = urllib.parse.parse_qs(body.decode())
            if q.get("grant_type") != ["refresh_token"] or q.get("refresh_token") != [IDENTITY_TOKEN]:
                return self.reply(401, b'{"error":"invalid_grant"}')
            q["scope"] = q.get("scope", [""])
        elif not basic_ok(self.headers.get("Authorization")):
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                              [("WWW-Authenticate", 'Basic realm="token"')])
        grants = set()
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) >= 3 and parts[0] == "repository":
                    for action in parts[-1].split(","):
                        grants.add((":".join(parts[1:-1]), action))
        token = secrets.token_hex(16)
        with State.lock:
            State.tokens[token] = grants
            State.issued += 1
        key = "access_token" if self.command == "POST" else "token"
        self.reply(200, json.dumps({key: token, "expires_in": 300}).encode(),
                   [("Content-Type", "application/json")])

    def token_mode(self, body):
        path = urllib.parse.urlparse(self.path).path
        if path == "/token":
            return self.token_endpoint(body)
        if path == "/stats":
            return self.reply(200, json.dumps({"tokens": State.issued}).encode())
        repo = repo_of(path)
        action = "pull" if self.command in ("GET", "HEAD") else "push"
        auth = self.headers.get("Authorization") or ""
        grants = State.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if grants is None or (repo and (repo, action) not in grants):
            challenge = 'Bearer realm="http://%s/token",service="bale-test"' % self.headers.get("Host")
            if repo:
                challenge += ',scope="repository:%s:%s"' % (repo, "pull" if action == "pull" else "pull,push")
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                              [("WWW-Authenticate", challenge)])
        self.relay(self.path, body)

    # ---- fault mode --------------------------------------------------------------------------
    def fault_mode(self, body):
        path = urllib.parse.urlparse(self.path).path
        if path.startswith("/redirected/"):
            if self.headers.get("Authorization"):
                return self.reply(403, b"credentials were forwarded to another host")
            return self.relay(path[len("/redirected"):], b"")
        if not path.startswith("/v2/") or path == "/v2/":
            return self.reply(200, b"{}")
        fault, _, rest = path[4:].partition("/")
        real = "/v2/" + rest + (("?" + urllib.parse.urlparse(self.path).query)
                                if "?" in self.path else "")
        is_blob = "/blobs/sha256:" in path
        if fault == "nochallenge":
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        if fault == "flaky":
            with State.lock:
                first = (self.command, path) not in State.seen
                State.seen.add((self.command, path))
            if first:
                return self.reply(500, b"try again")
        if fault == "ratelimit":
            with State.lock:
                first = ("429", self.command, path) not in State.seen
                State.seen.add(("429", self.command, path))
            if first:
                return self.reply(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}', [("Retry-After", "1")])
        if fault == "broken" and is_blob:
            return self.reply(503, b'{"errors":[{"code":"UNAVAILABLE","message":"down"}]}')
        if fault == "redirect":
            if not basic_ok(self.headers.get("Authorization")):
                return self.reply(401, b"", [("WWW-Authenticate", 'Basic realm="fault"')])
            if is_blob:
                port = self.server.server_address[1]
                return self.reply(307, b"", [("Location", "http://localhost:%d/redirected%s" % (port, real))])
        if fault == "bigmanifest" and "/manifests/" in path:
            big = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                              "annotations": {"pad": "x" * (5 * 1024 * 1024)}}).encode()
            return self.reply(200, big, [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
        if fault == "hostile":
            return self.hostile(path, real, body)
        if fault == "bigconfig" and "/manifests/" in path:
            big = json.dumps({"architecture": "amd64", "os": "linux", "pad": "x" * (64 << 20)}).encode()
            m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                       "digest": Hostile.put(big), "size": len(big)},
                            "layers": []}).encode()
            return self.reply(200, m, [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
        if fault == "bigconfig" and is_blob and path.rsplit("/", 1)[1] in Hostile.blobs:
            return self.reply(200, Hostile.blobs[path.rsplit("/", 1)[1]])
        if fault == "bigindex" and "/manifests/" in path:
            big = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                              "manifests": [], "annotations": {"pad": "x" * (5 * 1024 * 1024)}}).encode()
            return self.reply(200, big, [("Content-Type", "application/vnd.oci.image.index.v1+json")])
        if fault == "endlessmanifest" and "/manifests/" in path and self.command == "GET":
            return self.endless("application/vnd.oci.image.manifest.v1+json")
        if fault == "endlessblob" and is_blob and self.command == "GET":
            return self.endless("application/octet-stream")
        if fault == "badsize" and "/manifests/" in path and self.command == "GET":
            return self.relay(real, body, bad_size)
        if fault == "wrongdigest" and is_blob:
            return self.relay(real, body, lambda d, h: (d[:-1] + bytes([d[-1] ^ 1]), h))
        if fault == "slow" and is_blob and self.command == "GET":
            resp, data = self.upstream(real, body)
            self.send_response(resp.status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for at in range(0, len(data), 65536):
                self.wfile.write(data[at:at + 65536])
                self.wfile.flush()
                time.sleep(0.005)
            return
        if fault == "truncated" and is_blob and self.command == "GET":
            resp, data = self.upstream(real, body)
            self.send_response(resp.status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.relay(real, body)

    def endless(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"{" + b" " * 65535
        try:
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            self.close_connection = True

    def hostile(self, path, real, body):
        """The upstream image with a hostile layer on top (see the module's doc)."""
        shape, _, rest = real[4:].partition("/")
        up = "/v2/" + rest
        if "/blobs/sha256:" in path:
            blob = Hostile.blobs.get(path.rsplit("/", 1)[1])
            if blob is None:
                return self.relay(up, body)
            return self.reply(200, blob, [("Content-Type", "application/octet-stream"),
                                          ("Docker-Content-Digest", path.rsplit("/", 1)[1])])
        resp, data = self.upstream(up, b"", "GET")
        if resp.status != 200:
            return self.reply(resp.status, data)
        m = json.loads(data)
        repo = rest.split("/manifests/")[0]
        _, cfg = self.upstream("/v2/%s/blobs/%s" % (repo, m["config"]["digest"]), b"", "GET")
        layer, diff_id = hostile_layer(shape)
        config = json.loads(cfg)
        config["rootfs"]["diff_ids"].append(diff_id)
        config.setdefault("history", []).append({"created_by": "hostile " + shape})
        cfg = json.dumps(config).encode()
        m["config"] = dict(m["config"], digest=Hostile.put(cfg), size=len(cfg))
        m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"
                            if "oci" in m.get("mediaType", "oci") else
                            "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            "digest": Hostile.put(layer), "size": len(layer)})
        doc = json.dumps(m).encode()
        digest = Hostile.put(doc)
        self.reply(200, doc, [("Content-Type", m.get("mediaType", "application/vnd.oci.image.manifest.v1+json")),
                              ("Docker-Content-Digest", digest)])

    def handle_any(self):
        body = self.body()
        if self.server.mode == "token":
            self.token_mode(body)
        else:
            self.fault_mode(body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Hostile:
    blobs = {}  # "sha256:HEX" -> bytes served for it
    lock = threading.Lock()

    @staticmethod
    def put(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with Hostile.lock:
            Hostile.blobs[digest] = data
        return digest


LAYERS = {}


def hostile_layer(shape):
    """(gzip layer, diff_id) of a hostile shape aimed at $REGPROXY_CANARY, made once."""
    with Hostile.lock:
        if shape not in LAYERS:
            LAYERS[shape] = make_layer(shape)
        return LAYERS[shape]


def make_layer(shape):
    canary = os.environ["REGPROXY_CANARY"].strip("/")
    up = "../" * 24
    if shape == "bomb":
        # 1024 gzip members of 1 MiB of zeros each: 1 GiB once inflated, 1 MB on the wire. Its
        # diff_id is right: that of the zeros (to a tar reader, the end of the archive).
        zeros = b"\0" * (1 << 20)
        one = gzip.compress(zeros, mtime=0)
        h = hashlib.sha256()
        for _ in range(1024):
            h.update(zeros)
        return one * 1024, "sha256:" + h.hexdigest()
    entries = {
        "dotdot": [("file", up + canary + "/dotdot", "")],
        "absolute": [("file", "/" + canary + "/absolute", "")],
        "hardlink": [("link", "h", up + canary + "/c"), ("link", "h2", "/" + canary + "/c"),
                     ("file", "h", "")],
        "symlink": [("sym", "s", "/" + canary), ("file", "s/through", "")],
        "symlinkrel": [("sym", "r", up + canary), ("file", "r/through", "")],
        "whiteout": [("sym", "s", "/" + canary), ("file", "s/.wh.c", "")],
    }[shape]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for kind, name, target in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if kind == "file":
                data = b"PWNED\n"
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = tarfile.LNKTYPE if kind == "link" else tarfile.SYMTYPE
            ti.linkname = target
            t.addfile(ti)
    tar = raw.getvalue()
    return gzip.compress(tar, mtime=0), "sha256:" + hashlib.sha256(tar).hexdigest()


def bad_size(data, headers):
    """A manifest whose layer descriptors claim one byte more, with its own digest."""
    m = json.loads(data)
    for layer in m.get("layers", []):
        layer["size"] += 1
    data = json.dumps(m).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return data, [(k, digest if k.lower() == "docker-content-digest" else v) for k, v in headers]


def repo_of(path):
    if not path.startswith("/v2/") or path == "/v2/":
        return ""
    rest = path[4:]
    for kind in ("/manifests/", "/blobs/", "/tags/"):
        if kind in rest:
            return rest.split(kind)[0]
    return rest.rstrip("/")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("mode", choices=["token", "fault"])
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.upstream, srv.mode = a.upstream, a.mode
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
