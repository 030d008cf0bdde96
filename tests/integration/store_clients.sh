#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `bale load` and `bale save` against real clients (skopeo, umoci); TAP output.
#
# The base image is Debian's busybox-static, packed by examples/busybox-image.sh: no network.
# A missing client is a failure, not a skip: CI installs them (.ci/run).

. "${top_srcdir:-.}/tests/cli/lib.sh"
set -u

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac

for tool in skopeo umoci tar python3 sha256sum cmp; do
  command -v "$tool" >/dev/null 2>&1 \
    || bail "'$tool' is not installed (apt-get install -y skopeo umoci python3); refusing to skip"
done
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || bail "'$BUSYBOX' is missing (apt-get install -y busybox-static)"
[ -x "$BALE" ] || bail "'$BALE' is not built"

work=$T_TMP
export BALE_STORE="$work/store"
rootless=""
[ "$(id -u)" = 0 ] || rootless=--rootless

# The base: examples/busybox-image.sh's legacy docker-archive (bin/busybox and its applet
# links), turned into an OCI layout by skopeo (so the layout is skopeo's, not ours).
sh "${top_srcdir:-.}/examples/busybox-image.sh" "$work/hand.tar" busybox:latest || bail "cannot pack busybox"
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
diff_id=$(python3 -c '
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    get = lambda n: json.load(t.extractfile(t.getmember("./" + n)))
    print(get(get("manifest.json")[0]["Config"])["rootfs"]["diff_ids"][0])' "$work/hand.tar") \
  || bail "cannot read the diff_id of the base"
skopeo copy --quiet "docker-archive:$work/hand.tar" "oci:$work/oci:busybox" >"$work/err" 2>&1 \
  || { sed 's/^/# /' "$work/err"; bail "skopeo cannot read the hand-made base archive"; }

# 1-4: skopeo writes a docker-archive, bale loads it.
check "skopeo copy oci: docker-archive:" \
  skopeo copy --quiet "oci:$work/oci:busybox" "docker-archive:$work/sk.tar:busybox:latest"
check "bale load of skopeo's docker-archive" \
  sh -c '"$1" load -i "$2" | grep -qx "Loaded image: busybox:latest"' _ "$BALE" "$work/sk.tar"
check "bale images lists it" sh -c '"$1" images | grep -q "^busybox  *latest "' _ "$BALE"
check "bale inspect: the layer's diff_id and the command" \
  sh -c '"$1" inspect busybox > "$2" && grep -q "$3" "$2" && grep -q "\"sh\"" "$2"' \
  _ "$BALE" "$work/inspect.json" "$diff_id"

# 5-9: bale saves, skopeo and umoci read it.
check "bale save" "$BALE" save -o "$work/saved.tar" busybox
check "skopeo inspect docker-archive: of bale save" \
  sh -c 'skopeo inspect "docker-archive:$1" > "$2" && grep -q "$3" "$2" && grep -q "\"Architecture\": \"$4\"" "$2"' \
  _ "$work/saved.tar" "$work/sk-inspect.json" "$diff_id" "$arch"
check "skopeo inspect docker-archive: by name" skopeo inspect "docker-archive:$work/saved.tar:busybox:latest"
check "skopeo copy docker-archive: oci: (verifies every blob)" \
  skopeo copy --quiet "docker-archive:$work/saved.tar" "oci:$work/back:x"
check "umoci unpack: busybox arrives intact and runs" \
  sh -c 'umoci unpack $1 --image "$2:x" "$3" >/dev/null && cmp "$3/rootfs/bin/busybox" "$4" &&
         [ "$(readlink "$3/rootfs/bin/sh")" = busybox ] && "$3/rootfs/bin/busybox" echo ran | grep -qx ran' \
  _ "$rootless" "$work/back" "$work/bundle" "$BUSYBOX"

# 10-11: an OCI archive named by org.opencontainers.image.ref.name, and an OCI layout
# directory that umoci built (a bare tag as ref.name: the image stays unnamed).
check "bale load of skopeo's oci-archive keeps its name" \
  sh -c 'skopeo copy --quiet "oci:$1:busybox" "oci-archive:$2:example.com/bb:1.0" &&
         "$3" load -i "$2" | grep -qx "Loaded image: example.com/bb:1.0"' _ "$work/oci" "$work/oa.tar" "$BALE"
check "bale load of an OCI layout made by umoci" \
  sh -c 'umoci init --layout "$1" && umoci new --image "$1:base" &&
         umoci insert $2 --image "$1:base" "$3" /bin/busybox >/dev/null &&
         "$4" load -i "$1" > "$5" && grep -q "^Loaded image ID: sha256:" "$5" &&
         "$4" tag "$(sed -n "s/^Loaded image ID: //p" "$5")" umoci:1 && "$4" inspect umoci:1 >/dev/null' \
  _ "$work/um" "$rootless" "$BUSYBOX" "$BALE" "$work/um.out"

# 12-13: a multi-image archive, read back by skopeo per name.
check "bale save of two images" "$BALE" save -o "$work/two.tar" busybox umoci:1
check "skopeo reads both images of it" \
  sh -c 'skopeo inspect "docker-archive:$1:busybox:latest" >/dev/null &&
         skopeo inspect "docker-archive:$1:umoci:1" >/dev/null' _ "$work/two.tar"

# 14: sanity check of this harness: a corrupted layer in an archive must be rejected by bale.
mkdir -p "$work/bad" && tar -C "$work/bad" -xf "$work/sk.tar"
layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Layers"][0])' "$work/bad/manifest.json")
printf 'X' | dd of="$work/bad/$layer" bs=1 seek=600 conv=notrunc 2>/dev/null
tar -C "$work/bad" -cf "$work/bad.tar" .
check "bale rejects a corrupted layer" sh -c '! BALE_STORE="$1" "$2" load -i "$3" 2>"$4" && grep "invalid diffID for layer 0" "$4"' \
  _ "$work/store-bad" "$BALE" "$work/bad.tar" "$work/err"

done_testing
