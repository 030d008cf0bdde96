/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ADD <url>: downloads (runtime/registry/http.c) placed where the copy engine can read them. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/registry/addurl.h"
#include "runtime/registry/http.h"
#include "common/banned.h"

bool
addurl_is_url (const char *s)
{
  return strncmp (s, "http://", 7) == 0 || strncmp (s, "https://", 8) == 0;
}

/* The last segment of the URL's path, without query or fragment; NULL when there is none. */
static char *
url_file_name (const char *url)
{
  const char *p = strstr (url, "://") + 3;
  cleanup_free char *hostpath = xstrndup (p, strcspn (p, "?#"));
  const char *last = strrchr (hostpath, '/');

  if (last == NULL || strcmp (last + 1, "") == 0 || strcmp (last + 1, ".") == 0
      || strcmp (last + 1, "..") == 0)
    return NULL;
  return xstrdup (last + 1);
}

static int
fetch_one (const char *url, const char *checksum, const char *dir, size_t i, char **name,
           bale_error_t *err)
{
  cleanup_free char *file = url_file_name (url);
  cleanup_free char *sub = xasprintf ("%s/%zu", dir, i), *path = NULL;
  struct http_fetch_result r;
  cleanup_close int fd = -1;
  struct timespec times[2];

  if (file == NULL)
    return bale_make_error (err, 0, "ADD %s: cannot tell a file name from the URL", url);
  path = xasprintf ("%s/%s", sub, file);
  if (mkdir (sub, 0700) < 0)
    return bale_make_error (err, errno, "cannot create '%s'", sub);
  /* 0600: Docker's mode for downloads, whatever the server says. */
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot create '%s'", path);
  if (http_fetch (url, fd, checksum, &r, err) < 0)
    {
      /* Nothing half-downloaded or unverified stays behind. */
      unlink (path);
      rmdir (sub);
      return bale_error_wrap (err, "ADD %s", url);
    }
  if (r.last_modified > 0)
    {
      times[0].tv_sec = times[1].tv_sec = r.last_modified;
      times[0].tv_nsec = times[1].tv_nsec = 0;
      if (futimens (fd, times) < 0)
        return bale_make_error (err, errno, "cannot set the time of '%s'", path);
    }
  *name = xasprintf ("%zu/%s", i, file);
  return 0;
}

int
addurl_fetch (char *const *sources, size_t n, const char *checksum, const char *tmpdir,
              char **dir, char ***names, bale_error_t *err)
{
  char *d = xasprintf ("%s/add.XXXXXX", tmpdir);
  char **v;
  size_t i;

  for (i = 0; i < n; i++)
    if (!addurl_is_url (sources[i]))
      {
        free (d);
        return bale_make_error (err, 0, "ADD %s: URLs and local sources cannot be mixed in one "
                                "ADD", sources[i]);
      }
  if (mkdtemp (d) == NULL)
    {
      int e = errno;
      free (d);
      return bale_make_error (err, e, "cannot create a directory in '%s'", tmpdir);
    }
  v = xcalloc (n + 1, sizeof *v);
  for (i = 0; i < n; i++)
    if (fetch_one (sources[i], checksum, d, i, &v[i], err) < 0)
      {
        addurl_cleanup (d, v, n);
        return -1;
      }
  *dir = d;
  *names = v;
  return 0;
}

void
addurl_cleanup (char *dir, char **names, size_t n)
{
  size_t i;

  for (i = 0; dir && i < n; i++)
    {
      cleanup_free char *sub = xasprintf ("%s/%zu", dir, i);
      if (names && names[i])
        {
          cleanup_free char *path = xasprintf ("%s/%s", dir, names[i]);
          unlink (path);
        }
      rmdir (sub);
    }
  if (dir)
    rmdir (dir);
  for (i = 0; names && i < n; i++)
    free (names[i]);
  free (names);
  free (dir);
}
