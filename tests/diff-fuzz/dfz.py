# SPDX-License-Identifier: GPL-2.0-or-later
"""The differential fuzzer's harness: build generated cases with bale and BuildKit, compare.

    python3 dfz.py run --seeds A-B [--jobs N] [--out DIR]    generated cases, against dockerd
    python3 dfz.py case CASE.json [--out DIR]               one case (a file gen.py wrote)
    python3 dfz.py regress CASEDIR...                       regression cases (no dockerd)

Every case is built by bale with overlayfs, by bale on a copied root (BALE_FORCE_COPY=1) and,
unless it is `modern` (heredocs, COPY --link: docker 20.10's frontend lacks them), by docker's
BuildKit (`DOCKER_BUILDKIT=1 docker build`, `docker save`); a modern case's `lowered` twin is
what BuildKit builds, and its files must be the same. The images are described with
tests/integration/imgtree.py (plus xattrs and hard-link groups, below) and diffed: bale's two
modes on everything, bale and BuildKit on the files, the config, the history and the number of
layers, with 20.10's documented quirks masked (tests/integration/buildkit2010.accept and .sed).

Environment: BALE (the binary), DOCKER_HOST (a dockerd the caller started: tests/diff-fuzz/
fuzz.sh starts one), DOCKER_CLI (default /usr/bin/docker), BALE_STORE_DIR (bale's stores).
"""
import concurrent.futures
import copy
import hashlib
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # nothing written beside the sources (make distcheck)
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, HERE)
import imgtree  # noqa: E402
import gen  # noqa: E402

CTX_EPOCH = imgtree.CTX_EPOCH
TAR_EPOCH = imgtree.TAR_EPOCH
BALE = os.environ.get("BALE", os.path.join(TOP, "bale"))
DOCKER = os.environ.get("DOCKER_CLI", "/usr/bin/docker")
ACCEPT = os.path.join(TOP, "tests", "integration", "buildkit2010.accept")
HISTORY_SED = os.path.join(TOP, "tests", "integration", "buildkit2010.sed")
TIMEOUT = 300
BASE_CACHE = {}


# ---- the context on disk ---------------------------------------------------------------------
def materialise(case, d, lowered=False):
    """Write the case's context under D (fresh), every mtime CTX_EPOCH, and its Dockerfile
    beside it (D.Dockerfile, given with -f): a modern case's twin has another Dockerfile, which
    in the context would differ in what COPY . and bind mounts of the context see (seed
    10497)."""
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    lines = case["lowered"] if lowered and case.get("lowered") else case["dockerfile"]
    with open(d + ".Dockerfile", "w") as f:
        f.write("\n".join(lines) + "\n")
    if case.get("base"):
        with open(d + ".base.Dockerfile", "w") as f:
            f.write("\n".join(case["base"]["dockerfile"]) + "\n")
    entries = [e for e in case["context"] if not (lowered and e.get("modern_only"))]
    for e in entries:
        p = os.path.join(d, e["path"])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        t = e["type"]
        if t == "f":
            with open(p, "w") as f:
                f.write(e.get("content", ""))
        elif t == "d":
            os.makedirs(p, exist_ok=True)
        elif t == "l":
            os.symlink(e["target"], p)
        elif t == "h":
            os.link(os.path.join(d, e["target"]), p)
        elif t == "tar":
            # the twin's archive: what 20.10 cannot unpack (zstd) compressed as it can
            # (v5: `compress`, a compression its name does not say)
            write_tar(p, e["entries"], e.get("lowered_as") if lowered and e.get("lowered_as") else e.get("compress"),
                      e.get("format"))
        elif t == "gz":
            with open(p, "wb") as f:
                f.write(gzip.compress(e.get("content", "").encode(), mtime=0))
        for k, v in (e.get("xattrs") or {}).items():
            os.setxattr(p, k, v.encode())
    # modes last: a 0500 directory must still take its entries
    for e in entries:
        if e["type"] in ("f", "d") and "mode" in e:
            os.chmod(os.path.join(d, e["path"]), int(e["mode"], 8))
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            os.utime(os.path.join(root, n), (CTX_EPOCH, CTX_EPOCH), follow_symlinks=False)
    os.utime(d, (CTX_EPOCH, CTX_EPOCH))
    # times of their own (v3), a hard link's being its target's
    for e in entries:
        if "mtime" in e and e["type"] != "h":
            os.utime(os.path.join(d, e["path"]), (e["mtime"], e["mtime"]), follow_symlinks=False)


def sparse_data(e):
    """A sparse file's stored chunks (MAP: [offset, text] pairs) and their (offset, size) map."""
    chunks = [(off, text.encode()) for off, text in e["map"]]
    return [(off, len(b)) for off, b in chunks], b"".join(b for _, b in chunks)


