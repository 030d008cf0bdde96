#!/bin/sh
# Build the parser fuzzer with clang (libFuzzer, ASan, UBSan) in its own build tree and run it
# for FUZZ_SECONDS (default 60), seeded with every Dockerfile the tests know.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$src/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
mkdir -p "$build" "$build/seeds" "$build/work"
cd "$build"
if [ ! -f Makefile ]; then
  "$src/configure" -q --enable-fuzz CC=clang \
    CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
fi
make -s -j"$(nproc)"
i=0
for f in "$src"/tests/corpus/buildkit-parser/*/*/Dockerfile "$src"/tests/corpus/buildkit-parser/testfile-line/Dockerfile "$src"/examples/*/Dockerfile; do
  [ -f "$f" ] && cp "$f" "seeds/seed-$i" && i=$((i + 1))
done
# Each data-driven case's Dockerfile is a seed too.
awk '/^%%TEST /{n++; f=sprintf("seeds/data-%d", n); on=1; next} /^%%/{on=0} on{print > f}' "$src"/tests/data/parse/*.test
echo "fuzzing for ${seconds}s with $(ls seeds | wc -l) seeds"
ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_parse -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 work seeds
