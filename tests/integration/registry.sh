#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bale pull/push/login against a real docker-registry started here on 127.0.0.x, with skopeo
# as the other client, a TLS + htpasswd registry, a Bearer token server and fault injection
# (tests/integration/regproxy.py), and http_fetch (ADD <url>) against python's http.server.
# TAP output. A missing tool is a failure, never a skip.
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
. "$top_srcdir/tests/cli/lib.sh"
FETCH="$top_builddir/tests/helpers/fetch"
W=$T_TMP

for tool in docker-registry skopeo umoci openssl htpasswd python3 tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 \
    || bail "'$tool' is not installed (see .ci/run's package list); refusing to skip"
done
[ -x "$BALE" ] || bail "'$BALE' is not built"
[ -x "$FETCH" ] || bail "'$FETCH' is not built"

# ---- helpers -------------------------------------------------------------------------------
# start_registry NAME HOST [YAML...]: a docker-registry storing under $W/NAME on a free port
# of HOST (lib.sh's start_registry_in); sets ADDR to HOST:PORT.
start_registry () {
  name=$1 host=$2
  shift 2
  start_registry_in "$W/$name" "$host" "$@" || bail "the registry $name did not start"
  ADDR=$host:$port
}
bale () { "$BALE" "$@"; }
# expect_fail PATTERN COMMAND...: COMMAND fails, saying PATTERN (grep -E).
expect_fail () {
  pat=$1
  shift
  if "$@" >"$W/out" 2>"$W/err"; then echo "unexpected success"; return 1; fi
  grep -Eq "$pat" "$W/err" || { echo "error does not match '$pat':"; cat "$W/err"; return 1; }
}
# Every blob of a store hashes to its name and tmp/ is empty: nothing unverified is visible.
store_clean () {
  for f in "$1"/blobs/sha256/*; do
    [ -e "$f" ] || continue
    [ "$(sha256sum <"$f" | cut -c1-64)" = "${f##*/}" ] || { echo "bad blob $f"; return 1; }
  done
  [ -z "$(ls -A "$1/tmp" 2>/dev/null)" ] || { echo "leftovers in $1/tmp"; return 1; }
}
json_get () { # FILE PYTHON-EXPR (on d)
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
blob () { echo "$1/blobs/sha256/${2#sha256:}"; }
same () { [ "$1" = "$2" ] || { echo "'$1' != '$2'"; return 1; }; }

# ---- a busybox image, from Debian's busybox-static (examples/busybox-image.sh) ----------------
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
sh "$top_srcdir/examples/busybox-image.sh" "$W/busybox.tar" busybox:test >"$W/mkimg.log" 2>&1 \
  || { sed 's/^/# /' "$W/mkimg.log"; bail "cannot make the busybox image"; }
mkdir -p "$W/img"
tar -C "$W/img" -xf "$W/busybox.tar" || bail "cannot unpack the busybox image"
config=sha256:$(json_get "$W/img/manifest.json" 'd[0]["Config"][:-5]')
LAYER=$W/img/$(json_get "$W/img/manifest.json" 'd[0]["Layers"][0]')
S1=$W/s1
check "bale load busybox" bale --store "$S1" load -i "$W/busybox.tar"

# ---- anonymous plain http on 127.0.0.1 --------------------------------------------------------
start_registry reg 127.0.0.1
R=$ADDR

check "push busybox" sh -c '"$1" --store "$2" push busybox:test "$3/test/busybox:v1" >"$4" 2>"$4.err"' \
  _ "$BALE" "$S1" "$R" "$W/push1"
D1=$(cat "$W/push1")
check "push prints a digest" sh -c 'echo "$1" | grep -Eq "^sha256:[0-9a-f]{64}$"' _ "$D1"
check "second push skips every blob, without compressing again" sh -c '"$1" --store "$2" push busybox:test "$3/test/busybox:v1" 2>"$4" >/dev/null && grep -c "^#[0-9]* .*already in the registry" "$4" | grep -qx 2 && ! grep -q compressed "$4"' \
  _ "$BALE" "$S1" "$R" "$W/push2.err"
check "pull into an empty store gives the pushed digest" \
  sh -c 'd=$("$1" --store "$2" pull -q "$3/test/busybox:v1") && [ "$d" = "$4" ]' _ "$BALE" "$W/s2" "$R" "$D1"
check "pulled config is the loaded one" cmp "$(blob "$S1" "$config")" "$(blob "$W/s2" "$config")"
check "pulled layer is gzip of the loaded layer" sh -c 'l=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"layers\"][0][\"digest\"][7:])" "$1") && gzip -dc "$2/blobs/sha256/$l" | cmp - "$3"' \
  _ "$(blob "$W/s2" "$D1")" "$W/s2" "$LAYER"
check "pulled image is named" sh -c '"$1" --store "$2" images | grep -q "$3/test/busybox *v1"' _ "$BALE" "$W/s2" "$R"
check "skopeo inspect sees the pushed digest" \
  sh -c 'skopeo inspect --tls-verify=false "docker://$1/test/busybox:v1" | grep -q "\"Digest\": \"$2\""' _ "$R" "$D1"
check "skopeo copy verifies what bale pushed" \
  skopeo copy --quiet --src-tls-verify=false "docker://$R/test/busybox:v1" "dir:$W/skdir"
check "registry kept the exact manifest bytes" cmp "$W/skdir/manifest.json" "$(blob "$W/s2" "$D1")"
check "pull by digest" sh -c 'd=$("$1" --store "$2" pull -q "$3/test/busybox@$4") && [ "$d" = "$4" ] && "$1" --store "$2" inspect "$4" >/dev/null' \
  _ "$BALE" "$W/s3" "$R" "$D1"
check "unknown tag: a clear error" expect_fail "$R/test/busybox.*MANIFEST_UNKNOWN" \
  bale --store "$W/s3" pull "$R/test/busybox:nope"
check "chunked push gives the same digest" \
  sh -c 'd=$("$1" --store "$2" push -q --chunk-size 65536 busybox:test "$3/chunked/bb:v1") && [ "$d" = "$4" ]' \
  _ "$BALE" "$S1" "$R" "$D1"
check "chunked upload is readable" skopeo copy --quiet --src-tls-verify=false "docker://$R/chunked/bb:v1" "dir:$W/skchunk"
check "cross-repository mount from a known repository" sh -c '"$1" --store "$2" tag "$3/test/busybox:v1" "$3/mounted/bb:v1" && "$1" --store "$2" push "$3/mounted/bb:v1" 2>&1 | grep -c "^#[0-9]* .*mounted from test/busybox" | grep -qx 2' \
  _ "$BALE" "$W/s2" "$R"
check "zstd push is readable by skopeo" sh -c '"$1" --store "$2" push -q --compression zstd busybox:test "$3/zstd/bb:v1" >/dev/null && skopeo inspect --raw --tls-verify=false "docker://$3/zstd/bb:v1" | grep -q "tar+zstd" && skopeo copy --quiet --src-tls-verify=false "docker://$3/zstd/bb:v1" "oci:$4:x"' \
  _ "$BALE" "$S1" "$R" "$W/skzstd"
check "uncompressed push keeps the tar layer" sh -c '"$1" --store "$2" push -q --compression none busybox:test "$3/plain/bb:v1" >/dev/null && skopeo inspect --raw --tls-verify=false "docker://$3/plain/bb:v1" | grep -q "layer.v1.tar\""' \
  _ "$BALE" "$S1" "$R"

# bale build --push and --output type=registry.
mkdir -p "$W/bctx"
echo built >"$W/bctx/f"
printf '%s\n' 'FROM busybox:test' 'COPY f /f' >"$W/bctx/Dockerfile"
check "build --push pushes every -t name" sh -c '"$1" --store "$2" build -q --push -t "$3/built/app:v1" -t "$3/built/app:v2" "$4" >/dev/null 2>"$4.err" && a=$(skopeo inspect --tls-verify=false "docker://$3/built/app:v1" | grep "\"Digest\"") && b=$(skopeo inspect --tls-verify=false "docker://$3/built/app:v2" | grep "\"Digest\"") && [ "$a" = "$b" ]' \
  _ "$BALE" "$S1" "$R" "$W/bctx"
check "build --output type=registry, pulled back" sh -c '"$1" --store "$2" build -q --output "type=registry,name=$3/built/app:v3" "$4" >/dev/null && want=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$3/built/app:v3" | sha256sum | cut -c1-64) && d=$("$1" --store "$5" pull -q "$3/built/app:v3") && [ "$d" = "$want" ] && skopeo copy --quiet --src-tls-verify=false "docker://$3/built/app:v3" "oci:$5.oci:x"' \
  _ "$BALE" "$S1" "$R" "$W/bctx" "$W/s7"

# FROM and COPY --from pull what the store lacks (docker build does the same).
mkdir -p "$W/fctx"
printf '%s\n' "FROM $R/test/busybox:v1" 'RUN echo from-pulled > /p' "COPY --from=$R/test/busybox:v1 /bin/busybox /bb" \
  'CMD ["cat", "/p"]' >"$W/fctx/Dockerfile"
check "FROM and COPY --from pull into an empty store, and the image runs" sh -c 'rm -rf "$2" && "$1" --store "$2" build -q -t frompull "$3" >/dev/null 2>"$2.err" && [ "$("$1" --store "$2" run frompull)" = from-pulled ] && "$1" --store "$2" images | grep -q "$4/test/busybox *v1"' \
  _ "$BALE" "$W/s8" "$W/fctx" "$R"

# ---- the fleet cache: two stores as two runners sharing a cache in the registry --------------
mkdir -p "$W/cctx/src"
echo cached >"$W/cctx/src/a"
printf '%s\n' 'FROM busybox:test' 'COPY src /app' 'RUN echo ran > /ran && cat /app/a > /copy && echo stage0 > /only-here' \
  'FROM busybox:test' 'COPY --from=0 /ran /copy /' 'RUN echo final > /final' 'WORKDIR /w' >"$W/cctx/Dockerfile"
runner () { rm -rf "$1" && bale --store "$1" load -i "$W/busybox.tar" >/dev/null; } # STORE
raw_digest () { echo "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$1" | sha256sum | cut -c1-64)"; }
# every_step_cached ERRFILE: each step of the progress summary says CACHED.
every_step_cached () {
  grep -E '^ => (CACHED )?\[[^]]*[0-9]+/[0-9]+\]' "$1" >"$1.steps" && [ -s "$1.steps" ] || { echo "no steps"; return 1; }
  ! grep -v '^ => CACHED ' "$1.steps" || { echo "steps above ran"; return 1; }
}
fleet_registry () {
  runner "$W/ra" && runner "$W/rb" || return 1
  # Runner A, the fleet's first build: no cache yet (a warning, not an error); it pushes the
  # image, then the cache (mode=max: the first stage's steps too), mounting the image's layers.
  bale --store "$W/ra" build --source-date-epoch 1700000000 -t "$R/fleet/app:a" --push \
    --cache-from "type=registry,ref=$R/fleet/cache:main" \
    --cache-to "type=registry,ref=$R/fleet/cache:main,mode=max" "$W/cctx" >"$W/ra.id" 2>"$W/ra.err" \
    || { cat "$W/ra.err"; return 1; }
  grep -q "^warning: cache import from $R/fleet/cache:main.*MANIFEST_UNKNOWN" "$W/ra.err" \
    || { echo "no warning for the missing cache"; cat "$W/ra.err"; return 1; }
  grep -q "exported 5 cache entries to $R/fleet/cache:main" "$W/ra.err" && grep -q "mounted from fleet/app" "$W/ra.err" \
    || { cat "$W/ra.err"; return 1; }
  # Runner B: an empty store but the base. Nothing runs, and the image is A's to the digest.
  bale --store "$W/rb" build --source-date-epoch 1700000000 -t "$R/fleet/app:b" --push \
    --cache-from "$R/fleet/cache:main" "$W/cctx" >"$W/rb.id" 2>"$W/rb.err" || { cat "$W/rb.err"; return 1; }
  grep -q "imported 5 cache entries" "$W/rb.err" && every_step_cached "$W/rb.err" || { cat "$W/rb.err"; return 1; }
  # B's push compresses only the base layer (loaded here, never pulled): the import taught it
  # the compressed digests of the cached layers, which the registry has.
  [ "$(grep -c '^#[0-9]* .*compressed to' "$W/rb.err")" = 1 ] && [ "$(grep -c '^#[0-9]* .*already in the registry' "$W/rb.err")" -ge 3 ] \
    || { echo "runner B compressed cached layers again"; cat "$W/rb.err"; return 1; }
  same "$(cat "$W/ra.id")" "$(cat "$W/rb.id")" && same "$(raw_digest "$R/fleet/app:a")" "$(raw_digest "$R/fleet/app:b")" \
    && store_clean "$W/rb" || return 1
  # The unpacked layers are A's blobs, byte for byte.
  bale --store "$W/rb" inspect "$R/fleet/app:b" >"$W/rb.inspect" || return 1
  for l in $(json_get "$W/rb.inspect" '" ".join(x[7:] for x in d[0]["RootFS"]["Layers"])'); do
    cmp "$W/ra/blobs/sha256/$l" "$W/rb/blobs/sha256/$l" || return 1
  done
  # An importer takes only what its store lacks: a second import downloads nothing.
  bale --store "$W/rb" build -q --source-date-epoch 1700000000 --cache-from "$R/fleet/cache:main" "$W/cctx" >/dev/null 2>"$W/rb2.err" \
    && ! grep -q downloaded "$W/rb2.err" || { cat "$W/rb2.err"; return 1; }
}
check "fleet cache: runner B builds from runner A's registry cache without a step, to the same digest" fleet_registry
check "the cache is an OCI artifact the registry serves" sh -c 'skopeo inspect --raw --tls-verify=false "docker://$1/fleet/cache:main" | grep -q "\"artifactType\":\"application/vnd.bale.buildcache.v1\""' _ "$R"
fleet_min () {
  # mode=min (the default): only the entries of the image's layers, not the first stage's.
  bale --store "$W/ra" build -q --source-date-epoch 1700000000 --cache-to "$R/fleet/cache:min" "$W/cctx" >/dev/null 2>"$W/min.err" \
    || { cat "$W/min.err"; return 1; }
  runner "$W/rc" && bale --store "$W/rc" build --source-date-epoch 1700000000 --cache-from "$R/fleet/cache:min" "$W/cctx" >/dev/null 2>"$W/rc.err" \
    || { cat "$W/rc.err"; return 1; }
  grep -q "imported 3 cache entries" "$W/rc.err" && grep -q "CACHED \[.*\] WORKDIR /w" "$W/rc.err" \
    && ! grep -q "CACHED \[.*\] RUN echo ran" "$W/rc.err" || { cat "$W/rc.err"; return 1; }
}
check "fleet cache mode=min: the image's steps only" fleet_min
fleet_times () {
  # Without SOURCE_DATE_EPOCH the config holds the steps' times: each cache entry carries its
  # layer's creation time through the registry cache, and runner B's fully cached build writes
  # runner A's config (issue 16 #7), as BuildKit's importer takes a cached layer's time.
  runner "$W/ta" && runner "$W/tb" || return 1
  bale --store "$W/ta" build -q --cache-to "type=registry,ref=$R/fleet/cache:times,mode=max" "$W/cctx" >"$W/ta.id" 2>"$W/ta.err" \
    || { cat "$W/ta.err"; return 1; }
  sleep 1
  bale --store "$W/ta" build -q "$W/cctx" >"$W/ta2.id" 2>"$W/ta2.err" && same "$(cat "$W/ta.id")" "$(cat "$W/ta2.id")" \
    || { cat "$W/ta2.err"; return 1; }
  bale --store "$W/tb" build --cache-from "$R/fleet/cache:times" "$W/cctx" >"$W/tb.id" 2>"$W/tb.err" \
    && every_step_cached "$W/tb.err" || { cat "$W/tb.err"; return 1; }
  same "$(cat "$W/ta.id")" "$(cat "$W/tb.id")"
}
check "fleet cache without SOURCE_DATE_EPOCH: a fully cached rebuild and runner B give runner A's image ID" fleet_times
fleet_compression () { # zstd and uncompressed transfers unpack to the same blobs
  for c in zstd uncompressed; do
    bale --store "$W/ra" build -q --source-date-epoch 1700000000 \
      --cache-to "type=registry,ref=$R/fleet/cache:$c,mode=max,compression=$c" "$W/cctx" >/dev/null 2>"$W/c.err" \
      || { cat "$W/c.err"; return 1; }
    want=$([ $c = zstd ] && echo 'tar+zstd"' || echo 'tar"')
    skopeo inspect --raw --tls-verify=false "docker://$R/fleet/cache:$c" | grep -q "layer.v1.$want" || { echo "no $c layers"; return 1; }
    runner "$W/rz" && bale --store "$W/rz" build --source-date-epoch 1700000000 --cache-from "$R/fleet/cache:$c" "$W/cctx" >"$W/rz.id" 2>"$W/rz.err" \
      && every_step_cached "$W/rz.err" && same "$(cat "$W/ra.id")" "$(cat "$W/rz.id")" && store_clean "$W/rz" || { cat "$W/rz.err"; return 1; }
  done
}
check "fleet cache: zstd and uncompressed transfers" fleet_compression
fleet_tampered () {
  # The registry serves a cache layer with other bytes of the same size: the import is refused
  # with a warning, every step runs, and nothing unverified is in the store.
  flip_cache_layers || return 1
  runner "$W/rd" && bale --store "$W/rd" build --source-date-epoch 1700000000 --cache-from "$R/fleet/cache:main" "$W/cctx" >/dev/null 2>"$W/rd.err"
  st=$?
  flip_cache_layers || return 1 # back as they were: the registry's blobs are shared
  [ $st = 0 ] || { cat "$W/rd.err"; return 1; }
  grep -q "^warning: cache import from $R/fleet/cache:main.*digest" "$W/rd.err" && ! grep -Eq "CACHED \[.*\] (COPY|RUN|WORKDIR)" "$W/rd.err" \
    && store_clean "$W/rd" || { cat "$W/rd.err"; return 1; }
}
# flip_cache_layers: invert every byte of the layers only the fleet cache has (twice: undone).
flip_cache_layers () {
  python3 - "$W/reg/docker/registry/v2/blobs/sha256" <<'PY' "$(skopeo inspect --raw --tls-verify=false "docker://$R/fleet/cache:main")" "$(skopeo inspect --raw --tls-verify=false "docker://$R/fleet/app:a")"
import json, sys
root, cache, app = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
mine = {l["digest"] for l in cache["layers"]} - {l["digest"] for l in app["layers"]}
assert mine, "no layer of the cache alone"
for d in mine:
    p = "%s/%s/%s/data" % (root, d[7:9], d[7:])
    data = open(p, "rb").read()
    open(p, "wb").write(bytes(b ^ 0xff for b in data))
PY
}
check "fleet cache: a tampered layer is refused with a warning, the steps run" fleet_tampered
fleet_mounts () {
  # Runner A fills two cache mounts and reads a secret; mode=max exports the small mount, the
  # one over cache-mounts-max-size stays home with a warning, and no secret is ever exported.
  mkdir -p "$W/mctx" && echo s3cr3t-token-value >"$W/tok"
  printf '%s\n' 'FROM busybox:test' 'RUN --mount=type=cache,target=/c,id=apt echo warm > /c/marker' \
    'RUN --mount=type=cache,target=/big,id=big head -c 3000000 /dev/zero > /big/f' \
    'RUN --mount=type=secret,id=tok --mount=type=cache,target=/c,id=apt cat /run/secrets/tok > /dev/null' >"$W/mctx/Dockerfile"
  runner "$W/ma" && bale --store "$W/ma" build --secret id=tok,src="$W/tok" \
    --cache-to "type=registry,ref=$R/fleet/cache:mounts,mode=max,cache-mounts-max-size=1m" "$W/mctx" >/dev/null 2>"$W/ma.err" \
    || { cat "$W/ma.err"; return 1; }
  grep -q "^warning: cache mount big not exported: .* over the limit" "$W/ma.err" \
    && grep -q "exported 3 cache entries and 1 cache mounts to $R/fleet/cache:mounts" "$W/ma.err" || { cat "$W/ma.err"; return 1; }
  # Runner B, a fresh store, sees A's marker through the registry.
  printf '%s\n' 'FROM busybox:test' 'RUN --mount=type=cache,target=/c,id=apt test "$(cat /c/marker)" = warm' >"$W/mctx/Dockerfile"
  runner "$W/mb" && bale --store "$W/mb" build --cache-from "$R/fleet/cache:mounts" "$W/mctx" >/dev/null 2>"$W/mb.err" \
    || { cat "$W/mb.err"; return 1; }
  grep -q "imported 3 cache entries and 1 cache mounts" "$W/mb.err" && [ ! -e "$W/mb/cache/big" ] \
    && ! grep -rq s3cr3t-token-value "$W/mb" || { cat "$W/mb.err"; return 1; }
  # B's miss compares with A's build of the step: the inputs came with the cache.
  printf '%s\n' 'FROM busybox:test' 'RUN --mount=type=cache,target=/c,id=apt echo cold > /c/marker' >"$W/mctx/Dockerfile"
  runner "$W/mc" && bale --store "$W/mc" build --progress=plain --explain-cache --cache-from "$R/fleet/cache:mounts" "$W/mctx" >/dev/null 2>"$W/mc.err" &&
    grep -q "MISS: instruction changed (was: RUN --mount=type=cache,target=/c,id=apt echo warm > /c/marker)" "$W/mc.err" ||
    { cat "$W/mc.err"; return 1; }
  printf '%s\n' 'FROM busybox:test' 'RUN --mount=type=cache,target=/c,id=apt test "$(cat /c/marker)" = warm' >"$W/mctx/Dockerfile"
  # Runner B's own cache mount is never replaced by an import.
  echo mine >"$W/mb/cache/apt/marker"
  bale --store "$W/mb" build -q --cache-from "$R/fleet/cache:mounts" "$W/mctx" >/dev/null 2>"$W/mb2.err"
  [ "$(cat "$W/mb/cache/apt/marker")" = mine ] || { cat "$W/mb2.err"; return 1; }
}
check "fleet cache: RUN cache mounts travel (cache-mounts-max-size bounds them, no secret), inputs explain misses" fleet_mounts
check "fleet cache: an image is not a cache (a warning)" sh -c 'rm -rf "$4" && "$1" --store "$4" load -i "$2/busybox.tar" >/dev/null && "$1" --store "$4" build -q --cache-from "$3/test/busybox:v1" "$2/cctx" >/dev/null 2>"$4.err" && grep -q "^warning: .*artifact type" "$4.err"' \
  _ "$BALE" "$W" "$R" "$W/re"

# skopeo pushes, bale pulls: OCI and Docker schema2.
check "skopeo pushes OCI" skopeo copy --quiet --dest-tls-verify=false --format oci "dir:$W/skdir" "docker://$R/sk/oci:v1"
check "skopeo pushes Docker v2s2" skopeo copy --quiet --dest-tls-verify=false --format v2s2 "dir:$W/skdir" "docker://$R/sk/v2s2:v1"
for f in oci v2s2; do
  check "bale pulls skopeo's $f image" sh -c 'want=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$3/sk/$4:v1" | sha256sum | cut -c1-64) && d=$("$1" --store "$2" pull -q "$3/sk/$4:v1") && [ "$d" = "$want" ] && "$1" --store "$2" inspect "$3/sk/$4:v1" >/dev/null' \
    _ "$BALE" "$W/s4" "$R" "$f"
done
check "v2s2 manifest kept its Docker media type" \
  sh -c 'grep -rlq "distribution.manifest.v2+json" "$1/blobs/sha256"' _ "$W/s4"

# A multi-platform index (amd64, arm64 and an attestation entry) built by hand, pushed by skopeo.
python3 - "$W/skdir" "$W/multi" "$arch" <<'EOF' || bail "cannot build the multi-platform layout"
import hashlib, json, os, shutil, sys
src, dst, host = sys.argv[1:]
os.makedirs(dst + "/blobs/sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open("%s/blobs/sha256/%s" % (dst, d), "wb").write(data)
    return "sha256:" + d, len(data)
man = json.load(open(src + "/manifest.json"))
for desc in [man["config"]] + man["layers"]:
    shutil.copy("%s/%s" % (src, desc["digest"][7:]), "%s/blobs/sha256/%s" % (dst, desc["digest"][7:]))
cfg = json.load(open("%s/%s" % (src, man["config"]["digest"][7:])))
entries = []
other = "arm64" if host != "arm64" else "amd64"
for arch in (other, host):
    c = dict(cfg, architecture=arch)
    cd, cs = put(json.dumps(c).encode())
    m = dict(man, mediaType="application/vnd.oci.image.manifest.v1+json",
             config=dict(man["config"], digest=cd, size=cs, mediaType="application/vnd.oci.image.config.v1+json"))
    md, ms = put(json.dumps(m).encode())
    entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                    "platform": {"architecture": arch, "os": "linux"}})
    open("%s/config-%s" % (dst, arch), "w").write(cd)
