#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# RUN --mount under chroot isolation, where nothing can be mounted (docs/rootless.md, "RUN
# --mount under chroot isolation"): each mount emulated by a copy gives the namespace build's
# image, a cache persists between builds, a secret never reaches a layer, and what a real
# mount refuses (writing to a read-only one, moving or hard-linking a file out of one) fails
# the step at its line. As root on the host, with --isolation=chroot; TAP output.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
[ -x "$BALE" ] || bail "'$BALE' is not built"
[ "$(id -u)" = 0 ] || bail "must run as root (chroot isolation needs CAP_SYS_CHROOT)"
command -v ssh-agent > /dev/null 2>&1 || bail "ssh-agent is not installed; refusing to skip"
export SOURCE_DATE_EPOCH=1700000000
busybox_store > /dev/null || bail "cannot load busybox"
secret=sEcReT-$$-value
printf '%s\n' "$secret" > "$T_TMP/secret.txt"

# Every type, over a missing target and over the image's own file or directory, nested,
# writable, from a stage, from a cache subdirectory, a heredoc script (a file bound at
# /dev/pipes/NAME).
w=$T_TMP/all
mkdir -p "$w/sub"
printf 'ctx\n' > "$w/f"
printf 'sub\n' > "$w/sub/g"
cat > "$w/Dockerfile" << 'EOF'
FROM busybox AS other
RUN mkdir /o && echo other > /o/file
FROM busybox
RUN mkdir -p /have/x && echo keep > /have/x/keep && echo img > /etc/imgfile
RUN --mount=type=bind,target=/ctx cat /ctx/f /ctx/sub/g > /bound && ls -la /ctx > /dev/null
RUN --mount=type=bind,target=/have cat /have/f > /bound2 && ls /have
RUN --mount=type=bind,target=/ctx,rw echo changed > /ctx/f && cat /ctx/f > /bound3
RUN --mount=type=bind,source=f,target=/onefile,rw echo changed >> /onefile && cat /onefile > /bound4
RUN --mount=type=bind,target=/ctx --mount=type=tmpfs,target=/ctx/sub ls /ctx/sub > /nested && cat /ctx/f >> /nested
RUN --mount=type=cache,target=/c,id=all echo kept > /c/k && mkdir -p /c/d && echo d > /c/d/e
RUN --mount=type=cache,target=/c,id=all cp /c/k /c/d/e /have/
RUN --mount=type=cache,target=/c2,id=all,source=d cat /c2/e > /from-cache-dir
RUN --mount=type=tmpfs,target=/t echo t > /t/x && cp /t/x /from-tmpfs && stat -c %a /t > /tmpfs-mode
RUN --mount=type=tmpfs,target=/have echo t > /have/x2 && ls /have > /tmpfs-over
RUN --mount=type=secret,id=s cp /run/secrets/s /from-secret-copy
RUN --mount=type=secret,id=s,target=/etc/imgfile,mode=0444,uid=7 stat -c '%a %u' /etc/imgfile > /secret-meta
RUN --mount=type=bind,from=other,source=/o,target=/bb cat /bb/file > /from-stage
RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo ssh > /ssh
RUN <<EOT
#!/bin/sh
echo heredoc > /heredoc
EOT
EOF

# build ISOLATION TAG CONTEXT [ARGS...]: the build's output in $T_TMP/TAG.log.
build () {
  iso=$1 tag=$2 c=$3
  shift 3
  "$BALE" build --isolation="$iso" --no-cache --progress=plain --secret "id=s,src=$T_TMP/secret.txt" \
    -t "$tag" "$@" "$c" > "$T_TMP/$tag.log" 2>&1
}
with_agent () {
  eval "$(ssh-agent -s)" > /dev/null || return 1
  "$@"
  r=$?
  kill "$SSH_AGENT_PID"
  return $r
}

same_image () {
  with_agent build namespace ns "$w" --ssh default || { cat "$T_TMP/ns.log"; return 1; }
  with_agent build chroot ch "$w" --ssh default || { cat "$T_TMP/ch.log"; return 1; }
  head -n 1 "$T_TMP/ch.log" | grep -q "isolation: chroot" || { head -n 3 "$T_TMP/ch.log"; return 1; }
  a=$("$BALE" inspect --format '{{.Id}}' ns) && b=$("$BALE" inspect --format '{{.Id}}' ch) || return 1
  [ "$a" = "$b" ] || { echo "namespace $a, chroot $b"; "$BALE" diff ns ch; return 1; }
}
check "every mount type gives the namespace build's image" same_image

