/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cache mounts packed into and unpacked from the shared build cache (see cache_mounts.h). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dirwalk.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/cache_mounts.h"
#include "runtime/layer/layer.h"
#include "runtime/store/store.h"
#include "common/banned.h"

bool
cache_mount_id_valid (const char *name)
{
  return name && *name && !strchr (name, '/') && strcmp (name, ".") != 0
         && strcmp (name, "..") != 0 && name[0] != '.' && strlen (name) < 256;
}

bool
cache_mount_exists (struct store *s, const char *id)
{
  cleanup_free char *dir = store_area_path (s, STORE_AREA_RUN_CACHE, id);
  struct stat st;

  return cache_mount_id_valid (id) && lstat (dir, &st) == 0;
}

static int
cmp_blob (const void *a, const void *b)
{
  return strcmp (((const struct cache_mount_blob *) a)->id, ((const struct cache_mount_blob *) b)->id);
}

int
cache_pack_dir (struct store *s, int parent_fd, const char *name, char digest[DIGEST_STRLEN + 1],
                int64_t *size, bale_error_t *err)
{
  cleanup_free char *tmp = store_area_path (s, STORE_AREA_TMP, "cachepack.XXXXXX");
  cleanup_close int dir = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int fd = -1;
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE };
  struct layer_result res;

  if (dir < 0)
    return bale_make_error (err, errno, "cannot open %s", name);
  fd = mkstemp (tmp);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot create %s", tmp);
  unlink (tmp);
  if (layer_write_dir (dir, &opts, fd, &res, err) < 0)
    return -1;
  if (lseek (fd, 0, SEEK_SET) < 0)
    return bale_make_error (err, errno, "cannot rewind the tar of %s", name);
  if (store_blob_put_fd (s, fd, name, res.digest, digest, err) < 0)
    return -1;
  *size = res.size;
  return 0;
}

/* The directory name at cache_fd as an uncompressed tar blob of the store. */
static int
pack_one (struct store *s, int cache_fd, const char *name, struct cache_mount_blob *out,
          bale_error_t *err)
{
  if (cache_pack_dir (s, cache_fd, name, out->digest, &out->size, err) < 0)
    return bale_error_wrap (err, "cache mount %s", name);
  out->id = xstrdup (name);
  return 0;
}

int
cache_mounts_pack (struct store *s, const struct timespec *since, int64_t max_bytes,
                   void (*warn) (const char *msg), struct cache_mount_blob **out, size_t *n,
                   bale_error_t *err)
{
  cleanup_free char *root = store_area_path (s, STORE_AREA_RUN_CACHE, NULL);
  cleanup_close int fd = open (root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct cache_mount_blob *v = NULL;
  size_t alloc = 0;
  DIR *d;
  struct dirent *de;
  int ret = 0;

  *out = NULL;
  *n = 0;
  if (fd < 0)
    return errno == ENOENT ? 0 : bale_make_error (err, errno, "cannot open %s", root);
  d = fdopendir (dup (fd));
  if (!d)
    return bale_make_error (err, errno, "cannot read %s", root);
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      struct stat st;
      int64_t size;
      if (!cache_mount_id_valid (de->d_name) || fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0
          || !S_ISDIR (st.st_mode))
        continue;
      if (since && (st.st_mtim.tv_sec < since->tv_sec
                    || (st.st_mtim.tv_sec == since->tv_sec && st.st_mtim.tv_nsec < since->tv_nsec)))
        continue;
      size = dirwalk_size (fd, de->d_name);
      if (max_bytes >= 0 && size > max_bytes)
        {
          cleanup_free char *msg = xasprintf ("cache mount %s not exported: %lld bytes, over the "
                                              "limit of %lld (cache-mounts-max-size)", de->d_name,
                                              (long long) size, (long long) max_bytes);
          if (warn)
            warn (msg);
          continue;
        }
      XGROW (v, alloc, *n + 1);
      memset (&v[*n], 0, sizeof v[*n]);
      ret = pack_one (s, fd, de->d_name, &v[*n], err);
      if (ret == 0)
        (*n)++;
    }
  closedir (d);
  if (ret < 0)
    {
      cache_mount_blobs_free (v, *n);
      *n = 0;
      return -1;
    }
  if (*n > 1)
    qsort (v, *n, sizeof *v, cmp_blob);
  *out = v;
  return 0;
}

void
cache_mount_blobs_free (struct cache_mount_blob *v, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    free (v[i].id);
  free (v);
}

int
cache_unpack_temp (const char *parent, int fd, const char *tar_digest, int64_t max_bytes,
                   char **out, bale_error_t *err)
{
  char *tmp = xasprintf ("%s/.import.XXXXXX", parent);
  cleanup_close int tfd = -1;
  struct layer_extract_opts opts = { .mode = LAYER_EXTRACT_MERGED, .expected_diff_id = tar_digest,
                                     .max_tar_bytes = max_bytes };
  struct layer_extract_stats stats;
  int ret;

  *out = NULL;
  if ((mkdir (parent, 0700) < 0 && errno != EEXIST) || !mkdtemp (tmp))
    {
      free (tmp);
      return bale_make_error (err, errno, "cannot create a directory in %s", parent);
    }
  tfd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ret = tfd < 0 ? bale_make_error (err, errno, "cannot open %s", tmp)
                : layer_extract (fd, tfd, &opts, &stats, err);
  /* The tar holds what is below the directory; the directory gets what a first cache mount
     gives it (exec_run.c's cache_mount: 0755, root's). */
  if (ret == 0 && fchmod (tfd, 0755) < 0)
    ret = bale_make_error (err, errno, "cannot chmod %s", tmp);
  if (ret < 0)
    {
      cache_remove_temp (tmp);
      free (tmp);
      return -1;
    }
  *out = tmp;
  return 0;
}

void
cache_remove_temp (const char *path)
{
  cleanup_free char *parent = xstrdup (path);
  char *slash = strrchr (parent, '/');
  bale_error_t ignored = NULL;
  int pfd;

  if (!slash || access (path, F_OK) != 0)
    return;
  *slash = '\0';
  pfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd >= 0)
    {
      dirwalk_remove (pfd, slash + 1, path, &ignored);
      close (pfd);
    }
  bale_error_release (&ignored);
}

int
cache_mount_unpack (struct store *s, const char *id, int fd, const char *tar_digest,
                    int64_t max_bytes, bale_error_t *err)
{
  cleanup_free char *root = store_area_path (s, STORE_AREA_RUN_CACHE, NULL);
  cleanup_free char *dest = NULL, *tmp = NULL;

  if (!cache_mount_id_valid (id))
    return bale_make_error (err, 0, "invalid cache mount id '%s'", id);
  if (cache_mount_exists (s, id))
    return 0;
  dest = xasprintf ("%s/%s", root, id);
  if (cache_unpack_temp (root, fd, tar_digest, max_bytes, &tmp, err) < 0)
    return bale_error_wrap (err, "cache mount %s", id);
  /* A cache mount another build made meanwhile wins: it is as good, and in use. */
  if (rename (tmp, dest) < 0 && errno != EEXIST && errno != ENOTEMPTY)
    {
      bale_make_error (err, errno, "cannot rename %s to %s", tmp, dest);
      cache_remove_temp (tmp);
      return -1;
    }
  cache_remove_temp (tmp);
  return 0;
}