entries.insert(0, dict(entries[1], platform={"architecture": "unknown", "os": "unknown"},
                       annotations={"vnd.docker.reference.type": "attestation-manifest"}))
idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
d, _ = put(json.dumps(idx).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
           "digest": d, "size": len(json.dumps(idx)), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]},
          open(dst + "/index.json", "w"))
open(dst + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(dst + "/index-digest", "w").write(d)
EOF
other=arm64
[ "$arch" = arm64 ] && other=amd64
check "skopeo pushes a multi-platform index" \
  skopeo copy --quiet --all --dest-tls-verify=false "oci:$W/multi:v1" "docker://$R/multi/bb:v1"
check "pull of an index picks the host platform" sh -c 'd=$("$1" --store "$2" pull -q "$3/multi/bb:v1") && [ "$d" = "$(cat "$4/index-digest")" ] && [ -f "$2/blobs/sha256/$(cut -c8- "$4/config-$5")" ] && [ ! -f "$2/blobs/sha256/$(cut -c8- "$4/config-$6")" ]' \
  _ "$BALE" "$W/s5" "$R" "$W/multi" "$arch" "$other"
check "--platform picks another entry" sh -c '"$1" --store "$2" pull -q --platform "linux/$5" "$3/multi/bb:v1" >/dev/null && [ -f "$2/blobs/sha256/$(cut -c8- "$4/config-$5")" ]' \
  _ "$BALE" "$W/s5" "$R" "$W/multi" "$other"
check "push of a complete index keeps its digest" sh -c 'd=$("$1" --store "$2" push -q "$3/multi/bb:v1" "$3/multi-copy/bb:v1") && [ "$d" = "$(cat "$4/index-digest")" ] && skopeo inspect --raw --tls-verify=false "docker://$3/multi-copy/bb:v1" | grep -q image.index' \
  _ "$BALE" "$W/s5" "$R" "$W/multi"
check "push of a partial index pushes the host image" sh -c '"$1" --store "$2" pull -q "$3/multi/bb:v1" >/dev/null && d=$("$1" --store "$2" push "$3/multi/bb:v1" "$3/multi-host/bb:v1" 2>"$2.err") && grep -q "pushing this machine" "$2.err" && skopeo inspect --raw --tls-verify=false "docker://$3/multi-host/bb:v1" | grep -q "$(cut -c8- "$4/config-$5")"' \
  _ "$BALE" "$W/s6" "$R" "$W/multi" "$arch"
check "no entry for the platform: a clear error" expect_fail "no image for platform linux/s390x" \
  bale --store "$W/s5" pull --platform linux/s390x "$R/multi/bb:v1"

# ---- TLS with a test CA, basic auth with htpasswd, on 127.0.0.2 (not loopback-insecure) ---------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.crt" -days 2 \
  -subj /CN=bale-test-ca >/dev/null 2>&1 || bail "openssl: cannot create the CA"
openssl req -newkey rsa:2048 -nodes -keyout "$W/srv.key" -out "$W/srv.csr" -subj /CN=127.0.0.2 \
  >/dev/null 2>&1 || bail "openssl: cannot create the server key"
printf 'subjectAltName=IP:127.0.0.2\n' >"$W/san.ext"
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial \
  -out "$W/srv.crt" -days 2 -extfile "$W/san.ext" >/dev/null 2>&1 || bail "openssl: cannot sign"
htpasswd -Bbc "$W/htpasswd" user secret >/dev/null 2>&1 || bail "htpasswd failed"
start_registry treg 127.0.0.2 '  tls:' "    certificate: $W/srv.crt" "    key: $W/srv.key" \
  'auth:' '  htpasswd:' '    realm: bale-test' "    path: $W/htpasswd"
T=$ADDR
export DOCKER_CONFIG="$W/docker"

check "https without the test CA fails verification" expect_fail "$T.*(certificate|SSL)" \
  bale --store "$W/t1" pull "$T/x/y:v1"
check "login with a wrong password fails" sh -c 'echo wrong | "$1" login -u user --password-stdin --tls-ca "$2" "$3"; [ $? -ne 0 ]' \
  _ "$BALE" "$W/ca.crt" "$T"
check "unauthenticated push asks for a login" expect_fail "requires a login" \
  bale --store "$S1" push --tls-ca "$W/ca.crt" busybox:test "$T/auth/bb:v1"
check "login" sh -c 'echo secret | "$1" login -u user --password-stdin --tls-ca "$2" "$3" | grep -q "Login Succeeded"' \
  _ "$BALE" "$W/ca.crt" "$T"
check "login wrote docker's config format" sh -c '[ "$(python3 -c "import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))[\"auths\"][sys.argv[2]][\"auth\"]).decode())" "$1/config.json" "$2")" = user:secret ] && [ "$(stat -c %a "$1/config.json")" = 600 ]' \
  _ "$DOCKER_CONFIG" "$T"
check "push over TLS with basic auth" sh -c 'd=$("$1" --store "$2" push -q --tls-ca "$3" busybox:test "$4/auth/bb:v1") && [ "$d" = "$5" ]' \
  _ "$BALE" "$S1" "$W/ca.crt" "$T" "$D1"
check "pull over TLS with basic auth" sh -c 'd=$("$1" --store "$2" pull -q --tls-ca "$3" "$4/auth/bb:v1") && [ "$d" = "$5" ]' \
  _ "$BALE" "$W/t2" "$W/ca.crt" "$T" "$D1"
check "logout" sh -c '"$1" logout "$2" && ! grep -q "$2" "$3/config.json"' _ "$BALE" "$T" "$DOCKER_CONFIG"
check "after logout, pulls need a login again" expect_fail "requires a login" \
  bale --store "$W/t3" pull --tls-ca "$W/ca.crt" "$T/auth/bb:v1"
mkdir -p "$W/bin"
cat >"$W/bin/docker-credential-baletest" <<'EOF'
#!/bin/sh
read -r server
[ "$1" = get ] && printf '{"ServerURL":"%s","Username":"user","Secret":"secret"}\n' "$server"
EOF
chmod +x "$W/bin/docker-credential-baletest"
printf '{"credHelpers":{"%s":"baletest"}}\n' "$T" >"$DOCKER_CONFIG/config.json"
check "credentials from a docker-credential helper" sh -c 'PATH="$1:$PATH" "$2" --store "$3" pull -q --tls-ca "$4" "$5/auth/bb:v1" >/dev/null' \
  _ "$W/bin" "$BALE" "$W/t4" "$W/ca.crt" "$T"

# ---- Bearer tokens: regproxy.py token mode in front of the plain registry -----------------------
start_proxy token "$R" || bail "the token proxy did not start"
B=127.0.0.1:$PROXY_PORT
rm -f "$DOCKER_CONFIG/config.json"
check "anonymous token request is refused clearly" expect_fail "token request.*refused|authentication required" \
  bale --store "$W/b1" pull "$B/test/busybox:v1"
printf '{"auths":{"http://%s":{"auth":"%s"}}}\n' "$B" "$(printf user:secret | base64)" >"$DOCKER_CONFIG/config.json"
check "pull with a Bearer token" sh -c 'd=$("$1" --store "$2" pull -q "$3/test/busybox:v1") && [ "$d" = "$4" ]' \
  _ "$BALE" "$W/b2" "$B" "$D1"
check "one token serves the whole pull (cached per scope)" \
  sh -c 'python3 -c "import json,urllib.request,sys; sys.exit(json.load(urllib.request.urlopen(\"http://$1/stats\"))[\"tokens\"] != 1)"' _ "$B"
check "push with a Bearer token (pull,push scope)" sh -c 'd=$("$1" --store "$2" push -q busybox:test "$3/tok/bb:v1") && [ "$d" = "$4" ]' \
  _ "$BALE" "$S1" "$B" "$D1"
printf '{"auths":{"%s":{"identitytoken":"identity-token-for-user"}}}\n' "$B" >"$DOCKER_CONFIG/config.json"
check "pull with an identity token (OAuth2 refresh grant)" sh -c 'd=$("$1" --store "$2" pull -q "$3/test/busybox:v1") && [ "$d" = "$4" ]' \
  _ "$BALE" "$W/b3" "$B" "$D1"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$B" "$(printf user:secret | base64)" >"$DOCKER_CONFIG/config.json"
check "mount with a token for both repositories" sh -c '"$1" --store "$2" tag "$3/test/busybox:v1" "$3/tok2/bb:v1" && "$1" --store "$2" push "$3/tok2/bb:v1" 2>&1 | grep -q "mounted from test/busybox"' \
  _ "$BALE" "$W/b2" "$B"

fleet_token () { # the fleet cache through a registry that wants Bearer tokens
  bale --store "$W/ra" build -q --source-date-epoch 1700000000 --cache-to "type=registry,ref=$B/tokcache/app:c,mode=max" \
    "$W/cctx" >/dev/null 2>"$W/tk.err" || { cat "$W/tk.err"; return 1; }
  runner "$W/rt" && bale --store "$W/rt" build --source-date-epoch 1700000000 --cache-from "$B/tokcache/app:c" "$W/cctx" \
    >"$W/rt.id" 2>"$W/rt.err" && every_step_cached "$W/rt.err" && same "$(cat "$W/ra.id")" "$(cat "$W/rt.id")" \
    || { cat "$W/rt.err"; return 1; }
}
check "fleet cache with Bearer tokens: export (pull,push) and import (pull)" fleet_token

# ---- faults: regproxy.py fault mode ------------------------------------------------------------
# The hostile layers aim at this directory (regproxy.py's hostile fault): it must never change.
mkdir -p "$W/canary" && echo CANARY >"$W/canary/c"
export REGPROXY_CANARY="$W/canary"
start_proxy fault "$R" || bail "the fault proxy did not start"
F=127.0.0.1:$PROXY_PORT
check "wrong digest: a clear error" expect_fail "digest" bale --store "$W/f1" pull "$F/wrongdigest/test/busybox:v1"
unnamed_and_clean () { # STORE NAME
  store_clean "$1" && ! bale --store "$1" inspect "$2" >/dev/null 2>&1
}
check "wrong digest: nothing unverified in the store" unnamed_and_clean "$W/f1" "$F/wrongdigest/test/busybox:v1"
check "truncated blob: a clear error" expect_fail "truncated|partial|transfer closed|bytes" \
  bale --store "$W/f2" pull "$F/truncated/test/busybox:v1"
check "truncated blob: nothing unverified in the store" store_clean "$W/f2"
check "500 then success: retried" sh -c 'd=$("$1" --store "$2" pull -q "$3/flaky/test/busybox:v1") && [ "$d" = "$4" ]' \
  _ "$BALE" "$W/f3" "$F" "$D1"
check "429 with Retry-After: waited and retried" sh -c 'd=$("$1" --store "$2" pull -q "$3/ratelimit/test/busybox:v1") && [ "$d" = "$4" ]' \
  _ "$BALE" "$W/f7" "$F" "$D1"
check "503 every time: an error after the retries" expect_fail "after 4 attempts.*|HTTP status 503" \
  bale --store "$W/f8" pull "$F/broken/test/busybox:v1"
check "401 without a challenge: a clear error" expect_fail "401 without an authentication challenge" \
  bale --store "$W/f4" pull "$F/nochallenge/test/busybox:v1"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$F" "$(printf user:secret | base64)" >"$DOCKER_CONFIG/config.json"
check "redirect to another host carries no credentials" \
  sh -c 'd=$("$1" --store "$2" pull -q "$3/redirect/test/busybox:v1") && [ "$d" = "$4" ]' _ "$BALE" "$W/f5" "$F" "$D1"
check "manifest over 4 MiB: refused" expect_fail "larger than 4194304" \
  bale --store "$W/f6" pull "$F/bigmanifest/test/busybox:v1"
# The store has the layer already (f3 pulled the image): the descriptor's size is still checked.
check "a manifest whose layer sizes lie: refused even when the blob is in the store" expect_fail \
  "the descriptor of sha256:[0-9a-f]* gives [0-9]* bytes, the blob has" bale --store "$W/f3" pull "$F/badsize/test/busybox:v1"
all_clean () { for s in "$@"; do store_clean "$s" || return 1; done; }
check "fault stores hold only verified blobs" all_clean "$W/f3" "$W/f4" "$W/f5" "$W/f6" "$W/f7" "$W/f8"

# A hostile registry (session 30): documents past any sane size, bodies that never end. Each
# fails at once with an error that says why, and leaves nothing in the store. A 64 MiB config
# was downloaded into the store before (the store reads configs of at most 16 MiB: an image
# that could never be used), and the pull succeeded.
no_big_blob () { store_clean "$1" && [ -z "$(find "$1" -type f -size +16M)" ] || { find "$1" -type f -size +16M; return 1; }; }
check "a config over 16 MiB: refused before a byte of it is downloaded" expect_fail \
  "the config sha256:[0-9a-f]{64} has [0-9]+ bytes, more than 16777216" bale --store "$W/f9" pull "$F/bigconfig/test/busybox:v1"
check "a config over 16 MiB: nothing of it in the store" no_big_blob "$W/f9"
check "an index over 4 MiB: refused" expect_fail "larger than 4194304" bale --store "$W/f9" pull "$F/bigindex/test/busybox:v1"
# timeout: a hang guard only (each fails in well under a second).
check "a manifest whose body never ends: refused at 4 MiB" expect_fail "larger than 4194304" \
  timeout 300 "$BALE" --store "$W/f9" pull "$F/endlessmanifest/test/busybox:v1"
check "a blob whose body never ends: refused past its descriptor's size" expect_fail \
  "registry sent more than the [0-9]+ bytes the manifest gives" timeout 300 "$BALE" --store "$W/f9" pull "$F/endlessblob/test/busybox:v1"
check "after endless bodies: only verified blobs in the store" no_big_blob "$W/f9"

# Hostile layers pulled, then built FROM (a RUN on them: the layer is unpacked as a snapshot)
# and exported with -o type=local (unpacked into a host directory): names with .., absolute
# names, hard links out, writes and whiteouts through a symlink out, a gzip bomb. Each entry
# lands inside the root (or the output directory), or the build fails naming the entry; the
# canary the layers aim at never changes.
canary_intact () { [ "$(cat "$W/canary/c")" = CANARY ] && [ "$(ls "$W/canary")" = c ] || { ls -la "$W/canary"; return 1; }; }
mkdir -p "$W/hctx"
hostile_from () { # SHAPE (what the build must do: ok FILE-INSIDE-THE-OUTPUT | fail PATTERN)
  s=$W/h-$1 out=$W/hout-$1 ref=$F/hostile/$1/test/busybox:v1
  rm -rf "$s" "$out"
  bale --store "$s" pull -q "$ref" >/dev/null 2>"$W/err" || { cat "$W/err"; return 1; }
  printf 'FROM %s\nRUN ls -a / >/listing\n' "$ref" >"$W/hctx/Dockerfile"
  if timeout 600 "$BALE" --store "$s" build -q --no-cache -o "type=local,dest=$out" "$W/hctx" >"$W/out" 2>"$W/err"; then
    [ "$2" = ok ] && { [ -z "$3" ] || [ -f "$out/$3" ]; } || { echo "built:"; cat "$W/err"; find "$out" -newer "$W/hctx/Dockerfile" | head; return 1; }
  else
    [ "$2" = fail ] && grep -Eq "$3" "$W/err" || { echo "failed:"; cat "$W/err"; return 1; }
  fi
  canary_intact && store_clean "$s"
}
c=${W#/}/canary
check "hostile layer: a file named ../../..CANARY/dotdot lands inside the root" hostile_from dotdot ok "$c/dotdot"
check "hostile layer: an absolute name lands inside the root" hostile_from absolute ok "$c/absolute"
check "hostile layer: hard links out of the root are refused, naming the entry" hostile_from hardlink fail \
  "hard link 'h' to '.*canary/c': the target is not an earlier entry of this layer"
check "hostile layer: a write through an absolute symlink out lands inside the root" hostile_from symlink ok "$c/through"
check "hostile layer: a write through a ../../.. symlink out lands inside the root" hostile_from symlinkrel ok "$c/through"
check "hostile layer: a whiteout through a symlink out deletes nothing outside" hostile_from whiteout ok ""
check "hostile layer: a gzip bomb (1 GiB of zeros after the tar, 1 MB sent) refused past 16 MiB, naming the layer" hostile_from bomb fail \
  "cannot unpack layer .sha256:[0-9a-f]{64}.: more than [0-9]+ bytes after the end of the tar archive.*decompression bomb, refused"
check "the canary the hostile layers aimed at never changed" canary_intact

# ---- ADD <url>: http_fetch against python's http.server -------------------------------------------
mkdir -p "$W/www"
printf 'hello from a web server\n' >"$W/www/hello.txt"
touch -d '2001-02-03 04:05:06 UTC' "$W/www/hello.txt"
start_http "$W/www" || bail "http.server did not start"
HP=$port
sum=sha256:$(sha256sum <"$W/www/hello.txt" | cut -c1-64)
check "fetch: content, digest, size and Last-Modified" sh -c '"$1" "$2" "$3" >"$3.out" && cmp "$3" "$4" && grep -qx "digest $5" "$3.out" && grep -qx "size 24" "$3.out" && grep -qx "last_modified 981173106" "$3.out"' \
  _ "$FETCH" "http://127.0.0.1:$HP/hello.txt" "$W/dl1" "$W/www/hello.txt" "$sum"
check "fetch: matching --checksum" "$FETCH" "http://127.0.0.1:$HP/hello.txt" "$W/dl2" "$sum"
check "fetch: checksum mismatch is an error" expect_fail "checksum of .* is $sum, not sha256:0000" \
  "$FETCH" "http://127.0.0.1:$HP/hello.txt" "$W/dl3" sha256:0000000000000000000000000000000000000000000000000000000000000000
check "fetch: 404 is an error" expect_fail "HTTP status 404" "$FETCH" "http://127.0.0.1:$HP/nope" "$W/dl4"

# ADD <url> in a build: mode 0600, mtime from Last-Modified, --checksum, no extraction.
mkdir -p "$W/ctx"
tar -C "$W/www" -cf "$W/www/a.tar" hello.txt
add_url_build () {
  printf '%s\n' 'FROM scratch' "ADD http://127.0.0.1:$HP/hello.txt /d/" \
    "ADD --checksum=$sum http://127.0.0.1:$HP/hello.txt?x=1 /renamed" \
    "ADD http://127.0.0.1:$HP/a.tar /t/" >"$W/ctx/Dockerfile"
  bale --store "$W/addstore" build -q -t add:v1 --output "type=oci,dest=$W/add.oci" "$W/ctx" >/dev/null \
    && umoci unpack --rootless --image "$W/add.oci:v1" "$W/addb" >/dev/null || return 1
  r=$W/addb/rootfs
  [ "$(stat -c '%a %Y' "$r/d/hello.txt")" = "600 981173106" ] && cmp "$r/renamed" "$W/www/hello.txt" \
    && [ -f "$r/t/a.tar" ] && [ -z "$(ls -A "$W/addstore/tmp")" ]
}
check "ADD <url> in a build: mode 0600, Last-Modified, --checksum, not extracted" add_url_build
check "ADD <url> with a wrong --checksum fails the build" sh -c 'printf "%s\n" "FROM scratch" "ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 http://127.0.0.1:$1/hello.txt /x" >"$2/Dockerfile" && ! "$3" --store "$4" build -q "$2" 2>"$2.err" && grep -q "checksum of" "$2.err" && [ -z "$(ls -A "$4/tmp")" ]' \
  _ "$HP" "$W/ctx" "$BALE" "$W/addstore"

done_testing
