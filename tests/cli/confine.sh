#!/bin/sh
# RUN steps and `bale run` are confined as runc confines a container of Docker's default spec:
# capabilities, seccomp, masked and read-only /proc and /sys paths, the minimal /dev; and the
# sandbox options (--security=insecure with --allow, --network, --add-host, --ulimit,
# --shm-size). tests/helpers/syscalls (static) probes the system calls from inside the step.
# tests/integration/confine_docker.sh compares the same probes with docker's BuildKit.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
SYSCALLS=${SYSCALLS:-$top_builddir/tests/helpers/syscalls}
[ -x "$SYSCALLS" ] || { echo "Bail out! $SYSCALLS is not built"; exit 1; }
ctx=$T_TMP/ctx
mkdir -p "$ctx"
cp "$SYSCALLS" "$ctx/syscalls"

df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }
# build [ARGS]: bale build $ctx; the steps' output (without the '#N SECONDS ' prefixes of the
# plain progress) in $T_TMP/out.
build () {
  "$BALE" build --progress=plain --no-cache "$@" "$ctx" > /dev/null 2> "$T_TMP/log" || { cat "$T_TMP/log"; return 1; }
  sed -n 's/^#[0-9]* [0-9][0-9.]* //p' "$T_TMP/log" > "$T_TMP/out"
}
# has LINE: the steps printed exactly this line.
has () { grep -qxF -- "$1" "$T_TMP/out" || { echo "missing [$1] in:"; cat "$T_TMP/out"; return 1; }; }

# Docker's 14 capabilities: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
# NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
DOCKER_CAPS=00000000a80425fb
status_lines () {
  for l in "CapInh:	0000000000000000" "CapPrm:	$1" "CapEff:	$1" "CapBnd:	$DOCKER_CAPS" \
    "CapAmb:	0000000000000000" "NoNewPrivs:	0" "Seccomp:	2"; do
    has "$l" || return 1
  done
}

caps_and_seccomp () {
  df 'FROM busybox' 'RUN grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status' \
    'USER 1000:1000' 'RUN grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status | sed "s/^/u/"'
  build || return 1
  status_lines $DOCKER_CAPS || return 1
  # A user other than root holds none (the kernel clears them at execve), bounding unchanged.
  has "uCapEff:	0000000000000000" && has "uCapBnd:	$DOCKER_CAPS" && has "uSeccomp:	2"
}
check "RUN: Docker's capabilities (bounding, permitted, effective), seccomp filter, no_new_privs off" caps_and_seccomp

# What Docker's default profile (moby/profiles seccomp v0.2.3) answers, with the default caps.
cat > "$T_TMP/want-syscalls" << 'EOF2'
unshare-user EPERM
unshare-mount EPERM
clone-newuser EPERM
clone3 ENOSYS
setns EPERM
mount EPERM
umount2 EPERM
pivot_root EPERM
keyctl EPERM
add_key EPERM
request_key EPERM
bpf EPERM
perf_event_open EPERM
userfaultfd EPERM
io_uring_setup EPERM
syslog EPERM
sethostname EPERM
open_by_handle_at EPERM
init_module EPERM
settimeofday EPERM
swapoff EPERM
personality-query ok
personality-norandom EPERM
socket-inet ok
socket-alg EPERM
socket-vsock EPERM
chroot ok
mknod ok
fork ok
ptrace-child ok
kcmp EPERM
pidfd_getfd EPERM
process_madvise EPERM
statmount EFAULT
lsm_get_self_attr EPERM
file_getattr ENOSYS
EOF2

# In a user namespace (a user's build) a device node off the step's root cannot be made
# (CAP_MKNOD of the initial namespace): the one difference tests/integration/rootless.sh allows.
[ "$(id -u)" = 0 ] || sed -i 's/^mknod ok$/mknod EPERM/' "$T_TMP/want-syscalls"

