/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A copy of the build context without its ignored entries, for context bind mounts. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/build/context.h"
#include "runtime/build/ctxview.h"
#include "common/banned.h"

struct view
{
  int dest;            /* the view's root */
  char **dirs;         /* directories made, in walk order: their metadata is set last */
  struct stat *dir_st; /* and their context stats */
  size_t n_dirs, alloc;
};

static int
set_times (int dirfd, const char *path, const struct stat *st, int flags)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  return utimensat (dirfd, path, ts, flags);
}

/* A file: a hard link, or a copy when the context is on another filesystem. */
static int
add_file (struct view *v, const char *rel, const struct stat *st, int dirfd, const char *name,
          bale_error_t *err)
{
  cleanup_close int in = -1, out = -1;

  if (linkat (dirfd, name, v->dest, rel, 0) == 0)
    return 0;
  if (errno != EXDEV && errno != EPERM && errno != EMLINK)
    return bale_make_error (err, errno, "cannot link '%s' of the build context", rel);
  in = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return bale_make_error (err, errno, "cannot open '%s' of the build context", rel);
  out = openat (v->dest, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0 || fileio_copy_fd (in, out) < 0 || fchown (out, st->st_uid, st->st_gid) < 0
      || fchmod (out, st->st_mode & 07777) < 0 || futimens (out, (struct timespec[2]){ st->st_atim, st->st_mtim }) < 0)
    return bale_make_error (err, errno, "cannot copy '%s' of the build context", rel);
  return 0;
}

static int
add_entry (void *ctx, const char *rel, const struct stat *st, int dirfd, const char *name,
           bale_error_t *err)
{
  struct view *v = ctx;

  if (S_ISDIR (st->st_mode))
    {
      if (mkdirat (v->dest, rel, 0700) < 0)
        return bale_make_error (err, errno, "cannot make '%s' of the build context", rel);
      XGROW (v->dirs, v->alloc, v->n_dirs + 1);
      v->dir_st = xrealloc (v->dir_st, v->alloc * sizeof *v->dir_st);
      v->dirs[v->n_dirs] = xstrdup (rel);
      v->dir_st[v->n_dirs++] = *st;
      return 0;
    }
  if (S_ISREG (st->st_mode))
    return add_file (v, rel, st, dirfd, name, err);
  if (S_ISLNK (st->st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (dirfd, name, target, sizeof target - 1);
      if (n < 0)
        return bale_make_error (err, errno, "cannot read the symlink '%s' of the build context", rel);
      target[n] = '\0';
      if (symlinkat (target, v->dest, rel) < 0)
        return bale_make_error (err, errno, "cannot make '%s' of the build context", rel);
    }
  else if (S_ISSOCK (st->st_mode))
    return 0; /* fsutil sends no sockets */
  else if (mknodat (v->dest, rel, st->st_mode, st->st_rdev) < 0)
    return bale_make_error (err, errno, "cannot make '%s' of the build context", rel);
  if (fchownat (v->dest, rel, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0
      || (!S_ISLNK (st->st_mode) && fchmodat (v->dest, rel, st->st_mode & 07777, 0) < 0)
      || set_times (v->dest, rel, st, AT_SYMLINK_NOFOLLOW) < 0)
    return bale_make_error (err, errno, "cannot set the metadata of '%s' of the build context", rel);
  return 0;
}

int
ctxview_make (const char *context, const struct ignore_matcher *m, const char *dest,
              bale_error_t *err)
{
  struct view v = { -1, NULL, NULL, 0, 0 };
  struct stat root;
  int ret;
  size_t i;

  if (stat (context, &root) < 0)
    return bale_make_error (err, errno, "cannot open build context '%s'", context);
  if (mkdir (dest, 0700) < 0)
    return bale_make_error (err, errno, "cannot create %s", dest);
  v.dest = open (dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (v.dest < 0)
    return bale_make_error (err, errno, "cannot open %s", dest);
  ret = context_walk (context, m, add_entry, &v, NULL, err);
  /* Directories last, deepest first, so that making their entries moves no time and a 0500
     directory still took them. */
  for (i = v.n_dirs; i-- > 0;)
    {
      const struct stat *st = &v.dir_st[i];
      if (ret == 0
          && (fchownat (v.dest, v.dirs[i], st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0
              || fchmodat (v.dest, v.dirs[i], st->st_mode & 07777, 0) < 0
              || set_times (v.dest, v.dirs[i], st, AT_SYMLINK_NOFOLLOW) < 0))
        ret = bale_make_error (err, errno, "cannot set the metadata of '%s' of the build context", v.dirs[i]);
      free (v.dirs[i]);
    }
  if (ret == 0
      && (fchown (v.dest, root.st_uid, root.st_gid) < 0 || fchmod (v.dest, root.st_mode & 07777) < 0
          || futimens (v.dest, (struct timespec[2]){ root.st_atim, root.st_mtim }) < 0))
    ret = bale_make_error (err, errno, "cannot set the metadata of the build context's copy");
  free (v.dirs);
  free (v.dir_st);
  close (v.dest);
  return ret < 0 ? -1 : 0;
}
