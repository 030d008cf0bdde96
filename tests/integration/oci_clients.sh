#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Check images written by the OCI output API with real clients (skopeo, umoci); TAP output.
#
# MKIMAGE names the tests/helpers/mkimage binary (default: $top_builddir/tests/helpers/mkimage).
# A missing client is a failure, not a skip: the point of this test is that they accept us.

set -u

MKIMAGE=${MKIMAGE:-${top_builddir:-.}/tests/helpers/mkimage}
NAME=bale-test:v1
TAG=v1
n=0
failed=0

ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
# Run a check; show its output as TAP diagnostics when it fails.
check () {
  desc=$1; shift
  if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc"; printf '%s\n' "$out" | sed 's/^/# /'; fi
}
bail () { echo "Bail out! $1"; exit 1; }

for tool in skopeo umoci cmp grep; do
  command -v "$tool" >/dev/null 2>&1 \
    || bail "'$tool' is not installed (apt-get install -y skopeo umoci); refusing to skip"
done
[ -x "$MKIMAGE" ] || bail "'$MKIMAGE' is not built; set MKIMAGE"

work=$(mktemp -d "${TMPDIR:-/tmp}/bale-oci-clients.XXXXXX") || bail "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT INT TERM
layout=$work/layout
docker_tar=$work/docker.tar
oci_tar=$work/oci.tar

echo "1..14"

"$MKIMAGE" "$layout" "$docker_tar" "$oci_tar" "$NAME" >"$work/digests" 2>"$work/mkimage.err" \
  || { sed 's/^/# /' "$work/mkimage.err"; bail "mkimage failed"; }
manifest=$(sed -n 's/^manifest //p' "$work/digests")
config=$(sed -n 's/^config //p' "$work/digests")
diff_id=$(sed -n 's/^diff_id //p' "$work/digests")
blob () { echo "$layout/blobs/sha256/${1#sha256:}"; }

# skopeo reads the layout and reports our manifest digest.
check "skopeo inspect oci:" sh -c 'skopeo inspect "oci:$1:$2" >"$3" && grep -q "\"Digest\": \"$4\"" "$3"' \
  _ "$layout" "$TAG" "$work/inspect.json" "$manifest"
check "skopeo sees the manifest bytes we wrote" \
  sh -c 'skopeo inspect --raw "oci:$1:$2" | cmp - "$3"' _ "$layout" "$TAG" "$(blob "$manifest")"
check "skopeo sees the config bytes we wrote" \
  sh -c 'skopeo inspect --config --raw "oci:$1:$2" | cmp - "$3"' _ "$layout" "$TAG" "$(blob "$config")"

# skopeo copy verifies every blob against its digest.
check "skopeo copy oci: dir:" skopeo copy --quiet "oci:$layout:$TAG" "dir:$work/copy"
check "copied manifest is byte-identical" cmp "$work/copy/manifest.json" "$(blob "$manifest")"

# umoci: a different implementation, with its own layout and image checks.
check "umoci stat" sh -c 'umoci stat --image "$1:$2" >"$3" && grep -q "COPY hello /hello" "$3"' \
  _ "$layout" "$TAG" "$work/stat.txt"
unpack_opts=""
[ "$(id -u)" = 0 ] || unpack_opts=--rootless
check "umoci unpack" umoci unpack $unpack_opts --image "$layout:$TAG" "$work/bundle"
check "unpacked /hello has our content" grep -qx 'echo hello from bale' "$work/bundle/rootfs/hello"
check "unpacked runtime config runs /hello" \
  sh -c 'tr -d " \t\n" <"$1" | grep -q "\"args\":\[\"/hello\"\]"' _ "$work/bundle/config.json"

# docker-archive: containers/image decompresses the layer and checks it against diff_ids.
check "skopeo inspect docker-archive:" \
  sh -c 'skopeo inspect "docker-archive:$1" >"$2" && grep -q "$3" "$2"' _ "$docker_tar" "$work/da.json" "$diff_id"
check "skopeo inspect docker-archive: by name" skopeo inspect "docker-archive:$docker_tar:$NAME"
check "skopeo copy docker-archive: oci:" skopeo copy --quiet "docker-archive:$docker_tar" "oci:$work/from-docker:x"

check "skopeo inspect oci-archive:" \
  sh -c 'skopeo inspect --raw "oci-archive:$1:$2" | cmp - "$3"' _ "$oci_tar" "$TAG" "$(blob "$manifest")"

# Sanity check of this harness: a layout with a corrupted layer must be rejected.
cp -r "$layout" "$work/bad"
layer=$(sed -n 's/^layer //p' "$work/digests")
printf 'X' | dd of="$work/bad/blobs/sha256/${layer#sha256:}" bs=1 seek=20 conv=notrunc 2>/dev/null
if skopeo copy --quiet "oci:$work/bad:$TAG" "dir:$work/bad-copy" >/dev/null 2>&1; then
  not_ok "skopeo rejects a corrupted layer"
else
  ok "skopeo rejects a corrupted layer"
fi

[ "$failed" -eq 0 ]
