/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The final image config of a stage, as BuildKit's image exporter writes it
 * (exporter/containerimage/writer.go): history entries of this build get their `created`,
 * the config its `created`, rootfs.diff_ids the new layers, and the layout of
 * oci_config_normalize.
 */
#include <config.h>

#include <string.h>

#include "common/oci/oci.h"
#include "codegen/plan.h"
#include "common/error.h"
#include "common/banned.h"

json_t *
plan_final_config (const struct plan *p, const struct plan_stage *st, const char *created,
                   const char *const *diff_ids, size_t n_diff_ids, bale_error_t *err)
{
  json_t *c = json_deep_copy (st->config), *out, *rootfs, *ids, *h;
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
  for (i = 0; i < json_array_size (h); i++)
    {
      json_t *e = json_array_get (h, i);
      if (json_is_object (e) && !json_is_string (json_object_get (e, "created")))
        json_object_set_new (e, "created", json_string (created));
    }
  json_object_set_new (c, "created", json_string (created));
  out = oci_config_normalize (c, err);
  json_decref (c);
  return out;
}
