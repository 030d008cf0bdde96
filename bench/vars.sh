#!/bin/sh
# Compile-time benchmark for many variables (issue 16, bug 6): Dockerfiles of N `ARG` lines,
# N `ENV` lines and N ARG lines that each read the one before, compiled with `bale plan`.
# Prints the elapsed and CPU (user, system) seconds and the peak memory of each; before the fix
# 100,000 ARG lines took 108 s and 374 MB. Not a test: the figures depend on the machine (on a
# loaded one, compare the CPU seconds). BENCH_N sets N (default 100000).
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
      else printf "ARG C%d=${C%d:+set}%d\n", i, i - 1, i
    }
  }' > "$work/$1.Dockerfile"
}

printf '%-10s %8s %8s %8s %8s %12s\n' case lines elapsed user system max_rss_kb
for kind in arg env argchain; do
  gen "$kind"
  /usr/bin/time -f '%e %U %S %M' -o "$work/$kind.time" "$bale" plan -f "$work/$kind.Dockerfile" "$work" > /dev/null
  read -r secs user sys kb < "$work/$kind.time"
  printf '%-10s %8s %8s %8s %8s %12s\n' "$kind" "$n" "$secs" "$user" "$sys" "$kb"
done
