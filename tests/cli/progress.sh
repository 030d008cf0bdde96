#!/bin/sh
# --progress: BuildKit's plain lines, rawjson read by jq, quiet, the tty view in a tmux
# pseudo-terminal (live frame, then the same summary as plain), events of parallel stages.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store

df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }
# plain ARGS: a plain build of $ctx, stderr in $T_TMP/err, stdout in $T_TMP/out.
plain () { "$BALE" build --progress=plain "$@" "$ctx" > "$T_TMP/out" 2> "$T_TMP/err"; }
has () { grep -q -- "$1" "$T_TMP/err" || { echo "missing: $1"; cat "$T_TMP/err"; return 1; }; }
# The summary block: from "[+] Building" to the end, timers replaced by T.
summary () { sed -n '/^\[+\] Building.*FINISHED/,$p' "$1" | sed -E 's/[0-9]+\.[0-9]+s/T/g; s/ +T$/ T/; s/sha256:[0-9a-f]{64}/D/g'; }

echo hello > "$ctx/hello.txt"
df 'FROM busybox' 'ARG MSG=hi' 'COPY hello.txt /hello.txt' 'RUN echo "$MSG" out; echo to-err >&2'

plain_lines () {
  plain -t p1 || { cat "$T_TMP/err"; return 1; }
  has '^#1 \[internal\] load build definition from Dockerfile$' &&
    has '^#1 transferring dockerfile: [0-9]*B done$' &&
    has '^#[0-9]* \[internal\] load metadata for docker.io/library/busybox:latest$' &&
    has '^#[0-9]* \[1/3\] FROM docker.io/library/busybox:latest@sha256:[0-9a-f]\{64\}$' &&
    has '^#[0-9]* \[2/3\] COPY hello.txt /hello.txt$' &&
    has '^#[0-9]* \[3/3\] RUN echo "hi" out; echo to-err >&2$' &&
    has '^#[0-9]* [0-9]\.[0-9][0-9][0-9] hi out$' && has '^#[0-9]* [0-9]\.[0-9][0-9][0-9] to-err$' &&
    has '^#[0-9]* DONE [0-9]*\.[0-9]s$' &&
    has '^#[0-9]* exporting to image$' && has '^#[0-9]* naming to docker.io/library/p1:latest done$' &&
    has '^\[+\] Building [0-9.]*s (8/8) FINISHED$' &&
    has '^ => \[3/3\] RUN echo "hi" out; echo to-err >&2  *[0-9]*\.[0-9]s$' &&
    grep -q '^sha256:' "$T_TMP/out" && [ "$(wc -l < "$T_TMP/out")" -eq 1 ]
}
check "plain: BuildKit's vertex, log, status, DONE lines and the summary" plain_lines

numbering () {
  # Vertex numbers follow print order, every block starts with its name line.
  plain -t p1 || return 1
  nums=$(grep -o '^#[0-9]* \[' "$T_TMP/err" | tr -d '#[ ' | tr '\n' ' ')
  [ "$nums" = "$(seq 1 "$(echo "$nums" | wc -w)" | tr '\n' ' ')" ] || { echo "numbers: $nums"; cat "$T_TMP/err"; return 1; }
  n=$(sed -n 's/^#\([0-9]*\) \[2\/3\] COPY hello.txt \/hello.txt$/\1/p' "$T_TMP/err")
  has "^#$n CACHED$" && has "^#$((n + 1)) CACHED$" &&
    has '^ => CACHED \[3/3\] RUN echo "hi" out; echo to-err >&2 '
}
check "plain: a rebuild says CACHED, numbers in print order" numbering

failing () {
  df 'FROM busybox' 'RUN echo before; exit 3'
  ! plain -t p2 || return 1
  has '^#[0-9]* \[2/2\] RUN echo before; exit 3$' && has '^#[0-9]* ERROR: RUN returned exit code 3' &&
    has '^ => ERROR \[2/2\] RUN echo before; exit 3 ' && has '^------$' &&
    has '^ > \[2/2\] RUN echo before; exit 3:$' && has '^before$' &&
    has 'Dockerfile:2:1: error: RUN returned exit code 3' &&
    ! grep -q 'exporting to image' "$T_TMP/err"
}
check "plain: a failing step: ERROR line, its logs after the summary, the located error" failing

df 'FROM busybox AS a' 'RUN echo from-a' 'FROM busybox AS b' 'RUN echo from-b | tee /b' 'FROM a' 'COPY --from=b /b /b'
parallel () {
  plain --no-cache -t p3 || { cat "$T_TMP/err"; return 1; }
  has '^#[0-9]* \[a 2/2\] RUN echo from-a$' && has '^#[0-9]* \[b 2/2\] RUN echo from-b | tee /b$' &&
    has '^#[0-9]* [0-9.]* from-a$' && has '^#[0-9]* [0-9.]* from-b$' &&
    has '^#[0-9]* \[stage-2 1/1\] COPY --from=b /b /b$' && has '^\[+\] Building .* FINISHED$'
}
check "parallel stages: events of the child processes reach the renderer" parallel

