/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image store of include/bale.h: open, list, inspect, tag, remove, load, save, pull,
   push. Each is what the bale subcommand of the same name does, without printing. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/oci/digest.h"
#include "common/xalloc.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* Configs larger than this are not images bale made or reads (docker's own limit is 8 MiB). */
#define CONFIG_MAX (8u << 20)

int
bale_store_open (const char *path, bale_store **out, bale_error_t *err)
{
  cleanup_free char *def = NULL;
  struct store *st = NULL;

  if (!path && !(path = def = store_default_path (err)))
    return -1;
  if (store_open (path, &st, err) < 0)
    return -1;
  *out = xcalloc (1, sizeof **out);
  (*out)->st = st;
  return 0;
}

void
bale_store_close (bale_store *s)
{
  if (!s)
    return;
  store_close (s->st);
  free (s);
}

const char *
bale_store_path (const bale_store *s)
{
  return store_path (s->st);
}

char *
bale_store_default_path (bale_error_t *err)
{
  return store_default_path (err);
}

/* The image ID of a manifest or index digest, or the digest itself when it has none. */
static char *
image_id (struct store *st, const char *digest)
{
  char id[DIGEST_STRLEN + 1];

  return xstrdup (store_image_id (st, digest, id) == 0 ? id : digest);
}

int
bale_images_list (bale_store *s, struct bale_image **out, size_t *n, bale_error_t *err)
{
  struct store_ref *refs = NULL;
  size_t i, nrefs = 0;

  if (store_ref_list (s->st, &refs, &nrefs, err) < 0)
    return -1;
  *out = xcalloc (nrefs ? nrefs : 1, sizeof **out);
  for (i = 0; i < nrefs; i++)
    {
      (*out)[i].name = xstrdup (refs[i].name);
      (*out)[i].digest = xstrdup (refs[i].digest);
      (*out)[i].id = image_id (s->st, refs[i].digest);
    }
  *n = nrefs;
  store_refs_free (refs, nrefs);
  return 0;
}

void
bale_images_free (struct bale_image *images, size_t n)
{
  for (size_t i = 0; images && i < n; i++)
    {
      free (images[i].name);
      free (images[i].digest);
      free (images[i].id);
    }
  free (images);
}

int
bale_image_inspect (bale_store *s, const char *what, char **digest, char **id, char **config,
                    bale_error_t *err)
{
  struct store_image img = { 0 };
  char *text = NULL;
  size_t len;

  if (store_image_read (s->st, what, NULL, &img, err) < 0)
    return -1;
  /* The config's own bytes, whose SHA-256 is the image ID of a manifest. */
  if (config && store_blob_read (s->st, img.config, CONFIG_MAX, &text, &len, err) < 0)
    {
      store_image_release (&img);
      return -1;
    }
  if (config)
    *config = text;
  if (digest)
    *digest = xstrdup (img.target);
  if (id)
    *id = xstrdup (img.id);
  store_image_release (&img);
  return 0;
}

int
bale_image_tag (bale_store *s, const char *what, const char *name, bale_error_t *err)
{
  char target[DIGEST_STRLEN + 1];

  if (digest_is_valid (name))
    return bale_make_error (err, EINVAL, "'%s': a digest is not a name to tag with", name);
  if (store_resolve (s->st, what, target, err) < 0)
    return -1;
  return store_ref_set (s->st, name, target, err);
}

int
bale_image_remove (bale_store *s, const char *what, bale_error_t *err)
{
  return bale_images_remove (s, &what, 1, NULL, NULL, err);
}

int
bale_image_load (bale_store *s, const char *path, char ***names, bale_error_t *err)
{
  struct store_ref *refs = NULL;
  size_t i, n = 0;

  if (store_load (s->st, path, names ? &refs : NULL, names ? &n : NULL, err) < 0)
    return -1;
  if (names)
    {
      *names = xcalloc (n + 1, sizeof **names);
      for (i = 0; i < n; i++)
        (*names)[i] = xstrdup (refs[i].name);
      store_refs_free (refs, n);
    }
  return 0;
}

int
bale_image_save (bale_store *s, const char *const *what, size_t n, const char *path,
                 bale_error_t *err)
{
  return bale_image_save_platform (s, what, n, path, NULL, NULL, err);
}

int
bale_image_save_platform (bale_store *s, const char *const *what, size_t n, const char *path,
                          const char *platform, char ***saved, bale_error_t *err)
{
  struct bale_platform plat = { 0 };
  char **got;
  size_t i;
  int ret;

  if (saved)
    *saved = NULL;
  if (n == 0)
    return bale_make_error (err, EINVAL, "save: no image named");
  if (platform && platform_parse (platform, &plat, err) < 0)
    return -1;
  got = xcalloc (n + 1, sizeof *got);
  ret = store_save (s->st, path, what, n, platform ? &plat : NULL, got, err);
  platform_release (&plat);
  for (i = 0; i < n; i++)
    if (!got[i])
      got[i] = xstrdup ("");
  if (ret == 0 && saved)
    *saved = got;
  else
    bale_strv_free (got);
  return ret;
}

int
bale_image_pull (bale_store *s, const char *ref, const char *platform, char **digest,
                 bale_error_t *err)
{
  struct bale_registry_options o = BALE_REGISTRY_OPTIONS_INIT;

  o.platform = platform;
  return bale_image_pull_with (s, ref, &o, digest, err);
}

int
bale_image_push (bale_store *s, const char *what, const char *dest, char **digest,
                 bale_error_t *err)
{
  return bale_image_push_with (s, what, dest, NULL, digest, err);
}
