/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bale build --cache-to / --cache-from: parse the specs, import before and export after. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/build/buildcache.h"
#include "runtime/build/buildevents.h"
#include "runtime/build/progress.h"
#include "common/meter.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/cache.h"
#include "runtime/build/cache_registry.h"
#include "runtime/build/cache_mounts.h"
#include "runtime/sandbox/sandbox.h"
#include "common/banned.h"

static int
parse_bool (const char *spec, const char *key, const char *v, bool *out, bale_error_t *err)
{
  if (strcmp (v, "true") != 0 && strcmp (v, "false") != 0)
    return bale_make_error (err, 0, "cache spec '%s': %s=%s is not true or false", spec, key, v);
  *out = strcmp (v, "true") == 0;
  return 0;
}

/* One KEY=VALUE of a spec. */
static int
parse_field (const char *spec, char *key, char *v, bool to, struct cache_spec *out,
             bool *typed, bale_error_t *err)
{
  bool b;

  if (strcmp (key, "type") == 0)
    {
      if (strcmp (v, "local") != 0 && strcmp (v, "registry") != 0)
        return bale_make_error (err, 0, "cache spec '%s': type=%s is not supported (want local "
                                "or registry)", spec, v);
      out->type = strcmp (v, "local") == 0 ? CACHE_LOCAL : CACHE_REGISTRY;
      *typed = true;
      return 0;
    }
  if (strcmp (key, to ? "dest" : "src") == 0 || strcmp (key, "ref") == 0)
    {
      free (out->where);
      out->where = xstrdup (v);
      return 0;
    }
  if (to && strcmp (key, "mode") == 0 && (strcmp (v, "min") == 0 || strcmp (v, "max") == 0))
    {
      out->max = strcmp (v, "max") == 0;
      return 0;
    }
  if (to && strcmp (key, "cache-mounts") == 0)
    {
      if (parse_bool (spec, key, v, &b, err) < 0)
        return -1;
      out->mounts = b;
      return 0;
    }
  if (to && strcmp (key, "cache-mounts-max-size") == 0)
    {
      uint64_t size;
      if (sandbox_parse_size (v, &size, err) < 0)
        return bale_error_wrap (err, "cache spec '%s'", spec);
      out->mounts_max = (int64_t) size;
      return 0;
    }
  if (to && strcmp (key, "ignore-error") == 0)
    return parse_bool (spec, key, v, &out->ignore_error, err);
  if (to && strcmp (key, "compression") == 0)
    {
      if (strcmp (v, "gzip") != 0 && strcmp (v, "zstd") != 0 && strcmp (v, "uncompressed") != 0)
        return bale_make_error (err, 0, "cache spec '%s': compression=%s (want gzip, zstd or "
                                "uncompressed)", spec, v);
      out->compression = strcmp (v, "uncompressed") == 0 ? "none" : strcmp (v, "gzip") == 0 ? "gzip" : "zstd";
      return 0;
    }
  /* What bale always writes: an image manifest with OCI media types. Asking for anything
     else cannot be honoured, so it is an error rather than a silent difference. */
  if (to && (strcmp (key, "image-manifest") == 0 || strcmp (key, "oci-mediatypes") == 0))
    {
      if (parse_bool (spec, key, v, &b, err) < 0)
        return -1;
      if (!b)
        return bale_make_error (err, 0, "cache spec '%s': %s=false is not supported (bale "
                                "writes an OCI image manifest)", spec, key);
      return 0;
    }
  return bale_make_error (err, 0, "cache spec '%s': unknown field '%s'", spec, key);
}

int
buildcache_add (struct build_caches *c, const char *spec, bool to, bale_error_t *err)
{
  cleanup_free char *copy = xstrdup (spec);
  struct cache_spec s = { .mounts = -1, .mounts_max = 1024LL * 1024 * 1024 };
  char *save = copy, *item;
  bool typed = false;

  if (strchr (spec, '=') == NULL)
    {
      /* docker buildx's shorthand: a bare reference is a registry cache. */
      s.type = CACHE_REGISTRY;
      s.where = xstrdup (spec);
      typed = true;
    }
  else
    while ((item = strsep (&save, ",")) != NULL)
      {
        char *eq = strchr (item, '=');
        if (!eq)
          {
            free (s.where);
            return bale_make_error (err, 0, "cache spec '%s': '%s' is not KEY=VALUE", spec, item);
          }
        *eq++ = '\0';
        if (parse_field (spec, item, eq, to, &s, &typed, err) < 0)
          {
            free (s.where);
            return -1;
          }
      }
  if (!typed || !s.where || !*s.where)
    {
      free (s.where);
      return bale_make_error (err, 0, "cache spec '%s': want type=local,%s=DIR or "
                              "type=registry,ref=REF", spec, to ? "dest" : "src");
    }
  if (s.type == CACHE_LOCAL && s.compression)
    {
      free (s.where);
      return bale_make_error (err, 0, "cache spec '%s': compression= is for type=registry", spec);
    }
  if (to)
    {
      XGROW (c->to, c->alloc_to, c->n_to + 1);
      c->to[c->n_to++] = s;
    }
  else
    {
      XGROW (c->from, c->alloc_from, c->n_from + 1);
      c->from[c->n_from++] = s;
    }
  return 0;
}

