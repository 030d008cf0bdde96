#!/bin/sh
# The build cache end to end: hits, a miss for each kind of input change, --no-cache,
# --no-cache-filter, prune, and reproducible digests with SOURCE_DATE_EPOCH.
# A RUN step proves it ran by appending to a cache mount (runs ID counts the lines): a cache
# mount survives builds and is not part of any cache key.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
unset SOURCE_DATE_EPOCH

df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }
# build [ARGS]: build $ctx as t:latest; stderr (the progress) in $T_TMP/err, the ID in $T_TMP/id.
build () {
  "$BALE" build -t t:latest "$@" "$ctx" > "$T_TMP/id" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}
# counter ID: a RUN that counts its executions.
counter () { echo "RUN --mount=type=cache,target=/count,id=$1 echo x >> /count/n"; }
runs () { if [ -f "$BALE_STORE/cache/$1/n" ]; then wc -l < "$BALE_STORE/cache/$1/n"; else echo 0; fi; }
# want_runs ID N: the counter ran N times so far.
want_runs () {
  [ "$(runs "$1")" -eq "$2" ] || { echo "$1 ran $(runs "$1") times, want $2"; cat "$T_TMP/err"; return 1; }
}
cached () { grep -q "CACHED \[[^]]*\] $1" "$T_TMP/err" || { echo "not cached: $1"; cat "$T_TMP/err"; return 1; }; }
# json FILE PATH: the value at PATH (a Python subscript such as ["a"][0]) of the JSON FILE.
json () { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
not_cached () { ! grep -q "CACHED \[[^]]*\] $1" "$T_TMP/err" || { echo "cached: $1"; cat "$T_TMP/err"; return 1; }; }

mkdir -p "$ctx/src/sub" "$ctx/other"
echo one > "$ctx/src/f"; echo two > "$ctx/src/sub/g"; echo ig > "$ctx/src/ignored.log"
echo o > "$ctx/other/o"
printf '*/ignored.log\n' > "$ctx/.dockerignore"

identical_rebuild () {
  df 'FROM busybox' 'COPY src /app' "$(counter c1)" 'WORKDIR /w'
  build --source-date-epoch 1700000000 && id1=$(cat "$T_TMP/id") && want_runs c1 1 || return 1
  build --source-date-epoch 1700000000 && want_runs c1 1 && cached "COPY src /app" &&
    cached "RUN " && cached "WORKDIR /w" && [ "$(cat "$T_TMP/id")" = "$id1" ]
}
check "identical rebuild: every step CACHED, nothing runs, same image ID" identical_rebuild

# config_of OCI_DIR: the image config of an OCI layout (--output type=oci).
config_of () {
  python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
blob = lambda dg: json.load(open("%s/blobs/sha256/%s" % (d, dg[7:])))
m = blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"])
print(json.dumps(blob(m["config"]["digest"])))
PY
}
# Without SOURCE_DATE_EPOCH too: every history entry of a step takes its cache entry's time,
# as BuildKit's take their cached layer's (issue 16 #7), so nothing in the config changes.
rebuild_same_id_without_epoch () {
  df 'FROM busybox' 'ENV A=1' 'COPY src /app' "$(counter t1)" 'LABEL l=1' 'RUN echo y > /y' 'CMD ["sh"]'
  build && id1=$(cat "$T_TMP/id") && want_runs t1 1 || return 1
  sleep 1
  build && want_runs t1 1 && cached "RUN echo y" && [ "$(cat "$T_TMP/id")" = "$id1" ] ||
    { echo "a fully cached rebuild gave $(cat "$T_TMP/id"), the first build $id1"; return 1; }
  rm -rf "$T_TMP/t1.oci"
  "$BALE" build -q --output "type=oci,dest=$T_TMP/t1.oci" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    config_of "$T_TMP/t1.oci" > "$T_TMP/t1.json" || { cat "$T_TMP/err"; return 1; }
  # BuildKit's rule (normalizeLayersAndHistory): a layer step's entry has its layer's time, a
  # metadata step's that of the layer step before it, or of the first new layer when none
  # precedes it; the config's is the last entry's. The base image's entry keeps its own.
  python3 - "$T_TMP/t1.json" <<'PY' || return 1
import json, sys
c = json.load(open(sys.argv[1]))
h = [(e["created"], e.get("empty_layer", False), e["created_by"]) for e in c["history"]]
base, env, copy, run1, label, run2, cmd = h
assert len({copy[0], run1[0], run2[0]}) == 3, h
assert env[0] == copy[0] and label[0] == run1[0] and cmd[0] == run2[0], h
assert base[0] != copy[0] and c["created"] == run2[0], (c["created"], h)
PY
  # An entry of an older bale (no time) gets one on its first hit; the rebuilds after agree.
  for k in "$BALE_STORE"/buildcache/keys/*; do
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d.pop("created", None); json.dump(d, open(sys.argv[1], "w"))' "$k"
  done
  build && want_runs t1 1 && id2=$(cat "$T_TMP/id") && [ "$id2" != "$id1" ] || return 1
  build && want_runs t1 1 && [ "$(cat "$T_TMP/id")" = "$id2" ]
}
check "fully cached rebuild without SOURCE_DATE_EPOCH: same image ID, history times as BuildKit's" rebuild_same_id_without_epoch

copy_inputs () {
  df 'FROM busybox' 'COPY src /app' "$(counter c2)"
  build && want_runs c2 1 || return 1
  echo changed > "$ctx/src/f"
  build && want_runs c2 2 && not_cached "COPY" || return 1
  chmod 0755 "$ctx/src/f"
  build && want_runs c2 3 && not_cached "COPY" || return 1
  echo new > "$ctx/src/sub/new"
  build && want_runs c2 4 && not_cached "COPY" || return 1
  echo "ignored, changed" > "$ctx/src/ignored.log"
  build && want_runs c2 4 && cached "COPY" || return 1
  echo o2 > "$ctx/other/o"
  build && want_runs c2 4 && cached "COPY"
}
check "COPY misses on content, mode, a new file; ignored and uncopied files keep the hit" copy_inputs

same_content_back () {
  df 'FROM busybox' 'COPY src/f /f' "$(counter c3)"
  echo A > "$ctx/src/f"; build && want_runs c3 1 || return 1
  echo B > "$ctx/src/f"; build && want_runs c3 2 || return 1
  echo A > "$ctx/src/f"; build && want_runs c3 2 && cached "COPY src/f /f"
}
check "content changed back: the earlier layers are hits again" same_content_back

args_and_env () {
  df 'FROM busybox' 'ARG A' 'ENV E=1' "$(counter c4)"
  build --build-arg A=1 && want_runs c4 1 || return 1
  build --build-arg A=2 && want_runs c4 2 || return 1
  build --build-arg A=1 && want_runs c4 2 || return 1
  df 'FROM busybox' 'ARG A' 'ENV E=2' "$(counter c4)"
  build --build-arg A=1 && want_runs c4 3 || return 1
  # a build arg no step sees (no ARG) changes nothing
  build --build-arg A=1 --build-arg UNUSED=x && want_runs c4 3
}
check "RUN misses on a build arg it sees and on ENV; unused args keep the hit" args_and_env

base_image () {
  df 'FROM busybox' 'RUN echo base2 > /base2'
  "$BALE" build -q -t base2 "$ctx" > /dev/null 2>&1 || return 1
  df 'ARG BASE=busybox' 'FROM $BASE' "$(counter c5)"
  build && want_runs c5 1 || return 1
  build --build-arg BASE=base2 && want_runs c5 2 || return 1
  build && want_runs c5 2
}
check "a different base image misses" base_image

chown_heredoc () {
  df 'FROM busybox' 'COPY --chown=1:1 src/f /f' "$(counter c6)"
  build && want_runs c6 1 || return 1
  df 'FROM busybox' 'COPY --chown=2:2 src/f /f' "$(counter c6)"
  build && want_runs c6 2 && not_cached "COPY" || return 1
  df 'FROM busybox' 'COPY <<EOF /h' 'body one' 'EOF' "$(counter c6)"
  build && want_runs c6 3 || return 1
  build && want_runs c6 3 || return 1
  df 'FROM busybox' 'COPY <<EOF /h' 'body two' 'EOF' "$(counter c6)"
  build && want_runs c6 4
}
check "COPY --chown and heredoc bodies are part of the key" chown_heredoc

bind_and_secret () {
  printf 'tok1' > "$T_TMP/secret"
  df 'FROM busybox' 'RUN --mount=type=bind,source=src/sub,target=/s --mount=type=secret,id=tok --mount=type=cache,target=/count,id=c7 cat /s/g /run/secrets/tok > /dev/null && echo x >> /count/n'
  build --secret "id=tok,src=$T_TMP/secret" && want_runs c7 1 || return 1
  printf 'tok2-rotated' > "$T_TMP/secret"
  build --secret "id=tok,src=$T_TMP/secret" && want_runs c7 1 || return 1
  echo o3 > "$ctx/other/o"
  build --secret "id=tok,src=$T_TMP/secret" && want_runs c7 1 || return 1
  echo three > "$ctx/src/sub/g"
  build --secret "id=tok,src=$T_TMP/secret" && want_runs c7 2
}
check "RUN bind mount sources by content (misses), secrets by id only (hits)" bind_and_secret

no_cache () {
  df 'FROM busybox' "$(counter c8a)" 'FROM busybox AS build' "$(counter c8b)" 'RUN echo b > /b' \
    'FROM busybox' "$(counter c8c)" 'COPY --from=build /b /b'
  build && want_runs c8b 1 && want_runs c8c 1 || return 1
  build --no-cache && want_runs c8b 2 && want_runs c8c 2 && ! grep -q CACHED "$T_TMP/err" || return 1
  build --no-cache-filter build && want_runs c8b 3 && want_runs c8c 2 && want_runs c8a 0 || return 1
  build && want_runs c8b 3 && want_runs c8c 2
}
check "--no-cache runs everything, --no-cache-filter STAGE only that stage; stages run in parallel" no_cache

cached_layer_unpacked () {
  echo "from the cache" > "$ctx/src/f"
  df 'FROM busybox' 'COPY src/f /f' 'ARG A' 'RUN --mount=type=cache,target=/count,id=c10 cat /f > /g && echo x >> /count/n'
  build --build-arg A=1 && want_runs c10 1 || return 1
  # The next build must unpack the cached COPY layer from its blob for the RUN that misses.
  rm -rf "$BALE_STORE/snapshots" && mkdir "$BALE_STORE/snapshots" || return 1
  build --build-arg A=2 && want_runs c10 2 && cached "COPY src/f" || return 1
  [ "$("$BALE" run t cat /g)" = "from the cache" ]
}
check "a cached layer below a step that runs is unpacked from its blob" cached_layer_unpacked

copy_from_image () {
  df 'FROM busybox' 'RUN echo v1 > /v'
  "$BALE" build -q -t src-img "$ctx" > /dev/null 2>&1 || return 1
  df 'FROM busybox' 'COPY --from=src-img /v /v'
  build && build && cached "COPY --from=src-img /v /v" || return 1
  df 'FROM busybox' 'RUN echo v2 > /v'
  "$BALE" build -q -t src-img "$ctx" > /dev/null 2>&1 || return 1
  df 'FROM busybox' 'COPY --from=src-img /v /v'
  build && not_cached "COPY" && [ "$("$BALE" run t cat /v)" = v2 ]
}
check "COPY --from an image misses when the image changes" copy_from_image

bad_epoch () {
  ! "$BALE" build --source-date-epoch soon "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q "invalid SOURCE_DATE_EPOCH 'soon'" "$T_TMP/err"
}
check "--source-date-epoch rejects a non-number" bad_epoch

epoch_flag_wins () {
  df 'FROM busybox' 'COPY src/f /f'
  SOURCE_DATE_EPOCH=1 "$BALE" build -q --build-arg SOURCE_DATE_EPOCH=2 --source-date-epoch 1600000000 \
    --output "type=oci,dest=$T_TMP/ep.oci" "$ctx" > /dev/null 2>&1 || return 1
  cfg=$(json "$T_TMP/ep.oci/index.json" '["manifests"][0]["digest"]' | sed 's/sha256://')
  cfg=$(json "$T_TMP/ep.oci/blobs/sha256/$cfg" '["config"]["digest"]' | sed 's/sha256://')
  [ "$(json "$T_TMP/ep.oci/blobs/sha256/$cfg" '["created"]')" = "2020-09-13T12:26:40Z" ]
}
check "--source-date-epoch wins over the build arg and the environment" epoch_flag_wins

prune () {
  head -c 100000 /dev/urandom > "$ctx/big1"; head -c 100000 /dev/urandom > "$ctx/big2"
  df 'FROM busybox' 'COPY big1 /big' "$(counter c9)"
  build && want_runs c9 1 || return 1
  "$BALE" rmi t:latest > /dev/null && "$BALE" prune --keep-storage 1GiB > /dev/null || return 1
  build && want_runs c9 1 || return 1   # the untagged layers stayed for the cache
  df 'FROM busybox' 'COPY big2 /big' "$(counter c9)"
  build && want_runs c9 2 || return 1
  df 'FROM busybox' 'COPY big1 /big' "$(counter c9)"
  build && want_runs c9 2 || return 1   # big1 is now the most recently used
  # Entries are dropped by last use: the COPY of big1 (used last) fits in 150k, big2's not.
  "$BALE" rmi t:latest > /dev/null && "$BALE" prune --keep-storage 150k > /dev/null || return 1
  build && cached "COPY big1" || return 1
  df 'FROM busybox' 'COPY big2 /big' "$(counter c9)"
  build && not_cached "COPY big2" || return 1
  [ -d "$BALE_STORE/cache/c9" ] || { echo "--keep-storage dropped a cache mount"; return 1; }
  # A full prune drops the entries and the cache mounts (docker builder prune does too).
  "$BALE" prune > /dev/null && [ -z "$(ls "$BALE_STORE/buildcache/keys")" ] && [ -z "$(ls "$BALE_STORE/cache")" ] || return 1
  build && want_runs c9 1
}
check "prune drops the cache and cache mounts; --keep-storage keeps the most recently used; rmi keeps cached layers" prune

# --keep-storage reads sizes as docker builder prune does (MemBytes: go-units RAMInBytes, as
# --shm-size and mount sizes do, through the same parser): '1GiB', '10 gb' and '2t' are sizes;
# 'inf' and 'nan' were cast from a double to int64 (undefined; 'keep_storage
# -9223372036854775808 is negative'), '1e3' taken as 1000.
prune_sizes () {
  for v in 1GiB '10 gb' 2t 1.5g 0 512b; do
    "$BALE" prune --keep-storage "$v" > /dev/null 2> "$T_TMP/err" || { echo "refused '$v'"; cat "$T_TMP/err"; return 1; }
  done
  for v in inf nan 1e3 -1 ' 5' 0x10 1.2.3 10q; do
    ! "$BALE" prune --keep-storage "$v" > /dev/null 2> "$T_TMP/err" &&
      [ "$(cat "$T_TMP/err")" = "bale prune: --keep-storage: invalid size '$v'" ] || { echo "'$v':"; cat "$T_TMP/err"; return 1; }
  done
}
check "prune --keep-storage: docker's sizes, anything else a precise error" prune_sizes

# Two checkouts of one context: other directories, mtimes, umask and stores; same digests.
reproducible () {
  for n in 1 2; do
    c=$T_TMP/repro$n
    mkdir -p "$c"
    (umask $([ $n = 1 ] && echo 022 || echo 077)
     mkdir -p "$c/src/deep/er" && echo code > "$c/src/main.c" && echo h > "$c/src/deep/er/h.h" &&
       printf '%s\n' 'FROM busybox AS build' 'WORKDIR /build/out' 'COPY src/ ./src/' \
         'RUN mkdir -p gen/x && cat src/main.c > gen/x/main.o && touch -d @1900000000 gen/late && hostname > gen/host' \
         'FROM busybox' 'COPY --from=build /build/out/gen /app' 'COPY src/deep /deep' 'RUN echo $((1+1)) > /app/two' \
         > "$c/Dockerfile")
    # A file's mode is content, as in Docker: the checkouts agree on it; bale's umask must not.
    chmod -R u=rwX,go=rX "$c"
    touch -d "@$((1700000100 + n * 1000))" "$c/src/main.c"
    BALE_STORE=$T_TMP/rstore$n
    export BALE_STORE
    "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null &&
      (umask $([ $n = 1 ] && echo 022 || echo 077)
       # The second build runs under another host name and time zone.
       if [ $n = 1 ]; then wrap=""; else wrap="unshare --uts"; export TZ=Asia/Tokyo; fi
       $wrap sh -c '[ -z "$1" ] || hostname "$1"; shift; exec "$@"' sh "$([ $n = 2 ] && echo other-host)" \
         "$BALE" build -q --source-date-epoch 1700000000 --output "type=oci,dest=$T_TMP/repro$n.oci" "$c" > /dev/null 2> "$T_TMP/err") ||
      { cat "$T_TMP/err"; return 1; }
  done
  export BALE_STORE="$T_TMP/store"
  a=$(json "$T_TMP/repro1.oci/index.json" '["manifests"][0]["digest"]')
  b=$(json "$T_TMP/repro2.oci/index.json" '["manifests"][0]["digest"]')
  [ "$a" = "$b" ] || { echo "manifests differ: $a $b"; diff -r "$T_TMP/repro1.oci" "$T_TMP/repro2.oci"; return 1; }
}
check "SOURCE_DATE_EPOCH: two checkouts (directory, mtimes, umask, store, host name, TZ) give one manifest digest" reproducible

fleet_local_cache () {
  # Two runners: A builds and exports its cache; B, with an empty store but the base, imports
  # it and builds the same Dockerfile without executing a step, to the same image digest.
  df 'FROM busybox' 'COPY src /app' 'RUN echo ran > /ran' 'FROM busybox' 'COPY --from=0 /ran /ran' 'WORKDIR /w'
  rm -rf "$T_TMP/fleet"
  BALE_STORE="$T_TMP/runner-a" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null &&
    BALE_STORE="$T_TMP/runner-b" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || return 1
  # Without SOURCE_DATE_EPOCH: the entries carry their layers' times to runner B.
  a=$(BALE_STORE="$T_TMP/runner-a" "$BALE" build -q \
        --cache-to "type=local,dest=$T_TMP/fleet,mode=max" --iidfile "$T_TMP/a.iid" "$ctx" 2> "$T_TMP/err") || { cat "$T_TMP/err"; return 1; }
  [ -n "$(ls "$T_TMP/fleet/keys")" ] || { echo "nothing exported"; return 1; }
  BALE_STORE="$T_TMP/runner-b" "$BALE" build \
    --cache-from "type=local,src=$T_TMP/fleet" --iidfile "$T_TMP/b.iid" "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  [ "$(cat "$T_TMP/a.iid")" = "$(cat "$T_TMP/b.iid")" ] || { echo "image IDs differ"; return 1; }
  for step in "COPY src /app" "RUN echo ran > /ran" "COPY --from=0 /ran /ran" "WORKDIR /w"; do
    cached "$step" || return 1
  done
  # mode=min (the default) leaves out the first stage's RUN, whose layer the image lacks.
  BALE_STORE="$T_TMP/runner-a" "$BALE" build -q \
    --cache-to "type=local,dest=$T_TMP/fleet-min" "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  [ "$(ls "$T_TMP/fleet-min/keys" | wc -l)" -lt "$(ls "$T_TMP/fleet/keys" | wc -l)" ] || { echo "mode=min exported as much as mode=max"; return 1; }
  # A cache directory whose blob was tampered with is refused, not trusted: the import warns
  # (as BuildKit's does) and the steps run.
  for b in "$T_TMP/fleet"/blobs/sha256/*; do printf x >> "$b"; done
  BALE_STORE="$T_TMP/runner-c" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || return 1
  BALE_STORE="$T_TMP/runner-c" "$BALE" build --cache-from "type=local,src=$T_TMP/fleet" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q "^warning: cache import from .*digest mismatch" "$T_TMP/err" && not_cached "RUN" || { cat "$T_TMP/err"; return 1; }
  # A cache that is not there yet (a fleet's first build) only warns.
  BALE_STORE="$T_TMP/runner-c" "$BALE" build -q --cache-from "type=local,src=$T_TMP/nothing" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q "^warning: cache import from $T_TMP/nothing" "$T_TMP/err"
}
check "--cache-to/--cache-from type=local: a second runner builds without executing a step" fleet_local_cache

deferred_key () {
  # A COPY this store never built (no earlier build of the step) takes its key while the
  # layer's child writes the layer: the trace has the context read after the child was forked.
  # The image is the one the usual order (key first: --explain-cache) makes, a rebuild hits,
  # a changed file misses, and a context of another name with the same files (a step without
  # history in this store) still finds the entry, dropping the child's layer.
  d="$T_TMP/deferred" && rm -rf "$d" && mkdir -p "$d/ctx/sub" || return 1
  for i in 1 2 3 4 5 6; do echo "file $i" > "$d/ctx/sub/f$i"; done
  printf 'FROM busybox\nCOPY . /app\n' > "$d/ctx/Dockerfile"
  dbuild () { # STORE CTX [ARGS]: the ID in $T_TMP/id, the trace in $d/trace
    s=$1 c=$2 && shift 2 && rm -f "$d/trace" &&
      BALE_TRACE="$d/trace" BALE_STORE="$s" "$BALE" build --source-date-epoch 1700000000 "$@" "$c" > "$T_TMP/id" 2> "$T_TMP/err" ||
      { cat "$T_TMP/err"; return 1; }
  }
  read_after_fork () { awk '/layer: child forked/ { f = 1 } /ctxhash: files read/ && f { ok = 1 } END { exit !ok }' "$d/trace"; }
  for s in one two; do BALE_STORE="$d/$s" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || return 1; done
  dbuild "$d/one" "$d/ctx" --explain-cache && id1=$(cat "$T_TMP/id") && ! read_after_fork || { echo "explain: deferred"; return 1; }
  dbuild "$d/two" "$d/ctx" && [ "$(cat "$T_TMP/id")" = "$id1" ] && read_after_fork || { echo "first build: not deferred or another image"; cat "$d/trace"; return 1; }
  dbuild "$d/two" "$d/ctx" && [ "$(cat "$T_TMP/id")" = "$id1" ] && cached "COPY . /app" || return 1
  echo changed > "$d/ctx/sub/f3"
  dbuild "$d/two" "$d/ctx" && [ "$(cat "$T_TMP/id")" != "$id1" ] && not_cached "COPY . /app" || return 1
  echo "file 3" > "$d/ctx/sub/f3"
  dbuild "$d/two" "$d/ctx" && [ "$(cat "$T_TMP/id")" = "$id1" ] && cached "COPY . /app" || return 1
  cp -a "$d/ctx" "$d/renamed" &&
    dbuild "$d/two" "$d/renamed" && [ "$(cat "$T_TMP/id")" = "$id1" ] && cached "COPY . /app" &&
    grep -q 'layer: child forked' "$d/trace" || { echo "renamed context"; cat "$T_TMP/err" "$d/trace"; return 1; }
  # The miss's inputs are written while the layer is: a step that then fails leaves none.
  cp -a "$d/ctx" "$d/failing" && printf 'FROM busybox\nCOPY . /bin/busybox/app/\n' > "$d/failing/Dockerfile"
  ls "$d/two/buildcache/inputs" > "$d/before" &&
    ! dbuild "$d/two" "$d/failing" > /dev/null && read_after_fork && grep -q "is not a directory" "$T_TMP/err" &&
    ls "$d/two/buildcache/inputs" | diff "$d/before" - || { echo "failed step: inputs left"; return 1; }
}
check "a COPY first built in this store: its key taken while the layer is written, same image, same cache" deferred_key

cache_spec_errors () {
  for spec in "type=s3,ref=x" "type=local" "type=local,dest=$T_TMP/d,compression=zstd" \
    "type=registry,ref=r/x:c,image-manifest=false" "type=registry,ref=r/x:c,mode=all" \
    "type=registry,ref=r/x:c,ignore-error=maybe" "type=registry,ref=r/x:c,nope=1" "type=registry,ref"; do
    ! "$BALE" build -q --cache-to "$spec" "$ctx" > /dev/null 2> "$T_TMP/err" || { echo "accepted $spec"; return 1; }
    grep -q "cache spec '$spec'" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  done
  # mode= is --cache-to's: an import has nothing to choose.
  ! "$BALE" build -q --cache-from "type=local,src=$T_TMP/d,mode=max" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q "unknown field 'mode'" "$T_TMP/err"
}
check "--cache-to/--cache-from: a spec that cannot be honoured is an error" cache_spec_errors

cache_export_failure () {
  # A registry nothing listens on: the export fails the build, naming the cache and the
  # registry; with ignore-error=true it is a warning and the build succeeds.
  df 'FROM busybox' 'RUN echo x > /x'
  ! "$BALE" build -q --cache-to "type=registry,ref=127.0.0.1:1/nowhere:c" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q "^bale build: cache export to 127.0.0.1:1/nowhere:c: push to '127.0.0.1:1/nowhere'" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  "$BALE" build -q --cache-to "type=registry,ref=127.0.0.1:1/nowhere:c,ignore-error=true" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q "^warning: cache export to 127.0.0.1:1/nowhere:c failed (ignore-error=true)" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}
check "--cache-to: a failed export is a named error, or a warning with ignore-error=true" cache_export_failure

# COPY --exclude: what the patterns leave out is no input of the step (as BuildKit's content
# hash with ExcludePatterns); what they keep is, and so are the patterns (diff-fuzz F27).
exclude_key () {
  mkdir -p "$ctx/ek/sub" && echo k > "$ctx/ek/keep" && echo d > "$ctx/ek/sub/drop.tmp" || return 1
  df 'FROM busybox' 'COPY --exclude=**/*.tmp ek /ek/'
  build && echo changed > "$ctx/ek/sub/drop.tmp" && echo new > "$ctx/ek/more.tmp" && build &&
    cached "COPY --exclude=.*ek /ek/" && echo k2 > "$ctx/ek/keep" && build && not_cached "COPY --exclude=.*ek /ek/" || return 1
  df 'FROM busybox' 'COPY --exclude=**/*.tm? ek /ek/'
  build && not_cached "COPY --exclude=.*ek /ek/"
}
check "COPY --exclude: excluded files are no input of the cache key, the patterns are" exclude_key

# A context file that changes while its step runs may be read with other bytes by the key than
# by the layer (for a deferred key they are read side by side, else the key first): the key of
# one content would name a layer of another, which every later build of that content would
# take. Such a step is not cached, with a warning; here the changing file is BALE_TRACE's,
# which bale appends to at each phase of the step, in the context. The next build, the file
# left alone, keeps its entry and the one after hits, with the file's bytes.
changed_during_step () {
  d="$T_TMP/changing" && rm -rf "$d" && mkdir -p "$d/ctx" || return 1
  BALE_STORE="$d/store" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || return 1
  printf 'FROM busybox\nCOPY . /app\n' > "$d/ctx/Dockerfile" && echo kept > "$d/ctx/f"
  cbuild () { BALE_STORE="$d/store" "$BALE" build --progress=plain "$@" "$d/ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }; }
  keys () { ls "$d/store/buildcache/keys" 2> /dev/null | wc -l; }
  # The first build takes the key while the layer is written, --explain-cache before it.
  for flag in "" --explain-cache; do
    BALE_TRACE="$d/ctx/trace" cbuild ${flag:+"$flag"} &&
      grep -q "context file 'trace' changed while the step ran: the step is not cached" "$T_TMP/err" &&
      [ "$(keys)" = 0 ] || { echo "$flag: cached, or no warning"; cat "$T_TMP/err"; return 1; }
  done
  cbuild && ! grep -q "changed while the step ran" "$T_TMP/err" && [ "$(keys)" = 1 ] &&
    cbuild && cached "COPY . /app" || return 1
  BALE_STORE="$d/store" "$BALE" run --entrypoint cat "$(BALE_STORE="$d/store" "$BALE" build -q "$d/ctx")" /app/trace > "$d/got" &&
    cmp "$d/got" "$d/ctx/trace" || return 1
  # A RUN step reads what it binds while it runs, after its key.
  printf 'FROM busybox\nRUN --mount=type=bind,source=trace,target=/t wc -c /t\n' > "$d/ctx/Dockerfile"
  BALE_TRACE="$d/ctx/trace" cbuild &&
    grep -q "context file 'trace' changed while the step ran: the step is not cached" "$T_TMP/err" &&
    [ "$(keys)" = 1 ] || { echo "RUN: cached, or no warning"; return 1; }
}
check "a context file changed while its step runs: the step is not cached" changed_during_step

done_testing
