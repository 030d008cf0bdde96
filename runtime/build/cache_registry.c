/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The build cache as a registry artifact: export (config + layers), import (verify, unpack). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <jansson.h>

#include "common/oci/canonjson.h"
#include "common/oci/digest.h"
#include "common/oci/oci.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/cache_registry.h"
#include "runtime/build/cache_inputs.h"
#include "runtime/layer/layer.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* The config lists entries, not layers: a generous bound still refuses a hostile giant. */
#define MAX_CONFIG (16 * 1024 * 1024)
#define DOCKER_MT_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"

static bool
is_plain_tar (const char *mt)
{
  return strcmp (mt, OCI_MT_LAYER_TAR) == 0 || strcmp (mt, DOCKER_MT_LAYER_TAR) == 0;
}

/* ---- the config ---------------------------------------------------------------------------- */

/*
 * {"entries":[{"key","layer","digest","diff_id","size","media_type","created"}...]} with
 * "layer" the index of the entry's blob in the manifest's layers and "created" the layer's
 * creation time (nanoseconds since the epoch; absent when unknown), which an importer's hits
 * give their history entries, so its image has the exporter's config digest. The digest, size and media type are
 * those of the layer in the exporting store (the uncompressed tar, usually), so an importer
 * ends with the very blob the exporter had and builds the same image digest.
 */
static json_t *
config_json (const struct cache_keyed *entries, size_t n, const size_t *layer_of,
             const struct cache_mount_blob *mounts, size_t n_mounts, size_t mounts_layer)
{
  json_t *list = json_array (), *ml = json_array ();
  size_t i;

  for (i = 0; i < n_mounts; i++)
    json_array_append_new (ml, json_pack ("{s:s,s:I,s:s,s:I}", "id", mounts[i].id, "layer",
                                          (json_int_t) (mounts_layer + i), "digest",
                                          mounts[i].digest, "size", (json_int_t) mounts[i].size));

  for (i = 0; i < n; i++)
    {
      const struct cache_entry *e = &entries[i].e;
      json_t *j = cache_entry_to_json (e);
      json_object_set_new (j, "key", json_string (entries[i].key));
      json_object_set_new (j, "layer", json_integer ((json_int_t) layer_of[i]));
      json_array_append_new (list, j);
    }
  if (n_mounts == 0)
    {
      json_decref (ml);
      return json_pack ("{s:o}", "entries", list);
    }
  return json_pack ("{s:o,s:o}", "entries", list, "mounts", ml);
}

static int
parse_entry (json_t *j, size_t n_layers, struct cache_artifact_entry *out, bale_error_t *err)
{
  const char *key = json_string_value (json_object_get (j, "key"));
  json_t *layer = json_object_get (j, "layer");
  struct cache_entry e;

  if (!key || !digest_is_valid (key) || !json_is_integer (layer)
      || cache_entry_from_json (j, &e) < 0)
    return bale_make_error (err, 0, "an entry lacks a valid key, digest, diff_id, media_type, "
                            "layer, size or created");
  if (json_integer_value (layer) < 0 || (size_t) json_integer_value (layer) >= n_layers)
    return bale_make_error (err, 0, "entry %s: layer %lld of %zu", key,
                            (long long) json_integer_value (layer), n_layers);
  if (e.size < 0)
    return bale_make_error (err, 0, "entry %s: invalid size or media type", key);
  /* An uncompressed layer's diff_id is its digest: the store checks the one, so the other
     cannot lie into the image config. */
  if (is_plain_tar (e.media_type) && strcmp (e.digest, e.diff_id) != 0)
    return bale_make_error (err, 0, "entry %s: an uncompressed layer whose diff_id is not its "
                            "digest", key);
  memset (out, 0, sizeof *out);
  memcpy (out->k.key, key, DIGEST_STRLEN + 1);
  out->k.e = e;
  out->layer = (size_t) json_integer_value (layer);
  return 0;
}

int
cache_artifact_parse (const char *json, size_t len, size_t n_layers,
                      struct cache_artifact_entry **out, size_t *n, bale_error_t *err)
{
  json_error_t jerr;
  json_t *doc = json_loadb (json, len, 0, &jerr), *list = json_object_get (doc, "entries"), *j;
  struct cache_artifact_entry *v;
  size_t i;

