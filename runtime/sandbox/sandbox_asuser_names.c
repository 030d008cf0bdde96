/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One id and a non-root USER: what link, rename and bind of a Unix socket need. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/*
 * The kernel sees every process of a one-id step as the namespace's root, which owns every
 * file: a link, rename or bind of a Unix socket that a root build's USER may not make (no
 * write permission on a directory, the sticky bit of /tmp, fs.protected_hardlinks) would
 * succeed, and the image differ from root's. For a process without root's capabilities (by
 * its emulated ids) bale checks what the kernel checks of that user, by the owners the image
 * gave (recorded, else real), and answers EACCES or EPERM as it would; otherwise the kernel
 * runs the call (CONTINUE). The entries keep their recorded owners (the override xattr goes
 * with the inode; a symlink's or FIFO's record is keyed by its inode), so a layer holds what
 * root's holds. With CONTINUE the kernel resolves the paths again: a step that swaps a path
 * between the check and the call fools only the emulation of its own user (it is root of
 * its namespace, with nothing more to gain), never the confinement, which is the kernel's.
 * Anything bale cannot resolve in the step's root is the kernel's too, with its own errors.
 */

int
rt_sbx_asuser_names_rules (void *ctx)
{
  static const char *const names[] = { "link", "linkat", "rename", "renameat", "renameat2", "bind" };

  return rt_sbx_notify_names (ctx, names, sizeof names / sizeof *names);
}

static int
nr_of (const char *name)
{
  return seccomp_syscall_resolve_name (name);
}

/* The directory of path in the step's root (*parent, when not NULL, and name) and its
   owner, and the entry's when it exists (st->st_mode 0 when not). 1 when resolved, 0 when
   bale leaves the call to the kernel. */
static int
entry_at (const struct rt_sbx_call *c, int dirfd, const char *path, struct stat *dir,
          struct stat *st, int *parent_out, char name[NAME_MAX + 1])
{
  cleanup_close int parent = -1, h = -1;

