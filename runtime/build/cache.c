/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Build cache entries in the store: one file per key (see cache.h for the layout). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/meter.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/cache.h"
#include "runtime/build/cache_inputs.h"
#include "runtime/build/cache_mounts.h"
#include "common/dirwalk.h"
#include "runtime/store/layout.h"
#include "runtime/store/store.h"
#include "common/banned.h"

static char *
keys_dir (struct store *s)
{
  return store_area_path (s, STORE_AREA_BUILDCACHE, "keys");
}

json_t *
cache_entry_to_json (const struct cache_entry *e)
{
  json_t *j = json_pack ("{s:s, s:s, s:I, s:s}", "digest", e->digest, "diff_id", e->diff_id,
                         "size", (json_int_t) e->size, "media_type", e->media_type);

  if (e->created_ns > 0)
    json_object_set_new (j, "created", json_integer ((json_int_t) e->created_ns));
  return j;
}

int
cache_entry_from_json (const json_t *j, struct cache_entry *out)
{
  const char *digest = json_string_value (json_object_get (j, "digest"));
  const char *diff_id = json_string_value (json_object_get (j, "diff_id"));
  const char *mt = json_string_value (json_object_get (j, "media_type"));
  const json_t *created = json_object_get (j, "created");

  if (!digest || !diff_id || !mt || !digest_is_valid (digest) || !digest_is_valid (diff_id)
      || strlen (mt) >= sizeof out->media_type || !json_is_integer (json_object_get (j, "size"))
      || (created && (!json_is_integer (created) || json_integer_value (created) < 0)))
    return -1;
  memset (out, 0, sizeof *out);
  memcpy (out->digest, digest, DIGEST_STRLEN + 1);
  memcpy (out->diff_id, diff_id, DIGEST_STRLEN + 1);
  memcpy (out->media_type, mt, strlen (mt) + 1);
  out->size = json_integer_value (json_object_get (j, "size"));
  out->created_ns = created ? json_integer_value (created) : 0;
  return 0;
}

/* An entry, a mount's or the inputs' descriptor is a line of JSON: a file of a cache
   directory that is larger, a symlink, a FIFO or a device is no entry (a FIFO made the
   import wait for a writer forever). */
#define SMALL_JSON_MAX (64u << 10)

/* The JSON object in the small file dirfd/name, or NULL. */
static json_t *
read_small_json (int dirfd, const char *name)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  bale_error_t e = NULL;

  if (fileio_read_regular (dirfd, name, SMALL_JSON_MAX, &sb, &e) < 0)
    {
      bale_error_release (&e);
      return NULL;
    }
  return json_loadb (sb.buf, sb.len, 0, NULL);
}

/* The blob digest of a cache directory's blobs/sha256: a regular file, never a symlink or a
   FIFO (whose open or read would wait forever). -1 when there is none such. */
static int
open_dir_blob (int blobs_fd, const char *digest)
{
  const char *hex = digest_hex (digest);
  int fd = hex ? openat (blobs_fd, hex, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
  struct stat st;

  if (fd >= 0 && (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)))
    {
      close (fd);
      fd = -1;
    }
  return fd;
}

/* Parse the entry file at dirfd/name. */
static int
read_entry (int dirfd, const char *name, struct cache_entry *out)
{
  json_t *j = read_small_json (dirfd, name);
  int ret = -1;

  if (!j)
    goto out;
  ret = cache_entry_from_json (j, out);
out:
  json_decref (j);
  return ret;
}

int
cache_lookup (struct store *s, const char *key, struct cache_entry *out)
{
  const char *hex = digest_hex (key);
  cleanup_free char *dir = hex ? keys_dir (s) : NULL;
  /* The store's own directory, whatever links lead to it; the entry is one name in it. */
  cleanup_close int dfd = dir ? open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

  if (dfd < 0 || read_entry (dfd, hex, out) < 0 || !store_blob_exists (s, out->digest))
    return 0;
  /* The mtime is the last use: prune --keep-storage drops the oldest first. */
  utimensat (dfd, hex, NULL, AT_SYMLINK_NOFOLLOW);
  return 1;
}

