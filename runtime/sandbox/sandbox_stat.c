/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One id: what stat shows of a file whose owner bale recorded. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/*
 * A recorded owner lives in an xattr (or bale's table, for symlinks and FIFOs); the kernel's
 * stat shows the real one, root. Tools that copy an owner they read would give root's owner
 * to what they write, and the image would differ from root's build: shadow's useradd
 * rewrites /etc/shadow and /etc/gshadow with fchown (fd, st.st_uid, st.st_gid) of the old
 * file's fstat (root:shadow), and cp -p, tar and rsync do the same. So bale answers stat,
 * lstat, fstat, newfstatat and statx of a file whose recorded owner is not its real one: it
 * stats the file itself (resolved in the step's root, on the step's own mount, following
 * no more than the call follows), puts the recorded owner in and writes the structure into
 * the caller's buffer. Everything else (no record, a file off the step's root mount such
 * as /dev, /proc or a pipe, a path bale cannot resolve) is the kernel's, with its errors.
 * The answer is data the step could read itself (the xattr); no confinement depends on it.
 */

int
rt_sbx_stat_rules (void *ctx)
{
  static const char *const names[] = { "stat", "lstat", "fstat", "newfstatat", "statx" };

  return rt_sbx_notify_names (ctx, names, sizeof names / sizeof *names);
}

/* The file a call names (dirfd, the path at addr, AT_* flags): 0 and *h, or -1 when the
   kernel answers. */
static int
target (const struct rt_sbx_call *c, int dirfd, uint64_t addr, int flags, int *h)
{
  char path[PATH_MAX];

  if (rt_sbx_call_string (c, addr, path) < 0)
    return -1;
  if (path[0] == '\0' && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD)
    return rt_sbx_call_target_fd (c, dirfd, h) < 0 ? -1 : 0;
  return rt_sbx_call_resolve (c, dirfd, path[0] ? path : ".", flags & AT_SYMLINK_NOFOLLOW, h) < 0
             ? -1
             : 0;
}

/* The recorded owner of h when it is not the real one in st: true, and st carries it. */
static bool
recorded (const struct rt_sbx_call *c, int h, uid_t *uid, gid_t *gid)
{
  struct stat real, rec;

  if (fstat (h, &real) < 0 || rt_sbx_owner (c, h, &rec) < 0)
    return false;
  *uid = rec.st_uid;
  *gid = rec.st_gid;
  return rec.st_uid != real.st_uid || rec.st_gid != real.st_gid;
}

/* stat, lstat, fstat and newfstatat (one struct stat, the kernel's on 64-bit machines). */
static int
answer_stat (const struct rt_sbx_call *c, int h, uint64_t buf)
{
  struct stat st;
  uid_t uid;
  gid_t gid;

  if (!recorded (c, h, &uid, &gid) || fstatat (h, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
    return 1;
  st.st_uid = uid;
  st.st_gid = gid;
  return pwrite (c->mem, &st, sizeof st, (off_t) buf) == (ssize_t) sizeof st ? 0 : -EFAULT;
}

static int
answer_statx (const struct rt_sbx_call *c, int h, int flags, unsigned mask, uint64_t buf)
{
  struct statx sx;
  uid_t uid;
  gid_t gid;

  if (!recorded (c, h, &uid, &gid)
      || statx (h, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | (flags & AT_STATX_SYNC_TYPE), mask, &sx) < 0)
    return 1;
  sx.stx_uid = uid;
  sx.stx_gid = gid;
  return pwrite (c->mem, &sx, sizeof sx, (off_t) buf) == (ssize_t) sizeof sx ? 0 : -EFAULT;
}

bool
rt_sbx_stat (const struct rt_sbx_call *c, const struct seccomp_data *d, struct rt_sbx_reply *out)
{
  int nr = (int) d->nr;
  const __u64 *a = d->args;
  cleanup_close int h = -1;
  int r = 1;

  if (nr == seccomp_syscall_resolve_name ("stat") || nr == seccomp_syscall_resolve_name ("lstat"))
    {
      int flags = nr == seccomp_syscall_resolve_name ("lstat") ? AT_SYMLINK_NOFOLLOW : 0;
      if (target (c, AT_FDCWD, a[0], flags, &h) == 0)
        r = answer_stat (c, h, a[1]);
    }
  else if (nr == SCMP_SYS (fstat))
    {
      if (rt_sbx_call_target_fd (c, (int) a[0], &h) == 0)
        r = answer_stat (c, h, a[1]);
    }
  else if (nr == SCMP_SYS (newfstatat))
    {
      if (target (c, (int) a[0], a[1], (int) a[3], &h) == 0)
        r = answer_stat (c, h, a[2]);
    }
  else if (nr == SCMP_SYS (statx))
    {
      if (target (c, (int) a[0], a[1], (int) a[2], &h) == 0)
        r = answer_statx (c, h, (int) a[2], (unsigned) a[3], a[4]);
    }
  else
    return false;
  out->error = r < 0 ? r : 0;
  out->val = 0;
  out->cont = r > 0;
  return true;
}
