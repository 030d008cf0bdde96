/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pushing an image: compress layers, skip or mount what the registry has, upload, PUT the manifest. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/layer.h"
#include "runtime/registry/registry.h"
#include "common/banned.h"

#define DOCKER_MT_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define DOCKER_MT_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DEFAULT_CHUNK (64 * 1024 * 1024)
/* A layer compressed during its upload: the compressor waits while this much of it waits to
   be sent (beside as much being sent). */
#define STREAM_BUFFER (4 * 1024 * 1024)

struct push_blob
{
  char digest[DIGEST_STRLEN + 1]; /* what the registry gets */
  int64_t size;
  const char *media_type; /* the new one, when compressed; else NULL */
  const char *stored;     /* the store's blob (borrowed from the image) */
  bool stream;            /* compressed while it is uploaded: digest and size come at the end */
  bool present;           /* the registry has it: nothing to upload */
  bool mounted;           /* ... because it was mounted from p->mount_from */
  struct meter meter;     /* the bytes sent (registry_opts.progress) */
};

struct push
{
  struct store *s;
  const struct registry_opts *opts;
  struct registry_conn *conn;
  struct oci_ref ref;
  char *scope, *repo;
  char *mount_from; /* a repository of the same registry known to hold the image */
  struct store_image img;
  struct push_blob *blobs; /* the layers, then the config */
  size_t n_blobs;
  /* "<stored digest> <compression>" → {digest, size} of its compressed form, kept in the store
     (push-cache.json) so that a push of what the registry has needs no compression. */
  json_t *cache;
  bool cache_dirty;
  pthread_mutex_t cache_lock;
};

/* ---- compression ------------------------------------------------------------------------- */

static enum layer_compression
layer_compression_of (enum registry_compression c)
{
  switch (c)
    {
    case REGISTRY_COMPRESS_ZSTD:
      return LAYER_COMPRESSION_ZSTD;
    case REGISTRY_COMPRESS_NONE:
      return LAYER_COMPRESSION_NONE;
    case REGISTRY_COMPRESS_GZIP_SINGLE:
      return LAYER_COMPRESSION_GZIP_SINGLE;
    case REGISTRY_COMPRESS_GZIP:
    default:
      return LAYER_COMPRESSION_GZIP;
    }
}

static const char *
compressed_type (const char *mt, enum registry_compression c)
{
  bool docker = strcmp (mt, DOCKER_MT_LAYER_TAR) == 0;

  if (c == REGISTRY_COMPRESS_NONE || (!docker && strcmp (mt, OCI_MT_LAYER_TAR) != 0))
    return NULL;
  if (c == REGISTRY_COMPRESS_ZSTD)
    return OCI_MT_LAYER_ZSTD; /* Docker has no zstd type (oci-formats.md §6) */
  return docker ? DOCKER_MT_LAYER_GZIP : OCI_MT_LAYER_GZIP;
}

static const char *const compression_names[] = { "gzip", "zstd", "none", "gzip-single" };

/* The compressed form of b remembered from an earlier push; false when there is none. */
static bool
cache_get (struct push *p, struct push_blob *b)
{
  cleanup_free char *key = xasprintf ("%s %s", b->stored, compression_names[p->opts->compression]);
  json_t *e;
  const char *d;
  bool found = false;

  pthread_mutex_lock (&p->cache_lock);
  e = json_object_get (p->cache, key);
  d = json_string_value (json_object_get (e, "digest"));
  if (d && digest_is_valid (d) && json_integer_value (json_object_get (e, "size")) > 0)
    {
      memcpy (b->digest, d, DIGEST_STRLEN + 1);
      b->size = json_integer_value (json_object_get (e, "size"));
      found = true;
    }
  pthread_mutex_unlock (&p->cache_lock);
  return found;
}

static void
cache_put (struct push *p, const struct push_blob *b)
{
  cleanup_free char *key = xasprintf ("%s %s", b->stored, compression_names[p->opts->compression]);

  pthread_mutex_lock (&p->cache_lock);
  json_object_set_new (p->cache, key, json_pack ("{s:s,s:I}", "digest", b->digest, "size",
                                                 (json_int_t) b->size));
  p->cache_dirty = true;
  pthread_mutex_unlock (&p->cache_lock);
}

static int head_blob (struct push *p, const char *digest, bale_error_t *err);
static int try_mount (struct push *p, const char *digest, bale_error_t *err);

