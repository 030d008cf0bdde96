#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `bale explain` predicts what `docker run` does, failures included: a table of images (built
# by bale, loaded into a private dockerd), each run with `docker run` and with `bale run`;
# explain's argv, outcome and exit status must equal docker's, and bale run's status too.
# TAP output; needs root and docker.io (CI installs it).
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "${top_srcdir:-.}/tests/integration/peers.sh"
set -u

need_root_and python3 dockerd
start_dockerd
busybox_archive "$T_TMP/busybox.tar" || bail "cannot pack busybox"
"$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || bail "bale load of the base failed"
BALE="$BALE" DOCKER_CLI="$DOCKER_CLI" python3 "${top_srcdir:-.}/tests/integration/explain_docker.py" "$T_TMP"
