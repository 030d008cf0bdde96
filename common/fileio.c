/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading whole files into a strbuf; writing and copying. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "common/banned.h"

int
fileio_read_fd (int fd, const char *path, struct strbuf *sb, bale_error_t *err)
{
  for (;;)
    {
      ssize_t r;

      strbuf_grow (sb, 65536);
      r = read (fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return bale_make_error (err, errno, "cannot read '%s'", path);
      if (r == 0)
        return 0;
      strbuf_setlen (sb, sb->len + (size_t) r);
    }
}

int
fileio_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int
fileio_copy_fd (int in, int out)
{
  for (;;)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
        {
          /* Across filesystems on older kernels, or a filesystem without it. */
          char buf[1 << 16];
          while ((n = read (in, buf, sizeof buf)) != 0)
            {
              if (n < 0 && errno == EINTR)
                continue;
              if (n < 0 || fileio_write_all (out, buf, (size_t) n) < 0)
                return -1;
            }
          return 0;
        }
      if (n < 0)
        return -1;
      if (n == 0)
        return 0;
    }
}

/* Why the directory name in dirfd could not be opened (errno e): a symlink says so. */
static int
dir_error (int dirfd, const char *name, int e, bale_error_t *err)
{
  struct stat st;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
    return bale_make_error (err, 0, "cannot open directory '%s' (a symlink is refused)", name);
  return bale_make_error (err, e, "cannot open directory '%s'", name);
}

int
fileio_open_beneath (int dirfd, const char *path, int flags, bale_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_close int held = -1; /* the directory reached so far, unless it is dirfd */
  char *p = copy, *next;
  int at = dirfd, fd;

  if (*p == '/')
    return bale_make_error (err, EINVAL, "'%s' is an absolute path, not one inside its directory", path);
  for (;;)
    {
      next = strchr (p, '/');
      if (next)
        *next++ = '\0';
      while (next && *next == '/')
        next++;
      if (next && *next == '\0')
        next = NULL;
      if (*p == '\0' || strcmp (p, "..") == 0)
        return bale_make_error (err, EINVAL, "'%s' leads out of its directory or names none", path);
      if (!next)
        break;
      if (strcmp (p, ".") != 0)
        {
          fd = openat (at, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            return dir_error (at, p, errno, err);
          if (held >= 0)
            close (held);
          at = held = fd;
        }
      p = next;
    }
  fd = openat (at, p, flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return bale_make_error (err, errno == ELOOP ? 0 : errno,
                            errno == ELOOP ? "'%s' is a symlink" : "cannot open '%s'", path);
  return fd;
}

int
fileio_open_regular (int dirfd, const char *name, bale_error_t *err)
{
  /* O_NONBLOCK: opening a FIFO must not wait for a writer (the check below refuses it). */
  int fd = fileio_open_beneath (dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, err);
  struct stat st;

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    {
      int e = errno;
      close (fd);
      return bale_make_error (err, e, "cannot read '%s'", name);
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      return bale_make_error (err, 0, "'%s' is not a regular file", name);
    }
  return fd;
}

int
fileio_read_regular (int dirfd, const char *name, size_t max, struct strbuf *sb, bale_error_t *err)
{
  cleanup_close int fd = fileio_open_regular (dirfd, name, err);
  struct stat st;
  size_t start = sb->len;

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return bale_make_error (err, errno, "cannot read '%s'", name);
  if ((uint64_t) st.st_size > max)
    return bale_make_error (err, 0, "'%s' is larger than %zu bytes", name, max);
  if (fileio_read_fd (fd, name, sb, err) < 0)
    return -1;
  if (sb->len - start > max) /* grew since the fstat */
    return bale_make_error (err, 0, "'%s' is larger than %zu bytes", name, max);
  return 0;
}

int
fileio_mkdir_open (int dirfd, const char *name, bale_error_t *err)
{
  int fd;

  if (mkdirat (dirfd, name, 0755) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create directory '%s'", name);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      struct stat st;
      if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
        return bale_make_error (err, 0, "'%s' is a symlink, not a directory", name);
      return bale_make_error (err, e, "cannot open directory '%s'", name);
    }
  return fd;
}
