/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How the CLI finds base images for the planner: in bale's store. */
#include <config.h>

#include "cli/cli.h"
#include "common/banned.h"

plan_resolve_fn
cli_image_resolver (struct cli_global *g)
{
  /* Until the store is linked in, no image is available: `bale plan` plans them as empty
     configs with a warning and `bale build` reports them as missing. */
  (void) g;
  return NULL;
}