def gnu_sparse_header(ti, e):
    """The old GNU sparse header (type S: up to four map entries in the header, the real size
    at 483) of a GNU-format TarInfo TI, whose size is the stored data's."""
    smap, _ = sparse_data(e)
    ti.type = tarfile.GNUTYPE_SPARSE
    hdr = bytearray(ti.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
    blk = len(hdr) - 512  # a long name's blocks come first
    assert len(smap) <= 4
    for i, (off, size) in enumerate(smap):
        hdr[blk + 386 + 24 * i: blk + 398 + 24 * i] = b"%011o\0" % off
        hdr[blk + 398 + 24 * i: blk + 410 + 24 * i] = b"%011o\0" % size
    hdr[blk + 483: blk + 495] = b"%011o\0" % e["realsize"]
    hdr[blk + 148: blk + 156] = b"        "
    hdr[blk + 148: blk + 156] = b"%06o\0 " % sum(hdr[blk: blk + 512])
    return bytes(hdr)


def write_tar(path, entries, compress_as=None, fmt=None):
    """A tar of ENTRIES (PAX unless FMT says gnu or ustar), compressed as its name (or
    COMPRESS_AS) says. An entry's `mtime` (v6: floats and negative times), `uname`, `gname`;
    type `sparse` (v6): the old GNU sparse header in a GNU archive, PAX 1.0 sparse otherwise."""
    buf = io.BytesIO()
    tfmt = {"gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}.get(fmt, tarfile.PAX_FORMAT)
    with tarfile.open(fileobj=buf, mode="w", format=tfmt) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["path"])
            ti.mtime = e.get("mtime", TAR_EPOCH)
            ti.uid, ti.gid = e.get("uid", 0), e.get("gid", 0)
            ti.uname, ti.gname = e.get("uname", ""), e.get("gname", "")
            ti.mode = int(e.get("mode", "0644"), 8)
            data = None
            if e["type"] == "sparse":
                smap, data = sparse_data(e)
                if tfmt == tarfile.GNU_FORMAT:
                    ti.size = len(data)
                    raw = gnu_sparse_header(ti, e) + data
                    raw += b"\0" * (-len(raw) % 512)
                    t.fileobj.write(raw)
                    t.offset += len(raw)
                    continue
                # PAX 1.0: the map (decimal lines) in the data, padded to a block, then the chunks
                m = ("%d\n" % len(smap) + "".join("%d\n%d\n" % x for x in smap)).encode()
                data = m + b"\0" * (-len(m) % 512) + data
                d, b = os.path.split(e["path"])
                ti.name = os.path.join(d, "GNUSparseFile.0", b)
                ti.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": e["path"],
                                  "GNU.sparse.realsize": str(e["realsize"])}
                ti.size = len(data)
            elif e["type"] == "f":
                data = e.get("content", "").encode()
                ti.size = len(data)
            elif e["type"] == "d":
                ti.type = tarfile.DIRTYPE
            elif e["type"] == "l":
                ti.type, ti.linkname = tarfile.SYMTYPE, e["target"]
            elif e["type"] == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, e["target"]
            elif e["type"] == "c":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, e["major"], e["minor"]
            elif e["type"] == "p":
                ti.type = tarfile.FIFOTYPE
            if e.get("xattrs"):
                ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in e["xattrs"].items()}
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    raw = buf.getvalue()
    kind = compress_as or path
    if kind.endswith(".zst"):
        raw = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
    elif kind.endswith((".gz", ".tgz")):
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as g:
            g.write(raw)
        raw = out.getvalue()
    elif kind.endswith(".bz2"):
        import bz2
        raw = bz2.compress(raw)
    elif kind.endswith(".xz"):
        import lzma
        raw = lzma.compress(raw)
    with open(path, "wb") as f:
        f.write(raw)


# ---- describing an image ---------------------------------------------------------------------
OLD_TIME = 1700000000  # an mtime before it is no build's: compared to the second (times=True)


def shown_time(d):
    """The when field with times=True: a directory's time too, and any time before OLD_TIME
    (the context's and archives' own times, v3) to the second; a build's time stays `new`."""
    t = d.get("mtime")
    if t is None or t >= OLD_TIME:
        return d["when"]
    return {CTX_EPOCH: "ctx", TAR_EPOCH: "tar", 0: "base"}.get(t, "t=%d" % t)