# The context is untouched by the rw binds, and no layer of the image or blob of the store
# holds the secret.
ctx_untouched () { [ "$(cat "$w/f")" = ctx ] && [ "$(cat "$w/sub/g")" = sub ]; }
check "a read-write bind's writes reach neither the context nor the layer" ctx_untouched
no_secret () {
  "$BALE" save -o "$T_TMP/ch.tar" ch || return 1
  mkdir -p "$T_TMP/chx" && tar -C "$T_TMP/chx" -xf "$T_TMP/ch.tar" || return 1
  for l in "$T_TMP"/chx/blobs/sha256/* "$T_TMP"/chx/*/layer.tar; do
    [ -f "$l" ] || continue
    if gzip -dc "$l" 2> /dev/null | grep -qa "$secret" || grep -qa "$secret" "$l"; then
      # The step copied it on purpose (/from-secret-copy): that layer alone may hold it.
      tar -tf "$l" 2> /dev/null | grep -qx 'from-secret-copy' || { echo "secret in $l: $(tar -tvf "$l")"; return 1; }
    fi
  done
  "$BALE" run --rm ch test ! -e /run/secrets/s || { echo "/run/secrets/s is in the image"; return 1; }
  [ "$("$BALE" run --rm ch cat /etc/imgfile)" = img ] || { echo "the image's /etc/imgfile changed"; return 1; }
}
check "a secret over the image's file leaves no trace; the file is the image's" no_secret

# A cache mount's contents persist from one chroot build to the next, and a namespace build
# sees what the chroot build left.
mkdir -p "$T_TMP/c1" "$T_TMP/c2"
printf 'FROM busybox\nRUN --mount=type=cache,target=/var/cache/x,id=persist echo first > /var/cache/x/v\n' > "$T_TMP/c1/Dockerfile"
printf 'FROM busybox\nRUN --mount=type=cache,target=/var/cache/x,id=persist cat /var/cache/x/v > /seen\n' > "$T_TMP/c2/Dockerfile"
cache_persists () {
  build chroot c1 "$T_TMP/c1" || { cat "$T_TMP/c1.log"; return 1; }
  build chroot c2 "$T_TMP/c2" || { cat "$T_TMP/c2.log"; return 1; }
  [ "$("$BALE" run --rm c2 cat /seen)" = first ] || return 1
  build namespace c2n "$T_TMP/c2" || { cat "$T_TMP/c2n.log"; return 1; }
  [ "$("$BALE" run --rm c2n cat /seen)" = first ] || return 1
  ! "$BALE" run --rm c1 ls /var/cache/x/v > /dev/null 2>&1 || { echo "the cache's file is in the layer"; return 1; }
}
check "a cache mount persists between chroot builds, and the namespace build sees it" cache_persists

# What a real mount refuses fails the step at its line, and leaves no image (a store without
# the image above, which copied the secret on purpose).
export BALE_STORE="$T_TMP/store2"
"$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || bail "cannot load busybox"

# refused NAME RUN-LINE PATTERN
refused () {
  mkdir -p "$T_TMP/$1"
  printf 'FROM busybox\nRUN true\n%s\n' "$2" > "$T_TMP/$1/Dockerfile"
  if build chroot "r-$1" "$T_TMP/$1"; then echo "built"; return 1; fi
  grep -q "$3" "$T_TMP/r-$1.log" && grep -q "$1/Dockerfile:3:1: error: RUN" "$T_TMP/r-$1.log" ||
    { cat "$T_TMP/r-$1.log"; return 1; }
  ! "$BALE" inspect "r-$1" > /dev/null 2>&1 || { echo "an image was stored"; return 1; }
  ! grep -rqa "$secret" "$BALE_STORE/blobs" || { echo "the secret reached a blob"; return 1; }
}
check "a secret hard-linked out of its mount fails the step" refused link \
  'RUN --mount=type=secret,id=s ln /run/secrets/s /keep || true' "hard-linked the file mounted at '/run/secrets/s'"
check "a secret moved out of its mount fails the step" refused move \
  'RUN --mount=type=secret,id=s mv /run/secrets/s /keep || true' "moved or replaced what is mounted at '/run/secrets/s'"
check "a write into a read-only bind fails the step" refused robind \
  'RUN --mount=type=bind,target=/ctx touch /ctx/new || true' "changed the read-only mount at '/ctx'"
check "a cache file hard-linked out of its mount fails the step" refused cachelink \
  'RUN --mount=type=cache,target=/c echo x > /c/f && ln /c/f /keep' "hard-linked '/c/f' out of its mount"

done_testing
