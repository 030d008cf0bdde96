#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Check layers against independent tools (GNU tar, umoci, gzip, zstd, sha256sum); TAP output.
#
# bale's layers must read back identically with GNU tar, its digests must be what gzip, zstd
# and sha256sum compute, and it must apply GNU tar's PAX archives as GNU tar does. Needs
# root (owners, devices, setuid). A missing tool is a failure, not a skip.
#
# LAYERTOOL names the tests/helpers/layertool binary (default: $top_builddir/tests/helpers/layertool).

set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

LAYERTOOL=${LAYERTOOL:-$top_builddir/tests/helpers/layertool}

for tool in tar gzip zstd sha256sum find setfattr getfattr mknod umoci; do
  command -v "$tool" >/dev/null 2>&1 \
    || bail "'$tool' is not installed (apt-get install -y tar gzip zstd attr umoci); refusing to skip"
done
[ -x "$LAYERTOOL" ] || bail "'$LAYERTOOL' is not built; set LAYERTOOL"
[ "$(id -u)" = 0 ] || bail "must run as root (owners, device nodes, setuid bits)"

work=$T_TMP
src=$work/src

# Every kind of entry, with fixed times.
mkdir -p "$src/usr/bin" "$src/etc/dir with space" "$src/long/$(printf 'd%.0s' $(seq 1 120))"
printf 'hello\n' > "$src/usr/bin/hello"
chmod 4755 "$src/usr/bin/hello"
printf 'root:x:0:0\n' > "$src/etc/passwd"
ln "$src/etc/passwd" "$src/etc/passwd-link"
ln -s ../usr/bin/hello "$src/etc/sym"
ln -s /nowhere/../../x "$src/etc/dangling"
mknod "$src/etc/null" c 1 3
mkfifo "$src/etc/fifo"
printf 'x' > "$src/etc/caf$(printf '\351')"
printf 'long' > "$src/long/$(printf 'd%.0s' $(seq 1 120))/$(printf 'f%.0s' $(seq 1 150))"
head -c 300000 /dev/urandom > "$src/etc/dir with space/big"
setfattr -n user.note -v hello "$src/etc/passwd"
chown -h 1000:1001 "$src/etc/sym" "$src/etc/dir with space"
chmod 0700 "$src/etc/dir with space"
find "$src" -exec touch -h -d @1700000000 {} +

# A listing of a tree that does not depend on inode numbers or atimes.
tree () {
  # (no size for directories: it depends on the filesystem and on its history)
  (cd "$1" && find . -mindepth 1 \( -type d -printf '%p %y %m %U:%G %n %T@\n' \) \
     -o -printf '%p %y %m %U:%G %n %T@ %s %l\n' | LC_ALL=C sort) &&
  (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort) &&
  getfattr -R -h -d -m 'user\.' --absolute-names "$1" 2>/dev/null | sed "s|$1||" | LC_ALL=C sort
}
tree "$src" > "$work/src.tree"
field () { sed -n "s/^$1 //p" "$2"; }
hash () { sha256sum | cut -d' ' -f1 | sed 's/^/sha256:/'; }

"$LAYERTOOL" write gzip "$src" "$work/l.tgz" > "$work/gz" 2>&1 || { sed 's/^/# /' "$work/gz"; bail "write failed"; }
"$LAYERTOOL" write zstd "$src" "$work/l.tzst" > "$work/zst" 2>&1 || bail "write zstd failed"
"$LAYERTOOL" write none "$src" "$work/l.tar" > "$work/none" 2>&1 || bail "write none failed"
diff_id=$(field diff_id "$work/gz")

check "sha256sum agrees with the gzip blob digest" \
  test "$(hash < "$work/l.tgz")" = "$(field digest "$work/gz")"
