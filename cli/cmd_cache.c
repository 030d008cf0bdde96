/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bale cache why A B: which inputs of the steps that made two images' layers differ. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/store.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/cache_inputs.h"
#include "runtime/store/store.h"
#include "common/banned.h"

#define WHY_USAGE "usage: bale cache why IMAGE_A IMAGE_B\n"

/* The inputs of the step that made layer i of img (its stack's top), or NULL when this store
   did not record it (another store's image, or a pruned entry). */
static json_t *
layer_inputs (struct store *s, const struct store_image *img, size_t i)
{
  char chain[DIGEST_STRLEN + 1], key[DIGEST_STRLEN + 1];
  bale_error_t e = NULL;
  json_t *j = NULL;

  if (cache_chain_id ((const char *const *) img->diff_ids, i + 1, chain, &e) == 0
      && cache_pointer_get (s, CACHE_PTR_CHAIN, chain, key))
    j = cache_inputs_read (s, key);
  bale_error_release (&e);
  return j;
}

static const char *
step_text (json_t *in)
{
  const char *t = json_string_value (json_object_get (in, "step"));

  return t ? t : "(an unknown step)";
}

/* Every layer position where the two stacks differ, with what differs between the steps. */
static void
why (struct store *s, const struct store_image *a, const struct store_image *b)
{
  size_t n = a->n_layers > b->n_layers ? a->n_layers : b->n_layers, i;
  bool same = true;

  for (i = 0; i < n; i++)
    {
      json_auto_t *x = NULL, *y = NULL;
      cleanup_free char *reason = NULL;
      if (i < a->n_layers && i < b->n_layers && same && strcmp (a->diff_ids[i], b->diff_ids[i]) == 0)
        continue;
      same = false;
      if (i >= a->n_layers || i >= b->n_layers)
        {
          printf ("layer %zu: only in %s\n", i + 1, i >= a->n_layers ? "B" : "A");
          continue;
        }
      x = layer_inputs (s, a, i);
      y = layer_inputs (s, b, i);
      if (!x || !y)
        {
          printf ("layer %zu: %s by a step this store has no record of\n", i + 1,
                  !x && !y ? "both made" : !x ? "A's made" : "B's made");
          continue;
        }
      reason = cache_inputs_explain (x, y, NULL, NULL);
      printf ("layer %zu: %s: %s\n", i + 1, step_text (y), *reason ? reason : "same inputs, another layer (the step is not reproducible)");
    }
  if (same)
    puts ("same layers");
}

int
bale_cmd_cache (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct store_image a = { 0 }, b = { 0 };
  struct store *s = NULL;
  int first, ret;

  if (argc < 2 || strcmp (argv[1], "why") != 0)
    {
      if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
        {
          fputs (WHY_USAGE, stdout);
          return 0;
        }
      return bale_make_error (err, 0, "bale cache: want a subcommand: why IMAGE_A IMAGE_B");
    }
  first = cli_simple_args (argc - 1, argv + 1, WHY_USAGE, 2, 2, err) + 1;
  if ((ret = cli_store_open (g, &s, err)) == 0
      && (ret = store_image_read (s, argv[first], NULL, &a, err)) == 0
      && (ret = store_image_read (s, argv[first + 1], NULL, &b, err)) == 0)
    why (s, &a, &b);
  store_image_release (&a);
  store_image_release (&b);
  store_close (s);
  return ret;
}
