#!/bin/sh
# A build killed with SIGKILL in the middle of a RUN or a COPY leaves its temporary areas in the
# store (tmp/sandbox.*/run.<pid>, tmp/view.*, with what the step wrote, read-only directories included);
# `bale prune` must reclaim them and never fail on them, and must not touch the area of a
# build that is still running (it waits for it: builds hold gc.lock shared).
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
tmp=$BALE_STORE/tmp

# wait_for GLOB SECONDS: until an entry of tmp/ matches GLOB (and is not empty).
wait_for () {
  i=0
  while [ $i -lt $(($2 * 20)) ]; do
    for d in "$tmp"/$1; do [ -d "$d" ] && [ -n "$(ls -A "$d" 2> /dev/null)" ] && return 0; done
    sleep 0.05; i=$((i + 1))
  done
  return 1
}
# kill_build PID: SIGKILL, then wait until it and its sandbox (PDEATHSIG) are gone.
kill_build () {
  kill -KILL "$1"; wait "$1" 2> /dev/null
  i=0; while pgrep -f "$BALE_STORE" > /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

killed_run () {
  printf '%s\n' 'FROM busybox' \
    'RUN mkdir -p /w/ro/deep && echo x > /w/ro/deep/f && chmod 0500 /w/ro/deep /w/ro && chmod 0 /w && sleep 60' \
    > "$ctx/Dockerfile"
  "$BALE" build -q --no-cache "$ctx" > /dev/null 2>&1 &
  pid=$!
  wait_for 'sandbox.*/run.*' 30 && sleep 1 || { kill -KILL $pid; echo "no tmp/sandbox.*/run.* appeared"; return 1; }
  kill_build $pid
  ls -d "$tmp"/sandbox.*/run.* > /dev/null || { echo "the killed RUN left nothing to reclaim"; return 1; }
  "$BALE" prune > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  [ -z "$(ls -A "$tmp")" ] || { echo "left in tmp/:"; ls -la "$tmp"; return 1; }
}
check "bale prune reclaims the temporary area of a RUN killed with SIGKILL" killed_run

killed_copy () {
  mkdir -p "$ctx/big"
  for i in $(seq 40); do head -c 8000000 /dev/zero > "$ctx/big/f$i"; done
  printf '%s\n' 'FROM busybox' 'COPY big /big/' > "$ctx/Dockerfile"
  for attempt in 1 2 3 4 5; do
    "$BALE" build -q --no-cache "$ctx" > /dev/null 2>&1 &
    pid=$!
    if wait_for 'view.*' 30; then kill_build $pid; ls -d "$tmp"/view.* > /dev/null 2>&1 && break; fi
    wait $pid 2> /dev/null
  done
  ls -d "$tmp"/view.* > /dev/null || { echo "could not kill a COPY while tmp/view.* existed"; return 1; }
  "$BALE" prune > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  [ -z "$(ls -A "$tmp")" ] || { echo "left in tmp/:"; ls -la "$tmp"; return 1; }
}
check "bale prune reclaims the temporary area of a COPY killed with SIGKILL" killed_copy

live_build_kept () {
  printf '%s\n' 'FROM busybox' 'RUN echo x > /w && sleep 4 && cat /w > /done' > "$ctx/Dockerfile"
  "$BALE" build -q --no-cache -t live "$ctx" > "$T_TMP/live.out" 2>&1 &
  pid=$!
  wait_for 'sandbox.*/run.*' 30 || { echo "no tmp/sandbox.*/run.* appeared"; return 1; }
  area=$(ls -d "$tmp"/sandbox.*/run.*)
  "$BALE" prune > "$T_TMP/out" 2>&1 &
  prune=$!
  sleep 1
  [ -d "$area" ] || { echo "prune removed the live build's $area"; return 1; }
  wait $pid || { cat "$T_TMP/live.out"; return 1; }
  wait $prune || { cat "$T_TMP/out"; return 1; }
  [ "$("$BALE" run live cat /done)" = x ] && [ -z "$(ls -A "$tmp")" ]
}
check "a running build keeps its temporary area while bale prune waits for it" live_build_kept

done_testing
