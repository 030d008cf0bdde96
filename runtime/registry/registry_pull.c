/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pulling an image: manifest negotiation, platform choice, verified parallel blob downloads. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/oci/platmatch.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/registry/registry.h"
#include "common/banned.h"

#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
/* containerd's Accept list, less its catch-all, so that no registry answers with schema1. */
#define ACCEPT_MANIFESTS                                                                           \
  "Accept: " OCI_MT_MANIFEST ", " OCI_MT_INDEX ", " DOCKER_MT_MANIFEST ", " DOCKER_MT_LIST
/* A blob download broken in the middle starts again this many times. */
#define BLOB_ATTEMPTS 3

struct pull
{
  struct store *s;
  const struct registry_opts *opts;
  struct registry_conn *conn;
  struct oci_ref ref;
  char *scope;
  char *repo; /* "domain/path", for messages */
  /* The store is not thread-safe: writers are created and committed under this lock. */
  pthread_mutex_t store_lock;
  json_t *layers; /* borrowed from the manifest */
  bool *wanted;   /* of an artifact: the layers to fetch (NULL: all) */
  bool in_txn;
};

/* A fetched manifest or index. */
struct doc
{
  struct strbuf body;
  char digest[DIGEST_STRLEN + 1];
  const char *media_type; /* one of the four macros above, static */
  json_t *json;
};

static void
doc_release (struct doc *d)
{
  strbuf_release (&d->body);
  json_decref (d->json);
  d->json = NULL;
}

static const char *
known_type (const char *mt)
{
  static const char *const types[]
      = { OCI_MT_MANIFEST, OCI_MT_INDEX, DOCKER_MT_MANIFEST, DOCKER_MT_LIST };
  size_t i;

  for (i = 0; mt && i < sizeof types / sizeof types[0]; i++)
    if (strcmp (mt, types[i]) == 0)
      return types[i];
  return NULL;
}

static bool
is_index_type (const char *mt)
{
  return strcmp (mt, OCI_MT_INDEX) == 0 || strcmp (mt, DOCKER_MT_LIST) == 0;
}

/* Content-Type without parameters. */
static char *
bare_content_type (const struct http_response *resp)
{
  const char *ct = http_response_header (resp, "Content-Type");

  return ct ? xstrndup (ct, strcspn (ct, "; \t")) : NULL;
}

/*
 * What the document is, from its mediaType and the Content-Type; they must agree when both are
 * there, and a document cannot be both a manifest and an index (CVE-2021-41190).
 */
static int
check_doc_type (struct pull *p, const char *what, const struct http_response *resp,
                struct doc *d, bale_error_t *err)
{
  cleanup_free char *ct = bare_content_type (resp);
  const char *mt = json_string_value (json_object_get (d->json, "mediaType"));

  if (mt && ct && known_type (ct) && strcmp (mt, ct) != 0)
    return bale_make_error (err, 0, "%s@%s: mediaType '%s' differs from Content-Type '%s'",
                            p->repo, what, mt, ct);
  d->media_type = known_type (mt ? mt : ct);
  if (d->media_type == NULL)
    return bale_make_error (err, 0, "%s@%s: unsupported manifest type '%s'", p->repo, what,
                            mt ? mt : ct ? ct : "(none)");
  if (json_object_get (d->json, "layers") && json_object_get (d->json, "manifests"))
    return bale_make_error (err, 0, "%s@%s: ambiguous document with both layers and manifests",
                            p->repo, what);
  if (json_integer_value (json_object_get (d->json, "schemaVersion")) != 2)
    return bale_make_error (err, 0, "%s@%s: schemaVersion is not 2", p->repo, what);
  return 0;
}

/* The digest of the body must be the one asked for, or the one the registry announced. */
static int
check_doc_digest (struct pull *p, const char *what, const char *expected,
                  const struct http_response *resp, struct doc *d, bale_error_t *err)
{
  const char *announced = http_response_header (resp, "Docker-Content-Digest");

  if (digest_buffer (d->body.buf, d->body.len, d->digest, err) < 0)
    return -1;
  if (expected && strcmp (expected, d->digest) != 0)
    return bale_make_error (err, 0, "%s@%s: registry sent a manifest with digest %s", p->repo,
                            expected, d->digest);
  /* Only sha256 is implemented; another algorithm cannot be checked, so it is ignored. */
  if (announced && strncmp (announced, "sha256:", 7) == 0 && strcmp (announced, d->digest) != 0)
    return bale_make_error (err, 0, "%s:%s: Docker-Content-Digest %s does not match the manifest "
                            "received (%s)", p->repo, what, announced, d->digest);
  return 0;
}

