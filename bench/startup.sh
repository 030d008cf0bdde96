#!/bin/sh
# Start-up benchmark (issue 21, goal 5: `bale --version` and `bale parse` of a small Dockerfile
# in at most 5 ms). Runs each command BENCH_RUNS times (default 200), alternating between the
# commands (and BALE_BEFORE, another bale binary, say of the main branch, when given), and
# prints per command the median and minimum wall time, the median CPU time (user + system,
# which the load of a shared machine disturbs less) and the shared libraries the dynamic
# loader mapped (LD_DEBUG=files; a command bale hands to bale-core counts both programs').
# Needs python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-startup}
runs=${BENCH_RUNS:-200}
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT INT TERM
printf 'FROM busybox\nARG V=1\nENV A=$V\nRUN echo hi > /x\nCOPY . /app\nCMD ["sh"]\n' > "$work/Dockerfile"
"$bale" --store "$work/store" prune > /dev/null # an empty store for `images`
echo "load $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores; $runs alternating runs each"
python3 - "$runs" "$work" "$bale" "${BALE_BEFORE:-}" <<'PY'
import os, statistics, subprocess, sys, time
runs, work, bale, before = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
store = os.path.join(work, "store")
cases = [("--version", ["--version"]),
         ("parse", ["parse", "-f", os.path.join(work, "Dockerfile")]),
         ("help", ["--help"]),
         ("images (bale-core)", ["--store", store, "images"])]
progs = [("bale", bale)] + ([("before", before)] if before else [])
jobs = [(p, name, [path] + args) for p, path in progs for name, args in cases]
null = os.open(os.devnull, os.O_RDWR)

def once(argv):
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench/startup.sh: failed: " + " ".join(argv))
    return wall, ru.ru_utime + ru.ru_stime

def libraries(argv):
    env = dict(os.environ, LD_DEBUG="files")
    err = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True).stderr
    return sum(1 for l in err.splitlines() if "generating link map" in l)

for _, _, argv in jobs:  # warm the page cache, create the store
    once(argv)
res = {j[:2]: ([], []) for j in jobs}
for _ in range(runs):
    for p, name, argv in jobs:
        w, c = once(argv)
        res[(p, name)][0].append(w)
        res[(p, name)][1].append(c)
print("%-8s %-20s %10s %10s %10s %6s" % ("program", "command", "median ms", "min ms",
                                          "CPU ms", "libs"))
for p, name, argv in jobs:
    w, c = res[(p, name)]
    print("%-8s %-20s %10.2f %10.2f %10.2f %6d" % (p, name, 1000 * statistics.median(w),
          1000 * min(w), 1000 * statistics.median(c), libraries(argv)))
# One line each for bench/all.sh's table (it collects the lines that say "median").
for p, name, argv in jobs:
    w, c = res[(p, name)]
    goal = " (goal <= 5 ms)" if name in ("--version", "parse") else ""
    print("%s %s: median %.2f ms, CPU %.2f ms%s" % (p, name, 1000 * statistics.median(w),
          1000 * statistics.median(c), goal))
PY
