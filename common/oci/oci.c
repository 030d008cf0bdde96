/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI document builders whose key order matches what Docker and BuildKit marshal. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/oci/canonjson.h"
#include "common/oci/digest.h"
#include "common/oci/oci.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

json_t *
oci_platform_new (const struct bale_platform *p)
{
  json_t *o = json_object ();

  json_object_set_new (o, "architecture", json_string (p->arch));
  json_object_set_new (o, "os", json_string (p->os));
  oci_platform_set_os_options (o, p);
  if (p->variant)
    json_object_set_new (o, "variant", json_string (p->variant));
  return o;
}

void
oci_platform_set_os_options (json_t *o, const struct bale_platform *p)
{
  size_t i;

  if (p->os_version)
    json_object_set_new (o, "os.version", json_string (p->os_version));
  else
    json_object_del (o, "os.version");
  if (p->n_os_features)
    {
      json_t *f = json_array ();

      for (i = 0; i < p->n_os_features; i++)
        json_array_append_new (f, json_string (p->os_features[i]));
      json_object_set_new (o, "os.features", f);
    }
}

/* A sorted copy of a string map; NULL (with an error) when a value is not a string. */
static json_t *
copy_string_map (const json_t *map, bale_error_t *err)
{
  json_auto_t *copy = json_object ();
  const char *key;
  json_t *value;

  if (!json_is_object (map))
    {
      bale_make_error (err, EINVAL, "annotations must be a JSON object");
      return NULL;
    }
  json_object_foreach ((json_t *) map, key, value)
  {
    if (!json_is_string (value))
      {
        bale_make_error (err, EINVAL, "annotation '%s' is not a string", key);
        return NULL;
      }
    json_object_set (copy, key, value);
  }
  canonjson_sort_keys (copy);
  return json_incref (copy);
}

json_t *
oci_descriptor_new (const char *media_type, const char *digest, int64_t size,
                    const json_t *annotations, const struct bale_platform *platform,
                    bale_error_t *err)
{
  json_auto_t *d = NULL;

  if (!digest_is_valid (digest))
    {
      bale_make_error (err, EINVAL, "invalid digest '%s'", digest ? digest : "");
      return NULL;
    }
  if (size < 0)
    {
      bale_make_error (err, EINVAL, "negative size for '%s'", digest);
      return NULL;
    }
  d = json_object ();
  json_object_set_new (d, "mediaType", json_string (media_type));
  json_object_set_new (d, "digest", json_string (digest));
  json_object_set_new (d, "size", json_integer (size));
  if (annotations && json_object_size (annotations) > 0)
    {
      json_t *copy = copy_string_map (annotations, err);

      if (copy == NULL)
        return NULL;
      json_object_set_new (d, "annotations", copy);
    }
  if (platform)
    json_object_set_new (d, "platform", oci_platform_new (platform));
  return json_incref (d);
}

json_t *
oci_manifest_new (json_t *config_desc)
{
  json_t *m = json_object ();

  json_object_set_new (m, "schemaVersion", json_integer (2));
  json_object_set_new (m, "mediaType", json_string (OCI_MT_MANIFEST));
  json_object_set (m, "config", config_desc);
  json_object_set_new (m, "layers", json_array ());
  return m;
}

void
oci_manifest_add_layer (json_t *manifest, json_t *layer_desc)
{
  json_array_append (json_object_get (manifest, "layers"), layer_desc);
}

json_t *
oci_index_new (void)
{
  json_t *idx = json_object ();

  json_object_set_new (idx, "schemaVersion", json_integer (2));
  json_object_set_new (idx, "mediaType", json_string (OCI_MT_INDEX));
  json_object_set_new (idx, "manifests", json_array ());
  return idx;
}

void
oci_index_add (json_t *index, json_t *desc)
{
  json_array_append (json_object_get (index, "manifests"), desc);
}

json_t *
oci_config_new_scratch (const struct bale_platform *p)
{
  json_t *c = json_object ();
  json_t *cfg = json_object ();
  json_t *rootfs = json_object ();

  json_object_set_new (cfg, "Env", json_pack ("[s]", OCI_DEFAULT_PATH_ENV));
  json_object_set_new (cfg, "WorkingDir", json_string ("/"));
  json_object_set_new (rootfs, "type", json_string ("layers"));
  json_object_set_new (rootfs, "diff_ids", json_array ());

  /* Inserted in sorted order: BuildKit's exporter re-marshals the top level through a map. */
  json_object_set_new (c, "architecture", json_string (p->arch));
  json_object_set_new (c, "config", cfg);
  json_object_set_new (c, "history", json_array ());
  json_object_set_new (c, "os", json_string (p->os));
  oci_platform_set_os_options (c, p);
  json_object_set_new (c, "rootfs", rootfs);
  if (p->variant)
    json_object_set_new (c, "variant", json_string (p->variant));
  return c;
}

