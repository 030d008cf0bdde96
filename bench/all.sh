#!/bin/sh
# Every benchmark against the peers, one after the other, then one table: each line of their
# output that gives a median or compares bale with a peer or a floor (a ratio), with the load
# of the machine when the benchmark ran, and the peak RSS of any bale process during it. Each
# script compares the peers inside its own run (the load of a shared machine changes between
# scripts); see their headers for what they time. BENCHES lists the scripts to run (default:
# copy run cache registry push cache_mount startup); BENCH_RUNS (the alternating runs of each
# script) is passed on, except to startup, which takes STARTUP_RUNS (default 200) short runs.
# Each script works in BENCH_ALL_DIR/NAME, kept between runs (the contexts are made once).
# Needs the peers (../shared/tools/peers-up.sh) and GNU time (/usr/bin/time, Debian's `time`
# package).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
real=${BALE:-$here/../bale}
work=${BENCH_ALL_DIR:-/tmp/bale-bench-all}
benches=${BENCHES:-copy run cache registry push cache_mount startup}
[ -x /usr/bin/time ] || { echo "bench/all.sh: /usr/bin/time is not installed (apt-get install time)" >&2; exit 1; }

mkdir -p "$work"
rm -f "$work"/rss.* "$work"/out.* "$work"/load.* "$work"/status.*
# Every bale the scripts start goes through GNU time, which appends its peak RSS (KB).
cat > "$work/bale" << EOF
#!/bin/sh
exec /usr/bin/time -a -o "$work/rss.\$BENCH_NAME" -f %M "$real" "\$@"
EOF
chmod +x "$work/bale"

for b in $benches; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "== bench/$b.sh (load $load, $(date -u +%H:%M) UTC)" >&2
  bale=$work/bale runs=${BENCH_RUNS:-}
  # Start-up is timed on bale itself (the wrapper's shell and time would be most of it); its
  # peak RSS is taken from one wrapped run of each command afterwards.
  [ "$b" = startup ] && bale=$real runs=${STARTUP_RUNS:-200}
  # Each script's scratch directory under $work: another engineer's run of the same script
  # (in its default directory) cannot collide with this one.
  if env BALE="$bale" BENCH_NAME="$b" BENCH_DIR="$work/$b" ${runs:+BENCH_RUNS=$runs} sh "$here/$b.sh" > "$work/out.$b" 2>&1; then
    status=ok
  else
    status=failed
  fi
  if [ "$b" = startup ] && [ $status = ok ]; then
    mkdir -p "$work/startup-rss"
    printf 'FROM busybox\nRUN echo hi > /x\nCOPY . /app\n' > "$work/startup-rss/Dockerfile"
    BENCH_NAME=startup "$work/bale" --version > /dev/null
    BENCH_NAME=startup "$work/bale" parse -f "$work/startup-rss/Dockerfile" > /dev/null
    BENCH_NAME=startup "$work/bale" --store "$work/startup-rss/store" prune > /dev/null
    BENCH_NAME=startup "$work/bale" --store "$work/startup-rss/store" images > /dev/null
  fi
  echo "$load" > "$work/load.$b"
  echo "$status" > "$work/status.$b"
  cat "$work/out.$b" >&2
done

printf '\n%s, %s, BENCH_RUNS=%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  "$(git -C "$here" describe --always --dirty 2> /dev/null || echo '?')" "${BENCH_RUNS:-each script's default}"
printf '%-11s %-6s %-9s %s\n' bench load "bale RSS" "median or comparison (from the script's output)"
max=0
for b in $benches; do
  rss=$(sort -n "$work/rss.$b" 2> /dev/null | tail -n 1)
  [ -n "$rss" ] && [ "$rss" -gt "$max" ] && max=$rss
  rss=${rss:+$((rss / 1024)) MB}
  status=$(cat "$work/status.$b")
  lines=$(grep -E 'median|ratio|bale/|/ fastest|goal' "$work/out.$b" | grep -v '^program ' || true)
  [ "$status" = ok ] || lines="FAILED (see $work/out.$b)"
  printf '%s\n' "$lines" | while IFS= read -r line; do
    printf '%-11s %-6s %-9s %s\n' "$b" "$(cat "$work/load.$b")" "${rss:--}" "$line"
  done
done
echo "peak RSS of bale over every workload: $((max / 1024)) MB (goal, issue 21: under 64 MB)"
