#!/bin/sh
# The image functions of libbale (include/bale/image.h) as an embedder calls them, through
# the shared library (tests/helpers/api_images.c): details, removal, prune, cache why,
# registry options and credentials, binfmt.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store || { echo "Bail out! cannot load the busybox base"; exit 1; }
api="$top_builddir/tests/helpers/api_images"
check "bale_image_details_get agrees with bale_images_list and counts sizes as docker does" \
  "$api" details "$BALE_STORE" busybox
check "bale_images_remove reports the names removed, keeps a named image, stops at a missing one" \
  "$api" remove "$BALE_STORE" busybox
check "the image and its name are still there after the removals" \
  sh -c "'$BALE' inspect busybox > /dev/null && ! '$BALE' inspect api/second:1 > /dev/null 2>&1"
check "bale_cache_why: an image has its own layers" "$api" why "$BALE_STORE" busybox
check "bale_store_prune reports the untagged names and the space" "$api" prune "$BALE_STORE"
check "busybox survives a prune (it is named)" sh -c "'$BALE' inspect busybox > /dev/null"
check "registry options are checked, domains normalised, logout of nothing fails" \
  "$api" registry "$T_TMP"
host="linux/$(dpkg --print-architecture | sed 's/^i386$/386/')"
check "bale_binfmt_status: this machine's platform ($host) runs natively" "$api" binfmt "$host"
done_testing
