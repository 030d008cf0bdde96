/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Probe the confinement of the process it runs in: one line per system call, "NAME RESULT",
 * RESULT being "ok" or the errno name. Built static so that it runs in any image (busybox
 * has no keyctl, unshare of the user namespace, AF_ALG sockets...). With "euid" it prints its
 * effective uid instead (a setuid copy shows whether setuid works: no_new_privs is off);
 * with "setcap FILE" it gives FILE a file capability.
 * The calls are made with harmless arguments: where one is allowed it does nothing lasting
 * (no kexec_load or acct, whose empty forms unload or stop something host-wide).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifdef __ILP32__
#define NR_BIT 0x40000000 /* x32 */
#else
#define NR_BIT 0
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static void
print_result (const char *name, long r)
{
  printf ("%s %s\n", name, r < 0 ? strerrorname_np (errno) : "ok");
}

/* Each call runs in a child of its own, so that one allowed (an unshare, a mount, a chroot)
   changes nothing for the next one, nor for the caller. */
#define report(name, call)                                                                         \
  do                                                                                               \
    {                                                                                              \
      pid_t pid_;                                                                                  \
      fflush (stdout);                                                                             \
      pid_ = fork ();                                                                              \
      if (pid_ == 0)                                                                               \
        {                                                                                          \
          print_result (name, (call));                                                             \
          fflush (stdout);                                                                         \
          _exit (0);                                                                               \
        }                                                                                          \
      waitpid (pid_, NULL, 0);                                                                     \
    }                                                                                              \
  while (0)

/* A call that creates a child when allowed: the child leaves at once. */
static long
fork_like (long r)
{
  if (r == 0)
    _exit (0);
  if (r > 0)
    waitpid ((pid_t) r, NULL, __WALL);
  return r;
}

/* In a UTS namespace of its own where it may make one, and to the name it already has: never
   renames a machine, whether or not the call is allowed. */
static long
set_same_hostname (void)
{
  char name[256] = "";

  syscall (SYS_unshare, CLONE_NEWUTS);
  gethostname (name, sizeof name - 1);
  return syscall (SYS_sethostname, name, strlen (name));
}

/* PTRACE_ATTACH to a child of its own: allowed by the profile (kernel >= 4.8), as in Docker. */
static long
ptrace_child (void)
{
  pid_t c = fork ();
  long r;
  int e, st;

  if (c == 0)
    {
      pause ();
      _exit (0);
    }
  r = ptrace (PTRACE_ATTACH, c, NULL, NULL);
  e = errno;
  kill (c, SIGKILL);
  while (waitpid (c, &st, __WALL) > 0 && !WIFEXITED (st) && !WIFSIGNALED (st))
    ;
  errno = e;
  return r;
}

/* "fds": every descriptor above 2 the process was started with, "fd N TARGET", then "fds
   end". A step must have none of bale's. */
static int
list_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;

  if (!d)
    return 1;
  while ((de = readdir (d)) != NULL)
    {
      char path[64], target[256] = "";
      int n = atoi (de->d_name);
      if (de->d_name[0] == '.' || n <= 2 || n == dirfd (d))
        continue;
      snprintf (path, sizeof path, "/proc/self/fd/%d", n);
      if (readlink (path, target, sizeof target - 1) < 0)
        strcpy (target, "?");
      printf ("fd %d %s\n", n, target);
    }
  closedir (d);
  printf ("fds end\n");
  return 0;
}

/* "ns": the namespaces of the process (their /proc/self/ns links) and whether /proc/1/root
   is the process's own root: a step's PID 1 is its own command, in its own namespaces. */
static int
list_ns (void)
{
  static const char *names[] = { "ipc", "mnt", "pid", "uts" };
  struct stat a, b;

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    {
      char path[64], target[256] = "";
      snprintf (path, sizeof path, "/proc/self/ns/%s", names[i]);
      if (readlink (path, target, sizeof target - 1) < 0)
        strcpy (target, "?");
      printf ("ns %s\n", target);
    }
  printf ("proc1-root %s\n", stat ("/proc/1/root/", &a) == 0 && stat ("/", &b) == 0
                                     && a.st_dev == b.st_dev && a.st_ino == b.st_ino
                                 ? "is-root"
                                 : "elsewhere");
  return 0;
}

/* "setcap FILE": give FILE the file capability cap_net_raw+ep (a version 2
   security.capability, as setcap(8) writes it), for the export tests. */
