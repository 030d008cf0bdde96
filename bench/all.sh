#!/bin/sh
# Every benchmark against the peers, one after the other, then one table: each line of their
# output that compares bale with a peer or a floor (a ratio), with the load of the machine when
# the benchmark ran, and the peak RSS of any bale process during it. Each script compares the
# peers inside its own run (the load of a shared machine changes between scripts); see their
# headers for what they time. BENCHES lists the scripts to run (default: copy run cache
# registry push); BENCH_RUNS (the alternating runs of each script) is passed on. Needs the
# peers (../shared/tools/peers-up.sh) and GNU time (/usr/bin/time, Debian's `time` package).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
real=${BALE:-$here/../bale}
work=${BENCH_ALL_DIR:-/tmp/bale-bench-all}
benches=${BENCHES:-copy run cache registry push}
[ -x /usr/bin/time ] || { echo "bench/all.sh: /usr/bin/time is not installed (apt-get install time)" >&2; exit 1; }

rm -rf "$work" && mkdir -p "$work"
# Every bale the scripts start goes through GNU time, which appends its peak RSS (KB).
cat > "$work/bale" << EOF
#!/bin/sh
exec /usr/bin/time -a -o "$work/rss.\$BENCH_NAME" -f %M "$real" "\$@"
EOF
chmod +x "$work/bale"

for b in $benches; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "== bench/$b.sh (load $load)" >&2
  if BALE=$work/bale BENCH_NAME=$b sh "$here/$b.sh" > "$work/out.$b" 2>&1; then status=ok; else status=failed; fi
  echo "$load" > "$work/load.$b"
  echo "$status" > "$work/status.$b"
  cat "$work/out.$b" >&2
done

printf '\n%-9s %-6s %-9s %s\n' bench load "bale RSS" "comparison (from the script's output)"
for b in $benches; do
  rss=$(sort -n "$work/rss.$b" 2> /dev/null | tail -n 1)
  rss=${rss:+$((rss / 1024)) MB}
  status=$(cat "$work/status.$b")
  lines=$(grep -E 'median|ratio|bale/|/ fastest|goal' "$work/out.$b" || true)
  [ "$status" = ok ] || lines="FAILED (see $work/out.$b)"
  printf '%s\n' "$lines" | while IFS= read -r line; do
    printf '%-9s %-6s %-9s %s\n' "$b" "$(cat "$work/load.$b")" "${rss:--}" "$line"
  done
done