blocked_syscalls () {
  df 'FROM busybox' 'COPY syscalls /usr/bin/' 'RUN syscalls'
  build || return 1
  diff "$T_TMP/want-syscalls" "$T_TMP/out"
}
check "RUN: Docker's seccomp profile: namespaces, mounts, keyrings, bpf, AF_ALG/AF_VSOCK refused; clone3 and calls newer than the profile ENOSYS" blocked_syscalls

# What a step is handed: no descriptor of bale's above 2 (CVE-2024-21626 came through a leaked
# one), with or without secret, cache and tmpfs mounts; namespaces of its own (ipc, mnt, pid,
# uts: none is the test's); /proc/1/root its own root (PID 1 is its command, the host's init
# is not in its pid namespace); a umask of 0022 whatever bale was started with (runc's).
handed () {
  echo s3cret > "$T_TMP/secret"
  df 'FROM busybox' 'COPY syscalls /usr/bin/' 'RUN ["/usr/bin/syscalls", "fds"]' 'RUN ["/usr/bin/syscalls", "ns"]' \
    'RUN --mount=type=secret,id=s --mount=type=cache,target=/c --mount=type=tmpfs,target=/t syscalls fds | sed "s/^/m/"' \
    'RUN echo "umask $(umask) pid $$"'
  (umask 077 && build --secret "id=s,src=$T_TMP/secret") || return 1
  has "fds end" && has "mfds end" && has "proc1-root is-root" && has "umask 0022 pid 1" || return 1
  ! grep -E "^m?fd " "$T_TMP/out" || return 1
  for n in ipc mnt pid uts; do
    ! has "ns $(readlink /proc/self/ns/$n)" > /dev/null || { echo "the step shares the $n namespace"; return 1; }
  done
}
check "RUN: no descriptor of bale's, namespaces of its own, /proc/1 its own command, umask 0022" handed

setuid_works () {
  df 'FROM busybox' 'COPY syscalls /usr/bin/' \
    'RUN cp /usr/bin/syscalls /usr/bin/suid && chmod 4755 /usr/bin/suid' \
    'USER 1000' 'RUN echo "euid $(suid euid) uid $(id -u)"'
  build && has "euid 0 uid 1000"
}
check "RUN: a setuid-root binary of the image works for another user (no_new_privs off, as Docker)" setuid_works

proc_sys_dev () {
  # /dev/core -> /proc/kcore only where the kernel has one, as runc.
  core="core "
  [ -e /proc/kcore ] || core=""
  df 'FROM busybox' \
    'RUN if echo x > /proc/sys/kernel/hostname; then echo sys-writable; else echo sys-ro; fi' \
    'RUN if echo x > /proc/sysrq-trigger 2>/dev/null; then echo sysrq-writable; else echo sysrq-ro; fi' \
    'RUN echo "keys $(wc -c < /proc/keys) timer_list $(wc -c < /proc/timer_list)"' \
    'RUN echo "acpi [$(ls -A /proc/acpi)] firmware [$(ls -A /sys/firmware)]"' \
    'RUN if [ -e /proc/kcore ]; then echo "kcore $(head -c 16 /proc/kcore | wc -c)"; else echo "kcore 0"; fi' \
    'RUN if touch /sys/x 2>/dev/null; then echo sys-writable; else echo sysfs-ro; fi' \
    'RUN echo "dev $(ls /dev | tr "\n" " ")"' \
    'RUN echo "mounts $(awk "{print \$5}" /proc/self/mountinfo | grep -E "^/(proc|sys)/" | sort | tr "\n" " ")"'
  build || return 1
  has sys-ro && has sysrq-ro && has "keys 0 timer_list 0" && has "acpi [] firmware []" &&
    has "kcore 0" && has sysfs-ro &&
    has "dev $core""fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " || return 1
  # Every masked or read-only path the kernel has is a mount of its own.
  for p in /proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
    /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap \
    /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do
    if [ -e "$p" ]; then
      grep "^mounts " "$T_TMP/out" | grep -q " $p " || { echo "$p is not masked"; cat "$T_TMP/out"; return 1; }
    fi
  done
}
check "RUN: /proc/sys read-only, /proc/keys, kcore, acpi and /sys/firmware masked, /sys read-only, minimal /dev" proc_sys_dev

