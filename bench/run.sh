#!/bin/sh
# RUN benchmarks (issues 6 and 21), each compared in this run with docker's BuildKit builder,
# its classic builder and buildah, BENCH_RUNS alternating runs each (bale, BuildKit, classic,
# buildah, then again), medians and ratios:
#   steps:  30 trivial RUN steps on busybox (per-step overhead, W3);
#   stages: two independent CPU-bound stages (bale runs independent stages in parallel
#           processes: the wall time should be close to one stage's, printed as "one stage");
#   debian: a Debian base with `RUN cp -a /usr/share /opt/x && rm -rf /usr/share/doc` (a big
#           upper directory with whiteouts, W4), when the peers' Debian image is available.
# bench/breakdown.sh says where a bale step's time goes. Needs the peers:
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

peers="bk classic buildah"
for b in $benches; do
  for _ in $(seq "$runs"); do
    timed "$b.bale" env BALE_STORE="$store" "$bale" build --no-cache -q -t "bench-$b" "$work/$b"
    [ $b != stages ] || timed "$b.one-stage" env BALE_STORE="$store" "$bale" build --no-cache -q --target a "$work/$b"
    timed "$b.bk" env DOCKER_BUILDKIT=1 "$docker" build --network host --no-cache -q -t "bench-$b-bk" "$work/$b"
    timed "$b.classic" env DOCKER_BUILDKIT=0 "$docker" build --no-cache -q -t "bench-$b-classic" "$work/$b"
    timed "$b.buildah" buildah --storage-driver vfs bud --isolation chroot --no-cache -q -t "bench-$b-buildah" "$work/$b"
  done
  if [ $b = stages ]; then table "$b" bale one-stage $peers; else table "$b" bale $peers; fi
done
