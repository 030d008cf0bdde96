/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walk a build context with dir-fd-relative calls, skipping what .dockerignore excludes. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime/build/context.h"
#include "common/dirwalk.h"
#include "codegen/dispatch.h"
#include "runtime/fs/inroot.h"
#include "common/banned.h"

struct walker
{
  const struct ignore_matcher *m;
  context_walk_fn fn;
  void *ctx;
  struct context_walk_stats *stats;
};

/* A directory on the current path. An excluded directory that the walk enters for the
   sake of exceptions is reported only when something inside it is. */
struct frame
{
  struct frame *parent;
  char *relpath; /* "" for the root */
  int parent_fd;
  const char *name;
  struct stat st;
  bool reported;
};

static int
report (struct walker *w, const char *relpath, const struct stat *st, int dirfd,
        const char *name, bale_error_t *err)
{
  w->stats->reported++;
  return w->fn (w->ctx, relpath, st, dirfd, name, err);
}

/* Report the directories above a kept entry that were entered but not yet reported. */
static int
report_parents (struct walker *w, struct frame *f, bale_error_t *err)
{
  int ret;

  if (f == NULL || f->reported)
    return 0;
  ret = report_parents (w, f->parent, err);
  if (ret < 0)
    return ret;
  f->reported = true;
  return report (w, f->relpath, &f->st, f->parent_fd, f->name, err);
}

static int walk_dir (struct walker *w, struct frame *f, int fd, bale_error_t *err);

/* Open the directory of frame f and walk it. ENOENT means it vanished: skip it, as fsutil
   does. The directory must still be the one that was lstat'ed: with O_NOFOLLOW a symlink
   put in its place fails to open, and the inode check catches another directory moved
   there, which could lie outside the context. */
static int
enter_dir (struct walker *w, struct frame *f, bale_error_t *err)
{
  cleanup_close int fd
      = openat (f->parent_fd, f->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;

  if (fd < 0 && errno == ENOENT)
    return 0;
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open directory '%s'", f->relpath);
  if (fstat (fd, &st) < 0)
    return bale_make_error (err, errno, "cannot stat '%s'", f->relpath);
  if (st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino)
    return bale_make_error (err, 0, "'%s' changed during the walk", f->relpath);
  return walk_dir (w, f, fd, err);
}

/* A directory: skipped unopened, entered and reported, or entered quietly (see
   ignore_check_dir). */
static int
visit_dir (struct walker *w, struct frame *parent, int fd, const char *name,
           const struct stat *st, char *relpath, bale_error_t *err)
{
  struct frame f = { parent, relpath, fd, name, *st, false };
  enum ignore_dir action = ignore_check_dir (w->m, relpath);
  int ret;

  if (action == IGNORE_DIR_SKIP)
    return 0;
  if (action != IGNORE_DIR_SEARCH)
    {
      ret = report_parents (w, &f, err);
      if (ret < 0)
        return ret;
    }
  return enter_dir (w, &f, err);
}

/* One entry of a directory, from its lstat: directories go to visit_dir, anything else
   (files, symlinks, devices) is reported when kept, after its unreported parents. */
static int
visit_entry (struct walker *w, struct frame *dir, int fd, const struct dirwalk_ent *ent,
             bale_error_t *err)
{
  cleanup_free char *relpath = NULL;
  int ret;

  w->stats->entries_seen++;
  relpath = *dir->relpath ? xasprintf ("%s/%s", dir->relpath, ent->name) : xstrdup (ent->name);
  if (S_ISDIR (ent->st.st_mode))
    return visit_dir (w, dir, fd, ent->name, &ent->st, relpath, err);
  if (ignore_matches (w->m, relpath))
    return 0;
  ret = report_parents (w, dir, err);
  if (ret < 0)
    return ret;
  return report (w, relpath, &ent->st, fd, ent->name, err);
}

/* The entries come sorted and already lstat'ed (fstatat relative to fd, entries that
   vanished left out) from dirwalk_list_read. */
static int
walk_dir (struct walker *w, struct frame *f, int fd, bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  size_t i;
  int ret;

  w->stats->dirs_opened++;
  ret = dirwalk_list_read (fd, f->relpath, &list, err);
  for (i = 0; ret >= 0 && i < list.n; i++)
    ret = visit_entry (w, f, fd, &list.v[i], err);
  dirwalk_list_release (&list);
  return ret < 0 ? ret : 0;
}

int
context_walk (const char *root, const struct ignore_matcher *m, context_walk_fn fn, void *ctx,
              struct context_walk_stats *stats, bale_error_t *err)
{
  struct context_walk_stats local;
  struct walker w = { m, fn, ctx, stats ? stats : &local };
  struct frame top = { NULL, (char *) "", -1, NULL, { 0 }, true };
  cleanup_close int fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  memset (w.stats, 0, sizeof *w.stats);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open build context '%s'", root);
  return walk_dir (&w, &top, fd, err);
}

/* rel (below the context ctxfd) must be absent, or a regular file inside the context. */
static int
check_in_context (int ctxfd, const char *rel, bale_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat st;

  if (fstatat (ctxfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  fd = inroot_open (ctxfd, rel, O_PATH, INROOT_BENEATH);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return bale_make_error (err, 0, "'%s' in the build context is a symlink to nothing there", rel);
  if (fd < 0)
    return inroot_error (err, errno, rel, "the build context");
  if (fstat (fd, &st) < 0)
    return bale_make_error (err, errno, "cannot stat '%s' in the build context", rel);
  if (!S_ISREG (st.st_mode))
    return bale_make_error (err, 0, "'%s' in the build context is not a regular file", rel);
  return 0;
}

/* path (absolute, clean) below dir (absolute, clean): what follows "dir/", else NULL. */
static const char *
below (const char *path, const char *dir)
{
  size_t n = strlen (dir);

  if (strcmp (dir, "/") == 0)
    return path + 1;
  return strncmp (path, dir, n) == 0 && path[n] == '/' ? path + n + 1 : NULL;
}

int
context_check_files (const char *context, const char *dockerfile, bale_error_t *err)
{
  cleanup_free char *real = realpath (context, NULL);
  cleanup_free char *cwd = getcwd (NULL, 0);
  cleanup_free char *ctx_abs = NULL, *df_abs = NULL, *joined = NULL, *ignore = NULL;
  cleanup_close int ctxfd = -1;
  const char *rel;

  if (real == NULL || cwd == NULL)
    return 0; /* the build's own reading of the context says what is wrong */
  ctxfd = open (real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctxfd < 0)
    return 0;
  if (check_in_context (ctxfd, ".dockerignore", err) < 0)
    return -1;
  if (dockerfile == NULL || strcmp (dockerfile, "-") == 0)
    return 0;
  joined = context[0] == '/' ? xstrdup (context) : xasprintf ("%s/%s", cwd, context);
  ctx_abs = dispatch_clean_path (joined);
  free (joined);
  joined = dockerfile[0] == '/' ? xstrdup (dockerfile) : xasprintf ("%s/%s", cwd, dockerfile);
  df_abs = dispatch_clean_path (joined);
  rel = below (df_abs, ctx_abs);
  if (rel == NULL)
    rel = below (df_abs, real);
  if (rel == NULL)
    return 0;
  ignore = xasprintf ("%s.dockerignore", rel);
  return check_in_context (ctxfd, rel, err) < 0 || check_in_context (ctxfd, ignore, err) < 0 ? -1 : 0;
}
