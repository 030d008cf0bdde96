/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the store subcommands: opening the store, names as Docker prints them. */
#include <config.h>

#include <errno.h>
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/store.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* The store's directory for g, or NULL with an error. */
static char *
store_dir (const struct cli_global *g, bale_error_t *err)
{
  char *path = g->store ? xstrdup (g->store) : store_default_path (err);
  struct stat st;

  /* Commands that only read never create a store where there is none. */
  if (path && g->read_only && stat (path, &st) < 0 && errno == ENOENT)
    {
      bale_make_error (err, 0, "no store at '%s' (nothing was built, pulled or loaded there yet)", path);
      free (path);
      return NULL;
    }
  return path;
}

int
cli_store_open (const struct cli_global *g, struct store **out, bale_error_t *err)
{
  cleanup_free char *path = store_dir (g, err);

  return path ? store_open (path, out, err) : -1;
}

int
cli_bale_store (const struct cli_global *g, bale_store **out, bale_error_t *err)
{
  cleanup_free char *path = store_dir (g, err);

  return path ? bale_store_open (path, out, err) : -1;
}

bool
cli_quiet (const struct cli_global *g)
{
  return g->quiet;
}
