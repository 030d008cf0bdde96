#!/bin/sh
# Where a RUN step's time goes (issue 21): builds W3 (30 trivial RUN steps on busybox) and W4
# (`cp -a /usr/share` on Debian) BENCH_RUNS times with BALE_TRACE set, and prints for each
# the time between consecutive marks of common/trace.h summed over the runs' steps, per step
# (ms) and as a share of the build. The marks: step (cache look-up and record), run (scratch
# directories, overlay lower list, mounts), sandbox (prepared in the parent, the namespaced
# child started, its root mounted and the user resolved, the command forked, its status
# back, the child reaped, the scratch removed), layer (the upper directory walked into a tar,
# hashed and written to the store's temporary file), store (fsync and rename into blobs/),
# snapshot adoption (the upper directory renamed into the snapshot cache).
# Needs the peers' base images (../shared/tools/peers-up.sh) or BENCH_BUSYBOX/BENCH_DEBIAN.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
work=${BENCH_DIR:-/tmp/bale-bench-breakdown}
runs=${BENCH_RUNS:-3}
debian=${BENCH_DEBIAN:-/tmp/peers/debian.tar}

rm -rf "$work" && mkdir -p "$work/w3" "$work/w4"
echo 'FROM busybox' > "$work/w3/Dockerfile"
for i in $(seq 0 29); do echo "RUN echo step $i > /step$i" >> "$work/w3/Dockerfile"; done
printf '%s\n' 'FROM debian:bookworm' 'RUN cp -a /usr/share /opt/x && rm -rf /usr/share/doc' > "$work/w4/Dockerfile"
export BALE_STORE="$work/store"
sh "$here/../examples/busybox-image.sh" "$work/busybox.tar"
"$bale" load -i "$work/busybox.tar" > /dev/null
"$bale" run busybox true
ws=w3
if [ -f "$debian" ]; then
  "$bale" load -i "$debian" > /dev/null && "$bale" run debian:bookworm true && ws="w3 w4"
fi

for w in $ws; do
  steps=$(grep -c '^RUN' "$work/$w/Dockerfile")
  for r in $(seq "$runs"); do
    BALE_TRACE="$work/$w.$r.trace" "$bale" build --no-cache -q -t "breakdown-$w" "$work/$w" > /dev/null
  done
  echo "== $w: $steps RUN step(s) a build, $runs builds (load $(cut -d' ' -f1 /proc/loadavg))"
  printf '%9s %6s  %s\n' "ms/step" share "from mark -> to mark"
  for r in $(seq "$runs"); do sort -n "$work/$w.$r.trace" | sed "s/^/$r /"; done | awk -v steps="$steps" -v runs="$runs" '
    { r = $1; t = $2; $1 = $2 = $3 = ""; what = substr($0, 4)
      if (r != run) { if (run != "") total += pt - first; run = r; first = t; prev = "" }
      if (prev != "") { k = prev " -> " what; sum[k] += t - pt; if (!(k in order)) { order[k] = ++n; key[n] = k } }
      prev = what; pt = t }
    END { total += pt - first
      for (i = 1; i <= n; i++) { k = key[i]; if (sum[k] * 1000 / runs < 0.5) continue
        printf "%9.1f %5.1f%%  %s\n", 1000 * sum[k] / (runs * steps), 100 * sum[k] / total, k }
      printf "%9.1f %5.1f%%  the whole build (ms a build: %.0f)\n", 1000 * total / (runs * steps), 100, 1000 * total / runs }'
done
