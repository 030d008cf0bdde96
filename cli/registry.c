/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options shared by the registry subcommands, and their progress output. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/registry.h"
#include "common/xalloc.h"
#include "common/banned.h"

static void
log_stderr (void *ctx, const char *msg)
{
  fprintf (stderr, "%s\n", msg);
}

void
cli_registry_init (struct cli_registry *r, bool quiet)
{
  const char *env = getenv ("BALE_INSECURE_REGISTRY");

  memset (r, 0, sizeof *r);
  r->opts.retries = -1;
  r->opts.log = quiet ? NULL : log_stderr;
  /* One name from the environment, for CI jobs that cannot change every command line. */
  if (env && *env)
    cli_registry_option (r, 'I', env);
}

bool
cli_registry_option (struct cli_registry *r, int c, const char *arg)
{
  switch (c)
    {
    case 'I':
      XGROW (r->insecure, r->insecure_alloc, r->n_insecure + 2);
      r->insecure[r->n_insecure++] = arg;
      r->insecure[r->n_insecure] = NULL;
      r->opts.insecure = r->insecure;
      return true;
    case 'C':
      r->opts.ca_file = arg;
      return true;
    default:
      return false;
    }
}

void
cli_registry_release (struct cli_registry *r)
{
  free (r->insecure);
  r->insecure = NULL;
}
