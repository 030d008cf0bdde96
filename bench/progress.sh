#!/bin/sh
# What progress costs (issue 17, goal: the warm W1 build with --progress=plain within 5 % of
# -q): the W1 context of bench/copy.sh (BENCH_FILES small files plus BENCH_MB of binaries),
# `FROM busybox` + `COPY . /app`, built once, then rebuilt warm (every step cached) with -q,
# --progress=plain and --progress=rawjson in turn, BENCH_RUNS times each, alternating (the
# order rotated every round). Prints
# the median wall time and the median CPU time (user + system of bale and its children) of
# each mode and their ratios to -q. On a shared machine the CPU time is the measure: the wall
# time of two runs of one command varies by more than 5 % there.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-progress}
files=${BENCH_FILES:-20000}
mb=${BENCH_MB:-200}
runs=${BENCH_RUNS:-21}

mkdir -p "$work"
ctx=$work/ctx
sh "$here/mkcontext.sh" "$ctx" "$files" "$mb"
printf 'FROM busybox\nCOPY . /app\n' > "$work/Dockerfile"
export BALE_STORE="$work/store"
rm -rf "$BALE_STORE"
sh "$here/../examples/busybox-image.sh" "$work/busybox.tar"
"$bale" load -i "$work/busybox.tar" > /dev/null
"$bale" build -q -t w1 -f "$work/Dockerfile" "$ctx" > /dev/null
# measure ERR MODES ARGS...: bale build MODE ARGS for each mode of MODES (words), BENCH_RUNS
# rounds, the order rotated every round so no mode always follows the same one; stderr to
# ERR. Prints each mode's median CPU (user + system of bale and its children, from wait4's
# rusage: os.times counts ticks of 10 ms, too coarse for 5 % of a warm build) and wall time,
# and their ratios to the first mode's.
measure () {
  python3 - "$bale" "$runs" "$@" << 'PY'
import os, statistics, subprocess, sys, time
bale, runs, err, modes, args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(), sys.argv[5:]
cpu = {m: [] for m in modes}
wall = {m: [] for m in modes}
def run(mode):
    t = time.monotonic()
    with open(err, "w") as e:
        p = subprocess.Popen([bale, "build", mode] + args, stdout=subprocess.DEVNULL, stderr=e)
        _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bale build %s %s failed" % (mode, " ".join(args)))
    return ru.ru_utime + ru.ru_stime, time.monotonic() - t
for m in modes:
    run(m)  # warm the page cache for each mode once
for i in range(runs):
    for m in modes[i % len(modes):] + modes[:i % len(modes)]:
        c, w = run(m)
        cpu[m].append(c)
        wall[m].append(w)
q_cpu, q_wall = statistics.median(cpu[modes[0]]), statistics.median(wall[modes[0]])
for m in modes:
    c, w = statistics.median(cpu[m]), statistics.median(wall[m])
    print("%-20s CPU %.3f s (%.3f of %s)   wall %.3f s (%.3f of %s)" % (m, c, c / q_cpu, modes[0], w, w / q_wall, modes[0]))
PY
}

echo "W1 warm: $files files + $mb MB; medians of $runs runs, alternating"
measure /dev/null "-q --progress=plain --progress=rawjson" -t w1 -f "$work/Dockerfile" "$ctx"

# The same for exports (issue 17: the byte reports of "sending tarball"): the warm W1 build
# written as three OCI archives, -q against --progress=rawjson to a file, alternating. This
# was a check of tests/integration/export_progress.sh until a loaded CI machine moved one
# run's CPU time by more than the 5 % it allowed; a bench prints the ratio instead.
echo "W1 warm, exported as 3 OCI archives; medians of $runs runs, alternating"
measure "$work/export.err" "-q --progress=rawjson" -f "$work/Dockerfile" \
  -o "type=oci-archive,dest=$work/export0.tar" -o "type=oci-archive,dest=$work/export1.tar" \
  -o "type=oci-archive,dest=$work/export2.tar" "$ctx"
rm -f "$work"/export*.tar
