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
# kill_build PID: SIGKILL, then wait until it and its sandbox (PDEATHSIG) are gone (60 s at
# most, a hang guard; what is left then is named).
kill_build () {
  kill -KILL "$1"; wait "$1" 2> /dev/null
  i=0; while pgrep -f "$BALE_STORE" > /dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
  if pgrep -f "$BALE_STORE" > /dev/null; then echo "still running 60 s after SIGKILL:"; pgrep -af "$BALE_STORE"; return 1; fi
}

killed_run () {
  printf '%s\n' 'FROM busybox' \
    'RUN mkdir -p /w/ro/deep && echo x > /w/ro/deep/f && chmod 0500 /w/ro/deep /w/ro && chmod 0 /w && sleep 60' \
    > "$ctx/Dockerfile"
  "$BALE" build -q --no-cache "$ctx" > /dev/null 2>&1 &
  pid=$!
  wait_for 'sandbox.*/run.*' 30 || { kill -KILL $pid; echo "no tmp/sandbox.*/run.* appeared"; return 1; }
  # The step has made its read-only directories when /w, the last, has mode 0 (30 s guard).
  i=0
  until [ -n "$(find "$tmp"/sandbox.*/run.* -name w -type d -perm 0 2> /dev/null)" ]; do
    [ $i -lt 600 ] || { kill -KILL $pid; echo "the step made no /w of mode 0 in 30 s"; return 1; }
    sleep 0.05; i=$((i + 1))
  done
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

# The step runs until the test creates go in its cache mount; the test does so once bale prune
# waits for gc.lock (a blocked exclusive flock on its inode in /proc/locks, "->"), and checks
# that the build's area is still there at that moment. 60 s hang guards.
live_build_kept () {
  printf '%s\n' 'FROM busybox' \
    'RUN --mount=type=cache,target=/c,id=live echo x > /w && i=0 && while [ ! -e /c/go ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done && cat /w > /done' \
    > "$ctx/Dockerfile"
  rm -rf "$BALE_STORE/cache/live"
  "$BALE" build -q --no-cache -t live "$ctx" > "$T_TMP/live.out" 2>&1 &
  pid=$!
  wait_for 'sandbox.*/run.*' 30 || { echo "no tmp/sandbox.*/run.* appeared"; return 1; }
  area=$(ls -d "$tmp"/sandbox.*/run.*)
  "$BALE" prune > "$T_TMP/out" 2>&1 &
  prune=$!
  ino=$(stat -c %i "$BALE_STORE/gc.lock")
  i=0
  until grep -Eq "^[0-9]+: +-> +FLOCK +ADVISORY +WRITE +[0-9]+ [0-9a-f]+:[0-9a-f]+:$ino " /proc/locks; do
    [ $i -lt 600 ] || { echo "bale prune did not wait for gc.lock in 60 s"; cat /proc/locks; return 1; }
    sleep 0.1; i=$((i + 1))
  done
  [ -d "$area" ] || { echo "prune removed the live build's $area"; return 1; }
  mkdir -p "$BALE_STORE/cache/live" && touch "$BALE_STORE/cache/live/go"
  wait $pid || { cat "$T_TMP/live.out"; return 1; }
  wait $prune || { cat "$T_TMP/out"; return 1; }
  [ "$("$BALE" run live cat /done)" = x ] && [ -z "$(ls -A "$tmp")" ]
}
check "a running build keeps its temporary area while bale prune waits for it" live_build_kept

# store_sound: every blob's bytes match its name, and every image refs.json names has its
# manifest, config and layers (what a kill must never break: blobs are fsync'ed before their
# rename, and refs.json is written after an fsync of blobs/).
store_sound () {
  for f in "$BALE_STORE"/blobs/sha256/*; do
    [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "${f##*/}" ] || { echo "corrupt blob $f"; return 1; }
  done
  for m in $(jq -r '.refs[]' "$BALE_STORE/refs.json"); do
    mf=$BALE_STORE/blobs/sha256/${m#sha256:}
    [ -f "$mf" ] || { echo "missing manifest $m"; return 1; }
    for d in $(jq -r '(.manifests // [])[].digest, (.config.digest // empty), (.layers // [])[].digest' "$mf"); do
      [ -f "$BALE_STORE/blobs/sha256/${d#sha256:}" ] || { echo "$m names a missing blob $d"; return 1; }
    done
  done
}

# SIGKILL at moments spread over a build of many RUN steps (its sandboxes, layers, blobs, cache
# records and snapshots), then the same build again with the cache: it finishes, its image
# runs, bale images lists it, and no image names a missing or corrupt blob.
killed_anywhere () {
  printf 'FROM busybox\n' > "$ctx/Dockerfile"
  for i in $(seq 12); do printf 'RUN echo %s > /f%s\n' "$i" "$i" >> "$ctx/Dockerfile"; done
  for delay in 0.1 0.3 0.6 0.9 1.3 1.8 2.5; do
    "$BALE" build -q --no-cache -t killed "$ctx" > /dev/null 2>&1 &
    pid=$!
    sleep $delay
    kill_build $pid
    store_sound || return 1
  done
  "$BALE" build -q -t killed "$ctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  [ "$("$BALE" run killed cat /f12)" = 12 ] || return 1
  "$BALE" images > "$T_TMP/images" || return 1
  grep -q killed "$T_TMP/images" || { cat "$T_TMP/images"; return 1; }
  store_sound
}
check "a build killed with SIGKILL at any moment leaves a sound store: the next build and bale images work" killed_anywhere

# A RUN step's overlay is mounted volatile (its unmount does not sync), and its upper
# directory becomes the layer's snapshot unsynced: marked with this boot, and unpacked again
# from the blob (fsync'ed) in a later boot, whose crash may have left its files empty.
run_snapshot_earlier_boot () {
  boot=$(cat /proc/sys/kernel/random/boot_id)
  printf '%s\n' 'FROM busybox' 'RUN echo data > /f && mkdir /d && echo x > /d/g && grep overlay /proc/self/mountinfo > /mi' > "$ctx/Dockerfile"
  "$BALE" build -q -t volatile "$ctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  "$BALE" run volatile cat /mi | grep -q 'overlay.*volatile' ||
    { echo "the step's root is not a volatile overlay:"; "$BALE" run volatile cat /mi; return 1; }
  run=$("$BALE" inspect volatile | jq -r '.[0].RootFS.Layers[-1]' | cut -d: -f2)
  snap=$BALE_STORE/snapshots/$run
  [ -f "$snap/boot.$boot" ] || { echo "the RUN layer's snapshot has no mark of this boot:"; ls -la "$snap"; return 1; }
  mv "$snap/boot.$boot" "$snap/boot.00000000-0000-0000-0000-000000000000" || return 1
  : > "$snap/fs/f" && : > "$snap/fs/d/g" || return 1
  # The cached RUN's snapshot is the lower of a new step, mounted with the legacy mount data
  # this time (",volatile" at its end).
  printf 'RUN cat /f /d/g > /seen && grep overlay /proc/self/mountinfo > /mi\n' >> "$ctx/Dockerfile"
  BALE_OVERLAY_LEGACY=1 "$BALE" build -q -t volatile2 "$ctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  "$BALE" run volatile2 cat /mi | grep -q 'overlay.*lowerdir=.*volatile' ||
    { echo "the legacy mount is not volatile:"; "$BALE" run volatile2 cat /mi; return 1; }
  [ "$("$BALE" run volatile2 cat /seen | tr '\n' ' ')" = "data x " ] &&
    [ "$(cat "$snap/fs/f")" = data ] && [ -f "$snap/boot.$boot" ] &&
    [ ! -e "$snap/boot.00000000-0000-0000-0000-000000000000" ] || { ls -la "$snap"; return 1; }
}
check "a RUN step's snapshot, adopted unsynced from its volatile overlay, is unpacked again after a reboot" run_snapshot_earlier_boot

# SIGTERM or SIGINT while a COPY writes its layer (one stage, and two in parallel): the build
# ends with the step's located "interrupted" and exit 1, and leaves nothing behind: no process,
# no mount, nothing in tmp/. bale used to die of the signal there (exit 143), leaving
# tmp/view.* and the blob it was writing, for bale prune to find.
interrupted_copy () {
  "$BALE" prune > /dev/null || return 1 # what the SIGKILLs above left
  mkdir -p "$ctx/big"
  for i in $(seq 40); do head -c 8000000 /dev/zero > "$ctx/big/f$i"; done
  printf '%s\n' 'FROM busybox AS a' 'COPY big /a/' 'FROM busybox AS b' 'COPY big /b/' 'FROM busybox' \
    'COPY --from=a /a /a' 'COPY --from=b /b /b' > "$ctx/Dockerfile.2"
  printf '%s\n' 'FROM busybox' 'COPY big /big/' > "$ctx/Dockerfile"
  for case in TERM:Dockerfile INT:Dockerfile TERM:Dockerfile.2; do
    sig=${case%%:*} df=${case#*:} done=
    for attempt in 1 2 3 4 5; do
      "$BALE" build -q --no-cache -f "$ctx/$df" "$ctx" > "$T_TMP/out" 2>&1 &
      pid=$!
      if wait_for 'view.*' 30; then
        kill -$sig $pid
        wait $pid
        rc=$?
        grep -q "error: interrupted\|Dockerfile.*:[24]:1: error: COPY: interrupted" "$T_TMP/out" && done=1 && break
        [ $rc -eq 0 ] && continue # the COPY ended first
        # The COPY step had completed when bale saw the signal (between steps or after the
        # stages, where no step is left to name): try again. Seen once in 5 runs at load 25.
        [ $rc -eq 1 ] && grep -qx "bale build: interrupted: Interrupted system call" "$T_TMP/out" && continue
        echo "SIG$sig: exit $rc"; cat "$T_TMP/out"; return 1
      fi
      wait $pid
    done
    [ -n "$done" ] || { echo "could not interrupt a COPY with SIG$sig"; return 1; }
    [ $rc -eq 1 ] || { echo "SIG$sig: exit $rc"; return 1; }
    ! pgrep -f "$ctx" > /dev/null || { echo "left running:"; pgrep -af "$ctx"; return 1; }
    ! grep -q "$BALE_STORE" /proc/mounts || { echo "left mounted:"; grep "$BALE_STORE" /proc/mounts; return 1; }
    [ -z "$(ls -A "$tmp")" ] || { echo "SIG$sig left in tmp/:"; ls -la "$tmp"; return 1; }
  done
  store_sound
}
check "SIGTERM or SIGINT during a COPY: a located 'interrupted', exit 1, nothing left behind" interrupted_copy

# SIGINT once a RUN step's key is taken, while its root and mounts are made, before its
# command starts: the build's handler took the signal, and the sandbox, which kills the command
# on a signal it sees itself, ran the command to its end and the build went on (here 120 s, then
# exit 0 and an image). Now the step is not started. The signal is sent once the trace says
# the key was looked up (60 s at most, a hang guard); the build must end within 60 s of it (a
# hang guard too: a second or two at load 20, the command's 120 s when it runs to its end).
interrupted_before_run () {
  d="$T_TMP/intrun" && rm -rf "$d" && mkdir -p "$d/ctx" || return 1
  printf 'FROM busybox\nRUN --mount=type=bind,target=/c sleep 120\n' > "$d/ctx/Dockerfile"
  BALE_TRACE="$d/trace" "$BALE" build -q --no-cache "$d/ctx" > "$d/out" 2>&1 &
  pid=$!
  i=0
  until grep -q 'step: cache looked up' "$d/trace" 2> /dev/null; do
    [ $i -lt 6000 ] || { kill_build $pid; echo "no 'step: cache looked up' in the trace in 60 s"; cat "$d/out"; return 1; }
    sleep 0.01; i=$((i + 1))
  done
  kill -INT $pid
  sent=$(date +%s)
  wait $pid
  rc=$?
  [ $rc = 1 ] && [ $(($(date +%s) - sent)) -lt 60 ] && grep -q "Dockerfile:2:1: error: RUN: interrupted" "$d/out" ||
    { echo "exit $rc $(($(date +%s) - sent)) s after SIGINT"; cat "$d/out"; return 1; }
  [ -z "$(ls -A "$tmp")" ] || { echo "left in tmp/:"; ls -la "$tmp"; return 1; }
}
check "SIGINT after a RUN step's key, before its command: 'interrupted' at once, nothing left behind" interrupted_before_run

done_testing