json_t *
oci_history_new (const char *created, const char *created_by, const char *comment, bool empty_layer)
{
  json_t *h = json_object ();

  if (created)
    json_object_set_new (h, "created", json_string (created));
  if (created_by)
    json_object_set_new (h, "created_by", json_string (created_by));
  if (comment)
    json_object_set_new (h, "comment", json_string (comment));
  if (empty_layer)
    json_object_set_new (h, "empty_layer", json_true ());
  return h;
}

/* How reorder() treats a member whose value is empty. */
enum omit
{
  OMIT_NULL,  /* drop null only: a plain Go field, or a pointer */
  OMIT_EMPTY, /* Go's omitempty: also "", 0, false, [] and {} */
};

static bool
is_empty (const json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_NULL:
    case JSON_FALSE:
      return true;
    case JSON_STRING:
      return json_string_length (v) == 0;
    case JSON_INTEGER:
      return json_integer_value (v) == 0;
    case JSON_REAL:
      return json_real_value (v) == 0;
    case JSON_ARRAY:
      return json_array_size (v) == 0;
    case JSON_OBJECT:
      return json_object_size (v) == 0;
    default:
      return false;
    }
}

static bool
in_list (const char *key, const char *const *list)
{
  for (; *list; list++)
    if (strcmp (key, *list) == 0)
      return true;
  return false;
}

/* A deep copy of src with the keys in `order` first, in that order, then any others. */
static json_t *
reorder (const json_t *src, const char *const *order, enum omit omit)
{
  json_t *dst = json_object ();
  const char *const *k;
  const char *key;
  json_t *value;

  for (k = order; *k; k++)
    {
      value = json_object_get (src, *k);
      if (value == NULL || json_is_null (value) || (omit == OMIT_EMPTY && is_empty (value)))
        continue;
      json_object_set_new (dst, *k, json_deep_copy (value));
    }
  json_object_foreach ((json_t *) src, key, value)
  {
    if (in_list (key, order) || json_is_null (value))
      continue;
    json_object_set_new (dst, key, json_deep_copy (value));
  }
  return dst;
}

static const char *const config_order[]
    = { "User",   "ExposedPorts", "Env",         "Entrypoint",  "Cmd",     "Volumes", "WorkingDir",
        "Labels", "StopSignal",   "ArgsEscaped", "Healthcheck", "OnBuild", "Shell",   NULL };
static const char *const healthcheck_order[]
    = { "Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries", NULL };
static const char *const rootfs_order[] = { "type", "diff_ids", NULL };
static const char *const history_order[]
    = { "created", "created_by", "author", "comment", "empty_layer", NULL };
static const char *const map_fields[] = { "ExposedPorts", "Volumes", "Labels", NULL };
static const char *const no_keys[] = { NULL };

static json_t *
normalize_container_config (const json_t *cfg)
{
  json_t *out = reorder (cfg, config_order, OMIT_EMPTY);
  const json_t *hc = json_object_get (cfg, "Healthcheck");
  const char *const *k;

  for (k = map_fields; *k; k++)
    canonjson_sort_keys (json_object_get (out, *k));
  /* Healthcheck is a pointer in Docker's struct: an empty object is still written. */
  if (json_is_object (hc))
    json_object_set_new (out, "Healthcheck", reorder (hc, healthcheck_order, OMIT_EMPTY));
  return out;
}

static json_t *
normalize_history (const json_t *history)
{
  json_t *out = json_array ();
  size_t i;

  for (i = 0; i < json_array_size (history); i++)
    {
      const json_t *h = json_array_get (history, i);

      if (json_is_object (h))
        json_array_append_new (out, reorder (h, history_order, OMIT_EMPTY));
      else
        json_array_append_new (out, json_deep_copy (h));
    }
  return out;
}

json_t *
oci_config_normalize (const json_t *config, bale_error_t *err)
{
  json_t *out;
  const json_t *v;

  if (!json_is_object (config))
    {
      bale_make_error (err, EINVAL, "image config is not a JSON object");
      return NULL;
    }
  out = reorder (config, no_keys, OMIT_NULL);
  canonjson_sort_keys (out);
  if (json_is_object (v = json_object_get (config, "config")))
    json_object_set_new (out, "config", normalize_container_config (v));
  if (json_is_object (v = json_object_get (config, "rootfs")))
    json_object_set_new (out, "rootfs", reorder (v, rootfs_order, OMIT_NULL));
  if (json_is_array (v = json_object_get (config, "history")))
    json_object_set_new (out, "history", normalize_history (v));
  return out;
}
