#!/bin/sh
# Build the fuzzers with clang (libFuzzer, ASan, UBSan) in their own build tree and run them:
# the Dockerfile parser and the compiler (fuzz_plan.c: what parses is planned) for half of
# FUZZ_SECONDS (default 60) each, seeded with every Dockerfile the tests know and the
# parser's corpus, and the registry-facing parsers (fuzz_registry.c) for half of it.
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
echo "fuzzing the parser for $((seconds / 2))s with $(ls seeds | wc -l) seeds"
ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_parse -max_total_time="$((seconds / 2))" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 work seeds
mkdir -p pwork
echo "fuzzing the compiler for $((seconds / 2))s"
ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_plan -max_total_time="$((seconds / 2))" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 pwork seeds work

# fuzz_registry: the first byte picks the parser (0 challenge, 1 reference, 2 index, 3 cache
# config), the second is a layer count.
mkdir -p rseeds rwork
printf '\000\000Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push"' > rseeds/challenge
printf '\000\000Basic realm="x", Bearer realm="y",error="insufficient_scope"' > rseeds/challenge2
printf '\001\000127.0.0.1:5000/a/b:tag@sha256:%s' "$(printf %064d 0)" > rseeds/ref
printf '\002\000{"manifests":[{"digest":"sha256:%s","platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}' "$(printf %064d 1)" > rseeds/index
printf '\003\002{"entries":[{"key":"sha256:%s","layer":1,"digest":"sha256:%s","diff_id":"sha256:%s","size":7,"media_type":"application/vnd.oci.image.layer.v1.tar"}]}' \
  "$(printf %064d 1)" "$(printf %064d 2)" "$(printf %064d 2)" > rseeds/cache
echo "fuzzing the registry parsers for $((seconds / 2))s"
ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz_registry -max_total_time="$((seconds / 2))" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 rwork rseeds