static int
fetch_doc (struct pull *p, const char *what, const char *expected, struct doc *d,
           bale_error_t *err)
{
  cleanup_free char *url = registry_url (&p->ref, "manifests", what, p->opts->insecure);
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  json_error_t jerr;
  int ret;

  req.url = url;
  req.headers = (const char *const[]){ ACCEPT_MANIFESTS, NULL };
  req.max_body = REGISTRY_MAX_MANIFEST;
  ret = registry_do (p->conn, p->scope, &req, &resp, err);
  if (ret < 0)
    bale_error_wrap (err, "manifest %s of '%s'", what, p->repo);
  else if (resp.status != 200)
    {
      cleanup_free char *m = xasprintf ("manifest %s of '%s'", what, p->repo);
      ret = registry_http_error (m, &resp, err);
    }
  if (ret == 0)
    {
      d->body = resp.body;
      strbuf_init (&resp.body);
      ret = check_doc_digest (p, what, expected, &resp, d, err);
    }
  if (ret == 0 && (d->json = json_loadb (d->body.buf, d->body.len, 0, &jerr)) == NULL)
    ret = bale_make_error (err, 0, "%s@%s: invalid manifest JSON: %s", p->repo, d->digest,
                           jerr.text);
  if (ret == 0)
    ret = check_doc_type (p, what, &resp, d, err);
  http_response_release (&resp);
  return ret;
}

/* ---- blobs -------------------------------------------------------------------------------- */

struct blob_sink
{
  struct store_blob_writer *w;
  const char *digest;
  int64_t size;
  const char *repo;
  struct meter *meter;
};

static int
blob_write (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  struct blob_sink *b = ctx;

  /* Checked before writing, so a lying registry cannot fill the disk. */
  if (store_blob_writer_size (b->w) + (int64_t) len > b->size)
    return bale_make_error (err, 0, "%s@%s: registry sent more than the %lld bytes the manifest "
                            "gives", b->repo, b->digest, (long long) b->size);
  meter_add (b->meter, (int64_t) len);
  return store_blob_writer_write (b->w, buf, len, err);
}

/* One download of a blob into a writer; the writer is committed (verified) or aborted. */
static int
download_once (struct pull *p, const char *digest, int64_t size, struct meter *meter, bool *retry,
               bale_error_t *err)
{
  cleanup_free char *url = registry_url (&p->ref, "blobs", digest, p->opts->insecure);
  struct blob_sink b = { .digest = digest, .size = size, .repo = p->repo, .meter = meter };
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  int ret;

  pthread_mutex_lock (&p->store_lock);
  b.w = store_blob_writer_new (p->s, err);
  pthread_mutex_unlock (&p->store_lock);
  if (b.w == NULL)
    return -1;
  req.url = url;
  req.sink = blob_write;
  req.sink_ctx = &b;
  ret = registry_do (p->conn, p->scope, &req, &resp, err);
  *retry = ret < 0;
  if (ret == 0 && resp.status != 200)
    {
      cleanup_free char *m = xasprintf ("blob %s of '%s'", digest, p->repo);
      ret = registry_http_error (m, &resp, err);
    }
  else if (ret == 0 && store_blob_writer_size (b.w) != size)
    {
      *retry = true;
      ret = bale_make_error (err, 0, "%s@%s: truncated blob: %lld of %lld bytes", p->repo, digest,
                             (long long) store_blob_writer_size (b.w), (long long) size);
    }
  http_response_release (&resp);
  pthread_mutex_lock (&p->store_lock);
  if (ret < 0)
    store_blob_writer_abort (b.w);
  else if ((ret = store_blob_writer_commit (b.w, digest, NULL, err)) < 0)
    bale_error_wrap (err, "blob %s of '%s'", digest, p->repo);
  pthread_mutex_unlock (&p->store_lock);
  return ret;
}

static int
download_blob (struct pull *p, const char *digest, int64_t size, bale_error_t *err)
{
  int i;

  if (store_blob_exists (p->s, digest))
    {
      /* The descriptor must describe the blob: a manifest that lies about a size is refused
         whether or not the store already has the bytes (containerd's content check). */
      int64_t have = store_blob_size (p->s, digest, err);

      if (have < 0)
        return -1;
      if (have != size)
        return bale_make_error (err, 0, "'%s': the descriptor of %s gives %lld bytes, the blob "
                                "has %lld", p->repo, digest, (long long) size, (long long) have);
      registry_log (p->opts, "%s: already in the store", digest);
      return 0;
    }
  for (i = 1;; i++)
    {
      bale_error_t e = NULL;
      bool retry = false;
      struct meter m;

      registry_meter_start (&m, p->opts, digest, size);
      if (download_once (p, digest, size, &m, &retry, &e) == 0)
        {
          meter_end (&m, size);
          registry_log (p->opts, "%s: downloaded (%lld bytes)", digest, (long long) size);
          return 0;
        }
      if (!retry || i == BLOB_ATTEMPTS)
        {
          if (retry)
            bale_error_wrap (&e, "blob %s of '%s' (broken or truncated %d times)", digest,
                             p->repo, i);
          bale_error_join (err, &e);
          return -1;
        }
      bale_error_release (&e);
    }
}

