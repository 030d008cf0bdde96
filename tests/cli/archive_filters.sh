#!/bin/sh
# Nothing outside the build runs on untrusted data (issue 14 section 3): `bale load` reads
# exactly the compressions an image may use (none, gzip, zstd; xz and bzip2), all in-process.
# An archive with the magic of another (lrzip, lzop, grzip, lz4, lzip, compress) is refused,
# and strace sees no execve but bale's own (and its bale-core's), even with decompressors planted first in PATH.
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
export BALE_STORE="$T_TMP/store"
mkdir -p "$T_TMP/bin"
for p in lrzip lzop grzip lz4 lzip lzma xz unxz bzip2 bunzip2 gzip gunzip zstd unzstd compress uncompress; do
  printf '#!/bin/sh\ntouch "%s/ran-%s"\nexec cat\n' "$T_TMP" "$p" > "$T_TMP/bin/$p"
  chmod +x "$T_TMP/bin/$p"
done

# traced FILE: bale load -i FILE under strace, PATH led by the planted programs. The exit
# status is bale's; $T_TMP/trace holds the execve calls. LeakSanitizer cannot run under
# ptrace, so a sanitizer build checks leaks everywhere but here.
traced () {
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" PATH="$T_TMP/bin:$PATH" strace -f -qq -e trace=execve -o "$T_TMP/trace" \
    "$BALE" load -i "$1" > "$T_TMP/out" 2>&1
}
# one_execve: strace saw bale's own execve, bale's of bale-core (which runs load) and nothing
# else; no planted program ran.
one_execve () {
  n=$(grep -c 'execve(' "$T_TMP/trace")
  [ "$n" = 2 ] && sed -n '2p' "$T_TMP/trace" | grep -q 'execve("[^"]*/bale-core"' ||
    { echo "execve calls: $n"; cat "$T_TMP/trace"; return 1; }
  ! ls "$T_TMP"/ran-* > /dev/null 2>&1 || { echo "ran:"; ls "$T_TMP"/ran-*; return 1; }
}

refused_magics () {
  # Magic numbers of the filters libarchive would run as external programs.
  for m in 'LRZI\000\006\000' '\211LZO\000\r\n\032\n' 'GRZipII\000\002\004:)' '\004"M\030' \
    'LZIP\001' '\037\235\220'; do
    { printf "$m"; head -c 4096 /dev/urandom; } > "$T_TMP/evil"
    ! traced "$T_TMP/evil" || { echo "loaded: $m"; cat "$T_TMP/out"; return 1; }
    one_execve || return 1
  done
}
check "bale load: lrzip, lzop, grzip, lz4, lzip, compress magic refused without any execve" refused_magics

accepted_compressions () {
  busybox_archive "$T_TMP/bb.tar" > /dev/null || return 1
  for c in none gzip zstd xz bzip2; do
    case $c in
      none) cp "$T_TMP/bb.tar" "$T_TMP/bb.$c" ;;
      zstd) zstd -q -c "$T_TMP/bb.tar" > "$T_TMP/bb.$c" ;;
      *) $c -c "$T_TMP/bb.tar" > "$T_TMP/bb.$c" ;;
    esac
    traced "$T_TMP/bb.$c" || { echo "$c:"; cat "$T_TMP/out"; return 1; }
    grep -q "Loaded image" "$T_TMP/out" && one_execve || { echo "$c"; return 1; }
  done
}
check "bale load: none, gzip, zstd, xz and bzip2 archives load in-process (one execve: bale)" accepted_compressions

done_testing