  *out = NULL;
  *n = 0;
  if (doc == NULL)
    return bale_make_error (err, 0, "invalid cache config: %s", jerr.text);
  if (!json_is_array (list))
    {
      json_decref (doc);
      return bale_make_error (err, 0, "invalid cache config: no \"entries\" list");
    }
  v = xcalloc (json_array_size (list) + 1, sizeof *v);
  json_array_foreach (list, i, j)
    if (parse_entry (j, n_layers, &v[i], err) < 0)
      {
        free (v);
        json_decref (doc);
        return bale_error_wrap (err, "invalid cache config: entry %zu", i);
      }
  *out = v;
  *n = json_array_size (list);
  json_decref (doc);
  return 0;
}

int
cache_artifact_mounts (const char *json, size_t len, size_t n_layers,
                       struct cache_artifact_mount **out, size_t *n, bale_error_t *err)
{
  json_t *doc = json_loadb (json, len, 0, NULL), *list = json_object_get (doc, "mounts"), *j;
  struct cache_artifact_mount *v;
  size_t i;

  *out = NULL;
  *n = 0;
  if (!doc)
    return bale_make_error (err, 0, "invalid cache config");
  v = xcalloc (json_array_size (list) + 1, sizeof *v);
  json_array_foreach (list, i, j)
    {
      const char *id = json_string_value (json_object_get (j, "id"));
      const char *digest = json_string_value (json_object_get (j, "digest"));
      json_t *layer = json_object_get (j, "layer"), *size = json_object_get (j, "size");
      if (!cache_mount_id_valid (id) || !digest || !digest_is_valid (digest)
          || !json_is_integer (layer) || json_integer_value (layer) < 0
          || (size_t) json_integer_value (layer) >= n_layers || !json_is_integer (size)
          || json_integer_value (size) < 0)
        {
          free (v);
          json_decref (doc);
          return bale_make_error (err, 0, "invalid cache config: cache mount %zu", i);
        }
      snprintf (v[i].id, sizeof v[i].id, "%s", id);
      memcpy (v[i].digest, digest, DIGEST_STRLEN + 1);
      v[i].size = json_integer_value (size);
      v[i].layer = (size_t) json_integer_value (layer);
    }
  *out = v;
  *n = json_array_size (list);
  json_decref (doc);
  return 0;
}

/* ---- export -------------------------------------------------------------------------------- */

int
cache_export_registry (struct store *s, const char *ref, const struct cache_keyed *entries,
                       size_t n, const struct cache_mount_blob *mounts, size_t n_mounts,
                       const char *mount_from, const struct registry_opts *opts,
                       char out_digest[DIGEST_STRLEN + 1], bale_error_t *err)
{
  struct store_layer *layers = xcalloc (n + n_mounts + 2, sizeof *layers);
  char inputs_digest[DIGEST_STRLEN + 1] = "";
  int64_t inputs_size = 0;
  size_t *layer_of = xcalloc (n + 1, sizeof *layer_of);
  size_t n_layers = 0, i, j, len;
  char config[DIGEST_STRLEN + 1];
  cleanup_free char *text = NULL;
  json_t *doc;
  int ret;

  /* One layer per blob: two keys (a step in two Dockerfiles) often share a layer. */
  for (i = 0; i < n; i++)
    {
      for (j = 0; j < n_layers && strcmp (layers[j].digest, entries[i].e.digest) != 0; j++)
        ;
      if (j == n_layers)
        layers[n_layers++] = (struct store_layer){ (char *) entries[i].e.digest,
                                                   (char *) entries[i].e.media_type,
                                                   entries[i].e.size };
      layer_of[i] = j;
    }
  /* Cache mounts after the entries' layers, one each (their tars are never an entry's). */
  for (i = 0; i < n_mounts; i++)
    layers[n_layers + i] = (struct store_layer){ (char *) mounts[i].digest, (char *) OCI_MT_LAYER_TAR,
                                                 mounts[i].size };
  doc = config_json (entries, n, layer_of, mounts, n_mounts, n_layers);
  n_layers += n_mounts;
  /* The entries' inputs, so that an importer's misses can say why: the last layer. */
  ret = cache_inputs_pack (s, entries, n, inputs_digest, &inputs_size, err);
  if (ret == 0 && *inputs_digest)
    {
      json_object_set_new (doc, "inputs", json_pack ("{s:I,s:s,s:I}", "layer", (json_int_t) n_layers,
                                                     "digest", inputs_digest, "size",
                                                     (json_int_t) inputs_size));
      layers[n_layers++] = (struct store_layer){ inputs_digest, (char *) OCI_MT_LAYER_TAR, inputs_size };
    }
  text = ret == 0 ? canonjson_dumps (doc, &len, err) : NULL;
  json_decref (doc);
  /* The config is a store blob for the push to read; nothing names it, so the next gc
     collects it (not before the push ends: the transaction holds gc off). */
  ret = text && store_txn_begin (s, err) == 0 ? 0 : -1;
  if (ret == 0)
    {
      ret = store_blob_put (s, text, len, config, err);
      if (ret == 0)
        ret = registry_push_artifact (s, ref, CACHE_ARTIFACT_TYPE, CACHE_CONFIG_TYPE, config,
                                      layers, n_layers, mount_from, opts, out_digest, err);
      store_txn_end (s);
    }
  free (layers);
  free (layer_of);
  return ret;
}

