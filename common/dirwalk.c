/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sorted directory listings and a depth-first walk over descriptors (openat, fstatat). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "common/banned.h"

void
dirwalk_list_release (struct dirwalk_list *list)
{
  size_t i;

  for (i = 0; i < list->n; i++)
    free (list->v[i].name);
  free (list->v);
  list->v = NULL;
  list->n = list->alloc = 0;
}

static int
compare_ents (const void *a, const void *b)
{
  return strcmp (((const struct dirwalk_ent *) a)->name, ((const struct dirwalk_ent *) b)->name);
}

static const char *
shown (const char *relpath)
{
  return *relpath ? relpath : ".";
}

/* All names are read and stat'ed before the caller visits any of them, so the DIR stream
   (on a dup of fd, since fdopendir takes ownership) is closed again at once and a deep
   walk holds one descriptor per level, not two. */
int
dirwalk_list_read (int fd, const char *relpath, struct dirwalk_list *list, bale_error_t *err)
{
  int dfd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  cleanup_dir DIR *dir = dfd < 0 ? NULL : fdopendir (dfd);
  struct dirent *de;

  if (dir == NULL)
    {
      if (dfd >= 0)
        close (dfd);
      return bale_make_error (err, errno, "cannot read directory '%s'", shown (relpath));
    }
  /* The dup shares its offset with fd: start from the beginning even if fd was read. */
  rewinddir (dir);
  for (errno = 0; (de = readdir (dir)) != NULL; errno = 0)
    {
      struct dirwalk_ent *ent;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      XGROW (list->v, list->alloc, list->n + 1);
      ent = &list->v[list->n];
      if (fstatat (fd, de->d_name, &ent->st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return bale_make_error (err, errno, "cannot stat '%s%s%s'", relpath,
                                  *relpath ? "/" : "", de->d_name);
        }
      ent->name = xstrdup (de->d_name);
      list->n++;
    }
  if (errno != 0)
    return bale_make_error (err, errno, "cannot read directory '%s'", shown (relpath));
  if (list->n > 1)
    qsort (list->v, list->n, sizeof *list->v, compare_ents);
  return 0;
}

struct walk
{
  dirwalk_fn pre, post;
  void *ctx;
};

static int walk_dir (struct walk *w, int fd, const char *relpath, int depth, bale_error_t *err);

/* Enter the directory e names. O_NOFOLLOW refuses a symlink swapped in since the lstat,
   and the inode check refuses another directory renamed into its place. */
static int
enter (struct walk *w, const struct dirwalk_entry *e, bale_error_t *err)
{
  cleanup_close int fd
      = openat (e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;

  if (fd < 0)
    return bale_make_error (err, errno, "cannot open directory '%s'", e->relpath);
  if (fstat (fd, &st) < 0)
    return bale_make_error (err, errno, "cannot stat '%s'", e->relpath);
  if (st.st_dev != e->st->st_dev || st.st_ino != e->st->st_ino)
    return bale_make_error (err, 0, "'%s' changed during the walk", e->relpath);
  return walk_dir (w, fd, e->relpath, e->depth + 1, err);
}

static int
visit (struct walk *w, int fd, const char *dirpath, int depth, const struct dirwalk_ent *ent,
       bale_error_t *err)
{
  cleanup_free char *relpath
      = *dirpath ? xasprintf ("%s/%s", dirpath, ent->name) : xstrdup (ent->name);
  struct dirwalk_entry e = { relpath, ent->name, fd, &ent->st, depth };
  int ret = w->pre (w->ctx, &e, err);

  if (ret < 0 || ret == DIRWALK_SKIP || !S_ISDIR (ent->st.st_mode))
    return ret < 0 ? ret : 0;
  ret = enter (w, &e, err);
  if (ret < 0 || w->post == NULL)
    return ret;
  return w->post (w->ctx, &e, err);
}

static int
walk_dir (struct walk *w, int fd, const char *relpath, int depth, bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  size_t i;
  int ret = dirwalk_list_read (fd, relpath, &list, err);

  for (i = 0; ret >= 0 && i < list.n; i++)
    ret = visit (w, fd, relpath, depth, &list.v[i], err);
  dirwalk_list_release (&list);
  return ret < 0 ? ret : 0;
}

int
dirwalk (int root_fd, dirwalk_fn pre, dirwalk_fn post, void *ctx, bale_error_t *err)
{
  struct walk w = { pre, post, ctx };

  return walk_dir (&w, root_fd, "", 0, err);
}

int
dirwalk_remove (int dirfd, const char *name, const char *path, bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  cleanup_close int fd = -1;
  struct stat st;
  size_t i;
  int ret;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : bale_make_error (err, errno, "cannot stat '%s'", path);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
        return bale_make_error (err, errno, "cannot remove '%s'", path);
      return 0;
    }
  /* A tree a RUN step left read-only (chmod 0500, 0) is still ours to remove: give the owner
     rwx first, which root's removal does not need but any other user's does. */
  if ((st.st_mode & S_IRWXU) != S_IRWXU)
    fchmodat (dirfd, name, (st.st_mode & 07777) | S_IRWXU, 0);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open directory '%s'", path);
  ret = dirwalk_list_read (fd, path, &list, err);
  for (i = 0; ret >= 0 && i < list.n; i++)
    {
      cleanup_free char *child = xasprintf ("%s/%s", path, list.v[i].name);
      ret = dirwalk_remove (fd, list.v[i].name, child, err);
    }
  dirwalk_list_release (&list);
  if (ret < 0)
    return ret;
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return bale_make_error (err, errno, "cannot remove directory '%s'", path);
  return 0;
}

static int
add_size (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  (void) err;
  if (!S_ISDIR (e->st->st_mode))
    *(int64_t *) ctx += e->st->st_size;
  return DIRWALK_CONTINUE;
}

int64_t
dirwalk_size (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  bale_error_t ignored = NULL;
  int64_t total = 0;

  if (fd < 0)
    return 0;
  dirwalk (fd, add_size, NULL, &total, &ignored);
  bale_error_release (&ignored);
  close (fd);
  return total;
}
