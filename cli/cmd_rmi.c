/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale rmi`: remove names from the store, then the blobs no name needs any more. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "cli/store.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/cache.h"
#include "common/banned.h"

/* Remove what (a name, or an ID); target receives the image it named. */
static int
remove_one (struct store *s, const char *what, char target[DIGEST_STRLEN + 1], bale_error_t *err)
{
  bale_error_t not_a_name = NULL;

  if (!digest_is_valid (what) && store_ref_get (s, what, target, &not_a_name) == 0)
    {
      cleanup_free char *full = store_ref_normalize (what, err);

      if (full == NULL || store_ref_delete (s, what, err) < 0)
        return -1;
      cli_print_untagged (full);
      return 0;
    }
  bale_error_release (&not_a_name);
  if (store_resolve (s, what, target, err) < 0)
    return -1;
  /* What `docker rmi ID` does: every name of the image goes. */
  return cli_untag_where (s, target, false, err);
}

int
bale_cmd_rmi (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  int first = cli_simple_args (argc, argv, "usage: bale rmi NAME...\n", 1, -1, err);
  char (*targets)[DIGEST_STRLEN + 1] = xcalloc ((size_t) (argc - first), sizeof *targets);
  struct store *s = NULL;
  int i, ret;

  if ((ret = cli_store_open (g, &s, err)) == 0)
    {
      for (i = first; i < argc && ret == 0; i++)
        ret = remove_one (s, argv[i], targets[i - first], err);
      /* Blobs go only when no other name, pin or build cache entry still needs them. */
      struct cache_blobs *keep = NULL;
      if (ret == 0)
        ret = cache_blobs_load (s, &keep, err);
      if (ret == 0)
        ret = store_gc (s, cache_keep, keep, NULL, err);
      cache_blobs_free (keep);
      for (i = 0; ret == 0 && i < argc - first; i++)
        if (!store_blob_exists (s, targets[i]))
          printf ("Deleted: %s\n", targets[i]);
    }
  free (targets);
  store_close (s);
  return ret;
}