check "gzip -d agrees with the diff_id" test "$(gzip -dc "$work/l.tgz" | hash)" = "$diff_id"
check "zstd -d agrees with the diff_id" test "$(zstd -qdc "$work/l.tzst" | hash)" = "$diff_id"
check "the zstd blob digest is its sha256" \
  test "$(hash < "$work/l.tzst")" = "$(field digest "$work/zst")"
check "an uncompressed layer is its own diff_id" \
  test "$(hash < "$work/l.tar")" = "$diff_id" -a "$(field digest "$work/none")" = "$diff_id"
check "gzip -t accepts the blob" gzip -t "$work/l.tgz"

# GNU tar unpacks our layer into the same tree.
mkdir "$work/gnu"
check "GNU tar extracts the layer" \
  tar --numeric-owner --same-owner -p --xattrs --xattrs-include='user.*' -C "$work/gnu" -xzf "$work/l.tgz"
check "GNU tar's tree is the source tree" sh -c 'diff -u "$1" "$2"' _ "$work/src.tree" \
  "$(tree "$work/gnu" > "$work/gnu.tree"; echo "$work/gnu.tree")"

# bale unpacks its own layer into the same tree, checking the diff_id.
mkdir "$work/bale"
check "bale extracts the layer" "$LAYERTOOL" extract "$work/l.tzst" "$work/bale" "$diff_id"
check "bale's tree is the source tree" sh -c 'diff -u "$1" "$2"' _ "$work/src.tree" \
  "$(tree "$work/bale" > "$work/bale.tree"; echo "$work/bale.tree")"

# bale applies a PAX archive written by GNU tar as GNU tar does.
tar --format=posix --numeric-owner --xattrs --xattrs-include='user.*' --sort=name \
  -C "$src" -czf "$work/gnu.tgz" . || bail "GNU tar cannot write the archive"
mkdir "$work/frompax"
check "bale extracts GNU tar's archive" "$LAYERTOOL" extract "$work/gnu.tgz" "$work/frompax"
check "that tree is the source tree" sh -c 'diff -u "$1" "$2"' _ "$work/src.tree" \
  "$(tree "$work/frompax" > "$work/frompax.tree"; echo "$work/frompax.tree")"

# umoci applies bale's layers, whiteouts and opaque directories included, as bale does.
up=$work/upper
mkdir -p "$up/etc" "$up/long"
mknod "$up/etc/passwd" c 0 0
mknod "$up/usr" c 0 0
setfattr -n trusted.overlay.opaque -v y "$up/long"
printf 'new\n' > "$up/long/new"
printf 'more\n' > "$up/etc/more"
find "$up" -exec touch -h -d @1700000100 {} +
"$LAYERTOOL" write none "$src" "$work/1.tar" > /dev/null 2>&1 || bail "write failed"
"$LAYERTOOL" write --overlay none "$up" "$work/2.tar" > /dev/null 2>&1 || bail "write failed"
mkdir "$work/merged"
check "bale applies both layers" sh -c '"$1" extract "$2" "$4" && "$1" extract "$3" "$4"' _ \
  "$LAYERTOOL" "$work/1.tar" "$work/2.tar" "$work/merged"
check "umoci takes both layers" sh -c 'umoci init --layout "$1" && umoci new --image "$1:t" &&
  umoci raw add-layer --image "$1:t" "$2" &&
  umoci raw add-layer --image "$1:t" "$3"' _ "$work/img" "$work/1.tar" "$work/2.tar"
check "umoci unpacks the image" umoci unpack --image "$work/img:t" "$work/bundle"
check "whiteouts and the opaque directory took effect" sh -c '! test -e "$1/etc/passwd" &&
  ! test -e "$1/usr" && test -e "$1/etc/passwd-link" && test -e "$1/etc/more" &&
  test "$(ls -A "$1/long")" = new' _ "$work/merged"
tree "$work/merged" > "$work/merged.tree"
tree "$work/bundle/rootfs" > "$work/umoci.tree" 2>&1
check "umoci's rootfs is bale's" diff -u "$work/merged.tree" "$work/umoci.tree"

done_testing
