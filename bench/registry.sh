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

for tool in docker-registry skopeo pigz python3 bc; do
  command -v "$tool" > /dev/null || { echo "bench/registry.sh: '$tool' is not installed" >&2; exit 1; }
done
[ -f "$debian" ] || { echo "bench/registry.sh: no $debian (run ../shared/tools/peers-up.sh)" >&2; exit 1; }

. "$here/lib.sh"
# timed CMD...: the seconds CMD took; a failing CMD stops the benchmark with its output.
timed () {
  settle
  t0=$(now)
  if ! "$@" > "$work/cmd.log" 2>&1; then
    echo "bench/registry.sh: failed: $*" >&2
    cat "$work/cmd.log" >&2
    kill $$
    exit 1
  fi
  t1=$(now)
  secs "$t0" "$t1"
}

rm -rf "$work" && mkdir -p "$work"
regs=""
trap 'for p in $regs; do kill $p 2>/dev/null; done; rm -rf "$work"' EXIT INT TERM
# start_registry (lib.sh) sets R and REG_PID; the trap stops the ones the main shell started
# (a loop's subshell stops its own).
start_registry
regs="$regs $REG_PID"
skopeo copy --quiet --dest-tls-verify=false "docker-archive:$debian" "docker://$R/bench/debian:12"
echo "registry at $R; medians of $runs runs"

# ---- pull ------------------------------------------------------------------------------------
for i in $(seq "$runs"); do
  rm -rf "$work/pull-store"; sync
  timed "$bale" --store "$work/pull-store" pull -q "$R/bench/debian:12"
done | median > "$work/t.bale-pull"
for i in $(seq "$runs"); do
  rm -rf "$work/pull-oci"; sync
  timed skopeo copy --quiet --src-tls-verify=false "docker://$R/bench/debian:12" "oci:$work/pull-oci:x"
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
  timed "$bale" --store "$store" push -q w1 "$R/bench/w1-$i:v1"
done | median > "$work/t.bale-push"
for i in $(seq "$runs"); do
  sync; settle
  t0=$(now)
  for l in $layers; do pigz -p2 -c < "$store/blobs/sha256/$l" | sha256sum > /dev/null; done
  t1=$(now)
  secs "$t0" "$t1"
done | median > "$work/t.pigz"
echo "push W1: bale $(cat "$work/t.bale-push")s, pigz -p2 | sha256sum $(cat "$work/t.pigz")s," \
  "ratio $(ratio "$(cat "$work/t.bale-push")" "$(cat "$work/t.pigz")") (goal <= 1.2)"

# ---- the peers, same registry, same images ----------------------------------------------------
# Each pulls into a store without the image's layers (what it already has, it does not fetch)
# and pushes W1 to a registry of its own each time (they would mount what they pushed before).
"$bale" --store "$store" save -o "$work/w1.tar" w1
if command -v "$docker" > /dev/null && "$docker" info > /dev/null 2>&1; then
  for i in $(seq "$runs"); do
    "$docker" image rm -f $("$docker" images -q --no-trunc | sort -u) > /dev/null 2>&1 || true
    timed "$docker" pull -q "$R/bench/debian:12"
  done | median > "$work/t.docker-pull"
  "$docker" load -q -i "$work/w1.tar" > "$work/docker-load.out"
  img=$(sed -n 's/^Loaded image: //p; s/^Loaded image ID: //p' "$work/docker-load.out" | head -n 1)
  for i in $(seq "$runs"); do
    # A registry of its own each time: docker would mount what it pushed before.
    start_registry > /dev/null
    "$docker" tag "$img" "$R/bench/w1:v1"
    timed "$docker" push -q "$R/bench/w1:v1"
    kill $REG_PID
  done | median > "$work/t.docker-push"
  echo "docker: pull $(cat "$work/t.docker-pull")s (bale/docker $(ratio "$(cat "$work/t.bale-pull")" "$(cat "$work/t.docker-pull")")), push W1 $(cat "$work/t.docker-push")s (bale/docker $(ratio "$(cat "$work/t.bale-push")" "$(cat "$work/t.docker-push")"))"
  # Put back what ../shared/tools/peers-up.sh loaded.
  "$docker" load -q -i "$debian" > /dev/null
  [ -f /tmp/peers/busybox.tar ] && "$docker" load -q -i /tmp/peers/busybox.tar > /dev/null
else
  echo "docker is not reachable at $DOCKER_HOST: no docker figures"
fi
if command -v buildah > /dev/null; then
  export CONTAINERS_STORAGE_CONF=$work/storage.conf
  printf '[storage]\ndriver = "vfs"\nrunroot = "%s/bh-run"\ngraphroot = "%s/bh-root"\n' "$work" "$work" > "$CONTAINERS_STORAGE_CONF"
  for i in $(seq "$runs"); do
    rm -rf "$work/bh-root" "$work/bh-run"
    timed buildah pull -q --tls-verify=false "docker://$R/bench/debian:12"
  done | median > "$work/t.buildah-pull"
  buildah pull -q "docker-archive:$work/w1.tar" > "$work/buildah-w1.id"
  for i in $(seq "$runs"); do
    start_registry > /dev/null
    timed buildah push -q --tls-verify=false "$(cat "$work/buildah-w1.id")" "docker://$R/bench/w1:v1"
    kill $REG_PID
  done | median > "$work/t.buildah-push"
  echo "buildah: pull $(cat "$work/t.buildah-pull")s (bale/buildah $(ratio "$(cat "$work/t.bale-pull")" "$(cat "$work/t.buildah-pull")")), push W1 $(cat "$work/t.buildah-push")s (bale/buildah $(ratio "$(cat "$work/t.bale-push")" "$(cat "$work/t.buildah-push")"))"
else
  echo "buildah is not installed: no buildah figures"
fi
