#!/bin/sh
# Push benchmark (issue 21, goal 1): the first push of a freshly built image into an empty
# registry, bale against buildah (containers/image: pgzip, klauspost level 5 on every core),
# alternating, each push into a docker-registry of its own started for it. The image is the
# Debian base of the peers plus a RUN layer (`cp -a /usr/share /opt/x`, about 200 MB, as in
# the issue; PUSH_RUN changes the command). Prints the median time of each, the ratio
# (goal <= 0.5) and the compressed size of each image's layers (goal: bale <= buildah + 2%).
# BENCH_RUNS runs each (default 3); PUSH_MODES lists bale's --compression values to time
# (default "gzip"; e.g. "gzip gzip-single zstd"). BALE_BEFORE names another bale binary (say,
# of the main branch) to time in the same runs with its default compression. Needs ../shared/tools/peers-up.sh's
# /tmp/peers/debian.tar, docker-registry, buildah, python3, bc.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-push}
debian=${DEBIAN_TAR:-/tmp/peers/debian.tar}
runs=${BENCH_RUNS:-3}
modes=${PUSH_MODES:-gzip}
cmd=${PUSH_RUN:-cp -a /usr/share /opt/x}

for tool in docker-registry buildah python3 bc /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "bench/push.sh: '$tool' is not installed" >&2; exit 1; }
done
[ -f "$debian" ] || { echo "bench/push.sh: no $debian (run ../shared/tools/peers-up.sh)" >&2; exit 1; }

. "$here/lib.sh"

rm -rf "$work" && mkdir -p "$work"
REG_PID=""
trap '[ -z "$REG_PID" ] || kill $REG_PID 2>/dev/null; rm -rf "$work"' EXIT INT TERM
stop_registry () { kill "$REG_PID"; wait "$REG_PID" 2> /dev/null || true; REG_PID=""; }
# layer_bytes REPO: the summed layer sizes of the manifest at $R/REPO:v1.
layer_bytes () {
  python3 - "http://$R/v2/$1/manifests/v1" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Accept": ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json"])})
m = json.load(urllib.request.urlopen(req))
print(sum(l["size"] for l in m["layers"]))
PY
}
# timed LABEL CMD...: append the seconds CMD took to $work/t.LABEL and its CPU seconds (user +
# system, which the load of a shared machine disturbs less) to $work/c.LABEL; a failure stops
# the bench.
timed () {
  label=$1; shift
  settle
  if ! /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > "$work/cmd.log" 2>&1; then
    echo "bench/push.sh: failed: $*" >&2; cat "$work/cmd.log" >&2; exit 1
  fi
  read -r wall user sys < "$work/time"
  echo "$wall" >> "$work/t.$label"
  echo "$user + $sys" | bc -l >> "$work/c.$label"
}

store=$work/store
"$bale" --store "$store" load -i "$debian" > "$work/load.out"
base=$(sed -n 's/^Loaded image: //p' "$work/load.out" | head -n 1)
mkdir -p "$work/ctx"
printf 'FROM %s\nRUN %s\n' "$base" "$cmd" > "$work/ctx/Dockerfile"
"$bale" --store "$store" build -q -t img "$work/ctx" > /dev/null
"$bale" --store "$store" save -o "$work/img.tar" img
export CONTAINERS_STORAGE_CONF=$work/storage.conf
printf '[storage]\ndriver = "vfs"\nrunroot = "%s/bh-run"\ngraphroot = "%s/bh-root"\n' "$work" "$work" > "$CONTAINERS_STORAGE_CONF"
buildah pull -q "docker-archive:$work/img.tar" > "$work/buildah.id"
tar_mb=$(python3 -c 'import os,sys; print(os.path.getsize(sys.argv[1]) // 1000000)' "$work/img.tar")
echo "image: Debian + RUN $cmd, ${tar_mb} MB uncompressed; load $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores; medians of $runs alternating runs"

for i in $(seq "$runs"); do
  for m in $modes; do
    start_registry
    rm -f "$store/push-cache.json"; sync
    timed "bale-$m" "$bale" --store "$store" push -q --compression "$m" img "$R/b/img:v1"
    layer_bytes b/img > "$work/size.bale-$m"
    stop_registry
  done
  if [ -n "${BALE_BEFORE:-}" ]; then
    start_registry
    rm -f "$store/push-cache.json"; sync
    timed before "$BALE_BEFORE" --store "$store" push -q img "$R/b/img:v1"
    layer_bytes b/img > "$work/size.before"
    stop_registry
  fi
  start_registry
  sync
  timed buildah buildah push -q --tls-verify=false "$(cat "$work/buildah.id")" "docker://$R/b/img:v1"
  layer_bytes b/img > "$work/size.buildah"
  stop_registry
done
bh=$(median < "$work/t.buildah")
bh_cpu=$(median < "$work/c.buildah")
bh_size=$(cat "$work/size.buildah")
echo "buildah push: ${bh}s (CPU ${bh_cpu}s), layers $bh_size bytes"
if [ -n "${BALE_BEFORE:-}" ]; then
  t=$(median < "$work/t.before")
  c=$(median < "$work/c.before")
  echo "before ($BALE_BEFORE) push: ${t}s (bale/buildah $(ratio "$t" "$bh"); CPU ${c}s, ratio $(ratio "$c" "$bh_cpu")), layers $(cat "$work/size.before") bytes (bale/buildah $(ratio "$(cat "$work/size.before")" "$bh_size"))"
fi
for m in $modes; do
  t=$(median < "$work/t.bale-$m")
  c=$(median < "$work/c.bale-$m")
  size=$(cat "$work/size.bale-$m")
  echo "bale push --compression $m: ${t}s (bale/buildah $(ratio "$t" "$bh"), goal <= 0.5; CPU ${c}s, ratio $(ratio "$c" "$bh_cpu")), layers $size bytes (bale/buildah $(ratio "$size" "$bh_size"), goal <= 1.02)"
done
