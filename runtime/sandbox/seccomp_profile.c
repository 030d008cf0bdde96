/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Docker's default seccomp profile as data: the "syscalls" list of moby/profiles
 * seccomp/default.json at tag seccomp/v0.2.3 (commit 836ae4d37ef2, 2026-05-06), the profile
 * vendored by moby v29 and BuildKit v0.32 and applied to every RUN step of `docker build`.
 * defaultAction SCMP_ACT_ERRNO with defaultErrnoRet 1 (EPERM); archMap in seccomp.c.
 * Regenerate by hand from that file when the profile changes; keep the order of its groups
 * (the comment numbers are their indexes) so the two can be compared line by line.
 */
#include <config.h>

#include <linux/capability.h>

#include "runtime/sandbox/seccomp.h"
#include "common/banned.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

const uint64_t rt_default_caps
    = CAPBIT (CAP_CHOWN) | CAPBIT (CAP_DAC_OVERRIDE) | CAPBIT (CAP_FSETID) | CAPBIT (CAP_FOWNER)
      | CAPBIT (CAP_MKNOD) | CAPBIT (CAP_NET_RAW) | CAPBIT (CAP_SETGID) | CAPBIT (CAP_SETUID)
      | CAPBIT (CAP_SETFCAP) | CAPBIT (CAP_SETPCAP) | CAPBIT (CAP_NET_BIND_SERVICE)
      | CAPBIT (CAP_SYS_CHROOT) | CAPBIT (CAP_KILL) | CAPBIT (CAP_AUDIT_WRITE);

const struct rt_seccomp_rule rt_seccomp_profile[] = {
  { /* 0 */
    .names = (const char *const[]){
      "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
      "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
      "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
      "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
      "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
      "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old",
      "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
      "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
      "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
      "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
      "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
      "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat",
      "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
      "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
      "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
      "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
      "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
      "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch", "inotify_init",
      "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
      "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup",
      "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
      "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
      "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
      "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier",
      "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
      "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
      "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
      "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
      "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
      "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
      "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
      "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
      "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
      "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
      "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat", "renameat2",
      "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
      "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
      "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
      "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
      "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
      "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
      "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
      "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
      "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
      "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
      "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
      "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
      "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
      "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat",
      "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync",
      "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
      "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
      "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
      "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
      "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat",
      "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
      "writev", NULL
    },
  },
  { /* 1 */
    .names = (const char *const[]){
      "process_vm_readv", "process_vm_writev", "ptrace", NULL
    },
    .min_kernel = { 4, 8 },
  },
  { /* 2 */
    .names = (const char *const[]){
      "socket", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_LT, 0x26ULL, 0ULL },
  },
  { /* 3 */
    .names = (const char *const[]){
      "socket", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_EQ, 0x27ULL, 0ULL },
  },
  { /* 4 */
    .names = (const char *const[]){
      "socket", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_GT, 0x28ULL, 0ULL },
  },
  { /* 5 */
    .names = (const char *const[]){
      "personality", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_EQ, 0x0ULL, 0ULL },
  },
  { /* 6 */
    .names = (const char *const[]){
      "personality", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_EQ, 0x8ULL, 0ULL },
  },
  { /* 7 */
    .names = (const char *const[]){
      "personality", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_EQ, 0x20000ULL, 0ULL },
  },
  { /* 8 */
    .names = (const char *const[]){
      "personality", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_EQ, 0x20008ULL, 0ULL },
  },
  { /* 9 */
    .names = (const char *const[]){
      "personality", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_EQ, 0xffffffffULL, 0ULL },
  },
  { /* 10 */
    .names = (const char *const[]){
      "sync_file_range2", "swapcontext", NULL
    },
    .inc_arches = "ppc64le",
  },
  { /* 11 */
    .names = (const char *const[]){
      "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
      "set_tls", NULL
    },
    .inc_arches = "arm,arm64",
  },
  { /* 12 */
    .names = (const char *const[]){
      "arch_prctl", NULL
    },
    .inc_arches = "amd64,x32",
  },
  { /* 13 */
    .names = (const char *const[]){
      "modify_ldt", NULL
    },
    .inc_arches = "amd64,x32,x86",
  },
  { /* 14 */
    .names = (const char *const[]){
      "s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr", NULL
    },
    .inc_arches = "s390,s390x",
  },
  { /* 15 */
    .names = (const char *const[]){
      "riscv_flush_icache", NULL
    },
    .inc_arches = "riscv64",
  },
  { /* 16 */
    .names = (const char *const[]){
      "open_by_handle_at", NULL
    },
    .inc_caps = CAPBIT (CAP_DAC_READ_SEARCH),
  },
  { /* 17 */
    .names = (const char *const[]){
      "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
      "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount",
      "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
      "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_ADMIN),
  },
  { /* 18 */
    .names = (const char *const[]){
      "clone", NULL
    },
    .n_args = 1, .arg = { 0, SCMP_CMP_MASKED_EQ, 0x7e020000ULL, 0ULL },
    .exc_arches = "s390,s390x",
    .exc_caps = CAPBIT (CAP_SYS_ADMIN),
  },
  { /* 19 */
    .names = (const char *const[]){
      "clone", NULL
    },
    .n_args = 1, .arg = { 1, SCMP_CMP_MASKED_EQ, 0x7e020000ULL, 0ULL },
    .inc_arches = "s390,s390x",
    .exc_caps = CAPBIT (CAP_SYS_ADMIN),
  },
  { /* 20 */
    .names = (const char *const[]){
      "clone3", NULL
    },
    .action = RT_SECCOMP_ERRNO, .errno_ret = 38,
    .exc_caps = CAPBIT (CAP_SYS_ADMIN),
  },
  { /* 21 */
    .names = (const char *const[]){
      "reboot", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_BOOT),
  },
  { /* 22 */
    .names = (const char *const[]){
      "chroot", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_CHROOT),
  },
  { /* 23 */
    .names = (const char *const[]){
      "delete_module", "init_module", "finit_module", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_MODULE),
  },
  { /* 24 */
    .names = (const char *const[]){
      "acct", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_PACCT),
  },
  { /* 25 */
    .names = (const char *const[]){
      "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace",
      NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_PTRACE),
  },
  { /* 26 */
    .names = (const char *const[]){
      "iopl", "ioperm", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_RAWIO),
  },
  { /* 27 */
    .names = (const char *const[]){
      "settimeofday", "stime", "clock_settime", "clock_settime64", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_TIME),
  },
  { /* 28 */
    .names = (const char *const[]){
      "vhangup", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_TTY_CONFIG),
  },
  { /* 29 */
    .names = (const char *const[]){
      "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", NULL
    },
    .inc_caps = CAPBIT (CAP_SYS_NICE),
  },
  { /* 30 */
    .names = (const char *const[]){
      "syslog", NULL
    },
    .inc_caps = CAPBIT (CAP_SYSLOG),
  },
  { /* 31 */
    .names = (const char *const[]){
      "bpf", NULL
    },
    .inc_caps = CAPBIT (CAP_BPF),
  },
  { /* 32 */
    .names = (const char *const[]){
      "perf_event_open", NULL
    },
    .inc_caps = CAPBIT (CAP_PERFMON),
  },
};

const unsigned long rt_seccomp_profile_len = sizeof rt_seccomp_profile / sizeof *rt_seccomp_profile;
