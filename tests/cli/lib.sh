# Shared helpers for the CLI tests: TAP output, the bale binary, a scratch directory.
# shellcheck shell=sh
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
BALE="$top_builddir/bale"
T_NUM=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bale-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT

# check NAME COMMAND...: one TAP test that passes when COMMAND succeeds.
check () {
  name=$1
  shift
  T_NUM=$((T_NUM + 1))
  if out=$("$@" 2>&1); then
    echo "ok $T_NUM - $name"
  else
    echo "not ok $T_NUM - $name"
    printf '%s\n' "$out" | sed 's/^/# /'
    T_FAILED=$((T_FAILED + 1))
  fi
}

done_testing () {
  echo "1..$T_NUM"
  [ "$T_FAILED" -eq 0 ]
}

# busybox_archive FILE [NAME]: a docker-archive of a busybox image built from Debian's
# busybox-static, as tests/ may never pull from the internet: /bin/busybox with its applet
# links, /etc/passwd and /etc/group with root, nobody and app (1000), a 1777 /tmp,
# Env PATH and Cmd ["sh"]. Same bytes every time (fixed mtimes, owners and order).
busybox_archive () {
  out=$1
  name=${2:-busybox:latest}
  d=$(mktemp -d "$T_TMP/bb.XXXXXX")
  mkdir -p "$d/root/bin" "$d/root/etc" "$d/root/tmp" "$d/root/root" "$d/arch/l" || return 1
  cp /bin/busybox "$d/root/bin/busybox" || return 1
  for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -s busybox "$d/root/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n' > "$d/root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\n' > "$d/root/etc/group"
  chmod 1777 "$d/root/tmp"
  tar -C "$d/root" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=pax \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -cf "$d/arch/l/layer.tar" . || return 1
  diff_id=sha256:$(sha256sum "$d/arch/l/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"%s","os":"linux","created":"2024-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"busybox-static from Debian"}]}' \
    "$(dpkg --print-architecture 2>/dev/null || echo amd64)" "$diff_id" > "$d/arch/config.json"
  cfg=$(sha256sum "$d/arch/config.json" | cut -d' ' -f1)
  mv "$d/arch/config.json" "$d/arch/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["l/layer.tar"]}]\n' "$cfg" "$name" > "$d/arch/manifest.json"
  tar -C "$d/arch" -cf "$out" . && rm -rf "$d"
}