int
cache_record (struct store *s, const char *key, const struct cache_entry *e, bale_error_t *err)
{
  cleanup_free char *text = NULL;
  json_t *j;

  if (!digest_hex (key))
    return bale_make_error (err, 0, "invalid cache key '%s'", key);
  j = cache_entry_to_json (e);
  text = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (j);
  return cache_file_write (s, "keys", digest_hex (key), text, strlen (text), err);
}

/* ---- listing, keeping, pruning ---------------------------------------------------------- */

struct listed
{
  char *name;
  struct cache_entry e;
  struct timespec used;
};

struct cache_blobs
{
  char **digests; /* sorted */
  size_t n;
};

/* Every valid entry (damaged ones are removed: they could never be used). */
static int
list_entries (struct store *s, struct listed **out, size_t *n, bale_error_t *err)
{
  cleanup_free char *dir = keys_dir (s);
  DIR *d = opendir (dir);
  struct dirent *de;
  struct listed *v = NULL;
  size_t alloc = 0;

  *n = 0;
  if (!d)
    {
      *out = NULL;
      return errno == ENOENT ? 0 : bale_make_error (err, errno, "cannot open %s", dir);
    }
  while ((de = readdir (d)) != NULL)
    {
      struct listed l = { 0 };
      struct stat st;
      if (de->d_name[0] == '.')
        continue;
      if (read_entry (dirfd (d), de->d_name, &l.e) < 0
          || fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          unlinkat (dirfd (d), de->d_name, 0);
          continue;
        }
      l.name = xstrdup (de->d_name);
      l.used = st.st_mtim;
      XGROW (v, alloc, *n + 1);
      v[(*n)++] = l;
    }
  closedir (d);
  *out = v;
  return 0;
}

