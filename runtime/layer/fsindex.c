/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The walking differ of the copied-rootfs fallback (see fsindex.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/fs/owners.h"
#include "runtime/layer/fsindex.h"
#include "common/banned.h"

struct fsent
{
  char *path;
  struct stat st;
  char *target; /* symlinks */
  struct timespec born; /* directories: the birth time, where the filesystem keeps one */
  bool seen, emitted;
  bool undir; /* a directory the step replaced by another kind of entry */
};

/* A directory's birth time ({0, 0} where the filesystem has none). A directory removed and
   made again may get the same inode number back at once (ext4 reuses them), never the same
   birth time. */
static struct timespec
birth (int dirfd, const char *name)
{
  struct statx sx;

  if (statx (dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) < 0 || !(sx.stx_mask & STATX_BTIME))
    return (struct timespec){ 0, 0 };
  return (struct timespec){ sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec };
}

struct fsindex
{
  struct fsent *v;
  size_t n, alloc;
};

static char *
read_link (int dirfd, const char *name)
{
  char buf[PATH_MAX + 1];
  ssize_t n = readlinkat (dirfd, name, buf, PATH_MAX);

  if (n < 0)
    return xstrdup ("");
  buf[n] = '\0';
  return xstrdup (buf);
}

static int
index_entry (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct fsindex *ix = ctx;
  struct fsent *f;

  (void) err;
  XGROW (ix->v, ix->alloc, ix->n + 1);
  f = &ix->v[ix->n++];
  memset (f, 0, sizeof *f);
  f->path = xstrdup (e->relpath);
  f->st = *e->st;
  if (S_ISLNK (e->st->st_mode))
    f->target = read_link (e->dirfd, e->name);
  if (S_ISDIR (e->st->st_mode))
    f->born = birth (e->dirfd, e->name);
  return DIRWALK_CONTINUE;
}

static int
cmp_ent (const void *a, const void *b)
{
  return strcmp (((const struct fsent *) a)->path, ((const struct fsent *) b)->path);
}

int
fsindex_build (int root_fd, struct fsindex **out, bale_error_t *err)
{
  struct fsindex *ix = xzalloc (sizeof *ix);

  if (dirwalk (root_fd, index_entry, NULL, ix, err) < 0)
    {
      fsindex_free (ix);
      return -1;
    }
  if (ix->n > 1)
    qsort (ix->v, ix->n, sizeof *ix->v, cmp_ent);
  *out = ix;
  return 0;
}

void
fsindex_free (struct fsindex *ix)
{
  size_t i;

  if (!ix)
    return;
  for (i = 0; i < ix->n; i++)
    {
      free (ix->v[i].path);
      free (ix->v[i].target);
    }
  free (ix->v);
  free (ix);
}

static struct fsent *
lookup (struct fsindex *ix, const char *path)
{
  struct fsent key = { .path = (char *) path };

  return ix->n ? bsearch (&key, ix->v, ix->n, sizeof *ix->v, cmp_ent) : NULL;
}

/* A directory's ctime and size are left out: the sandbox's mount points come and go in
   directories (their mtime is put back, their ctime cannot be, and a directory does not
   shrink), and what a layer records of a directory is its mode, owner and mtime. Its entries
   are compared one by one anyway. */
static bool
changed (const struct fsent *f, const struct stat *st, int dirfd, const char *name)
{
  bool dir = S_ISDIR (st->st_mode);
  bool ctime_moved = f->st.st_ctim.tv_sec != st->st_ctim.tv_sec
                     || f->st.st_ctim.tv_nsec != st->st_ctim.tv_nsec;

  if (f->st.st_mode != st->st_mode || f->st.st_uid != st->st_uid || f->st.st_gid != st->st_gid
      || f->st.st_ino != st->st_ino || (f->st.st_size != st->st_size && !dir)
      || f->st.st_mtim.tv_sec != st->st_mtim.tv_sec || f->st.st_mtim.tv_nsec != st->st_mtim.tv_nsec
      || (ctime_moved && !dir) || f->st.st_rdev != st->st_rdev)
    return true;
  if (S_ISLNK (st->st_mode))
    {
      char *t = read_link (dirfd, name);
      bool diff = strcmp (t, f->target ? f->target : "") != 0;
      free (t);
      return diff;
    }
  return false;
}

struct diff_ctx
{
  struct fsindex *ix;
  struct layer_writer *w;
  int root_fd;
  /* directories emitted that the index does not know (created by the step) */
  char **new_dirs;
  size_t n_new, alloc_new;
  /* directories the step removed and made again: opaque, everything below them is new */
  char **opaque;
  size_t n_opaque, alloc_opaque;
};

static bool
under_opaque (const struct diff_ctx *d, const char *path)
{
  for (size_t i = 0; i < d->n_opaque; i++)
    {
      size_t n = strlen (d->opaque[i]);
      if (strncmp (path, d->opaque[i], n) == 0 && path[n] == '/')
        return true;
    }
  return false;
}

static bool
new_dir_emitted (struct diff_ctx *d, const char *path)
{
  size_t i;

  for (i = d->n_new; i > 0; i--)
    if (strcmp (d->new_dirs[i - 1], path) == 0)
      return true;
  return false;
}

/* Emit the directories above path that are not in the layer yet, outermost first. */
static int
emit_parents (struct diff_ctx *d, const char *path, bale_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  char *slash;
  size_t i, len = strlen (p);

  for (i = 0; i < len; i++)
    {
      struct fsent *f;
      struct stat st;
      if (p[i] != '/')
        continue;
      p[i] = '\0';
      f = lookup (d->ix, p);
      if (f && !f->emitted)
        {
          cleanup_close int fd = openat (d->root_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0 || fstat (fd, &st) < 0)
            return bale_make_error (err, errno, "cannot open %s", p);
          owners_apply (fd, &st);
          if (layer_writer_add_dir (d->w, p, &st, fd, err) < 0)
            return -1;
          f->emitted = true;
        }
      p[i] = '/';
    }
  (void) slash;
  return 0;
}

/* Owners recorded rather than given (one-id mode, runtime/fs/owners.h) are the entry's, as
   the overlay mode's layer writer reads them. */
static int
emit (struct diff_ctx *d, const struct dirwalk_entry *e, bale_error_t *err)
{
  const struct stat *st = e->st;
  struct stat own = *e->st;

  if (emit_parents (d, e->relpath, err) < 0)
    return -1;
  if (S_ISDIR (st->st_mode))
    {
      cleanup_close int fd = openat (e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        owners_apply (fd, &own);
      return layer_writer_add_dir (d->w, e->relpath, &own, fd, err);
    }
  if (S_ISREG (st->st_mode))
    {
      cleanup_close int fd = openat (e->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0)
        return bale_make_error (err, errno, "cannot open %s", e->relpath);
      if (owners_apply (fd, &own) && !S_ISREG (own.st_mode))
        return layer_writer_add_special (d->w, e->relpath, &own, err);
      return layer_writer_add_file (d->w, e->relpath, &own, fd, NULL, err);
    }
  if (S_ISLNK (st->st_mode))
    {
      cleanup_free char *t = read_link (e->dirfd, e->name);
      owners_apply_special (e->dirfd, e->name, &own);
      return layer_writer_add_symlink (d->w, e->relpath, &own, t, err);
    }
  if (S_ISFIFO (st->st_mode))
    owners_apply_special (e->dirfd, e->name, &own);
  if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode) || S_ISFIFO (st->st_mode))
    return layer_writer_add_special (d->w, e->relpath, &own, err);
  return 0; /* sockets */
}

