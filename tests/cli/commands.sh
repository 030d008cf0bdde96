#!/bin/sh
# The command line around the subcommands: version, help COMMAND, one-line usage errors
# (exit 2), --store after the subcommand, lowercase names, read-only commands and the store.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store

version_help () {
  "$BALE" version | grep -q '^bale [0-9]' && "$BALE" help build | grep -q -- '--metadata-file' &&
    "$BALE" help build | grep -q -- '--build-context' && "$BALE" help | grep -q '^  version ' &&
    ! "$BALE" help frob 2> "$T_TMP/err" && grep -q "unknown command 'frob'" "$T_TMP/err"
}
check "bale version; bale help COMMAND is COMMAND --help" version_help

usage_errors () {
  "$BALE" build --bogus "$ctx" > /dev/null 2> "$T_TMP/err"
  [ $? -eq 2 ] && [ "$(wc -l < "$T_TMP/err")" -eq 2 ] &&
    grep -qx "bale build: unrecognized option '--bogus'" "$T_TMP/err" &&
    grep -qx "see 'bale build --help'" "$T_TMP/err" && ! grep -q "$BALE" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  "$BALE" images --nope > /dev/null 2> "$T_TMP/err"
  [ $? -eq 2 ] && grep -qx "see 'bale images --help'" "$T_TMP/err" || return 1
  # A bad option or a wrong number of operands: the reason in one line, then the pointer.
  for cmd in "pull" "pull a b" "push" "push --compression lz4 x" "push --chunk-size 0 x" "save" \
             "load x" "login x" "pull --nope x" "push --nope x" "save --nope x" "login --nope"; do
    # shellcheck disable=SC2086 # the words of cmd are the arguments
    "$BALE" $cmd > /dev/null 2> "$T_TMP/err" < /dev/null
    [ $? -eq 2 ] && [ "$(wc -l < "$T_TMP/err")" -eq 2 ] && grep -q "^bale ${cmd%% *}: " "$T_TMP/err" &&
      grep -qx "see 'bale ${cmd%% *} --help'" "$T_TMP/err" || { echo "bale $cmd:"; cat "$T_TMP/err"; return 1; }
  done
  # bale run: docker's status 125 for its own usage errors.
  "$BALE" run --nope busybox > /dev/null 2> "$T_TMP/err"
  [ $? -eq 125 ] && [ "$(wc -l < "$T_TMP/err")" -eq 2 ] && grep -qx "see 'bale run --help'" "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
}
check "usage errors: one line from getopt, a pointer to --help, exit 2, no binary path" usage_errors

# Every command's usage errors, a bad option and a wrong number of operands or a bad value of
# an option the command line parses: exactly two lines, "bale CMD: REASON" and the pointer to
# CMD's help, exit 2 (bale run: docker's 125); never the usage text, never the binary's path.
usage_errors_every_command () {
  while IFS='|' read -r want cmd; do
    [ -n "$cmd" ] || continue
    name=${cmd%% -*}
    case $name in "cache why"*) name="cache why" ;; *) name=${name%% *} ;; esac
    # shellcheck disable=SC2086 # the words of cmd are the arguments
    "$BALE" $cmd > "$T_TMP/out" 2> "$T_TMP/err" < /dev/null
    st=$?
    [ "$st" -eq "$want" ] && [ "$(wc -l < "$T_TMP/err")" -eq 2 ] &&
      head -1 "$T_TMP/err" | grep -q "^bale $name: " && sed -n 2p "$T_TMP/err" | grep -qx "see 'bale $name --help'" &&
      ! grep -q -e "$BALE" -e 'usage:' "$T_TMP/err" ||
      { echo "bale $cmd: status $st (want $want)"; cat "$T_TMP/err"; return 1; }
  done <<EOF2
