# SPDX-License-Identifier: GPL-2.0-or-later
"""Describe the image in a docker-archive so that two builders' images can be diffed.

    python3 imgtree.py tree ARCHIVE [NAME]     one line per file of the flattened root filesystem
    python3 imgtree.py config ARCHIVE [NAME]   the config fields a Dockerfile sets, and the history

ARCHIVE is what `docker save`, `buildah push docker-archive:` or `bale build --output
type=docker-archive` write (legacy or OCI-layout flavour: both have a manifest.json). The layers
are applied in memory as OCI says (whiteouts, opaque directories), so nothing is extracted and
no root is needed. Every field is printed in a fixed order, sorted, so `diff` shows divergences.

A tree line is `PATH TYPE MODE UID:GID WHEN [DETAIL]`: TYPE is f, d, l, h (a hard link, DETAIL
is the path it links to), c, b or p; MODE is octal with the setuid/setgid/sticky bits; DETAIL
is the content's sha256 for files and the target for symlinks. WHEN classifies the mtime
instead of printing it, since build times differ by nature: `ctx` for CTX_EPOCH (the tests set
every context file to it), `tar` for TAR_EPOCH (archives the tests ADD), `base` for 0 (the
busybox base), `new` for anything else (made during the build); `-` for directories, whose
mtime moves whenever an entry is made or removed inside them, the peers' mount stubs included.
Spaces, newlines and backslashes in paths are escaped as \\040, \\n and \\\\.
"""
import hashlib
import io
import json
import os
import posixpath
import subprocess
import sys
import tarfile

CTX_EPOCH = 1600000000
TAR_EPOCH = 1500000000


def open_archive(path, name):
    outer = tarfile.open(path)
    manifest = json.load(outer.extractfile(member(outer, "manifest.json")))
    entry = manifest[0]
    if name:
        for m in manifest:
            tags = m.get("RepoTags") or []
            if any(t == name or t.endswith("/" + name) for t in tags):
                entry = m
    return outer, entry


def member(outer, name):
    """The member called NAME, following the symlinks buildah writes for layer.tar."""
    for _ in range(8):
        m = outer.getmember(name)
        if not m.issym():
            return m
        name = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
    raise ValueError("symlink loop at " + name)


def layer_tar(outer, name):
    data = outer.extractfile(member(outer, name)).read()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE, check=True).stdout
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")


def when(mtime):
    return {CTX_EPOCH: "ctx", TAR_EPOCH: "tar", 0: "base"}.get(int(mtime), "new")


def abspath(name):
    """A member's name as an absolute path. Only "./" and "/" prefixes go: a top-level
    ".wh.x" keeps its dot (str.lstrip("./") would make it "wh.x")."""
    return "/" + posixpath.normpath(name).lstrip("/") if name not in ("", ".", "./") else "/"


def apply_layer(files, layer):
    added = set()
    for m in layer.getmembers():
        path = abspath(m.name)
        if path == "/.":
            path = "/"
        base = posixpath.basename(path)
        parent = posixpath.dirname(path)
        if base == ".wh..wh..opq":
            for p in [p for p in files if p.startswith(parent.rstrip("/") + "/") and p not in added]:
                del files[p]
            continue
        if base.startswith(".wh."):
            gone = posixpath.join(parent, base[4:])
            for p in [p for p in files if p == gone or p.startswith(gone + "/")]:
                del files[p]
            continue
        if not m.isdir() and path in files and files[path]["type"] == "d":
            for p in [p for p in files if p.startswith(path + "/")]:
                del files[p]
        files[path] = describe(layer, m)
        added.add(path)


def describe(layer, m):
    d = {"mode": "%04o" % (m.mode & 0o7777), "owner": "%d:%d" % (m.uid, m.gid),
         "when": "-" if m.isdir() else when(m.mtime), "mtime": int(m.mtime)}
    if m.isreg():
        d["type"] = "f"
        d["detail"] = hashlib.sha256(layer.extractfile(m).read()).hexdigest()
    elif m.isdir():
        d["type"] = "d"
    elif m.issym():
        d["type"] = "l"
        d["detail"] = m.linkname
    elif m.islnk():
        d["type"] = "h"
        d["detail"] = abspath(m.linkname)
    elif m.ischr() or m.isblk():
        d["type"] = "c" if m.ischr() else "b"
        d["detail"] = "%d,%d" % (m.devmajor, m.devminor)
    else:
        d["type"] = "p"
    return d


def quote(path):
    return path.replace("\\", "\\\\").replace(" ", "\\040").replace("\n", "\\n")


def tree(path, name):
    outer, entry = open_archive(path, name)
    files = {}
    for layer in entry["Layers"]:
        apply_layer(files, layer_tar(outer, layer))
    for p in sorted(files):
        d = files[p]
        print(" ".join(x for x in (quote(p), d["type"], d["mode"], d["owner"], d["when"], d.get("detail")) if x))


FIELDS = ["Env", "Entrypoint", "Cmd", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels",
          "StopSignal", "Healthcheck", "Shell", "OnBuild"]


def config_lines(path, name=None):
    """The lines `config` prints, as a list (for callers in threads: no stdout involved)."""
    outer, entry = open_archive(path, name)
    cfg = json.load(outer.extractfile(member(outer, entry["Config"])))
    c = cfg.get("config") or {}
    out = []
    for f in FIELDS:
        v = c.get(f)
        if v in (None, [], {}, ""):
            v = None
        out.append("%s %s" % (f, json.dumps(v, sort_keys=True)))
    out.append("layers %d" % len(entry["Layers"]))
    for i, h in enumerate(cfg.get("history") or []):
        # a heredoc's body stays on the history line: newlines are escaped as in paths
        out.append("history %d %s %s" % (i, "empty" if h.get("empty_layer") else "layer",
                                         quote(h.get("created_by", "")).replace("\\040", " ")))
    return out


def config(path, name):
    for line in config_lines(path, name):
        print(line)


if __name__ == "__main__":
    {"tree": tree, "config": config}[sys.argv[1]](sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