/* ---- import -------------------------------------------------------------------------------- */

struct import
{
  struct store *s;
  struct cache_artifact_entry *entries;
  size_t n;
  bool *take; /* entries[i] is new to the store */
  struct cache_artifact_mount *mounts;
  size_t n_mounts;
  bool *take_mount; /* mounts[i] is new to the store */
  /* The entries' inputs (cache_inputs.h), taken with new entries. */
  char inputs_digest[DIGEST_STRLEN + 1];
  int64_t inputs_size;
  size_t inputs_layer;
  bool take_inputs;
};

static int
choose_layers (void *ctx, json_t *manifest, const char *config, bool *wanted, bale_error_t *err)
{
  struct import *im = ctx;
  size_t n_layers = json_array_size (json_object_get (manifest, "layers")), i, len;
  cleanup_free char *text = NULL;

  if (store_blob_read (im->s, config, MAX_CONFIG, &text, &len, err) < 0
      || cache_artifact_parse (text, len, n_layers, &im->entries, &im->n, err) < 0)
    return -1;
  if (cache_artifact_mounts (text, len, n_layers, &im->mounts, &im->n_mounts, err) < 0)
    return -1;
  im->take_mount = xcalloc (im->n_mounts + 1, sizeof *im->take_mount);
  for (i = 0; i < im->n_mounts; i++)
    if (!cache_mount_exists (im->s, im->mounts[i].id))
      im->take_mount[i] = true; /* streamed into place after the pull (import_mount) */
  im->take = xcalloc (im->n + 1, sizeof *im->take);
  for (i = 0; i < im->n; i++)
    {
      struct cache_entry have;
      const struct cache_artifact_entry *a = &im->entries[i];

      if (cache_lookup (im->s, a->k.key, &have) == 1)
        continue;
      im->take[i] = true;
      if (!store_blob_exists (im->s, a->k.e.digest))
        wanted[a->layer] = true;
      im->take_inputs = true;
    }
  {
    /* Optional, and from a bale that wrote it: one that makes no sense is left alone. */
    json_t *doc = json_loadb (text, len, 0, NULL), *in = json_object_get (doc, "inputs");
    const char *d = json_string_value (json_object_get (in, "digest"));
    json_int_t layer = json_integer_value (json_object_get (in, "layer"));
    if (im->take_inputs && d && digest_is_valid (d) && layer >= 0 && (size_t) layer < n_layers
        && json_integer_value (json_object_get (in, "size")) > 0)
      {
        memcpy (im->inputs_digest, d, DIGEST_STRLEN + 1);
        im->inputs_size = json_integer_value (json_object_get (in, "size"));
        im->inputs_layer = (size_t) layer;
        wanted[layer] = true;
      }
    else
      im->take_inputs = false;
    json_decref (doc);
  }
  return 0;
}

