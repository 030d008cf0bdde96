#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What a RUN step sees of its confinement under bale and under docker's BuildKit builder, in
# the same run: the capability sets, the seccomp mode and no_new_privs, the system calls
# tests/helpers/syscalls probes, /dev, the masked and read-only /proc and /sys paths. Runs
# against a private dockerd (tests/integration/peers.sh). TAP output; needs root.
#
# docker.io in Debian 12 is 20.10 (BuildKit 0.8, its own seccomp profile of 2022): the calls
# whose rule changed in Docker's profile since then are listed in $T_TMP/newer below, printed
# for both and compared with moby/profiles v0.2.3 (tests/cli/confine.sh) rather than with
# docker 20.10. Everything else must be identical.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"

need_root_and dockerd
SYSCALLS=${SYSCALLS:-$top_builddir/tests/helpers/syscalls}
case "$SYSCALLS" in /*) ;; *) SYSCALLS="$(pwd)/$SYSCALLS" ;; esac
[ -x "$SYSCALLS" ] || bail "$SYSCALLS is not built"

busybox_archive "$T_TMP/busybox.tar" || bail "cannot make the busybox base"
"$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || bail "bale load failed"
start_dockerd
docker load -i "$T_TMP/busybox.tar" > /dev/null || bail "docker load of the busybox base failed"

ctx=$T_TMP/ctx
mkdir -p "$ctx"
cp "$SYSCALLS" "$ctx/syscalls"
# One step writes every observation to /report, one "key value" line each.
cat > "$ctx/Dockerfile" << 'EOF2'
FROM busybox
COPY syscalls /usr/bin/
RUN { grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t' | sed 's/:/ /'; \
      syscalls | sed 's/^/syscall /'; \
      echo "dev $(ls /dev | tr '\n' ' ')"; \
      for p in /proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
               /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /proc/bus /proc/fs \
               /proc/irq /proc/sys /proc/sysrq-trigger; do \
        [ -e $p ] || continue; \
        if awk '{print $5}' /proc/self/mountinfo | grep -qx $p; then echo "mounted $p"; else echo "plain $p"; fi; \
      done; \
      if echo 1 > /proc/sys/vm/drop_caches 2>/dev/null; then echo "procsys writable"; else echo "procsys read-only"; fi; \
      if mkdir /sys/bale 2>/dev/null; then echo "sys writable"; else echo "sys read-only"; fi; \
      echo "user-caps $(su -s /bin/sh nobody -c 'grep CapEff /proc/self/status' 2>/dev/null | tr -d '\t' || echo none)"; \
    } > /report
EOF2

"$BALE" build -q -t confine-bale "$ctx" > "$T_TMP/bale.log" 2>&1 || { cat "$T_TMP/bale.log"; bail "bale build failed"; }
"$BALE" run confine-bale cat /report > "$T_TMP/bale.report" || bail "cannot read bale's report"
# --network host: the private dockerd has no bridge; bale's default is the host's network too.
DOCKER_BUILDKIT=1 docker build --network host -q -o "type=local,dest=$T_TMP/docker-out" "$ctx" > "$T_TMP/docker.log" 2>&1 ||
  { sed 's/^/# /' "$T_TMP/docker.log"; bail "docker build failed"; }
cp "$T_TMP/docker-out/report" "$T_TMP/docker.report" || bail "no report from docker"

cat > "$T_TMP/newer" << 'EOF2'
syscall socket-alg
syscall socket-vsock
syscall io_uring_setup
syscall statmount
syscall lsm_get_self_attr
EOF2
# Keys of report lines ("syscall NAME" for the probes, else the first word) that changed.
is_newer () { grep -qxF "$1" "$T_TMP/newer"; }
key_of () { case "$1" in syscall\ *) echo "$1" | cut -d' ' -f1-2 ;; mounted\ *|plain\ *) echo "path ${1#* }" ;; *) echo "${1%% *}" ;; esac; }

same () {
  # $1: the key pattern (an ERE over whole lines) of the lines to compare.
  grep -E "$1" "$T_TMP/bale.report" > "$T_TMP/b" || true
  grep -E "$1" "$T_TMP/docker.report" > "$T_TMP/d" || true
  [ -s "$T_TMP/d" ] || { echo "docker printed no line matching $1"; return 1; }
  diff "$T_TMP/d" "$T_TMP/b" | sed 's/^</docker:/; s/^>/bale:  /'
  cmp -s "$T_TMP/d" "$T_TMP/b"
}
check "capability sets, no_new_privs and seccomp mode as under docker build" \
  same '^(Cap|NoNewPrivs|Seccomp)'
check "a non-root user's effective capabilities as under docker build" same '^user-caps '
check "/dev as under docker build" same '^dev '
check "/proc/sys and /sys read-only as under docker build" same '^(procsys|sys) '
check "masked and read-only /proc and /sys paths as under docker build" same '^(mounted|plain) '

syscalls_match () {
  grep '^syscall ' "$T_TMP/docker.report" > "$T_TMP/d"
  grep '^syscall ' "$T_TMP/bale.report" > "$T_TMP/b"
  [ "$(wc -l < "$T_TMP/d")" -gt 20 ] || { echo "docker's probe printed too little"; return 1; }
  rc=0
  while read -r line; do
    k=$(key_of "$line")
    b=$(grep -m1 "^$k " "$T_TMP/b")
    if is_newer "$k"; then
      echo "newer rule: docker 20.10 [$line], bale [$b]"
    elif [ "$line" != "$b" ]; then
      echo "docker [$line] bale [$b]"
      rc=1
    fi
  done < "$T_TMP/d"
  return $rc
}
check "system calls refused and allowed as under docker build (rules newer than docker 20.10 aside)" syscalls_match

done_testing
