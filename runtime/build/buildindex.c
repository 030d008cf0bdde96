/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image index of a multi-platform build, and the layouts written from it. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runtime/build/buildindex.h"
#include "runtime/build/buildoutput.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "common/oci/platform.h"
#include "runtime/build/executor.h"
#include "runtime/store/layout.h"
#include "common/banned.h"

int
buildindex_make (const struct exec_image *imgs, size_t n, json_t *annotations, char **bytes,
                 size_t *len, char digest[DIGEST_STRLEN + 1], bale_error_t *err)
{
  json_auto_t *idx = oci_index_new ();
  size_t i;

  for (i = 0; i < n; i++)
    {
      /* BuildKit's index entries carry the manifest's own annotations only when asked
         (annotation-manifest-descriptor); the platform always. */
      json_t *d = oci_descriptor_new (OCI_MT_MANIFEST, imgs[i].manifest_digest, (int64_t) imgs[i].manifest_len,
                                      NULL, &imgs[i].platform, err);
      if (!d)
        return -1;
      oci_index_add (idx, d);
      json_decref (d);
    }
  if (annotations && json_object_size (annotations) > 0)
    json_object_set (idx, "annotations", annotations);
  if (!(*bytes = canonjson_dumps (idx, len, err)))
    return -1;
  if (digest_buffer (*bytes, *len, digest, err) < 0)
    {
      free (*bytes);
      *bytes = NULL;
      return -1;
    }
  return 0;
}

void
buildindex_layout_image (const struct exec_image *img, struct layout_image *li, struct layout_blob **layers)
{
  size_t i;

  memset (li, 0, sizeof *li);
  *layers = xcalloc (img->n_layers + 1, sizeof **layers);
  li->manifest.media_type = OCI_MT_MANIFEST;
  li->manifest.digest = img->manifest_digest;
  li->manifest.size = (int64_t) img->manifest_len;
  li->manifest.data = img->manifest;
  li->config.media_type = OCI_MT_CONFIG;
  li->config.digest = img->config_digest;
  li->config.size = (int64_t) img->config_len;
  li->config.data = img->config;
  for (i = 0; i < img->n_layers; i++)
    {
      (*layers)[i].media_type = img->layers[i].media_type;
      (*layers)[i].digest = img->layers[i].digest;
      (*layers)[i].size = img->layers[i].size;
      (*layers)[i].path = img->layers[i].path;
    }
  li->layers = *layers;
  li->n_layers = img->n_layers;
  li->platform = &img->platform;
}

int
buildindex_write_layout (const struct build_output *out, const struct exec_image *imgs, size_t n,
                         json_t *annotations, const char *name, struct meter *meter,
                         bale_error_t *err)
{
  struct layout_image *children = xcalloc (n, sizeof *children), top = { 0 };
  struct layout_blob **layers = xcalloc (n, sizeof *layers);
  cleanup_free char *bytes = NULL;
  char digest[DIGEST_STRLEN + 1];
  size_t len, i;
  int r = -1;

  for (i = 0; i < n; i++)
    buildindex_layout_image (&imgs[i], &children[i], &layers[i]);
  if (buildindex_make (imgs, n, annotations, &bytes, &len, digest, err) == 0)
    {
      const char *dest = strcmp (out->dest, "-") == 0 ? "/dev/stdout" : out->dest;
      top.manifest.media_type = OCI_MT_INDEX;
      top.manifest.digest = digest;
      top.manifest.size = (int64_t) len;
      top.manifest.data = bytes;
      top.children = children;
      top.n_children = n;
      top.meter = meter;
      if (out->type == OUT_OCI)
        r = layout_write_dir (dest, &top, name, err);
      else if (out->type == OUT_OCI_ARCHIVE)
        r = layout_write_oci_archive (dest, &top, name, err);
      else
        r = layout_write_docker_archive (dest, &top, name, err);
    }
  for (i = 0; i < n; i++)
    free (layers[i]);
  free (layers);
  free (children);
  return r;
}

char *
buildindex_platform_dir (const struct bale_platform *p)
{
  cleanup_free char *f = platform_format (p);
  char *d = xstrdup (f);

  for (char *q = d; *q; q++)
    if (*q == '/')
      *q = '_';
  return d;
}