/* Decompress the stored blob `from` into a blob that must hash to e->digest and be e->size
   bytes long (a bomb stops at that size). libarchive's raw format with gzip and zstd only,
   in-process. */
static int
unpack_layer (struct store *s, const char *from, const struct cache_entry *e, bale_error_t *err)
{
  cleanup_close int fd = store_blob_open (s, from, err);
  struct archive *a = NULL;
  struct archive_entry *ae;
  struct store_blob_writer *w = NULL;
  char buf[1 << 16];
  la_ssize_t got;
  int ret = fd < 0 ? -1 : 0;

  if (ret == 0)
    {
      a = layer_reader_new (0, err);
      if (a == NULL)
        ret = -1;
      else if (archive_read_support_format_raw (a) != ARCHIVE_OK
          || archive_read_open_fd (a, fd, sizeof buf) != ARCHIVE_OK
          || archive_read_next_header (a, &ae) != ARCHIVE_OK)
        ret = bale_make_error (err, 0, "layer %s: %s", from, archive_error_string (a));
    }
  if (ret == 0 && (w = store_blob_writer_new (s, err)) == NULL)
    ret = -1;
  while (ret == 0 && (got = archive_read_data (a, buf, sizeof buf)) != 0)
    {
      if (got < 0)
        ret = bale_make_error (err, 0, "layer %s: %s", from, archive_error_string (a));
      else if (store_blob_writer_size (w) + got > e->size)
        ret = bale_make_error (err, 0, "layer %s unpacks to more than the %lld bytes of %s", from,
                               (long long) e->size, e->digest);
      else
        ret = store_blob_writer_write (w, buf, (size_t) got, err);
    }
  if (a)
    archive_read_free (a);
  if (ret < 0)
    {
      store_blob_writer_abort (w);
      return -1;
    }
  return store_blob_writer_commit (w, e->digest, NULL, err);
}

/* The registry has this entry's layer compressed as desc says: note it in known[*n], so that
   a push of an image with the layer (the same build on this runner) skips it without
   compressing it first. */
static void
note_compressed (const struct cache_artifact_entry *a, json_t *desc, struct registry_known *known,
                 size_t *n)
{
  const char *digest = json_string_value (json_object_get (desc, "digest"));
  const char *mt = json_string_value (json_object_get (desc, "mediaType"));
  json_t *size = json_object_get (desc, "size");
  enum registry_compression c;

  if (!digest || !mt || !json_is_integer (size) || strcmp (digest, a->k.e.digest) == 0)
    return;
  if (strcmp (mt, OCI_MT_LAYER_GZIP) == 0)
    c = REGISTRY_COMPRESS_GZIP;
  else if (strcmp (mt, OCI_MT_LAYER_ZSTD) == 0)
    c = REGISTRY_COMPRESS_ZSTD;
  else
    return;
  known[(*n)++] = (struct registry_known){ a->k.e.digest, c, digest, json_integer_value (size) };
}

/* A cache mount's blob streams from the registry through a pipe into the unpacker: never
   written to the store (nor fsync'ed there), which made an import of a 200 MB mount take
   twice the registry's time and more (bench/cache_mount.sh). */
struct mount_fetch
{
  const char *ref, *digest;
  int64_t size;
  const struct registry_opts *opts;
  int fd; /* the pipe's write end, closed by the fetcher */
  bale_error_t err;
  int ret;
};

static void *
fetch_mount (void *arg)
{
  struct mount_fetch *f = arg;

  f->ret = registry_blob_stream (f->ref, f->digest, f->size, f->opts, f->fd, &f->err);
  close (f->fd);
  return NULL;
}

