/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The final image config of a stage, as BuildKit's image exporter writes it
 * (exporter/containerimage/writer.go): history entries of this build get their `created`,
 * the config its `created`, rootfs.diff_ids the new layers, and the layout of
 * oci_config_normalize.
 */
#include <config.h>

#include <string.h>

#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "codegen/plan.h"
#include "common/error.h"
#include "common/banned.h"

static bool
is_layer_entry (const json_t *e)
{
  return !json_is_true (json_object_get (e, "empty_layer"));
}

/*
 * BuildKit's normalizeLayersAndHistory: the entries of the new layers get the layers' times;
 * then the entries still without one (metadata steps) get the time of the last timed entry
 * before them that follows an untimed one, or the first new layer's time (not a base image
 * entry's) when none precedes them.
 */
static void
fill_history_times (json_t *h, const struct plan_times *t, size_t n_new)
{
  size_t i, n_layers = 0, k = 0;
  const char *created = NULL;
  bool untimed = false;

  for (i = 0; i < json_array_size (h); i++)
    n_layers += is_layer_entry (json_array_get (h, i));
  for (i = 0; i < json_array_size (h); i++)
    {
      json_t *e = json_array_get (h, i);
      if (!is_layer_entry (e))
        continue;
      if (k + n_new >= n_layers && t->layers[k + n_new - n_layers]
          && !json_is_string (json_object_get (e, "created")))
        json_object_set_new (e, "created", json_string (t->layers[k + n_new - n_layers]));
      k++;
    }
  for (i = 0; i < json_array_size (h); i++)
    {
      const char *c = json_string_value (json_object_get (json_array_get (h, i), "created"));
      if (c)
        {
          created = c;
          if (untimed)
            break;
        }
      else
        untimed = true;
    }
  if (!created)
    created = t->fallback;
  untimed = false;
  for (i = 0; i < json_array_size (h); i++)
    {
      json_t *e = json_array_get (h, i);
      const char *c = json_string_value (json_object_get (e, "created"));
      if (c && untimed)
        created = c;
      else if (!c)
        {
          untimed = true;
          if (created)
            json_object_set_new (e, "created", json_string (created));
        }
    }
}

json_t *
plan_final_config (const struct plan *p, const struct plan_stage *st, const struct plan_times *t,
                   const char *const *diff_ids, size_t n_diff_ids, bale_error_t *err)
{
  json_t *c = json_deep_copy (st->config), *out, *rootfs, *ids, *h;
  const char *created = t->config;
  size_t i;

  (void) p;
  rootfs = json_object_get (c, "rootfs");
  if (!json_is_object (rootfs))
    {
      rootfs = json_object ();
      json_object_set_new (c, "rootfs", rootfs);
    }
  json_object_set_new (rootfs, "type", json_string ("layers"));
  ids = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (ids))
    {
      ids = json_array ();
      json_object_set_new (rootfs, "diff_ids", ids);
    }
  /* The plan knows the base image's layers only; the caller passes every layer built above
     them, those of parent stages included. */
  while (json_array_size (ids) > st->n_image_layers)
    json_array_remove (ids, json_array_size (ids) - 1);
  for (i = 0; i < n_diff_ids; i++)
    json_array_append_new (ids, json_string (diff_ids[i]));
  h = json_object_get (c, "history");
  if (t->layers && json_is_array (h))
    fill_history_times (h, t, n_diff_ids);
  for (i = 0; t->fallback && i < json_array_size (h); i++)
    {
      json_t *e = json_array_get (h, i);
      if (json_is_object (e) && !json_is_string (json_object_get (e, "created")))
        json_object_set_new (e, "created", json_string (t->fallback));
    }
  /* As patchImageConfig: the last history entry's time (a fully cached rebuild's is that of
     its cached steps, so its config digest is the same). */
  for (i = 0; !created && i < json_array_size (h); i++)
    created = json_string_value (json_object_get (json_array_get (h, json_array_size (h) - 1 - i),
                                                  "created"));
  if (!created)
    created = t->fallback;
  if (created)
    json_object_set_new (c, "created", json_string (created));
  out = oci_config_normalize (c, err);
  json_decref (c);
  if (!out)
    return NULL;
  /* Go's encoding of BuildKit's exporter: with no time at all (FROM scratch and metadata
     steps only, no SOURCE_DATE_EPOCH) "created" is null, and with no layer the diff_ids slice
     is nil, so null too; normalising drops nulls, so they are put back here. */
  if (!created)
    {
      json_object_set_new (out, "created", json_null ());
      canonjson_sort_keys (out);
    }
  if (json_array_size (json_object_get (json_object_get (out, "rootfs"), "diff_ids")) == 0)
    json_object_set_new (json_object_get (out, "rootfs"), "diff_ids", json_null ());
  return out;
}
