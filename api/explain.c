/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bale_explain: what `docker run IMAGE ARGS` will execute (codegen/explain.c), where it came
 * from (the build provenance the store keeps), and whether it can start in the image (the
 * start checks, run on the image's filesystem mounted in a child process: imgfs_startcheck).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "api/imgfs.h"
#include "codegen/explain.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/oci/platform.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/store/layout_read.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* The build provenance the store keeps under the config digest; NULL without error when there
   is none (an image bale did not build). */
static int
read_provenance (struct store *st, const char *config_digest, json_t **prov, bale_error_t *err)
{
  cleanup_free char *name = xasprintf ("%s.json", digest_hex (config_digest));
  cleanup_free char *path = store_area_path (st, STORE_AREA_PROVENANCE, name);
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  json_error_t je;

  *prov = NULL;
  if (fd < 0)
    return errno == ENOENT ? 0 : bale_make_error (err, errno, "cannot open provenance %s", name);
  if (fileio_read_fd (fd, name, &sb, err) < 0)
    return -1;
  if (!(*prov = json_loadb (sb.buf, sb.len, 0, &je)))
    return bale_make_error (err, 0, "provenance %s: %s", name, je.text);
  return 0;
}

static void
layers_release (struct imgfs_layers *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->blobs[i]);
      free (l->diff_ids[i]);
    }
  free (l->blobs);
  free (l->diff_ids);
}

/* The image of the store: its config, config digest and layers. */
static int
open_stored (struct store *st, const char *what, const char *platform, json_t **config,
             char digest[DIGEST_STRLEN + 1], struct imgfs_layers *layers, bale_error_t *err)
{
  struct bale_platform pl = { 0 };
  struct store_image img = { 0 };
  int r;

  if (platform && platform_parse (platform, &pl, err) < 0)
    return bale_error_wrap (err, "--platform");
  r = store_image_read (st, what, platform ? &pl : NULL, &img, err);
  platform_release (&pl);
  if (r < 0)
    return -1;
  *config = json_incref (img.config_json);
  memcpy (digest, img.config, DIGEST_STRLEN + 1);
  layers->n = img.n_layers;
  layers->blobs = xcalloc (img.n_layers + 1, sizeof *layers->blobs);
  layers->diff_ids = xcalloc (img.n_layers + 1, sizeof *layers->diff_ids);
  for (size_t i = 0; i < img.n_layers; i++)
    {
      layers->blobs[i] = store_blob_path (st, img.layers[i].digest);
      layers->diff_ids[i] = xstrdup (img.diff_ids[i]);
    }
  store_image_release (&img);
  return 0;
}

/* The image of an OCI layout (name: its ref.name, or NULL). */
static int
open_layout (const char *dir, const char *name, json_t **config, char digest[DIGEST_STRLEN + 1],
             struct imgfs_layers *layers, bale_error_t *err)
{
  json_auto_t *manifest = NULL;
  const json_t *ls, *ids;

  if (layout_read_image (dir, name, &manifest, config, digest, err) < 0)
    return -1;
  ls = json_object_get (manifest, "layers");
  ids = json_object_get (json_object_get (*config, "rootfs"), "diff_ids");
  if (json_array_size (ls) != json_array_size (ids))
    return bale_make_error (err, 0, "%s: the manifest has %zu layers and the config %zu diff_ids", dir,
                            json_array_size (ls), json_array_size (ids));
  layers->blobs = xcalloc (json_array_size (ls) + 1, sizeof *layers->blobs);
  layers->diff_ids = xcalloc (json_array_size (ls) + 1, sizeof *layers->diff_ids);
  for (layers->n = 0; layers->n < json_array_size (ls); layers->n++)
    {
      const char *d = json_string_value (json_object_get (json_array_get (ls, layers->n), "digest"));
      const char *id = json_string_value (json_array_get (ids, layers->n));

      if (!(layers->blobs[layers->n] = layout_blob_path (dir, d ? d : "")) || !id)
        return bale_make_error (err, 0, "%s: layer %zu has no valid digest or diff_id, or its blob is not a regular file of the layout", dir, layers->n);
      layers->diff_ids[layers->n] = xstrdup (id);
    }
  return 0;
}