2|build --nope $ctx
2|build $ctx $ctx
2|build --progress=sideways $ctx
2|build -q --progress=plain $ctx
2|build -t Upper $ctx
2|plan --nope
2|plan --format yaml $ctx
2|plan $ctx $ctx
2|lint --nope
2|lint --platform linux/amd64 --platform linux/arm64 $ctx
2|parse --nope
2|parse --format yaml
2|parse extra
2|version extra
2|images --nope
2|images extra
2|history
2|history --human=maybe busybox
2|inspect
2|inspect --type container busybox
2|tag busybox
2|rmi
2|diff busybox
2|diff --format yaml busybox busybox
2|diff --nope busybox busybox
2|explain
2|explain --format yaml busybox
2|prune extra
2|prune --nope
2|cache
2|cache why busybox
2|binfmt --nope
2|help frob
125|run
125|run --nope busybox
EOF2
  # bale's own options: "bale: ", and the pointer to bale --help.
  "$BALE" --nope > /dev/null 2> "$T_TMP/err"
  [ $? -eq 2 ] && [ "$(wc -l < "$T_TMP/err")" -eq 2 ] && grep -qx "bale: unrecognized option '--nope'" "$T_TMP/err" &&
    grep -qx "see 'bale --help'" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  "$BALE" frob > /dev/null 2> "$T_TMP/err"
  [ $? -eq 2 ] && [ "$(wc -l < "$T_TMP/err")" -eq 2 ] && grep -qx "bale: unknown command 'frob'" "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
}
check "usage errors of every command: 'bale CMD: REASON', 'see bale CMD --help', exit 2 (run 125)" usage_errors_every_command

