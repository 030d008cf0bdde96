#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bale as an ordinary user with a subordinate id range: the same images as root; TAP output.
#
# The test creates its own user (useradd gives it a range in /etc/subuid and /etc/subgid),
# builds the examples, a busybox Dockerfile that changes owners, adds a user and writes as
# that user, and a Debian Dockerfile that installs packages through apt (which downloads as
# _apt), once as root and once as that user, both under SOURCE_DATE_EPOCH, and compares the
# image digests and `bale diff` of the saved archives. The user is removed afterwards. Needs
# root (useradd), uidmap's newuidmap/newgidmap, and the Debian mirror for the last build.

set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
[ -x "$BALE" ] || bail "'$BALE' is not built"
[ "$(id -u)" = 0 ] || bail "must run as root (useradd)"
for tool in useradd userdel runuser newuidmap newgidmap mmdebstrap; do
  command -v "$tool" > /dev/null 2>&1 ||
    bail "'$tool' is not installed (.ci/run installs it); refusing to skip"
done
top=$(cd "${top_srcdir:-.}" && pwd)
export SOURCE_DATE_EPOCH=1700000000
export BALE_STORE="$T_TMP/rootstore"

# Our own user, with the range useradd allocates (SUB_UID_COUNT, 65536 on Debian).
user=balerl$$
useradd -m -s /bin/sh "$user" || bail "useradd $user failed"
trap 'userdel -r "$user" > /dev/null 2>&1; rm -rf "$T_TMP"' EXIT
grep -q "^$user:" /etc/subuid && grep -q "^$user:" /etc/subgid ||
  bail "useradd gave $user no range in /etc/subuid and /etc/subgid"
range=$(awk -F: -v u="$user" '$1 == u { print $2 "-" $2 + $3 - 1; exit }' /etc/subuid)
chmod 755 "$T_TMP"
mkdir -m 1777 "$T_TMP/out"
ustore=/home/$user/.local/share/bale

# as USER CMD...: run as USER, with the user's HOME and store and our SOURCE_DATE_EPOCH.
as () {
  u=$1
  shift
  runuser -u "$u" -- env -u BALE_STORE SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" "$@"
}
as_user () { as "$user" "$@"; }

busybox_archive "$T_TMP/busybox.tar" > /dev/null || bail "cannot make the busybox image"
"$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || bail "root cannot load busybox"
check "the user loads busybox into \$XDG_DATA_HOME/bale" as_user "$BALE" load -i "$T_TMP/busybox.tar"

mkdir -p "$T_TMP/owners"
printf 'data\n' > "$T_TMP/owners/f"
cat > "$T_TMP/owners/Dockerfile" << 'EOF'
FROM busybox
COPY --chown=1000:1000 f /home/f
COPY --chown=65534:65534 f /nobody
RUN mkdir -p /srv/a/b && echo x > /srv/a/x && chown -R 33:33 /srv/a && chown 0:5 /srv/a/x \
 && ln /srv/a/x /srv/a/hard && ln -s x /srv/a/sym && chown -h 7:7 /srv/a/sym \
 && chmod 4755 /srv/a/x && rm -rf /etc/network && mkfifo /srv/fifo
RUN echo web:x:1234:1234::/home/app:/bin/sh >> /etc/passwd && echo web:x:1234: >> /etc/group \
 && mkdir -p /home/app && chown web:web /home/app && rm -rf /srv/a/b && mkdir /srv/a/b
USER web
RUN touch /home/app/mine && id > /home/app/id
EOF
chmod -R a+rX "$T_TMP/owners"

# same_image NAME CONTEXT: built by root and by the user, the digests and the files match.
same_image () {
  root_id=$("$BALE" build -q -t "$1" "$2" 2>&1) || { echo "root: $root_id"; return 1; }
  user_id=$(as_user "$BALE" build -q -t "$1" "$2" 2>&1) || { echo "user: $user_id"; return 1; }
  rm -f "$T_TMP/out/root.tar" "$T_TMP/out/user.tar"
  "$BALE" save -o "$T_TMP/out/root.tar" "$1" && as_user "$BALE" save -o "$T_TMP/out/user.tar" "$1" ||
    return 1
  "$BALE" diff "docker-archive:$T_TMP/out/root.tar" "docker-archive:$T_TMP/out/user.tar" || return 1
  [ "$root_id" = "$user_id" ] || { echo "root $root_id, user $user_id"; return 1; }
}

