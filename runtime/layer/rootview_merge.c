/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A view without overlayfs: the layer snapshots merged into one directory as overlayfs would
 * show them, whiteouts and opaque directories applied. A read-only view hard-links the
 * snapshots' files (a directory tree and a link per file, not a copy); a writable one copies
 * them. For kernels without overlayfs, or where it cannot be mounted (BALE_FORCE_COPY=1).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/fs/rootless.h"
#include "runtime/layer/rootview.h"
#include "common/banned.h"

static bool
is_opaque (int fd)
{
  char v[2];

  return fgetxattr (fd, rootless_opaque_xattr (), v, sizeof v) == 1 && v[0] == 'y';
}

/* Hard-link name from src into dst, or copy it where a link cannot be made (another
   filesystem, a file with the maximum link count). */
static int
place_file (int src, int dst, const char *name, const struct stat *st, const char *path,
            bool link, bale_error_t *err)
{
  cleanup_close int in = -1, out = -1;

  if (link && linkat (src, name, dst, name, 0) == 0)
    return 0;
  if (link && errno != EXDEV && errno != EMLINK && errno != EPERM)
    return bale_make_error (err, errno, "cannot link %s into the view", path);
  in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  out = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (in < 0 || out < 0 || fileio_copy_fd (in, out) < 0 || fchown (out, st->st_uid, st->st_gid) < 0
      || fchmod (out, st->st_mode & 07777) < 0 || futimens (out, (struct timespec[2]){ st->st_atim, st->st_mtim }) < 0)
    return bale_make_error (err, errno, "cannot copy %s into the view", path);
  return 0;
}

/* A symbolic link, device, fifo or socket, recreated. */
static int
place_special (int src, int dst, const char *name, const struct stat *st, const char *path,
               bale_error_t *err)
{
  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (src, name, target, sizeof target);
      if (n < 0 || n > PATH_MAX - 1)
        return bale_make_error (err, n < 0 ? errno : ENAMETOOLONG, "cannot read the link %s", path);
      target[n] = '\0';
      if (symlinkat (target, dst, name) < 0)
        return bale_make_error (err, errno, "cannot create the link %s in the view", path);
    }
  else if (mknodat (dst, name, st->st_mode, st->st_rdev) < 0)
    return bale_make_error (err, errno, "cannot create %s in the view", path);
  if (fchownat (dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return bale_make_error (err, errno, "cannot chown %s in the view", path);
  /* mknodat's mode went through the umask (a 0666 device came out 0644, diff-fuzz F24) */
  if (!S_ISLNK (st->st_mode) && fchmodat (dst, name, st->st_mode & 07777, 0) < 0)
    return bale_make_error (err, errno, "cannot chmod %s in the view", path);
  /* Its times too, as overlayfs shows them: COPY --from keeps a symlink's mtime. */
  if (utimensat (dst, name, (struct timespec[2]){ st->st_atim, st->st_mtim }, AT_SYMLINK_NOFOLLOW) < 0)
    return bale_make_error (err, errno, "cannot set the times of %s in the view", path);
  return 0;
}

static int merge_dir (int src, int dst, const char *path, bool link, bale_error_t *err);

/* The directory name of src over what dst has: kept and merged into, unless it is not a
   directory or src's is opaque. */
static int
place_dir (int src, int dst, const char *name, const struct stat *st, const char *path,
           bool link, bale_error_t *err)
{
  cleanup_close int sfd = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int dfd = -1;
  struct stat have;
  bool exists = fstatat (dst, name, &have, AT_SYMLINK_NOFOLLOW) == 0;

  if (sfd < 0)
    return bale_make_error (err, errno, "cannot open %s", path);
  if (exists && (!S_ISDIR (have.st_mode) || is_opaque (sfd)))
    {
      if (dirwalk_remove (dst, name, path, err) < 0)
        return -1;
      exists = false;
    }
  if (!exists && mkdirat (dst, name, 0700) < 0)
    return bale_make_error (err, errno, "cannot create %s in the view", path);
  dfd = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  /* The upper directory's owner and mode are what overlayfs shows. */
  if (dfd < 0 || fchown (dfd, st->st_uid, st->st_gid) < 0 || fchmod (dfd, st->st_mode & 07777) < 0)
    return bale_make_error (err, errno, "cannot set up %s in the view", path);
  /* the times last: merging its entries moves them */
  if (merge_dir (sfd, dfd, path, link, err) < 0)
    return -1;
  if (futimens (dfd, (struct timespec[2]){ st->st_atim, st->st_mtim }) < 0)
    return bale_make_error (err, errno, "cannot set the times of %s in the view", path);
  return 0;
}

static int
merge_dir (int src, int dst, const char *path, bool link, bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  size_t i;
  int ret = dirwalk_list_read (src, path, &list, err);

  for (i = 0; ret >= 0 && i < list.n; i++)
    {
      const struct dirwalk_ent *e = &list.v[i];
      cleanup_free char *sub = xasprintf ("%s/%s", path, e->name);
      struct stat have;

      if (S_ISDIR (e->st.st_mode))
        {
          ret = place_dir (src, dst, e->name, &e->st, sub, link, err);
          continue;
        }
      /* Anything else replaces what the layers below have there. */
      if (fstatat (dst, e->name, &have, AT_SYMLINK_NOFOLLOW) == 0
          && (ret = dirwalk_remove (dst, e->name, sub, err)) < 0)
        break;
      if (S_ISCHR (e->st.st_mode) && e->st.st_rdev == makedev (0, 0))
        continue; /* a whiteout: the removal was all of it */
      if (S_ISREG (e->st.st_mode))
        ret = place_file (src, dst, e->name, &e->st, sub, link, err);
      else
        ret = place_special (src, dst, e->name, &e->st, sub, err);
    }
  dirwalk_list_release (&list);
  return ret < 0 ? -1 : 0;
}

int
rootview_merge (const char *const *lowerdirs, size_t n, const char *dir, bool link,
                bale_error_t *err)
{
  cleanup_close int dst = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  size_t i;

  if (dst < 0)
    return bale_make_error (err, errno, "cannot open %s", dir);
  /* Bottom layer first: each one goes over what the ones below left. */
  for (i = n; i-- > 0;)
    {
      /* Snapshot directories of the store, or a /proc/self/fd/N link to a directory bale
         resolved in a context: bale's own names, the only ones followed here. */
      cleanup_close int src = open (lowerdirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      struct stat st;

      if (src < 0 || fstat (src, &st) < 0)
        return bale_make_error (err, errno, "cannot open the snapshot %s", lowerdirs[i]);
      if (fchown (dst, st.st_uid, st.st_gid) < 0 || fchmod (dst, st.st_mode & 07777) < 0
          || merge_dir (src, dst, lowerdirs[i], link, err) < 0)
        return bale_error_wrap (err, "merging layer %s into %s", lowerdirs[i], dir);
    }
  return 0;
}
