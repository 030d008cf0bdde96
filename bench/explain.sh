#!/bin/sh
# What --explain-cache costs (issue 20, goal: under 5% on a fully cached rebuild): the context of
# bench/copy.sh (BENCH_FILES small files plus BENCH_MB of binaries), `FROM busybox` +
# `COPY . /app` + a RUN. Times, in the same run and alternating, a cached rebuild with and
# without --explain-cache, then a rebuild after one file changed (a miss: the step's sources
# are described a second time to list them, and its inputs are written) with and without.
# Each time is the median of BENCH_RUNS runs. The cached rebuild is also timed with -q, for
# what --progress=plain itself costs (issue 17, goal: within 5% of -q).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-explain}
files=${BENCH_FILES:-20000}
mb=${BENCH_MB:-200}
runs=${BENCH_RUNS:-5}

. "$here/lib.sh"
# time_one CMD...: one wall time of CMD.
time_one () { sync; settle; t0=$(now); "$@" > /dev/null 2>&1; t1=$(now); secs "$t0" "$t1"; }

mkdir -p "$work"
ctx=$work/ctx
sh "$here/mkcontext.sh" "$ctx" "$files" "$mb"
printf 'FROM busybox\nCOPY . /app\nRUN echo built > /built\n' > "$work/Dockerfile"
export BALE_STORE="$work/store"
rm -rf "$BALE_STORE"
sh "$here/../examples/busybox-image.sh" "$work/busybox.tar"
"$bale" load -i "$work/busybox.tar" > /dev/null
build () { "$bale" build --progress=plain -t bench -f "$work/Dockerfile" "$@" "$ctx"; }
build > /dev/null 2>&1
echo "context: $files files + $mb MB; medians of $runs runs, alternating"
: > "$work/plain"; : > "$work/explain"; : > "$work/plain1"; : > "$work/explain1"; : > "$work/quiet"
quiet () { "$bale" build -q -t bench -f "$work/Dockerfile" "$ctx"; }
for i in $(seq "$runs"); do
  time_one build >> "$work/plain"
  time_one build --explain-cache >> "$work/explain"
  time_one quiet >> "$work/quiet"
done
for i in $(seq "$runs"); do
  echo "change $i $$ a" >> "$ctx/src/d007/f00007.txt"
  time_one build >> "$work/plain1"
  echo "change $i $$ b" >> "$ctx/src/d007/f00007.txt"
  time_one build --explain-cache >> "$work/explain1"
done
p=$(median < "$work/plain"); e=$(median < "$work/explain")
p1=$(median < "$work/plain1"); e1=$(median < "$work/explain1")
q=$(median < "$work/quiet")
echo "cached rebuild:   ${p}s, with --explain-cache ${e}s (ratio $(ratio "$e" "$p"))"
echo "cached rebuild:   -q ${q}s, --progress=plain ${p}s (ratio $(ratio "$p" "$q"))"
echo "one file changed: ${p1}s, with --explain-cache ${e1}s (ratio $(ratio "$e1" "$p1"))"