/* A descriptor's digest and size, validated. */
static int
descriptor (struct pull *p, const json_t *desc, const char **digest, int64_t *size,
            bale_error_t *err)
{
  json_t *sz = json_object_get (desc, "size");

  *digest = json_string_value (json_object_get (desc, "digest"));
  *size = json_integer_value (sz);
  if (*digest == NULL || !digest_is_valid (*digest) || !json_is_integer (sz) || *size < 0)
    return bale_make_error (err, 0, "'%s': invalid descriptor (digest '%s')", p->repo,
                            *digest ? *digest : "");
  return 0;
}

/* The config descriptor of manifest m. A config larger than the store reads (a JSON of at most
   REGISTRY_MAX_CONFIG) could never be used: refused before a byte of it is downloaded. */
static int
config_descriptor (struct pull *p, const struct doc *m, const char **digest, int64_t *size,
                   bale_error_t *err)
{
  if (descriptor (p, json_object_get (m->json, "config"), digest, size, err) < 0)
    return -1;
  if (*size > REGISTRY_MAX_CONFIG)
    return bale_make_error (err, 0, "%s@%s: the config %s has %lld bytes, more than %d", p->repo,
                            m->digest, *digest, (long long) *size, REGISTRY_MAX_CONFIG);
  return 0;
}

static int
layer_job (void *ctx, size_t i, bale_error_t *err)
{
  struct pull *p = ctx;
  const char *digest;
  int64_t size;

  if (p->wanted && !p->wanted[i])
    return 0;
  if (descriptor (p, json_array_get (p->layers, i), &digest, &size, err) < 0)
    return -1;
  return download_blob (p, digest, size, err);
}

/* When no index chose the platform, the config must still suit an explicit --platform. */
static int
check_config_platform (struct pull *p, const char *config, const struct bale_platform *want,
                       bale_error_t *err)
{
  cleanup_free char *buf = NULL;
  json_auto_t *doc = NULL;
  struct bale_platform have = { 0 };
  size_t len;
  int ret = 0;

  if (want == NULL || store_blob_read (p->s, config, REGISTRY_MAX_CONFIG, &buf, &len, err) < 0)
    return want ? -1 : 0;
  doc = json_loadb (buf, len, 0, NULL);
  have.os = xstrdup (json_string_value (json_object_get (doc, "os")) ?: "");
  have.arch = xstrdup (json_string_value (json_object_get (doc, "architecture")) ?: "");
  if (json_string_value (json_object_get (doc, "variant")))
    have.variant = xstrdup (json_string_value (json_object_get (doc, "variant")));
  if (platmatch_rank (want, &have) < 0)
    {
      cleanup_free char *w = platform_format (want), *h = platform_format (&have);
      ret = bale_make_error (err, 0, "'%s': image is for %s, not %s", p->repo, h, w);
    }
  platform_release (&have);
  return ret;
}

static int
pull_manifest (struct pull *p, struct doc *m, const struct bale_platform *explicit_platform,
               bale_error_t *err)
{
  const char *digest;
  int64_t size;
  int ret;

  p->layers = json_object_get (m->json, "layers");
  if (!json_is_array (p->layers))
    return bale_make_error (err, 0, "%s@%s: manifest has no layers", p->repo, m->digest);
  if (config_descriptor (p, m, &digest, &size, err) < 0 || download_blob (p, digest, size, err) < 0
      || check_config_platform (p, digest, explicit_platform, err) < 0)
    return -1;
  ret = registry_parallel (json_array_size (p->layers),
                           p->opts->parallel > 0 ? p->opts->parallel : 3, layer_job, p, err);
  if (ret == 0)
    ret = store_blob_put (p->s, m->body.buf, m->body.len, NULL, err);
  return ret;
}

/* From an index, the manifest for the platform. */
static int
pull_from_index (struct pull *p, struct doc *index, const struct bale_platform *platform,
                 struct doc *m, bale_error_t *err)
{
  struct bale_platform host = { 0 };
  const struct bale_platform *want = platform;
  const char *digest;
  int64_t size;
  int i;

