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
    cli_registry_option (r, CLI_OPT_INSECURE, env);
}

bool
cli_registry_option (struct cli_registry *r, int c, const char *arg)
{
  switch (c)
    {
    case CLI_OPT_INSECURE:
      XGROW (r->insecure, r->insecure_alloc, r->n_insecure + 2);
      r->insecure[r->n_insecure++] = arg;
      r->insecure[r->n_insecure] = NULL;
      r->opts.insecure = r->insecure;
      return true;
    case CLI_OPT_TLS_CA:
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

bool
cli_registry_compression (struct registry_opts *opts, const char *name)
{
  return registry_compression_parse (name, &opts->compression);
}

int
cli_registry_push (struct store *s, const struct cli_registry *r, const char *name,
                   const char *dest, bool quiet, char digest[DIGEST_STRLEN + 1],
                   bale_error_t *err)
{
  if (registry_push (s, name, dest, &r->opts, digest, err) < 0)
    return -1;
  if (!quiet)
    fprintf (stderr, "pushed %s: digest: %s\n", dest ? dest : name, digest);
  return 0;
}
