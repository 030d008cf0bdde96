#!/bin/sh
# COPY benchmark (issues 5 and 21, W1): a context of 20,000 small files plus 200 MB of
# binaries, `FROM busybox` + `COPY . /app`, cold builds. Compares bale with docker's BuildKit
# builder, its classic builder and buildah, BENCH_RUNS alternating runs each (medians), and
# with the floor: reading the same files as a tar and their SHA-256 with OpenSSL
# (`tar -cf - . | openssl dgst -sha256`), which any builder of this layer must do. bale's
# peak RSS is in bench/all.sh's table.
# Needs the peers: ../shared/tools/peers-up.sh (or any dockerd/buildah with a busybox image).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-copy}
runs=${BENCH_RUNS:-3}
export DOCKER_HOST=${DOCKER_HOST:-unix:///tmp/peers/dockerd.sock}
docker=${DOCKER:-/usr/bin/docker}
files=${BENCH_FILES:-20000}
mb=${BENCH_MB:-200}

. "$here/lib.sh"

mkdir -p "$work"
rm -f "$work"/t.*
ctx=$work/ctx
sh "$here/mkcontext.sh" "$ctx" "$files" "$mb"
sh "$here/../examples/busybox-image.sh" "$work/busybox.tar"
echo "context: $files files + $mb MB in $ctx; medians of $runs runs"

# Cold: the page cache dropped (where allowed) and nothing of an earlier build kept.
cold () { sync; echo 3 > /proc/sys/vm/drop_caches 2> /dev/null || true; }
store=$work/store
floor () { cd "$ctx" && tar -cf - . | openssl dgst -sha256 > /dev/null; }
bale_cold () { BALE_STORE=$store "$bale" build -q -t bench "$ctx"; }
have_docker=false
command -v "$docker" > /dev/null && "$docker" info > /dev/null 2>&1 && have_docker=true
peers=""
$have_docker && peers="bk classic"
command -v buildah > /dev/null && peers="$peers buildah"
for _ in $(seq "$runs"); do
  cold; timed w1.floor floor
  rm -rf "$store"
  BALE_STORE=$store "$bale" load -i "$work/busybox.tar" > /dev/null
  cold; timed w1.bale bale_cold
  if $have_docker; then
    "$docker" builder prune -af > /dev/null 2>&1 || true
    "$docker" rmi -f bench-bk bench-classic > /dev/null 2>&1 || true
    cold; timed w1.bk env DOCKER_BUILDKIT=1 "$docker" build --network host -q -t bench-bk "$ctx"
    cold; timed w1.classic env DOCKER_BUILDKIT=0 "$docker" build -q -t bench-classic "$ctx"
  fi
  if command -v buildah > /dev/null; then
    buildah --storage-driver vfs rmi -f bench-buildah > /dev/null 2>&1 || true
    cold; timed w1.buildah buildah --storage-driver vfs bud --isolation chroot -q -t bench-buildah "$ctx"
  fi
done
# shellcheck disable=SC2086
table w1 bale floor $peers
echo "goals (issue 21): bale/floor <= 1.5, bale/bk <= 0.15"