  if (want == NULL && platform_host (&host, err) < 0)
    return -1;
  want = want ? want : &host;
  i = platmatch_select (index->json, want);
  if (i < 0)
    {
      cleanup_free char *w = platform_format (want);
      platform_release (&host);
      return bale_make_error (err, 0, "%s@%s: no image for platform %s", p->repo, index->digest, w);
    }
  platform_release (&host);
  if (descriptor (p, json_array_get (json_object_get (index->json, "manifests"), (size_t) i),
                  &digest, &size, err) < 0
      || fetch_doc (p, digest, digest, m, err) < 0)
    return -1;
  if ((int64_t) m->body.len != size)
    return bale_make_error (err, 0, "%s@%s: manifest has %zu bytes, the index says %lld", p->repo,
                            digest, m->body.len, (long long) size);
  if (is_index_type (m->media_type))
    return bale_make_error (err, 0, "%s@%s: nested indexes are not supported", p->repo, digest);
  return store_blob_put (p->s, index->body.buf, index->body.len, NULL, err);
}

static int
pull_run (struct pull *p, const struct bale_platform *platform, char out[DIGEST_STRLEN + 1],
          bale_error_t *err)
{
  struct doc top = { .body = STRBUF_INIT }, m = { .body = STRBUF_INIT };
  struct doc *man = &top;
  cleanup_free char *name = NULL;
  int ret;

  ret = fetch_doc (p, p->ref.digest ? p->ref.digest : p->ref.tag, p->ref.digest, &top, err);
  if (ret == 0 && is_index_type (top.media_type))
    {
      ret = pull_from_index (p, &top, platform, &m, err);
      man = &m;
    }
  if (ret == 0)
    ret = pull_manifest (p, man, man == &top ? platform : NULL, err);
  if (ret == 0)
    {
      /* The name appears last: until then nothing refers to the new blobs. */
      name = p->ref.tag ? oci_ref_full (&p->ref) : xstrdup (top.digest);
      ret = store_ref_set (p->s, name, top.digest, err);
    }
  if (ret == 0)
    {
      memcpy (out, top.digest, DIGEST_STRLEN + 1);
      registry_log (p->opts, "Digest: %s", top.digest);
    }
  doc_release (&top);
  doc_release (&m);
  return ret;
}

static int
pull_open (struct pull *p, struct store *s, const char *ref, const struct registry_opts *opts,
           bale_error_t *err)
{
  static const struct registry_opts defaults = { .retries = -1 };

  p->s = s;
  p->opts = opts ? opts : &defaults;
  pthread_mutex_init (&p->store_lock, NULL);
  if (oci_ref_parse (ref, OCI_REF_DIGEST, &p->ref, err) < 0)
    return -1;
  p->repo = xasprintf ("%s/%s", p->ref.domain, p->ref.path);
  p->scope = xasprintf ("repository:%s:pull", p->ref.path);
  p->conn = registry_conn_new (p->ref.domain, p->opts, err);
  if (p->conn == NULL || store_txn_begin (s, err) < 0)
    return -1;
  p->in_txn = true;
  return 0;
}

static int
pull_close (struct pull *p, int ret)
{
  if (p->in_txn)
    store_txn_end (p->s);
  registry_conn_free (p->conn);
  pthread_mutex_destroy (&p->store_lock);
  oci_ref_release (&p->ref);
  free (p->scope);
  free (p->repo);
  free (p->wanted);
  return ret;
}

int
registry_pull (struct store *s, const char *ref, const struct bale_platform *platform,
               const struct registry_opts *opts, char out_manifest_digest[DIGEST_STRLEN + 1],
               bale_error_t *err)
{
  struct pull p = { 0 };
  int ret = pull_open (&p, s, ref, opts, err);

  if (ret == 0)
    ret = pull_run (&p, platform, out_manifest_digest, err);
  return pull_close (&p, ret);
}

/* The manifest of an artifact: its type must be the one asked for. */
static int
check_artifact (struct pull *p, const struct doc *m, const char *artifact_type, bale_error_t *err)
{
  const char *at = json_string_value (json_object_get (m->json, "artifactType"));
  const char *ct = json_string_value (json_object_get (json_object_get (m->json, "config"), "mediaType"));

  if (strcmp (m->media_type, OCI_MT_MANIFEST) != 0)
    return bale_make_error (err, 0, "%s@%s: a %s, not an OCI artifact manifest", p->repo, m->digest,
                            m->media_type);
  if (!(at ? strcmp (at, artifact_type) == 0 : ct && strcmp (ct, artifact_type) == 0))
    return bale_make_error (err, 0, "%s@%s: artifact type '%s', not '%s'", p->repo, m->digest,
                            at ? at : ct ? ct : "(none)", artifact_type);
  if (!json_is_array (json_object_get (m->json, "layers")))
    return bale_make_error (err, 0, "%s@%s: manifest has no layers", p->repo, m->digest);
  return 0;
}

