/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Open an image named by a string: the store, an OCI layout, or an archive. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/store/imgsrc.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/oci/platform.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/store/layout_read.h"
#include "runtime/store/store.h"
#include "common/banned.h"

static void
add_layer_take (struct imgsrc *src, char *path)
{
  src->layers = xrealloc (src->layers, (src->n_layers + 1) * sizeof *src->layers);
  src->layers[src->n_layers++] = path;
}

static int
from_store (struct store *s, const char *platform, const char *what, struct imgsrc *out,
            bale_error_t *err)
{
  struct bale_platform pl = { 0 };
  struct store_image img = { 0 };
  size_t i;
  int r;

  if (platform && platform_parse (platform, &pl, err) < 0)
    return bale_error_wrap (err, "--platform");
  r = store_image_read (s, what, platform ? &pl : NULL, &img, err);
  platform_release (&pl);
  if (r < 0)
    return -1;
  out->config = json_incref (img.config_json);
  for (i = 0; i < img.n_layers; i++)
    add_layer_take (out, store_blob_path (s, img.layers[i].digest));
  store_image_release (&img);
  return 0;
}

static int
from_layout (const char *dir, const char *tag, struct imgsrc *out, bale_error_t *err)
{
  json_auto_t *manifest = NULL;
  const json_t *layers;
  char digest[DIGEST_STRLEN + 1];
  size_t i;

  if (layout_read_image (dir, tag, &manifest, &out->config, digest, err) < 0)
    return -1;
  layers = json_object_get (manifest, "layers");
  for (i = 0; i < json_array_size (layers); i++)
    {
      const char *d = json_string_value (json_object_get (json_array_get (layers, i), "digest"));
      char *path = layout_blob_path (dir, d);

      if (!path)
        return bale_make_error (err, 0, "%s: layer %zu has no valid sha256 digest, or its blob is not a regular file of the layout", dir, i);
      add_layer_take (out, path);
    }
  return 0;
}

/* An archive goes through store_load, which verifies every blob and knows both formats,
   into a throw-away store: the user's store is left untouched. */
static int
from_archive (const char *platform, const char *file, struct imgsrc *out, bale_error_t *err)
{
  const char *tmp = getenv ("TMPDIR");
  struct store_ref *names = NULL;
  size_t n = 0;
  int ret;

  out->tmp_dir = xasprintf ("%s/bale-diff.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp (out->tmp_dir))
    {
      ret = bale_make_error (err, errno, "cannot create a directory in '%s'", out->tmp_dir);
      free (steal_pointer (&out->tmp_dir));
      return ret;
    }
  if (store_open (out->tmp_dir, &out->tmp_store, err) < 0
      || store_load (out->tmp_store, file, &names, &n, err) < 0)
    return -1;
  if (n != 1)
    ret = bale_make_error (err, 0, "'%s' holds %zu images; diff needs exactly one", file, n);
  else
    ret = from_store (out->tmp_store, platform, names[0].name, out, err);
  store_refs_free (names, n);
  return ret;
}

/* "DIR:TAG" → DIR and TAG, when what follows the last colon cannot be part of a path
   (skopeo's oci: transport syntax); otherwise DIR alone. */
static char *
split_tag (const char *spec, const char **tag)
{
  const char *colon = strrchr (spec, ':');

  *tag = NULL;
  if (!colon || strchr (colon, '/') || colon[1] == '\0')
    return xstrdup (spec);
  *tag = colon + 1;
  return xstrndup (spec, (size_t) (colon - spec));
}

static bool
is_layout_dir (const char *path)
{
  cleanup_free char *marker = xasprintf ("%s/oci-layout", path);
  struct stat st;

  return (path[0] == '/' || path[0] == '.') && stat (marker, &st) == 0;
}

static int
open_any (struct store *s, const char *platform, const char *what, struct imgsrc *out,
          bale_error_t *err)
{
  if (strncmp (what, "oci:", 4) == 0)
    {
      const char *tag;
      cleanup_free char *dir = split_tag (what + 4, &tag);
      return from_layout (dir, tag, out, err);
    }
  if (strncmp (what, "oci-archive:", 12) == 0)
    return from_archive (platform, what + 12, out, err);
  if (strncmp (what, "docker-archive:", 15) == 0)
    return from_archive (platform, what + 15, out, err);
  if (is_layout_dir (what))
    return from_layout (what, NULL, out, err);
  if (!s)
    return bale_make_error (err, ENXIO, "no image store to read it from");
  return from_store (s, platform, what, out, err);
}

int
imgsrc_open (struct store *s, const char *platform, const char *what, struct imgsrc *out,
             bale_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (open_any (s, platform, what, out, err) == 0)
    return 0;
  imgsrc_release (out);
  return -1;
}

void
imgsrc_release (struct imgsrc *src)
{
  size_t i;

  json_decref (src->config);
  for (i = 0; i < src->n_layers; i++)
    free (src->layers[i]);
  free (src->layers);
  store_close (src->tmp_store);
  if (src->tmp_dir)
    {
      bale_error_t ignored = NULL;
      dirwalk_remove (AT_FDCWD, src->tmp_dir, src->tmp_dir, &ignored);
      bale_error_release (&ignored);
      free (src->tmp_dir);
    }
  memset (src, 0, sizeof *src);
}