def tree_lines(archive, xattrs=True, times=False):
    """imgtree.py's flattened tree, with hard links resolved into groups (`hl=FIRST`, the first
    path of the group, on every member; type, mode and content those of the shared inode) and
    user xattrs as `x=K=V,...`. times: shown_time's field (compared with BuildKit's and between
    bale's modes, not in the regression cases' `expected` files, which predate it)."""
    outer, entry = imgtree.open_archive(archive, None)
    files = {}
    for i, name in enumerate(entry["Layers"]):
        data = outer.extractfile(imgtree.member(outer, name)).read()
        key = hashlib.sha256(data).hexdigest()
        if i == 0 and key in BASE_CACHE:
            # every case starts from the same base: its tree is read once a run
            files = copy.deepcopy(BASE_CACHE[key])
            continue
        layer = imgtree.layer_tar(outer, name)
        imgtree.apply_layer(files, layer)
        xa = {}
        for m in layer.getmembers():
            x = {k[len("SCHILY.xattr."):]: v for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr.")}
            if x:
                xa[imgtree.abspath(m.name)] = x
        for p, d in files.items():
            if p in xa and "x" not in d:
                d["x"] = ",".join("%s=%s" % kv for kv in sorted(xa[p].items()))
        for p, d in list(files.items()):
            if d["type"] == "h":
                t = files.get(d["detail"])
                gid = "%d:%s" % (i, d["detail"])
                if t is not None and t["type"] != "h":
                    t.setdefault("group", gid)
                    nd = dict(t)
                    files[p] = nd
                else:
                    files[p] = dict(d, type="h?")
        if i == 0:
            BASE_CACHE[key] = copy.deepcopy(files)
    groups = {}
    for p, d in files.items():
        if "group" in d:
            groups.setdefault(d["group"], []).append(p)
    out = []
    for p in sorted(files):
        d = files[p]
        g = sorted(groups.get(d.get("group"), []))
        fields = [imgtree.quote(p), d["type"], d["mode"], d["owner"], shown_time(d) if times else d["when"],
                  d.get("detail")]
        if xattrs and d.get("x"):
            fields.append("x=" + d["x"])
        if len(g) > 1:
            fields.append("hl=" + imgtree.quote(g[0]))
        out.append(" ".join(x for x in fields if x))
    return out


# ---- the layer tars, header by header (v7) -------------------------------------------------
# What a layer's tar headers say beyond the flattened tree: the entries each layer lists (the
# parent directories a builder writes, whiteouts and opaque markers as entries, hard-link
# entries and their direction), their order, their PAX records, and what ends the tar.
# Normalised, as documented intended differences (tests/diff-fuzz/FINDINGS.md Q5): the
# numeric fields' dialect (Go's 7 digits and NUL, libarchive's 6 digits, space and NUL: the
# values are compared), the S_IF* type bits moby adds to the mode field (fillGo18FileTypeBits),
# uname and gname (moby fills them from the daemon host's passwd and group files, bale writes
# none), a whiteout's mtime (the rm's time in 20.10, 0 in bale: reproducible), the PAX
# records libarchive's pax writer adds where Go's writer needs none (uid and gid up to
# 0o7777777, which Go's 7-digit fields hold and libarchive's 6-digit ones do not; a whole
# mtime of 2038 or later that 11 octal digits hold; hdrcharset=BINARY beside a non-ASCII
# path) and, against BuildKit, where a directory's
# whiteouts stand among its entries (20.10 in name order, bale before the other entries, as
# the image spec advises) and user.* xattrs (docker save drops them: Q2).
def layer_entries(layer_bytes):
    """The entries of one uncompressed layer tar as tarfile.TarInfo objects (PAX and GNU
    extension headers folded in), and what follows the last entry: (end, zero blocks, bytes
    after them)."""
    t = tarfile.open(fileobj=io.BytesIO(layer_bytes), mode="r:")
    members = t.getmembers()
    end = t.offset
    tail = layer_bytes[end:]
    zeros = 0
    while tail[zeros * 512:(zeros + 1) * 512] == b"\0" * 512 and (zeros + 1) * 512 <= len(tail):
        zeros += 1
    return members, "end zero-blocks=%d trailing=%d" % (zeros, len(tail) - zeros * 512)


def header_line(m):
    """One entry of a layer, as compared: PATH TYPE MODE UID:GID WHEN [DETAIL] [pax=KEYS]."""
    path = imgtree.abspath(m.name)
    base = os.path.basename(path)
    t = {tarfile.REGTYPE: "f", tarfile.AREGTYPE: "f", tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l",
         tarfile.LNKTYPE: "h", tarfile.CHRTYPE: "c", tarfile.BLKTYPE: "b", tarfile.FIFOTYPE: "p",
         tarfile.CONTTYPE: "f"}.get(m.type, "?%r" % m.type)
    if base.startswith(".wh."):
        when = "wh"  # Q5: the rm's time (20.10) or 0 (bale)
    else:
        # as in the tree (shown_time): a build's time is `new`, `-` for a directory
        when = shown_time({"mtime": int(m.mtime), "when": "-" if t == "d" else imgtree.when(m.mtime)})
    detail = None
    if t == "l":
        detail = m.linkname
    elif t == "h":
        detail = imgtree.abspath(m.linkname)
    elif t in ("c", "b"):
        detail = "%d,%d" % (m.devmajor, m.devminor)
    elif t == "f":
        detail = "size=%d" % m.size
    # the records of its PAX header (which fields did not fit USTAR), values of xattrs aside;
    # Q5: not those a Go writer would not need
    go_fits = {"uid": m.uid <= 0o7777777, "gid": m.gid <= 0o7777777, "hdrcharset": True,
               "mtime": 0 <= m.mtime <= 0o77777777777 and m.mtime == int(m.mtime)}
    pax = sorted(k for k in m.pax_headers if not k.startswith("SCHILY.xattr.") and not go_fits.get(k))
    xa = sorted(k[len("SCHILY.xattr."):] for k in m.pax_headers if k.startswith("SCHILY.xattr."))
    fields = [imgtree.quote(path), t, "%04o" % (m.mode & 0o7777), "%d:%d" % (m.uid, m.gid), when, detail]
    if pax:
        fields.append("pax=" + ",".join(pax))
    if xa:
        fields.append("xattrs=" + ",".join(xa))
    return " ".join(x for x in fields if x)


def layer_header_lines(archive):
    """Per layer of the image: the tar's sha256 and its header lines in tar order (a
    difference of order shows as lines removed and added), then `end ...`."""
    outer, entry = imgtree.open_archive(archive, None)
    layers = []
    for name in entry["Layers"]:
        data = outer.extractfile(imgtree.member(outer, name)).read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:4] == b"\x28\xb5\x2f\xfd":
            data = subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE, check=True).stdout
        members, end = layer_entries(data)
        layers.append((hashlib.sha256(data).hexdigest(), [header_line(m) for m in members] + [end]))
    return layers


