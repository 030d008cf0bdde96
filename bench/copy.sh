#!/bin/sh
# COPY benchmark (issue 5): a context of 20,000 small files plus 200 MB of binaries,
# `FROM busybox` + `COPY . /app`, cold builds. Compares bale with docker's BuildKit builder,
# its classic builder and buildah, all in this run, and with `tar -cf - . | sha256sum` over
# the same context. Prints times and ratios, and bale's peak memory.
# Needs the peers: ../shared/tools/peers-up.sh (or any dockerd/buildah with a busybox image).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-copy}
export DOCKER_HOST=${DOCKER_HOST:-unix:///tmp/peers/dockerd.sock}
docker=${DOCKER:-/usr/bin/docker}
files=${BENCH_FILES:-20000}
mb=${BENCH_MB:-200}

. "$here/lib.sh"

mkdir -p "$work"
ctx=$work/ctx
sh "$here/mkcontext.sh" "$ctx" "$files" "$mb"
sync

echo "context: $files files + $mb MB in $ctx"
t0=$(now); (cd "$ctx" && tar -cf - . | sha256sum > /dev/null); t1=$(now)
tar_s=$(secs "$t0" "$t1")
echo "tar | sha256sum:          ${tar_s}s"

# bale, cold: a fresh store with only the busybox base.
store=$work/store
rm -rf "$store"
BALE_STORE=$store sh "$here/../examples/busybox-image.sh" "$work/busybox.tar"
BALE_STORE=$store "$bale" load -i "$work/busybox.tar" > /dev/null
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
t0=$(now)
BALE_STORE=$store /usr/bin/time -f '%M' -o "$work/bale.mem" "$bale" build -q -t bench "$ctx" > /dev/null
t1=$(now)
bale_s=$(secs "$t0" "$t1")
echo "bale build (cold):        ${bale_s}s, peak RSS $(( $(cat "$work/bale.mem") / 1024 )) MB"

best=""
peer () {
  name=$1; shift
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(now)
  if "$@" > "$work/$name.log" 2>&1; then
    t1=$(now); s=$(secs "$t0" "$t1")
    echo "$name: ${s}s (bale/peer = $(ratio "$bale_s" "$s"))"
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; fi
  else
    echo "$name: failed (see $work/$name.log)"
  fi
}
if command -v "$docker" > /dev/null && "$docker" info > /dev/null 2>&1; then
  "$docker" builder prune -af > /dev/null 2>&1 || true
  "$docker" rmi -f bench-bk bench-classic > /dev/null 2>&1 || true
  peer "docker BuildKit (cold)  " env DOCKER_BUILDKIT=1 "$docker" build --network host -q -t bench-bk "$ctx"
  peer "docker classic (cold)   " env DOCKER_BUILDKIT=0 "$docker" build -q -t bench-classic "$ctx"
fi
if command -v buildah > /dev/null; then
  buildah --storage-driver vfs rmi -f bench-buildah > /dev/null 2>&1 || true
  peer "buildah bud (cold)      " buildah --storage-driver vfs bud --isolation chroot -q -t bench-buildah "$ctx"
fi
echo "bale / tar|sha256sum:     $(ratio "$bale_s" "$tar_s") (goal <= 1.5)"
[ -n "$best" ] && echo "bale / fastest peer:      $(ratio "$bale_s" "$best") (goal <= 0.25)"
