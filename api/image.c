/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Images in detail, removal and prune (include/bale/image.h): what `bale inspect`, `history`,
   `images`, `rmi` and `prune` need from the store, without printing. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/oci/digest.h"
#include "common/oci/platform.h"
#include "common/xalloc.h"
#include "runtime/build/cache.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* Configs larger than this are not images bale made or reads (docker's own limit is 8 MiB). */
#define CONFIG_MAX (8u << 20)

int
bale_image_details_get (bale_store *s, const char *what, const char *platform,
                        struct bale_image_details **out, bale_error_t *err)
{
  struct bale_platform plat = { 0 };
  struct store_image img = { 0 };
  struct bale_image_details *d;
  char *text = NULL;
  size_t len = 0, i;
  int ret;

  if (platform && platform_parse (platform, &plat, err) < 0)
    return -1;
  ret = store_image_read (s->st, what, platform ? &plat : NULL, &img, err);
  platform_release (&plat);
  if (ret < 0)
    return -1;
  /* The config's own bytes, whose SHA-256 is the image ID. */
  if (store_blob_read (s->st, img.config, CONFIG_MAX, &text, &len, err) < 0)
    {
      store_image_release (&img);
      return -1;
    }
  d = xcalloc (1, sizeof *d);
  d->target = xstrdup (img.target);
  d->manifest = xstrdup (img.manifest);
  d->id = xstrdup (img.id);
  d->config = text;
  d->config_len = len;
  d->size = json_integer_value (json_object_get (json_object_get (img.manifest_json, "config"),
                                                 "size"));
  d->n_layers = img.n_layers;
  d->diff_ids = xcalloc (img.n_layers + 1, sizeof *d->diff_ids);
  d->layer_sizes = xcalloc (img.n_layers + 1, sizeof *d->layer_sizes);
  for (i = 0; i < img.n_layers; i++)
    {
      d->diff_ids[i] = xstrdup (img.diff_ids[i]);
      d->layer_sizes[i] = img.layers[i].size;
      d->size += img.layers[i].size;
    }
  store_image_release (&img);
  *out = d;
  return 0;
}

void
bale_image_details_free (struct bale_image_details *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < d->n_layers; i++)
    free (d->diff_ids[i]);
  free (d->diff_ids);
  free (d->layer_sizes);
  free (d->target);
  free (d->manifest);
  free (d->id);
  free (d->config);
  free (d);
}

void
bale_strv_free (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

/* A growing NULL-terminated list of strings. */
struct strv
{
  char **v;
  size_t n, alloc;
};

static void
strv_add (struct strv *l, const char *s)
{
  XGROW (l->v, l->alloc, l->n + 2);
  l->v[l->n++] = xstrdup (s);
  l->v[l->n] = NULL;
}

static char **
strv_finish (struct strv *l)
{
  return l->v ? l->v : xcalloc (1, sizeof (char *));
}

/* Delete every name of the image target (same image ID; any image when NULL), only the
   untagged images' digest names when untagged_only is set; each name removed goes to done. */
static int
untag_where (struct store *st, const char *target, bool untagged_only, struct strv *done,
             bale_error_t *err)
{
  struct store_ref *refs = NULL;
  char want[DIGEST_STRLEN + 1], id[DIGEST_STRLEN + 1];
  size_t n = 0, i;
  int ret;

  if ((ret = store_ref_list (st, &refs, &n, err)) < 0)
    return ret;
  if (target)
    store_image_id (st, target, want);
  for (i = 0; i < n && ret == 0; i++)
    {
      if (target)
        store_image_id (st, refs[i].digest, id);
      if ((target && strcmp (id, want) != 0) || (untagged_only && !digest_is_valid (refs[i].name)))
        continue;
      if ((ret = store_ref_delete (st, refs[i].name, err)) == 0)
        strv_add (done, refs[i].name);
    }
  store_refs_free (refs, n);
  return ret;
}

/* Remove what (a name, or an ID); target receives the image it named. */
static int
remove_one (struct store *st, const char *what, char target[DIGEST_STRLEN + 1], struct strv *done,
            bale_error_t *err)
{
  bale_error_t not_a_name = NULL;

  if (!digest_is_valid (what) && store_ref_get (st, what, target, &not_a_name) == 0)
    {
      cleanup_free char *full = store_ref_normalize (what, err);

      if (full == NULL || store_ref_delete (st, what, err) < 0)
        return -1;
      strv_add (done, full);
      return 0;
    }
  bale_error_release (&not_a_name);
  if (store_resolve (st, what, target, err) < 0)
    return -1;
  /* What `docker rmi ID` does: every name of the image goes. */
  return untag_where (st, target, false, done, err);
}

/* Collect every blob no name, pin or build cache entry needs; *freed may be NULL. */
static int
collect (struct store *st, int64_t *freed, bale_error_t *err)
{
  struct cache_blobs *keep = NULL;
  int ret = cache_blobs_load (st, &keep, err);

  if (ret == 0)
    ret = store_gc (st, cache_keep, keep, freed, err);
  cache_blobs_free (keep);
  return ret;
}

int
bale_images_remove (bale_store *s, const char *const *what, size_t n, char ***untagged,
                    char ***deleted, bale_error_t *err)
{
  char (*targets)[DIGEST_STRLEN + 1] = xcalloc (n + 1, sizeof *targets);
  struct strv done = { 0 }, gone = { 0 };
  size_t i;
  int ret = 0;

  for (i = 0; i < n && ret == 0; i++)
    ret = remove_one (s->st, what[i], targets[i], &done, err);
  /* Blobs go only when no other name, pin or build cache entry still needs them. */
  if (ret == 0)
    ret = collect (s->st, NULL, err);
  for (i = 0; ret == 0 && i < n; i++)
    if (!store_blob_exists (s->st, targets[i]))
      strv_add (&gone, targets[i]);
  free (targets);
  if (untagged)
    *untagged = strv_finish (&done);
  else
    bale_strv_free (done.v);
  if (ret == 0 && deleted)
    *deleted = strv_finish (&gone);
  else
    bale_strv_free (gone.v);
  return ret;
}

int
bale_store_prune (bale_store *s, int64_t keep_storage, char ***untagged, int64_t *reclaimed,
                  bale_error_t *err)
{
  struct strv done = { 0 };
  int64_t freed = 0, mounts = 0;
  int ret;

  if (keep_storage < -1)
    return bale_make_error (err, EINVAL, "prune: keep_storage %lld is negative",
                            (long long) keep_storage);
  /* Untagged images are kept under their own digest (see store.h): docker's dangling ones. */
  ret = untag_where (s->st, NULL, true, &done, err);
  if (ret == 0)
    ret = cache_prune (s->st, keep_storage, NULL, err);
  /* As `docker builder prune` does, cache mounts go too, unless some storage is to be kept:
     their contents have no last use to rank them by. */
  if (ret == 0 && keep_storage < 0)
    ret = cache_mounts_prune (s->st, &mounts, err);
  if (ret == 0)
    ret = collect (s->st, &freed, err);
  if (ret == 0 && untagged)
    *untagged = strv_finish (&done);
  else
    bale_strv_free (done.v);
  if (ret == 0 && reclaimed)
    *reclaimed = freed + mounts;
  return ret;
}
