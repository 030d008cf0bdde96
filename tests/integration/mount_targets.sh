#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What RUN --mount leaves in the image, compared with docker's BuildKit (a dockerd this test
# starts); TAP output. Needs root.
#
# runc creates the mount point of every mount that is missing: the directories (the target of a
# directory mount and the missing parents of any target) stay in the step's layer, empty, 0755,
# root; BuildKit removes only the empty file made for a file target (a bind of a file, a
# secret, an ssh socket: executor/stubs.go). Every mount type and target shape is built by bale
# with overlayfs and with BALE_FORCE_COPY=1, and by BuildKit; the flattened trees (imgtree.py)
# and each layer's list of paths must be the same, apart from what is listed below.

set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"

need_root_and dockerd python3 tar
top_srcdir=$(cd "$top_srcdir" && pwd)
IMGTREE="python3 $top_srcdir/tests/integration/imgtree.py"

start_dockerd
busybox_store || bail "cannot load the busybox base into bale"
docker load -i "$T_TMP/busybox.tar" > /dev/null || bail "docker load of the busybox base failed"

mkdir -p "$ctx/d" && echo f > "$ctx/f.txt" && echo x > "$ctx/d/y"
echo secret-value > "$T_TMP/secret"
# A listening unix socket stands in for ssh-agent: the steps never talk to it.
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(600)' \
  "$T_TMP/agent.sock" &
agent=$!
PIDS="$PIDS $agent" # stopped on exit, a bail-out included (stop_servers)
for i in $(seq 300); do [ -S "$T_TMP/agent.sock" ] && break; sleep 0.1; done
cat > "$ctx/Dockerfile" << 'DF'
FROM busybox
RUN mkdir -p /exist && touch /existfile
RUN --mount=type=cache,target=/cache true
RUN --mount=type=tmpfs,target=/scratch true
RUN --mount=type=cache,target=/a/b/c true
RUN --mount=type=bind,target=/bindf,source=f.txt true
RUN --mount=type=bind,target=/bindd,source=d true
RUN --mount=type=bind,target=/x/y/bindf,source=f.txt true
RUN --mount=type=secret,id=s true
RUN --mount=type=secret,id=s,target=/sec/deep/s true
RUN --mount=type=ssh true
RUN --mount=type=ssh,target=/sshdir/agent true
RUN --mount=type=tmpfs,target=/exist true
RUN --mount=type=bind,source=f.txt,target=/existfile true
RUN --mount=type=tmpfs,target=/tmp/t true
RUN --mount=type=cache,target=/exist/sub,mode=0700,uid=5 true
RUN --mount=type=secret,id=absent,target=/absent/s true
USER 1000
RUN --mount=type=cache,target=/ucache true
RUN --mount=type=tmpfs,target=/utmp true
DF
find "$ctx" -exec touch -h -d @1600000000 {} +
opts="--secret id=s,src=$T_TMP/secret --ssh default=$T_TMP/agent.sock"

# layers ARCHIVE: each layer's paths, one line per layer, as "N: path path ...". Left out: /etc
# (runc's /etc/hosts and /etc/resolv.conf stubs move its mtime in every BuildKit layer) and the
# /dev, /proc and /sys that runc creates in the first RUN's layer (peers_compare.sh's accepted
# divergence: bale's sandbox leaves no stubs of its own).
layers () {
  python3 - "$1" << 'PY'
import json, sys, tarfile, io
outer = tarfile.open(sys.argv[1])
m = json.load(outer.extractfile("manifest.json"))[0]
for i, name in enumerate(m["Layers"][1:], 1):
    t = tarfile.open(fileobj=io.BytesIO(outer.extractfile(name).read()))
    names = sorted(n.rstrip("/") for n in t.getnames())
    keep = [n for n in names if n not in ("etc", "dev", "proc", "sys") and n != "."]
    print("%d: %s" % (i, " ".join(keep)))
PY
}
tree () { $IMGTREE tree "$1" | grep -Ev '^/(dev|proc|sys) d 0755 0:0 -$'; }

build_docker () {
  # shellcheck disable=SC2086
  DOCKER_BUILDKIT=1 docker build --network host -q -t mounts $opts "$ctx" > "$T_TMP/docker.log" 2>&1 &&
    docker save -o "$T_TMP/docker.tar" mounts >> "$T_TMP/docker.log" 2>&1 ||
    { tail -20 "$T_TMP/docker.log"; return 1; }
  tree "$T_TMP/docker.tar" > "$T_TMP/docker.tree" && layers "$T_TMP/docker.tar" > "$T_TMP/docker.layers"
}
check "docker's BuildKit builds the mount cases" build_docker

# same_as_docker MODE: bale's image (BALE_FORCE_COPY=MODE) has BuildKit's files and layers.
same_as_docker () {
  # shellcheck disable=SC2086
  BALE_FORCE_COPY=$1 "$BALE" build -q --no-cache -t "mounts-$1" $opts \
    --output "type=docker-archive,dest=$T_TMP/bale$1.tar" "$ctx" > "$T_TMP/bale$1.log" 2>&1 ||
    { tail -20 "$T_TMP/bale$1.log"; return 1; }
  tree "$T_TMP/bale$1.tar" > "$T_TMP/bale$1.tree" && layers "$T_TMP/bale$1.tar" > "$T_TMP/bale$1.layers" &&
    diff -U0 "$T_TMP/docker.tree" "$T_TMP/bale$1.tree" && diff -U0 "$T_TMP/docker.layers" "$T_TMP/bale$1.layers"
}
check "overlayfs: every mount point in bale's layers as BuildKit leaves it" same_as_docker 0
check "copied root (BALE_FORCE_COPY=1): the same" same_as_docker 1

kill "$agent" 2> /dev/null
done_testing
