/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * RUN --mount under chroot isolation, where nothing can be mounted: each mount is emulated in
 * the copied root by the parent, before the step and after it.
 *
 * Before: the source (a context directory, a stage's view, a cache, a secret file, a heredoc,
 * the ssh relay's socket) is copied into scratch space and exchanged (RENAME_EXCHANGE) with
 * what the target holds, so that the image's own entry waits outside the root, untouched,
 * as under a mount; a tmpfs is an empty directory. A target the step's mount point creates
 * (a missing directory, kept in the layer as BuildKit keeps it; an empty file, removed) is made
 * as the sandbox makes it for a real mount, and a created directory is filled in place.
 * After: the copy must still be where it was put, and no file of it may have a name outside
 * it (a real mount can be neither renamed nor hard-linked out of: EBUSY, EXDEV), or the step
 * fails: that is how a secret would reach the layer. A writable bind's copy is written back
 * to its source (a cache mount's directory; the other writable sources are bale's throwaway
 * copies), then everything is exchanged back and the copy removed. Each directory touched
 * keeps its mtime, so the layer differ (runtime/layer/fsindex.c) sees the mounts no more
 * than an overlay's upper directory would: the exchanged directory is an entry of the index
 * whose inode comes back, and the copies are filled outside the root's inotify watches.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dirwalk.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/fs/inroot.h"
#include "runtime/layer/fsindex.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/* One emulated mount. */
struct rt_sbx_emount
{
  const struct sandbox_mount *m;
  int parent;       /* the target's directory (O_RDONLY) */
  char *name;       /* the target's name in it */
  int aside;        /* scratch directory: "top" holds the copy, then what the target held */
  int src;          /* O_PATH: the bind's source, -1 for a tmpfs */
  bool in_place;    /* a directory created for this mount, filled where it is */
  struct stat orig; /* the target as it was (in_place: its metadata is put back) */
  dev_t dev;        /* the copy the step sees at the target */
  ino_t ino;
  uint64_t sum;     /* a read-only bind's copy: its tree's inodes and ctimes (tree_sum) */
  nlink_t nlink;    /* the copy's links (a socket's link has its source's too) */
  bool checked_ok;  /* after the step: still in place, unchanged when read-only */
  char *path;       /* the target's path in the root, without the leading '/' */
};

/* An entry the mount points needed and the sandbox removes after the step. */
struct rt_sbx_estub
{
  char *path; /* in the root, without the leading '/' */
  bool dir;
};

static int
fd_stat (int fd, const char *what, struct stat *st, bale_error_t *err)
{
  if (fstat (fd, st) < 0)
    return bale_make_error (err, errno, "cannot stat %s", what);
  return 0;
}

/* xattrs of src onto dst (open descriptors), as the mount shows them; overlayfs's own left out. */
static int
copy_xattrs (int src, int dst, const char *path, bale_error_t *err)
{
  if (fsindex_copy_xattrs (src, dst, true) < 0)
    return bale_make_error (err, errno, "cannot copy the extended attributes of %s", path);
  return 0;
}

static int
set_meta (int fd, const struct stat *st, const char *path, bale_error_t *err)
{
  if (fchown (fd, st->st_uid, st->st_gid) < 0 || fchmod (fd, st->st_mode & 07777) < 0)
    return bale_make_error (err, errno, "cannot give %s its owner and mode", path);
  return 0;
}

static int copy_dir_entries (int src, int dst, const char *path, bale_error_t *err);

/* The regular file open at in (stat st) copied as dname of dst. */
static int
copy_file (int in, int dst, const char *dname, const struct stat *st, const char *path,
           bale_error_t *err)
{
  cleanup_close int out = openat (dst, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (in < 0 || out < 0 || fileio_copy_fd (in, out) < 0)
    return bale_make_error (err, errno, "cannot copy %s", path);
  if (copy_xattrs (in, out, path, err) < 0 || set_meta (out, st, path, err) < 0)
    return -1;
  if (futimens (out, (struct timespec[]){ st->st_atim, st->st_mtim }) < 0)
    return bale_make_error (err, errno, "cannot set the times of %s", path);
  return 0;
}

/* name of src (stat st) made again as name of dst: every kind, with owner, mode, times and
   xattrs; hard links between files are not kept (each name gets its own copy), sockets are
   linked (a socket cannot be copied, and the step must reach the listener). */
static int
copy_entry (int src, const char *sname, int dst, const char *dname, const struct stat *st,
            const char *path, bale_error_t *err)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (S_ISDIR (st->st_mode))
    {
      cleanup_close int in = openat (src, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_close int out = -1;
      if (in < 0 || mkdirat (dst, dname, 0700) < 0
          || (out = openat (dst, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return bale_make_error (err, errno, "cannot copy the directory %s", path);
      if (copy_xattrs (in, out, path, err) < 0 || set_meta (out, st, path, err) < 0
          || copy_dir_entries (in, out, path, err) < 0)
        return -1;
      return futimens (out, times) < 0 ? bale_make_error (err, errno, "cannot set the times of %s", path) : 0;
    }
  if (S_ISREG (st->st_mode))
    {
      cleanup_close int in = openat (src, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      return copy_file (in, dst, dname, st, path, err);
    }
  if (S_ISSOCK (st->st_mode))
    {
      char p[64];
      cleanup_close int fd = openat (src, sname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
      if (fd < 0 || linkat (AT_FDCWD, p, dst, dname, AT_SYMLINK_FOLLOW) < 0)
        return bale_make_error (err, errno, "cannot link the socket %s into the step's root%s", path,
                                errno == EXDEV ? " (it is on another file system than the copied "
                                                 "root: set TMPDIR to a directory on the store's)" : "");
      return 0;
    }
  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (src, sname, target, sizeof target - 1);
      if (n < 0 || (target[n] = '\0', symlinkat (target, dst, dname) < 0))
        return bale_make_error (err, errno, "cannot copy the link %s", path);
    }
  else if (mknodat (dst, dname, st->st_mode, st->st_rdev) < 0
           || fchmodat (dst, dname, st->st_mode & 07777, 0) < 0)
    return bale_make_error (err, errno, "cannot copy %s", path);
  if (fchownat (dst, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0
      || utimensat (dst, dname, times, AT_SYMLINK_NOFOLLOW) < 0)
    return bale_make_error (err, errno, "cannot give %s its owner and times", path);
  return 0;
}

static int
copy_dir_entries (int src, int dst, const char *path, bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  int ret = dirwalk_list_read (src, path, &list, err);

  for (size_t i = 0; ret >= 0 && i < list.n; i++)
    {
      cleanup_free char *sub = xasprintf ("%s/%s", path, list.v[i].name);
      ret = copy_entry (src, list.v[i].name, dst, list.v[i].name, &list.v[i].st, sub, err);
    }
  dirwalk_list_release (&list);
  return ret < 0 ? -1 : 0;
}

/* What changes a file's ctime (a write, chmod, chown, a link, an entry added or removed
   below a directory) changes the sum of the tree name of parent: entries' paths, inodes,
   modes and ctimes, FNV-1a. */
static void
fold (uint64_t *h, const void *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    *h = (*h ^ ((const unsigned char *) p)[i]) * 0x100000001b3ULL;
}

static void
fold_stat (uint64_t *h, const char *path, const struct stat *st)
{
  fold (h, path, strlen (path) + 1);
  fold (h, &st->st_ino, sizeof st->st_ino);
  fold (h, &st->st_mode, sizeof st->st_mode);
  fold (h, &st->st_ctim.tv_sec, sizeof st->st_ctim.tv_sec);
  fold (h, &st->st_ctim.tv_nsec, sizeof st->st_ctim.tv_nsec);
}

struct sum_ctx
{
  uint64_t h;
  const struct rt_sbx_plan *plan; /* another mount's copy below this one is not this one's */
};

static int
sum_entry (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct sum_ctx *c = ctx;

  (void) err;
  for (size_t k = 0; k < c->plan->n_emounts; k++)
    if (c->plan->emounts[k].ino == e->st->st_ino && c->plan->emounts[k].dev == e->st->st_dev)
      return S_ISDIR (e->st->st_mode) ? DIRWALK_SKIP : DIRWALK_CONTINUE;
  fold_stat (&c->h, e->relpath, e->st);
  return DIRWALK_CONTINUE;
}

static int
tree_sum (const struct rt_sbx_plan *plan, const struct rt_sbx_emount *e, uint64_t *out,
          bale_error_t *err)
{
  struct sum_ctx c = { 0xcbf29ce484222325ULL, plan };
  struct stat st;

  if (fstatat (e->parent, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return bale_make_error (err, errno, "cannot stat the copy mounted at '%s'", e->m->target);
  fold_stat (&c.h, "", &st);
  if (S_ISDIR (st.st_mode))
    {
      cleanup_close int fd = openat (e->parent, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || dirwalk (fd, sum_entry, NULL, &c, err) < 0)
        return fd < 0 ? bale_make_error (err, errno, "cannot open the copy mounted at '%s'", e->m->target) : -1;
    }
  *out = c.h;
  return 0;
}

/* ---- before the step ------------------------------------------------------------------- */

struct created_ctx
{
  struct rt_sbx_plan *plan;
  const char *root; /* the copied root's real path */
  dev_t dir_dev;    /* the last directory created (the target, when it was missing) */
  ino_t dir_ino;
};

/* The in-root path of fd ("a/b"), or NULL when it is not below root. */
static char *
root_relative (const char *root, int fd)
{
  char p[64], full[PATH_MAX];
  ssize_t n;
  size_t m = strlen (root);

  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  n = readlink (p, full, sizeof full - 1);
  if (n < 0)
    return NULL;
  full[n] = '\0';
  if (strncmp (full, root, m) != 0 || (full[m] != '/' && full[m] != '\0'))
    return NULL;
  return xstrdup (full[m] ? full + m + 1 : "");
}

/* As the sandbox's stub_created for a step's mount: directories stay (the step's change),
   but not below /dev, which is the sandbox's own under namespaces; an empty file made as a
   mount point goes. */
static int
created (void *data, int parent, const struct stat *before, const char *name, int fd)
{
  struct created_ctx *c = data;
  struct rt_sbx_plan *plan = c->plan;
  char *path = root_relative (c->root, fd);
  struct stat st;

  (void) name;
  if (path == NULL || fstat (fd, &st) < 0)
    {
      free (path);
      errno = EXDEV;
      return -1;
    }
  if (S_ISDIR (st.st_mode))
    {
      c->dir_dev = st.st_dev;
      c->dir_ino = st.st_ino;
    }
  if (S_ISDIR (st.st_mode) && strncmp (path, "dev/", 4) != 0)
    {
      free (path);
      return 0;
    }
  futimens (parent, (struct timespec[]){ before->st_atim, before->st_mtim });
  plan->estubs = xrealloc (plan->estubs, (plan->n_estubs + 1) * sizeof *plan->estubs);
  plan->estubs[plan->n_estubs++] = (struct rt_sbx_estub){ path, S_ISDIR (st.st_mode) };
  return 0;
}

/* The source's descriptor (O_PATH), as a real mount opens it. */
static int
open_source (const struct sandbox_mount *m, bale_error_t *err)
{
  int fd = rt_sbx_mount_source (m);

  if (fd < 0)
    return bale_make_error (err, errno, "cannot open mount source '%s'", m->source);
  return fd;
}

static int
reopen (int fd, int flags)
{
  char p[64];

  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  return open (p, flags | O_CLOEXEC);
}

/* The copy at aside/"top": the source, or a tmpfs's empty root (1777 root:root). */
static int
make_copy (struct rt_sbx_emount *e, const struct stat *sst, bale_error_t *err)
{
  if (e->src < 0)
    {
      cleanup_close int fd = -1;
      if (mkdirat (e->aside, "top", 0700) < 0
          || (fd = openat (e->aside, "top", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0
          || fchown (fd, 0, 0) < 0 || fchmod (fd, 01777) < 0)
        return bale_make_error (err, errno, "cannot make the tmpfs of '%s'", e->m->target);
      return 0;
    }
  {
    char p[64];
    /* A directory's entries are read through an O_RDONLY descriptor of it. */
    snprintf (p, sizeof p, "/proc/self/fd/%d", e->src);
    if (S_ISDIR (sst->st_mode))
      {
        cleanup_close int in = reopen (e->src, O_RDONLY | O_DIRECTORY);
        cleanup_close int out = -1;
        if (in < 0 || mkdirat (e->aside, "top", 0700) < 0
            || (out = openat (e->aside, "top", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
          return bale_make_error (err, errno, "cannot copy '%s'", e->m->source);
        if (copy_xattrs (in, out, e->m->source, err) < 0 || set_meta (out, sst, e->m->source, err) < 0
            || copy_dir_entries (in, out, e->m->source, err) < 0)
          return -1;
        return futimens (out, (struct timespec[]){ sst->st_atim, sst->st_mtim }) < 0
                   ? bale_make_error (err, errno, "cannot set the times of '%s'", e->m->source)
                   : 0;
      }
    if (S_ISREG (sst->st_mode))
      {
        cleanup_close int in = reopen (e->src, O_RDONLY);
        return copy_file (in, e->aside, "top", sst, e->m->source, err);
      }
    /* A socket (the ssh agent's relay) is linked: the step must reach its listener. */
    if (S_ISSOCK (sst->st_mode))
      return linkat (AT_FDCWD, p, e->aside, "top", AT_SYMLINK_FOLLOW) == 0 ? 0
             : bale_make_error (err, errno, "cannot link the socket '%s' into the step's root%s",
                                e->m->source, errno == EXDEV ? " (it is on another file system "
                                "than the copied root)" : "");
    /* A FIFO or device is made again. */
    return copy_entry (AT_FDCWD, p, e->aside, "top", sst, e->m->source, err);
  }
}

/* A directory created for the mount: it gets the copy's metadata and entries where it is. */
static int
fill_in_place (struct rt_sbx_emount *e, bale_error_t *err)
{
  cleanup_close int dst = openat (e->parent, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int top = openat (e->aside, "top", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct dirwalk_list list = { NULL, 0, 0 };
  struct stat st;
  int ret;

  if (dst < 0 || top < 0 || fstat (top, &st) < 0)
    return bale_make_error (err, errno, "cannot open the mount point '%s'", e->m->target);
  if (copy_xattrs (top, dst, e->m->target, err) < 0 || set_meta (dst, &st, e->m->target, err) < 0)
    return -1;
  /* Renamed, not copied again: one file system (the scratch space is next to the root). */
  ret = dirwalk_list_read (top, e->m->target, &list, err);
  for (size_t i = 0; ret >= 0 && i < list.n; i++)
    if (renameat (top, list.v[i].name, dst, list.v[i].name) < 0)
      ret = bale_make_error (err, errno, "cannot fill the mount point '%s'", e->m->target);
  dirwalk_list_release (&list);
  if (ret < 0)
    return -1;
  if (futimens (dst, e->src < 0 ? NULL : (struct timespec[]){ st.st_atim, st.st_mtim }) < 0
      || fstat (dst, &st) < 0)
    return bale_make_error (err, errno, "cannot set the times of '%s'", e->m->target);
  e->dev = st.st_dev;
  e->ino = st.st_ino;
  return 0;
}

static int
emulate_one (struct rt_sbx_plan *plan, int rootfd, const char *root, int scratch, size_t k,
             bale_error_t *err)
{
  struct rt_sbx_emount *e = &plan->emounts[k];
  const struct sandbox_mount *m = e->m;
  struct created_ctx c = { plan, root, 0, 0 };
  cleanup_close int target = -1;
  cleanup_free char *path = NULL, *aside = xasprintf ("mnt.%zu", k);
  struct stat sst = { .st_mode = S_IFDIR }, tst, pst, top;
  char *slash;

  if (m->type == SANDBOX_MOUNT_BIND
      && ((e->src = open_source (m, err)) < 0 || fd_stat (e->src, m->source, &sst, err) < 0))
    return -1;
  target = inroot_mkpath (rootfd, m->target, 0, S_ISDIR (sst.st_mode), created, &c);
  if (target < 0)
    return bale_make_error (err, errno, "cannot open mount point '%s'", m->target);
  if (fstat (target, &tst) < 0 || (path = root_relative (root, target)) == NULL || !*path)
    return bale_make_error (err, errno ? errno : EXDEV, "mount point '%s' is not below the root",
                            m->target);
  if (S_ISDIR (sst.st_mode) != S_ISDIR (tst.st_mode))
    return bale_make_error (err, S_ISDIR (sst.st_mode) ? ENOTDIR : EISDIR,
                            "cannot mount '%s' on '%s'", m->type == SANDBOX_MOUNT_BIND ? m->source : "tmpfs",
                            m->target);
  e->path = xstrdup (path);
  slash = strrchr (path, '/');
  e->name = xstrdup (slash ? slash + 1 : path);
  if (slash)
    *slash = '\0';
  e->parent = inroot_open (rootfd, slash ? path : "", O_RDONLY | O_DIRECTORY,
                           INROOT_BENEATH | INROOT_NO_SYMLINKS);
  if (e->parent < 0 || fstat (e->parent, &pst) < 0 || fstatat (e->parent, e->name, &top, AT_SYMLINK_NOFOLLOW) < 0
      || top.st_ino != tst.st_ino || top.st_dev != tst.st_dev)
    return bale_make_error (err, errno ? errno : ESTALE, "cannot open the directory of mount point '%s'",
                            m->target);
  if (mkdirat (scratch, aside, 0700) < 0
      || (e->aside = openat (scratch, aside, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return bale_make_error (err, errno, "cannot create the scratch space of mount '%s'", m->target);
  e->orig = tst;
  /* A directory made just now for this mount is no entry of the root's index: filled where
     it is. Anything else goes aside by one exchange, so the image's entry is untouched. */
  e->in_place = S_ISDIR (tst.st_mode) && tst.st_dev == c.dir_dev && tst.st_ino == c.dir_ino;
  if (make_copy (e, &sst, err) < 0)
    return -1;
  if (e->in_place)
    return fill_in_place (e, err);
  if (fstatat (e->aside, "top", &top, AT_SYMLINK_NOFOLLOW) < 0
      || renameat2 (e->aside, "top", e->parent, e->name, RENAME_EXCHANGE) < 0)
    return bale_make_error (err, errno, "cannot put '%s' in the step's root at '%s'",
                            m->type == SANDBOX_MOUNT_BIND ? m->source : "a tmpfs", m->target);
  e->dev = top.st_dev;
  e->ino = top.st_ino;
  e->nlink = top.st_nlink;
  futimens (e->parent, (struct timespec[]){ pst.st_atim, pst.st_mtim });
  return 0;
}

int
rt_sbx_chroot_mounts_prepare (struct rt_sbx_plan *plan, int rootfd, bale_error_t *err)
{
  const struct sandbox_spec *spec = plan->spec;
  cleanup_close int scratch = -1;
  char root[PATH_MAX], p[64];
  ssize_t n;

  if (spec->n_mounts == 0)
    return 0;
  snprintf (p, sizeof p, "/proc/self/fd/%d", rootfd);
  n = readlink (p, root, sizeof root - 1);
  /* Next to the root, on its file system: entries go in and out by rename. */
  plan->emount_dir = xasprintf ("%s.mnt.XXXXXX", spec->copy_root);
  if (mkdtemp (plan->emount_dir) == NULL)
    {
      free (steal_pointer (&plan->emount_dir));
      return bale_make_error (err, errno, "cannot create a directory next to '%s'", spec->copy_root);
    }
  scratch = open (plan->emount_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (n < 0 || scratch < 0)
    return bale_make_error (err, errno, "cannot open the root of the step");
  root[n] = '\0';
  plan->emounts = xcalloc (spec->n_mounts, sizeof *plan->emounts);
  for (size_t k = 0; k < spec->n_mounts; k++)
    {
      struct rt_sbx_emount *e = &plan->emounts[k];
      *e = (struct rt_sbx_emount){ .m = &spec->mounts[k], .parent = -1, .aside = -1, .src = -1 };
      plan->n_emounts = k + 1;
      if (emulate_one (plan, rootfd, root, scratch, k, err) < 0)
        return bale_error_wrap (err, "RUN --mount on '%s' (emulated by a copy: chroot isolation "
                                     "mounts nothing)", spec->mounts[k].target);
    }
  /* Once every copy is in place: putting one inside another changed the outer one. */
  for (size_t k = 0; k < plan->n_emounts; k++)
    if (plan->emounts[k].m->readonly && tree_sum (plan, &plan->emounts[k], &plan->emounts[k].sum, err) < 0)
      return -1;
  return 0;
}

/* ---- after the step -------------------------------------------------------------------- */

struct linked
{
  struct
  {
    dev_t dev;
    ino_t ino;
    nlink_t n, seen;
    char *path;
  } *v;
  size_t n, alloc;
};

static int
count_link (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct linked *l = ctx;
  size_t i;

  (void) err;
  if (S_ISDIR (e->st->st_mode) || e->st->st_nlink < 2)
    return DIRWALK_CONTINUE;
  for (i = 0; i < l->n; i++)
    if (l->v[i].ino == e->st->st_ino && l->v[i].dev == e->st->st_dev)
      break;
  if (i == l->n)
    {
      XGROW (l->v, l->alloc, l->n + 1);
      l->v[l->n++] = (typeof (*l->v)){ e->st->st_dev, e->st->st_ino, e->st->st_nlink, 0, xstrdup (e->relpath) };
    }
  l->v[i].seen++;
  return DIRWALK_CONTINUE;
}

/* A file of the copy (fd a directory, or a file when !dir) with a name outside it: the step
   hard-linked it out of the mount, which a real mount refuses (EXDEV). */
static int
check_links (const struct rt_sbx_emount *e, int fd, bool dir, bale_error_t *err)
{
  struct linked l = { NULL, 0, 0 };
  struct stat st;
  int ret = 0;

  if (!dir)
    {
      if (fstat (fd, &st) == 0 && !S_ISDIR (st.st_mode) && st.st_nlink > e->nlink)
        ret = bale_make_error (err, 0, "the step hard-linked the file mounted at '%s' elsewhere: "
                                       "chroot isolation emulates the mount by a copy, and that "
                                       "link would put it in the layer (a real mount refuses it: "
                                       "EXDEV)", e->m->target);
      return ret;
    }
  if (dirwalk (fd, count_link, NULL, &l, err) < 0)
    ret = -1;
  for (size_t i = 0; i < l.n; i++)
    {
      if (ret == 0 && l.v[i].seen < l.v[i].n)
        ret = bale_make_error (err, 0, "the step hard-linked '%s/%s' out of its mount: chroot "
                                       "isolation emulates the mount by a copy, and that link "
                                       "would put it in the layer (a real mount refuses it: EXDEV)",
                               e->m->target, l.v[i].path);
      free (l.v[i].path);
    }
  free (l.v);
  return ret;
}

/* The user.* and trusted.* xattrs the copy gave a directory made for the mount point. */
static void
drop_xattrs (int fd)
{
  char names[65536];
  ssize_t n = flistxattr (fd, names, sizeof names);

  for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t) strlen (names + off) + 1)
    if (strncmp (names + off, "security.", 9) != 0)
      (void) fremovexattr (fd, names + off);
}

/* Empty the directory fd. */
static int
empty_dir (int fd, const char *path, bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  int ret = dirwalk_list_read (fd, path, &list, err);

  for (size_t i = 0; ret >= 0 && i < list.n; i++)
    ret = dirwalk_remove (fd, list.v[i].name, path, err);
  dirwalk_list_release (&list);
  return ret < 0 ? -1 : 0;
}

/* A writable bind: what the step left in the copy (fd) becomes the source's, as if it had
   written there (a cache mount keeps it for the next build). */
static int
write_back (const struct rt_sbx_emount *e, int fd, bale_error_t *err)
{
  struct stat st;
  cleanup_close int dst = -1;

  if (fstat (fd, &st) < 0)
    return bale_make_error (err, errno, "cannot stat the copy of '%s'", e->m->source);
  if (S_ISREG (st.st_mode))
    {
      cleanup_close int in = reopen (fd, O_RDONLY);
      dst = reopen (e->src, O_WRONLY | O_TRUNC);
      if (in < 0 || dst < 0 || fileio_copy_fd (in, dst) < 0)
        return bale_make_error (err, errno, "cannot write the step's '%s' back to '%s'", e->m->target,
                                e->m->source);
      return 0;
    }
  if (!S_ISDIR (st.st_mode))
    return 0; /* a socket is the source itself */
  dst = reopen (e->src, O_RDONLY | O_DIRECTORY);
  if (dst < 0 || empty_dir (dst, e->m->source, err) < 0)
    return dst < 0 ? bale_make_error (err, errno, "cannot open '%s'", e->m->source) : -1;
  {
    struct dirwalk_list list = { NULL, 0, 0 };
    int ret = dirwalk_list_read (fd, e->m->target, &list, err);
    for (size_t i = 0; ret >= 0 && i < list.n; i++)
      {
        const struct dirwalk_ent *d = &list.v[i];
        cleanup_free char *sub = xasprintf ("%s/%s", e->m->source, d->name);
        if (renameat (fd, d->name, dst, d->name) < 0)
          ret = errno == EXDEV ? copy_entry (fd, d->name, dst, d->name, &d->st, sub, err)
                               : bale_make_error (err, errno, "cannot move %s back", sub);
      }
    dirwalk_list_release (&list);
    if (ret < 0)
      return -1;
  }
  if (copy_xattrs (fd, dst, e->m->source, err) < 0 || set_meta (dst, &st, e->m->source, err) < 0)
    return -1;
  if (futimens (dst, (struct timespec[]){ st.st_atim, st.st_mtim }) < 0)
    return bale_make_error (err, errno, "cannot set the times of '%s'", e->m->source);
  return 0;
}

/* After the step, before anything is put back: the copy is where it was put, no file of it
   has a name outside it, and a read-only one is as it was. */
static int
check_one (const struct rt_sbx_plan *plan, struct rt_sbx_emount *e, bale_error_t *err)
{
  const struct sandbox_mount *m = e->m;
  cleanup_close int fd = -1;
  struct stat st;
  uint64_t now = 0;

  if (e->parent < 0 || e->aside < 0)
    return 0;
  if (fstatat (e->parent, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != e->ino
      || st.st_dev != e->dev)
    return bale_make_error (err, 0, "the step moved or replaced what is mounted at '%s': chroot "
                                    "isolation emulates the mount by a copy, which could then reach "
                                    "the layer (a real mount cannot be moved: EBUSY)", m->target);
  fd = openat (e->parent, e->name, (S_ISDIR (st.st_mode) ? O_RDONLY | O_DIRECTORY : O_PATH) | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open what is mounted at '%s'", m->target);
  if (check_links (e, fd, S_ISDIR (st.st_mode), err) < 0)
    return -1;
  if (m->readonly && tree_sum (plan, e, &now, err) < 0)
    return -1;
  if (m->readonly && now != e->sum)
    return bale_make_error (err, 0, "the step changed the read-only mount at '%s', which a real "
                                    "mount refuses (EROFS): chroot isolation emulates the mount "
                                    "by a copy, whose changes would be lost (mount it with rw, "
                                    "or write elsewhere)", m->target);
  e->checked_ok = true;
  return 0;
}

/* The copy written back when writable and removed; the target's entry back. */
static int
restore_one (const struct rt_sbx_plan *plan, struct rt_sbx_emount *e, bale_error_t *err)
{
  const struct sandbox_mount *m = e->m;
  bool dir = S_ISDIR (e->orig.st_mode), placed;
  cleanup_close int copy = -1;
  struct stat pst, st;
  int ret = 0;

  if (e->parent < 0 || e->aside < 0 || fstat (e->parent, &pst) < 0)
    return 0; /* prepare stopped before this one was in place */
  placed = fstatat (e->parent, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == e->ino
           && st.st_dev == e->dev;
  if (e->in_place)
    copy = placed ? openat (e->parent, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
  else
    {
      if (placed)
        placed = renameat2 (e->aside, "top", e->parent, e->name, RENAME_EXCHANGE) == 0;
      else if (dirwalk_remove (e->parent, e->name, m->target, err) == 0)
        renameat (e->aside, "top", e->parent, e->name); /* the image's entry, at least */
      if (placed)
        copy = openat (e->aside, "top", (dir ? O_RDONLY | O_DIRECTORY : O_PATH) | O_NOFOLLOW | O_CLOEXEC);
    }
  if (placed && !e->in_place && !dir && plan->spec->on_unmounted
      && fstatat (e->parent, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    /* The image's file is back, untouched by the step; only its ctime moved. */
    plan->spec->on_unmounted (plan->spec->watch_ctx, e->path, &st);
  if (copy >= 0 && e->checked_ok && m->type == SANDBOX_MOUNT_BIND && !m->readonly)
    ret = write_back (e, copy, err);
  if (e->in_place && copy >= 0)
    {
      /* Back to the empty directory made for the mount point. */
      if (empty_dir (copy, m->target, err) < 0 || set_meta (copy, &e->orig, m->target, err) < 0)
        ret = -1;
      drop_xattrs (copy);
      futimens (copy, (struct timespec[]){ e->orig.st_atim, e->orig.st_mtim });
    }
  else if (!e->in_place && placed && dirwalk_remove (e->aside, "top", m->target, err) < 0)
    ret = -1;
  futimens (e->parent, (struct timespec[]){ pst.st_atim, pst.st_mtim });
  return ret;
}

static void
remove_estub (int rootfd, const struct rt_sbx_estub *s)
{
  cleanup_free char *parent = xstrdup (s->path);
  char *slash = strrchr (parent, '/');
  const char *name = slash ? slash + 1 : parent;
  cleanup_close int dirfd = -1;
  struct stat st, pst;
  int r = -1;

  if (slash)
    *slash = '\0';
  dirfd = inroot_open (rootfd, slash ? parent : "", O_RDONLY | O_DIRECTORY,
                       INROOT_BENEATH | INROOT_NO_SYMLINKS);
  if (dirfd < 0 || fstat (dirfd, &pst) < 0 || fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  if (s->dir && S_ISDIR (st.st_mode))
    r = unlinkat (dirfd, name, AT_REMOVEDIR); /* only while empty */
  else if (!s->dir && S_ISREG (st.st_mode) && st.st_size == 0)
    r = unlinkat (dirfd, name, 0);
  if (r == 0)
    futimens (dirfd, (struct timespec[]){ pst.st_atim, pst.st_mtim });
}

int
rt_sbx_chroot_mounts_restore (struct rt_sbx_plan *plan, bale_error_t *err)
{
  cleanup_close int rootfd = -1;
  int ret = 0;

  if (plan->n_emounts == 0)
    return 0;
  for (size_t k = 0; k < plan->n_emounts; k++)
    if (check_one (plan, &plan->emounts[k], err) < 0)
      ret = -1;
  for (size_t k = plan->n_emounts; k-- > 0;)
    if (restore_one (plan, &plan->emounts[k], err) < 0)
      ret = -1;
  rootfd = open (plan->spec->copy_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (size_t i = plan->n_estubs; i-- > 0 && rootfd >= 0;)
    remove_estub (rootfd, &plan->estubs[i]);
  return ret;
}

void
rt_sbx_chroot_mounts_release (struct rt_sbx_plan *plan)
{
  for (size_t k = 0; k < plan->n_emounts; k++)
    {
      struct rt_sbx_emount *e = &plan->emounts[k];
      if (e->parent >= 0)
        close (e->parent);
      if (e->aside >= 0)
        close (e->aside);
      if (e->src >= 0)
        close (e->src);
      free (e->name);
      free (e->path);
    }
  free (plan->emounts);
  for (size_t i = 0; i < plan->n_estubs; i++)
    free (plan->estubs[i].path);
  free (plan->estubs);
  if (plan->emount_dir)
    {
      bale_error_t e = NULL;
      (void) dirwalk_remove (AT_FDCWD, plan->emount_dir, plan->emount_dir, &e);
      bale_error_release (&e);
      free (steal_pointer (&plan->emount_dir));
    }
  plan->emounts = NULL;
  plan->estubs = NULL;
  plan->n_emounts = plan->n_estubs = 0;
}