  if (rt_sbx_call_parent (c, dirfd, path, &parent, name) < 0 || rt_sbx_owner (c, parent, dir) < 0)
    return 0;
  memset (st, 0, sizeof *st);
  h = openat (parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (h >= 0 && rt_sbx_owner (c, h, st) < 0)
    return 0;
  if (parent_out)
    {
      *parent_out = parent;
      parent = -1;
    }
  return 1;
}

static int
entry (const struct rt_sbx_call *c, int dirfd, const char *path, struct stat *dir, struct stat *st)
{
  char name[NAME_MAX + 1];

  return entry_at (c, dirfd, path, dir, st, NULL, name);
}

/* The sticky bit (/tmp): only the owner of the directory or of the entry removes or replaces
   it (CAP_FOWNER aside). */
static bool
sticky_denies (const struct rt_sbx_cred *cr, const struct stat *dir, const struct stat *st)
{
  return (dir->st_mode & S_ISVTX) && st->st_mode != 0 && dir->st_uid != cr->uid[RT_SBX_FS]
         && st->st_uid != cr->uid[RT_SBX_FS];
}

/* fs.protected_hardlinks (Debian's default 1): a user links only a file it owns, or a regular
   file it may read and write that is neither setuid nor setgid-executable. */
static int
hardlink_denied (const struct rt_sbx_cred *cr, const struct stat *st)
{
  char v = '0';
  mode_t bits;
  int fd = open ("/proc/sys/fs/protected_hardlinks", O_RDONLY | O_CLOEXEC);

  if (fd >= 0)
    {
      if (read (fd, &v, 1) != 1)
        v = '0';
      close (fd);
    }
  if (v != '1' || st->st_uid == cr->uid[RT_SBX_FS])
    return 0;
  bits = rt_sbx_in_group (cr, st->st_gid) ? st->st_mode >> 3 : st->st_mode;
  if (!S_ISREG (st->st_mode) || (st->st_mode & S_ISUID)
      || (st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) || (bits & 6) != 6)
    return -EPERM;
  return 0;
}

/* link and linkat. linkat (fd, "", ..., AT_EMPTY_PATH) names what the caller opened (an
   O_TMPFILE file, which bale made for it): the kernel lets only the opener's credentials or
   CAP_DAC_READ_SEARCH do that, and bale opened it, so bale makes the link itself, in-root,
   as the kernel would for the opener (*done). */
static int
check_link (const struct rt_sbx_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp,
            int flags, bool *done)
{
  char from[PATH_MAX], to[PATH_MAX], name[NAME_MAX + 1];
  struct stat src, tdir, dst;
  cleanup_close int h = -1, parent = -1;
  bool empty;
  int r;

  if (rt_sbx_call_string (c, oldp, from) < 0 || rt_sbx_call_string (c, newp, to) < 0
      || !entry_at (c, newdir, to, &tdir, &dst, &parent, name))
    return 0;
  if ((r = rt_sbx_may_write_dir (c->cred, &tdir)) < 0)
    return r == -EACCES ? r : 0;
  empty = from[0] == '\0' && (flags & AT_EMPTY_PATH);
  if (empty)
    r = rt_sbx_call_target_fd (c, olddir, &h);
  else
    r = rt_sbx_call_resolve (c, olddir, from, !(flags & AT_SYMLINK_FOLLOW), &h);
  if (r < 0 || rt_sbx_owner (c, h, &src) < 0)
    return 0;
  if ((r = hardlink_denied (c->cred, &src)) < 0 || !empty)
    return r;
  *done = true;
  return linkat (h, "", parent, name, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

static int
check_rename (const struct rt_sbx_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp)
{
  char from[PATH_MAX], to[PATH_MAX];
  struct stat sdir, src, tdir, dst;
  int r;

  if (rt_sbx_call_string (c, oldp, from) < 0 || rt_sbx_call_string (c, newp, to) < 0
      || !entry (c, olddir, from, &sdir, &src) || !entry (c, newdir, to, &tdir, &dst))
    return 0;
  if ((r = rt_sbx_may_write_dir (c->cred, &sdir)) < 0 || (r = rt_sbx_may_write_dir (c->cred, &tdir)) < 0)
    return r == -EACCES ? r : 0;
  if (sticky_denies (c->cred, &sdir, &src) || sticky_denies (c->cred, &tdir, &dst))
    return -EPERM;
  return 0;
}

/* bind of a Unix socket with a path makes it in a directory the caller must write. */
static int
check_bind (const struct rt_sbx_call *c, uint64_t addr, uint64_t len)
{
  struct sockaddr_un sa;
  char path[sizeof sa.sun_path + 1];
  struct stat dir, st;
  size_t n = len < sizeof sa ? (size_t) len : sizeof sa;
  int r;

  memset (&sa, 0, sizeof sa);
  if (n <= offsetof (struct sockaddr_un, sun_path) + 1
      || pread (c->mem, &sa, n, (off_t) addr) != (ssize_t) n || sa.sun_family != AF_UNIX
      || sa.sun_path[0] == '\0')
    return 0; /* another family, an abstract name, or the kernel's error */
  memcpy (path, sa.sun_path, n - offsetof (struct sockaddr_un, sun_path));
  path[n - offsetof (struct sockaddr_un, sun_path)] = '\0';
  if (!entry (c, AT_FDCWD, path, &dir, &st))
    return 0;
  r = rt_sbx_may_write_dir (c->cred, &dir);
  return r == -EACCES ? r : 0;
}

bool
rt_sbx_asuser_names (const struct rt_sbx_call *c, const struct seccomp_data *d,
                     struct rt_sbx_reply *out)
{
  int nr = (int) d->nr;
  const __u64 *a = d->args;
  bool done = false;

  if (nr != nr_of ("link") && nr != SCMP_SYS (linkat) && nr != nr_of ("rename")
      && nr != SCMP_SYS (renameat) && nr != SCMP_SYS (renameat2) && nr != SCMP_SYS (bind))
    return false;
  /* Root's capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER) pass every check. (out may hold
     what an earlier handler left: rt_sbx_ids_handle's ENOSYS.) */
  out->error = 0;
  if (!(c->cred->caps & RT_SBX_CAP_EFFECTIVE))
    {
      if (nr == nr_of ("link"))
        out->error = check_link (c, AT_FDCWD, a[0], AT_FDCWD, a[1], 0, &done);
      else if (nr == SCMP_SYS (linkat))
        out->error = check_link (c, (int) a[0], a[1], (int) a[2], a[3], (int) a[4], &done);
      else if (nr == nr_of ("rename"))
        out->error = check_rename (c, AT_FDCWD, a[0], AT_FDCWD, a[1]);
      else if (nr == SCMP_SYS (bind))
        out->error = check_bind (c, a[1], a[2]);
      else
        out->error = check_rename (c, (int) a[0], a[1], (int) a[2], a[3]);
    }
  out->cont = out->error == 0 && !done;
  return true;
}