rawjson () {
  "$BALE" build --progress=rawjson --no-cache -t p3 "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  # Every line is one JSON object (jq reads them as a stream); vertices carry digest, name, times.
  jq -e -s 'length > 10 and all(.[]; type == "object")' "$T_TMP/err" > /dev/null &&
    jq -e -s '[.[].vertexes // [] | .[] | select(.name == "[a 2/2] RUN echo from-a" and .completed != null
               and .started != null and (.digest | startswith("sha256:")))] | length == 1' "$T_TMP/err" > /dev/null &&
    [ "$(jq -r 'select(.logs) | .logs[].data' "$T_TMP/err" | base64 -d | grep -c '^from-[ab]$')" -eq 2 ] &&
    jq -e -s '[.[].statuses // [] | .[] | select(.id == "transferring dockerfile:" and .current > 0)] | length == 1' "$T_TMP/err" > /dev/null &&
    ! grep -q '^#' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}
check "rawjson: one SolveStatus object per line, logs base64, statuses with bytes" rawjson

quiet () {
  "$BALE" build --progress=quiet -t p3 "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" &&
    [ ! -s "$T_TMP/err" ] && grep -q '^sha256:' "$T_TMP/out" &&
    "$BALE" build -q -t p3 "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" && [ ! -s "$T_TMP/err" ] || return 1
  ! "$BALE" build -q --progress=plain "$ctx" 2> "$T_TMP/err" && has 'cannot be used together' &&
    ! "$BALE" build --progress=fancy "$ctx" 2> "$T_TMP/err" && has "invalid progress mode 'fancy'" &&
    ! "$BALE" build --progress=tty "$ctx" 2> "$T_TMP/err" < /dev/null && has 'failed to get console' &&
    BUILDKIT_PROGRESS=rawjson "$BALE" build -t p3 "$ctx" 2> "$T_TMP/err" > /dev/null && head -1 "$T_TMP/err" | jq -e .vertexes > /dev/null
}
check "quiet and -q print the ID alone; bad modes fail; BUILDKIT_PROGRESS picks auto's mode" quiet

stdin_context () {
  tar -C "$ctx" -cf "$T_TMP/ctx.tar" Dockerfile hello.txt &&
    "$BALE" build --progress=plain -t p3 - < "$T_TMP/ctx.tar" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  size=$(python3 -c 'import os,sys; print("%.2fkB" % (os.path.getsize(sys.argv[1]) / 1000))' "$T_TMP/ctx.tar")
  has '^#1 \[internal\] load remote build context$' && has "^#1 transferring context: $size done\$"
}
check "plain: a context on stdin says how many bytes came (transferring context: N)" stdin_context