static int
prepare_job (void *ctx, size_t i, bale_error_t *err)
{
  struct push *p = ctx;
  struct push_blob *b = &p->blobs[i];
  int r;

  if (b->media_type == NULL)
    return 0;
  /* Compressing only to learn that the registry has the result is the slow part of a repeated
     push: ask for the digest an earlier push computed first. */
  if (cache_get (p, b))
    {
      if ((r = head_blob (p, b->digest, err)) == 0 && p->mount_from)
        b->mounted = (r = try_mount (p, b->digest, err)) > 0;
      if (r != 0)
        {
          b->present = r > 0;
          return r < 0 ? -1 : 0;
        }
    }
  /* Compressed during the upload (upload_job), in one pass: no temporary file. */
  b->stream = true;
  return 0;
}

/* ---- uploads ------------------------------------------------------------------------------ */

static char *
blob_url (struct push *p, const char *tail)
{
  return xasprintf ("%s/v2/%s/blobs/%s", registry_conn_base (p->conn), p->ref.path, tail);
}

/* One request of the push protocol; status must be one of want (0-terminated). what and
   subject ("PATCH", "blob sha256:…") make the error message. */
static int
request (struct push *p, struct http_request *req, struct http_response *resp, const long *want,
         const char *what, const char *subject, bale_error_t *err)
{
  cleanup_free char *m = xasprintf ("%s of %s to '%s'", what, subject, p->repo);
  const long *w;

  if (registry_do (p->conn, p->scope, req, resp, err) < 0)
    return bale_error_wrap (err, "%s", m);
  for (w = want; *w; w++)
    if (resp->status == *w)
      return 0;
  return registry_http_error (m, resp, err);
}

/* The Location of an answer resolved against the request; NULL with an error. */
static char *
location (struct push *p, const struct http_response *resp, const char *digest, bale_error_t *err)
{
  const char *loc = http_response_header (resp, "Location");

  if (loc == NULL)
    {
      bale_make_error (err, 0, "upload of blob %s to '%s': no Location in the answer", digest,
                       p->repo);
      return NULL;
    }
  return http_url_resolve (resp->url, loc, err);
}

/* 1 when the registry has the blob, 0 when not, -1 on an error. */
static int
head_blob (struct push *p, const char *digest, bale_error_t *err)
{
  static const long ok_head[] = { 200, 404, 0 };
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  cleanup_free char *url = blob_url (p, digest);
  int ret;

  req.method = "HEAD";
  req.url = url;
  ret = request (p, &req, &resp, ok_head, "HEAD", digest, err);
  if (ret == 0 && resp.status == 200)
    ret = 1;
  http_response_release (&resp);
  return ret;
}

/* POST an upload session, or a mount from p->mount_from when there is one: 2 when mounted,
   0 with *loc the session to upload to, -1 on an error. */
static int
post_upload (struct push *p, const char *digest, bool mount, char **loc, bale_error_t *err)
{
  static const long ok_mount[] = { 201, 202, 0 }, ok_post[] = { 202, 0 };
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  cleanup_free char *url = NULL;
  int ret;

  req.method = "POST";
  mount = mount && p->mount_from;
  if (mount)
    url = xasprintf ("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", registry_conn_base (p->conn),
                     p->ref.path, digest, p->mount_from);
  else
    url = blob_url (p, "uploads/");
  req.url = url;
  ret = request (p, &req, &resp, mount ? ok_mount : ok_post, mount ? "mount" : "start of upload",
                 digest, err);
  /* 202 to a mount request: not mounted, but an upload session was opened (spec §9.2). */
  if (ret == 0 && resp.status == 201)
    ret = 2;
  else if (ret == 0 && (*loc = location (p, &resp, digest, err)) == NULL)
    ret = -1;
  http_response_release (&resp);
  return ret;
}

/* 1 when the registry has the blob, 2 when it was mounted, 0 with *loc the upload session
   to use, -1 on an error. */
static int
start_upload (struct push *p, const char *digest, char **loc, bale_error_t *err)
{
  int ret = head_blob (p, digest, err);

  return ret != 0 ? ret : post_upload (p, digest, true, loc, err);
}

/* Mount digest from p->mount_from: 1 when mounted, 0 when the registry declined (the upload
   session it opened instead is dropped), -1 on an error. */
static int
try_mount (struct push *p, const char *digest, bale_error_t *err)
{
  static const long ok_delete[] = { 200, 202, 204, 404, 0 };
  cleanup_free char *loc = NULL;
  int ret = post_upload (p, digest, true, &loc, err);

  if (ret == 0 && loc)
    {
      struct http_request del = HTTP_REQUEST_INIT;
      struct http_response resp;
      bale_error_t ignored = NULL;
      /* Best effort: a registry expires abandoned sessions anyway. */
      del.method = "DELETE";
      del.url = loc;
      request (p, &del, &resp, ok_delete, "DELETE", digest, &ignored);
      http_response_release (&resp);
      bale_error_release (&ignored);
    }
  return ret == 2 ? 1 : ret;
}

