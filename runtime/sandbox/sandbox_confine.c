/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What confines a step beyond its namespaces, as runc confines a container of Docker's default
 * spec (docs: ../shared/docs/confinement.md A2-A4, B9): masked and read-only /proc and /sys
 * paths, resource limits, the capability sets and the seccomp filter.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <linux/securebits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/fs/inroot.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "runtime/sandbox/seccomp.h"
#include "common/banned.h"

/* containerd's default masked paths, which BuildKit's RUN steps get (docker run adds
   /proc/interrupts and the thermal_throttle directories; docker build does not). */
static const char *const masked[] = {
  "/proc/acpi",          "/proc/asound",      "/proc/kcore",       "/proc/keys",
  "/proc/latency_stats", "/proc/timer_list",  "/proc/timer_stats", "/proc/sched_debug",
  "/sys/firmware",       "/sys/devices/virtual/powercap",          "/proc/scsi",
};
static const char *const readonly[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const char *
fd_magic (int fd, char buf[static 64])
{
  snprintf (buf, 64, "/proc/self/fd/%d", fd);
  return buf;
}

/* The host's /dev/null, checked to be the 1:3 character device before it is bound over a
   file (runc's CVE-2025-31133 fix: never bind whatever a path happens to point to). */
static int
open_dev_null (int sync)
{
  int fd = open ("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0)
    rt_sbx_die (sync, errno, "cannot open the host's '/dev/null'");
  if (!S_ISCHR (st.st_mode) || major (st.st_rdev) != 1 || minor (st.st_rdev) != 3)
    rt_sbx_die (sync, 0, "the host's '/dev/null' is not the null device");
  return fd;
}

static void
mask_one (int sync, int rootfd, int null, const char *path)
{
  cleanup_close int fd = inroot_open (rootfd, path, O_PATH | O_NOFOLLOW, 0);
  char p[64], q[64];
  struct stat st;

  if (fd < 0 && errno == ENOENT)
    return; /* this kernel has no such file: nothing to hide */
  if (fd < 0 || fstat (fd, &st) < 0)
    rt_sbx_die (sync, errno, "cannot open '%s' to mask it", path);
  if (S_ISDIR (st.st_mode))
    {
      /* An empty read-only tmpfs, as small as tmpfs allows. */
      if (mount ("tmpfs", fd_magic (fd, p), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "nr_blocks=1,nr_inodes=1")
          < 0)
        rt_sbx_die (sync, errno, "cannot mask '%s'", path);
    }
  else if (!S_ISLNK (st.st_mode)
           && mount (fd_magic (null, q), fd_magic (fd, p), NULL, MS_BIND, NULL) < 0)
    rt_sbx_die (sync, errno, "cannot mask '%s'", path);
}

/* A read-only bind of path onto itself that keeps the flags it had (nosuid, nodev, noexec). */
static void
readonly_one (int sync, int rootfd, const char *path)
{
  cleanup_close int fd = inroot_open (rootfd, path, O_PATH | O_NOFOLLOW, 0);
  cleanup_close int top = -1;
  struct statvfs sv;
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  char p[64];

  if (fd < 0 && errno == ENOENT)
    return;
  if (fd < 0)
    rt_sbx_die (sync, errno, "cannot open '%s' to make it read-only", path);
  if (mount (fd_magic (fd, p), fd_magic (fd, p), NULL, MS_BIND | MS_REC, NULL) < 0)
    rt_sbx_die (sync, errno, "cannot bind '%s' onto itself", path);
  /* The fd still names what was below the new mount: reopen to reach the mount itself. */
  top = inroot_open (rootfd, path, O_PATH | O_NOFOLLOW, 0);
  if (top < 0 || fstatvfs (top, &sv) < 0)
    rt_sbx_die (sync, errno, "cannot open '%s' to make it read-only", path);
  flags |= (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (sv.f_flag & ST_NODEV ? MS_NODEV : 0)
           | (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
  if (mount (NULL, fd_magic (top, p), NULL, flags, NULL) < 0)
    rt_sbx_die (sync, errno, "cannot make '%s' read-only", path);
}

void
rt_sbx_mask_paths (int sync, int rootfd)
{
  cleanup_close int null = open_dev_null (sync);

  for (size_t i = 0; i < sizeof masked / sizeof *masked; i++)
    mask_one (sync, rootfd, null, masked[i]);
  for (size_t i = 0; i < sizeof readonly / sizeof *readonly; i++)
    readonly_one (sync, rootfd, readonly[i]);
}

/* Highest capability number of this kernel, from the bounding set itself: PR_CAPBSET_READ
   fails with EINVAL past the last one. */
static int
last_cap (void)
{
  int c = CAP_LAST_CAP;

  while (c < 63 && prctl (PR_CAPBSET_READ, (unsigned long) c + 1, 0, 0, 0) >= 0)
    c++;
  while (c > 0 && prctl (PR_CAPBSET_READ, (unsigned long) c, 0, 0, 0) < 0)
    c--;
  return c;
}

/* Docker's 14, less CAP_SYS_CHROOT under chroot isolation: with it, root escapes a chroot
   (chroot into a subdirectory, then climb out with ".."); nothing else keeps the step in. */
static uint64_t
step_caps (const struct sandbox_spec *spec)
{
  return spec->chroot ? rt_default_caps & ~CAPBIT (CAP_SYS_CHROOT) : rt_default_caps;
}

void
rt_sbx_confine_early (const struct rt_sbx_plan *plan)
{
  const struct sandbox_spec *spec = plan->spec;
  int sync = plan->sync_fd;

  /* Limits first: raising a hard limit needs CAP_SYS_RESOURCE, which goes below. */
  for (size_t i = 0; i < spec->n_rlimits; i++)
    {
      struct rlimit rl = { spec->rlimits[i].soft, spec->rlimits[i].hard };
      if (setrlimit ((__rlimit_resource_t) spec->rlimits[i].resource, &rl) < 0)
        rt_sbx_die (sync, errno, "cannot set resource limit %d to %llu:%llu",
                    spec->rlimits[i].resource, (unsigned long long) rl.rlim_cur,
                    (unsigned long long) rl.rlim_max);
    }
  if (spec->insecure)
    return;
  /* The bounding set is what the command can ever hold, even through a setuid-root or
     file-capability binary: Docker's 14 only. Dropping needs CAP_SETPCAP, still ours. */
  for (int c = last_cap (); c >= 0; c--)
    if (!(step_caps (spec) & CAPBIT (c)) && prctl (PR_CAPBSET_DROP, (unsigned long) c, 0, 0, 0) < 0)
      rt_sbx_die (sync, errno, "cannot drop capability %d from the bounding set", c);
  /* Without no_new_privs the kernel takes a filter only from a CAP_SYS_ADMIN holder: load it
     while we still are one, as runc does (and every later call of ours is allowed by it).
     Chroot isolation runs where bale holds no CAP_SYS_ADMIN (a container's root): there the
     filter needs no_new_privs, and a setuid binary gains nothing in the step. */
  if (spec->chroot && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    rt_sbx_die (sync, errno, "cannot set no_new_privs");
  if (rt_seccomp_load (plan->seccomp) < 0)
    rt_sbx_die (sync, errno, "cannot load the seccomp filter");
}

void
rt_sbx_confine_late (const struct rt_sbx_plan *plan, bool as_user)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  int sync = plan->sync_fd;

  if (plan->spec->insecure)
    return;
  /* After setuid: a non-root user has lost every permitted capability already (no keepcaps);
     root keeps Docker's set in permitted and effective. Inheritable and ambient are empty
     (Docker since CVE-2022-24769). */
  memset (data, 0, sizeof data);
  /* A USER emulated in one-id mode is uid 0 for the kernel: without SECBIT_NOROOT its
     execve would get every capability back (and a setuid-root file, which all are here). */
  if (as_user && prctl (PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0) < 0)
    rt_sbx_die (sync, errno, "cannot drop root's capabilities for the step's user");
  if (geteuid () == 0 && !as_user)
    for (int i = 0; i < 2; i++)
      data[i].permitted = data[i].effective = (uint32_t) (step_caps (plan->spec) >> (32 * i));
  if (syscall (SYS_capset, &hdr, data) < 0)
    rt_sbx_die (sync, errno, "cannot set the capabilities of the command");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    rt_sbx_die (sync, errno, "cannot clear the ambient capabilities");
}
