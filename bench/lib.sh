# Shared helpers of the benchmark scripts (sourced after setting $here, the bench directory;
# $work is the script's scratch directory, $runs its number of runs).
# shellcheck shell=sh
. "$here/../tests/cli/ports.sh"
now () { date +%s.%N; }
secs () { echo "$2 - $1" | bc -l; }
ratio () { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
median () { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
# timed NAME CMD...: run CMD (output in $work/NAME.log) and append its wall time in seconds
# to $work/t.NAME; a failure appends nothing and says so on stderr.
timed () {
  _name=$1
  shift
  _t0=$(now)
  if "$@" > "$work/$_name.log" 2>&1; then
    secs "$_t0" "$(now)" >> "$work/t.$_name"
  else
    echo "$_name: failed (see $work/$_name.log)" >&2
  fi
}
# median_of FILE: the median of the numbers in FILE, one a line ("" when there are none).
median_of () { [ -s "$1" ] && sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# table W BASE OTHER...: one line per OTHER, "W: OTHER median Ss (N runs), BASE/OTHER = R",
# from the times timed recorded as W.BASE and W.OTHER. bench/all.sh collects these lines.
table () {
  _w=$1 _base=$2
  shift 2
  _b=$(median_of "$work/t.$_w.$_base")
  echo "$_w: $_base median ${_b:-failed}s ($(wc -l < "$work/t.$_w.$_base" 2> /dev/null || echo 0) runs)"
  for _o; do
    _m=$(median_of "$work/t.$_w.$_o")
    if [ -n "$_m" ] && [ -n "$_b" ]; then
      echo "$_w: $_o median ${_m}s ($(wc -l < "$work/t.$_w.$_o") runs), $_base/$_o = $(ratio "$_b" "$_m")"
    else
      echo "$_w: $_o failed"
    fi
  done
}
# start_registry: a new docker-registry with empty storage in $work on a free port of
# 127.0.0.1; sets R (host:port) and REG_PID.
start_registry () {
  port=$(free_port)
  R=127.0.0.1:$port
  rm -rf "$work/registry-$port"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$work/registry-$port" "$R" > "$work/registry-$port.yml"
  docker-registry serve "$work/registry-$port.yml" > "$work/registry-$port.log" 2>&1 &
  REG_PID=$!
  wait_port "$port"
}