for ex in hello cmd cmd-entrypoint shell-entrypoint multistage; do
  check "examples/$ex: the user's image is root's" same_image "bale-example/$ex" "$top/examples/$ex"
done
check "owners from COPY --chown, chown -R, chown -h, adduser, USER: the user's image is root's" \
  same_image bale-test/owners "$T_TMP/owners"

# Owners outside the user's range (65536 ids): recorded by COPY --chown, given by a RUN step's
# chown (the kernel refused them: EINVAL), and a recorded file chowned again, into the range
# or not, as root gives them; the record must not win over a later chown (it did: /big3 kept
# 100002 in the image). Both ids are given for recorded files: busybox's `chown UID f`
# passes the gid stat shows, the real one (docs/rootless.md).
mkdir -p "$T_TMP/bigids"
printf 'data\n' > "$T_TMP/bigids/f"
cat > "$T_TMP/bigids/Dockerfile" << 'EOF'
FROM busybox
COPY --chown=100000:100000 f /big
COPY --chown=100001:100001 f /big2
COPY --chown=100002:100002 f /big3
RUN touch /c /d && chown 70000:70000 /c && chown 1000:100000 /big && chown 70000 /d && chown 70000:5 /d \
 && mkdir /e && touch /e/y && chown -R 4000000:4000000 /e && ln -s c /l && chown -h 80000:80000 /l \
 && chmod 4755 /big2 && chown 33:100001 /big2 && chown 1000:1000 /big3
RUN chown 7:70000 /c && touch /e/x && chown 90000 /e/x && chown 0:0 /big3
EOF
chmod -R a+rX "$T_TMP/bigids"
check "subordinate ids: chown to ids outside the range, and of recorded files: root's image" \
  same_image bale-test/bigids "$T_TMP/bigids"

# With subordinate ids a step's chown family goes to bale (a record for an id outside the
# range, bale's own chown of a recorded file), and bale is root over the user's own files:
# it must resolve the path in the step's root. A canary of the user's is named by its
# absolute path, a symlink to it, one to /, /proc/1/root and /proc/self/root: it keeps its
# owner and contents and gets no xattr (no record).
chown_escape () {
  c=/home/$user/canary
  as_user mkdir -p "$c" && as_user sh -c "echo CANARY > $c/c" || return 1
  mkdir -p "$T_TMP/chesc"
  printf 'FROM busybox\nRUN ln -s %s/c /l; ln -s / /r; chown 70000 /l; chown 1 /l; chown 70000 %s/c; chown 1 /r%s/c; chown -R 70000 /proc/1/root%s; chown 5 /proc/self/root%s/c; echo done > /done\n' \
    "$c" "$c" "$c" "$c" "$c" > "$T_TMP/chesc/Dockerfile"
  chmod -R a+rX "$T_TMP/chesc"
  as_user "$BALE" build -q --no-cache "$T_TMP/chesc" > "$T_TMP/chesc.out" 2>&1 || { cat "$T_TMP/chesc.out"; return 1; }
  [ "$(stat -c %U "$c" "$c/c" | sort -u)" = "$user" ] && [ "$(cat "$c/c")" = CANARY ] || { ls -la "$c"; return 1; }
  python3 -c 'import os, sys; sys.exit(1 if any(os.listxattr(p, follow_symlinks=False) for p in sys.argv[1:]) else 0)' "$c" "$c/c" ||
    { echo "the canary got an xattr"; return 1; }
}
check "subordinate ids: a step's chown of the user's own files by path, symlinks and /proc/N/root stays in its root" chown_escape

# is_roots NAME OTHER [RUNNER]: the image OTHER, which RUNNER (a command prefix) built with
# the output $out (the image ID last), is root's NAME ($root_id): same ID, `bale diff` finds
# nothing between the saved archives.
is_roots () {
  rm -f "$T_TMP/out/root.tar" "$T_TMP/out/other.tar"
  "$BALE" save -o "$T_TMP/out/root.tar" "$1" && $3 "$BALE" save -o "$T_TMP/out/other.tar" "$2" ||
    return 1
  "$BALE" diff "docker-archive:$T_TMP/out/root.tar" "docker-archive:$T_TMP/out/other.tar" || return 1
  other_id=$(printf '%s\n' "$out" | tail -n 1)
  [ "$root_id" = "$other_id" ] || { echo "root $root_id, other $other_id"; return 1; }
}

