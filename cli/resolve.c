/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the CLI finds images: bale's store. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/build/buildevents.h"
#include "cli/cli.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "runtime/build/namedctx.h"
#include "cli/store.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/registry/registry.h"
#include "runtime/store/store.h"
#include "runtime/build/buildrun.h"
#include "common/banned.h"

char *
cli_store_path (struct cli_global *g, bale_error_t *err)
{
  if (g->store && *g->store)
    return xstrdup (g->store);
  return store_default_path (err);
}

struct store *
cli_store_get (struct cli_global *g, bale_error_t *err)
{
  if (!g->opened && cli_store_open (g, &g->opened, err) < 0)
    return NULL;
  return g->opened;
}

/* The plan's resolver: 1 with the image config, 0 when the store does not have the image. */
static int
resolve_in_store_quietly (void *ctx, const char *ref, const struct bale_platform *platform, json_t **config,
                  char **digest, bale_error_t *err)
{
  struct store *s;

  if (((struct cli_global *) ctx)->read_only && !((struct cli_global *) ctx)->opened)
    {
      /* bale plan without a store: the image is not available, the plan says so. */
      bale_error_t e = NULL;
      s = cli_store_get (ctx, &e);
      bale_error_release (&e);
      if (!s)
        return 0;
    }
  else if (!(s = cli_store_get (ctx, err)))
    return -1;
  return build_resolve_image (s, ref, platform, ((struct cli_global *) ctx)->pull_opts,
                              ((struct cli_global *) ctx)->pull_always, config, digest, err);
}

/* The same as a progress vertex "[internal] load metadata for REF", pulls included. */
static int
resolve_in_store (void *ctx, const char *ref, const struct bale_platform *platform, json_t **config,
                  char **digest, bale_error_t *err)
{
  struct cli_global *g = ctx;
  const char *named = g->named ? namedctx_lookup (g->named, ref) : NULL;
  int r;

  if (named)
    ref = named;
  if (!g->events || !g->log_vertex)
    return resolve_in_store_quietly (ctx, ref, platform, config, digest, err);
  buildevents_resolve_start (g->log_vertex, g->events, ref);
  r = resolve_in_store_quietly (ctx, ref, platform, config, digest, err);
  progress_vertex_end (g->log_vertex, false, r < 0 && *err ? (*err)->msg : NULL);
  return r;
}

plan_resolve_fn
cli_image_resolver (struct cli_global *g)
{
  (void) g;
  return resolve_in_store;
}

int
cli_store_image_read (struct cli_global *g, struct store *s, const char *what, struct store_image *img,
                      bale_error_t *err)
{
  struct bale_platform pl = { 0 };
  int r;

  if (g->platform && platform_parse (g->platform, &pl, err) < 0)
    return bale_error_wrap (err, "--platform");
  r = store_image_read (s, what, g->platform ? &pl : NULL, img, err);
  platform_release (&pl);
  return r;
}

int
cli_image_config (struct cli_global *g, const char *name, json_t **config,
                  char digest[DIGEST_STRLEN + 1], bale_error_t *err)
{
  struct store *s = cli_store_get (g, err);
  struct store_image img = { 0 };

  if (!s || store_image_read (s, name, NULL, &img, err) < 0)
    return -1;
  *config = json_incref (img.config_json);
  memcpy (digest, img.config, DIGEST_STRLEN + 1);
  store_image_release (&img);
  return 0;
}

int
cli_check_name (const char *name, bale_error_t *err)
{
  const char *slash = strrchr (name, '/'), *colon = strrchr (name, ':'), *p;
  const char *end = colon && (!slash || colon > slash) ? colon : name + strlen (name);

  /* Docker: "invalid reference format: repository name (X) must be lowercase"; the tag
     after the last ':' may have capitals. */
  for (p = name; p < end && *p != '@'; p++)
    if (*p >= 'A' && *p <= 'Z')
      {
        /* Only when capitals are what is wrong: other faults get the usual message. */
        cleanup_free char *low = xstrdup (name);
        struct oci_ref r = { 0 };
        bale_error_t e = NULL;
        for (char *q = low; q < low + (end - name); q++)
          if (*q >= 'A' && *q <= 'Z')
            *q = (char) (*q - 'A' + 'a');
        if (oci_ref_parse (low, 0, &r, &e) < 0)
          {
            bale_error_release (&e);
            return 0;
          }
        oci_ref_release (&r);
        return bale_make_error (err, 0, "invalid tag '%s': repository name must be lowercase", name);
      }
  return 0;
}
