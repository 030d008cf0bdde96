#!/bin/sh
# mkcontext.sh CTX FILES MB: the benchmark build context (bench/copy.sh, bench/cache.sh):
# FILES small text files in 200 directories under src/ plus MB megabytes of random binaries
# under bin/, and a Dockerfile `FROM busybox` + `COPY . /app` (+ RUN). Made once: a marker
# file says it is complete for these sizes.
set -eu
ctx=$1 files=$2 mb=$3
[ -f "$ctx/.complete-$files-$mb" ] && exit 0
rm -rf "$ctx" && mkdir -p "$ctx/src" "$ctx/bin"
python3 - "$ctx" "$files" "$mb" <<'PY'
import os, sys, random
ctx, files, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(1)
for i in range(files):
    d = os.path.join(ctx, "src", "d%03d" % (i % 200))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.txt" % i), "wb") as f:
        f.write(("file %d\n" % i).encode() * r.randint(1, 40))
for i in range(mb // 20):
    with open(os.path.join(ctx, "bin", "blob%d.bin" % i), "wb") as f:
        f.write(os.urandom(20 << 20))
PY
printf 'FROM busybox\nCOPY . /app\n' > "$ctx/Dockerfile"
touch "$ctx/.complete-$files-$mb"
