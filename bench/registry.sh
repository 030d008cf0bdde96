#!/bin/sh
# Registry benchmark (issue 8), against a docker-registry this script starts on 127.0.0.1:
#  - pull: the Debian base into an empty store, against `skopeo copy` of it to an OCI
#    directory (goal: bale <= skopeo);
#  - push: W1, the Debian base plus a RUN layer copying /usr (about 335 MB of layers), to a
#    new repository, against `pigz -p2 | sha256sum` over the same layers, which is the
#    compression and hashing a push cannot avoid (goal: bale <= that + 20%).
# With the peers up, docker's and buildah's pull and push of the same images are timed in the
# same run too (they unpack what they pull; bale keeps the blobs and unpacks on first use).
# Each time is the median of BENCH_RUNS runs. Needs the Debian base of the peers
# (../shared/tools/peers-up.sh writes /tmp/peers/debian.tar), docker-registry, skopeo, pigz.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-registry}
debian=${DEBIAN_TAR:-/tmp/peers/debian.tar}
runs=${BENCH_RUNS:-3}
export DOCKER_HOST=${DOCKER_HOST:-unix:///tmp/peers/dockerd.sock}
docker=${DOCKER:-/usr/bin/docker}
buildah="buildah --storage-driver vfs"

for tool in docker-registry skopeo pigz python3 bc; do
  command -v "$tool" > /dev/null || { echo "bench/registry.sh: '$tool' is not installed" >&2; exit 1; }
done
[ -f "$debian" ] || { echo "bench/registry.sh: no $debian (run ../shared/tools/peers-up.sh)" >&2; exit 1; }

now () { date +%s.%N; }
secs () { echo "$2 - $1" | bc -l; }
ratio () { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
median () { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }

rm -rf "$work" && mkdir -p "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
R=127.0.0.1:$port
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
  "$work/registry" "$R" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
reg=$!
trap 'kill $reg 2>/dev/null; rm -rf "$work"' EXIT INT TERM
python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
skopeo copy --quiet --dest-tls-verify=false "docker-archive:$debian" "docker://$R/bench/debian:12"
echo "registry at $R; medians of $runs runs"

# ---- pull ------------------------------------------------------------------------------------
for i in $(seq "$runs"); do
  rm -rf "$work/pull-store"; sync
  t0=$(now); "$bale" --store "$work/pull-store" pull -q "$R/bench/debian:12" > /dev/null; t1=$(now)
  secs "$t0" "$t1"
done | median > "$work/t.bale-pull"
for i in $(seq "$runs"); do
  rm -rf "$work/pull-oci"; sync
  t0=$(now); skopeo copy --quiet --src-tls-verify=false "docker://$R/bench/debian:12" "oci:$work/pull-oci:x"; t1=$(now)
  secs "$t0" "$t1"
done | median > "$work/t.skopeo-pull"
echo "pull Debian: bale $(cat "$work/t.bale-pull")s, skopeo copy $(cat "$work/t.skopeo-pull")s," \
  "ratio $(ratio "$(cat "$work/t.bale-pull")" "$(cat "$work/t.skopeo-pull")") (goal <= 1)"

# ---- push W1 ---------------------------------------------------------------------------------
store=$work/w1-store
"$bale" --store "$store" load -i "$debian" > "$work/load.out"
base=$(sed -n 's/^Loaded image: //p' "$work/load.out" | head -n 1)
mkdir -p "$work/w1"
printf 'FROM %s\nRUN cp -a /usr /usr2\n' "$base" > "$work/w1/Dockerfile"
"$bale" --store "$store" build -q -t w1 "$work/w1" > /dev/null
"$bale" --store "$store" inspect w1 > "$work/w1.json"
layers=$(python3 -c 'import json,sys; print(" ".join(l[7:] for l in json.load(open(sys.argv[1]))[0]["RootFS"]["Layers"]))' "$work/w1.json")
total=0
for l in $layers; do total=$((total + $(stat -c %s "$store/blobs/sha256/$l"))); done
echo "W1: $(echo "$layers" | wc -w) layers, $((total / 1000000)) MB"
for i in $(seq "$runs"); do
  # A new repository, and no memory of earlier compressions: every layer is compressed and sent.
  rm -f "$store/push-cache.json"; sync
  t0=$(now); "$bale" --store "$store" push -q w1 "$R/bench/w1-$i:v1" > /dev/null; t1=$(now)
  secs "$t0" "$t1"
done | median > "$work/t.bale-push"
for i in $(seq "$runs"); do
  sync
  t0=$(now)
  for l in $layers; do pigz -p2 -c < "$store/blobs/sha256/$l" | sha256sum > /dev/null; done
  t1=$(now)
  secs "$t0" "$t1"
done | median > "$work/t.pigz"
echo "push W1: bale $(cat "$work/t.bale-push")s, pigz -p2 | sha256sum $(cat "$work/t.pigz")s," \
  "ratio $(ratio "$(cat "$work/t.bale-push")" "$(cat "$work/t.pigz")") (goal <= 1.2)"

# ---- the peers, same registry, same images ----------------------------------------------------
"$bale" --store "$store" save -o "$work/w1.tar" w1
if command -v "$docker" > /dev/null && "$docker" info > /dev/null 2>&1; then
  for i in $(seq "$runs"); do
    "$docker" rmi -f "$R/bench/debian:12" > /dev/null 2>&1 || true
    t0=$(now); "$docker" pull -q "$R/bench/debian:12" > /dev/null; t1=$(now)
    secs "$t0" "$t1"
  done | median > "$work/t.docker-pull"
  "$docker" load -q -i "$work/w1.tar" > "$work/docker-load.out"
  img=$(sed -n 's/^Loaded image: //p; s/^Loaded image ID: //p' "$work/docker-load.out" | head -n 1)
  for i in $(seq "$runs"); do
    "$docker" tag "$img" "$R/bench/w1-docker-$i:v1"
    t0=$(now); "$docker" push -q "$R/bench/w1-docker-$i:v1" > /dev/null; t1=$(now)
    secs "$t0" "$t1"
  done | median > "$work/t.docker-push"
  echo "docker: pull $(cat "$work/t.docker-pull")s (bale/docker $(ratio "$(cat "$work/t.bale-pull")" "$(cat "$work/t.docker-pull")")), push W1 $(cat "$work/t.docker-push")s (bale/docker $(ratio "$(cat "$work/t.bale-push")" "$(cat "$work/t.docker-push")"))"
else
  echo "docker is not reachable at $DOCKER_HOST: no docker figures"
fi
if command -v buildah > /dev/null; then
  for i in $(seq "$runs"); do
    $buildah rmi -f "$R/bench/debian:12" > /dev/null 2>&1 || true
    t0=$(now); $buildah pull -q --tls-verify=false "docker://$R/bench/debian:12" > /dev/null; t1=$(now)
    secs "$t0" "$t1"
  done | median > "$work/t.buildah-pull"
  $buildah pull -q "docker-archive:$work/w1.tar" > "$work/buildah-w1.id"
  for i in $(seq "$runs"); do
    t0=$(now); $buildah push -q --tls-verify=false "$(cat "$work/buildah-w1.id")" "docker://$R/bench/w1-buildah-$i:v1"; t1=$(now)
    secs "$t0" "$t1"
  done | median > "$work/t.buildah-push"
  $buildah rmi -f "$(cat "$work/buildah-w1.id")" > /dev/null 2>&1 || true
  echo "buildah: pull $(cat "$work/t.buildah-pull")s (bale/buildah $(ratio "$(cat "$work/t.bale-pull")" "$(cat "$work/t.buildah-pull")")), push W1 $(cat "$work/t.buildah-push")s (bale/buildah $(ratio "$(cat "$work/t.bale-push")" "$(cat "$work/t.buildah-push")"))"
else
  echo "buildah is not installed: no buildah figures"
fi