static char *
with_digest (const char *loc, const char *digest)
{
  /* The Location may already carry a query (distribution's _state), so append. */
  return xasprintf ("%s%cdigest=sha256%%3A%s", loc, strchr (loc, '?') ? '&' : '?',
                    digest_hex (digest));
}

/* PATCH n bytes at offset off of the upload at *loc, from body (in memory) or else from fd;
   *loc follows the registry's new Location. subject names the blob in errors. */
static int
patch_one (struct push *p, const char *subject, char **loc, const void *body, int fd, int64_t off,
           int64_t n, struct meter *m, bale_error_t *err)
{
  static const long ok[] = { 202, 0 };
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  /* No "bytes " prefix, inclusive end (distribution-spec, oci-formats.md §9.2). */
  cleanup_free char *range = xasprintf ("Content-Range: %lld-%lld", (long long) off,
                                        (long long) (off + n - 1));
  const char *hdrs[] = { "Content-Type: application/octet-stream", range, NULL };
  int ret;

  req.method = "PATCH";
  req.url = *loc;
  req.headers = hdrs;
  req.meter = m;
  req.body_offset = off;
  if (body)
    {
      req.body = body;
      req.body_len = (size_t) n;
    }
  else
    {
      req.body_fd = fd;
      req.body_offset = off;
      req.body_size = n;
    }
  ret = request (p, &req, &resp, ok, "PATCH", subject, err);
  if (ret == 0)
    {
      char *next = location (p, &resp, subject, err);
      ret = next ? 0 : -1;
      free (*loc);
      *loc = next;
    }
  http_response_release (&resp);
  return ret;
}

/* PATCH the bytes [0, size) in chunks; *loc follows the registry's new Locations. */
static int
upload_chunks (struct push *p, struct push_blob *b, int fd, int64_t chunk, char **loc,
               bale_error_t *err)
{
  int64_t off;

  for (off = 0; off < b->size; off += chunk)
    if (patch_one (p, b->digest, loc, NULL, fd, off, b->size - off < chunk ? b->size - off : chunk,
                   &b->meter, err)
        < 0)
      return -1;
  return 0;
}

static int
upload (struct push *p, struct push_blob *b, char **loc, bale_error_t *err)
{
  static const long ok[] = { 201, 0 };
  int64_t chunk = p->opts->chunk_size > 0 ? p->opts->chunk_size : DEFAULT_CHUNK;
  cleanup_close int fd = store_blob_open (p->s, b->stored, err);
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  cleanup_free char *url = NULL;
  bool chunked = b->size > chunk;
  int ret;

  if (fd < 0 || (chunked && upload_chunks (p, b, fd, chunk, loc, err) < 0))
    return -1;
  url = with_digest (*loc, b->digest);
  req.method = "PUT";
  req.url = url;
  req.headers = (const char *const[]){ "Content-Type: application/octet-stream", NULL };
  if (!chunked)
    {
      req.body_fd = fd;
      req.body_size = b->size;
      req.meter = &b->meter;
    }
  ret = request (p, &req, &resp, ok, "PUT", b->digest, err);
  http_response_release (&resp);
  return ret;
}

/* ---- compressing while uploading ---------------------------------------------------------- */

/*
 * The compressor (layer_compress_to, on every core) appends to one buffer while a thread of the
 * upload sends the other, so compression, both hashes and the upload overlap in one pass over
 * the stored layer. By default the whole blob goes in one PATCH of unknown length (chunked
 * transfer encoding, as containers/image and docker push send it): the registry takes the bytes
 * as they come, and the compressor never waits for a round trip. With --chunk-size it goes in
 * PATCHes of that size instead, for registries that limit the size of a request. The digest is
 * known at the end only: the final PUT carries it.
 */
struct stream
{
  struct push *p;
  struct push_blob *b;
  char *loc;
  size_t chunk;             /* the size of each PATCH; 0: one streamed PATCH */
  struct strbuf fill, send; /* filling; being sent */
  size_t send_off;          /* streamed: bytes of send given to libcurl */
  int64_t sent;             /* chunked: bytes PATCHed before send */
  bool busy;                /* chunked: send holds a chunk to PATCH */
  bool done, failed;        /* the compressor finished; it failed (the upload is aborted) */
  bool quit;                /* the sender finished */
  bale_error_t err;         /* the sender's failure */
  pthread_mutex_t lock;
  pthread_cond_t cond; /* any of the above changed */
};

