#!/bin/sh
# Compile-time benchmark for many variables (issue 16, bug 6): Dockerfiles of N `ARG` lines,
# N `ENV` lines, N ARG lines that each read the one before, and N `ENV` lines each followed by
# a `RUN` (whose step keeps the environment it sees), compiled with `bale plan`.
# Prints the elapsed and CPU (user, system) seconds and the peak memory of each; before the fix
# 100,000 ARG lines took 108 s and 374 MB. Not a test: the figures depend on the machine (on a
# loaded one, compare the CPU seconds). BENCH_N sets N (default 100000); BENCH_KINDS picks cases.
# envrun, 2026-12-06 on the shared 2-core VM (elapsed s, user+system CPU s, peak memory): before
# the steps shared their environment (common/kvhist.c), 5,000 pairs 42.4 s, 8.7 s, 822 MB and
# 10,000 pairs 166 s, 34.2 s, 3.19 GB (each RUN copied the whole environment); after, 5,000
# pairs 0.70 s, 0.14 s, 27 MB; 10,000 1.33 s, 0.28 s, 43 MB; 100,000 15.6 s (load), 2.8 s, 330 MB.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
n=${BENCH_N:-100000}
work=${BENCH_DIR:-/tmp/bale-bench-vars}
mkdir -p "$work"

gen () {
  awk -v n="$n" -v kind="$1" 'BEGIN {
    print "FROM scratch"
    for (i = 0; i < n; i++) {
      if (kind == "arg") printf "ARG A%d=value%d\n", i, i
      else if (kind == "env") printf "ENV E%d=value%d\n", i, i
      else if (kind == "envrun") printf "ENV E%d=value%d\nRUN true\n", i, i
      else printf "ARG C%d=${C%d:+set}%d\n", i, i - 1, i
    }
  }' > "$work/$1.Dockerfile"
}

printf '%-10s %8s %8s %8s %8s %12s\n' case lines elapsed user system max_rss_kb
for kind in ${BENCH_KINDS:-arg env argchain envrun}; do
  gen "$kind"
  /usr/bin/time -f '%e %U %S %M' -o "$work/$kind.time" "$bale" plan -f "$work/$kind.Dockerfile" "$work" > /dev/null
  read -r secs user sys kb < "$work/$kind.time"
  printf '%-10s %8s %8s %8s %8s %12s\n' "$kind" "$n" "$secs" "$user" "$sys" "$kb"
done
