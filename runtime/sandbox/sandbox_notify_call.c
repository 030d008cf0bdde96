/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One call a RUN step sent to bale (seccomp user notification): its arguments, resolved in its root. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime/fs/owners.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/* The NUL-terminated string at addr of the target, copied once (seccomp_unotify(2): never
   read it twice). */
int
rt_sbx_call_string (const struct rt_sbx_call *c, uint64_t addr, char out[PATH_MAX])
{
  ssize_t n = pread (c->mem, out, PATH_MAX, (off_t) addr);

  if (n <= 0)
    return -EFAULT;
  if (memchr (out, '\0', (size_t) n) == NULL)
    return -ENAMETOOLONG;
  return 0;
}

/* The in-root path of the target's directory fd (or cwd for AT_FDCWD): the kernel prints it
   relative to the step's root, where the target lives. */
static int
dir_path (const struct rt_sbx_call *c, int dirfd, char out[PATH_MAX])
{
  char link[64];
  ssize_t n;

  if (dirfd == AT_FDCWD)
    snprintf (link, sizeof link, "/proc/%d/cwd", (int) c->pid);
  else
    snprintf (link, sizeof link, "/proc/%d/fd/%d", (int) c->pid, dirfd);
  n = readlink (link, out, PATH_MAX - 1);
  if (n <= 0 || out[0] != '/')
    return n < 0 ? -errno : -ENOENT;
  out[n] = '\0';
  /* A chrooted step (chroot isolation) shares bale's mount namespace: there the kernel
     prints the path from bale's root, through the step's root, which comes off. What is
     left is resolved in the step's root all the same, whatever it says. */
  {
    char root[PATH_MAX];
    ssize_t m;
    snprintf (link, sizeof link, "/proc/%d/root", (int) c->pid);
    m = readlink (link, root, sizeof root - 1);
    if (m > 1 && m < n && strncmp (out, root, (size_t) m) == 0 && out[m] == '/')
      memmove (out, out + m, (size_t) (n - m) + 1);
    else if (m > 1 && m == n && strncmp (out, root, (size_t) m) == 0)
      out[1] = '\0'; /* out[0] is already '/' */
  }
  return 0;
}

/* The mount id of fd (statx), 0 when unknown. */
uint64_t
rt_sbx_mount_id (int fd)
{
  struct statx sx;

  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0
      || !(sx.stx_mask & STATX_MNT_ID))
    return 0;
  return sx.stx_mnt_id;
}

/* Only the step's own root: not /dev, /proc, a bind mount of the host or of the context
   (which can share the root's filesystem in copy mode). */
static int
check_own (const struct rt_sbx_call *c, int fd)
{
  struct stat st;

  if (fstat (fd, &st) < 0 || st.st_dev != c->root_st.st_dev || rt_sbx_mount_id (fd) != c->root_mnt)
    return -EPERM;
  return 0;
}