/* The streamed PATCH's body (libcurl's read callback): the compressed bytes as they come. */
static ssize_t
stream_source (void *ctx, void *buf, size_t len)
{
  struct stream *st = ctx;
  size_t n;

  if (st->send_off == st->send.len)
    {
      struct strbuf t;

      pthread_mutex_lock (&st->lock);
      while (st->fill.len == 0 && !st->done)
        pthread_cond_wait (&st->cond, &st->lock);
      if (st->failed)
        {
          pthread_mutex_unlock (&st->lock);
          return -1;
        }
      t = st->send;
      st->send = st->fill;
      st->fill = t;
      strbuf_reset (&st->fill);
      st->send_off = 0;
      pthread_cond_broadcast (&st->cond);
      pthread_mutex_unlock (&st->lock);
      if (st->send.len == 0)
        return 0; /* done, and everything sent */
    }
  n = st->send.len - st->send_off < len ? st->send.len - st->send_off : len;
  memcpy (buf, st->send.buf + st->send_off, n);
  st->send_off += n;
  return (ssize_t) n;
}

/* The whole blob in one PATCH; *loc follows the registry's new Location. */
static int
patch_stream (struct stream *st, bale_error_t *err)
{
  static const long ok[] = { 202, 0 };
  const char *hdrs[] = { "Content-Type: application/octet-stream", NULL };
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  int ret;

  req.method = "PATCH";
  req.url = st->loc;
  req.headers = hdrs;
  req.source = stream_source;
  req.source_ctx = st;
  req.meter = &st->b->meter; /* the compressed bytes sent so far */
  ret = request (st->p, &req, &resp, ok, "PATCH", st->b->stored, err);
  if (ret == 0)
    {
      char *next = location (st->p, &resp, st->b->stored, err);
      ret = next ? 0 : -1;
      free (st->loc);
      st->loc = next;
    }
  http_response_release (&resp);
  return ret;
}

static void *
sender (void *arg)
{
  struct stream *st = arg;

  if (st->chunk == 0)
    {
      bale_error_t e = NULL;
      int ret = patch_stream (st, &e);

      pthread_mutex_lock (&st->lock);
      st->err = ret < 0 ? e : NULL;
      st->quit = true;
      pthread_cond_broadcast (&st->cond);
      pthread_mutex_unlock (&st->lock);
      return NULL;
    }
  pthread_mutex_lock (&st->lock);
  for (;;)
    {
      bale_error_t e = NULL;
      int ret;

      while (!st->busy && !st->done)
        pthread_cond_wait (&st->cond, &st->lock);
      if (!st->busy)
        break;
      pthread_mutex_unlock (&st->lock);
      ret = patch_one (st->p, st->b->stored, &st->loc, st->send.buf, -1, st->sent,
                       (int64_t) st->send.len, &st->b->meter, &e);
      pthread_mutex_lock (&st->lock);
      st->sent += (int64_t) st->send.len;
      strbuf_reset (&st->send);
      st->busy = false;
      if (ret < 0)
        {
          st->err = e;
          st->done = true;
        }
      pthread_cond_broadcast (&st->cond);
    }
  st->quit = true;
  pthread_mutex_unlock (&st->lock);
  return NULL;
}

/* Chunked: hand the filled buffer to the sender once it is free. */
static int
stream_flush (struct stream *st, bale_error_t *err)
{
  struct strbuf t;
  int ret = 0;

  pthread_mutex_lock (&st->lock);
  while (st->busy && st->err == NULL)
    pthread_cond_wait (&st->cond, &st->lock);
  if (st->err)
    {
      bale_error_join (err, &st->err);
      ret = -1;
    }
  else
    {
      t = st->send;
      st->send = st->fill;
      st->fill = t;
      st->busy = true;
      pthread_cond_broadcast (&st->cond);
    }
  pthread_mutex_unlock (&st->lock);
  return ret;
}

static int
stream_sink (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  struct stream *st = ctx;
  int ret = 0;

  if (st->chunk)
    {
      strbuf_add (&st->fill, buf, len);
      return st->fill.len >= st->chunk ? stream_flush (st, err) : 0;
    }
  pthread_mutex_lock (&st->lock);
  /* Enough waits to be sent: let the upload catch up rather than hold the whole blob. */
  while (st->fill.len >= STREAM_BUFFER && !st->quit)
    pthread_cond_wait (&st->cond, &st->lock);
  if (st->quit && st->err)
    {
      bale_error_join (err, &st->err);
      ret = -1;
    }
  else if (st->quit)
    ret = bale_make_error (err, 0, "upload of layer %s to '%s': the registry answered before "
                           "the end of the blob", st->b->stored, st->p->repo);
  else
    {
      strbuf_add (&st->fill, buf, len);
      pthread_cond_broadcast (&st->cond);
    }
  pthread_mutex_unlock (&st->lock);
  return ret;
}

