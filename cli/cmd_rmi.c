/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale rmi`: remove names from the store, then the blobs no name needs any more. */
#include <config.h>

#include <stdio.h>

#include "cli/apicmd.h"
#include "common/banned.h"

int
bale_cmd_rmi (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  int first = cli_simple_args (argc, argv, "usage: bale rmi NAME...\n", 1, -1, err);
  char **untagged = NULL, **deleted = NULL;
  bale_store *s = NULL;
  size_t i;
  int ret;

  if ((ret = cli_bale_store (g, &s, err)) == 0)
    {
      ret = bale_images_remove (s, (const char *const *) argv + first, (size_t) (argc - first),
                                &untagged, &deleted, err);
      /* The names removed before a failure are removed: say so, as docker does. */
      for (i = 0; untagged && untagged[i]; i++)
        cli_print_untagged (untagged[i]);
      for (i = 0; ret == 0 && deleted[i]; i++)
        printf ("Deleted: %s\n", deleted[i]);
    }
  bale_strv_free (untagged);
  bale_strv_free (deleted);
  bale_store_close (s);
  return ret;
}
