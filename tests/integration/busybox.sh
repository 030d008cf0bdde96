# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# busybox_archive DIR CONFIG TAG OUT: a legacy docker-archive (manifest.json, c.json,
# l/layer.tar) made with tar alone, holding Debian's static /bin/busybox as bin/busybox and
# bin/sh -> busybox. CONFIG is the image's "config" object; TAG its RepoTag. Sets $diff_id
# and $arch. No network: the base images of the tests come from Debian packages only.
: "${BUSYBOX:=/bin/busybox}"

busybox_archive () {
  mkdir -p "$1/root/bin" "$1/arch/l" &&
    cp "$BUSYBOX" "$1/root/bin/busybox" && ln -sf busybox "$1/root/bin/sh" &&
    tar -C "$1/root" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$1/arch/l/layer.tar" bin ||
    return 1
  diff_id=sha256:$(sha256sum "$1/arch/l/layer.tar" | cut -d' ' -f1)
  arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
  printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$arch" "$2" "$diff_id" > "$1/arch/c.json" &&
    printf '[{"Config":"c.json","RepoTags":["%s"],"Layers":["l/layer.tar"]}]' "$3" > "$1/arch/manifest.json" &&
    tar -C "$1/arch" -cf "$4" manifest.json c.json l
}
