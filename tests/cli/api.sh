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
printf 'FROM busybox\nRUN sleep 60\n' > "$T_TMP/cancel/Dockerfile"
check "bale_cancel_trigger from another thread stops a build with ECANCELED" \
  "$effects" cancel "$BALE_STORE" "$T_TMP/cancel"
check "a cancelled build names no image" \
  sh -c "! '$BALE' inspect effects/cancelled > /dev/null 2>&1"
done_testing
