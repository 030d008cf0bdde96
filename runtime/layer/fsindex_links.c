/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Copied-rootfs mode: give every name of a hard-linked file its own inode (see fsindex.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/layer/fsindex.h"
#include "common/banned.h"

static int
copy_data (int in, int out)
{
  char buf[65536];
  ssize_t n;

  while ((n = read (in, buf, sizeof buf)) > 0)
    {
      char *p = buf;
      while (n > 0)
        {
          ssize_t w = write (out, p, (size_t) n);
          if (w < 0)
            return -1;
          p += w;
          n -= w;
        }
    }
  return n < 0 ? -1 : 0;
}

int
fsindex_copy_xattrs (int in, int out, bool skip_overlay)
{
  ssize_t n = flistxattr (in, NULL, 0), i;
  cleanup_free char *names = NULL;

  if (n <= 0)
    return n < 0 && errno != ENOTSUP ? -1 : 0;
  names = xmalloc ((size_t) n);
  n = flistxattr (in, names, (size_t) n);
  if (n < 0)
    return -1;
  for (i = 0; i < n; i += (ssize_t) strlen (names + i) + 1)
    {
      ssize_t len = fgetxattr (in, names + i, NULL, 0);
      cleanup_free char *v = NULL;
      if (skip_overlay
          && (strncmp (names + i, "trusted.overlay.", 16) == 0 || strncmp (names + i, "user.overlay.", 13) == 0))
        continue;
      if (len < 0)
        return -1;
      v = xmalloc ((size_t) len + 1);
      len = fgetxattr (in, names + i, v, (size_t) len);
      if (len < 0 || fsetxattr (out, names + i, v, (size_t) len, 0) < 0)
        return -1;
    }
  return 0;
}

/* Replace dfd/name by a copy of itself: same data, owner, mode, xattrs and times. */
static int
unshare (int dfd, const char *rel, const char *name, const struct stat *st, bale_error_t *err)
{
  char tmp[64];
  cleanup_close int in = -1, out = -1;
  struct timespec ts[2] = { st->st_atim, st->st_mtim };

  snprintf (tmp, sizeof tmp, ".bale-unshare.%ld", (long) getpid ());
  in = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return bale_make_error (err, errno, "cannot open %s/%s", rel, name);
  unlinkat (dfd, tmp, 0);
  out = openat (dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return bale_make_error (err, errno, "cannot create %s/%s", rel, tmp);
  /* chown before chmod: chown clears the setuid and setgid bits */
  if (copy_data (in, out) < 0 || fsindex_copy_xattrs (in, out, false) < 0 || fchown (out, st->st_uid, st->st_gid) < 0
      || fchmod (out, st->st_mode & 07777) < 0 || futimens (out, ts) < 0
      || renameat (dfd, tmp, dfd, name) < 0)
    {
      int e = errno;
      unlinkat (dfd, tmp, 0);
      return bale_make_error (err, e, "cannot copy %s/%s", rel, name);
    }
  return 0;
}

static int
break_dir (int dfd, const char *rel, bale_error_t *err)
{
  struct dirwalk_list l = { 0 };
  struct stat dst;
  bool changed = false;
  size_t i;
  int ret = -1;

  if (fstat (dfd, &dst) < 0)
    return bale_make_error (err, errno, "cannot stat %s", rel);
  if (dirwalk_list_read (dfd, rel, &l, err) < 0)
    return -1;
  for (i = 0; i < l.n; i++)
    {
      const struct dirwalk_ent *e = &l.v[i];
      cleanup_free char *sub = xasprintf ("%s/%s", rel, e->name);
      struct stat st;
      if (S_ISDIR (e->st.st_mode))
        {
          cleanup_close int fd = openat (dfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            {
              bale_make_error (err, errno, "cannot open %s", sub);
              goto out;
            }
          if (break_dir (fd, sub, err) < 0)
            goto out;
          continue;
        }
      /* stat again: unsharing the other names may have left this one alone */
      if (!S_ISREG (e->st.st_mode) || e->st.st_nlink < 2
          || fstatat (dfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_nlink < 2)
        continue;
      if (unshare (dfd, sub, e->name, &st, err) < 0)
        goto out;
      changed = true;
    }
  ret = 0;
out:
  /* the directory's times stay those of its layer, as an overlay's copy-up keeps them */
  if (changed)
    {
      struct timespec ts[2] = { dst.st_atim, dst.st_mtim };
      if (futimens (dfd, ts) < 0 && ret == 0)
        ret = bale_make_error (err, errno, "cannot set the times of %s", rel);
    }
  dirwalk_list_release (&l);
  return ret;
}

int
fsindex_break_hardlinks (int root_fd, bale_error_t *err)
{
  return break_dir (root_fd, "", err);
}
