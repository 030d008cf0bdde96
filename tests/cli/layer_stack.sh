#!/bin/sh
# Stacks in which a layer occurs more than once: steps that change nothing or the same thing
# give the same layer, and a base image can repeat its layers. overlayfs refuses the same
# lower directory twice, so bale lists each snapshot once, at its topmost place; every case is
# built with overlayfs and with BALE_FORCE_COPY=1 (merged views, copied root), which must give
# the same image (same ID under --source-date-epoch).
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
echo a > "$ctx/a.txt"
echo b > "$ctx/b.txt"
echo c > "$ctx/c.txt"

# df LINES...: write the context's Dockerfile.
df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }
# both NAME: build $ctx as NAME (overlayfs) and NAME-copy (BALE_FORCE_COPY=1), reproducibly:
# the two image IDs must be equal.
both () {
  "$BALE" build -q --no-cache --source-date-epoch 1600000000 -t "$1" "$ctx" > "$T_TMP/id1" 2> "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
  BALE_FORCE_COPY=1 "$BALE" build -q --no-cache --source-date-epoch 1600000000 -t "$1-copy" "$ctx" \
    > "$T_TMP/id2" 2> "$T_TMP/err" || { echo "BALE_FORCE_COPY=1:"; cat "$T_TMP/err"; return 1; }
  cmp -s "$T_TMP/id1" "$T_TMP/id2" || { echo "overlay $(cat "$T_TMP/id1") != copy $(cat "$T_TMP/id2")"; return 1; }
}
# layers IMAGE: its diff_ids, one a line.
diff_ids () { "$BALE" inspect "$1" | tr -d ' \n' | sed 's/.*"Layers":\[\([^]]*\)\].*/\1/' | tr -d '"' | tr ',' '\n'; echo; }
# expect_run WANT IMAGE ARGS...: bale run prints exactly WANT, in both modes.
expect_run () {
  want=$1; shift
  for mode in 0 1; do
    got=$(BALE_FORCE_COPY=$mode "$BALE" run "$@" 2>&1)
    [ "$got" = "$want" ] || { echo "BALE_FORCE_COPY=$mode bale run $*: got [$got], want [$want]"; return 1; }
  done
}

same_runs () {
  df 'FROM busybox' 'RUN echo one' 'RUN echo two' 'RUN echo three' 'RUN echo four > /four'
  both runs || return 1
  diff_ids runs:latest > "$T_TMP/l"
  [ "$(wc -l < "$T_TMP/l")" = 5 ] && [ "$(sed -n 2,4p "$T_TMP/l" | sort -u | wc -l)" = 1 ] ||
    { echo "want three equal RUN layers:"; cat "$T_TMP/l"; return 1; }
  expect_run four runs:latest cat /four
}
check "RUN echo one, two, three: three equal layers, then a fourth RUN on them" same_runs

same_copies () {
  df 'FROM busybox' 'COPY a.txt /x/a.txt' 'COPY a.txt /x/a.txt' 'COPY b.txt /b' 'WORKDIR /x' \
    'RUN cat /x/a.txt /b > /ab'
  both copies && expect_run "a
b" copies:latest cat /ab
}
check "the same COPY twice, then another COPY, WORKDIR and RUN" same_copies

# Bottom first L1 L2 L1: the top L1 must win over L2 (keeping the lower L1 would give b).
top_wins () {
  df 'FROM busybox AS s' 'COPY a.txt /x/a.txt' 'COPY b.txt /x/a.txt' 'COPY a.txt /x/a.txt' \
    'RUN cat /x/a.txt > /seen' 'FROM busybox' 'COPY --from=s /x/a.txt /seen /got/'
  both topwins || return 1
  expect_run "a
a" topwins:latest cat /got/a.txt /got/seen
}
check "layers L1 L2 L1: the topmost L1 wins (RUN and COPY --from see it)" top_wins

# A base image whose layers repeat, loaded from an archive into a fresh store.
repeating_base () {
  df 'FROM busybox' 'COPY a.txt /x/a.txt' 'COPY b.txt /x/a.txt' 'COPY a.txt /x/a.txt'
  "$BALE" build -q -t rep "$ctx" > /dev/null && "$BALE" save -o "$T_TMP/rep.tar" rep:latest || return 1
  diff_ids rep:latest > "$T_TMP/l"
  [ "$(sed -n 2p "$T_TMP/l")" = "$(sed -n 4p "$T_TMP/l")" ] || { echo "no repeated layer:"; cat "$T_TMP/l"; return 1; }
  BALE_STORE="$T_TMP/store2" "$BALE" load -i "$T_TMP/rep.tar" > /dev/null || return 1
  df 'FROM rep' 'RUN cat /x/a.txt > /r' 'COPY c.txt /x/' 'RUN cat /x/*.txt /r > /all'
  BALE_STORE="$T_TMP/store2" both fromrep &&
    BALE_STORE="$T_TMP/store2" expect_run "a
c
a" fromrep:latest cat /all
}
check "FROM a base image with repeated layers: RUN, COPY, RUN; bale run" repeating_base

done_testing
