/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the CLI finds images: bale's store. */
#include <config.h>

#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

char *
cli_store_path (struct cli_global *g)
{
  const char *xdg = getenv ("XDG_DATA_HOME"), *home = getenv ("HOME");

  if (g->store && *g->store)
    return xstrdup (g->store);
  if (geteuid () == 0)
    return xstrdup ("/var/lib/bale");
  if (xdg && *xdg)
    return xasprintf ("%s/bale", xdg);
  return xasprintf ("%s/.local/share/bale", home && *home ? home : ".");
}

plan_resolve_fn
cli_image_resolver (struct cli_global *g)
{
  /* Until the store is linked in, no image is available: `bale plan` plans them as empty
     configs with a warning and `bale build` reports them as missing. */
  (void) g;
  return NULL;
}

int
cli_image_config (struct cli_global *g, const char *name, json_t **config,
                  char digest[DIGEST_STRLEN + 1], bale_error_t *err)
{
  (void) g;
  (void) config;
  (void) digest;
  return bale_make_error (err, 0, "image %s: the image store is not linked in yet; use --dir", name);
}