# tty: in a tmux pane (a real pseudo-terminal), NO_COLOR set; a slow step shows its output
# live, and what stays on screen at the end is the summary plain mode prints.
# The two stages' steps run (BALE_JOBS=2, whatever the number of CPUs) until the test has seen
# the frames it looks for and creates go in their cache mount (120 s at most, a hang guard):
# no race between the steps' durations and the frames a loaded machine draws. tty.sh writes
# the exit status to tty.rc, then END on the terminal: once the pane shows END, tmux has read
# everything bale wrote before.
tty_view () {
  command -v tmux > /dev/null || { echo "tmux is missing"; return 1; }
  wait_go='i=0; while [ ! -e /c/go ] && [ $i -lt 400 ]; do'
  df 'FROM busybox AS a' "RUN --mount=type=cache,target=/c,id=tty $wait_go echo tick\$i; sleep 0.3; i=\$((i+1)); done" \
     'FROM busybox AS b' "RUN --mount=type=cache,target=/c,id=tty echo other > /o; $wait_go sleep 0.3; i=\$((i+1)); done" \
     'FROM a' 'COPY --from=b /o /o'
  rm -rf "$BALE_STORE/cache/tty"
  sock="$T_TMP/tmux.sock"
  cat > "$T_TMP/tty.sh" << EOF
export BALE_STORE='$BALE_STORE' NO_COLOR=1 BALE_JOBS=2
'$BALE' build --no-cache -t tt '$ctx' > '$T_TMP/tty.id'
echo "rc=\$?" > '$T_TMP/tty.rc'
echo END
sleep 600
EOF
  # ended: wait (120 s at most) until the pane shows END.
  ended () {
    for i in $(seq 1 600); do
      tmux -S "$sock" capture-pane -p | grep -q '^END$' && return 0
      sleep 0.2
    done
    echo "tty.sh did not end in 120 s"; tmux -S "$sock" capture-pane -p; return 1
  }
  tmux -S "$sock" new-session -d -x 120 -y 50 "sh '$T_TMP/tty.sh'" || return 1
  live="" both=""
  for i in $(seq 1 600); do
    tmux -S "$sock" capture-pane -p > "$T_TMP/frame"
    grep -q '^ => => # tick[0-9]' "$T_TMP/frame" && grep -q '^\[+\] Building [0-9.]*s ([0-9]*/[0-9]*)$' "$T_TMP/frame" && live=yes
    # the parallel stages side by side in one live frame, each with its timer
    grep -q '^\[+\] Building [0-9.]*s ([0-9]*/[0-9]*)$' "$T_TMP/frame" &&
      grep -q '^ => \[a 2/2\] RUN --mount=type=cache.* [0-9]*\.[0-9]s$' "$T_TMP/frame" &&
      grep -q '^ => \[b 2/2\] RUN --mount=type=cache.* [0-9]*\.[0-9]s$' "$T_TMP/frame" && both=yes
    [ -n "$live" ] && [ -n "$both" ] && break
    [ -f "$T_TMP/tty.rc" ] && break
    sleep 0.2
  done
  mkdir -p "$BALE_STORE/cache/tty" && touch "$BALE_STORE/cache/tty/go"
  ended || { tmux -S "$sock" kill-server; return 1; }
  tmux -S "$sock" capture-pane -p -e -J > "$T_TMP/screen"
  tmux -S "$sock" kill-server
  [ "$live" = yes ] || { echo "no live frame with output lines"; cat "$T_TMP/frame"; return 1; }
  [ "$both" = yes ] || { echo "no live frame with both parallel stages"; cat "$T_TMP/frame"; return 1; }
  grep -q 'rc=0' "$T_TMP/tty.rc" || { cat "$T_TMP/screen"; return 1; }
  ! grep -q "$(printf '\033')\[3[0-9]m" "$T_TMP/screen" || { echo "colours despite NO_COLOR"; return 1; }
  # The same build (all cached now) in plain mode, and in the tty once more: what stays on
  # the screen is the plain summary alone (the live frames were erased).
  "$BALE" build --progress=plain -t tt "$ctx" 2> "$T_TMP/plain" > /dev/null || return 1
  sed -i 's/--no-cache //' "$T_TMP/tty.sh"
  rm -f "$T_TMP/tty.rc"
  tmux -S "$sock" new-session -d -x 120 -y 50 "sh '$T_TMP/tty.sh'" || return 1
  ended || { tmux -S "$sock" kill-server; return 1; }
  # The visible screen: tmux (scroll-on-clear) keeps erased frames in its history.
  tmux -S "$sock" capture-pane -p -J | sed -e '/^END$/d' -e '/^$/d' > "$T_TMP/screen"
  tmux -S "$sock" kill-server
  # Parallel stages may start in either order: compare the lines as sets.
  summary "$T_TMP/screen" | sort > "$T_TMP/s.tty"
  summary "$T_TMP/plain" | sort > "$T_TMP/s.plain"
  [ -s "$T_TMP/s.plain" ] && diff "$T_TMP/s.plain" "$T_TMP/s.tty" &&
    head -1 "$T_TMP/screen" | grep -q '^\[+\] Building [0-9.]*s ([0-9]*/[0-9]*) FINISHED$' ||
    { cat "$T_TMP/screen"; return 1; }
}
check "tty: a live frame with the running steps' output, parallel stages side by side, then the plain summary, no colour with NO_COLOR" tty_view

# Colours only on a terminal: the tty view (a pseudo-terminal from script(1), NO_COLOR unset)
# paints finished steps (BuildKit's blue); auto without a terminal is plain, without a single
# escape sequence.
tty_colours () {
  command -v script > /dev/null || { echo "script (util-linux) is missing"; return 1; }
  df 'FROM busybox' 'RUN echo colour'
  env -u NO_COLOR script -qec "'$BALE' build --no-cache --progress=tty -t tc '$ctx'" /dev/null > "$T_TMP/typescript" 2>&1 ||
    { cat "$T_TMP/typescript"; return 1; }
  grep -q "$(printf '\033')\[34m" "$T_TMP/typescript" || { echo "no colour on a terminal"; cat -v "$T_TMP/typescript"; return 1; }
  env -u NO_COLOR "$BALE" build --no-cache -t tc "$ctx" > /dev/null 2> "$T_TMP/auto" || { cat "$T_TMP/auto"; return 1; }
  grep -q '^#[0-9]* DONE ' "$T_TMP/auto" && ! grep -q "$(printf '\033')" "$T_TMP/auto" ||
    { echo "auto without a terminal:"; cat -v "$T_TMP/auto"; return 1; }
}
check "colours on a terminal only: the tty view paints, auto without a terminal is plain with no escapes" tty_colours

done_testing
