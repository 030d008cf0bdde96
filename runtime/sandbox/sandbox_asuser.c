/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One id and a non-root USER: the step runs as the only id, but sees and creates as USER. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/fs/owners.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/*
 * A one-id namespace maps no id but root, so no process of a RUN step can become another
 * user: a step under `USER 1000:1000` runs as that root without a capability (as a non-root
 * user of Docker has none), a root step as root, and bale answers, through the same seccomp
 * notification as chown, the way fakeroot and proot do:
 *  - the ids of each process (sandbox_ids.c): the getuid and setuid families, getgroups and
 *    setgroups, by the kernel's rules;
 *  - what a process whose fs ids are not root's creates: mkdir, symlink, mknod of FIFOs and
 *    files, open/openat/creat/openat2 with O_CREAT of a name that does not exist, and with
 *    O_TMPFILE (which linkat names later) are done
 *    by bale in the step's root (resolved in-root as chown is), with the step's umask,
 *    after the write permission a process without root's capabilities needs on the
 *    directory (by its recorded owner), and the new entry's owner is recorded as the fs ids
 *    (the directory's group for a setgid directory). The file a step opens is passed into
 *    it with SECCOMP_IOCTL_NOTIF_ADDFD and SECCOMP_ADDFD_FLAG_SEND (Linux 5.14), which
 *    answers the call with the new descriptor in one step;
 *  - what link, rename and bind of a Unix socket need of such a process
 *    (sandbox_asuser_names.c): checked, then the kernel's.
 *  - stat and its family of a file whose owner is recorded (sandbox_stat.c): that owner.
 * Everything else runs as the kernel decides: what the step may do is the namespace root's
 * (every file belongs to it), never more; docs/rootless.md lists what a step sees.
 */

int
rt_sbx_asuser_rules (void *ctx_)
{
  static const char *const all[] = { "getuid",   "geteuid",   "getgid",    "getegid",
                                     "getresuid", "getresgid", "setuid",    "setgid",
                                     "setreuid",  "setregid",  "setresuid", "setresgid",
                                     "setfsuid",  "setfsgid",  "mkdir",     "mkdirat",
                                     "symlink",   "symlinkat", "creat",     "getgroups",
                                     "setgroups", "openat2",   "capset",    "execve",
                                     "execveat" };
  static const mode_t kinds[] = { S_IFIFO, S_IFREG, 0 };
  scmp_filter_ctx ctx = ctx_;
  int r = rt_sbx_notify_names (ctx, all, sizeof all / sizeof *all), nr;

  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (prctl), 1,
                         SCMP_A0_32 (SCMP_CMP_EQ, PR_SET_KEEPCAPS, 0));
  if ((nr = seccomp_syscall_resolve_name ("open")) != __NR_SCMP_ERROR)
    r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, nr, 1,
                           SCMP_A1_32 (SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT));
  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (openat), 1,
                         SCMP_A2_32 (SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT));
  /* O_TMPFILE is O_DIRECTORY and a bit of its own, without O_CREAT. */
  if ((nr = seccomp_syscall_resolve_name ("open")) != __NR_SCMP_ERROR)
    r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, nr, 1,
                           SCMP_A1_32 (SCMP_CMP_MASKED_EQ, TMPFILE_BIT, TMPFILE_BIT));
  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (openat), 1,
                         SCMP_A2_32 (SCMP_CMP_MASKED_EQ, TMPFILE_BIT, TMPFILE_BIT));
  r |= rt_sbx_asuser_names_rules (ctx);
  r |= rt_sbx_stat_rules (ctx);
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    {
      if ((nr = seccomp_syscall_resolve_name ("mknod")) != __NR_SCMP_ERROR)
        r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, nr, 1,
                               SCMP_A1_32 (SCMP_CMP_MASKED_EQ, S_IFMT, kinds[i]));
      r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (mknodat), 1,
                             SCMP_A2_32 (SCMP_CMP_MASKED_EQ, S_IFMT, kinds[i]));
    }
  return r;
}

/* ---- what the step creates ---------------------------------------------------------------- */

/* Where a new entry goes: its directory, checked writable for USER, and its owner. */
struct place
{
  int parent;
  char name[NAME_MAX + 1];
  uid_t uid;
  gid_t gid;
  mode_t setgid; /* S_ISGID when the directory has it: a new directory inherits it */
};

