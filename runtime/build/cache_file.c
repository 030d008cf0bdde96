/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One file of <store>/buildcache written into place (see cache.h): below the entries, their
   inputs and pointers, which all write through it. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/build/cache.h"
#include "runtime/store/store.h"
#include "common/banned.h"

int
cache_file_write (struct store *s, const char *dir, const char *name, const char *text,
                  size_t len, bale_error_t *err)
{
  cleanup_free char *top = store_area_path (s, STORE_AREA_BUILDCACHE, NULL);
  cleanup_free char *sub = xasprintf ("%s/%s", top, dir);
  cleanup_free char *path = xasprintf ("%s/%s", sub, name);
  cleanup_free char *tmp = store_area_path (s, STORE_AREA_TMP, "cache.XXXXXX");
  cleanup_close int fd = -1;

  if ((mkdir (top, 0700) < 0 && errno != EEXIST) || (mkdir (sub, 0700) < 0 && errno != EEXIST))
    return bale_make_error (err, errno, "cannot create %s", sub);
  fd = mkstemp (tmp);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot create %s", tmp);
  if (fileio_write_all (fd, text, len) < 0 || fchmod (fd, 0600) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return bale_make_error (err, saved, "cannot write the cache file %s", path);
    }
  store_defer_free (s, path);
  if (rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return bale_make_error (err, saved, "cannot write the cache file %s", path);
    }
  return 0;
}
