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

store_after () {
  "$BALE" images --store "$BALE_STORE" | grep -q '^busybox ' &&
    BALE_STORE=/nonexistent "$BALE" images --store="$BALE_STORE" | grep -q '^busybox '
}
check "--store after the subcommand" store_after

lowercase () {
  ! "$BALE" build -t MyImage "$ctx" 2> "$T_TMP/err" && grep -q "repository name must be lowercase" "$T_TMP/err" &&
    ! "$BALE" tag busybox Other/x 2> "$T_TMP/err" && grep -q "repository name must be lowercase" "$T_TMP/err"
}
check "image names with capitals: must be lowercase" lowercase

no_store () {
  printf 'FROM busybox\nRUN true\n' > "$ctx/Dockerfile"
  BALE_STORE=$T_TMP/none "$BALE" plan "$ctx" > /dev/null 2>&1
  BALE_STORE=$T_TMP/none "$BALE" images > /dev/null 2>&1
  BALE_STORE=$T_TMP/none "$BALE" inspect busybox > /dev/null 2>&1
  [ ! -e "$T_TMP/none" ]
}
check "plan, images and inspect never create a store" no_store

done_testing