static int
stream_upload (struct push *p, struct push_blob *b, bale_error_t *err)
{
  static const long ok[] = { 201, 0 };
  struct stream st = { .p = p, .b = b, .fill = STRBUF_INIT, .send = STRBUF_INIT };
  cleanup_close int in = store_blob_open (p->s, b->stored, err);
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  struct layer_result res;
  cleanup_free char *url = NULL;
  pthread_t tid;
  int ret;

  if (in < 0 || post_upload (p, b->stored, false, &st.loc, err) < 0)
    return -1;
  st.chunk = p->opts->chunk_size > 0 ? (size_t) p->opts->chunk_size : 0;
  pthread_mutex_init (&st.lock, NULL);
  pthread_cond_init (&st.cond, NULL);
  if (pthread_create (&tid, NULL, sender, &st) != 0)
    ret = bale_make_error (err, errno, "cannot start the upload of layer %s", b->stored);
  else
    {
      /* The store's blob is content-addressed: no need to hash it again (10% of the CPU). */
      ret = layer_compress_to (in, layer_compression_of (p->opts->compression), false,
                               stream_sink, &st, &res, err);
      if (ret == 0 && st.chunk && st.fill.len > 0)
        ret = stream_flush (&st, err);
      pthread_mutex_lock (&st.lock);
      st.done = true;
      st.failed = ret < 0;
      pthread_cond_broadcast (&st.cond);
      pthread_mutex_unlock (&st.lock);
      pthread_join (tid, NULL);
      if (st.err)
        {
          /* The compressor saw the sender fail, or the last chunk failed. */
          bale_error_release (err);
          bale_error_join (err, &st.err);
          ret = -2;
        }
    }
  if (ret == 0)
    {
      memcpy (b->digest, res.digest, sizeof b->digest);
      b->size = res.size;
      url = with_digest (st.loc, b->digest);
      req.method = "PUT";
      req.url = url;
      req.headers = (const char *const[]){ "Content-Type: application/octet-stream", NULL };
      ret = request (p, &req, &resp, ok, "PUT", b->digest, err);
      http_response_release (&resp);
    }
  free (st.loc);
  strbuf_release (&st.fill);
  strbuf_release (&st.send);
  pthread_cond_destroy (&st.cond);
  pthread_mutex_destroy (&st.lock);
  if (ret < 0)
    return ret;
  cache_put (p, b);
  registry_log (p->opts, "%s: compressed to %s (%lld bytes) and pushed", b->stored, b->digest,
                (long long) b->size);
  return 0;
}

static int
upload_job (void *ctx, size_t i, bale_error_t *err)
{
  struct push *p = ctx;
  struct push_blob *b = &p->blobs[i];
  cleanup_free char *loc = NULL;
  int ret;

  if (b->stream)
    {
      /* The compressed size is known at the end only. A streamed PATCH cannot be sent
         again: after a failure of the upload (not of the compressor), start the blob over
         once, as containers/image does. */
      registry_meter_start (&b->meter, p->opts, b->stored, 0);
      if ((ret = stream_upload (p, b, err)) == -2 && p->opts->retries != 0)
        {
          registry_log (p->opts, "%s: upload failed, starting it again", b->stored);
          bale_error_release (err);
          registry_meter_start (&b->meter, p->opts, b->stored, 0);
          ret = stream_upload (p, b, err);
        }
      if (ret < 0)
        return -1;
      meter_end (&b->meter, b->size);
      return 0;
    }
  ret = b->present ? 1 : start_upload (p, b->digest, &loc, err);

  if (ret == 1 && b->mounted)
    ret = 2;
  if (ret > 0)
    registry_log (p->opts, "%s: %s%s", b->digest,
                  ret == 1 ? "already in the registry" : "mounted from ",
                  ret == 1 ? "" : p->mount_from);
  if (ret != 0)
    return ret < 0 ? -1 : 0;
  registry_meter_start (&b->meter, p->opts, b->digest, b->size);
  if (upload (p, b, &loc, err) < 0)
    return -1;
  meter_end (&b->meter, b->size);
  registry_log (p->opts, "%s: pushed (%lld bytes)", b->digest, (long long) b->size);
  return 0;
}

/* ---- the manifest ------------------------------------------------------------------------- */

/* The manifest bytes to PUT: the stored ones when no layer changed, else a rewrite. */
static int
manifest_bytes (struct push *p, char **out, size_t *len, bale_error_t *err)
{
  json_t *layers = json_object_get (p->img.manifest_json, "layers");
  bool changed = false;
  size_t i;

  for (i = 0; i < p->img.n_layers; i++)
    {
      json_t *l = json_array_get (layers, i);
      struct push_blob *b = &p->blobs[i];

      if (b->media_type == NULL)
        continue;
      changed = true;
      json_object_set_new (l, "mediaType", json_string (b->media_type));
      json_object_set_new (l, "digest", json_string (b->digest));
      json_object_set_new (l, "size", json_integer (b->size));
    }
  if (!changed && p->img.manifest[0])
    return store_blob_read (p->s, p->img.manifest, REGISTRY_MAX_MANIFEST, out, len, err);
  return (*out = canonjson_dumps (p->img.manifest_json, len, err)) ? 0 : -1;
}

