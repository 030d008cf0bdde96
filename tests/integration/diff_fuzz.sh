#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The differential fuzzer's fixed seeds (about five minutes on two cores): each generated
# Dockerfile is built by bale (overlay and copied-rootfs modes) and by docker's BuildKit and
# compared (tests/diff-fuzz/fuzz.sh). `make fuzz-diff SEEDS=N` runs more.
: "${top_srcdir:=.}"
SEEDS=${DFZ_CI_SEEDS:-1-60} exec sh "$top_srcdir/tests/diff-fuzz/fuzz.sh"
