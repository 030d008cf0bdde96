#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The differential fuzzer's regression cases (tests/diff-fuzz/cases/NAME, written by
# tests/diff-fuzz/minimise.py from a failing seed): each is built by bale with overlayfs and on
# a copied root (BALE_FORCE_COPY=1); the two images must agree with each other and with the
# case's `expected` description (BuildKit's image, masked as the fuzzer masks it). TAP.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
[ "$(id -u)" = 0 ] || { echo "Bail out! must run as root (bale build needs it)"; exit 1; }
command -v python3 > /dev/null || { echo "Bail out! python3 is not installed"; exit 1; }
busybox_archive "$T_TMP/busybox.tar" || { echo "Bail out! cannot make the busybox base"; exit 1; }
for m in overlay copy; do
  BALE_STORE=$T_TMP/stores/$m "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null ||
    { echo "Bail out! bale load failed"; exit 1; }
done
TMPDIR=$T_TMP BALE_STORE_DIR=$T_TMP/stores BALE=$BALE \
  python3 "$top_srcdir/tests/diff-fuzz/dfz.py" regress "$top_srcdir"/tests/diff-fuzz/cases/*/