def layer_listing(archive):
    """The header lines of every layer but the base's (the regression cases' busybox is not
    the peers'), each after `layer N `: what a case's `expected_layers` holds (v7)."""
    return ["layer %d %s" % (i, x) for i, (_, lines) in enumerate(layer_header_lines(archive)) if i > 0
            for x in lines]


def against_buildkit(lines):
    """Q5 and Q2 on one side's layer lines, for the comparison with BuildKit: whiteouts (not
    opaque markers) moved after the other entries, in path order, and user.* xattrs left out."""
    def strip(x):
        x = re.sub(r"(xattrs=)(\S+)", lambda m: m.group(1) + ",".join(
            n for n in m.group(2).split(",") if not n.startswith("user.")), x)
        return re.sub(r" xattrs=$", "", x)
    lines = [strip(x) for x in lines]
    wh = [x for x in lines if re.match(r"^\S*/\.wh\.(?!\.wh\.\.opq )", x)]
    return [x for x in lines if x not in wh and not x.startswith("end ")] + sorted(wh) + \
        [x for x in lines if x.startswith("end ")]


def layer_diffs(case, a, b, na, nb, docker):
    """The diff lines of each layer's headers (A's and B's archives), `layer N:` before each
    layer's lines; none when the layer counts differ (the tree and config diffs say so)."""
    la, lb = layer_header_lines(a), layer_header_lines(b)
    if len(la) != len(lb) or case.get("modern"):
        return []
    out = []
    acc = accept_res() if docker else []
    for i, ((da, xa), (db, xb)) in enumerate(zip(la, lb)):
        if da == db:
            continue
        if docker:
            xa = against_buildkit(xa)
            xb = against_buildkit([x for x in xb if not any(r.search(x) for r in acc)])
        d = udiff(xa, xb, "%s-layer%d" % (na, i), "%s-layer%d" % (nb, i))
        if d:
            out.append("layer %d:" % i)
            out += d
    return out


def config_lines(archive, extra=True):
    # never contextlib.redirect_stdout: it swaps sys.stdout for every thread at once, and the
    # cases of two jobs mixed their configs (the "anomaly" of FINDINGS F9)
    return imgtree.config_lines(archive) + (extra_config_lines(archive) if extra else [])


def extra_config_lines(archive):
    """Config fields imgtree.py leaves out (compared with BuildKit's, not in the regression
    cases' `expected` files, which predate them): ArgsEscaped, the image's author (MAINTAINER), os and
    architecture, and each history entry's author and comment."""
    outer, entry = imgtree.open_archive(archive, None)
    cfg = json.load(outer.extractfile(imgtree.member(outer, entry["Config"])))
    out = []
    if (cfg.get("config") or {}).get("ArgsEscaped"):
        out.append("ArgsEscaped true")
    if cfg.get("author"):
        out.append("author %s" % json.dumps(cfg["author"]))
    for i, h in enumerate(cfg.get("history") or []):
        for k in ("author", "comment"):
            if h.get(k):
                out.append("history %d %s %s" % (i, k, json.dumps(h[k])))
    return out


def accept_res():
    res = []
    with open(ACCEPT) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                res.append(re.compile(line))
    return res


def history_subs():
    """The sed script of buildkit2010.sed (s/RE/REPL/ lines, ERE) as Python substitutions."""
    subs = []
    with open(HISTORY_SED) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("s/"):
                continue
            _, pat, repl, _ = line.split("/")
            subs.append((re.compile(pat), re.sub(r"\\(\d)", r"\\g<\1>", repl)))
    return subs


def mask_history(lines, subs):
    out = []
    for line in lines:
        for pat, repl in subs:
            line = pat.sub(repl, line, count=1)
        out.append(line)
    return out


# ---- building ------------------------------------------------------------------------------
def run(cmd, log, env=None):
    with open(log, "ab") as f:
        f.write(("$ " + " ".join(cmd) + "\n").encode())
        f.flush()
        # a session of its own: a build that hangs is killed with all it started
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            return p.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
            f.write(b"timeout\n")
            return 124


def secret_args(case, work):
    args = []
    for sid, content in sorted(case.get("secrets", {}).items()):
        p = os.path.join(work, "secret-" + sid)
        with open(p, "w") as f:
            f.write(content)
        args += ["--secret", "id=%s,src=%s" % (sid, p)]
    for k, v in sorted(case.get("build_args", {}).items()):
        args += ["--build-arg", "%s=%s" % (k, v)]
    if case.get("ssh"):
        args += ["--ssh", "default=" + os.environ["SSH_AUTH_SOCK"]]
    return args


def build_bale(case, ctx, work, mode, stores):
    out = os.path.join(work, mode + ".tar")
    env = dict(os.environ, BALE_STORE=os.path.join(stores, mode))
    if mode == "copy":
        env["BALE_FORCE_COPY"] = "1"
    if case.get("base"):
        # the base image (v3.1), tagged in this mode's store for the case's FROM
        cmd = [BALE, "build", "-q", "--no-cache", "-t", case["base"]["tag"], "-f", ctx + ".base.Dockerfile",
               ctx]
        if run(cmd, os.path.join(work, mode + ".log"), env) != 0:
            return None
    cmd = [BALE, "build", "-q", "--no-cache", "--output", "type=docker-archive,dest=" + out,
           "-f", ctx + ".Dockerfile"] + secret_args(case, work) + [ctx]
    rc = run(cmd, os.path.join(work, mode + ".log"), env)
    return out if rc == 0 and os.path.exists(out) else None