static int
set_net_raw (const char *path)
{
  uint32_t cap[5] = { 0x02000000 | 1 /* VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE */,
                      1u << 13 /* CAP_NET_RAW permitted */, 0, 0, 0 };

  if (setxattr (path, "security.capability", cap, sizeof cap, 0) < 0)
    {
      perror (path);
      return 1;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "euid") == 0)
    {
      printf ("%u\n", (unsigned) geteuid ());
      return 0;
    }
  if (argc > 2 && strcmp (argv[1], "setcap") == 0)
    return set_net_raw (argv[2]);
  if (argc > 1 && strcmp (argv[1], "fds") == 0)
    return list_fds ();
  if (argc > 1 && strcmp (argv[1], "ns") == 0)
    return list_ns ();
  report ("unshare-user", syscall (SYS_unshare, CLONE_NEWUSER));
  report ("unshare-mount", syscall (SYS_unshare, CLONE_NEWNS));
  report ("clone-newuser", fork_like (syscall (SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)));
  report ("clone3", syscall (SYS_clone3, NULL, 0));
  report ("setns", syscall (SYS_setns, -1, 0));
  report ("mount", syscall (SYS_unshare, CLONE_NEWNS) < 0 && errno != EPERM
                       ? -1
                       : syscall (SYS_mount, "none", "/", NULL, MS_REC | MS_PRIVATE, NULL));
  report ("umount2", syscall (SYS_umount2, "/nonexistent", 0));
  report ("pivot_root", syscall (SYS_pivot_root, "/nonexistent", "/nonexistent"));
  report ("keyctl", syscall (SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
  report ("add_key", syscall (SYS_add_key, "user", "bale", "x", 1, -1 /* thread keyring */));
  report ("request_key", syscall (SYS_request_key, "user", "bale", NULL, 0));
  report ("bpf", syscall (SYS_bpf, 0, NULL, 0));
  report ("perf_event_open", syscall (SYS_perf_event_open, NULL, 0, -1, -1, 0));
  report ("userfaultfd", syscall (SYS_userfaultfd, O_CLOEXEC));
  report ("io_uring_setup", syscall (SYS_io_uring_setup, 1, NULL));
  report ("syslog", syscall (SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
  report ("sethostname", set_same_hostname ());
  report ("open_by_handle_at", syscall (SYS_open_by_handle_at, -1, NULL, 0));
  report ("init_module", syscall (SYS_init_module, NULL, 0, ""));
  report ("settimeofday", syscall (SYS_settimeofday, NULL, NULL));
  report ("swapoff", syscall (SYS_swapoff, "/nonexistent"));
  report ("personality-query", syscall (SYS_personality, 0xffffffffUL));
  report ("personality-norandom", syscall (SYS_personality, PER_LINUX | ADDR_NO_RANDOMIZE));
  report ("socket-inet", syscall (SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  report ("socket-alg", syscall (SYS_socket, AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  report ("socket-vsock", syscall (SYS_socket, AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  report ("chroot", syscall (SYS_chroot, "/"));
  report ("mknod", syscall (SYS_mknodat, AT_FDCWD, "/dev/shm/bale-null", S_IFCHR | 0600,
                            makedev (1, 3)));
  unlink ("/dev/shm/bale-null");
  report ("fork", fork_like (syscall (SYS_clone, SIGCHLD, 0, 0, 0, 0)));
  report ("ptrace-child", ptrace_child ());
  report ("kcmp", syscall (SYS_kcmp, getpid (), getpid (), 0 /* KCMP_FILE */, 0, 0));
  report ("pidfd_getfd", syscall (SYS_pidfd_getfd, -1, 0, 0));
  report ("process_madvise", syscall (SYS_process_madvise, -1, NULL, 0, 0, 0));
  /* Numbers of Linux >= 6.8, the same on every architecture since 5.1 (x32 aside): statmount
     is in the profile (allowed: EFAULT for its NULL request), lsm_get_self_attr needs
     CAP_SYS_ADMIN (EPERM), file_getattr (6.17) is newer than the profile (runc answers
     ENOSYS for such calls). */
  report ("statmount", syscall (457 | NR_BIT, NULL, NULL, 0, 0));
  report ("lsm_get_self_attr", syscall (459 | NR_BIT, 0, NULL, NULL, 0));
  report ("file_getattr", syscall (468 | NR_BIT, -1, "", NULL, 0, 0));
  return 0;
}