/* PUT a manifest or index to ref (a tag, or NULL for its own digest); out gets its digest. */
static int
put_document (struct push *p, const char *ref, const char *media_type, const char *body,
              size_t len, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  static const long ok[] = { 200, 201, 0 };
  cleanup_free char *ct = xasprintf ("Content-Type: %s", media_type);
  cleanup_free char *url = NULL, *subject = NULL;
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  const char *announced;
  int ret;

  /* The digest of the very bytes sent: the registry must store them unchanged. */
  if (digest_buffer (body, len, out, err) < 0)
    return -1;
  url = xasprintf ("%s/v2/%s/manifests/%s", registry_conn_base (p->conn), p->ref.path,
                   ref ? ref : out);
  subject = xasprintf ("manifest %s", out);
  req.method = "PUT";
  req.url = url;
  req.headers = (const char *const[]){ ct, NULL };
  req.body = body;
  req.body_len = len;
  ret = request (p, &req, &resp, ok, "PUT", subject, err);
  announced = ret == 0 ? http_response_header (&resp, "Docker-Content-Digest") : NULL;
  if (announced && strcmp (announced, out) != 0)
    ret = bale_make_error (err, 0, "registry '%s' stored manifest %s as %s", p->repo, out,
                           announced);
  http_response_release (&resp);
  return ret;
}

/* ---- the whole push ----------------------------------------------------------------------- */

/* Another repository of the same registry that the store knows holds this image. */
static void
find_mount_source (struct push *p, const char *target)
{
  struct store_ref *refs = NULL;
  bale_error_t ignored = NULL;
  size_t n = 0, i;

  if (store_ref_list (p->s, &refs, &n, &ignored) < 0)
    {
      bale_error_release (&ignored);
      return;
    }
  for (i = 0; i < n && p->mount_from == NULL; i++)
    {
      struct oci_ref r;

      if (digest_is_valid (refs[i].name) || oci_ref_parse (refs[i].name, OCI_REF_DIGEST, &r, &ignored) < 0)
        {
          bale_error_release (&ignored);
          continue;
        }
      if (strcmp (r.domain, p->ref.domain) == 0 && strcmp (r.path, p->ref.path) != 0
          && strcmp (refs[i].digest, target) == 0)
        p->mount_from = xstrdup (r.path);
      oci_ref_release (&r);
    }
  store_refs_free (refs, n);
}

static void
plan_blobs (struct push *p)
{
  size_t i;

  p->n_blobs = p->img.n_layers + 1;
  p->blobs = xcalloc (p->n_blobs, sizeof *p->blobs);
  for (i = 0; i < p->n_blobs; i++)
    {
      struct push_blob *b = &p->blobs[i];
      bool config = i == p->img.n_layers;

      b->stored = config ? p->img.config : p->img.layers[i].digest;
      memcpy (b->digest, b->stored, DIGEST_STRLEN + 1);
      b->size = config ? store_blob_size (p->s, p->img.config, NULL) : p->img.layers[i].size;
      b->media_type = config ? NULL
                             : compressed_type (p->img.layers[i].media_type, p->opts->compression);
    }
}

static void
release_image (struct push *p)
{
  free (p->blobs);
  p->blobs = NULL;
  p->n_blobs = 0;
  store_image_release (&p->img);
}

/* Push the blobs of p->img (filled in), then PUT its manifest to ref (NULL: by digest); out
   gets the digest, *len the size. p->img is released. */
static int
push_loaded (struct push *p, const char *ref, char out[DIGEST_STRLEN + 1], size_t *len,
             bale_error_t *err)
{
  const char *mt;
  cleanup_free char *body = NULL;
  int threads = p->opts->parallel > 0 ? p->opts->parallel : 3;
  int ret = 0;

  plan_blobs (p);
  /* Layers to compress are compressed while they upload (upload_job), each on every core. */
  if (registry_parallel (p->img.n_layers, 2, prepare_job, p, err) < 0
      || registry_parallel (p->n_blobs, threads, upload_job, p, err) < 0
      || manifest_bytes (p, &body, len, err) < 0)
    ret = -1;
  mt = json_string_value (json_object_get (p->img.manifest_json, "mediaType"));
  if (ret == 0)
    ret = put_document (p, ref, mt ? mt : OCI_MT_MANIFEST, body, *len, out, err);
  release_image (p);
  return ret;
}

