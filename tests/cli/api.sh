#!/bin/sh
# What a libbale build does to its caller (tests/helpers/api_effects.c, linked with
# libbale.so): the caller's mount namespace, signal dispositions and mask are untouched, a
# RUN --mount from= (which mounts a view) included, and a build is cancelled from another
# thread, leaving no image.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store || { echo "Bail out! cannot load the busybox base"; exit 1; }
effects="$top_builddir/tests/helpers/api_effects"
mkdir -p "$T_TMP/fx" "$T_TMP/cancel"
printf 'FROM busybox\nRUN --mount=type=bind,from=busybox,target=/b ls /b/bin > /list\nRUN echo ok\n' \
  > "$T_TMP/fx/Dockerfile"
check "a build leaves the caller's mount namespace, signals and mask as they were" \
  "$effects" effects "$BALE_STORE" "$T_TMP/fx"
printf 'FROM busybox\nRUN echo started && sleep 300\n' > "$T_TMP/cancel/Dockerfile"
check "bale_cancel_trigger from another thread stops a build with ECANCELED" \
  "$effects" cancel "$BALE_STORE" "$T_TMP/cancel"
check "a cancelled build names no image" \
  sh -c "! '$BALE' inspect effects/cancelled > /dev/null 2>&1"

# Every option of `bale build` through the API: outputs, a cache export and import, a label
# (a field) and an annotation (a generic option), the details --metadata-file needs.
apib="$top_builddir/tests/helpers/api_build"
mkdir -p "$T_TMP/ob" "$T_TMP/out"
printf 'FROM busybox\nRUN echo built > /built\n' > "$T_TMP/ob/Dockerfile"
check "bale_build writes outputs and exports the cache" \
  sh -c "'$apib' outputs '$BALE_STORE' '$T_TMP/ob' '$T_TMP/out' > '$T_TMP/ob.txt'"
check "type=local holds the image's files" grep -qx built "$T_TMP/out/local/built"
check "type=oci is an OCI layout" test -f "$T_TMP/out/oci/index.json"
check "the cache export went to the directory" test -d "$T_TMP/out/cache/keys"
check "the export was said in a MESSAGE event" grep -q '^message=exported [0-9]* cache entries' "$T_TMP/ob.txt"
id=$(sed -n 's/^id=//p' "$T_TMP/ob.txt")
check "the details carry the config digest, the image ID" grep -qx "config=$id" "$T_TMP/ob.txt"
check "the details carry the tag, normalised" grep -qx "name=docker.io/api/outputs:1" "$T_TMP/ob.txt"
check "the details carry buildx's metadata" grep -q '"containerimage.config.digest": "'"$id"'"' "$T_TMP/ob.txt"
check "the label reached the image" sh -c "'$BALE' inspect api/outputs:1 | grep -q '\"api.label\": \"yes\"'"
check "the annotation reached the manifest" grep -rq 'api.annotation' "$T_TMP/out/oci"
mkdir -p "$T_TMP/store2"
cp -a "$BALE_STORE/." "$T_TMP/store2/" 2>/dev/null
rm -rf "$T_TMP/store2/buildcache"
check "cache_from imports the exported cache into another store" \
  sh -c "'$apib' import '$T_TMP/store2' '$T_TMP/ob' '$T_TMP/out' > '$T_TMP/imp.txt'"
check "the RUN step came from the imported cache" grep -qx 'cached=1' "$T_TMP/imp.txt"
check "an unknown option fails, named; in_process refuses a cancellation token" "$apib" bad "$BALE_STORE" "$T_TMP/ob"
done_testing
