#!/bin/sh
# The front program (README, "Start-up"): version, help and parse run without mapping libcurl
# or libarchive; every other command runs in bale-core, found beside bale in the build tree,
# and a front without one says where it looked. bale-core loads libcurl only when it reaches
# the network, and says so when it cannot.
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
    m=$(maps "$BALE" --store "$T_TMP/store" images) && printf '%s\n' "$m" | grep -q libarchive &&
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

# A build from a local image and its RUN steps never map libcurl; a pull does.
lazy_curl () {
  sh "$top_srcdir/examples/busybox-image.sh" "$T_TMP/busybox.tar" > /dev/null &&
    "$BALE" --store "$T_TMP/store" load -i "$T_TMP/busybox.tar" > /dev/null &&
    printf 'FROM busybox\nRUN echo hi > /x\nCOPY Dockerfile /\n' > "$T_TMP/ctx.Dockerfile" &&
    m=$(maps "$BALE" --store "$T_TMP/store" build -q -f "$T_TMP/ctx.Dockerfile" "$T_TMP") &&
    printf '%s\n' "$m" | grep -q libarchive && ! printf '%s\n' "$m" | grep -q libcurl &&
    m=$(maps "$BALE" --store "$T_TMP/store" pull 127.0.0.1:1/none:1) &&
    printf '%s\n' "$m" | grep -q libcurl
}
check "a local build does not load libcurl, a pull does" lazy_curl

# A libcurl.so.4 that is not libcurl: the pull fails and names what is missing.
fake_curl () {
  mkdir -p "$T_TMP/fakecurl" &&
    printf 'int not_curl;\n' > "$T_TMP/fakecurl/f.c" &&
    ${CC:-cc} -shared -fPIC -o "$T_TMP/fakecurl/libcurl.so.4" "$T_TMP/fakecurl/f.c" &&
    ! LD_LIBRARY_PATH="$T_TMP/fakecurl" "$BALE" --store "$T_TMP/store" pull 127.0.0.1:1/none:1 \
      > /dev/null 2> "$T_TMP/err" &&
    cat "$T_TMP/err" &&
    grep -q "libcurl.so.4 has no function curl_global_init" "$T_TMP/err"
}
check "a libcurl.so.4 without libcurl's functions fails the pull with their name" fake_curl

done_testing