/* Push one image (what: anything store_image_read takes; from an index, the host's manifest)
   and PUT its manifest to ref (NULL: by digest). */
static int
push_image (struct push *p, const char *what, const char *ref, char out[DIGEST_STRLEN + 1],
            size_t *len, bale_error_t *err)
{
  if (store_image_read (p->s, what, NULL, &p->img, err) < 0)
    return -1;
  return push_loaded (p, ref, out, len, err);
}

/* True when every manifest of the index is complete in the store. */
static bool
index_complete (struct push *p, json_t *manifests)
{
  json_t *m;
  size_t i;

  json_array_foreach (manifests, i, m)
    {
      const char *d = json_string_value (json_object_get (m, "digest"));
      bale_error_t ignored = NULL;

      if (d == NULL || !digest_is_valid (d) || store_image_read (p->s, d, NULL, &p->img, &ignored) < 0)
        {
          bale_error_release (&ignored);
          return false;
        }
      store_image_release (&p->img);
    }
  return true;
}

/* Push every image of an index, then the index (rewritten when a manifest changed). */
static int
push_index (struct push *p, const char *target, json_t *index, char out[DIGEST_STRLEN + 1],
            bale_error_t *err)
{
  json_t *manifests = json_object_get (index, "manifests"), *m;
  const char *mt = json_string_value (json_object_get (index, "mediaType"));
  cleanup_free char *body = NULL;
  bool changed = false;
  size_t i, len;

  json_array_foreach (manifests, i, m)
    {
      char d[DIGEST_STRLEN + 1];

      if (push_image (p, json_string_value (json_object_get (m, "digest")), NULL, d, &len, err) < 0)
        return -1;
      if (strcmp (d, json_string_value (json_object_get (m, "digest"))) != 0)
        {
          changed = true;
          json_object_set_new (m, "digest", json_string (d));
          json_object_set_new (m, "size", json_integer ((json_int_t) len));
        }
    }
  if (changed ? (body = canonjson_dumps (index, &len, err)) == NULL
              : store_blob_read (p->s, target, REGISTRY_MAX_MANIFEST, &body, &len, err) < 0)
    return -1;
  return put_document (p, p->ref.tag, mt ? mt : OCI_MT_INDEX, body, len, out, err);
}

static int
push_run (struct push *p, const char *name, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  char target[DIGEST_STRLEN + 1];
  cleanup_free char *buf = NULL;
  json_auto_t *doc = NULL;
  size_t len;

  if (p->ref.tag == NULL)
    return bale_make_error (err, 0, "cannot push to '%s@%s': a tag is required", p->repo,
                            p->ref.digest);
  if (store_resolve (p->s, name, target, err) < 0
      || store_blob_read (p->s, target, REGISTRY_MAX_MANIFEST, &buf, &len, err) < 0)
    return -1;
  find_mount_source (p, target);
  p->scope = p->mount_from ? xasprintf ("repository:%s:pull,push repository:%s:pull", p->ref.path,
                                        p->mount_from)
                           : xasprintf ("repository:%s:pull,push", p->ref.path);
  doc = json_loadb (buf, len, 0, NULL);
  if (!json_is_array (json_object_get (doc, "manifests")))
    return push_image (p, name, p->ref.tag, out, &len, err);
  /* A pull keeps only the host's image of an index: then only that one can be pushed. */
  if (index_complete (p, json_object_get (doc, "manifests")))
    return push_index (p, target, doc, out, err);
  registry_log (p->opts, "%s: not every platform of the index is in the store; pushing this "
                "machine's image only", target);
  return push_image (p, name, p->ref.tag, out, &len, err);
}


static json_t *
cache_load (struct store *s)
{
  cleanup_free char *path = store_area_path (s, STORE_AREA_PUSH_CACHE, NULL);
  json_t *c = json_load_file (path, 0, NULL);

  if (json_is_object (c))
    return c;
  json_decref (c);
  return json_object ();
}

/* Best effort, and atomic: a lost update only costs a compression next time. */
static void
cache_save (struct store *s, json_t *cache)
{
  cleanup_free char *path = store_area_path (s, STORE_AREA_PUSH_CACHE, NULL);
  cleanup_free char *tmp = xasprintf ("%s.%ld", path, (long) getpid ());

  if (json_dump_file (cache, tmp, JSON_COMPACT) < 0 || rename (tmp, path) < 0)
    unlink (tmp);
}

void
registry_push_remember (struct store *s, const struct registry_known *known, size_t n)
{
  json_t *cache;
  size_t i;

  if (n == 0)
    return;
  cache = cache_load (s);
  for (i = 0; i < n; i++)
    {
      cleanup_free char *key = xasprintf ("%s %s", known[i].stored, compression_names[known[i].compression]);
      json_object_set_new (cache, key, json_pack ("{s:s,s:I}", "digest", known[i].digest, "size",
                                                  (json_int_t) known[i].size));
    }
  cache_save (s, cache);
  json_decref (cache);
}

