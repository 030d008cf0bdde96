/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading whole files into a strbuf; writing and copying. */
#include <config.h>

#include <errno.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fileio.h"
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
