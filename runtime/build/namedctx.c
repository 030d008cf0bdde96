/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `--build-context NAME=VALUE` as buildx resolves it: `FROM NAME` and `COPY --from=NAME` (and
 * RUN --mount from=NAME) read VALUE instead of the image NAME. docker-image://REF stands for
 * REF itself; oci-layout://DIR[:TAG] and a local DIR become images of the store under a
 * private name (a layout's image as it is, a directory as one layer owned by 0:0), which the
 * plan then reads as any image. The private names are removed when the build ends.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/build/namedctx.h"
#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/layer.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* A name in the one form every lookup compares: docker.io/library/x:latest. */
static char *
full_name (const char *name, bale_error_t *err)
{
  struct oci_ref r = { 0 };
  char *full;

  if (oci_ref_parse (name, 0, &r, err) < 0)
    return NULL;
  full = oci_ref_full (&r);
  oci_ref_release (&r);
  return full;
}

int
namedctx_add (struct namedctx *n, const char *arg, bale_error_t *err)
{
  const char *eq = strchr (arg, '=');
  cleanup_free char *name = eq ? xasprintf ("%.*s", (int) (eq - arg), arg) : NULL;
  bale_error_t e = NULL;
  char *full;

  if (!eq || !eq[1])
    return bale_make_error (err, 0, "invalid context value '%s', expected key=value", arg);
  if (!(full = full_name (name, &e)))
    {
      bale_error_release (&e);
      return bale_make_error (err, 0, "invalid context name %s", name);
    }
  XGROW (n->v, n->alloc, n->n + 1);
  /* Every field set: private_ref left to chance would have namedctx_release delete a ref of
     the user's (UBSan saw it in CI's sanitizer build). */
  n->v[n->n] = (struct namedctx_entry) { .name = full, .value = xstrdup (eq + 1) };
  n->n++;
  return 0;
}

/* The manifest an OCI layout's index.json names: by ref.name TAG, or its one entry. */
static int
layout_digest (const char *dir, const char *tag, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  json_t *idx = NULL, *m, *pick = NULL;
  size_t i;
  int ret = -1;

  /* A regular file of the layout: a symlink out, a FIFO (a wait without end) or a file past
     16 MiB is an error, as for `bale load` of the layout. */
  if (dfd < 0 || fileio_read_regular (dfd, "index.json", 16u << 20, &sb, err) < 0)
    return dfd < 0 ? bale_make_error (err, errno, "oci-layout://%s", dir)
                   : bale_error_wrap (err, "oci-layout://%s", dir);
  if (!(idx = json_loadb (sb.buf, sb.len, 0, NULL)))
    return bale_make_error (err, 0, "oci-layout://%s: cannot parse 'index.json'", dir);
  json_array_foreach (json_object_get (idx, "manifests"), i, m)
    {
      const char *rn = json_string_value (json_object_get (json_object_get (m, "annotations"),
                                                           "org.opencontainers.image.ref.name"));
      if (tag ? rn && strcmp (rn, tag) == 0 : json_array_size (json_object_get (idx, "manifests")) == 1)
        pick = m;
    }
  if (!pick || !json_is_string (json_object_get (pick, "digest")))
    bale_make_error (err, 0, "oci-layout reference \"%s%s%s\" has no digest", dir, tag ? ":" : "", tag ? tag : "");
  else
    {
      snprintf (out, DIGEST_STRLEN + 1, "%s", json_string_value (json_object_get (pick, "digest")));
      ret = 0;
    }
  json_decref (idx);
  return ret;
}

/* The layout's blobs into the store, its image named ref alone: the names its index.json
   gives its images are the layout's, not the user's (docker.io/library/busybox:latest there
   retagged the user's busybox for every later build). */
static int
from_layout (struct store *s, const char *spec, const char *ref, char digest[DIGEST_STRLEN + 1],
             bale_error_t *err)
{
  cleanup_free char *dir = xstrdup (spec);
  char *tag = strrchr (dir, ':');

  if (tag && !strchr (tag, '/'))
    *tag++ = '\0';
  else
    tag = NULL;
  return layout_digest (dir, tag, digest, err) < 0 || store_load_as (s, dir, digest, ref, err) < 0 ? -1 : 0;
}

/* A directory as a one-layer image: the layer (owners 0:0, as COPY from a context), a
   config naming it, a manifest. */
static int
from_dir (struct store *s, const char *dir, const struct bale_platform *pl,
          char digest[DIGEST_STRLEN + 1], bale_error_t *err)
{
  cleanup_free char *tmp = store_area_path (s, STORE_AREA_TMP, "ctx-XXXXXX");
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -1;
  struct layer_write_opts wo = { .compression = LAYER_COMPRESSION_NONE, .owner_set = true };
  struct layer_result res;
  char blob[DIGEST_STRLEN + 1], cfgd[DIGEST_STRLEN + 1];
  cleanup_free char *cfg = NULL, *man = NULL;
  size_t cfg_len, man_len;
  json_t *c, *m;

  if (dfd < 0)
    return bale_make_error (err, errno, "build context '%s'", dir);
  fd = mkstemp (tmp);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot create %s", tmp);
  unlink (tmp);
  if (layer_write_dir (dfd, &wo, fd, &res, err) < 0 || lseek (fd, 0, SEEK_SET) < 0
      || store_blob_put_fd (s, fd, dir, res.digest, blob, err) < 0)
    return -1;
  c = json_pack ("{s:s,s:s,s:{s:s,s:[s]},s:{}}", "architecture", pl->arch, "os", pl->os, "rootfs",
                 "type", "layers", "diff_ids", res.diff_id, "config");
  cfg = canonjson_dumps (c, &cfg_len, err);
  json_decref (c);
  if (!cfg || store_blob_put (s, cfg, cfg_len, cfgd, err) < 0)
    return -1;
  m = json_pack ("{s:i,s:s,s:{s:s,s:s,s:I},s:[{s:s,s:s,s:I}]}", "schemaVersion", 2, "mediaType",
                 "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                 "application/vnd.oci.image.config.v1+json", "digest", cfgd, "size", (json_int_t) cfg_len,
                 "layers", "mediaType", res.media_type, "digest", blob, "size", (json_int_t) res.size);
  man = canonjson_dumps (m, &man_len, err);
  json_decref (m);
  return man && store_blob_put (s, man, man_len, digest, err) == 0 ? 0 : -1;
}

int
namedctx_prepare (struct namedctx *n, struct store *s, const struct bale_platform *pl, bale_error_t *err)
{
  size_t i;

  for (i = 0; i < n->n; i++)
    {
      struct namedctx_entry *e = &n->v[i];
      char digest[DIGEST_STRLEN + 1];
      cleanup_free char *ref = xasprintf ("bale.local/named-context/c%zu:%d", i, (int) getpid ());
      int r;
      if (strncmp (e->value, "docker-image://", 15) == 0)
        {
          e->ref = xstrdup (e->value + 15);
          continue;
        }
      if (strncmp (e->value, "oci-layout://", 13) == 0)
        r = from_layout (s, e->value + 13, ref, digest, err);
      else if (strstr (e->value, "://"))
        r = bale_make_error (err, 0, "--build-context %s: only directories, docker-image:// and oci-layout:// are supported", e->value);
      else
        {
          struct stat st;
          r = stat (e->value, &st) < 0 ? bale_make_error (err, errno, "--build-context '%s'", e->value)
              : !S_ISDIR (st.st_mode) ? bale_make_error (err, ENOTDIR, "--build-context '%s'", e->value)
                                      : from_dir (s, e->value, pl, digest, err);
        }
      if (r < 0)
        return -1;
      e->ref = steal_pointer (&ref);
      e->private_ref = true; /* (a layout's is set already: setting it again changes nothing) */
      if (store_ref_set (s, e->ref, digest, err) < 0)
        return -1;
    }
  return 0;
}

const char *
namedctx_lookup (const struct namedctx *n, const char *image)
{
  bale_error_t e = NULL;
  cleanup_free char *full = full_name (image, &e);
  size_t i;

  bale_error_release (&e);
  for (i = 0; full && i < n->n; i++)
    if (n->v[i].ref && strcmp (n->v[i].name, full) == 0)
      return n->v[i].ref;
  return NULL;
}

void
namedctx_rewrite_plan (const struct namedctx *n, struct plan *p)
{
  size_t i, j, k;

  for (i = 0; n->n && i < p->n_stages; i++)
    for (j = 0; j < p->stages[i].n_steps; j++)
      {
        struct plan_step *s = &p->stages[i].steps[j];
        const char *to;
        if (s->from.stage < 0 && s->from.image && (to = namedctx_lookup (n, s->from.image)))
          {
            free (s->from.image);
            s->from.image = xstrdup (to);
          }
        for (k = 0; s->mount_from && k < s->n_mounts; k++)
          if (s->mount_from[k].stage < 0 && s->mount_from[k].image
              && (to = namedctx_lookup (n, s->mount_from[k].image)))
            {
              free (s->mount_from[k].image);
              s->mount_from[k].image = xstrdup (to);
            }
      }
}

void
namedctx_release (struct namedctx *n, struct store *s)
{
  size_t i;

  for (i = 0; i < n->n; i++)
    {
      if (n->v[i].private_ref && s)
        {
          bale_error_t e = NULL;
          store_ref_delete (s, n->v[i].ref, &e);
          bale_error_release (&e);
        }
      free (n->v[i].name);
      free (n->v[i].value);
      free (n->v[i].ref);
    }
  free (n->v);
  memset (n, 0, sizeof *n);
}
