/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registries with options (include/bale/image.h): pull, push, login and logout, as the bale
   subcommands of the same names do them, without printing. */
#include <config.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/oci/digest.h"
#include "common/oci/platform.h"
#include "common/xalloc.h"
#include "runtime/build/buildevents.h"
#include "runtime/registry/registry.h"
#include "common/banned.h"

/* The options of o in the runtime's terms; o NULL: the defaults. Borrows o's strings. */
static int
convert (const struct bale_registry_options *o, struct registry_opts *out, bale_error_t *err)
{
  memset (out, 0, sizeof *out);
  out->retries = -1;
  if (!o)
    return 0;
  if (o->struct_size < offsetof (struct bale_registry_options, log_ctx) + sizeof o->log_ctx)
    return bale_make_error (err, EINVAL, "struct bale_registry_options: struct_size %zu is not "
                            "that of this library's (%zu): set it with "
                            "BALE_REGISTRY_OPTIONS_INIT", o->struct_size, sizeof *o);
  out->insecure = o->insecure;
  out->ca_file = o->ca_file;
  out->docker_config = o->auth_file;
  out->chunk_size = o->chunk_size;
  out->log = o->log;
  out->log_ctx = o->log_ctx;
  if (o->chunk_size < 0)
    return bale_make_error (err, EINVAL, "registry options: chunk_size %lld is negative",
                            (long long) o->chunk_size);
  if (!o->compression || strcmp (o->compression, "gzip") == 0)
    out->compression = REGISTRY_COMPRESS_GZIP;
  else if (strcmp (o->compression, "zstd") == 0)
    out->compression = REGISTRY_COMPRESS_ZSTD;
  else if (strcmp (o->compression, "none") == 0)
    out->compression = REGISTRY_COMPRESS_NONE;
  else if (strcmp (o->compression, "gzip-single") == 0)
    out->compression = REGISTRY_COMPRESS_GZIP_SINGLE;
  else
    return bale_make_error (err, EINVAL, "registry options: compression '%s' is not gzip, "
                            "gzip-single, zstd or none", o->compression);
  return 0;
}

/* With events (opts->events): the transfer as the vertex "VERB REF", the registry's
   messages and the blobs' bytes its statuses, as bale build reports its pushes. */
static void
transfer_start (const struct bale_registry_options *o, struct registry_opts *opts,
                struct buildevents_log *l, const char *verb, const char *ref)
{
  /* An older caller's struct ends before progress. */
  const struct bale_progress *events
    = o && o->struct_size >= offsetof (struct bale_registry_options, progress) + sizeof o->progress
          && o->progress.fn ? &o->progress : NULL;
  cleanup_free char *full = NULL, *name = NULL;

  memset (l, 0, sizeof *l);
  if (!events)
    return;
  full = buildevents_name (ref);
  name = xasprintf ("%s %s", verb, full);
  opts->log = buildevents_registry_log;
  opts->log_ctx = l;
  opts->progress = progress_transfer;
  opts->progress_ctx = &l->vertex;
  progress_vertex_start (&l->vertex, events, name, name);
}

static int
transfer_end (struct buildevents_log *l, int ret, bale_error_t *err)
{
  progress_vertex_end (&l->vertex, false, ret < 0 && *err ? (*err)->msg : NULL);
  return ret;
}

int
bale_image_pull_with (bale_store *s, const char *ref, const struct bale_registry_options *o,
                      char **digest, bale_error_t *err)
{
  struct buildevents_log l;
  struct registry_opts opts;
  struct bale_platform plat = { 0 };
  const char *platform = o ? o->platform : NULL;
  char got[DIGEST_STRLEN + 1];
  int ret;

  if (convert (o, &opts, err) < 0 || (platform && platform_parse (platform, &plat, err) < 0))
    return -1;
  transfer_start (o, &opts, &l, "pulling", ref);
  ret = transfer_end (&l, registry_pull (s->st, ref, platform ? &plat : NULL, &opts, got, err), err);
  platform_release (&plat);
  if (ret == 0 && digest)
    *digest = xstrdup (got);
  return ret;
}

int
bale_image_push_with (bale_store *s, const char *what, const char *dest,
                      const struct bale_registry_options *o, char **digest, bale_error_t *err)
{
  struct registry_opts opts;
  struct buildevents_log l;
  char got[DIGEST_STRLEN + 1];

  if (convert (o, &opts, err) < 0)
    return -1;
  transfer_start (o, &opts, &l, "pushing", dest ? dest : what);
  if (transfer_end (&l, registry_push (s->st, what, dest, &opts, got, err), err) < 0)
    return -1;
  if (digest)
    *digest = xstrdup (got);
  return 0;
}

char *
bale_registry_domain (const char *registry)
{
  const char *p = strstr (registry, "://");
  cleanup_free char *host = NULL;

  p = p ? p + 3 : registry;
  host = xstrndup (p, strcspn (p, "/"));
  if (strcmp (host, "index.docker.io") == 0 || strcmp (host, "registry-1.docker.io") == 0)
    return xstrdup ("docker.io");
  return steal_pointer (&host);
}

/* The auth file of opts, or the default. */
static char *
auth_file (const struct registry_opts *opts)
{
  return opts->docker_config ? xstrdup (opts->docker_config) : registry_docker_config_path ();
}

int
bale_registry_login (const char *registry, const char *username, const char *secret,
                     const struct bale_registry_options *o, bale_error_t *err)
{
  cleanup_free char *domain = bale_registry_domain (registry), *config = NULL;
  struct registry_creds creds = { 0 };
  struct registry_conn *conn = NULL;
  struct registry_opts opts;
  int ret;

  if (convert (o, &opts, err) < 0)
    return -1;
  config = auth_file (&opts);
  creds.username = xstrdup (username);
  creds.secret = xstrdup (secret);
  ret = (conn = registry_conn_new (domain, &opts, err)) ? 0 : -1;
  if (ret == 0)
    {
      registry_conn_set_creds (conn, &creds);
      ret = registry_check_login (conn, err);
    }
  if (ret == 0)
    ret = registry_creds_store (config, domain, &creds, err);
  if (ret < 0)
    bale_error_wrap (err, "login to '%s'", domain);
  registry_conn_free (conn);
  registry_creds_release (&creds);
  return ret;
}

int
bale_registry_logout (const char *registry, const struct bale_registry_options *o,
                      bale_error_t *err)
{
  cleanup_free char *domain = bale_registry_domain (registry), *config = NULL;
  struct registry_opts opts;

  if (convert (o, &opts, err) < 0)
    return -1;
  config = auth_file (&opts);
  return registry_creds_store (config, domain, NULL, err);
}