insecure () {
  df 'FROM busybox' 'COPY syscalls /usr/bin/' 'RUN --security=insecure grep -E "^(CapBnd|Seccomp):" /proc/self/status' \
    'RUN --security=insecure awk "{print \$5}" /proc/self/mountinfo | grep -cx /proc/acpi || true' \
    'RUN --security=insecure syscalls | grep -E "^(keyctl|add_key) "'
  out=$("$BALE" build --no-cache "$ctx" 2>&1) && { echo "built without --allow"; return 1; }
  printf '%s\n' "$out" | grep -q "Dockerfile:3:5: error: RUN --security=insecure .* --allow security.insecure" ||
    { echo "$out"; return 1; }
  # Refused at plan time: bale plan says the same.
  "$BALE" plan "$ctx" > /dev/null 2>&1 && return 1
  build --allow security.insecure || return 1
  # Docker's profile is not loaded: calls it refuses go through. A user's build keeps the
  # filter of bale's notifier (chown and mknod answered by bale, docs/rootless.md), which
  # refuses nothing: Seccomp is 2 there, 0 for root.
  seccomp=0
  [ "$(id -u)" = 0 ] || seccomp=2
  has "Seccomp:	$seccomp" && has 0 && has "keyctl ok" && has "add_key ok" && ! grep -q "CapBnd:	$DOCKER_CAPS" "$T_TMP/out"
}
check "RUN --security=insecure: refused at its line without --allow security.insecure; with it, no seccomp, all caps, no masks" insecure

bad_flags () {
  df 'FROM busybox' 'RUN --security=weird true'
  out=$("$BALE" build "$ctx" 2>&1) && return 1
  printf '%s\n' "$out" | grep -q 'Dockerfile:2:5: error: .*unsupported security mode .weird' || { echo "$out"; return 1; }
  for a in "--allow device" "--network bridge" "--add-host nohost" "--add-host h:1.2.3" \
    "--ulimit nofile" "--ulimit bogus=1" "--ulimit nofile=2:1" "--shm-size 12q" "--shm-size -1"; do
    # shellcheck disable=SC2086
    out=$("$BALE" build $a "$ctx" 2>&1) && { echo "accepted $a"; return 1; }
    printf "%s\n" "$out" | grep -q -- "^bale build: ${a%% *}: " || { echo "$a: $out"; return 1; }
  done
}
check "bad --security, --allow, --network, --add-host, --ulimit, --shm-size values: precise errors" bad_flags

sandbox_options () {
  df 'FROM busybox' 'RUN grep -E "^(1\.2\.3\.4|::1)	" /etc/hosts; echo "nofile $(ulimit -Sn) $(ulimit -Hn)"' \
    'RUN echo "shm $(df -k /dev/shm | awk "NR==2 {print \$2}")"' \
    'RUN echo "net $(ls /sys/class/net | tr "\n" " ")"' \
    'RUN --network=host echo "hostnet $(ls /sys/class/net | wc -l)"'
  build --add-host foo:1.2.3.4 --add-host 'bar=[::1]' --ulimit nofile=1000:2000 --shm-size 1g \
    --network none || return 1
  has "1.2.3.4	foo" && has "::1	bar" && has "nofile 1000 2000" && has "shm 1048576" &&
    has "net lo " && ! has "hostnet 1" > /dev/null
}
check "bale build --add-host, --ulimit, --shm-size, --network none (RUN --network=host wins)" sandbox_options

bale_run () {
  out=$("$BALE" run busybox grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status) || return 1
  printf '%s\n' "$out" > "$T_TMP/out"
  status_lines $DOCKER_CAPS || return 1
  "$BALE" run busybox sh -c 'echo x > /proc/sys/kernel/hostname' 2> /dev/null && return 1
  "$BALE" run busybox sh -c 'unshare -m true' 2> /dev/null && return 1
  return 0
}
check "bale run: the same capabilities, seccomp filter and read-only /proc/sys" bale_run

done_testing
