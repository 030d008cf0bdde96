#!/bin/sh
# busybox-image.sh FILE [NAME]: write a docker-archive of a busybox base image made from
# Debian's busybox-static (/bin/busybox), so examples and tests never pull from the internet.
# The image holds /bin/busybox with its applet links, /etc/passwd and /etc/group (root,
# nobody, app 1000, group staff 50 with app), a 1777 /tmp, Env PATH and Cmd ["sh"]. The
# bytes are the same on every run: fixed mtimes, owners and order.
# BUSYBOX=FILE BUSYBOX_ARCH=ARCH make the image of another architecture from that binary
# (Debian's busybox-static:ARCH, e.g. unpacked with apt-get download and dpkg-deb -x); its
# applet links are the host busybox's, the same package built for another machine.
set -eu
out=$1
name=${2:-busybox:latest}
bin=${BUSYBOX:-/bin/busybox}
arch=${BUSYBOX_ARCH:-$(dpkg --print-architecture 2>/dev/null || echo amd64)}
[ -x /bin/busybox ] || { echo "busybox-image.sh: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
[ -f "$bin" ] || { echo "busybox-image.sh: $bin missing" >&2; exit 1; }
d=$(mktemp -d "${TMPDIR:-/tmp}/bale-busybox.XXXXXX")
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/root/bin" "$d/root/etc" "$d/root/tmp" "$d/root/root" "$d/arch/l"
cp "$bin" "$d/root/bin/busybox"
chmod 0755 "$d/root/bin/busybox"
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || ln -s busybox "$d/root/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n' > "$d/root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\n' > "$d/root/etc/group"
chmod 1777 "$d/root/tmp"
tar -C "$d/root" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=pax \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$d/arch/l/layer.tar" .
diff_id=sha256:$(sha256sum "$d/arch/l/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"%s","os":"linux","created":"2024-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"busybox-static from Debian"}]}' \
  "$arch" "$diff_id" > "$d/arch/config.json"
cfg=$(sha256sum "$d/arch/config.json" | cut -d' ' -f1)
mv "$d/arch/config.json" "$d/arch/$cfg.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["l/layer.tar"]}]\n' "$cfg" "$name" > "$d/arch/manifest.json"
tar -C "$d/arch" -cf "$out" .
