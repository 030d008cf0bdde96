#!/bin/sh
# The front program (README, "Start-up"): version, help and parse run without mapping libcurl
# or libarchive; every other command runs in bale-core, found beside bale in the build tree,
# and a front without one says where it looked.
. "${top_srcdir:-.}/tests/cli/lib.sh"

printf 'FROM scratch\nENV A=1\n' > "$T_TMP/Dockerfile"

# maps CMD...: the shared objects the dynamic loader mapped for CMD (every process it execs).
maps () { LD_DEBUG=files "$@" 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\) .*generating link map.*/\1/p'; }

light () {
  for args in "--version" "version" "--help" "help parse" "parse -f $T_TMP/Dockerfile"; do
    # shellcheck disable=SC2086
    m=$(maps "$BALE" $args) || return 1
    printf '%s: %s\n' "$args" "$(echo $m)"
    [ -n "$m" ] && ! printf '%s\n' "$m" | grep -q -e libcurl -e libarchive -e libcrypto || return 1
  done
}
check "version, help and parse load neither libcurl, libarchive nor libcrypto" light

core () {
  "$BALE" --store "$T_TMP/store" prune > /dev/null &&
    m=$(maps "$BALE" --store "$T_TMP/store" images) && printf '%s\n' "$m" | grep -q libcurl &&
    "$BALE" --store "$T_TMP/store" images | grep -q '^REPOSITORY' &&
    "$BALE" help images | grep -q '^usage: bale images' &&
    "$BALE" --store "$T_TMP/store" plan -f "$T_TMP/Dockerfile" | grep -q ENV
}
check "other commands run in bale-core, with the same arguments" core

alone () {
  cp "$BALE" "$T_TMP/bale" && "$T_TMP/bale" --version | grep -q '^bale ' &&
    ! "$T_TMP/bale" images > /dev/null 2> "$T_TMP/err" &&
    grep -q "^bale: cannot execute '/.*/bale-core': " "$T_TMP/err"
}
check "a front without bale-core says which one it could not execute" alone

done_testing