# ---- chroot isolation, as root on this host: what a container's root gets where namespaces
# and mounts are refused (rootless_docker.sh runs it in docker) ----
# same_chroot NAME CONTEXT: root's build with namespaces and $chroot_as's (a command prefix)
# with --isolation=chroot give the same image; the latter's first line is $chroot_line...
chroot_as=""
chroot_line="isolation: chroot, no namespaces (chosen with --isolation=chroot)"
same_chroot () {
  root_id=$("$BALE" build -q -t "$1" "$2" 2>&1) || { echo "root: $root_id"; return 1; }
  out=$($chroot_as "$BALE" build --isolation=chroot --no-cache --progress=plain -t "$1-chroot" "$2" 2>&1) ||
    { echo "chroot: $out"; return 1; }
  case $(printf '%s\n' "$out" | head -n 1) in
    "$chroot_line"*) ;;
    *) printf '%s\n' "$out" | head -n 3; return 1 ;;
  esac
  is_roots "$1" "$1-chroot" "$chroot_as"
}
for ex in hello multistage; do
  check "chroot isolation: examples/$ex is the namespace build's image" same_chroot "bale-example/$ex" "$top/examples/$ex"
done
check "chroot isolation: owners, a new user, USER: the namespace build's image" \
  same_chroot bale-test/owners "$T_TMP/owners"

# What a chrooted step can and cannot do (docs/rootless.md): no CAP_SYS_CHROOT (root's way
# out of a chroot), no /proc, Docker's device nodes; RUN --mount is emulated by copies
# (tests/integration/chroot_mounts.sh has every type).
mkdir -p "$T_TMP/chrootc"
cat > "$T_TMP/chrootc/Dockerfile" << 'EOF'
FROM busybox
RUN mkdir /x && if chroot /x /bin/true 2> /dev/null; then echo chroot-worked; fi; [ ! -e /proc/self ] \
 && echo ok > /dev/null && [ -c /dev/urandom ] && echo confined
EOF
chroot_confined () {
  out=$("$BALE" build --isolation=chroot --no-cache --progress=plain "$T_TMP/chrootc" 2>&1) ||
    { echo "$out"; return 1; }
  printf '%s\n' "$out" | grep -q '^#5 [0-9.]* confined$' && ! printf '%s\n' "$out" | grep -q '^#5 [0-9.]* chroot-worked$' ||
    { echo "$out"; return 1; }
}
check "chroot isolation: a step cannot chroot, has no /proc, has /dev/null and /dev/urandom" chroot_confined
mkdir -p "$T_TMP/chrootm"
printf 'FROM busybox\nRUN true\nRUN --mount=type=tmpfs,target=/t true\n' > "$T_TMP/chrootm/Dockerfile"
check "chroot isolation: RUN --mount=type=tmpfs (emulated) gives the namespace build's image" \
  same_chroot bale-test/chrootm "$T_TMP/chrootm"
bad_isolation () {
  out=$("$BALE" build --isolation=vm -q "$T_TMP/chrootm" 2>&1) && return 1
  printf '%s\n' "$out" | grep -q "unknown 'vm' (want auto, namespace or chroot)" || { echo "$out"; return 1; }
}
check "--isolation=vm is refused, listing the modes" bad_isolation

says_mode () {
  out=$(as_user "$BALE" build --no-cache -t bale-test/owners "$T_TMP/owners" 2>&1) || { echo "$out"; return 1; }
  [ "$(printf '%s\n' "$out" | head -n 1)" = "rootless: subordinate ids $range" ] ||
    { printf '%s\n' "$out" | head -n 3; return 1; }
}
check "the build says 'rootless: subordinate ids $range' first" says_mode

owned_by_user () {
  # The store is the user's: nothing in it belongs to root or anyone outside the range.
  bad=$(find "$ustore" -maxdepth 3 ! -user "$user" | head -n 3)
  [ -z "$bad" ] || { echo "not the user's: $bad"; return 1; }
  # Files the image gives to 33 belong to the user's subordinate id 33 on the host.
  n=$(find "$ustore/snapshots" -user "$((${range%-*} + 32))" | wc -l)
  [ "$n" -gt 0 ] || { echo "no file owned by subordinate id $((${range%-*} + 32))"; return 1; }
}
check "the store belongs to the user, image owners to its subordinate ids" owned_by_user