def build_docker(case, ctx, work):
    out = os.path.join(work, "docker.tar")
    log = os.path.join(work, "docker.log")
    tag = "dfz-%s:%d" % (os.path.basename(work).lower().replace("_", "-"), os.getpid())
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    rc = 0
    if case.get("base"):
        rc = run([DOCKER, "build", "--network", "host", "-q", "-t", case["base"]["tag"], "-f",
                  ctx + ".base.Dockerfile", ctx], log, env)
    if rc == 0:
        rc = run([DOCKER, "build", "--network", "host", "-q", "-t", tag, "-f", ctx + ".Dockerfile"] +
                 secret_args(case, work) + [ctx], log, env)
    if rc == 0:
        rc = run([DOCKER, "save", "-o", out, tag], log, env)
        if os.environ.get("DFZ_RMI", "1") == "1":
            run([DOCKER, "rmi", "-f", tag] + ([case["base"]["tag"]] if case.get("base") else []), log, env)
    return out if rc == 0 and os.path.exists(out) else None


def udiff(a, b, na, nb):
    import difflib
    return [x.rstrip("\n") for x in difflib.unified_diff(a, b, na, nb, n=0, lineterm="")]


def compare(case, work, stores, with_docker=True):
    """Build CASE in WORK and compare; returns (status, diff lines). status is "same",
    "both-fail" (no builder took it: the generator's fault), "docker-fail", "bale-fail",
    "modes" (bale's two modes differ, files, config or layer headers), "differ" (bale and
    BuildKit differ), "layers" (only in the layers' tar headers, v7) or, for a case with
    an `invalid` line both refused, "unlocated" (bale's error names no line, or not BuildKit's)."""
    os.makedirs(work, exist_ok=True)
    # the logs of an earlier case in WORK (dfz.py case) would answer for this one (unlocated)
    for m in ("overlay", "copy", "docker"):
        if os.path.exists(os.path.join(work, m + ".log")):
            os.unlink(os.path.join(work, m + ".log"))
    ctx = os.path.join(work, "ctx")
    materialise(case, ctx)
    modern = bool(case.get("modern"))
    dctx = ctx
    if (modern or case.get("twin_ctx")) and with_docker:
        dctx = os.path.join(work, "ctx-lowered")
        materialise(case, dctx, lowered=True)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        futs = {m: ex.submit(build_bale, case, ctx, work, m, stores) for m in ("overlay", "copy")}
        if with_docker:
            futs["docker"] = ex.submit(build_docker, case, dctx, work)
        for m, f in futs.items():
            results[m] = f.result()
    ov, cp, dk = results["overlay"], results["copy"], results.get("docker")
    if not with_docker:
        dk = "skip"
    if not ov and not cp and not dk:
        bad = unlocated(case, work)
        if bad:
            return "unlocated", bad
        return "both-fail", tail(work, "docker") + tail(work, "overlay")
    if dk and (not ov or not cp):
        return "bale-fail", tail(work, "overlay" if not ov else "copy")
    if not dk:
        return "docker-fail", tail(work, "docker")
    diffs = []
    t_ov, t_cp = tree_lines(ov, times=True), tree_lines(cp, times=True)
    c_ov, c_cp = config_lines(ov), config_lines(cp)
    diffs += udiff(t_ov + c_ov, t_cp + c_cp, "bale-overlay", "bale-copy")
    diffs += layer_diffs(case, ov, cp, "bale-overlay", "bale-copy", False)
    if diffs:
        return "modes", diffs
    if dk == "skip":
        return "same", []
    diffs = udiff(describe_masked(case, ov, False), describe_masked(case, dk, True), "bale", "buildkit")
    # v7: the layers' headers too; `layers` when only they differ
    ldiffs = layer_diffs(case, ov, dk, "bale", "buildkit", True)
    if ldiffs and not diffs:
        return "layers", ldiffs
    diffs += ldiffs
    return ("differ" if diffs else "same"), diffs


def unlocated(case, work):
    """For a case with an `invalid` line (v5) that both builders refused: nothing when bale's
    error names a line of the Dockerfile (FILE:LINE:COL: error:) and that line is BuildKit's
    (`error line N`, when BuildKit names one); else the lines that say why not."""
    if not case.get("invalid"):
        return []
    logs = {}
    for m in ("overlay", "docker"):
        p = os.path.join(work, m + ".log")
        logs[m] = ""
        if os.path.exists(p):
            with open(p, errors="replace") as f:
                logs[m] = f.read()
    b = re.findall(r"\.Dockerfile:(\d+):\d+: error: (.*)", logs["overlay"])
    if not b:
        return ["unlocated: bale names no line of the Dockerfile"] + tail(work, "overlay") + tail(work, "docker")
    # (a modern case's twin, which BuildKit builds, has other line numbers)
    d = not case.get("modern") and re.search(r"(?:parse error|error on) line (\d+)", logs["docker"])
    # the invalid line's own number: bale may find it before BuildKit finds another fault
    # (BuildKit checks some instructions only when it dispatches them, after parsing them all)
    df = case["dockerfile"]
    at = str(1 + sum(x.count("\n") + 1 for x in df[:df.index(case["invalid"])])) if case["invalid"] in df else None
    if d and d.group(1) != b[-1][0] and b[-1][0] != at:
        return ["misplaced: bale line %s (%s), buildkit line %s" % (b[-1][0], b[-1][1], d.group(1))] + \
            tail(work, "docker")
    return []