static void
listed_free (struct listed *v, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    free (v[i].name);
  free (v);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
cmp_keyed (const void *a, const void *b)
{
  return strcmp (((const struct cache_keyed *) a)->key, ((const struct cache_keyed *) b)->key);
}

int
cache_blobs_load (struct store *s, struct cache_blobs **out, bale_error_t *err)
{
  struct listed *v;
  struct cache_blobs *b;
  size_t n, i;

  if (list_entries (s, &v, &n, err) < 0)
    return -1;
  b = xzalloc (sizeof *b);
  b->digests = xcalloc (n + 1, sizeof *b->digests);
  for (i = 0; i < n; i++)
    b->digests[i] = xstrdup (v[i].e.digest);
  b->n = n;
  qsort (b->digests, n, sizeof *b->digests, cmp_str);
  listed_free (v, n);
  *out = b;
  return 0;
}

bool
cache_keep (const char *digest, void *ctx)
{
  const struct cache_blobs *b = ctx;

  return b && bsearch (&digest, b->digests, b->n, sizeof *b->digests, cmp_str) != NULL;
}

void
cache_blobs_free (struct cache_blobs *b)
{
  size_t i;

  if (!b)
    return;
  for (i = 0; i < b->n; i++)
    free (b->digests[i]);
  free (b->digests);
  free (b);
}

/* Most recently used first. */
static int
cmp_used (const void *a, const void *b)
{
  const struct listed *x = a, *y = b;

  if (x->used.tv_sec != y->used.tv_sec)
    return x->used.tv_sec > y->used.tv_sec ? -1 : 1;
  if (x->used.tv_nsec != y->used.tv_nsec)
    return x->used.tv_nsec > y->used.tv_nsec ? -1 : 1;
  return strcmp (x->name, y->name);
}

int
cache_prune (struct store *s, int64_t keep_bytes, size_t *dropped, bale_error_t *err)
{
  cleanup_free char *dir = keys_dir (s);
  struct listed *v;
  size_t n, i, count = 0;
  int64_t kept = 0;
  bool full = keep_bytes < 0;
  int ret = 0;

  if (list_entries (s, &v, &n, err) < 0)
    return -1;
  if (n > 1)
    qsort (v, n, sizeof *v, cmp_used);
  for (i = 0; i < n; i++)
    {
      cleanup_free char *path = NULL;
      /* Strictly by last use: once one does not fit, every older one goes too. */
      if (!full && kept + v[i].e.size <= keep_bytes)
        {
          kept += v[i].e.size;
          continue;
        }
      full = true;
      path = xasprintf ("%s/%s", dir, v[i].name);
      if (unlink (path) < 0 && errno != ENOENT)
        {
          ret = bale_make_error (err, errno, "cannot remove %s", path);
          break;
        }
      {
        cleanup_free char *key = xasprintf ("sha256:%s", v[i].name);
        cache_inputs_remove (s, key);
      }
      count++;
    }
  listed_free (v, n);
  if (dropped)
    *dropped = count;
  return ret;
}

/* ---- sharing the cache between machines (--cache-to / --cache-from type=local) ---------- */

/* in to out, its bytes counted on m as they are written. */
static int
copy_metered (int in, int out, struct meter *m)
{
  char buf[128 * 1024];
  ssize_t n;

  while ((n = read (in, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || fileio_write_all (out, buf, (size_t) n) < 0)
        return -1;
      meter_add (m, n);
    }
  return 0;
}

/* Copy the blob digest of the store to dir/blobs/sha256/<hex>, unless it is there; its bytes
   are a transfer named by the digest, reported to m's function (as a push reports a blob). */
static int
export_blob (struct store *s, int blobs_fd, const char *digest, struct meter *m, bale_error_t *err)
{
  const char *hex = digest_hex (digest);
  /* The directory may come from elsewhere (a CI cache restored, the src of --cache-from):
     a name planted there as a symlink is replaced, never written through. The pid keeps two
     exports into one directory off each other's temporary file. */
  cleanup_free char *tmp = xasprintf ("%s.tmp-%ld", hex, (long) getpid ());
  cleanup_close int in = -1, out = -1;
  struct stat st;

  if (fstatat (blobs_fd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode))
    return 0;
  in = store_blob_open (s, digest, err);
  if (in < 0)
    return -1;
  unlinkat (blobs_fd, tmp, 0);
  out = openat (blobs_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0)
    return bale_make_error (err, errno, "cannot create %s in the cache directory", tmp);
  /* A meter of its own: meter_end leaves the one it ends silent. */
  struct meter b = METER_INIT (m ? m->fn : NULL, m ? m->ctx : NULL, digest);
  meter_begin (&b, fstat (in, &st) == 0 ? (int64_t) st.st_size : 0);
  if (copy_metered (in, out, &b) < 0)
    return bale_make_error (err, errno, "cannot copy blob %s", digest);
  meter_end (&b, b.current);
  if (fsync (out) < 0 || renameat (blobs_fd, tmp, blobs_fd, hex) < 0)
    {
      int e = errno;
      unlinkat (blobs_fd, tmp, 0);
      return bale_make_error (err, e, "cannot store blob %s in the cache directory", digest);
    }
  return 0;
}

/* The directories of a cache directory, opened without following a symlink planted in one's
   place (the top directory is the user's: it may be a symlink). */
struct cache_dir
{
  int top, keys, blobs, mounts;
};

static void
cache_dir_close (struct cache_dir *d)
{
  int *v[] = { &d->top, &d->keys, &d->blobs, &d->mounts };
  size_t i;

  for (i = 0; i < 4; i++)
    if (*v[i] >= 0)
      close (*v[i]);
}
#define cleanup_cache_dir __attribute__ ((cleanup (cache_dir_close)))

static int
make_cache_dir (const char *dir, struct cache_dir *d, bale_error_t *err)
{
  int b = -1;

  if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create %s", dir);
  if ((d->top = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return bale_make_error (err, errno, "cannot open the cache directory %s", dir);
  if ((d->keys = fileio_mkdir_open (d->top, "keys", err)) < 0
      || (d->mounts = fileio_mkdir_open (d->top, "mounts", err)) < 0
      || (b = fileio_mkdir_open (d->top, "blobs", err)) < 0
      || (d->blobs = fileio_mkdir_open (b, "sha256", err)) < 0)
    {
      if (b >= 0)
        close (b);
      return bale_error_wrap (err, "cache directory %s", dir);
    }
  close (b);
  return 0;
}

int
cache_select (struct store *s, const struct timespec *since, const char *const *layers,
              size_t n_layers, struct cache_keyed **out, size_t *n_out, bale_error_t *err)
{
  struct listed *v;
  struct cache_keyed *k;
  size_t n, i, j;

  *out = NULL;
  *n_out = 0;
  if (list_entries (s, &v, &n, err) < 0)
    return -1;
  k = xcalloc (n + 1, sizeof *k);
  for (i = 0; i < n; i++)
    {
      bool wanted = layers == NULL;
      if (since && (v[i].used.tv_sec < since->tv_sec
                    || (v[i].used.tv_sec == since->tv_sec && v[i].used.tv_nsec < since->tv_nsec)))
        continue;
      for (j = 0; !wanted && j < n_layers; j++)
        wanted = strcmp (layers[j], v[i].e.digest) == 0;
      if (!wanted || !store_blob_exists (s, v[i].e.digest))
        continue;
      snprintf (k[*n_out].key, sizeof k[*n_out].key, "sha256:%s", v[i].name);
      k[*n_out].e = v[i].e;
      (*n_out)++;
    }
  listed_free (v, n);
  /* By key: an exported list does not depend on the order of a directory. */
  qsort (k, *n_out, sizeof *k, cmp_keyed);
  *out = k;
  return 0;
}

/* Each cache mount as dir/mounts/<id>: its blob's digest and size. */
static int
export_mounts (struct store *s, int fd, int blobs_fd, const struct cache_mount_blob *m,
               size_t n, struct meter *meter, bale_error_t *err)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      cleanup_free char *text = xasprintf ("{\"digest\":\"%s\",\"size\":%lld}", m[i].digest,
                                           (long long) m[i].size);
      if (export_blob (s, blobs_fd, m[i].digest, meter, err) < 0
          || layout_write_atomic (fd, m[i].id, text, strlen (text), err) < 0)
        return -1;
    }
  return 0;
}

/* Unpack dir's cache mounts the store lacks. */
static int
import_mounts (struct store *s, int top, int blobs_fd, size_t *imported, bale_error_t *err)
{
  int mfd = openat (top, "mounts", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = mfd >= 0 ? fdopendir (mfd) : NULL;
  struct dirent *de;
  int ret = 0;

  *imported = 0;
  if (!d)
    return 0; /* a cache without mounts (or from an older bale) */
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      cleanup_close int fd = -1;
      json_t *j = NULL;
      const char *digest;
      if (!cache_mount_id_valid (de->d_name) || cache_mount_exists (s, de->d_name))
        continue;
      j = read_small_json (dirfd (d), de->d_name);
      digest = json_string_value (json_object_get (j, "digest"));
      if (digest && digest_is_valid (digest) && json_is_integer (json_object_get (j, "size"))
          && (fd = open_dir_blob (blobs_fd, digest)) >= 0)
        {
          ret = cache_mount_unpack (s, de->d_name, fd, digest,
                                    json_integer_value (json_object_get (j, "size")), err);
          if (ret == 0)
            (*imported)++;
        }
      json_decref (j);
    }
  closedir (d);
  return ret;
}

int
cache_export_local (struct store *s, const char *dir, const struct cache_keyed *entries, size_t n,
                    const struct cache_mount_blob *mounts, size_t n_mounts, struct meter *m,
                    bale_error_t *err)
{
  cleanup_cache_dir struct cache_dir d = { -1, -1, -1, -1 };
  int blobs_fd, dkeys_fd;
  size_t i;

  if (make_cache_dir (dir, &d, err) < 0)
    return -1;
  blobs_fd = d.blobs;
  dkeys_fd = d.keys;
  for (i = 0; i < n; i++)
    {
      const struct cache_entry *e = &entries[i].e;
      json_t *j;
      char *text;
      int ret;

      if (export_blob (s, blobs_fd, e->digest, m, err) < 0)
        return -1;
      j = cache_entry_to_json (e);
      text = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
      ret = layout_write_atomic (dkeys_fd, digest_hex (entries[i].key), text, strlen (text), err);
      free (text);
      json_decref (j);
      if (ret < 0)
        return -1;
    }
  if (export_mounts (s, d.mounts, blobs_fd, mounts, n_mounts, m, err) < 0)
    return -1;
  /* What the entries were made from, so that an importer's misses can say why. */
  {
    char digest[DIGEST_STRLEN + 1];
    int64_t size = 0;
    cleanup_free char *text = NULL;
    if (cache_inputs_pack (s, entries, n, digest, &size, err) < 0)
      return -1;
    if (!*digest)
      return 0;
    text = xasprintf ("{\"digest\":\"%s\",\"size\":%lld}", digest, (long long) size);
    if (export_blob (s, blobs_fd, digest, m, err) < 0
        || layout_write_atomic (d.top, "inputs", text, strlen (text), err) < 0)
      return -1;
  }
  return 0;
}

/* The inputs bundle of a cache directory, when it has one: a damaged one only makes misses
   say less, so it is skipped. */
static void
import_inputs (struct store *s, int top, int blobs_fd)
{
  cleanup_close int fd = -1;
  bale_error_t e = NULL;
  json_t *j = read_small_json (top, "inputs");
  const char *digest;

  digest = json_string_value (json_object_get (j, "digest"));
  if (digest && digest_is_valid (digest) && json_is_integer (json_object_get (j, "size"))
      && (fd = open_dir_blob (blobs_fd, digest)) >= 0)
    cache_inputs_unpack (s, fd, digest, json_integer_value (json_object_get (j, "size")), &e);
  bale_error_release (&e);
  json_decref (j);
}

int
cache_import_local (struct store *s, const char *dir, size_t *imported, size_t *mounts_imported,
                    bale_error_t *err)
{
  cleanup_close int top = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dkeys_fd = openat (top, "keys", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int b = openat (top, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int blobs_fd = openat (b, "sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d;
  struct dirent *de;
  int ret = 0;

  *imported = 0;
  *mounts_imported = 0;
  if (dkeys_fd < 0 || blobs_fd < 0)
    return bale_make_error (err, errno, "--cache-from: %s is not a bale cache directory", dir);
  d = fdopendir (dup (dkeys_fd));
  if (!d)
    return bale_make_error (err, errno, "cannot read %s/keys", dir);
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      struct cache_entry e, have;
      cleanup_free char *key = NULL;
      if (de->d_name[0] == '.' || read_entry (dkeys_fd, de->d_name, &e) < 0)
        continue;
      key = xasprintf ("sha256:%s", de->d_name);
      if (!digest_is_valid (key) || cache_lookup (s, key, &have) == 1)
        continue;
      if (!store_blob_exists (s, e.digest))
        {
          cleanup_close int fd = open_dir_blob (blobs_fd, e.digest);
          /* Every byte is checked against the entry's digest before the store takes it. */
          if (fd < 0 || store_blob_put_fd (s, fd, digest_hex (e.digest), e.digest, NULL, err) < 0)
            {
              if (fd < 0)
                continue; /* an entry without its blob is no entry */
              ret = -1;
              break;
            }
        }
      if (cache_record (s, key, &e, err) < 0)
        ret = -1;
      else
        (*imported)++;
    }
  closedir (d);
  *mounts_imported = 0;
  if (ret == 0 && *imported > 0)
    import_inputs (s, top, blobs_fd);
  return ret < 0 ? ret : import_mounts (s, top, blobs_fd, mounts_imported, err);
}

/* ---- RUN --mount=type=cache directories ---------------------------------------------------- */

static int
remove_mounts (struct store *s, void *ctx, bale_error_t *err)
{
  int64_t *freed = ctx;
  cleanup_free char *dir = store_area_path (s, STORE_AREA_RUN_CACHE, NULL);
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct dirwalk_list list = { NULL, 0, 0 };
  size_t i;
  int ret;

  if (fd < 0)
    return errno == ENOENT ? 0 : bale_make_error (err, errno, "cannot open %s", dir);
  ret = dirwalk_list_read (fd, dir, &list, err);
  for (i = 0; ret >= 0 && i < list.n; i++)
    {
      cleanup_free char *path = xasprintf ("%s/%s", dir, list.v[i].name);
      *freed += dirwalk_size (fd, list.v[i].name);
      ret = dirwalk_remove (fd, list.v[i].name, path, err);
    }
  dirwalk_list_release (&list);
  return ret < 0 ? -1 : 0;
}

int
cache_mounts_prune (struct store *s, int64_t *freed, bale_error_t *err)
{
  *freed = 0;
  /* A build holds the store's shared lock while its steps use these directories. */
  return store_exclusive (s, remove_mounts, freed, err);
}
