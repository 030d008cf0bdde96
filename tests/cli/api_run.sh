#!/bin/sh
# bale_explain and bale_run through the public API (tests/helpers/api_run.c, linked with
# libbale.so), on a busybox image with an exec-form ENTRYPOINT and CMD: explain's argv, its
# origins and start checks; run's exit status and output, with and without run arguments and
# --entrypoint; bad input fails with a bale_error and docker run's status.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store || { echo "Bail out! cannot load the busybox base"; exit 1; }
helper="$top_builddir/tests/helpers/api_run"
printf 'FROM busybox\nENTRYPOINT ["echo", "from-entrypoint"]\nCMD ["from-cmd"]\n' > "$ctx/Dockerfile"
"$BALE" build -q -t api/ep "$ctx" > /dev/null || { echo "Bail out! cannot build the image"; exit 1; }

explain_default () {
  "$helper" explain "$BALE_STORE" api/ep > "$T_TMP/ex.json" || return 1
  jq -e '.argv == ["echo", "from-entrypoint", "from-cmd"]
         and (.entrypoint.origin | test("Dockerfile:2"))
         and (.cmd.origin | test("Dockerfile:3"))
         and .outcome == "starts" and .resolved == "/bin/echo"' "$T_TMP/ex.json" > /dev/null ||
    { cat "$T_TMP/ex.json"; return 1; }
}
check "bale_explain: ENTRYPOINT and CMD make the argv, each from its Dockerfile line; it starts" explain_default

explain_args () {
  "$helper" explain "$BALE_STORE" api/ep a b > "$T_TMP/ex2.json" || return 1
  jq -e '.argv == ["echo", "from-entrypoint", "a", "b"] and .cmd.origin == "run arguments"
         and .cmd.value == ["a", "b"]' "$T_TMP/ex2.json" > /dev/null || { cat "$T_TMP/ex2.json"; return 1; }
}
check "bale_explain: run arguments replace the CMD after the exec ENTRYPOINT" explain_args

run_default () {
  "$helper" run "$BALE_STORE" api/ep > "$T_TMP/run" || return 1
  printf 'status=0\nfrom-entrypoint from-cmd\n' | cmp -s - "$T_TMP/run" || { cat "$T_TMP/run"; return 1; }
}
check "bale_run: the image's ENTRYPOINT and CMD run, status 0, their output caught" run_default

run_args () {
  "$helper" run "$BALE_STORE" api/ep x y > "$T_TMP/run2" || return 1
  printf 'status=0\nfrom-entrypoint x y\n' | cmp -s - "$T_TMP/run2" || { cat "$T_TMP/run2"; return 1; }
}
check "bale_run: run arguments replace the CMD" run_args

run_status () {
  "$helper" entrypoint "$BALE_STORE" api/ep sh -c 'echo out; exit 7' > "$T_TMP/run3" || return 1
  printf 'status=7\nout\n' | cmp -s - "$T_TMP/run3" || { cat "$T_TMP/run3"; return 1; }
}
check "bale_run: --entrypoint drops the CMD; the command's exit status comes back" run_status

check "bad input to bale_explain and bale_run: a bale_error with a message, docker run's status" \
  "$helper" bad "$BALE_STORE" api/ep
done_testing