static void
fill_in (const json_t *ex, const json_t *argv, struct startcheck_in *in, const char ***v)
{
  *v = xcalloc (json_array_size (argv) + 1, sizeof **v);
  for (size_t i = 0; i < json_array_size (argv); i++)
    (*v)[i] = json_string_value (json_array_get (argv, i));
  in->argv = *v;
  in->n_argv = json_array_size (argv);
  in->path = json_string_value (json_object_get (ex, "path"));
  in->workdir = json_string_value (json_object_get (ex, "workdir"));
  in->user = json_string_value (json_object_get (ex, "user"));
}

/* The start checks of the command, and of the image's own CMD when run arguments replace it
   (for the advice). Failing to read the filesystem is no error: the outcome is "unknown". */
static void
check_image (struct store *st, json_t *ex, const json_t *config, const json_t *prov,
             const struct imgfs_layers *layers)
{
  const json_t *img_cmd = json_object_get (json_object_get (config, "config"), "Cmd");
  cleanup_free const char **v1 = NULL, **v2 = NULL;
  struct startcheck_in in = { 0 }, in_cmd;
  json_t *check = NULL, *cmd_check = NULL;
  bale_error_t e = NULL;

  fill_in (ex, json_object_get (ex, "argv"), &in, &v1);
  fill_in (ex, img_cmd, &in_cmd, &v2);
  if (!st)
    bale_make_error (&e, 0, "no store to unpack the image in");
  else if (store_txn_begin (st, &e) == 0)
    {
      if (imgfs_startcheck (st, layers, &in, &check, &e) == 0 && json_array_size (img_cmd) && in.n_argv
          && strcmp (json_string_value (json_object_get (json_object_get (ex, "cmd"), "origin")), "run arguments") == 0)
        imgfs_startcheck (st, layers, &in_cmd, &cmd_check, &e);
      store_txn_end (st);
    }
  if (check)
    explain_add_checks (ex, check, cmd_check, config, prov);
  else
    explain_checks_unavailable (ex, e ? e->msg : "unknown error");
  json_decref (check);
  json_decref (cmd_check);
  bale_error_release (&e);
}

int
bale_explain (bale_store *s, const struct bale_explain_options *o, char **json, char **text,
              bale_error_t *err)
{
  struct store *st = s ? s->st : NULL;
  struct imgfs_layers layers = { 0 };
  json_t *config = NULL, *prov = NULL, *ex = NULL;
  struct explain_opts eo = { 0 };
  char digest[DIGEST_STRLEN + 1];
  int ret = -1;

  if (o->struct_size < offsetof (struct bale_explain_options, n_env) + sizeof o->n_env)
    return bale_make_error (err, EINVAL, "bale_explain: struct_size %zu is not that of this "
                            "library's struct bale_explain_options (%zu): set it with "
                            "BALE_EXPLAIN_OPTIONS_INIT", o->struct_size, sizeof *o);
  if (!o->layout && (!o->image || !st))
    return bale_make_error (err, EINVAL, "bale_explain: name an image of a store, or an OCI layout");
  if (o->layout ? open_layout (o->layout, o->image, &config, digest, &layers, err) < 0
                : open_stored (st, o->image, o->platform, &config, digest, &layers, err) < 0)
    goto out;
  if (st && read_provenance (st, digest, &prov, err) < 0)
    goto out;
  eo.image = o->image ? o->image : o->layout;
  eo.entrypoint = o->entrypoint;
  eo.args = (char *const *) o->args;
  eo.n_args = o->n_args;
  eo.user = o->user;
  eo.workdir = o->workdir;
  eo.env = (char *const *) o->env;
  eo.n_env = o->n_env;
  ex = explain_image (config, prov, &eo);
  check_image (st, ex, config, prov, &layers);
  if (json)
    *json = json_dumps (ex, JSON_INDENT (2));
  if (text)
    *text = explain_to_text (ex);
  ret = 0;
out:
  layers_release (&layers);
  json_decref (config);
  json_decref (prov);
  json_decref (ex);
  return ret;
}
