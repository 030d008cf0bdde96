#!/bin/sh
# RUN benchmarks (issues 6 and 21), each compared in this run with docker's BuildKit builder,
# its classic builder and buildah, BENCH_RUNS runs each, medians and ratios. Each builder's
# runs follow one another, after the filesystem's deletion window (lib.sh, deletion_window:
# 62 s on ext4 without a journal, where the peers' deleted copies of the root slowed the next
# builder's file creation up to 15-fold), and each run starts on a quiet machine (settle):
#   steps:  30 trivial RUN steps on busybox (per-step overhead, W3);
#   stages: two independent CPU-bound stages (bale runs independent stages in parallel
#           processes: the wall time should be close to one stage's, printed as "one stage");
#   debian: a Debian base with `RUN cp -a /usr/share /opt/x && rm -rf /usr/share/doc` (a big
#           upper directory with whiteouts, W4), when the peers' Debian image is available.
# BENCH_PEERS (default "bk classic buildah") and BENCH_WORKLOADS (default all three) narrow
# the run. bench/breakdown.sh says where a bale step's time goes. Needs the peers:
# ../shared/tools/peers-up.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-run}
runs=${BENCH_RUNS:-3}
export DOCKER_HOST=${DOCKER_HOST:-unix:///tmp/peers/dockerd.sock}
docker=${DOCKER:-/usr/bin/docker}

. "$here/lib.sh"

rm -rf "$work" && mkdir -p "$work/steps" "$work/stages" "$work/debian"
printf '%s\n' 'FROM debian:bookworm' 'RUN cp -a /usr/share /opt/x && rm -rf /usr/share/doc' > "$work/debian/Dockerfile"
i=0
echo 'FROM busybox' > "$work/steps/Dockerfile"
while [ $i -lt 30 ]; do echo "RUN echo step $i > /step$i" >> "$work/steps/Dockerfile"; i=$((i + 1)); done
cat > "$work/stages/Dockerfile" <<'DF'
FROM busybox AS a
RUN i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done; echo a > /a
FROM busybox AS b
RUN i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done; echo b > /b
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
DF

store=$work/store
sh "$here/../examples/busybox-image.sh" "$work/busybox.tar"
BALE_STORE=$store "$bale" load -i "$work/busybox.tar" > /dev/null
benches="steps stages"
if [ -f /tmp/peers/debian.tar ]; then
  BALE_STORE=$store "$bale" load -i /tmp/peers/debian.tar > /dev/null && benches="$benches debian"
fi

# docker and buildah unpack a base image when it is loaded; bale unpacks it on first use.
# Unpack the bases before timing, so every builder starts from an unpacked base.
BALE_STORE=$store "$bale" run busybox true
[ "${benches#*debian}" = "$benches" ] || BALE_STORE=$store "$bale" run debian:bookworm true

peers=${BENCH_PEERS:-bk classic buildah}
# BENCH_WORKLOADS picks some of them (e.g. "steps debian", the two goals of issue 21).
if [ -n "${BENCH_WORKLOADS:-}" ]; then
  picked=""
  for b in $benches; do
    case " $BENCH_WORKLOADS " in *" $b "*) picked="$picked $b" ;; esac
  done
  benches=$picked
fi
# build_with BUILDER W: one build of workload W by BUILDER, without its cache.
build_with () {
  case $1 in
    bale) env BALE_STORE="$store" "$bale" build --no-cache -q -t "bench-$2" "$work/$2" ;;
    one-stage) env BALE_STORE="$store" "$bale" build --no-cache -q --target a "$work/$2" ;;
    bk) env DOCKER_BUILDKIT=1 "$docker" build --network host --no-cache -q -t "bench-$2-bk" "$work/$2" ;;
    classic) env DOCKER_BUILDKIT=0 "$docker" build --no-cache -q -t "bench-$2-classic" "$work/$2" ;;
    buildah) buildah --storage-driver vfs bud --isolation chroot --no-cache -q -t "bench-$2-buildah" "$work/$2" ;;
  esac
}
window=$(deletion_window "$work")
for b in $benches; do
  builders="bale $peers"
  [ $b != stages ] || builders="bale one-stage $peers"
  for builder in $builders; do
    sleep "$window"
    for _ in $(seq "$runs"); do timed "$b.$builder" build_with "$builder" "$b"; done
  done
  # shellcheck disable=SC2086
  table "$b" $builders
done
