#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A Debian base made by mmdebstrap, then `RUN apt-get install` in bale's sandbox; TAP output.
#
# The base is `mmdebstrap --variant=minbase bookworm` from the Debian mirror apt is configured
# with (the only network CI has), packed as a docker-archive the way examples/busybox-image.sh
# packs busybox and loaded with `bale load`. The rootfs tarball is cached in $BALE_DEBIAN_CACHE
# (default /var/tmp, or $T_TMP where there is no /var/tmp), so only the first run pays for
# mmdebstrap. Needs root and the mirror. A missing tool is a failure, not a skip.

set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
for tool in mmdebstrap apt-get tar sha256sum; do
  command -v "$tool" > /dev/null 2>&1 ||
    bail "'$tool' is not installed (.ci/run installs it); refusing to skip"
done
[ -x "$BALE" ] || bail "'$BALE' is not built"
[ "$(id -u)" = 0 ] || bail "must run as root (mmdebstrap, bale's sandbox)"
export BALE_STORE="$T_TMP/store"

. "${top_srcdir:-.}/tests/integration/debian_base.sh"
check "mmdebstrap --variant=minbase bookworm from $mirror (cached in $cache_dir)" make_rootfs
[ -s "$rootfs" ] || { done_testing; exit 1; }

check "packed as a docker-archive, bale load takes it" pack

mkdir -p "$T_TMP/ctx"
cat > "$T_TMP/ctx/Dockerfile" << 'EOF'
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends hello attr libcap2-bin && rm -rf /var/lib/apt/lists/*
RUN touch /xa && setfattr -n user.bale -v kept /xa && cp /bin/true /capped && setcap cap_net_raw+ep /capped
CMD ["hello"]
EOF

build () {
  "$BALE" build -q -t bale-test/hello "$T_TMP/ctx" > "$T_TMP/build.log" 2>&1 ||
    { tail -30 "$T_TMP/build.log"; return 1; }
}
check "bale build: FROM debian, RUN apt-get install hello, CMD" build

hello () {
  got=$("$BALE" run --rm bale-test/hello 2>&1)
  [ "$got" = "Hello, world!" ] || { echo "got [$got]"; return 1; }
}
check "bale run prints Hello, world!" hello

installed () {
  got=$("$BALE" run --rm bale-test/hello dpkg-query -W -f '${Status}' hello 2>&1)
  [ "$got" = "install ok installed" ] || { echo "got [$got]"; return 1; }
}
check "dpkg knows hello is installed" installed

xattrs_from_run () {
  # Extended attributes a RUN step sets (user.* and security.capability) reach the layer.
  "$BALE" build -q -t bale-test/hello --output "type=oci,dest=$T_TMP/hello.oci" "$T_TMP/ctx" > /dev/null 2>&1 &&
    umoci unpack --image "$T_TMP/hello.oci:latest" "$T_TMP/unpacked" > /dev/null 2>&1 || return 1
  [ "$(getfattr --only-values -n user.bale "$T_TMP/unpacked/rootfs/xa" 2>/dev/null)" = kept ] &&
    getcap "$T_TMP/unpacked/rootfs/capped" | grep -q "cap_net_raw[=+]ep" &&
    [ "$("$BALE" run bale-test/hello getfattr --only-values -n user.bale /xa)" = kept ]
}
check "xattrs set by RUN (user.*, security.capability) are in the layer" xattrs_from_run

done_testing