int
rt_sbx_call_resolve (const struct rt_sbx_call *c, int dirfd, const char *path, bool nofollow,
                     int *out)
{
  char base[PATH_MAX];
  cleanup_free char *full = NULL;
  struct open_how how = { .flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  int fd, r;

  if (path[0] == '/')
    full = xstrdup (path);
  else
    {
      if ((r = dir_path (c, dirfd, base)) < 0)
        return r;
      full = xasprintf ("%s/%s", base, path);
    }
  fd = (int) syscall (SYS_openat2, c->root, full, &how, sizeof how);
  if (fd < 0)
    return -errno;
  if ((r = check_own (c, fd)) < 0)
    {
      close (fd);
      return r;
    }
  *out = fd;
  return 0;
}

int
rt_sbx_call_parent (const struct rt_sbx_call *c, int dirfd, const char *path, int *parent,
                    char *name)
{
  cleanup_free char *dir = xstrdup (path);
  size_t len = strlen (dir);
  char *slash;
  const char *base;

  while (len > 1 && dir[len - 1] == '/') /* "mkdir a/": the name is a */
    dir[--len] = '\0';
  slash = strrchr (dir, '/');
  base = slash ? slash + 1 : dir;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return -EEXIST;
  if (strlen (base) > NAME_MAX)
    return -ENAMETOOLONG;
  memcpy (name, base, strlen (base) + 1);
  if (slash)
    *slash = '\0';
  return rt_sbx_call_resolve (c, dirfd, slash ? (*dir ? dir : "/") : ".", false, parent);
}

/* The target's fd, when it is a file of the step's root. */
int
rt_sbx_call_target_fd (const struct rt_sbx_call *c, int fd, int *out)
{
  char link[64];
  int r;

  snprintf (link, sizeof link, "/proc/%d/fd/%d", (int) c->pid, fd);
  r = open (link, O_PATH | O_CLOEXEC);
  if (r < 0)
    return errno == ENOENT ? -EBADF : -errno;
  if (check_own (c, r) < 0)
    {
      close (r);
      return -EPERM;
    }
  *out = r;
  return 0;
}

/*
 * The inode a symlink or FIFO of the step lives on where the layer writer reads it: on an
 * overlay, its upper directory's (the overlay shows a lower inode's number for what it
 * copied up), found by the path the kernel prints for handle (from the overlay's root:
 * bale's mount namespace cannot reach the step's), resolved beneath the upper directory
 * without following anything. Elsewhere (copy and chroot modes) handle itself.
 */
static int
real_inode (const struct rt_sbx_call *c, int handle, int *out)
{
  struct statfs sf;
  char self[64], rel[PATH_MAX];
  struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
                                     | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
  struct stat a, b;
  ssize_t n;
  int fd;

  if (fstatfs (handle, &sf) < 0)
    return -errno;
  /* No overlay of bale's (copy and chroot modes): the root is a plain copy, even on the
     overlayfs of a container bale runs in, where it was written, so in its upper layer. */
  if ((unsigned long) sf.f_type != OVERLAYFS_SUPER_MAGIC || c->n->upper < 0)
    {
      *out = fcntl (handle, F_DUPFD_CLOEXEC, 3);
      return *out < 0 ? -errno : 0;
    }
  snprintf (self, sizeof self, "/proc/self/fd/%d", handle);
  n = readlink (self, rel, sizeof rel - 1);
  if (n <= 1 || rel[0] != '/')
    return -ENOENT;
  rel[n] = '\0';
  fd = (int) syscall (SYS_openat2, c->n->upper, rel + 1, &how, sizeof how);
  if (fd < 0)
    return -errno;
  /* The same kind of entry: what the step renamed over it since is its own business. */
  if (fstat (fd, &a) < 0 || fstat (handle, &b) < 0 || (a.st_mode & S_IFMT) != (b.st_mode & S_IFMT))
    {
      close (fd);
      return -ESTALE;
    }
  *out = fd;
  return 0;
}

int
rt_sbx_owner (const struct rt_sbx_call *c, int handle, struct stat *st)
{
  char self[64];
  cleanup_close int fd = -1;

  if (fstat (handle, st) < 0)
    return -errno;
  if (S_ISLNK (st->st_mode) || S_ISFIFO (st->st_mode))
    {
      cleanup_close int real = -1;
      if (real_inode (c, handle, &real) == 0)
        owners_apply_special (real, "", st);
      return 0;
    }
  if (!S_ISREG (st->st_mode) && !S_ISDIR (st->st_mode))
    return 0;
  snprintf (self, sizeof self, "/proc/self/fd/%d", handle);
  fd = open (self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (S_ISDIR (st->st_mode) ? O_DIRECTORY : 0));
  if (fd < 0)
    return -errno;
  owners_apply (fd, st);
  return 0;
}

/* Record the owner of a symlink or FIFO (no user.* xattr on them): a real chown to the owner
   it has (bale's own id, a change of nothing) makes the overlay copy it up into the step's
   layer as chown(2) would, then the table of runtime/fs/owners.h keeps the wanted one. */
static int
record_special (const struct rt_sbx_call *c, int handle, uid_t uid, gid_t gid)
{
  cleanup_close int real = -1;
  struct stat st;
  int r;

  if (fstat (handle, &st) < 0
      || fchownat (handle, "", st.st_uid, st.st_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  if ((r = real_inode (c, handle, &real)) < 0)
    return r;
  return owners_record_special (real, uid, gid) < 0 ? -errno : 0;
}

int
rt_sbx_record (const struct rt_sbx_call *c, int handle, uid_t uid, gid_t gid)
{
  char self[64];
  cleanup_close int fd = -1;
  struct stat st, now;
  int r;

  if ((r = rt_sbx_owner (c, handle, &now)) < 0)
    return r;
  st = now;
  st.st_uid = uid == (uid_t) -1 ? now.st_uid : uid;
  st.st_gid = gid == (gid_t) -1 ? now.st_gid : gid;
  if (S_ISLNK (now.st_mode) || S_ISFIFO (now.st_mode))
    return record_special (c, handle, st.st_uid, st.st_gid);
  /* Sockets: a layer has none (containerd's differ skips them); the call still succeeds. */
  if (!S_ISREG (now.st_mode) && !S_ISDIR (now.st_mode))
    return 0;
  snprintf (self, sizeof self, "/proc/self/fd/%d", handle);
  fd = open (self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (S_ISDIR (now.st_mode) ? O_DIRECTORY : 0));
  if (fd < 0 || fstat (fd, &st) < 0)
    return -errno;
  st.st_uid = uid == (uid_t) -1 ? now.st_uid : uid;
  st.st_gid = gid == (gid_t) -1 ? now.st_gid : gid;
  st.st_mode = (now.st_mode & S_IFMT) | (st.st_mode & 07777);
  if (owners_record (fd, &st) < 0)
    return -errno;
  /* chown clears setuid, and setgid of group-executables, even for root (chown(2)). */
  if (S_ISREG (st.st_mode) && (uid != (uid_t) -1 || gid != (gid_t) -1)
      && (st.st_mode & (S_ISUID | S_ISGID)))
    {
      mode_t m = st.st_mode & 07777 & ~(mode_t) S_ISUID;
      if (m & S_IXGRP)
        m &= ~(mode_t) S_ISGID;
      if (fchmod (fd, m) < 0)
        return -errno;
    }
  return 0;
}

mode_t
rt_sbx_call_umask (const struct rt_sbx_call *c)
{
  char path[64], line[256];
  cleanup_file FILE *f = NULL;
  unsigned int m;

  snprintf (path, sizeof path, "/proc/%d/status", (int) c->pid);
  f = fopen (path, "re");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "Umask: %o", &m) == 1)
      return (mode_t) m;
  return 022;
}

int
rt_sbx_notify_names (void *ctx_, const char *const *names, size_t n)
{
  scmp_filter_ctx ctx = ctx_;
  int r = 0, nr;

  for (size_t i = 0; i < n; i++)
    if ((nr = seccomp_syscall_resolve_name (names[i])) != __NR_SCMP_ERROR)
      r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, nr, 0);
  return r;
}

/* Whether the caller is in group gid (its fs group or a supplementary one). */
bool
rt_sbx_in_group (const struct rt_sbx_cred *cr, gid_t gid)
{
  if (gid == cr->gid[RT_SBX_FS])
    return true;
  for (uint32_t i = 0; i < cr->n_groups; i++)
    if (cr->groups[i] == gid)
      return true;
  return false;
}

/* Without root's capabilities (CAP_DAC_OVERRIDE), write and search permission on the
   directory st, by the owner the image gave it. */
int
rt_sbx_may_write_dir (const struct rt_sbx_cred *cr, const struct stat *st)
{
  mode_t bits = st->st_uid == cr->uid[RT_SBX_FS]      ? st->st_mode >> 6
                : rt_sbx_in_group (cr, st->st_gid) ? st->st_mode >> 3
                                                     : st->st_mode;

  if (!S_ISDIR (st->st_mode))
    return -ENOTDIR;
  if (!(cr->caps & RT_SBX_CAP_EFFECTIVE) && (bits & 3) != 3)
    return -EACCES;
  return 0;
}