def describe_masked(case, archive, docker, extra=True):
    """The image's tree and config as compared with BuildKit's: 20.10's quirks masked
    (buildkit2010.accept on its tree, buildkit2010.sed on both histories), no xattrs (docker
    save drops user.* xattrs: compared between bale's modes only). A modern case is compared
    with its lowered twin on the files and the config fields only: heredoc files' times differ
    and COPY --link makes its own layers."""
    tree = tree_lines(archive, xattrs=False, times=extra)
    if docker:
        acc = accept_res()
        tree = [x for x in tree if not any(r.search(x) for r in acc)]
    cfg = mask_history(config_lines(archive, extra), history_subs())
    if case.get("modern"):
        # the twin's Dockerfile is another file of the context (COPY . and bind mounts see it)
        tree = [re.sub(r"^(\S*/Dockerfile f \S+ \S+) \S+$", r"\1 (Dockerfile)", strip_when(x)) for x in tree]
        cfg = [x for x in cfg if not x.startswith(("history ", "layers "))]
    return tree + cfg


def strip_when(line):
    f = line.split(" ")
    if len(f) > 4:
        del f[4]
    return " ".join(f)


def tail(work, mode):
    p = os.path.join(work, mode + ".log")
    if not os.path.exists(p):
        return []
    with open(p, errors="replace") as f:
        return ["%s: %s" % (mode, x.rstrip()) for x in f.readlines()[-6:]]


# ---- known findings -----------------------------------------------------------------------------
class Signature:
    """A line `signature: NAME: REGEX [;; status: STATUS] [;; if: REGEX]` of FINDINGS.md: a diff
    line that REGEX matches is explained by finding NAME, when the case's status is STATUS and
    its Dockerfile matches the `if` expression (both optional)."""

    def __init__(self, name, spec):
        parts = spec.split(" ;; ")
        self.name = name
        self.re = re.compile(parts[0])
        self.status = None
        self.cond = None
        for p in parts[1:]:
            k, _, v = p.partition(": ")
            if k == "status":
                self.status = v
            elif k == "if":
                self.cond = re.compile(v, re.M)

    def applies(self, case, status):
        lines = ((case.get("base") or {}).get("dockerfile") or []) + case["dockerfile"]
        return (self.status is None or self.status == status) and \
            (self.cond is None or self.cond.search("\n".join(lines)))


def known_signatures():
    sigs = []
    p = os.path.join(HERE, "FINDINGS.md")
    if os.path.exists(p):
        with open(p) as f:
            for line in f:
                m = re.match(r"^\s*signature: (\S+): (.*)$", line.rstrip("\n"))
                if m:
                    sigs.append(Signature(m.group(1), m.group(2)))
    return sigs


def mount_targets(case):
    """The directories RUN --mount steps mount on, and their parents (issue 16 #2: BuildKit
    leaves each one in the image, an empty 0755 root directory if the step made it)."""
    dirs = set()
    for line in case["dockerfile"]:
        for m in re.finditer(r"--mount=(\S*)", line):
            opts = dict(o.split("=", 1) for o in m.group(1).split(",") if "=" in o)
            t = opts.get("target") or opts.get("dst") or opts.get("destination")
            if not t:
                t = {"secret": "/run/secrets/x", "ssh": "/run/buildkit/ssh_agent.0"}.get(opts.get("type"), "")
            while t not in ("", "/"):
                dirs.add(t)
                t = os.path.dirname(t)
    return dirs


