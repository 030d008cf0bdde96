#!/bin/sh
# Deep layer stacks: the overlay of a step's view takes one "lowerdir+" per layer, so a stack
# longer than a page of mount options still mounts (a COPY on 44 layers failed with ENOENT in a
# store under /tmp/rb/w: the kernel cut the options at 4096 bytes). Docker's overlay2 stacks at
# most 128 layers under a step ("max depth exceeded"), and bale stops at the same step.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store

# copies N: a Dockerfile of N COPY steps on busybox (one layer), then RUN.
copies () {
  rm -rf "$ctx" && mkdir -p "$ctx"
  { echo 'FROM busybox'
    i=0
    while [ $i -lt "$1" ]; do echo $i > "$ctx/f$i"; echo "COPY f$i /f$i"; i=$((i + 1)); done
    echo 'RUN ls / | grep -c "^f" > /count'
    echo 'COPY f0 /g0'; } > "$ctx/Dockerfile"
}

deep_stack () {
  copies 60
  "$BALE" build -q -t deep "$ctx" > "$T_TMP/out" 2>&1 || { tail -5 "$T_TMP/out"; return 1; }
  [ "$("$BALE" run deep cat /count)" = 60 ] && [ "$("$BALE" run deep cat /g0)" = 0 ]
}
check "60 COPY steps, a RUN and a COPY on them build" deep_stack

# A kernel without lowerdir+ (before 6.8): COPY's view is merged by hand when the options
# would not fit in a page, and RUN says why it cannot mount the overlay.
legacy_kernel () {
  copies 50
  BALE_OVERLAY_LEGACY=1 "$BALE" build -q --no-cache "$ctx" > "$T_TMP/out" 2>&1 && return 1
  grep -q "51 layers make the overlay's options longer than a page, and the kernel has no lowerdir+" "$T_TMP/out" &&
    grep -q "Dockerfile:52:1: error: RUN: the step could not run" "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  sed -i '/^RUN/d' "$ctx/Dockerfile"
  BALE_OVERLAY_LEGACY=1 "$BALE" build -q --no-cache -t legacy "$ctx" > "$T_TMP/out" 2>&1 || { tail -5 "$T_TMP/out"; return 1; }
  [ "$("$BALE" run legacy cat /f49)" = 49 ]
}
check "without lowerdir+: COPY merges a deep stack, RUN says why it cannot mount it" legacy_kernel

max_depth () {
  copies 130
  "$BALE" build -q -t toodeep "$ctx" > "$T_TMP/out" 2>&1 && return 1
  grep -q "Dockerfile:130:1: error: COPY: max depth exceeded: the image has 129 layers, and Docker stacks at most 128 under a step" "$T_TMP/out" ||
    { cat "$T_TMP/out"; return 1; }
  ! "$BALE" images | grep -q toodeep
}
check "a step on 129 layers: max depth exceeded, located, as Docker's overlay2 says" max_depth

# A chain of 400 stages, each FROM the one before: one stage can start at a time, and it runs
# in bale's own process. A process for each took 13 s at load 12 (most of it fork copying page
# tables that grow with the stages done); now 0.2 s idle, 0.9 s at load 20, more under ASan, so
# a time limit cannot tell the two apart on a loaded machine: strace counts the processes and
# threads the build makes (2 now, 400 with a fork per stage). 120 s is a hang guard.
stage_chain () {
  python3 -c 'import sys; sys.stdout.write("FROM busybox AS s0\n" + "".join(f"FROM s{i-1} AS s{i}\nLABEL a=s{i}\n" for i in range(1, 400)))' > "$ctx/Dockerfile"
  # LeakSanitizer cannot run under a tracer (the sanitizer build of .ci/run).
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 120 \
    strace -f -qq -e trace=clone,clone3,fork,vfork -o "$T_TMP/chain.trace" \
    "$BALE" build -q --no-cache -t chain "$ctx" > "$T_TMP/out" 2>&1 || { tail -3 "$T_TMP/out"; return 1; }
  n=$(grep -cE '^[0-9]+ +(clone3?|v?fork)\(' "$T_TMP/chain.trace")
  "$BALE" inspect chain | grep -q '"a": "s399"' && [ "$n" -lt 40 ] ||
    { echo "400 stages made $n processes or threads:"; head -5 "$T_TMP/chain.trace"; return 1; }
}
check "a chain of 400 stages runs in bale's own process, not one per stage" stage_chain

