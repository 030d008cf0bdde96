#!/bin/sh
# examples/embed/embed.c against the INSTALLED library: `make install` into a scratch root
# under the build directory, the example compiled with the installed bale.pc (pkg-config),
# run on a busybox store; the image it reports must be the one `bale images` and
# `bale inspect` show, and it must run.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store || { echo "Bail out! cannot load the busybox base"; exit 1; }
root=$(cd "$top_builddir" && pwd)/tests/cli/embed-root
rm -rf "$root"
trap 'rm -rf "$T_TMP" "$root"' EXIT
check "make install into a scratch root" \
  ${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$root"
pc=$(find "$root" -name bale.pc | head -1)
check "bale.pc is installed" test -f "$pc"
export PKG_CONFIG_PATH="${pc%/bale.pc}" PKG_CONFIG_SYSROOT_DIR="$root"
libdir=$(pkg-config --variable=libdir bale)
# CC, CFLAGS and LDFLAGS of the build: a sanitizer build's library needs the same runtime.
# shellcheck disable=SC2086
check "the example compiles against the installed library alone" \
  sh -c "${CC:-cc} ${EMBED_CFLAGS:-} -Wall -Wextra -Werror -o '$T_TMP/embed' \
    '$top_srcdir/examples/embed/embed.c' \$(pkg-config --cflags --libs bale) ${EMBED_LDFLAGS:-}"
check "the example needs libbale.so.1" \
  sh -c "readelf -d '$T_TMP/embed' | grep -q 'NEEDED.*libbale\\.so\\.1'"
cp -r "$top_srcdir/examples/embed/context" "$T_TMP/ctx-embed"
LD_LIBRARY_PATH="$libdir" "$T_TMP/embed" "$BALE_STORE" "$T_TMP/ctx-embed" embed/test:1 \
  GREETING=bonjour > "$T_TMP/out" 2> "$T_TMP/progress"
check "the example builds the image" test $? -eq 0
id=$(sed -n 's/^id //p' "$T_TMP/out")
digest=$(sed -n 's/^digest //p' "$T_TMP/out")
check "it printed an image ID and a digest" \
  sh -c "echo '$id' | grep -Eq '^sha256:[0-9a-f]{64}\$' && echo '$digest' | grep -Eq '^sha256:[0-9a-f]{64}\$'"
check "its progress callback saw the RUN step's output" \
  grep -q '^log    bonjour from a RUN step$' "$T_TMP/progress"
check "its progress callback saw the steps start and end" \
  sh -c "grep -q '^start  \\[3/3\\] RUN' '$T_TMP/progress' && grep -q '^done   \\[3/3\\] RUN' '$T_TMP/progress'"
check "bale inspect shows the same image ID" \
  sh -c "'$BALE' inspect embed/test:1 | jq -e --arg id '$id' '.[0].Id == \$id'"
check "bale images shows the same digest and ID" \
  sh -c "'$BALE' images --format json | jq -e -s --arg d '$digest' --arg id '$id' \
    'map(select(.Repository == \"embed/test\" and .Tag == \"1\" and .Digest == \$d and .ID == (\$id[7:19]))) | length == 1'"
check "the image runs" \
  sh -c "'$BALE' run embed/test:1 | grep -q 'bonjour from a RUN step'"
check "a failing build reports a located error" \
  sh -c "printf 'FROM busybox\nRUN exit 3\n' > '$T_TMP/ctx-embed/Dockerfile';
    ! LD_LIBRARY_PATH='$libdir' '$T_TMP/embed' '$BALE_STORE' '$T_TMP/ctx-embed' embed/bad 2> '$T_TMP/err' &&
    grep -q 'Dockerfile:2' '$T_TMP/err' && ! '$BALE' inspect embed/bad > /dev/null 2>&1"
done_testing
