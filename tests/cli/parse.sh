#!/bin/sh
# `bale parse` from the command line: formats, standard input, exit codes, error output.
. "${top_srcdir:-.}/tests/cli/lib.sh"

corpus="$top_srcdir/tests/corpus/buildkit-parser/testfiles"
case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac

dump_matches_corpus () {
  for d in "$corpus"/*/; do
    "$BALE" parse --raw --format dump -f "$d/Dockerfile" > "$T_TMP/out" || return 1
    cmp "$T_TMP/out" "$d/result" || { echo "mismatch: $d"; return 1; }
  done
}
check "dump of every corpus case equals its result" dump_matches_corpus

stdin_works () {
  printf 'FROM scratch\nCMD ["x"]\n' | "$BALE" parse -f - --format dump > "$T_TMP/out" &&
    printf '(from "scratch")\n(cmd "x")\n' | cmp - "$T_TMP/out"
}
check "reads standard input with -f -" stdin_works

json_is_valid () {
  printf 'FROM scratch\nENV A=1\n' > "$T_TMP/Dockerfile"
  (cd "$T_TMP" && "$BALE" parse) > "$T_TMP/out.json" || return 1
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["instructions"][1]["pairs"][0]["key"]=="A"' "$T_TMP/out.json"
}
check "json output parses and defaults to ./Dockerfile" json_is_valid

error_format () {
  printf 'FROM scratch\nFORM x\n' > "$T_TMP/Dockerfile"
  if "$BALE" parse -f "$T_TMP/Dockerfile" > /dev/null 2> "$T_TMP/err"; then return 1; fi
  grep -q "^bale parse: $T_TMP/Dockerfile:2:1: error: unknown instruction \"FORM\" (did you mean \"FROM\"?)\$" "$T_TMP/err" &&
    grep -q '^    FORM x$' "$T_TMP/err" && grep -q '^    \^~~~$' "$T_TMP/err"
}
check "syntax error: location, message, suggestion, caret, exit 1" error_format

exit_code_is_one () {
  printf 'FROM scratch\nENV x\n' > "$T_TMP/Dockerfile"
  "$BALE" parse -f "$T_TMP/Dockerfile" > /dev/null 2>&1
  [ $? -eq 1 ]
}
check "exit status 1 on a bad Dockerfile" exit_code_is_one

missing_file () {
  "$BALE" parse -f "$T_TMP/nope" 2> "$T_TMP/err" && return 1
  grep -q "cannot open '$T_TMP/nope': No such file or directory" "$T_TMP/err"
}
check "missing file is a clear error" missing_file

bad_usage () {
  "$BALE" parse --format yaml -f "$corpus/json/Dockerfile" 2> "$T_TMP/err" && return 1
  grep -q "unknown format 'yaml'" "$T_TMP/err" &&
    { "$BALE" frobnicate 2> "$T_TMP/err"; [ $? -eq 2 ]; } && grep -q "unknown command 'frobnicate'" "$T_TMP/err"
}
check "bad usage is reported" bad_usage

random_bytes () {
  i=0
  while [ $i -lt 50 ]; do
    head -c 2048 /dev/urandom > "$T_TMP/rand"
    "$BALE" parse -f "$T_TMP/rand" > /dev/null 2>&1
    rc=$?
    [ $rc -le 1 ] || { echo "exit $rc on random input"; cp "$T_TMP/rand" /tmp/bale-crash-input; return 1; }
    i=$((i + 1))
  done
}
check "random bytes give exit 0 or 1, never a crash" random_bytes

# rss_growth UNIT LIMIT: python3 runs the program on stdin, which defines SMALL and BIG (two
# sizes) and case(n), which writes a Dockerfile of n UNITs, runs bale on it and checks what it
# printed; the peak RSS of the BIG case over the SMALL one, in bytes a UNIT, must stay under
# LIMIT. (RUSAGE_CHILDREN's peak is that of the largest child so far: SMALL runs first.)
rss_growth () {
  { cat; printf '%s\n' 'small = case(SMALL); big = case(BIG)' \
      'per = (big - small) * 1024 / (BIG - SMALL)' \
      'print(f"# peak RSS {small} kB and {big} kB: {per:.1f} bytes a " + sys.argv[3])' \
      'sys.exit(0 if per < float(sys.argv[4]) else 1)'; } | python3 - "$BALE" "$T_TMP" "$@"
}

# The JSON is written one instruction at a time: a 160,000-line Dockerfile must not hold the
# whole tree of JSON objects (jansson spends kilobytes on an instruction; the tree of this file
# took 1.3 GB: 8.6 kB a line; the AST alone takes about 0.5 kB a line, 3.2 kB under ASan's
# redzones). Peak RSS of 10,000 and 160,000 lines compared, and the text checked whole.
long_dockerfile_bounded () {
  rss_growth line 6144 <<'PY'
import json, resource, subprocess, sys
bale, tmp = sys.argv[1], sys.argv[2]
SMALL, BIG = 10000, 160000
def case(n):
    path = f"{tmp}/long{n}"
    with open(path, "w") as f:
        f.write("FROM busybox\n")
        for i in range(n):
            f.write(f"ENV A{i}=v{i}\n")
    out = subprocess.run([bale, "parse", "-f", path], check=True, capture_output=True).stdout
    doc = json.loads(out)
    assert len(doc["instructions"]) == n + 1, len(doc["instructions"])
    assert doc["instructions"][-1]["pairs"][0]["key"] == f"A{n-1}"
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
PY
}
check "a 160,000-line Dockerfile parses to JSON in bounded memory" long_dockerfile_bounded

# A 50 MB line is over BuildKit's 65535 bytes: the parser stops there, as BuildKit's scanner
# does, and the error shows 160 bytes of it. It used to go on lexing the line, with six copies
# of it (a 100 MB line took 1.1 GB, 11 bytes a byte) and print all of it in the error. The
# peak RSS of a 1 MB and a 50 MB line are compared: 3.2 bytes a byte now, 5 under ASan.
long_line_bounded () {
  rss_growth byte 7 <<'PY'
import resource, subprocess, sys
bale, tmp = sys.argv[1], sys.argv[2]
SMALL, BIG = 1 << 20, 50 << 20
def case(n):
    path = f"{tmp}/longline{n}"
    with open(path, "w") as f:
        f.write("FROM scratch\nLABEL a=\"" + "x" * n + "\"\nRUN \n")
    r = subprocess.run([bale, "plan", "-f", path, tmp], capture_output=True)
    err = r.stderr.decode()
    assert r.returncode == 1
    assert err.startswith("bale plan: " + path + ":2:1: error: dockerfile line greater than max allowed size of 65535\n"), err[:300]
    assert len(err) < 1024 and err.count("error:") == 1, len(err)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
PY
}
check "a 50 MB line: one located error, a short excerpt, bounded memory" long_line_bounded

done_testing