static int
push_open (struct push *p, struct store *s, const char *dest, const struct registry_opts *opts,
           bale_error_t *err)
{
  static const struct registry_opts defaults = { .retries = -1 };

  p->s = s;
  p->opts = opts ? opts : &defaults;
  pthread_mutex_init (&p->cache_lock, NULL);
  p->cache = cache_load (s);
  if (oci_ref_parse (dest, OCI_REF_DIGEST, &p->ref, err) < 0)
    return -1;
  p->repo = xasprintf ("%s/%s", p->ref.domain, p->ref.path);
  p->conn = registry_conn_new (p->ref.domain, p->opts, err);
  return p->conn ? 0 : -1;
}

static int
push_close (struct push *p, int ret, bale_error_t *err)
{
  if (p->cache_dirty)
    cache_save (p->s, p->cache);
  json_decref (p->cache);
  pthread_mutex_destroy (&p->cache_lock);
  if (ret < 0)
    bale_error_wrap (err, "push to '%s'", p->repo ? p->repo : "?");
  registry_conn_free (p->conn);
  oci_ref_release (&p->ref);
  free (p->scope);
  free (p->repo);
  free (p->mount_from);
  return ret;
}

int
registry_push (struct store *s, const char *name, const char *dest,
               const struct registry_opts *opts, char out_digest[DIGEST_STRLEN + 1],
               bale_error_t *err)
{
  struct push p = { 0 };
  int ret = push_open (&p, s, dest ? dest : name, opts, err);

  if (ret == 0)
    ret = push_run (&p, name, out_digest, err);
  return push_close (&p, ret, err);
}

int
registry_push_artifact (struct store *s, const char *dest, const char *artifact_type,
                        const char *config_type, const char *config,
                        const struct store_layer *layers, size_t n_layers, const char *mount_from,
                        const struct registry_opts *opts, char out_digest[DIGEST_STRLEN + 1],
                        bale_error_t *err)
{
  struct push p = { 0 };
  json_t *jl;
  size_t i, len;
  int ret = push_open (&p, s, dest, opts, err);

  if (ret == 0 && p.ref.tag == NULL)
    ret = bale_make_error (err, 0, "cannot push to '%s@%s': a tag is required", p.repo,
                           p.ref.digest);
  if (ret < 0)
    return push_close (&p, ret, err);
  if (mount_from)
    {
      struct oci_ref m;
      bale_error_t ignored = NULL;
      /* A mount is only a shortcut: a source that is not a reference is ignored. */
      if (oci_ref_parse (mount_from, OCI_REF_DIGEST, &m, &ignored) == 0)
        {
          if (strcmp (m.domain, p.ref.domain) == 0 && strcmp (m.path, p.ref.path) != 0)
            p.mount_from = xstrdup (m.path);
          oci_ref_release (&m);
        }
      bale_error_release (&ignored);
    }
  p.scope = p.mount_from ? xasprintf ("repository:%s:pull,push repository:%s:pull", p.ref.path,
                                      p.mount_from)
                         : xasprintf ("repository:%s:pull,push", p.ref.path);
  /* The manifest is built here and the layers' descriptors are rewritten as they are
     compressed; nothing of it is in the store (p.img.manifest stays empty). */
  jl = json_array ();
  p.img.layers = xcalloc (n_layers + 1, sizeof *p.img.layers);
  p.img.diff_ids = xcalloc (n_layers + 1, sizeof *p.img.diff_ids); /* none: not an image */
  for (i = 0; i < n_layers; i++)
    {
      p.img.layers[i].digest = xstrdup (layers[i].digest);
      p.img.layers[i].media_type = xstrdup (layers[i].media_type);
      p.img.layers[i].size = layers[i].size;
      json_array_append_new (jl, json_pack ("{s:s,s:s,s:I}", "mediaType", layers[i].media_type,
                                            "digest", layers[i].digest, "size",
                                            (json_int_t) layers[i].size));
    }
  p.img.n_layers = n_layers;
  memcpy (p.img.config, config, DIGEST_STRLEN + 1);
  p.img.manifest_json = json_pack ("{s:i,s:s,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2,
                                   "mediaType", OCI_MT_MANIFEST, "artifactType", artifact_type,
                                   "config", "mediaType", config_type, "digest", config, "size",
                                   (json_int_t) store_blob_size (s, config, NULL), "layers", jl);
  ret = push_loaded (&p, p.ref.tag, out_digest, &len, err);
  return push_close (&p, ret, err);
}