static void
place_release (struct place *p)
{
  if (p->parent >= 0)
    close (p->parent);
}

static int
place_find (const struct rt_sbx_call *c, int dirfd, const char *path, struct place *p)
{
  const struct rt_sbx_cred *cr = c->cred;
  struct stat st;
  int r;

  p->parent = -1;
  if ((r = rt_sbx_call_parent (c, dirfd, path, &p->parent, p->name)) < 0
      || (r = rt_sbx_owner (c, p->parent, &st)) < 0)
    return r;
  if ((r = rt_sbx_may_write_dir (cr, &st)) < 0)
    return r;
  p->uid = cr->uid[RT_SBX_FS];
  p->gid = (st.st_mode & S_ISGID) ? st.st_gid : cr->gid[RT_SBX_FS];
  p->setgid = st.st_mode & S_ISGID;
  return 0;
}

/* The entry just made at p, as an O_PATH handle, checked to be of kind type. */
static int
made (const struct place *p, mode_t type, int *out)
{
  struct stat st;
  int fd = openat (p->parent, p->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return -errno;
  if (fstat (fd, &st) < 0 || (st.st_mode & S_IFMT) != type)
    {
      close (fd);
      return -ESTALE;
    }
  *out = fd;
  return 0;
}

/* chmod of an O_PATH handle (not a symlink), through its /proc/self/fd link. */
static int
chmod_handle (int fd, mode_t mode)
{
  char self[64];

  snprintf (self, sizeof self, "/proc/self/fd/%d", fd);
  return chmod (self, mode) < 0 ? -errno : 0;
}

static int
make_dir (const struct rt_sbx_call *c, int dirfd, const char *path, mode_t mode)
{
  struct place p __attribute__ ((cleanup (place_release))) = { .parent = -1 };
  cleanup_close int h = -1;
  int r;

  if ((r = place_find (c, dirfd, path, &p)) < 0)
    return r;
  if (mkdirat (p.parent, p.name, 0700) < 0)
    return -errno;
  if ((r = made (&p, S_IFDIR, &h)) < 0
      || (r = chmod_handle (h, (mode & 01777 & ~rt_sbx_call_umask (c)) | p.setgid)) < 0)
    return r;
  return rt_sbx_record (c, h, p.uid, p.gid);
}

static int
make_symlink (const struct rt_sbx_call *c, uint64_t target_addr, int dirfd, const char *path)
{
  struct place p __attribute__ ((cleanup (place_release))) = { .parent = -1 };
  char target[PATH_MAX];
  cleanup_close int h = -1;
  int r;

  if ((r = rt_sbx_call_string (c, target_addr, target)) < 0
      || (r = place_find (c, dirfd, path, &p)) < 0)
    return r;
  if (symlinkat (target, p.parent, p.name) < 0)
    return -errno;
  if ((r = made (&p, S_IFLNK, &h)) < 0)
    return r;
  return rt_sbx_record (c, h, p.uid, p.gid);
}

/* mknod of a FIFO or a regular file (type 0 is one). */
static int
make_node (const struct rt_sbx_call *c, int dirfd, const char *path, mode_t mode)
{
  struct place p __attribute__ ((cleanup (place_release))) = { .parent = -1 };
  mode_t type = (mode & S_IFMT) ? (mode & S_IFMT) : S_IFREG;
  cleanup_close int h = -1;
  int r;

  if ((r = place_find (c, dirfd, path, &p)) < 0)
    return r;
  if (mknodat (p.parent, p.name, type | 0600, 0) < 0)
    return -errno;
  if ((r = made (&p, type, &h)) < 0
      || (r = chmod_handle (h, mode & 07777 & ~rt_sbx_call_umask (c))) < 0)
    return r;
  return rt_sbx_record (c, h, p.uid, p.gid);
}

/* The flags that matter to an open file; O_CREAT, O_EXCL and O_NOFOLLOW are bale's. */
#define KEEP_FLAGS                                                                           \
  (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_NOCTTY     \
   | O_LARGEFILE)

/* Give the file bale made (st: its wanted owner and mode) to the step as the call's answer;
   false with out->error when it cannot be. */
static bool
hand_over (const struct rt_sbx_call *c, int fd, int flags, const struct stat *st,
           struct rt_sbx_reply *out)
{
  struct seccomp_notif_addfd add = { .id = c->id, .flags = SECCOMP_ADDFD_FLAG_SEND,
                                     .srcfd = (uint32_t) fd,
                                     .newfd_flags = (uint32_t) (flags & O_CLOEXEC) };

  if (fchmod (fd, st->st_mode & 07777) < 0 || owners_record (fd, st) < 0)
    {
      out->error = -errno;
      return false;
    }
  if (ioctl (c->n->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) >= 0)
    {
      out->sent = true;
      return true;
    }
  /* The step was interrupted or is gone: it will ask again. */
  out->error = -errno;
  return false;
}

/* open with O_TMPFILE: bale makes the unnamed file in the directory (in-root, one USER may
   write), owned by the fs ids as a root build's would be; linkat gives it a name later, and
   its recorded owner goes with the inode. */
static void
make_tmpfile (const struct rt_sbx_call *c, int dirfd, const char *path, int flags, mode_t mode,
              struct rt_sbx_reply *out)
{
  const struct rt_sbx_cred *cr = c->cred;
  cleanup_close int h = -1, fd = -1;
  struct stat st;
  char self[64];

  if ((out->error = rt_sbx_call_resolve (c, dirfd, path, false, &h)) < 0
      || (out->error = rt_sbx_owner (c, h, &st)) < 0
      || (out->error = rt_sbx_may_write_dir (cr, &st)) < 0)
    return;
  snprintf (self, sizeof self, "/proc/self/fd/%d", h);
  fd = open (self, (flags & (KEEP_FLAGS | O_EXCL)) | O_TMPFILE | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      out->error = -errno; /* EINVAL without write access, EOPNOTSUPP where unsupported */
      return;
    }
  st.st_gid = (st.st_mode & S_ISGID) ? st.st_gid : cr->gid[RT_SBX_FS];
  st.st_uid = cr->uid[RT_SBX_FS];
  st.st_mode = S_IFREG | (mode & 07777 & ~rt_sbx_call_umask (c));
  hand_over (c, fd, flags, &st, out);
}

/* open with O_CREAT: bale creates a missing file and hands it to the step; an existing one
   (or anything unusual: O_DIRECTORY, a trailing slash, a path bale cannot resolve) is the
   kernel's to open, with its own errors. */
static void
make_file (const struct rt_sbx_call *c, int dirfd, const char *path, int flags, mode_t mode,
           struct rt_sbx_reply *out)
{
  struct place p __attribute__ ((cleanup (place_release))) = { .parent = -1 };
  cleanup_close int fd = -1;
  struct stat st;
  size_t len = strlen (path);
  int r;

  if ((flags & O_TMPFILE) == O_TMPFILE)
    {
      make_tmpfile (c, dirfd, path, flags, mode, out);
      return;
    }
  if ((flags & (O_DIRECTORY | O_PATH)) || len == 0 || path[len - 1] == '/')
    {
      out->cont = true;
      return;
    }
  r = place_find (c, dirfd, path, &p);
  if (r == -EACCES && fstatat (p.parent, p.name, &st, AT_SYMLINK_NOFOLLOW) < 0
      && errno == ENOENT)
    {
      out->error = r; /* a new file in a directory USER may not write */
      return;
    }
  if (r < 0 || fstatat (p.parent, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
    {
      out->cont = true;
      return;
    }
  fd = openat (p.parent, p.name, (flags & KEEP_FLAGS) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      if (errno == EEXIST)
        out->cont = true; /* made since: the kernel opens it */
      else
        out->error = -errno;
      return;
    }
  st.st_uid = p.uid;
  st.st_gid = p.gid;
  st.st_mode = S_IFREG | (mode & 07777 & ~rt_sbx_call_umask (c));
  if (!hand_over (c, fd, flags, &st, out))
    unlinkat (p.parent, p.name, 0); /* asked again, it finds no file */
}

/* openat2 with O_CREAT or O_TMPFILE and no RESOLVE_* flag is openat; the kernel does the
   others (a file created with a RESOLVE_* flag belongs to root: docs/rootless.md). struct
   open_how is copied once, as the path is. */
static void
open_how2 (const struct rt_sbx_call *c, const struct seccomp_data *d, struct rt_sbx_reply *out)
{
  struct open_how how = { 0 };
  char path[PATH_MAX];

  if (d->args[3] != sizeof how
      || pread (c->mem, &how, sizeof how, (off_t) d->args[2]) != (ssize_t) sizeof how
      || !(how.flags & (O_CREAT | TMPFILE_BIT)) || how.resolve != 0 || how.flags > INT_MAX || how.mode > 07777
      || rt_sbx_call_string (c, d->args[1], path) < 0)
    {
      out->cont = true; /* the kernel's errors (EFAULT, E2BIG, EINVAL) or its own open */
      return;
    }
  make_file (c, (int) d->args[0], path, (int) how.flags, (mode_t) how.mode, out);
}

static bool
creates (const struct rt_sbx_call *c, const struct seccomp_data *d, struct rt_sbx_reply *out)
{
  char path[PATH_MAX];
  int nr = (int) d->nr;
  int at = nr == SCMP_SYS (mkdirat) || nr == SCMP_SYS (mknodat) || nr == SCMP_SYS (openat);
  int dirfd = at ? (int) d->args[0] : AT_FDCWD;
  uint64_t path_arg = nr == SCMP_SYS (symlink) ? d->args[1]
                      : nr == SCMP_SYS (symlinkat) ? d->args[2]
                      : d->args[at ? 1 : 0];

  if (nr != SCMP_SYS (mkdir) && nr != SCMP_SYS (mkdirat) && nr != SCMP_SYS (symlink)
      && nr != SCMP_SYS (symlinkat) && nr != SCMP_SYS (mknod) && nr != SCMP_SYS (mknodat)
      && nr != SCMP_SYS (open) && nr != SCMP_SYS (openat) && nr != SCMP_SYS (creat)
      && nr != SCMP_SYS (openat2))
    return false;
  /* Root's own (fs ids 0:0): the kernel makes it as root, which is right. */
  if (c->cred->uid[RT_SBX_FS] == 0 && c->cred->gid[RT_SBX_FS] == 0)
    {
      out->cont = true;
      return true;
    }
  if (nr == SCMP_SYS (openat2))
    {
      open_how2 (c, d, out);
      return true;
    }
  if (nr == SCMP_SYS (symlinkat))
    dirfd = (int) d->args[1];
  if ((out->error = rt_sbx_call_string (c, path_arg, path)) < 0)
    return true;
  if (nr == SCMP_SYS (mkdir) || nr == SCMP_SYS (mkdirat))
    out->error = make_dir (c, dirfd, path, (mode_t) d->args[at ? 2 : 1]);
  else if (nr == SCMP_SYS (symlink) || nr == SCMP_SYS (symlinkat))
    out->error = make_symlink (c, d->args[0], dirfd, path);
  else if (nr == SCMP_SYS (mknod) || nr == SCMP_SYS (mknodat))
    out->error = make_node (c, dirfd, path, (mode_t) d->args[at ? 2 : 1]);
  else if (nr == SCMP_SYS (creat))
    make_file (c, dirfd, path, O_CREAT | O_WRONLY | O_TRUNC, (mode_t) d->args[1], out);
  else
    make_file (c, dirfd, path, (int) d->args[at ? 2 : 1], (mode_t) d->args[at ? 3 : 2], out);
  return true;
}

bool
rt_sbx_asuser_handle (const struct rt_sbx_call *c, const struct seccomp_data *d,
                      struct rt_sbx_reply *out)
{
  return rt_sbx_ids_handle (c, d, out) || creates (c, d, out) || rt_sbx_asuser_names (c, d, out)
         || rt_sbx_stat (c, d, out);
}

int
rt_sbx_asuser_may_chown (const struct rt_sbx_call *c, int handle, uid_t wuid, gid_t wgid)
{
  const struct rt_sbx_cred *cr = c->cred;
  struct stat st;
  int r;

  /* Without CAP_CHOWN: only the owner, keeping its uid, to one of its groups. */
  if (cr->caps & RT_SBX_CAP_EFFECTIVE)
    return 0;
  if ((r = rt_sbx_owner (c, handle, &st)) < 0)
    return r;
  if (st.st_uid != cr->uid[RT_SBX_FS] || (wuid != (uid_t) -1 && wuid != st.st_uid)
      || (wgid != (gid_t) -1 && !rt_sbx_in_group (cr, wgid)))
    return -EPERM;
  return 0;
}
