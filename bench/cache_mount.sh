#!/bin/sh
# The fleet cache's cache mounts (issue 20, goal: a fresh runner imports a 200 MB cache mount at
# the registry's speed). Runner A builds `RUN --mount=type=cache` writing BENCH_MB MB of random
# bytes (as incompressible as a cache of .deb or .whl files) and exports with
# --cache-to type=registry,mode=max to a docker-registry of the benchmark's own; runner B, a
# fresh store each time, builds with --cache-from (the import: manifest, config, the blobs,
# each verified, the mount unpacked into the store; the step itself is a hit). In the same run,
# alternating: curl of the mount's blob from the same registry to /dev/null (the registry's
# speed), curl | gzip -d | tar -x (the same work done by separate programs) and skopeo copy of
# the whole artifact to a dir: layout. Each time is the median of BENCH_RUNS runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-cache-mount}
mb=${BENCH_MB:-200}
runs=${BENCH_RUNS:-5}

. "$here/lib.sh"
time_one () { sync; settle; t0=$(now); "$@" > /dev/null 2>&1; t1=$(now); secs "$t0" "$t1"; }

rm -rf "$work"
mkdir -p "$work/ctx"
start_registry
trap 'kill "$REG_PID" 2> /dev/null' EXIT
ref=$R/bench/cache:mount
printf 'FROM busybox\nRUN --mount=type=cache,id=bench,target=/c head -c %s /dev/urandom > /c/big && echo filled > /filled\n' \
  "$((mb * 1000000))" > "$work/ctx/Dockerfile"
sh "$here/../examples/busybox-image.sh" "$work/busybox.tar"
fresh () { rm -rf "$1" && BALE_STORE=$1 "$bale" load -i "$work/busybox.tar" > /dev/null; }
fresh "$work/storeA"
BALE_STORE=$work/storeA "$bale" build -q --cache-to "type=registry,ref=$ref,mode=max" "$work/ctx" > /dev/null

# The mount's blob: the config's "mounts" entry names a layer of the manifest.
manifest=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$ref" 2> /dev/null ||
  curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$R/v2/bench/cache/manifests/mount")
config=$(curl -sf "http://$R/v2/bench/cache/blobs/$(echo "$manifest" | jq -r .config.digest)")
layer=$(echo "$config" | jq -r '.mounts[0].layer')
blob=$(echo "$manifest" | jq -r ".layers[$layer].digest")
size=$(echo "$manifest" | jq -r ".layers[$layer].size")
echo "cache mount: $mb MB of random bytes, blob $blob ($size bytes); medians of $runs runs, alternating"

import () {
  BALE_STORE=$work/storeB "$bale" build -q --cache-from "type=registry,ref=$ref" "$work/ctx" > /dev/null 2> "$work/import.err"
}
get () { curl -sf -o /dev/null "http://$R/v2/bench/cache/blobs/$blob"; }
unpack () { rm -rf "$work/untar" && mkdir "$work/untar" && curl -sf "http://$R/v2/bench/cache/blobs/$blob" | gzip -d | tar -x -C "$work/untar"; }
skopeo_copy () { rm -rf "$work/skopeo" && skopeo copy -q --src-tls-verify=false "docker://$ref" "dir:$work/skopeo"; }
: > "$work/t.import"; : > "$work/t.curl"; : > "$work/t.unpack"; : > "$work/t.skopeo"
for i in $(seq "$runs"); do
  fresh "$work/storeB"
  time_one import >> "$work/t.import"
  # Runner B's step was a hit and found the marker: the import took the mount, not the RUN.
  [ -s "$work/storeB/cache/bench/big" ] || { echo "the import did not unpack the mount"; cat "$work/import.err"; exit 1; }
  time_one get >> "$work/t.curl"
  time_one unpack >> "$work/t.unpack"
  if command -v skopeo > /dev/null; then time_one skopeo_copy >> "$work/t.skopeo"; fi
done
imp=$(median < "$work/t.import"); cu=$(median < "$work/t.curl"); un=$(median < "$work/t.unpack")
echo "bale --cache-from (fresh store):  ${imp}s"
echo "curl of the blob:                 ${cu}s (bale/curl $(ratio "$imp" "$cu"))"
echo "curl | gzip -d | tar -x:          ${un}s (bale/that $(ratio "$imp" "$un"))"
if [ -s "$work/t.skopeo" ]; then
  sk=$(median < "$work/t.skopeo")
  echo "skopeo copy to dir: (whole artifact): ${sk}s (bale/skopeo $(ratio "$imp" "$sk"))"
fi
