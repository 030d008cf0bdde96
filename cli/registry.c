/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options shared by the registry subcommands, and their progress output. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/registry.h"
#include "common/banned.h"

void
cli_registry_init (struct cli_registry *r, bool quiet)
{
  memset (r, 0, sizeof *r);
  cli_regopts_init (&r->api, quiet);
  r->opts.retries = -1;
  r->opts.log = r->api.o.log;
  r->opts.insecure = r->api.o.insecure;
}

bool
cli_registry_option (struct cli_registry *r, int c, const char *arg)
{
  if (!cli_regopts_option (&r->api, c, arg))
    return false;
  r->opts.insecure = r->api.o.insecure;
  r->opts.ca_file = r->api.o.ca_file;
  return true;
}

void
cli_registry_release (struct cli_registry *r)
{
  cli_regopts_release (&r->api);
  r->opts.insecure = NULL;
}

bool
cli_registry_compression (struct registry_opts *opts, const char *name)
{
  if (strcmp (name, "gzip") == 0)
    opts->compression = REGISTRY_COMPRESS_GZIP;
  else if (strcmp (name, "zstd") == 0)
    opts->compression = REGISTRY_COMPRESS_ZSTD;
  else if (strcmp (name, "none") == 0)
    opts->compression = REGISTRY_COMPRESS_NONE;
  else if (strcmp (name, "gzip-single") == 0)
    opts->compression = REGISTRY_COMPRESS_GZIP_SINGLE;
  else
    return false;
  return true;
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
