#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The differential fuzzer against docker's BuildKit: one private dockerd for the whole run,
# the busybox base loaded into it and into bale's stores, an ssh-agent for RUN --mount=type=ssh,
# then tests/diff-fuzz/dfz.py builds and compares every seed (TAP output, one test a seed).
#
#   SEEDS=1-300 [JOBS=2] [DFZ_OUT=DIR] tests/diff-fuzz/fuzz.sh      (or: make fuzz-diff SEEDS=N)
#
# A seed whose divergence matches a signature of a known finding (tests/diff-fuzz/FINDINGS.md)
# is `not ok ... # TODO known: NAME`; any other divergence fails. DFZ_OUT keeps the results
# (results.log, and fail/SEED/ with case.json, the diff and the logs); by default they go with
# the scratch directory. Needs root.

set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"

need_root_and dockerd python3 ssh-agent
top_srcdir=$(cd "$top_srcdir" && pwd)
SEEDS=${SEEDS:-1-20}
JOBS=${JOBS:-2}
out=${DFZ_OUT:-$T_TMP/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

start_dockerd
busybox_store || bail "cannot make the busybox base"
docker load -i "$T_TMP/busybox.tar" > /dev/null || bail "docker load of the busybox base failed"
for m in overlay copy; do
  BALE_STORE=$T_TMP/stores/$m "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null ||
    bail "bale load of the busybox base failed"
done
eval "$(ssh-agent -s -a "$T_TMP/agent.sock")" > /dev/null || bail "ssh-agent did not start"
stop_agent () { kill "$SSH_AGENT_PID" 2> /dev/null; }
trap 'stop_agent; cleanup_peers' EXIT

BALE_STORE_DIR=$T_TMP/stores BALE=$BALE python3 "$top_srcdir/tests/diff-fuzz/dfz.py" run --tap \
  --seeds "$SEEDS" --jobs "$JOBS" --out "$out"