run_as_user () {
  got=$(as_user "$BALE" run --rm bale-test/owners sh -c 'id -u; stat -c %u:%g /srv/a/x /home/app/mine' 2>&1)
  [ "$got" = "1234
0:5
1234:1234" ] || { echo "got [$got]"; return 1; }
}
check "bale run works for the user and shows the image's owners" run_as_user

prune_as_user () {
  as_user "$BALE" rmi bale-test/owners > /dev/null && as_user "$BALE" prune > /dev/null
}
check "rmi and prune remove snapshots owned by subordinate ids" prune_as_user

# bale run with chroot isolation (a container's root without CAP_SYS_ADMIN): the image's
# layers copied, nothing mounted (it failed: cannot create the namespaces of the sandbox).
run_chroot () {
  got=$(BALE_ISOLATION=chroot "$BALE" run --rm bale-test/owners sh -c 'id -u; stat -c %u:%g /srv/a/x /home/app/mine; [ ! -e /proc/self ] && echo no-proc' 2>&1)
  [ "$got" = "1234
0:5
1234:1234
no-proc" ] || { echo "got [$got]"; return 1; }
}
check "bale run with chroot isolation runs the image's copy, as the USER, without /proc" run_chroot

# ---- one id: a user without subordinate ranges ----
user1=balerl1x$$
useradd -m -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user1" || bail "useradd $user1 failed"
trap 'userdel -r "$user" > /dev/null 2>&1; userdel -r "$user1" > /dev/null 2>&1; rm -rf "$T_TMP"' EXIT
as_user1 () { as "$user1" "$@"; }
check "a user without a range in /etc/subuid loads busybox" as_user1 "$BALE" load -i "$T_TMP/busybox.tar"

# What a step records in one-id mode: chown by ids and names, chown -R, chown of a setuid
# file, a relative path from a working directory, devices made with mknod, COPY --chown.
mkdir -p "$T_TMP/oneid"
printf 'data\n' > "$T_TMP/oneid/f"
# mkat2: what busybox cannot do, openat2 with O_CREAT, bind of a Unix socket, an O_TMPFILE
# file named with linkat (AT_EMPTY_PATH: no /proc in chroot isolation), the ids it runs
# with (a setuid copy of it), and setgroups of N groups.
cat > "$T_TMP/mkat2.c" << 'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
int
main (int argc, char **argv)
{
  struct open_how how = { .flags = O_CREAT | O_WRONLY | O_EXCL, .mode = 0640 };
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd;
  if (argc != 3)
    return 2;
  if (strcmp (argv[1], "tmp") == 0)
    {
      char dir[4096];
      strncpy (dir, argv[2], sizeof dir - 1);
      dir[sizeof dir - 1] = '\0';
      *strrchr (dir, '/') = '\0';
      fd = open (dir, O_TMPFILE | O_WRONLY, 0640);
      return fd < 0 || write (fd, "tmp\n", 4) != 4 || linkat (fd, "", AT_FDCWD, argv[2], AT_EMPTY_PATH) < 0
               ? perror ("tmpfile"), 1 : 0;
    }
  if (strcmp (argv[1], "ids") == 0)
    {
      printf ("%d %d %d\n", (int) getuid (), (int) geteuid (), (int) getegid ());
      return open (argv[2], O_CREAT | O_EXCL | O_WRONLY, 0644) < 0 ? perror ("ids"), 1 : 0;
    }
  if (strcmp (argv[1], "groups") == 0)
    {
      gid_t g[100];
      int n = atoi (argv[2]);
      for (int i = 0; i < n && i < 100; i++)
        g[i] = (gid_t) (2000 + i);
      return n > 100 || setgroups ((size_t) n, g) < 0 ? perror ("setgroups"), 1 : 0;
    }
  if (strcmp (argv[1], "sock") == 0)
    {
      strncpy (sa.sun_path, argv[2], sizeof sa.sun_path - 1);
      fd = socket (AF_UNIX, SOCK_STREAM, 0);
      return fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? perror ("bind"), 1 : 0;
    }
  fd = (int) syscall (SYS_openat2, AT_FDCWD, argv[2], &how, sizeof how);
  return fd < 0 || write (fd, "at2\n", 4) != 4 ? perror ("openat2"), 1 : 0;
}
EOF
${CC:-cc} -static -O2 -o "$T_TMP/oneid/mkat2" "$T_TMP/mkat2.c" || bail "cannot build the static mkat2 (libc6-dev)"
cat > "$T_TMP/oneid/Dockerfile" << 'EOF'
FROM busybox
COPY --chown=1000:1000 f /home/f
COPY mkat2 /bin/mkat2
RUN mkdir -p /srv/a/b && echo x > /srv/a/x && chmod 4755 /srv/a/x && chown -R 33:33 /srv/a \
 && chown app:staff /srv/a/b && cp /home/f /srv/i && chmod 600 /srv/i && chown 7:8 /srv/i && mknod /srv/null c 1 3 \
 && mknod /srv/loop b 7 0 && mkdir /srv/c && cd /srv/c && touch y && chown 5:6 y ../a/x \
 && ln -s /etc/passwd /srv/l && chown -h 1000:1000 /srv/l && mkfifo /srv/p && chown 1000 /srv/p \
 && chown -h 9:9 /bin/sh && ln -s x /srv/l2 && chown -h 3 /srv/l2 && mv /srv/l2 /srv/l3
# A non-root USER: runs as the one id, sees USER's ids, and what it makes is USER's (an
# O_TMPFILE file linked into place too); a link, rename or socket in a directory it may not
# write, a rename of another's file out of a sticky directory and a link to a file it may not
# write (fs.protected_hardlinks) fail as for a real USER.
RUN mkdir -p /home && chmod 1777 /home && mkdir /srv/sg && chown 0:50 /srv/sg && chmod 2777 /srv/sg \
 && mkdir -m 1777 /srv/t && touch /srv/t/rootf
USER 1000:1000
RUN mkdir /home/u && touch /home/u/f && echo hi > /home/u/g && ln -s f /home/u/l && mkfifo /home/u/p \
 && umask 077 && mkdir /home/u/d && echo x > /home/u/d/h && mkdir /srv/sg/d && touch /srv/sg/f \
 && id > /home/u/id && test "$(id -u):$(id -g)" = 1000:1000 && ! touch /etc/nope && ! chown 0 /home/u/f \
 && chown 1000:1000 /home/u/f && mkat2 file /home/u/at2 && ! mkat2 file /etc/at2 && ln /home/u/f /home/u/hl \
 && mv /home/u/g /home/u/g2 && mkat2 sock /home/u/s && test -S /home/u/s \
 && mkat2 tmp /home/u/t && mkat2 tmp /srv/sg/t && ! mkat2 tmp /etc/t 2> /dev/null && ! ln /home/f /etc/l \
 && ! ln /etc/passwd /home/u/pw && ! mv /srv/c/y /home/u/y && ! mv /srv/t/rootf /home/u/r \
 && ! mkat2 sock /etc/s 2> /dev/null && [ -e /srv/c/y ] && [ -e /srv/t/rootf ] && [ ! -e /etc/s ]
EOF
chmod -R a+rX "$T_TMP/oneid"

same_image1 () {
  root_id=$("$BALE" build -q -t "$1" "$2" 2>&1) || { echo "root: $root_id"; return 1; }
  out=$(as_user1 "$BALE" build --no-cache -t "$1" "$2" 2>&1) || { echo "user: $out"; return 1; }
  [ "$(printf '%s\n' "$out" | head -n 1)" = "rootless: one id, ownership recorded" ] ||
    { printf '%s\n' "$out" | head -n 3; return 1; }
  is_roots "$1" "$1" as_user1
}
for ex in hello multistage; do
  check "one id: examples/$ex is root's image" same_image1 "bale-example/$ex" "$top/examples/$ex"
done
check "one id: chown, chown -R, chown -h, FIFO owners, mknod, COPY --chown, USER 1000:1000: root's image" \
  same_image1 bale-test/oneid "$T_TMP/oneid"

# A container that masks /proc paths refuses a fresh /proc in bale's user namespace: there
# auto chroots the steps inside it (rootless_docker.sh); --isolation=chroot does it here.
chroot_as=as_user1
chroot_line="rootless: one id, ownership recorded; isolation: chroot, no namespaces (chosen with --isolation=chroot)"
check "one id + chroot isolation: chown, chown -h, mknod, COPY --chown, USER 1000:1000: root's image" \
  same_chroot bale-test/oneid "$T_TMP/oneid"

check "one id: owners, a new user, USER web (its groups): root's image" \
  same_image1 bale-test/owners "$T_TMP/owners"
check "one id: chown to ids outside any range, and of recorded files: root's image" \
  same_image1 bale-test/bigids "$T_TMP/bigids"

# COPY --from a stage and ADD of an archive copy what the owners and devices recorded in the
# source stand for (they wrote root's owners and an empty file: the images differed).
mkdir -p "$T_TMP/copyfrom/t/d"
printf 'o\n' > "$T_TMP/copyfrom/t/d/o"
tar -C "$T_TMP/copyfrom/t" --owner=1000 --group=50 --mtime=@1600000000 -czf "$T_TMP/copyfrom/owners.tar.gz" d
cat > "$T_TMP/copyfrom/Dockerfile" << 'EOF'
FROM busybox AS a
RUN mkdir -p /d/e && touch /d/f && chown -R 1000:50 /d && mknod /d/null c 1 3 \
 && ln -s f /d/l && chown -h 7:7 /d/l && mkfifo /d/p && chown 8:8 /d/p
FROM busybox
COPY --from=a /d /d
COPY --from=a /d/f /f
ADD owners.tar.gz /add/
EOF
chmod -R a+rX "$T_TMP/copyfrom"
check "one id: COPY --from a stage and ADD of an archive keep recorded owners and devices: root's image" \
  same_image1 bale-test/copyfrom "$T_TMP/copyfrom"
# Again, on the stage's snapshots of the first build: a symbolic link's owner is found in what
# the snapshot keeps, not in this process's table (it was root's: 0:0).
check "one id: COPY --from a stage's symbolic link, its snapshot made by an earlier build: root's image" \
  same_image1 bale-test/copyfrom "$T_TMP/copyfrom"

# Issue "RUN steps contained and hardened" holds in every mode: a step's capabilities,
# no_new_privs, seccomp mode, what Docker's profile refuses (tests/helpers/syscalls, as
# tests/cli/confine.sh), the masked /proc paths and the minimal /dev are root's for the user
# with a subordinate range and for the one without. So is /sys: read-only, nosuid, nodev and
# noexec, the mounts under it too (the host's /sys/fs/cgroup/* stayed writable in a bind of it).
SYSCALLS=${SYSCALLS:-${top_builddir:-.}/tests/helpers/syscalls}
[ -x "$SYSCALLS" ] || bail "'$SYSCALLS' is not built (make check builds it)"
mkdir -p "$T_TMP/confine"
cp "$SYSCALLS" "$T_TMP/confine/syscalls"
cat > "$T_TMP/confine/Dockerfile" << 'EOF'
FROM busybox
COPY syscalls /usr/bin/
RUN grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status; syscalls; touch /proc/sys/kernel/x 2>&1; \
  cat /proc/kcore 2>&1 | head -c 80; echo; ls /dev; cat /proc/1/cmdline | tr '\0' ' '; echo; \
  awk '$5 ~ /^\/sys/ && $6 !~ /^ro,nosuid,nodev,noexec/ { print "not read-only: " $5 }' /proc/self/mountinfo
USER 1000:1000
RUN grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status | sed "s/^/u/"
EOF
chmod -R a+rX "$T_TMP/confine"
# step_output RUNNER: the steps' lines of a --no-cache build of the confine context.
step_output () {
  $1 "$BALE" build --no-cache --progress=plain "$T_TMP/confine" > "$T_TMP/out/conf.log" 2>&1 ||
    { cat "$T_TMP/out/conf.log"; return 1; }
  sed -n 's/^#[0-9]* [0-9][0-9.]* //p' "$T_TMP/out/conf.log"
}
# The one difference, stricter: a device node off the step's root (the probe's, in /dev/shm)
# cannot be made in a user namespace (CAP_MKNOD of the initial one); in the step's root bale
# records a stand-in for it (docs/rootless.md).
confined_as_root () {
  want=$(step_output "") && got=$(step_output "$1") || return 1
  printf '%s\n' "$want" | grep -qx "Seccomp:	2" && printf '%s\n' "$want" | grep -qx "mknod ok" ||
    { echo "root's step: $want"; return 1; }
  printf '%s\n' "$got" | grep -qx "mknod EPERM" || { echo "$1's step: $got"; return 1; }
  want=$(printf '%s\n' "$want" | grep -v '^mknod ') got=$(printf '%s\n' "$got" | grep -v '^mknod ')
  [ "$want" = "$got" ] || { printf 'root:\n%s\n%s:\n%s\n' "$want" "$1" "$got"; return 1; }
}
check "a step of the user with a range is confined as root's: caps, seccomp profile, /proc masks, /dev" \
  confined_as_root as_user
check "a step of the user without a range (one id) is confined as root's: caps, seccomp profile, /proc masks, /dev" \
  confined_as_root as_user1

# A setuid and setgid file run by USER: its owner and group are the effective ids (getuid
# answers 1000, geteuid 0, getegid 50) and what it makes is theirs, as in a root build.
mkdir -p "$T_TMP/suid"
cp "$T_TMP/oneid/mkat2" "$T_TMP/suid/"
cat > "$T_TMP/suid/Dockerfile" << 'EOF'
FROM busybox
COPY mkat2 /bin/mkat2
RUN cp /bin/mkat2 /bin/suidmk && chown 0:50 /bin/suidmk && chmod 6755 /bin/suidmk && mkdir -p -m 1777 /srv/t
USER 1000:1000
RUN suidmk ids /srv/t/made > /srv/t/ids && test "$(cat /srv/t/ids)" = "1000 0 50" && mkat2 ids /srv/t/mine
EOF
chmod -R a+rX "$T_TMP/suid"
check "one id: a setuid-root, setgid file run as USER 1000: root's image" same_image1 bale-test/suid "$T_TMP/suid"

# More supplementary groups than one id emulates (64): a root build goes on, one id fails
# the step saying why, for setgroups and for a USER in 65 groups.
mkdir -p "$T_TMP/groups" "$T_TMP/ugroups"
cp "$T_TMP/oneid/mkat2" "$T_TMP/groups/"
printf 'FROM busybox\nCOPY mkat2 /bin/mkat2\nRUN mkat2 groups 64 && mkat2 groups 70\n' > "$T_TMP/groups/Dockerfile"
cat > "$T_TMP/ugroups/Dockerfile" << 'EOF'
FROM busybox
RUN echo web:x:1234:1234::/:/bin/sh >> /etc/passwd && for i in $(seq 1 65); do echo g$i:x:$((2000 + i)):web >> /etc/group; done
USER web
RUN id -G > /tmp/g
EOF
chmod -R a+rX "$T_TMP/groups" "$T_TMP/ugroups"
too_many_groups () {
  "$BALE" build -q --no-cache "$T_TMP/$1" > /dev/null 2>&1 || { echo "the root build failed"; return 1; }
  out=$(as_user1 "$BALE" build -q --no-cache "$T_TMP/$1" 2>&1) && { echo "one id built: $out"; return 1; }
  printf '%s\n' "$out" | grep -q "$2.*one-id mode (no subordinate ids) emulates at most 64 (add a range for the user to /etc/subuid" ||
    { echo "$out"; return 1; }
}
check "one id: setgroups of 70 groups fails the step, naming the limit and the fix" too_many_groups groups "setgroups with 70 groups"
check "one id: a USER in 65 groups of /etc/group (66 with its own, which BuildKit adds: F39) fails the step, naming the limit and the fix" too_many_groups ugroups "in 66 supplementary groups"

# RUN --mount=type=ssh or secret with uid= or gid= other than 0: one id cannot chown the relay
# socket or the secret to an unmapped id, and the step's stat shows recorded owners only on its
# own root mount, so the step fails at its line naming the mode and the fix (diff-fuzz F52);
# it failed with chown's "Invalid argument". uid 0 (the default) still works, as root's does.
mkdir -p "$T_TMP/sshowner"
printf 'sec\n' > "$T_TMP/sshowner/sec"
printf '%s\n' 'FROM busybox' 'RUN --mount=type=ssh,uid=1000 test -S "$SSH_AUTH_SOCK"' > "$T_TMP/sshowner/Dockerfile.ssh"
printf '%s\n' 'FROM busybox' 'RUN true' 'RUN --mount=type=secret,id=s,gid=5 cat /run/secrets/s' > "$T_TMP/sshowner/Dockerfile.secret"
printf '%s\n' 'FROM busybox' 'RUN --mount=type=ssh,mode=0666 test -S "$SSH_AUTH_SOCK"' \
  'RUN --mount=type=secret,id=s,uid=0 grep -q sec /run/secrets/s' > "$T_TMP/sshowner/Dockerfile.root"
chmod -R a+rX "$T_TMP/sshowner"
one_id_mount_owner () {
  as_user1 sh -c 'eval "$(ssh-agent -s)" > /dev/null || exit 1
    out=$("$0" build -q --no-cache --ssh default --secret id=s,src="$1/sec" -f "$1/Dockerfile.$2" "$1" 2>&1 > /dev/null)
    rc=$?; kill "$SSH_AGENT_PID"; printf "%s\n" "$out"; exit $rc' "$BALE" "$T_TMP/sshowner" "$1" > "$T_TMP/out/owner.err" 2>&1
  rc=$?
  if [ "$1" = root ]; then [ $rc = 0 ] || { cat "$T_TMP/out/owner.err"; return 1; }; return 0; fi
  [ $rc != 0 ] || { echo "one id built Dockerfile.$1"; return 1; }
  grep -q "Dockerfile.$1:$2:1: error: RUN: --mount=.*: one-id mode (no subordinate ids) cannot give the mount to uid $3, gid $4: only id 0 exists (add a range" \
    "$T_TMP/out/owner.err" || { cat "$T_TMP/out/owner.err"; return 1; }
}
check "one id: RUN --mount=type=ssh,uid=1000 fails at its line, naming the mode and the fix" one_id_mount_owner ssh 2 1000 0
check "one id: RUN --mount=type=secret,gid=5 fails at its line, naming the mode and the fix" one_id_mount_owner secret 3 0 5
check "one id: RUN --mount=type=ssh and secret owned by 0 work" one_id_mount_owner root

# The Debian base of debian.sh: apt downloads as _apt (uid 42), dpkg sets owners, useradd.
. "$top/tests/integration/debian_base.sh"
check "mmdebstrap --variant=minbase bookworm from $mirror (cached in $cache_dir)" make_rootfs
load_debian () {
  pack > /dev/null && chmod a+r "$T_TMP/debian.tar" && as_user "$BALE" load -i "$T_TMP/debian.tar" > /dev/null
}
check "root and the user load the Debian base" load_debian
mkdir -p "$T_TMP/deb"
cat > "$T_TMP/deb/Dockerfile" << 'EOF'
FROM debian:bookworm
# The logs and caches apt writes hold the time of the build: two root builds differ there.
# useradd writes the day in /etc/shadow: SOURCE_DATE_EPOCH's, not the clock's, so that root's
# build and the user's may fall on each side of midnight UTC (as in apt_repo.sh).
RUN apt-get update && apt-get install -y --no-install-recommends hello libcap2-bin \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log
RUN SOURCE_DATE_EPOCH=1700000000 useradd -m -u 1500 app && install -d -o app -g app /srv/data && chown -R 42:65534 /var/cache/apt \
 && cp /bin/true /capped && setcap cap_net_raw+ep /capped
EOF
chmod -R a+rX "$T_TMP/deb"
check "Debian: apt-get install, useradd, chown, setcap: the user's image is root's" \
  same_image bale-test/deb "$T_TMP/deb"

# One id: apt drops to _apt (setgroups, setresgid, setresuid: emulated for each process)
# and fails to get root back, as it checks; a package from a local repository (no network)
# with files of another owner; setpriv becomes _apt (apt_repo.sh).
. "$top/tests/integration/apt_repo.sh"
apt_context "$T_TMP/apt" || bail "cannot make the local repository (dpkg-dev)"
apt_owners () {
  got=$("$BALE" run --rm bale-test/apt stat -c '%n %u:%g' /var/lib/apt/lists/partial \
    /var/cache/apt/archives/partial /srv/balet/owned /etc/shadow /srv/data /home/app /tmp/d \
    /tmp/d/f /tmp/d/l /tmp/d/p 2>&1)
  [ "$got" = "/var/lib/apt/lists/partial 42:0
/var/cache/apt/archives/partial 42:65534
/srv/balet/owned 1:1
/etc/shadow 0:42
/srv/data 1500:1500
/home/app 1500:1500
/tmp/d 42:65534
/tmp/d/f 42:65534
/tmp/d/l 42:65534
/tmp/d/p 42:65534" ] || { echo "got [$got]"; return 1; }
}
load_debian1 () { as_user1 "$BALE" load -i "$T_TMP/debian.tar" > /dev/null; }
check "the user without a range loads the Debian base" load_debian1
check "one id: apt-get update and install from a file: repository (as _apt), setpriv, useradd, chown: root's image" \
  same_image1 bale-test/apt "$T_TMP/apt"
check "root's apt image has what _apt made and owns, shadow's group, app's, which the digest covers" apt_owners
# Chroot isolation walks a copied root: the lock files apt and dpkg open for writing without
# changing them and the directories dpkg renames into place are in the layer as overlayfs
# puts them there; one id's device stand-ins of the base get the host's devices bound over.
chroot_as=""
chroot_line="isolation: chroot, no namespaces (chosen with --isolation=chroot)"
check "chroot isolation: apt as _apt, setpriv, useradd, chown: the namespace build's image" same_chroot bale-test/apt "$T_TMP/apt"
chroot_as=as_user1
chroot_line="rootless: one id, ownership recorded; isolation: chroot, no namespaces (chosen with --isolation=chroot)"
check "one id + chroot isolation: apt as _apt, setpriv, useradd, chown: root's image" same_chroot bale-test/apt "$T_TMP/apt"

done_testing
