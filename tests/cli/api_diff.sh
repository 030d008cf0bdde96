#!/bin/sh
# bale_diff (include/bale/image.h) as an embedder calls it, through the shared library
# (tests/helpers/api_diff.c): images of the store, archives without a store, the
# timestamps flag, and the errors.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store || { echo "Bail out! cannot load the busybox base"; exit 1; }
api="$top_builddir/tests/helpers/api_diff"

# image NAME EPOCH LINE...: build a Dockerfile of LINEs as NAME at SOURCE_DATE_EPOCH EPOCH.
image () {
  name=$1 epoch=$2
  shift 2
  printf '%s\n' "$@" > "$ctx/Dockerfile"
  SOURCE_DATE_EPOCH=$epoch "$BALE" build -q -t "$name" "$ctx" > /dev/null 2> "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
}
three_images () {
  image one 1700000000 'FROM busybox' 'RUN echo one > /f' &&
    image two 1700000000 'FROM busybox' 'RUN echo one > /f && chmod 600 /f' &&
    image later 1700000100 'FROM busybox' 'RUN echo one > /f'
}
check "build three images" three_images
check "bale save one" "$BALE" save -o "$T_TMP/one.tar" one
check "an image equals itself and its docker-archive" \
  "$api" equal "$BALE_STORE" one "docker-archive:$T_TMP/one.tar"
check "a file's mode: the line, the JSON, the count both ways" \
  "$api" differ "$BALE_STORE" one two 'file /f: mode 0644 -> 0600'
check "BALE_DIFF_IGNORE_TIMESTAMPS leaves out exactly the created and mtime differences" \
  "$api" timestamps "$BALE_STORE" one later
check "two archives need no store" env BALE_STORE="$T_TMP/none" "$api" archive "docker-archive:$T_TMP/one.tar"
check "no store was made by that" test ! -e "$T_TMP/none"
check "bad options, a missing image, no store: errors; the store keeps its names" \
  "$api" errors "$BALE_STORE" one "docker-archive:$T_TMP/one.tar"
done_testing
