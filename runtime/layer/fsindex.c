/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The walking differ of the copied-rootfs fallback (see fsindex.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
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
  bool emitted;
  bool written; /* opened for writing by the step (inotify), whether or not it changed */
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
  /* fsindex_watch: the inotify instance, each watch's directory ("" the root; NULL no
     watch), and the directories the step renamed into a directory of the index */
  int inotify_fd;
  const char **wd_dir;
  size_t n_wd;
  char **moved_dirs;
  size_t n_moved, alloc_moved;
  bool overflow;
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

/* One id (runtime/fs/owners.h): a directory's recorded owner into *st. Its ctime is not
   compared (below), and a recorded chown changes nothing else of it. */
static void
recorded_owner (const struct dirwalk_entry *e, struct stat *st)
{
  cleanup_close int fd = -1;

  if (!owners_active ())
    return;
  fd = openat (e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    owners_apply (fd, st);
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
    {
      f->born = birth (e->dirfd, e->name);
      recorded_owner (e, &f->st);
    }
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

  ix->inotify_fd = -1;
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
  if (ix->inotify_fd >= 0)
    close (ix->inotify_fd);
  free (ix->wd_dir);
  for (i = 0; i < ix->n_moved; i++)
    free (ix->moved_dirs[i]);
  free (ix->moved_dirs);
  free (ix);
}

static struct fsent *
lookup (struct fsindex *ix, const char *path)
{
  struct fsent key = { .path = (char *) path };

  return ix->n ? bsearch (&key, ix->v, ix->n, sizeof *ix->v, cmp_ent) : NULL;
}

/* Watch one directory of the index; dir is kept (an index path, or "" for the root). */
static int
watch_dir (struct fsindex *ix, const char *root, const char *dir, bale_error_t *err)
{
  cleanup_free char *path = *dir ? xasprintf ("%s/%s", root, dir) : xstrdup (root);
  int wd = inotify_add_watch (ix->inotify_fd, path,
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW);

  if (wd < 0 && errno == ENOSPC)
    return bale_make_error (err, errno,
                            "cannot watch the %zu directories of the copied root for what a "
                            "RUN step opens for writing: raise the sysctl "
                            "fs.inotify.max_user_watches",
                            ix->n);
  if (wd < 0)
    return bale_make_error (err, errno, "cannot watch '/%s' of the copied root", dir);
  if ((size_t) wd >= ix->n_wd)
    {
      size_t n = (size_t) wd + 1 > 2 * ix->n_wd ? (size_t) wd + 1 : 2 * ix->n_wd;
      ix->wd_dir = xrealloc (ix->wd_dir, n * sizeof *ix->wd_dir);
      memset (ix->wd_dir + ix->n_wd, 0, (n - ix->n_wd) * sizeof *ix->wd_dir);
      ix->n_wd = n;
    }
  ix->wd_dir[wd] = dir;
  return 0;
}

int
fsindex_watch (struct fsindex *ix, const char *root, bale_error_t *err)
{
  size_t i;

  ix->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (ix->inotify_fd < 0)
    return bale_make_error (err, errno, "cannot watch the copied root (inotify_init1)");
  if (watch_dir (ix, root, "", err) < 0)
    return -1;
  for (i = 0; i < ix->n; i++)
    if (S_ISDIR (ix->v[i].st.st_mode) && watch_dir (ix, root, ix->v[i].path, err) < 0)
      return -1;
  return 0;
}

int
fsindex_watch_fd (const struct fsindex *ix)
{
  return ix->inotify_fd;
}

static void
watch_event (struct fsindex *ix, const struct inotify_event *ev)
{
  const char *dir;
  cleanup_free char *path = NULL;

  if (ev->mask & IN_Q_OVERFLOW)
    ix->overflow = true;
  if (ev->len == 0 || ev->wd < 0 || (size_t) ev->wd >= ix->n_wd || !(dir = ix->wd_dir[ev->wd]))
    return;
  path = *dir ? xasprintf ("%s/%s", dir, ev->name) : xstrdup (ev->name);
  if ((ev->mask & IN_CLOSE_WRITE) && !(ev->mask & IN_ISDIR))
    {
      struct fsent *f = lookup (ix, path);
      if (f)
        f->written = true;
    }
  else if ((ev->mask & IN_MOVED_TO) && (ev->mask & IN_ISDIR))
    {
      XGROW (ix->moved_dirs, ix->alloc_moved, ix->n_moved + 1);
      ix->moved_dirs[ix->n_moved++] = steal_pointer (&path);
    }
}

void
fsindex_watch_read (void *ctx)
{
  struct fsindex *ix = ctx;
  char buf[65536] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  ssize_t n;

  while (ix->inotify_fd >= 0 && (n = read (ix->inotify_fd, buf, sizeof buf)) > 0)
    for (char *p = buf; p < buf + n;)
      {
        const struct inotify_event *ev = (const struct inotify_event *) (void *) p;
        watch_event (ix, ev);
        p += sizeof *ev + ev->len;
      }
}

void
fsindex_unmounted (void *ctx, const char *path, const struct stat *st)
{
  struct fsindex *ix = ctx;
  struct fsent *f;

  fsindex_watch_read (ix); /* the step's events first: they are about the copy */
  f = lookup (ix, path);
  if (f && f->st.st_ino == st->st_ino && f->st.st_dev == st->st_dev)
    {
      f->st.st_ctim = st->st_ctim;
      f->written = false;
    }
}

static bool
moved_here (const struct fsindex *ix, const char *path)
{
  for (size_t i = 0; i < ix->n_moved; i++)
    if (strcmp (ix->moved_dirs[i], path) == 0)
      return true;
  return false;
}

/* A regular file, not a device of one-id mode's (an empty file that records it): overlayfs
   copies up a regular file opened for writing, never a device. */
static bool
regular (int dirfd, const char *name, const struct stat *st)
{
  cleanup_close int fd = -1;
  struct stat own = *st;

  if (!S_ISREG (st->st_mode))
    return false;
  fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  return fd < 0 || !owners_apply (fd, &own) || S_ISREG (own.st_mode);
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
      || (ctime_moved && !dir) || f->st.st_rdev != st->st_rdev || (f->written && regular (dirfd, name, st)))
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

/* The first index entry at or after key in byte-wise order. */
static size_t
lower_bound (const struct fsindex *ix, const char *key)
{
  size_t lo = 0, hi = ix->n;

  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      if (strcmp (ix->v[mid].path, key) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* Whiteouts for what the step removed from the index directory dir (still a directory, open
   at fd), in name order and before the directory's other entries, as the overlay mode's
   writer orders them (the image spec: "whiteout files appear before sibling directory
   entries"). The whiteout of a directory hides everything below it; an entry replaced by
   another kind needs none. The directory is written first if it is not yet. */
static int
emit_whiteouts (struct diff_ctx *d, const char *dir, int fd, bale_error_t *err)
{
  cleanup_free char *key = *dir ? xasprintf ("%s/", dir) : xstrdup ("");
  size_t klen = strlen (key);

  for (size_t i = lower_bound (d->ix, key); i < d->ix->n; i++)
    {
      const char *path = d->ix->v[i].path, *name = path + klen;
      struct stat st;

      if (strncmp (path, key, klen) != 0)
        break;
      if (strchr (name, '/') || fstatat (fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        continue;
      if (emit_parents (d, path, err) < 0 || layer_writer_add_whiteout (d->w, path, err) < 0)
        return -1;
    }
  return 0;
}

/* e, a directory, is written with an opaque marker: nothing below it in the index shows. */
static int
emit_opaque (struct diff_ctx *d, const struct dirwalk_entry *e, bale_error_t *err)
{
  if (emit (d, e, err) < 0 || layer_writer_add_opaque (d->w, e->relpath, err) < 0)
    return -1;
  XGROW (d->opaque, d->alloc_opaque, d->n_opaque + 1);
  d->opaque[d->n_opaque++] = xstrdup (e->relpath);
  return DIRWALK_CONTINUE;
}

static int
diff_entry (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct diff_ctx *d = ctx;
  struct fsent *f = under_opaque (d, e->relpath) ? NULL : lookup (d->ix, e->relpath);
  bool dir = S_ISDIR (e->st->st_mode);

  if (!f)
    {
      if (emit (d, e, err) < 0)
        return -1;
      /* overlayfs marks a directory made by the step opaque when it is renamed into a
         directory of a lower layer (dpkg unpacks a new directory as NAME.dpkg-new, then
         renames it). */
      if (dir && moved_here (d->ix, e->relpath) && layer_writer_add_opaque (d->w, e->relpath, err) < 0)
        return -1;
      return DIRWALK_CONTINUE;
    }
  /* Removed and made again (another inode), or made where a file was (over its whiteout):
     overlayfs makes such a directory opaque, and the layers of the overlay mode say so; the
     copied root's layer must say the same. */
  if (dir && (!S_ISDIR (f->st.st_mode) || remade (f, e)))
    {
      f->emitted = true;
      return emit_opaque (d, e, err);
    }
  struct stat now = *e->st;
  if (dir)
    recorded_owner (e, &now);
  if ((S_ISDIR (f->st.st_mode) != dir || changed (f, &now, e->dirfd, e->name)))
    {
      if (emit (d, e, err) < 0)
        return -1;
      f->emitted = true;
    }
  if (dir)
    {
      cleanup_close int fd = openat (e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return bale_make_error (err, errno, "cannot open %s", e->relpath);
      if (emit_whiteouts (d, e->relpath, fd, err) < 0)
        return -1;
    }
  return DIRWALK_CONTINUE;
}

int
fsindex_diff (struct fsindex *ix, int root_fd, struct layer_writer *w, bale_error_t *err)
{
  struct diff_ctx d = { .ix = ix, .w = w, .root_fd = root_fd };
  int ret = -1;

  fsindex_watch_read (ix);
  if (ix->overflow)
    return bale_make_error (err, 0, "the RUN step opened more files for writing than inotify "
                                    "could report (raise the sysctl fs.inotify.max_queued_events)");
  if (emit_whiteouts (&d, "", root_fd, err) >= 0 && dirwalk (root_fd, diff_entry, NULL, &d, err) >= 0)
    ret = 0;
  for (size_t i = 0; i < d.n_opaque; i++)
    free (d.opaque[i]);
  free (d.opaque);
  return ret;
}