# A full store (a 12 MB tmpfs, in a mount namespace of the test's own): the step that fills it
# fails at its line with the errno, nothing is left in tmp/, the store stays sound and the next
# build works. COPY's error had no location, RUN's had no reason ("cannot write the layer").
full_store () {
  unshare -m sh -s "$BALE" "$T_TMP" << 'SH'
set -e
BALE=$1 T=$2
mkdir -p "$T/small" "$T/c" && mount -t tmpfs -o size=12m tmpfs "$T/small"
export BALE_STORE="$T/small/store"
"$BALE" load -i "$T/busybox.tar" > /dev/null
head -c 6000000 /dev/urandom > "$T/c/big"
printf 'FROM busybox\nCOPY big /big\nRUN cp /big /big2\n' > "$T/c/Dockerfile"
! "$BALE" build -q "$T/c" > "$T/out" 2>&1
grep -q "Dockerfile:2:1: error: COPY: .*: No space left on device" "$T/out" || { cat "$T/out"; exit 1; }
head -c 2500000 /dev/urandom > "$T/c/big"
! "$BALE" build -q "$T/c" > "$T/out" 2>&1
grep -q "Dockerfile:3:1: error: RUN: cannot write the layer: No space left on device" "$T/out" || { cat "$T/out"; exit 1; }
# Without overlayfs the step's root is a copy of the layers, which fills the store too.
! BALE_FORCE_COPY=1 "$BALE" build -q "$T/c" > "$T/out" 2>&1
grep -q "Dockerfile:3:1: error: RUN: .*No space left on device" "$T/out" || { cat "$T/out"; exit 1; }
[ -z "$(ls -A "$BALE_STORE/tmp")" ] || { ls -la "$BALE_STORE/tmp"; exit 1; }
"$BALE" images | grep -q '^busybox '
for f in "$BALE_STORE"/blobs/sha256/*; do
  [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "${f##*/}" ] || { echo "corrupt blob $f"; exit 1; }
done
"$BALE" prune > /dev/null
printf 'FROM busybox\nRUN echo ok > /ok\n' > "$T/c/Dockerfile"
"$BALE" build -q -t after "$T/c" > "$T/out" 2>&1 || { cat "$T/out"; exit 1; }
[ "$("$BALE" run after cat /ok)" = ok ]
SH
}
check "a full store: the step's located error with ENOSPC, a sound store, the next build works" full_store

# A store on a read-only file system (a read-only bind mount, in a mount namespace of the
# test's own): the commands that only read it work (they used to fail on opening the lock
# file), those that write say EROFS and exit 1.
read_only_store () {
  printf 'FROM busybox\nRUN echo ro > /ro\n' > "$ctx/Dockerfile"
  "$BALE" build -q -t ro "$ctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  unshare -m sh -s "$BALE" "$T_TMP" "$BALE_STORE" "$ctx" << 'SH'
set -e
BALE=$1 T=$2 ctx=$4
mkdir -p "$T/ro" && mount --bind "$3" "$T/ro" && mount -o remount,bind,ro "$T/ro"
export BALE_STORE="$T/ro"
"$BALE" images | grep -q '^ro '
"$BALE" inspect ro > /dev/null
"$BALE" save ro | tar -t | grep -q manifest.json
for cmd in "build -q --no-cache $ctx" "tag ro ro2" "rmi ro" "prune"; do
  if "$BALE" $cmd > "$T/out" 2>&1; then echo "bale $cmd succeeded on a read-only store"; exit 1; fi
  grep -q "Read-only file system" "$T/out" || { echo "bale $cmd:"; cat "$T/out"; exit 1; }
done
SH
}
check "a read-only store: images, inspect and save work, writers fail with EROFS" read_only_store

done_testing