def classify(case, status, diffs, sigs):
    """The known findings that explain DIFFS, and the diff lines none explains. A `layers`
    case (v7: only the layers' headers differ) is one that differs, for the signatures too."""
    status = "differ" if status == "layers" else status
    sigs = [x for x in sigs if x.applies(case, status)]
    names = {x.name for x in sigs for d in diffs if x.re.search(d)}
    targets = mount_targets(case)

    def stub(d):
        # (a later step may have chmodded or chowned the stub: any mode and owner)
        m = re.match(r"^\+(\S+) d [0-7]{4} \S+( -)?$", d)
        return m and m.group(1) in targets and status == "differ"
    if any(stub(d) for d in diffs):
        names.add("mount-targets")
    # Files from the context that bale copies as a hard-link group and 20.10 as separate
    # files (today's BuildKit keeps links within one copy: copier.inodes): a line pair that
    # differs only by its hl= field, on a file with the context's time.
    minus = {re.sub(r" hl=\S+$", "", d[1:]) for d in diffs if d.startswith("-") and not d.startswith("---")}
    plus = {re.sub(r" hl=\S+$", "", d[1:]) for d in diffs if d.startswith("+") and not d.startswith("+++")}

    def ctx_link(d):
        core = re.sub(r" hl=\S+$", "", d[1:])
        from_ctx = " ctx " in core or re.search(r" t=[0-9]+ ", core) or (case.get("modern") and " new " not in core)
        return status == "differ" and from_ctx and core in minus and core in plus
    # the same in a layer's headers (v7): bale's hard-link entry where 20.10 writes the file
    def ctx_link_layer(d):
        if status != "differ":
            return False
        m = re.match(r"^-(\S+) h (\S+ \S+) (ctx|t=[0-9]+) \S+$", d)
        if m:
            return any(re.match(r"^\+%s f %s %s size=[0-9]+$" % tuple(re.escape(x) for x in m.groups()), x)
                       for x in diffs)
        m = re.match(r"^\+(\S+) f (\S+ \S+) (ctx|t=[0-9]+) size=[0-9]+$", d)
        return bool(m) and any(re.match(r"^-%s h %s %s \S+$" % tuple(re.escape(x) for x in m.groups()), x)
                               for x in diffs)
    if any(ctx_link(d) or ctx_link_layer(d) for d in diffs):
        names.add("ctx-hardlinks-2010")
    # F6: BuildKit follows a symlink of the image in a COPY destination (dangling or
    # relative), bale replaced it by a directory: every line at the link, under it, or on
    # the way to where it points.
    links = {}
    for d in diffs:
        m = re.match(r"^\+(\S+) l \S+ \S+ (?:\S+ )?(\S+)$", d)
        if m and status == "differ" and re.search(r"^(COPY|ADD) .* %s/" % re.escape(m.group(1)),
                                                   "\n".join(case["dockerfile"]), re.M):
            links[m.group(1)] = os.path.normpath(os.path.join(os.path.dirname(m.group(1)), m.group(2)))

    def via_link(d):
        p = d[1:].split(" ")[0]
        return any(p == x or p.startswith(x + "/") or p == r or p.startswith(r + "/") or r.startswith(p + "/")
                   for x, r in links.items())
    if links and any(via_link(d) for d in diffs):
        names.add("copy-dest-symlink")
    # F25: a --mount target's stub that BuildKit creates in the image and removes after the
    # step leaves its parent directory with the step's time. A directory line pair that
    # differs only by its time, on a mount target or its parent. /etc (the stubs of /etc/hosts
    # and /etc/resolv.conf) is no longer excused: bale now gives it the step's time too.
    stub_parents = {os.path.dirname(t) for t in targets} | targets

    def stub_time(d):
        m = re.match(r"^[-+](\S+) d (\S+ \S+) \S+$", d)
        if not m or m.group(1) not in stub_parents or status != "differ":
            return False
        other = "+" if d[0] == "-" else "-"
        return any(re.match(r"^%s%s d %s \S+$" % (re.escape(other), re.escape(m.group(1)), re.escape(m.group(2))), x)
                   for x in diffs)
    if any(stub_time(d) for d in diffs):
        names.add("stub-parent-time")

    # F30: docker 20.10's context receiver (fsutil's DiskWriter) sets a directory's time
    # before it writes the directory's entries, so a context directory with entries has the
    # build's time there; bale keeps the context's. A directory line pair that differs only
    # by the time, the context's (or its own) on bale's side, the build's on BuildKit's.
    # (F42: the destination of a directory's contents has the build's time in both.)
    def ctx_dir_time(d):
        m = re.match(r"^([-+])(\S+) d (\S+ \S+) (\S+)( pax=\S+)?$", d)
        if not m or status != "differ":
            return False
        want = "-" if m.group(1) == "-" else r"(ctx|t=[0-9]+)"
        if (m.group(1) == "-") != bool(re.match(r"^(ctx|t=[0-9]+)$", m.group(4))):
            return False
        other = "+" if m.group(1) == "-" else "-"
        return any(re.match(r"^%s%s d %s %s%s$" % (re.escape(other), re.escape(m.group(2)), re.escape(m.group(3)), want,
                                                   re.escape(m.group(5) or "")), x)
                   for x in diffs)
    if any(ctx_dir_time(d) for d in diffs):
        names.add("ctx-dir-time-2010")
    # a diff is explained when each of its lines is
    unexplained = [d for d in diffs if d[:1] in "+-" and not d.startswith(("+++", "---"))
                   and not any(x.re.search(d) for x in sigs) and not stub(d) and not ctx_link(d)
                   and not ctx_link_layer(d)
                   and not via_link(d) and not stub_time(d) and not ctx_dir_time(d)]
    return sorted(names), unexplained


# ---- commands ---------------------------------------------------------------------------------
def one_seed(seed, out, stores, keep):
    case = gen.generate(seed)
    work = os.path.join(out, "work", "s%d" % seed)
    t0 = time.time()
    try:
        status, diffs = compare(case, work, stores)
    except Exception as e:  # a harness fault is a result too, never a silent pass
        import traceback
        status, diffs = "harness-error", [repr(e)] + traceback.format_exc().splitlines()
    names, rest = classify(case, status, diffs, known_signatures()) if status != "same" else ([], [])
    if names and rest:
        # explained only in part: the rest is new
        names.append("UNEXPLAINED")
    if status != "same" or keep:
        d = os.path.join(out, "fail" if status != "same" else "keep", "s%d" % seed)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(case, f, indent=1, sort_keys=True)
        with open(os.path.join(d, "diff"), "w") as f:
            f.write("\n".join(diffs) + "\n")
        for m in ("overlay", "copy", "docker"):
            if os.path.exists(os.path.join(work, m + ".log")):
                shutil.copy(os.path.join(work, m + ".log"), d)
    shutil.rmtree(work, ignore_errors=True)
    return seed, status, names, time.time() - t0, case.get("modern")


