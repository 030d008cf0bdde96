#!/bin/sh
# Paths from Dockerfiles, contexts and images stay inside their own root (issue 14 section 1):
# RUN --mount sources and targets of every type through symlinks to /, to ../../.., chains and
# absolute symlinks in the middle of a path, read-only and rw, with overlayfs and with a
# copied rootfs (BALE_FORCE_COPY=1). A canary directory outside the store must never be read
# (its secret never appears in the build output) nor written.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
C="$T_TMP/canary"
SECRET="CANARY-$$-inroot"
mkdir -p "$C" && echo "$SECRET" > "$C/secret"
canary_sum () { (stat -c '%n %s %Y %Z' "$C" "$C"/* && cat "$C/secret") | md5sum; }
SUM0=$(canary_sum)

df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }
# intact OUTPUT: the canary's secret is not in OUTPUT and the canary directory is as it was.
intact () {
  if grep -q "$SECRET" "$1"; then echo "the canary's secret leaked:"; grep "$SECRET" "$1"; return 1; fi
  [ "$(canary_sum)" = "$SUM0" ] || { echo "the canary directory changed:"; ls -la "$C"; return 1; }
}
# in_modes FN: FN overlay, then FN copy under BALE_FORCE_COPY=1.
in_modes () {
  "$1" overlay || return 1
  BALE_FORCE_COPY=1 "$1" copy
}
# build_out MODE ARGS...: build $ctx, all output in $T_TMP/out.MODE.
build_out () {
  m=$1; shift
  "$BALE" build --no-cache "$@" "$ctx" > "$T_TMP/out.$m" 2>&1
}

STAGE='FROM busybox AS s'
STAGE_RUN="RUN echo stage-s > /marker-s && ln -s / /rootdir && ln -s ../../.. /up && ln -s /l2 /l1 && ln -s ../../../.. /l2 && mkdir /d && ln -s / /d/abs && ln -s $C /tocanary"

# Every shape resolves to the stage's own root: /m shows its marker, never the host's files.
stage_shapes () {
  mode=$1
  lines=""
  k=0
  for src in /rootdir /up /l1 /d/abs/d/abs /d/abs/../../rootdir; do
    for rw in "" ",rw"; do
      k=$((k + 1))
      lines="$lines
RUN --mount=type=bind,from=s,source=$src,target=/m$rw cat /m/marker-s /m$C/secret; echo pwned > /m$C/written; echo pwned > /m/etc/written; ls /m/tocanary/ ; echo > /step$k"
    done
  done
  printf '%s\n%s\nFROM busybox%s\n' "$STAGE" "$STAGE_RUN" "$lines" > "$ctx/Dockerfile"
  build_out "$mode" || { cat "$T_TMP/out.$mode"; return 1; }
  intact "$T_TMP/out.$mode" || return 1
  [ "$(grep -c 'stage-s' "$T_TMP/out.$mode")" -ge 10 ] || { echo "/m was not the stage's root:"; cat "$T_TMP/out.$mode"; return 1; }
}
check "RUN --mount=type=bind,from=stage through symlinks to /, ../../.., chains, mid-path: the stage's root" in_modes stage_shapes

# A source whose in-root resolution does not exist is an error at the RUN's line.
stage_escape_fails () {
  mode=$1
  for src in /tocanary /rootdir$C /up$C/secret /d/abs/../..$C; do
    df "$STAGE" "$STAGE_RUN" 'FROM busybox' "RUN --mount=type=bind,from=s,source=$src,target=/m cat /m/secret /m"
    ! build_out "$mode" || { echo "$src: built"; cat "$T_TMP/out.$mode"; return 1; }
    grep -q "Dockerfile:4:1: error: RUN: --mount=.*not found in 's'" "$T_TMP/out.$mode" ||
      { echo "$src:"; cat "$T_TMP/out.$mode"; return 1; }
    intact "$T_TMP/out.$mode" || return 1
  done
}
check "RUN --mount from a stage: a source that leads to a host path is not found, at the RUN's line" in_modes stage_escape_fails

# The build context: a symlink or .. that leaves it is an error, read-only and rw.
context_escape_fails () {
  mode=$1
  ln -sfn / "$ctx/toroot"
  ln -sfn "$C" "$ctx/tocanary"
  ln -sfn ../../.. "$ctx/up"
  for src in toroot tocanary up ../.. "/../canary" "toroot$C"; do
    for rw in "" ",rw"; do
      df 'FROM busybox' "RUN --mount=type=bind,source=$src,target=/m$rw cat /m/secret; echo pwned > /m/written; true"
      ! build_out "$mode" || { echo "$src$rw: built"; cat "$T_TMP/out.$mode"; return 1; }
      grep -q "Dockerfile:2:1: error: RUN: --mount=.*leads outside the build context" "$T_TMP/out.$mode" ||
        { echo "$src$rw:"; cat "$T_TMP/out.$mode"; return 1; }
      intact "$T_TMP/out.$mode" || return 1
    done
  done
  rm -f "$ctx/toroot" "$ctx/tocanary" "$ctx/up"
}
check "RUN --mount=type=bind from the context: a symlink or .. out of it is a located error" in_modes context_escape_fails

# Targets are created and mounted inside the root, whatever symlinks the image has there.
target_shapes () {
  mode=$1
  echo tok > "$T_TMP/tok"
  df 'FROM busybox' "RUN ln -s $C /tgt && ln -s ../../../../.. /tgt2 && mkdir /in" \
    'RUN --mount=type=tmpfs,target=/tgt/tmp touch /tgt/tmp/x && ls -d /tgt/tmp && echo > /s1' \
    "RUN --mount=type=bind,target=/tgt2$C/ctx touch /tgt2$C/ctx/y 2>/dev/null; ls /tgt2$C/ctx; echo > /s2" \
    'RUN --mount=type=secret,id=tok,target=/tgt/sec cat /tgt/sec && echo > /s3' \
    'RUN --mount=type=cache,id=tc,target=/tgt2/tgt/cache touch /tgt/cache/z && echo > /s4' \
    "RUN --mount=type=bind,from=busybox,source=/bin,target=/tgt/b,rw touch /tgt/b/new && ls $C/b/new && echo > /s5"
  build_out "$mode" --secret id=tok,src="$T_TMP/tok" || { cat "$T_TMP/out.$mode"; return 1; }
  intact "$T_TMP/out.$mode"
}
check "RUN --mount targets (tmpfs, bind, secret, cache, rw) behind symlinks out: created in the root" in_modes target_shapes

# Cache mounts: an id cannot name the store, and a symlink a step left in the cache resolves
# inside the cache.
cache_shapes () {
  mode=$1
  df 'FROM busybox' 'RUN --mount=type=cache,id=..,target=/c ls /c'
  ! build_out "$mode" && grep -q "Dockerfile:2:1: error: RUN: .*cache id '..'" "$T_TMP/out.$mode" ||
    { cat "$T_TMP/out.$mode"; return 1; }
  df 'FROM busybox' "RUN --mount=type=cache,id=k$mode,target=/c ln -sfn / /c/esc && ln -sfn $C /c/can && echo in-cache > /c/mark" \
    "RUN --mount=type=cache,id=k$mode,source=esc,target=/m cat /m/mark /m$C/secret; echo pwned > /m$C/w; echo > /s1" \
    "RUN --mount=type=cache,id=k$mode,source=can,target=/m cat /m/secret; echo pwned > /m/w; echo > /s2"
  build_out "$mode" || { cat "$T_TMP/out.$mode"; return 1; }
  grep -q in-cache "$T_TMP/out.$mode" && intact "$T_TMP/out.$mode"
}
check "RUN --mount=type=cache: id=.. refused, a source through a symlink stays in the cache" in_modes cache_shapes

# WORKDIR through image symlinks: created in the root.
workdir_shapes () {
  mode=$1
  df 'FROM busybox' "RUN ln -s $C /w && ln -s ../../../.. /w2" 'WORKDIR /w/sub' 'RUN touch here && pwd' \
    "WORKDIR /w2$C" 'RUN touch here2 && cat secret; true' 'WORKDIR /proc/self/fd/3' 'RUN ls ../../..'
  ! build_out "$mode" || { cat "$T_TMP/out.$mode"; return 1; }
  grep -q "Dockerfile:8:1: error: RUN" "$T_TMP/out.$mode" &&
    grep -q "working directory '/proc/self/fd/3': Too many levels of symbolic links" "$T_TMP/out.$mode" ||
    { cat "$T_TMP/out.$mode"; return 1; }
  intact "$T_TMP/out.$mode"
}
check "WORKDIR through symlinks out of the image: in the root; /proc/self/fd/N refused" in_modes workdir_shapes

# A process swaps a directory of the stage's snapshot for a symlink to the canary while the
# build prepares its mounts: 100 mounts a build, three builds a mode. The canary is never read
# nor written.
race () {
  mode=$1
  mounts=""
  i=0
  while [ $i -lt 100 ]; do
    mounts="$mounts --mount=type=bind,from=s,source=/d,target=/m$i"
    i=$((i + 1))
  done
  printf '%s\nRUN mkdir /d && echo inside > /d/secret\nFROM busybox\nRUN%s cat /m*/secret; echo pwned > /m7/w; echo %s > /s\n' \
    "$STAGE" "$mounts" "$mode" > "$ctx/Dockerfile"
  "$BALE" build "$ctx" > /dev/null 2>&1 # the stage's snapshot, to find it
  snap=$(dirname "$(grep -l inside "$BALE_STORE"/snapshots/*/d/secret 2>/dev/null | head -1)")
  [ -d "$snap" ] || { echo "no snapshot with /d/secret"; return 1; }
  ( while :; do mv "$snap" "$snap.x" && ln -s "$C" "$snap" && rm "$snap" && mv "$snap.x" "$snap"; done ) 2>/dev/null &
  swapper=$!
  for n in 1 2 3; do
    "$BALE" build --no-cache "$ctx" > "$T_TMP/out.$mode" 2>&1
    intact "$T_TMP/out.$mode" || { kill $swapper; return 1; }
  done
  kill $swapper; wait $swapper 2>/dev/null
  [ -d "$snap" ] || { rm -f "$snap"; mv "$snap.x" "$snap"; }
  intact "$T_TMP/out.$mode"
}
check "a stage directory swapped for a symlink during 300 mount preparations: canary untouched" in_modes race

# An image's /etc/passwd or /etc/group that is a FIFO, a symlink to nothing inside it or too
# big is an error for COPY --chown and USER alike, at the line, and never hangs the build.
account_files () {
  mode=$1
  echo f > "$ctx/f"
  for case in "RUN rm /etc/passwd && mkfifo /etc/passwd|COPY --chown=app f /f|not a regular file" \
    "RUN rm /etc/group && mkfifo /etc/group|COPY --chown=app:staff f /f|not a regular file" \
    "RUN rm /etc/passwd && ln -s $C/secret /etc/passwd|COPY --chown=app f /f|symlink to nothing" \
    "RUN dd if=/dev/zero of=/etc/group bs=1000000 count=5|COPY --chown=app:staff f /f|larger than" \
    "RUN rm /etc/passwd && mkfifo /etc/passwd|USER app|not a regular file"; do
    setup=${case%%|*}; rest=${case#*|}; use=${rest%%|*}; want=${rest#*|}
    df 'FROM busybox' "$setup" "$use" 'RUN echo ran'
    ! timeout 120 "$BALE" build --no-cache "$ctx" > "$T_TMP/out.$mode" 2>&1 ||
      { echo "built: $use after $setup"; cat "$T_TMP/out.$mode"; return 1; }
    grep -q "Dockerfile:[34]:1: error" "$T_TMP/out.$mode" && grep -q "$want" "$T_TMP/out.$mode" ||
      { echo "$setup / $use:"; cat "$T_TMP/out.$mode"; return 1; }
    intact "$T_TMP/out.$mode" || return 1
  done
}
check "a FIFO, dangling-symlink or 5 MB /etc/passwd or /etc/group: an error for COPY --chown and USER" in_modes account_files

# Issue 16 bug 5: a lower layer with `link -> /` (and `etc2 -> /etc`), an upper one with
# `link/.wh..wh..opq` (and `etc2/x`): a merged root without overlayfs must show what overlayfs
# shows (empty link/, etc2/ with x only), never follow the symlink and empty the root.
merged_layers_image () {
  a="$T_TMP/weird"
  rm -rf "$a" && mkdir -p "$a/arch" "$a/l2/dir" "$a/l3/link" "$a/l3/etc2" "$a/bb" || return 1
  busybox_archive "$T_TMP/bb.tar" > /dev/null && tar -C "$a/bb" -xf "$T_TMP/bb.tar" || return 1
  ln -s / "$a/l2/link" && ln -s /etc "$a/l2/etc2" && echo kept > "$a/l2/dir/f"
  : > "$a/l3/link/.wh..wh..opq" && echo x > "$a/l3/etc2/x"
  cp "$a/bb/l/layer.tar" "$a/arch/l1.tar"
  tar -C "$a/l2" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=pax -cf "$a/arch/l2.tar" . &&
    # Only the files, not their directories: the layer names link/ and etc2/ as parents only.
    tar -C "$a/l3" --owner=0 --group=0 --numeric-owner --mtime=@0 --format=pax --no-recursion \
      -cf "$a/arch/l3.tar" ./link/.wh..wh..opq ./etc2/x || return 1
  ids=""
  for l in l1 l2 l3; do ids="$ids${ids:+,}\"sha256:$(sha256sum "$a/arch/$l.tar" | cut -d' ' -f1)\""; done
  printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/bin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$(dpkg --print-architecture 2>/dev/null || echo amd64)" "$ids" > "$a/arch/config.json"
  printf '[{"Config":"config.json","RepoTags":["weird:latest"],"Layers":["l1.tar","l2.tar","l3.tar"]}]\n' > "$a/arch/manifest.json"
  tar -C "$a/arch" -cf "$a.tar" . && "$BALE" load -i "$a.tar" > /dev/null
}
merged_layers () {
  merged_layers_image || { echo "cannot make the image"; return 1; }
  df 'FROM weird' 'RUN test -x /bin/sh && ls -A /link > /link.ls && ls -A /etc2 > /etc2.ls && cat /dir/f'
  for mode in overlay copy; do
    if [ $mode = copy ]; then export BALE_FORCE_COPY=1; fi
    "$BALE" build --no-cache --source-date-epoch 1700000000 -t "w-$mode" "$ctx" > "$T_TMP/out.w" 2>&1; st=$?
    unset BALE_FORCE_COPY
    [ $st = 0 ] || { echo "$mode:"; cat "$T_TMP/out.w"; return 1; }
  done
  "$BALE" diff w-overlay w-copy > "$T_TMP/diff" 2>&1 || { cat "$T_TMP/diff"; return 1; }
  "$BALE" run w-copy cat /link.ls /etc2.ls > "$T_TMP/ls" 2>&1 && [ "$(cat "$T_TMP/ls")" = x ] ||
    { echo "link/ and etc2/ as the copy shows them:"; cat "$T_TMP/ls"; return 1; }
}
check "a lower 'link -> /' under an upper 'link/.wh..wh..opq': the same image with and without overlayfs" merged_layers

done_testing
