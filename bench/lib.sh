# Shared helpers of the benchmark scripts (sourced after setting $here, the bench directory;
# $work is the script's scratch directory, $runs its number of runs).
# shellcheck shell=sh
. "$here/../tests/cli/ports.sh"
now () { date +%s.%N; }
secs () { echo "$2 - $1" | bc -l; }
ratio () { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
median () { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
# quiet_sample: one second of the machine, printed as "CPU% DISK% DIRTY_KB": the share of all
# cores that was busy, the busiest disk's share of time doing I/O, and the page cache's dirty
# plus writeback data at the end.
quiet_sample () {
  _s0=$(head -n 1 /proc/stat) _d0=$(awk '{ print $3, $13 }' /proc/diskstats)
  sleep 1
  _s1=$(head -n 1 /proc/stat) _d1=$(awk '{ print $3, $13 }' /proc/diskstats)
  printf '%s\n%s\n' "$_s0" "$_s1" | awk '
    { t = 0; for (i = 2; i <= NF; i++) t += $i; idle[NR] = $5 + $6; total[NR] = t }
    END { printf "%d ", 100 * (1 - (idle[2] - idle[1]) / (total[2] - total[1] + 0.001)) }'
  printf '%s\n--\n%s\n' "$_d0" "$_d1" | awk '
    $0 == "--" { after = 1; next }
    !after { t0[$1] = $2; next }
    { d = ($2 - t0[$1]) / 10; if (d > m) m = d }
    END { printf "%d ", m }'
  awk '/^(Dirty|Writeback):/ { kb += $2 } END { print kb }' /proc/meminfo
}
# settle: wait until the machine is quiet before a timed build, the same for every builder, so
# no build pays for the work another left behind (docker's daemon keeps the disk and a core
# busy for seconds after its build returns, and a buildah or classic build leaves a gigabyte of
# dirty pages, which the kernel writes back 30 s later, in the middle of the next build).
# The dirty pages are written first (sync), then quiet: two one-second samples in a row with
# under 10 % of the cores busy, no disk busier than 5 % and under 16 MB of dirty data, after at
# least BENCH_SETTLE_MIN seconds (default 2); gives up after BENCH_SETTLE_MAX seconds (default
# 30) and says so. BENCH_SETTLE=0 turns it off.
settle () {
  [ "${BENCH_SETTLE:-1}" != 0 ] || return 0
  sync
  sleep "${BENCH_SETTLE_MIN:-2}"
  _quiet=0 _waited=0
  while [ "$_quiet" -lt 2 ]; do
    if [ "$_waited" -ge "${BENCH_SETTLE_MAX:-30}" ]; then
      echo "settle: not quiet after ${_waited}s (cpu% disk% dirty KB: $_sample); timing anyway" >&2
      return 0
    fi
    _sample=$(quiet_sample)
    _waited=$((_waited + 1))
    # shellcheck disable=SC2086
    set -- $_sample
    if [ "$1" -lt 10 ] && [ "$2" -le 5 ] && [ "$3" -lt 16384 ]; then _quiet=$((_quiet + 1)); else _quiet=0; fi
  done
}
# deletion_window DIR: the seconds a build on DIR's filesystem must wait after another
# builder's builds. On ext4 without a journal the kernel does not reuse an inode within 60 s of
# its deletion (fs/ext4/ialloc.c, recently_deleted: RECENTCY_MIN, 300 s more while its inode
# table block is dirty), and creating files walks past every such inode: here `cp -a` of a
# Debian /usr/share (74 MB, 10,000 files) took 0.25 s, and 1.7-3.8 s (all system time) in the
# minute after 74 MB of other files were deleted. Docker's classic builder and buildah delete
# their containers' copies of the root after each build, so whichever builder ran next paid
# for them. 62 there, 0 on every other filesystem; BENCH_FS_WINDOW overrides it.
deletion_window () {
  if [ -n "${BENCH_FS_WINDOW:-}" ]; then echo "$BENCH_FS_WINDOW"; return; fi
  _dev=$(df --output=source "$1" 2> /dev/null | tail -n 1)
  _dev=${_dev#/dev/}
  if [ -n "$_dev" ] && [ -d "/proc/fs/ext4/$_dev" ] && ! [ -e "/proc/fs/jbd2/$_dev-8" ]; then echo 62; else echo 0; fi
}
# timed NAME CMD...: once the machine is quiet (settle), run CMD (output in $work/NAME.log) and
# append its wall time in seconds to $work/t.NAME; a failure appends nothing and says so on
# stderr.
timed () {
  _name=$1
  shift
  settle
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
# 127.0.0.1 (start_registry_in, ../tests/cli/ports.sh); sets R (host:port) and REG_PID.
start_registry () {
  start_registry_in "$(mktemp -d "$work/registry.XXXXXX")" 127.0.0.1 || return 1
  R=127.0.0.1:$port
  REG_PID=$server_pid
}