int
registry_pull_artifact (struct store *s, const char *ref, const char *artifact_type,
                        registry_choose_fn choose, void *ctx, const struct registry_opts *opts,
                        json_t **manifest, bale_error_t *err)
{
  struct pull p = { 0 };
  struct doc m = { .body = STRBUF_INIT };
  const char *config;
  int64_t size;
  int ret = pull_open (&p, s, ref, opts, err);

  *manifest = NULL;
  if (ret == 0)
    ret = fetch_doc (&p, p.ref.digest ? p.ref.digest : p.ref.tag, p.ref.digest, &m, err);
  if (ret == 0)
    ret = check_artifact (&p, &m, artifact_type, err);
  if (ret == 0)
    {
      p.layers = json_object_get (m.json, "layers");
      p.wanted = xcalloc (json_array_size (p.layers) + 1, sizeof *p.wanted);
      ret = config_descriptor (&p, &m, &config, &size, err);
    }
  if (ret == 0)
    ret = download_blob (&p, config, size, err);
  if (ret == 0)
    ret = choose (ctx, m.json, config, p.wanted, err);
  if (ret == 0)
    ret = registry_parallel (json_array_size (p.layers), p.opts->parallel > 0 ? p.opts->parallel : 3,
                             layer_job, &p, err);
  if (ret == 0)
    *manifest = json_incref (m.json);
  else
    bale_error_wrap (err, "'%s'", ref);
  doc_release (&m);
  return pull_close (&p, ret);
}

/* ---- one blob to a descriptor ------------------------------------------------------------- */

struct fd_sink
{
  int fd;
  struct digester d;
  int64_t got, size;
  struct meter meter;
};

static int
fd_write (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  struct fd_sink *f = ctx;

  if (f->got + (int64_t) len > f->size)
    return bale_make_error (err, 0, "the registry sent more than the %lld bytes of the blob",
                            (long long) f->size);
  digester_update (&f->d, buf, len);
  f->got += (int64_t) len;
  meter_add (&f->meter, (int64_t) len);
  if (fileio_write_all (f->fd, buf, len) < 0)
    return bale_make_error (err, errno, "cannot pass the blob on");
  return 0;
}

int
registry_blob_stream (const char *ref, const char *digest, int64_t size,
                      const struct registry_opts *opts, int out_fd, bale_error_t *err)
{
  static const struct registry_opts defaults = { .retries = -1 };
  struct oci_ref r = { 0 };
  struct fd_sink f = { .fd = out_fd, .size = size };
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp = { 0 };
  struct registry_conn *conn = NULL;
  cleanup_free char *url = NULL, *scope = NULL;
  char got[DIGEST_STRLEN + 1];
  int ret = -1;

  opts = opts ? opts : &defaults;
  if (oci_ref_parse (ref, OCI_REF_DIGEST, &r, err) < 0)
    return -1;
  if (digester_init (&f.d, err) < 0)
    goto out;
  url = registry_url (&r, "blobs", digest, opts->insecure);
  scope = xasprintf ("repository:%s:pull", r.path);
  if (!(conn = registry_conn_new (r.domain, opts, err)))
    goto out;
  registry_meter_start (&f.meter, opts, digest, size);
  req.url = url;
  req.sink = fd_write;
  req.sink_ctx = &f;
  if (registry_do (conn, scope, &req, &resp, err) < 0)
    goto out;
  if (resp.status != 200)
    {
      cleanup_free char *m = xasprintf ("blob %s of '%s/%s'", digest, r.domain, r.path);
      registry_http_error (m, &resp, err);
      goto out;
    }
  if (f.got != size || digester_final (&f.d, got, err) < 0 || strcmp (got, digest) != 0)
    {
      bale_make_error (err, 0, "%s/%s@%s: the registry sent %lld bytes%s", r.domain, r.path,
                       digest, (long long) f.got,
                       f.got != size ? ", not the blob's size" : " of another digest");
      goto out;
    }
  meter_end (&f.meter, size);
  ret = 0;
out:
  digester_release (&f.d);
  http_response_release (&resp);
  registry_conn_free (conn);
  oci_ref_release (&r);
  return ret;
}