def parse_seeds(spec):
    seeds = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            seeds += range(int(a), int(b) + 1)
        else:
            seeds.append(int(part))
    return seeds


def cmd_run(args):
    import argparse
    ap = argparse.ArgumentParser(prog="dfz.py run")
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="dfz-out")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--tap", action="store_true")
    a = ap.parse_args(args)
    stores = os.environ.get("BALE_STORE_DIR", os.path.join(a.out, "stores"))
    os.makedirs(a.out, exist_ok=True)
    counts = {}
    unexplained = 0
    n = 0
    log = open(os.path.join(a.out, "results.log"), "a")
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for seed, status, names, secs, modern in ex.map(lambda s: one_seed(s, a.out, stores, a.keep), parse_seeds(a.seeds)):
            counts[status] = counts.get(status, 0) + 1
            tag = ",".join(names) if names else ("-" if status in ("same", "both-fail") else "UNEXPLAINED")
            known = names and "UNEXPLAINED" not in names
            # both refusing the Dockerfile is agreement (the generator's fault, counted apart)
            agree = status in ("same", "both-fail")
            if not agree and not known:
                unexplained += 1
            line = "seed %d %s %s%s %.1fs" % (seed, status, tag, " modern" if modern else "", secs)
            log.write(line + "\n")
            log.flush()
            n += 1
            if not a.tap:
                print(line, flush=True)
            elif agree:
                print("ok %d - %s" % (n, line), flush=True)
            else:
                todo = " # TODO known: " + tag if known else ""
                print("not ok %d - %s%s" % (n, line, todo), flush=True)
                if not known:
                    with open(os.path.join(a.out, "fail", "s%d" % seed, "diff")) as f:
                        for d in f.read().splitlines()[:40]:
                            print("# " + d)
    if a.tap:
        print("1..%d" % n)
    summary = "summary: " + " ".join("%s=%d" % kv for kv in sorted(counts.items())) + " unexplained=%d" % unexplained
    print(("# " if a.tap else "") + summary)
    log.write(summary + "\n")
    return 1 if unexplained else 0


def cmd_case(args):
    path = args[0]
    out = args[1] if len(args) > 1 else "dfz-case"
    with open(path) as f:
        case = json.load(f)
    stores = os.environ.get("BALE_STORE_DIR", os.path.join(out, "stores"))
    status, diffs = compare(case, os.path.join(out, "work"), stores, with_docker="DOCKER_HOST" in os.environ)
    print(status)
    print("\n".join(diffs))
    return 0 if status == "same" else 1


def cmd_regress(args):
    """The regression cases (tests/diff-fuzz/cases/NAME): bale's two modes must agree, and
    agree with `expected` (the right side's masked description). TAP, one test a case; a case
    with a `todo` (its fix is on another branch) is reported as TODO."""
    stores = os.environ["BALE_STORE_DIR"]
    failed = 0
    for n, d in enumerate(args, 1):
        with open(os.path.join(d, "case.json")) as f:
            case = json.load(f)
        expected = None
        if not case.get("expect_error"):
            with open(os.path.join(d, "expected")) as f:
                expected = f.read().splitlines()
        work = os.path.join(os.environ.get("TMPDIR", "/tmp"), "dfz-regress-%d-%d" % (os.getpid(), n))
        diffs = []
        try:
            ctx = os.path.join(work, "ctx")
            materialise(case, ctx)
            ov = build_bale(case, ctx, work, "overlay", stores)
            cp = build_bale(case, ctx, work, "copy", stores)
            if case.get("expect_error"):
                # BuildKit refuses the case: so must bale, in both modes
                diffs = ["bale built it (%s mode) where BuildKit fails: %s" % (m, case["expect_error"])
                         for m, a in (("overlay", ov), ("copy", cp)) if a]
            elif not ov or not cp:
                diffs = ["bale failed"] + tail(work, "overlay" if not ov else "copy")
            else:
                diffs = udiff(tree_lines(ov) + config_lines(ov), tree_lines(cp) + config_lines(cp),
                              "bale-overlay", "bale-copy")
                diffs += layer_diffs(case, ov, cp, "bale-overlay", "bale-copy", False)
                diffs += udiff(describe_masked(case, ov, False, extra=False), expected, "bale", "expected")
                # v7: the layers' headers, where the case has them (bale's, checked against
                # BuildKit's with `dfz.py case` when the case was written)
                if os.path.exists(os.path.join(d, "expected_layers")):
                    with open(os.path.join(d, "expected_layers")) as f:
                        diffs += udiff(layer_listing(ov), f.read().splitlines(), "bale", "expected_layers")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        name = os.path.basename(os.path.normpath(d))
        todo = " # TODO %s" % case["todo"] if case.get("todo") else ""
        if diffs:
            failed += 0 if todo else 1
            print("not ok %d - %s%s" % (n, name, todo))
            for x in diffs[:40]:
                print("# " + x)
        else:
            print("ok %d - %s%s" % (n, name, todo))
    print("1..%d" % len(args))
    return 1 if failed else 0


if __name__ == "__main__":
    cmds = {"run": cmd_run, "case": cmd_case, "regress": cmd_regress}
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
