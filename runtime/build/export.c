/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compressing layers for export. Each layer is compressed by a worker thread (one per
 * online CPU, at most one per layer) into a temporary file in the store's tmp/, then stored
 * as a blob. A small index, compressed/<diff_id hex>.<algorithm>, remembers the result.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/build/export.h"
#include "runtime/store/layout.h"
#include "runtime/store/store.h"
#include "common/banned.h"

int
export_parse_compression (const char *name, enum layer_compression *c, bale_error_t *err)
{
  if (strcmp (name, "gzip") == 0)
    *c = LAYER_COMPRESSION_GZIP;
  else if (strcmp (name, "zstd") == 0)
    *c = LAYER_COMPRESSION_ZSTD;
  else if (strcmp (name, "none") == 0)
    *c = LAYER_COMPRESSION_NONE;
  else
    return bale_make_error (err, 0, "unknown compression '%s' (want gzip, zstd or none)", name);
  return 0;
}

static bool
uncompressed (const char *media_type)
{
  size_t n = strlen (media_type);
  return n >= 4 && strcmp (media_type + n - 4, ".tar") == 0;
}

struct job
{
  struct store *s;
  struct exec_layer *layer;
  enum layer_compression c;
  bale_error_t err;
  int ret;
};

struct pool
{
  struct job *jobs;
  size_t n, next;
  pthread_mutex_t lock;
};

static char *
index_name (const char *diff_id, enum layer_compression c)
{
  return xasprintf ("%s.%s", digest_hex (diff_id), c == LAYER_COMPRESSION_ZSTD ? "zstd" : "gzip");
}

/* The cached compressed blob of a layer: its digest (and size), or false. */
static bool
cached (struct store *s, const char *diff_id, enum layer_compression c, char digest[DIGEST_STRLEN + 1],
        int64_t *size)
{
  cleanup_free char *path = NULL, *name = index_name (diff_id, c);
  char buf[DIGEST_STRLEN + 2];
  FILE *f;
  bool ok = false;
  bale_error_t e = NULL;

  path = store_area_path (s, STORE_AREA_COMPRESSED, name);
  f = fopen (path, "re");
  if (!f)
    return false;
  if (fgets (buf, sizeof buf, f) && strlen (buf) == DIGEST_STRLEN && digest_is_valid (buf)
      && store_blob_exists (s, buf))
    {
      memcpy (digest, buf, DIGEST_STRLEN + 1);
      *size = store_blob_size (s, digest, &e);
      ok = *size >= 0;
    }
  fclose (f);
  bale_error_release (&e);
  return ok;
}

static void
remember (struct store *s, const char *diff_id, enum layer_compression c, const char *digest)
{
  cleanup_free char *dir = store_area_path (s, STORE_AREA_COMPRESSED, NULL);
  cleanup_free char *name = index_name (diff_id, c);
  cleanup_close int fd = -1;
  bale_error_t e = NULL;

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return;
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    layout_write_atomic (fd, name, digest, strlen (digest), &e); /* a cache: failure is fine */
  bale_error_release (&e);
}

static int
compress_one (struct job *j)
{
  struct exec_layer *l = j->layer;
  cleanup_free char *tmp = store_area_path (j->s, STORE_AREA_TMP, "compress.XXXXXX");
  cleanup_close int in = -1, out = -1;
  struct layer_result res;
  char digest[DIGEST_STRLEN + 1];
  int64_t size;

  if (cached (j->s, l->diff_id, j->c, digest, &size))
    goto done;
  in = store_blob_open (j->s, l->digest, &j->err);
  if (in < 0)
    return -1;
  out = mkostemp (tmp, O_CLOEXEC);
  if (out < 0)
    return bale_make_error (&j->err, errno, "cannot create %s", tmp);
  unlink (tmp); /* only the descriptor is needed: nothing to clean up on failure */
  if (layer_compress (in, j->c, out, &res, &j->err) < 0)
    return -1;
  if (strcmp (res.diff_id, l->diff_id) != 0)
    return bale_make_error (&j->err, 0, "layer %s changed in the store (now %s)", l->diff_id, res.diff_id);
  if (lseek (out, 0, SEEK_SET) < 0
      || store_blob_put_fd (j->s, out, "compressed layer", res.digest, digest, &j->err) < 0)
    return -1;
  size = res.size;
  remember (j->s, l->diff_id, j->c, digest);
done:
  memcpy (l->digest, digest, sizeof l->digest);
  l->size = size;
  free (l->media_type);
  l->media_type = xstrdup (layer_media_type (j->c));
  free (l->path);
  l->path = store_blob_path (j->s, digest);
  return 0;
}

static void *
worker (void *arg)
{
  struct pool *p = arg;

  for (;;)
    {
      struct job *j;
      pthread_mutex_lock (&p->lock);
      j = p->next < p->n ? &p->jobs[p->next++] : NULL;
      pthread_mutex_unlock (&p->lock);
      if (!j)
        return NULL;
      j->ret = compress_one (j);
    }
}

int
export_compress (struct store *s, struct exec_image *img, enum layer_compression c,
                 bale_error_t *err)
{
  struct pool p = { 0 };
  pthread_t threads[16];
  size_t i, n_threads = 0;
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  int ret = 0;

  if (c == LAYER_COMPRESSION_NONE)
    return 0;
  /* Until the export has written them, nothing names the compressed blobs: hold off a
     concurrent `bale prune` or `rmi`. */
  if (store_txn_begin (s, err) < 0)
    return -1;
  p.jobs = xcalloc (img->n_layers + 1, sizeof *p.jobs);
  for (i = 0; i < img->n_layers; i++)
    if (uncompressed (img->layers[i].media_type))
      p.jobs[p.n++] = (struct job){ s, &img->layers[i], c, NULL, 0 };
  pthread_mutex_init (&p.lock, NULL);
  if (cpus < 1)
    cpus = 1;
  while (n_threads < p.n && n_threads < (size_t) cpus && n_threads < 16
         && pthread_create (&threads[n_threads], NULL, worker, &p) == 0)
    n_threads++;
  if (n_threads == 0)
    worker (&p);
  for (i = 0; i < n_threads; i++)
    pthread_join (threads[i], NULL);
  pthread_mutex_destroy (&p.lock);
  for (i = 0; i < p.n; i++)
    if (p.jobs[i].ret < 0)
      {
        if (ret == 0)
          bale_error_join (err, &p.jobs[i].err);
        ret = -1;
      }
  for (i = 0; i < p.n; i++)
    bale_error_release (&p.jobs[i].err);
  free (p.jobs);
  if (ret == 0 && p.n)
    ret = exec_image_set_manifest (img, err);
  store_txn_end (s);
  return ret < 0 ? -1 : 0;
}
