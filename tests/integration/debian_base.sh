# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian base of the integration tests, sourced after tests/cli/lib.sh (needs $T_TMP, $BALE
# and bail): `mmdebstrap --variant=minbase bookworm` from the Debian mirror apt is configured
# with, cached in $BALE_DEBIAN_CACHE (default /var/tmp, or $T_TMP where there is no /var/tmp),
# and `pack`, which loads it into $BALE_STORE as debian:bookworm.

cache_dir=${BALE_DEBIAN_CACHE:-/var/tmp}
[ -d "$cache_dir" ] || cache_dir=$T_TMP
rootfs=$cache_dir/bale-test-debian-bookworm-minbase.tar

# The bookworm main repository of apt's own configuration (/etc/apt/sources.list(.d)).
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
  awk '$2 == "bookworm" && $3 == "main" { print $1; exit }')
[ -n "$mirror" ] || bail "apt has no bookworm main repository configured"

# make_rootfs: mmdebstrap's tarball, once; written beside its final name, then renamed. Under
# a lock: tests that run at once (make -j check) wait for the one making it instead of each
# running mmdebstrap.
make_rootfs () {
  [ -s "$rootfs" ] && return 0
  (
    flock 9 || exit 1
    [ -s "$rootfs" ] && exit 0
    mmdebstrap --quiet --variant=minbase --mode=root bookworm "$rootfs.$$.tmp.tar" "$mirror" < /dev/null &&
      mv "$rootfs.$$.tmp.tar" "$rootfs" || { rm -f "$rootfs.$$.tmp.tar"; exit 1; }
  ) 9> "$rootfs.lock"
}
# pack: the rootfs as the single layer of a docker-archive named debian:bookworm.
pack () {
  a=$T_TMP/arch
  mkdir -p "$a/l" && cp "$rootfs" "$a/l/layer.tar" || return 1
  diff_id=sha256:$(sha256sum "$a/l/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["bash"]},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created_by":"mmdebstrap --variant=minbase bookworm"}]}' \
    "$(dpkg --print-architecture)" "$diff_id" > "$a/config.json"
  cfg=$(sha256sum "$a/config.json" | cut -d' ' -f1)
  mv "$a/config.json" "$a/$cfg.json" &&
    printf '[{"Config":"%s.json","RepoTags":["debian:bookworm"],"Layers":["l/layer.tar"]}]\n' "$cfg" > "$a/manifest.json" &&
    tar -C "$a" -cf "$T_TMP/debian.tar" manifest.json "$cfg.json" l &&
    "$BALE" load -i "$T_TMP/debian.tar" | grep -qx "Loaded image: debian:bookworm"
}
