# Shared helpers of the benchmark scripts (sourced; $work is the script's scratch directory,
# $runs its number of runs).
# shellcheck shell=sh
now () { date +%s.%N; }
secs () { echo "$2 - $1" | bc -l; }
ratio () { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
median () { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
# start_registry: a new docker-registry with empty storage in $work on a free port of
# 127.0.0.1; sets R (host:port) and REG_PID.
start_registry () {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  R=127.0.0.1:$port
  rm -rf "$work/registry-$port"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$work/registry-$port" "$R" > "$work/registry-$port.yml"
  docker-registry serve "$work/registry-$port.yml" > "$work/registry-$port.log" 2>&1 &
  REG_PID=$!
  python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}
