/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bale cache why A B: which inputs of the steps that made two images' layers differ. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/banned.h"

#define WHY_USAGE                                                                              \
  "usage: bale cache why IMAGE_A IMAGE_B\n"                                                      \
  "  -h, --help  show this help; why: the build inputs that differ between the steps that\n"  \
  "              made the two images' layers, layer by layer\n"

/* Every layer position where the two stacks differ, with what differs between the steps. */
static void
print_why (const struct bale_layer_diff *d, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    switch (d[i].kind)
      {
      case BALE_LAYER_DIFF_ONLY_A:
      case BALE_LAYER_DIFF_ONLY_B:
        printf ("layer %zu: only in %s\n", d[i].layer, d[i].kind == BALE_LAYER_DIFF_ONLY_B ? "B" : "A");
        break;
      case BALE_LAYER_DIFF_UNKNOWN:
      case BALE_LAYER_DIFF_UNKNOWN_A:
      case BALE_LAYER_DIFF_UNKNOWN_B:
        printf ("layer %zu: %s by a step this store has no record of\n", d[i].layer,
                d[i].kind == BALE_LAYER_DIFF_UNKNOWN     ? "both made"
                : d[i].kind == BALE_LAYER_DIFF_UNKNOWN_A ? "A's made"
                                                         : "B's made");
        break;
      default:
        printf ("layer %zu: %s: %s\n", d[i].layer, d[i].step ? d[i].step : "(an unknown step)",
                d[i].reason && *d[i].reason ? d[i].reason
                : "same inputs, another layer (the step is not reproducible)");
      }
  if (n == 0)
    puts ("same layers");
}

int
bale_cmd_cache (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct bale_layer_diff *d = NULL;
  bale_store *s = NULL;
  size_t n = 0;
  int first, ret;

  if (argc < 2 || strcmp (argv[1], "why") != 0)
    {
      if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
        {
          fputs (WHY_USAGE, stdout);
          return 0;
        }
      cli_usage_fail ("cache", "want a subcommand: why IMAGE_A IMAGE_B");
    }
  argv[1] = (char *) "bale cache why"; /* the name its usage errors give */
  first = cli_simple_args (argc - 1, argv + 1, WHY_USAGE, 2, 2, err) + 1;
  if ((ret = cli_bale_store (g, &s, err)) == 0
      && (ret = bale_cache_why (s, argv[first], argv[first + 1], &d, &n, err)) == 0)
    print_why (d, n);
  bale_layer_diffs_free (d, n);
  bale_store_close (s);
  return ret;
}
