/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale cache why` (include/bale/image.h): which inputs of the steps that made two images'
   layers differ, from the build cache's records of this store. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/cache_inputs.h"
#include "runtime/store/store.h"
#include "common/banned.h"

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

/* Every layer position from the first where the two stacks differ. */
static void
why (struct store *s, const struct store_image *a, const struct store_image *b,
     struct bale_layer_diff **out, size_t *n_out)
{
  size_t n = a->n_layers > b->n_layers ? a->n_layers : b->n_layers, i;
  bool same = true;

  for (i = 0; i < n; i++)
    {
      json_auto_t *x = NULL, *y = NULL;
      struct bale_layer_diff *d;

      if (i < a->n_layers && i < b->n_layers && same && strcmp (a->diff_ids[i], b->diff_ids[i]) == 0)
        continue;
      same = false;
      *out = xgrow_one (*out, *n_out, sizeof **out);
      d = &(*out)[(*n_out)++];
      memset (d, 0, sizeof *d);
      d->layer = i + 1;
      if (i >= a->n_layers || i >= b->n_layers)
        {
          d->kind = i >= a->n_layers ? BALE_LAYER_DIFF_ONLY_B : BALE_LAYER_DIFF_ONLY_A;
          continue;
        }
      x = layer_inputs (s, a, i);
      y = layer_inputs (s, b, i);
      if (!x || !y)
        {
          d->kind = !x && !y ? BALE_LAYER_DIFF_UNKNOWN : !x ? BALE_LAYER_DIFF_UNKNOWN_A
                                                            : BALE_LAYER_DIFF_UNKNOWN_B;
          continue;
        }
      d->kind = BALE_LAYER_DIFF_INPUTS;
      if (json_string_value (json_object_get (y, "step")))
        d->step = xstrdup (json_string_value (json_object_get (y, "step")));
      d->reason = cache_inputs_explain (x, y, NULL, NULL);
    }
}

int
bale_cache_why (bale_store *s, const char *a, const char *b, struct bale_layer_diff **out,
                size_t *n, bale_error_t *err)
{
  struct store_image ia = { 0 }, ib = { 0 };
  int ret;

  *out = NULL;
  *n = 0;
  if ((ret = store_image_read (s->st, a, NULL, &ia, err)) == 0
      && (ret = store_image_read (s->st, b, NULL, &ib, err)) == 0)
    why (s->st, &ia, &ib, out, n);
  store_image_release (&ia);
  store_image_release (&ib);
  return ret;
}

void
bale_layer_diffs_free (struct bale_layer_diff *d, size_t n)
{
  for (size_t i = 0; d && i < n; i++)
    {
      free (d[i].step);
      free (d[i].reason);
    }
  free (d);
}