void
buildcache_release (struct build_caches *c)
{
  size_t i;

  for (i = 0; i < c->n_to; i++)
    free (c->to[i].where);
  for (i = 0; i < c->n_from; i++)
    free (c->from[i].where);
  free (c->to);
  free (c->from);
  memset (c, 0, sizeof *c);
}

void
buildcache_import (struct store *s, const struct build_caches *c, const struct registry_opts *ro,
                   bool quiet, const struct build_say *say)
{
  size_t i;

  for (i = 0; i < c->n_from; i++)
    {
      const struct cache_spec *f = &c->from[i];
      bale_error_t e = NULL;
      size_t n = 0, m = 0;
      int r = f->type == CACHE_LOCAL ? cache_import_local (s, f->where, &n, &m, &e)
                                     : cache_import_registry (s, f->where, ro, &n, &m, &e);
      if (r < 0)
        {
          /* Warnings are printed even with -q: a CI log must show why nothing was cached. */
          bale_error_wrap (&e, "cache import from %s skipped (steps without an entry run)",
                           f->where);
          build_say_warnings (say, e);
          bale_error_release (&e);
          continue;
        }
      if (!quiet && m)
        build_say (say, "imported %zu cache entries and %zu cache mounts from %s", n, m, f->where);
      else if (!quiet)
        build_say (say, "imported %zu cache entries from %s", n, f->where);
    }
}

static void
warn_line (const char *msg)
{
  fprintf (stderr, "warning: %s\n", msg);
}

static int
export_one (struct store *s, const struct cache_spec *t, const struct cache_keyed *entries,
            size_t n, const struct timespec *since, const char *mount_from,
            const struct registry_opts *ro, bool quiet, const struct build_say *say,
            struct progress_vertex *v, bale_error_t *err)
{
  struct meter m = METER_INIT (progress_transfer, v, NULL);
  struct registry_opts opts = *ro;
  char digest[DIGEST_STRLEN + 1];
  struct cache_mount_blob *mounts = NULL;
  size_t n_mounts = 0;
  int r;

  /* The cache mounts this build used, packed as blobs of the store (nameless: the build's
     transaction keeps them until the export is done). */
  if ((t->mounts == 1 || (t->mounts < 0 && t->max))
      && cache_mounts_pack (s, since, t->mounts_max, warn_line, &mounts, &n_mounts, err) < 0)
    return -1;
  if (t->type == CACHE_LOCAL)
    r = cache_export_local (s, t->where, entries, n, mounts, n_mounts, &m, err);
  else
    {
      if (t->compression)
        registry_compression_parse (t->compression, &opts.compression);
      r = cache_export_registry (s, t->where, entries, n, mounts, n_mounts, mount_from, &opts,
                                 digest, err);
    }
  if (r == 0 && !quiet)
    {
      cleanup_free char *mounts_said = n_mounts ? xasprintf (" and %zu cache mounts", n_mounts) : NULL;
      cleanup_free char *digest_said = t->type == CACHE_REGISTRY ? xasprintf (": digest: %s", digest) : NULL;
      build_say (say, "exported %zu cache entries%s to %s%s", n, mounts_said ? mounts_said : "", t->where,
                 digest_said ? digest_said : "");
    }
  cache_mount_blobs_free (mounts, n_mounts);
  return r;
}

int
buildcache_export (struct store *s, const struct build_caches *c, const struct timespec *since,
                   const char *const *layers, size_t n_layers, const char *mount_from,
                   const struct registry_opts *ro, bool quiet, const struct build_say *say,
                   const struct bale_progress *events, struct progress_vertex *v, bale_error_t *err)
{
  size_t i;

  for (i = 0; i < c->n_to; i++)
    {
      const struct cache_spec *t = &c->to[i];
      struct cache_keyed *entries = NULL;
      size_t n = 0;
      cleanup_free char *key = xasprintf ("cache-export/%zu", i);
      int r;

      progress_vertex_start (v, events, key,
                             t->type == CACHE_LOCAL ? "exporting cache to client directory"
                                                    : "exporting cache to registry");
      r = cache_select (s, since, t->max ? NULL : layers, n_layers, &entries, &n, err);
      if (r == 0)
        r = export_one (s, t, entries, n, since, mount_from, ro, quiet, say, v, err);
      free (entries);
      /* With ignore-error=true the failure is a warning and the step is done. */
      progress_vertex_end (v, false, r < 0 && !t->ignore_error && *err ? (*err)->msg : NULL);
      if (r < 0 && t->ignore_error)
        {
          bale_error_wrap (err, "cache export to %s failed (ignore-error=true)", t->where);
          build_say_warnings (say, *err);
          bale_error_release (err);
          continue;
        }
      if (r < 0)
        return bale_error_wrap (err, "cache export to %s", t->where);
    }
  return 0;
}
