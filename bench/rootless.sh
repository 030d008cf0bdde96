#!/bin/sh
# Rootless cost: the same builds as root, as an ordinary user with a subordinate range, and as
# a user without one (one id, chown answered through seccomp user notification), each with
# --no-cache, best of RUNS (default 3, the modes alternating), and the ratios to root:
#   copy:   `FROM busybox` + `COPY . /app` of 20,000 files and 200 MB (bench/mkcontext.sh);
#   steps:  30 trivial RUN steps on busybox (per-step overhead);
#   chown:  `RUN cp -a /bin /b && chown -R 1:1 /b` and 2,000 files touched and chowned;
#   debian: `RUN cp -a /usr/share /opt/x && chown -R 33:33 /opt/x` on the Debian base of the
#           integration tests (/var/tmp/bale-test-debian-bookworm-minbase.tar) when present.
# The "chroot" column is root with --isolation=chroot (BALE_ISOLATION), what a container's
# root gets under Docker's default profile: a copied root per RUN step, no overlayfs.
# Needs root (it creates and removes the two users) and uidmap. BENCHES picks some of them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=$(cd "$(dirname "${BALE:-$here/../bale}")" && pwd)/bale
runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/bale-bench-rootless.XXXXXX")
u=balebench$$
u1=balebench1x$$
useradd -m -s /bin/sh "$u"
useradd -m -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$u1"
trap 'userdel -r "$u" > /dev/null 2>&1; userdel -r "$u1" > /dev/null 2>&1; rm -rf "$work"' EXIT
chmod 755 "$work"

sh "$here/mkcontext.sh" "$work/copy" 20000 200 > /dev/null
printf 'FROM busybox\nCOPY . /app\n' > "$work/copy/Dockerfile"
mkdir -p "$work/steps" "$work/chown" "$work/debian"
echo 'FROM busybox' > "$work/steps/Dockerfile"
i=0
while [ $i -lt 30 ]; do echo "RUN echo step $i > /step$i" >> "$work/steps/Dockerfile"; i=$((i + 1)); done
printf '%s\n' 'FROM busybox' \
  'RUN mkdir /t && cd /t && i=0; while [ $i -lt 2000 ]; do echo $i > f$i; i=$((i+1)); done; chown -R 1:1 /t' \
  > "$work/chown/Dockerfile"
printf '%s\n' 'FROM debian:bookworm' 'RUN cp -a /usr/share /opt/x && chown -R 33:33 /opt/x' \
  > "$work/debian/Dockerfile"
chmod -R a+rX "$work"
sh "$here/../examples/busybox-image.sh" "$work/busybox.tar" > /dev/null
deb=/var/tmp/bale-test-debian-bookworm-minbase.tar
benches="copy steps chown"
if [ -s "$deb" ]; then
  (T_TMP=$work BALE=$bale BALE_STORE=$work/rootstore sh -c ". '$here/../tests/integration/debian_base.sh' && pack") > /dev/null
  chmod a+r "$work/debian.tar"
  benches="$benches debian"
fi

# BENCHES="steps chown" runs only those.
benches=${BENCHES:-$benches}

# as WHO CMD...: root (with its own store), root with chroot isolation (the same store) or
# one of the users (their default store).
as () {
  who=$1
  shift
  case $who in
    root) BALE_STORE=$work/rootstore "$@" ;;
    chroot) BALE_ISOLATION=chroot BALE_STORE=$work/rootstore "$@" ;;
    *) runuser -u "$who" -- "$@" ;;
  esac
}
for who in root "$u" "$u1"; do
  as "$who" "$bale" load -i "$work/busybox.tar" > /dev/null
  [ -f "$work/debian.tar" ] && as "$who" "$bale" load -i "$work/debian.tar" > /dev/null
done

# time WHO BENCH: one --no-cache build, in seconds.
time_one () {
  sync
  t0=$(date +%s.%N)
  as "$1" "$bale" build -q --no-cache -t "bench/$2" "$work/$2" > /dev/null
  echo "$(date +%s.%N) - $t0" | bc -l
}
min () { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc -l)" = 1 ]; then echo "$2"; else echo "$1"; fi; }

# Best of RUNS for each mode, the modes alternating within each run (root, subids, one id,
# chroot, then again): a change of the machine's load falls on all of them alike.
printf '%-8s %9s %9s %9s %9s %8s %8s %8s\n' bench root subids one-id chroot ratio ratio1 ratioc
for bench in $benches; do
  r= s= o= c=
  n=0
  while [ $n -lt "$runs" ]; do
    r=$(min "$r" "$(time_one root "$bench")")
    s=$(min "$s" "$(time_one "$u" "$bench")")
    o=$(min "$o" "$(time_one "$u1" "$bench")")
    c=$(min "$c" "$(time_one chroot "$bench")")
    n=$((n + 1))
  done
  printf '%-8s %8.2fs %8.2fs %8.2fs %8.2fs %8.3f %8.3f %8.3f\n' "$bench" "$r" "$s" "$o" "$c" \
    "$(echo "$s / $r" | bc -l)" "$(echo "$o / $r" | bc -l)" "$(echo "$c / $r" | bc -l)"
done
