#!/bin/sh
# The public API of plans and build checks (tests/helpers/api_plan.c, linked with libbale.so):
# a plan with build args as text and JSON, warnings located, build checks with their rule
# names and places, and a planning error that comes back with its Dockerfile location.
. "${top_srcdir:-.}/tests/cli/lib.sh"

helper="$top_builddir/tests/helpers/api_plan"
ctx="$T_TMP/ctx"
mkdir -p "$ctx"
df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }

plan_text_json_warnings () {
  df 'FROM not/in-any-store:1 AS other' 'FROM scratch AS base' 'ARG V' 'ENV X=$V' 'FROM base' 'COPY --from=other /a /b'
  "$helper" plan "$ctx" V=seven > "$T_TMP/out" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  grep -q 'X=seven' "$T_TMP/out" && grep -q '"kind"' "$T_TMP/out" &&
    grep -q "^$ctx/Dockerfile:1:[0-9]*: warning: .*not/in-any-store:1.*not in the store" "$T_TMP/err" &&
    grep -qx 'checks 0' "$T_TMP/out"
}
check "bale_plan_new: build args expanded, text and JSON, located warnings without a store" plan_text_json_warnings

lint_rules_located () {
  df 'FROM scratch as build' 'CMD echo hi' 'FROM scratch' 'WORKDIR rel'
  "$helper" lint "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  grep -qx 'FromAsCasing 1:1' "$T_TMP/out" && grep -qx 'JSONArgsRecommended 2:1' "$T_TMP/out" &&
    grep -qx 'WorkdirRelativePath 4:1' "$T_TMP/out" && grep -qx 'count 3 of 3' "$T_TMP/out"
}
check "bale_lint: every stage's checks, with rule names and locations" lint_rules_located

lint_check_directive () {
  df '# check=skip=FromAsCasing' 'FROM scratch as build' 'CMD echo hi'
  "$helper" lint "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" &&
    ! grep -q FromAsCasing "$T_TMP/out" && grep -qx 'count 1 of 1' "$T_TMP/out" || return 1
  df '# check=error=true' 'FROM scratch as build'
  "$helper" lint "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" && return 1
  grep -q 'warning: FromAsCasing' "$T_TMP/err" &&
    grep -q 'error: lint violation found for rules: FromAsCasing' "$T_TMP/err"
}
check "bale_lint: the # check= directive skips a rule; error=true fails with the warnings" lint_check_directive

error_located () {
  df 'FROM scratch' '' 'FORM x'
  "$helper" error "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  grep -q "^$ctx/Dockerfile:3:[0-9]*: " "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  df 'FROM scratch' 'RUN --mount=type=nope true'
  "$helper" error "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  grep -q "^$ctx/Dockerfile:2:[0-9]*: " "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
}
check "bale_plan_new: an error comes back with its Dockerfile location" error_located

bad_options () {
  df 'FROM scratch'
  "$helper" plan "$ctx" NOEQUALS > /dev/null 2> "$T_TMP/err" && return 1
  grep -q "build arg 'NOEQUALS' is not KEY=VALUE" "$T_TMP/err"
}
check "bale_plan_new: a build arg without = is an error" bad_options
done_testing
