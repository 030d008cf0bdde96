#!/bin/sh
# Build cache benchmark (issue 7): the context of bench/copy.sh (20,000 small files plus
# 200 MB of binaries), `FROM busybox` + `COPY . /app` + a RUN. Times a fully cached rebuild
# and a rebuild after changing one file, for bale and for docker's BuildKit builder in the
# same run, and prints the ratios (goal: bale's cached rebuild <= 1/5 of BuildKit's). A
# second Dockerfile copies bin/ and src/ in two steps, so a changed source file re-runs only
# the small COPY src (and the RUN after it) while the 200 MB COPY bin stays cached.
# Each time is the median of BENCH_RUNS runs. Needs the peers (../shared/tools/peers-up.sh)
# for the BuildKit figures; without them only bale's are printed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-cache}
export DOCKER_HOST=${DOCKER_HOST:-unix:///tmp/peers/dockerd.sock}
docker=${DOCKER:-/usr/bin/docker}
files=${BENCH_FILES:-20000}
mb=${BENCH_MB:-200}
runs=${BENCH_RUNS:-5}

. "$here/lib.sh"
# median CMD...: the median wall time of $runs runs of CMD (output discarded).
median () {
  for _ in $(seq "$runs"); do
    # The previous run's writeback is not this run's time.
    sync; settle
    t0=$(now); "$@" > /dev/null 2>&1; t1=$(now)
    secs "$t0" "$t1"
  done | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}
# one_file_change CMD...: the median time of CMD right after one small source file changed.
one_file_change () {
  for i in $(seq "$runs"); do
    echo "change $i $$" >> "$ctx/src/d007/f00007.txt"
    sync; settle
    t0=$(now); "$@" > /dev/null 2>&1; t1=$(now)
    secs "$t0" "$t1"
  done | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

mkdir -p "$work"
ctx=$work/ctx
sh "$here/mkcontext.sh" "$ctx" "$files" "$mb"
printf 'FROM busybox\nCOPY . /app\nRUN echo built > /built\n' > "$work/Dockerfile"
printf 'FROM busybox\nCOPY bin /app/bin\nCOPY src /app/src\nRUN echo built > /built\n' > "$work/split.Dockerfile"
echo "context: $files files + $mb MB in $ctx; medians of $runs runs"

store=$work/store
rm -rf "$store"
# The last run's store (tens of thousands of inodes) was just deleted: on ext4 without a
# journal every file created in the next minute walks past those inodes (lib.sh,
# deletion_window), which made the cold build and the one-file rebuilds 3-5 times slower.
window=$(deletion_window "$work")
sleep "$window"
export BALE_STORE="$store"
sh "$here/../examples/busybox-image.sh" "$work/busybox.tar"
"$bale" load -i "$work/busybox.tar" > /dev/null
settle; t0=$(now); "$bale" build -q -t bench -f "$work/Dockerfile" "$ctx" > /dev/null; t1=$(now)
echo "bale cold build:              $(secs "$t0" "$t1")s"
bale_cached=$(median "$bale" build -q -t bench -f "$work/Dockerfile" "$ctx")
echo "bale cached rebuild:          ${bale_cached}s"
bale_one=$(one_file_change "$bale" build -q -t bench -f "$work/Dockerfile" "$ctx")
echo "bale one file changed:        ${bale_one}s (COPY . and the RUN after it run again)"
"$bale" build -q -t bench-split -f "$work/split.Dockerfile" "$ctx" > /dev/null
bale_split=$(one_file_change "$bale" build -q -t bench-split -f "$work/split.Dockerfile" "$ctx")
echo "bale one file changed, split: ${bale_split}s (COPY src and the RUN run again)"

if command -v "$docker" > /dev/null && "$docker" info > /dev/null 2>&1; then
  bk () { env DOCKER_BUILDKIT=1 "$docker" build --network host -q -t bench-cache-bk -f "$work/Dockerfile" "$ctx"; }
  "$docker" builder prune -af > /dev/null 2>&1 || true
  sleep "$window" # the same for BuildKit's pruned cache
  settle; t0=$(now); bk > "$work/bk.log" 2>&1; t1=$(now)
  echo "BuildKit cold build:          $(secs "$t0" "$t1")s"
  bk_cached=$(median bk)
  echo "BuildKit cached rebuild:      ${bk_cached}s"
  bk_one=$(one_file_change bk)
  echo "BuildKit one file changed:    ${bk_one}s"
  bks () { env DOCKER_BUILDKIT=1 "$docker" build --network host -q -t bench-cache-bks -f "$work/split.Dockerfile" "$ctx"; }
  bks > "$work/bks.log" 2>&1
  bk_split=$(one_file_change bks)
  echo "BuildKit one file changed, split: ${bk_split}s"
  echo "cached rebuild, bale/BuildKit:    $(ratio "$bale_cached" "$bk_cached") (goal <= 0.2)"
  echo "one file changed, bale/BuildKit:  $(ratio "$bale_one" "$bk_one")"
  echo "one file changed (split), bale/BuildKit: $(ratio "$bale_split" "$bk_split")"
else
  echo "docker is not reachable at $DOCKER_HOST: no BuildKit figures"
fi
