/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale prune`: drop untagged images and collect every blob no name or pin needs. */
#include <config.h>

#include <stdio.h>

#include "cli/store.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/banned.h"

int
bale_cmd_prune (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct store *s = NULL;
  int64_t freed = 0;
  int ret;

  cli_simple_args (argc, argv, "usage: bale prune\n", 0, 0, err);
  if (cli_store_open (g, &s, err) < 0)
    return -1;
  /* Untagged images are kept under their own digest (see store.h): docker's dangling ones. */
  ret = cli_untag_where (s, NULL, true, err);
  if (ret == 0)
    ret = store_gc (s, NULL, NULL, &freed, err);
  if (ret == 0)
    {
      cleanup_free char *size = cli_human_size (freed);

      printf ("Total reclaimed space: %s\n", size);
    }
  store_close (s);
  return ret;
}