static int
import_mount (struct store *s, const char *ref, const struct cache_artifact_mount *m,
              json_t *layer, const struct registry_opts *opts, bale_error_t *err)
{
  struct mount_fetch f = { .ref = ref, .opts = opts };
  int fds[2], ret;
  pthread_t tid;

  f.digest = json_string_value (json_object_get (layer, "digest"));
  f.size = json_integer_value (json_object_get (layer, "size"));
  if (!f.digest || !digest_is_valid (f.digest) || f.size < 0)
    return bale_make_error (err, 0, "cache mount %s: invalid layer descriptor", m->id);
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return bale_make_error (err, errno, "cache mount %s: pipe", m->id);
  f.fd = fds[1];
  if (pthread_create (&tid, NULL, fetch_mount, &f) != 0)
    {
      close (fds[0]);
      close (fds[1]);
      return bale_make_error (err, errno, "cache mount %s: cannot start the download", m->id);
    }
  /* The tar must hash to the mount's digest and stop at its size. Whatever the unpacker left
     unread is drained, so the fetcher never blocks on a full pipe, nor writes to a closed one
     (SIGPIPE). */
  ret = cache_mount_unpack (s, m->id, fds[0], m->digest, m->size, err);
  {
    char buf[65536];
    ssize_t n;
    while ((n = read (fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      ;
  }
  close (fds[0]);
  pthread_join (tid, NULL);
  if (f.ret < 0)
    {
      /* A broken download also breaks the tar, which the unpacker refused; say why. */
      bale_error_release (err);
      bale_error_join (err, &f.err);
      return -1;
    }
  return ret;
}

int
cache_import_registry (struct store *s, const char *ref, const struct registry_opts *opts,
                       size_t *imported, size_t *mounts_imported, bale_error_t *err)
{
  struct import im = { .s = s };
  json_t *manifest = NULL, *layers;
  struct registry_known *known;
  size_t i, n_known = 0;
  int ret;

  *imported = 0;
  *mounts_imported = 0;
  /* The downloaded layers are nameless until the entries name their unpacked forms: a
     concurrent gc must wait. */
  if (store_txn_begin (s, err) < 0)
    return -1;
  ret = registry_pull_artifact (s, ref, CACHE_ARTIFACT_TYPE, choose_layers, &im, opts, &manifest,
                                err);
  layers = json_object_get (manifest, "layers");
  known = xcalloc (im.n + 1, sizeof *known);
  for (i = 0; ret == 0 && i < im.n; i++)
    {
      const struct cache_artifact_entry *a = &im.entries[i];
      const char *sent = json_string_value (json_object_get (json_array_get (layers, a->layer),
                                                             "digest"));

      if (!im.take[i])
        continue;
      /* Compressed for the transfer: the entry's own blob is what the bytes unpack to. */
      if (!store_blob_exists (s, a->k.e.digest) && (ret = unpack_layer (s, sent, &a->k.e, err)) < 0)
        bale_error_wrap (err, "cache '%s': entry %s", ref, a->k.key);
      else if ((ret = cache_record (s, a->k.key, &a->k.e, err)) == 0)
        {
          (*imported)++;
          note_compressed (a, json_array_get (layers, a->layer), known, &n_known);
        }
    }
  for (i = 0; ret == 0 && i < im.n_mounts; i++)
    {
      const struct cache_artifact_mount *m = &im.mounts[i];
      if (!im.take_mount[i])
        continue;
      if (import_mount (s, ref, m, json_array_get (layers, m->layer), opts, err) < 0)
        ret = bale_error_wrap (err, "cache '%s'", ref);
      else
        (*mounts_imported)++;
    }
  if (ret == 0 && im.take_inputs)
    {
      /* Only makes misses say more: a failure is no failure of the import. */
      const char *sent = json_string_value (json_object_get (json_array_get (layers, im.inputs_layer),
                                                             "digest"));
      bale_error_t ignored = NULL;
      cleanup_close int fd = sent ? store_blob_open (s, sent, &ignored) : -1;
      if (fd >= 0)
        cache_inputs_unpack (s, fd, im.inputs_digest, im.inputs_size, &ignored);
      bale_error_release (&ignored);
    }
  if (ret == 0)
    registry_push_remember (s, known, n_known);
  free (known);
  store_txn_end (s);
  json_decref (manifest);
  free (im.entries);
  free (im.take);
  free (im.mounts);
  free (im.take_mount);
  return ret;
}