static bool
remade (const struct fsent *f, const struct dirwalk_entry *e)
{
  struct timespec b;

  if (f->st.st_ino != e->st->st_ino)
    return true;
  b = birth (e->dirfd, e->name);
  return b.tv_sec != f->born.tv_sec || b.tv_nsec != f->born.tv_nsec;
}

static int
diff_entry (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct diff_ctx *d = ctx;
  struct fsent *f = under_opaque (d, e->relpath) ? NULL : lookup (d->ix, e->relpath);

  if (f)
    {
      f->seen = true;
      /* Removed and made again (another inode): overlayfs makes such a directory opaque, and
         the layers of the overlay mode say so; the copied root's layer must say the same. */
      if (S_ISDIR (f->st.st_mode) && S_ISDIR (e->st->st_mode) && remade (f, e))
        {
          if (emit (d, e, err) < 0 || layer_writer_add_opaque (d->w, e->relpath, err) < 0)
            return -1;
          f->emitted = true;
          XGROW (d->opaque, d->alloc_opaque, d->n_opaque + 1);
          d->opaque[d->n_opaque++] = xstrdup (e->relpath);
          return DIRWALK_CONTINUE;
        }
      if (S_ISDIR (f->st.st_mode) != S_ISDIR (e->st->st_mode))
        f->undir = S_ISDIR (f->st.st_mode); /* another kind: written below like any change */
      else if (!changed (f, e->st, e->dirfd, e->name))
        return DIRWALK_CONTINUE;
      if (emit (d, e, err) < 0)
        return -1;
      f->emitted = true;
      return DIRWALK_CONTINUE;
    }
  if (emit (d, e, err) < 0)
    return -1;
  if (S_ISDIR (e->st->st_mode))
    {
      XGROW (d->new_dirs, d->alloc_new, d->n_new + 1);
      d->new_dirs[d->n_new++] = xstrdup (e->relpath);
    }
  return DIRWALK_CONTINUE;
}

int
fsindex_diff (struct fsindex *ix, int root_fd, struct layer_writer *w, bale_error_t *err)
{
  struct diff_ctx d = { .ix = ix, .w = w, .root_fd = root_fd };
  size_t i;
  int ret = -1;

  if (dirwalk (root_fd, diff_entry, NULL, &d, err) < 0)
    goto out;
  /* What the step removed: a whiteout for each vanished entry whose parent is still there
     (the whiteout of a directory hides everything below it), and still a directory: a file
     that replaced a directory hides what was below it, and a whiteout under a file would
     make a layer no extractor can apply (fuzzer finding F13). */
  for (i = 0; i < ix->n; i++)
    {
      struct fsent *f = &ix->v[i];
      const char *slash = strrchr (f->path, '/');
      if (f->seen || under_opaque (&d, f->path))
        continue;
      if (slash)
        {
          cleanup_free char *parent = xstrndup (f->path, (size_t) (slash - f->path));
          struct fsent *pf = lookup (ix, parent);
          if (!(pf && pf->seen && S_ISDIR (pf->st.st_mode) && !pf->undir)
              && !new_dir_emitted (&d, parent))
            continue;
          if (pf && !pf->emitted)
            {
              /* The parent must come before the whiteout: write it as it is now. */
              cleanup_free char *self = xasprintf ("%s/x", parent);
              if (emit_parents (&d, self, err) < 0)
                goto out;
            }
        }
      if (layer_writer_add_whiteout (w, f->path, err) < 0)
        goto out;
    }
  ret = 0;
out:
  for (i = 0; i < d.n_new; i++)
    free (d.new_dirs[i]);
  free (d.new_dirs);
  for (i = 0; i < d.n_opaque; i++)
    free (d.opaque[i]);
  free (d.opaque);
  return ret;
}
