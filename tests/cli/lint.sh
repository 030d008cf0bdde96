#!/bin/sh
# `bale lint` and `bale build --check`: BuildKit's build checks from the command line, with the
# `# check=` directive's skip and error=true and the exit statuses they give.
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
export BALE_STORE="$T_TMP/store"
ctx="$T_TMP/ctx"
mkdir -p "$ctx"

df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }

warnings_located_exit_zero () {
  df 'FROM scratch as build' 'CMD echo hi' 'FROM scratch' 'WORKDIR rel'
  "$BALE" lint "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" || return 1
  grep -q "^$ctx/Dockerfile:1:1: warning: FromAsCasing: 'as' and 'FROM' keywords' casing do not match\$" "$T_TMP/err" &&
    grep -q "^$ctx/Dockerfile:2:1: warning: JSONArgsRecommended: " "$T_TMP/err" &&
    grep -q "^$ctx/Dockerfile:4:1: warning: WorkdirRelativePath: Relative workdir \"rel\"" "$T_TMP/err" &&
    grep -qx 'Check complete, 3 warnings have been found!' "$T_TMP/out"
}
check "bale lint: every stage checked, warnings located, exit 0" warnings_located_exit_zero

clean_file () {
  df 'FROM scratch AS build' 'CMD ["echo", "hi"]'
  "$BALE" lint -f "$ctx/Dockerfile" > "$T_TMP/out" 2> "$T_TMP/err" &&
    grep -qx 'Check complete, no warnings found.' "$T_TMP/out" && [ ! -s "$T_TMP/err" ]
}
check "bale lint: a clean Dockerfile" clean_file

error_true_fails () {
  df '# check=error=true' 'FROM scratch as build' 'CMD ["x"]'
  "$BALE" lint "$ctx" > /dev/null 2> "$T_TMP/err"
  [ $? -eq 1 ] && grep -q "warning: FromAsCasing" "$T_TMP/err" &&
    grep -qx 'bale lint: lint violation found for rules: FromAsCasing' "$T_TMP/err"
}
check "check=error=true: the warnings, then an error and exit 1" error_true_fails

skip_directive () {
  df '# check=skip=FromAsCasing;error=true' 'FROM scratch as build' 'CMD ["x"]'
  "$BALE" lint "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" && [ ! -s "$T_TMP/err" ] &&
    "$BALE" lint --build-arg BUILDKIT_DOCKERFILE_CHECK=error=true "$ctx" > /dev/null 2> "$T_TMP/err"
  [ $? -eq 1 ] && grep -q "lint violation found for rules: FromAsCasing" "$T_TMP/err"
}
check "check=skip= silences a rule; BUILDKIT_DOCKERFILE_CHECK replaces the directive" skip_directive

build_check_builds_nothing () {
  df 'FROM scratch as build' 'COPY missing /x'
  "$BALE" build --check -q "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" || return 1
  grep -q "warning: FromAsCasing" "$T_TMP/err" && grep -qx 'Check complete, 1 warning has been found!' "$T_TMP/out" &&
    ! "$BALE" images 2> /dev/null | grep -v '^REPOSITORY' | grep -q .
}
check "bale build --check: the checks, and no build" build_check_builds_nothing

build_error_true () {
  df '# check=error=true' 'FROM scratch' 'WORKDIR rel'
  "$BALE" build -q "$ctx" > /dev/null 2> "$T_TMP/err"
  [ $? -eq 1 ] && grep -q "lint violation found for rules: WorkdirRelativePath" "$T_TMP/err"
}
check "bale build with check=error=true fails before building" build_error_true

done_testing