# The failures of every command, run by its full path (bale-core executed by the front
# program too): each message line starts with the one prefix "bale CMD: " (a located error
# keeps "FILE:LINE:COL: error: " after it; its source line and caret follow, indented);
# nothing starts with "error:" and no line names the binary's path.
errors_one_prefix () {
  printf 'FROM busybox\nCOPY nothere /\n' > "$ctx/Dockerfile"
  mkdir -p "$T_TMP/lintctx" "$T_TMP/planctx" && printf '# check=error=true\nFROM busybox as b\n' > "$T_TMP/lintctx/Dockerfile"
  printf 'FROM busybox\nSTOPSIGNAL SIGNOPE\n' > "$T_TMP/planctx/Dockerfile"
  case $BALE in /*) ;; *) echo "BALE is not a full path: $BALE"; return 1 ;; esac
  while IFS='|' read -r name cmd; do
    [ -n "$cmd" ] || continue
    # shellcheck disable=SC2086 # the words of cmd are the arguments
    "$BALE" $cmd > /dev/null 2> "$T_TMP/err" < /dev/null && { echo "bale $cmd succeeded"; return 1; }
    [ -s "$T_TMP/err" ] && head -1 "$T_TMP/err" | grep -q "^bale $name: [^ ]" &&
      ! grep -v -e "^bale $name: [^ ]" -e '^ ' "$T_TMP/err" | grep -q . &&
      ! grep -q -e "$BALE" -e 'bale-core' -e '^error' -e 'bale [a-z]*: bale' "$T_TMP/err" ||
      { echo "bale $cmd:"; cat "$T_TMP/err"; return 1; }
  done <<EOF2
build|build -q $ctx
build|build -q $T_TMP/nodir
build|build -q -o type=sideways $ctx
plan|plan $T_TMP/planctx
lint|lint $T_TMP/lintctx
images|images -f bogus=1
history|history nothere
inspect|inspect nothere
tag|tag nothere x
rmi|rmi nothere
run|run nothere
save|save nothere
diff|diff nothere busybox
explain|explain nothere
cache|cache why nothere busybox
load|load -i $T_TMP/missing.tar
pull|pull -q 127.0.0.1:1/x/y
push|push -q nothere
parse|parse -f $T_TMP/missing
binfmt|binfmt sideways/x
EOF2
}
check "errors: one prefix 'bale CMD: ', never 'error:' first nor the binary's path" errors_one_prefix

# bale run's statuses are docker run's: 127 when the command is not found, 126 when it cannot
# be executed, 125 when bale itself fails (no image, no user, bad usage); each with one line
# "bale run: ...".
run_statuses () {
  while IFS='|' read -r want msg cmd; do
    [ -n "$cmd" ] || continue
    # shellcheck disable=SC2086 # the words of cmd are the arguments
    "$BALE" run $cmd > /dev/null 2> "$T_TMP/err" < /dev/null
    st=$?
    [ "$st" -eq "$want" ] && [ "$(wc -l < "$T_TMP/err")" -eq 1 ] && grep -q "^bale run: .*$msg" "$T_TMP/err" ||
      { echo "bale run $cmd: status $st, want $want"; cat "$T_TMP/err"; return 1; }
  done <<EOF2
127|executable file not found in \$PATH|busybox nosuchcmd
127|no such file or directory|busybox /nonexistent
126|permission denied|busybox /etc/passwd
125|no such image: 'nothere'|nothere true
125|unable to find user 'nosuchuser'|-u nosuchuser busybox true
EOF2
  "$BALE" run busybox sh -c 'exit 3'
  [ $? -eq 3 ]
}
check "bale run: docker's statuses 125, 126, 127, else the command's, one line 'bale run: ...'" run_statuses

store_after () {
  "$BALE" images --store "$BALE_STORE" | grep -q '^busybox ' &&
    BALE_STORE=/nonexistent "$BALE" images --store="$BALE_STORE" | grep -q '^busybox ' || return 1
  # after the options of build, plan and history too, before the operands
  printf 'FROM busybox\nRUN echo after > /a\n' > "$ctx/Dockerfile"
  id=$(BALE_STORE=/nonexistent "$BALE" build -q -t after --store "$BALE_STORE" "$ctx") &&
    BALE_STORE=/nonexistent "$BALE" history -q --store "$BALE_STORE" after | grep -q . &&
    BALE_STORE=/nonexistent "$BALE" plan --store="$BALE_STORE" "$ctx" > /dev/null &&
    [ "$("$BALE" inspect -f '{{.Id}}' after)" = "$id" ] && [ ! -e /nonexistent ]
}
check "--store after the subcommand (images, build, history, plan)" store_after

lowercase () {
  ! "$BALE" build -t MyImage "$ctx" 2> "$T_TMP/err" && grep -q "repository name must be lowercase" "$T_TMP/err" &&
    ! "$BALE" tag busybox Other/x 2> "$T_TMP/err" && grep -q "repository name must be lowercase" "$T_TMP/err" || return 1
  # Every command that takes an image name says so (the tag after ':' may have capitals).
  for cmd in "run Busybox true" "inspect Busybox" "history Busybox" "rmi Busybox" "save Busybox" \
             "pull -q 127.0.0.1:1/Foo" "push -q busybox 127.0.0.1:1/Foo:Tag" "diff Busybox busybox"; do
    # shellcheck disable=SC2086 # the words of cmd are the arguments
    "$BALE" $cmd > /dev/null 2> "$T_TMP/err" < /dev/null && { echo "bale $cmd succeeded"; return 1; }
    grep -q "^bale ${cmd%% *}: .*repository name must be lowercase\$" "$T_TMP/err" || { echo "bale $cmd:"; cat "$T_TMP/err"; return 1; }
  done
  "$BALE" tag busybox lower:UpperTag && "$BALE" inspect lower:UpperTag > /dev/null
}
check "image names with capitals: must be lowercase, in every command that takes a name" lowercase

no_store () {
  printf 'FROM busybox\nRUN true\n' > "$ctx/Dockerfile"
  for cmd in "plan $ctx" "lint $ctx" "parse -f $ctx/Dockerfile" images "inspect busybox" "history busybox" \
             "explain busybox" "diff busybox busybox" "save busybox" "cache why busybox busybox" \
             "tag busybox x" "rmi busybox" "run busybox true" "push busybox 127.0.0.1:1/x"; do
    # shellcheck disable=SC2086 # the words of cmd are the arguments
    BALE_STORE=$T_TMP/none "$BALE" $cmd > /dev/null 2>&1 < /dev/null
    [ ! -e "$T_TMP/none" ] || { echo "bale $cmd made a store"; return 1; }
    "$BALE" --store "$T_TMP/none" $cmd > /dev/null 2>&1 < /dev/null
    [ ! -e "$T_TMP/none" ] || { echo "bale --store DIR $cmd made a store"; return 1; }
  done
}
check "read-only commands (and tag, rmi, run, push) never create a store" no_store

done_testing
