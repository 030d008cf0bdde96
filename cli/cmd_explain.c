/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale explain`: what `docker run IMAGE ARGS` will execute, where it came from, whether it can
   start in the image, and the traps. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/imgfs.h"
#include "codegen/explain.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/store/layout_read.h"
#include "runtime/store/store.h"
#include "common/banned.h"

static void
explain_usage (FILE *f)
{
  fputs ("usage: bale explain [IMAGE | --dir OCI_DIR [NAME]] [--entrypoint X] [-u USER] [-w DIR]\n"
         "                    [-e K=V]... [--format text|json] [--platform P] [-- ARGS...]\n"
         "  IMAGE              an image in bale's store\n"
         "  --platform P       the image of a multi-platform index (default: this machine's)\n"
         "  --dir OCI_DIR      an OCI image layout; NAME picks an image by its ref.name\n"
         "  --entrypoint X     as `docker run --entrypoint X`\n"
         "  -u, --user USER    as `docker run --user USER`\n"
         "  -w, --workdir DIR  as `docker run --workdir DIR`\n"
         "  -e, --env K=V      as `docker run --env K=V` (only PATH changes what is checked)\n"
         "  --format FORMAT    text (default) or json\n" CLI_HELP_USAGE
         "  ARGS               the arguments given to `docker run IMAGE ARGS`\n",
         f);
}

struct explain_cli
{
  struct explain_opts eo;
  const char *dir, *format, *name;
  const char *platform; /* --platform: which image of an index */
  char **env; /* owned strings */
};

static void
add_env (struct explain_cli *c, const char *arg)
{
  /* docker run -e K takes K from the caller's environment, and drops it when unset there. */
  if (!strchr (arg, '=') && !getenv (arg))
    return;
  c->env = xrealloc (c->env, (c->eo.n_env + 1) * sizeof *c->env);
  c->env[c->eo.n_env++] = strchr (arg, '=') ? xstrdup (arg) : xasprintf ("%s=%s", arg, getenv (arg));
  c->eo.env = c->env;
}

static int
parse_opts (int argc, char **argv, struct explain_cli *c)
{
  static const struct option opts[] = {
    { "dir", required_argument, NULL, 'd' },
    { "entrypoint", required_argument, NULL, 'E' },
    { "user", required_argument, NULL, 'u' },
    { "workdir", required_argument, NULL, 'w' },
    { "env", required_argument, NULL, 'e' },
    { "format", required_argument, NULL, 'F' },
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int ch;

  /* '+': the first non-option is the image; options may follow it too, up to `--`. */
  while (optind < argc && strcmp (argv[optind - 1], "--") != 0)
    {
      if ((ch = getopt_long (argc, argv, "+hu:w:e:", opts, NULL)) == -1)
        {
          if (c->name || c->dir || strcmp (argv[optind - 1], "--") == 0)
            break;
          c->name = argv[optind++];
          continue;
        }
      switch (ch)
        {
        case 'd': c->dir = optarg; break;
        case 'E': c->eo.entrypoint = optarg; break;
        case 'u': c->eo.user = optarg; break;
        case 'w': c->eo.workdir = optarg; break;
        case 'e': add_env (c, optarg); break;
        case 'F': c->format = optarg; break;
        case 'p': c->platform = optarg; break;
        case 'h': explain_usage (stdout); exit (0);
        default: cli_usage_error ("explain");
        }
    }
  /* --dir DIR NAME: the name follows the layout. */
  if (c->dir && !c->name && optind < argc && strcmp (argv[optind - 1], "--") != 0 && strcmp (argv[optind], "--") != 0)
    c->name = argv[optind++];
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  c->eo.args = argv + optind;
  c->eo.n_args = (size_t) (argc - optind);
  return 0;
}

/* The image's config, the digest its provenance is kept under, and its layers. */
static int
open_image (struct cli_global *g, struct explain_cli *c, json_t **config, char digest[DIGEST_STRLEN + 1],
            struct imgfs_layers *layers, bale_error_t *err)
{
  json_auto_t *manifest = NULL;
  const json_t *ls, *ids;
  struct store_image img = { 0 };
  struct store *s;

  if (!c->dir)
    {
      if (!(s = cli_store_get (g, err)) || cli_store_image_read (g, s, c->name, &img, err) < 0)
        return -1;
      *config = json_incref (img.config_json);
      memcpy (digest, img.config, DIGEST_STRLEN + 1);
      layers->n = img.n_layers;
      layers->blobs = xcalloc (img.n_layers + 1, sizeof *layers->blobs);
      layers->diff_ids = xcalloc (img.n_layers + 1, sizeof *layers->diff_ids);
      for (size_t i = 0; i < img.n_layers; i++)
        {
          layers->blobs[i] = store_blob_path (s, img.layers[i].digest);
          layers->diff_ids[i] = xstrdup (img.diff_ids[i]);
        }
      store_image_release (&img);
      return 0;
    }
  if (layout_read_image (c->dir, c->name, &manifest, config, digest, err) < 0)
    return -1;
  ls = json_object_get (manifest, "layers");
  ids = json_object_get (json_object_get (*config, "rootfs"), "diff_ids");
  if (json_array_size (ls) != json_array_size (ids))
    return bale_make_error (err, 0, "%s: the manifest has %zu layers and the config %zu diff_ids", c->dir,
                            json_array_size (ls), json_array_size (ids));
  layers->blobs = xcalloc (json_array_size (ls) + 1, sizeof *layers->blobs);
  layers->diff_ids = xcalloc (json_array_size (ls) + 1, sizeof *layers->diff_ids);
  for (layers->n = 0; layers->n < json_array_size (ls); layers->n++)
    {
      const char *d = json_string_value (json_object_get (json_array_get (ls, layers->n), "digest"));
      const char *id = json_string_value (json_array_get (ids, layers->n));

      if (!(layers->blobs[layers->n] = layout_blob_path (c->dir, d ? d : "")) || !id)
        return bale_make_error (err, 0, "%s: layer %zu has no valid digest or diff_id", c->dir, layers->n);
      layers->diff_ids[layers->n] = xstrdup (id);
    }
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
check_image (struct cli_global *g, json_t *ex, const json_t *config, const json_t *prov,
             const struct imgfs_layers *layers)
{
  const json_t *img_cmd = json_object_get (json_object_get (config, "config"), "Cmd");
  cleanup_free const char **v1 = NULL, **v2 = NULL;
  struct startcheck_in in = { 0 }, in_cmd;
  json_t *check = NULL, *cmd_check = NULL;
  bale_error_t e = NULL;
  struct store *s = cli_store_get (g, &e);

  fill_in (ex, json_object_get (ex, "argv"), &in, &v1);
  fill_in (ex, img_cmd, &in_cmd, &v2);
  if (s && store_txn_begin (s, &e) == 0)
    {
      if (imgfs_startcheck (s, layers, &in, &check, &e) == 0 && json_array_size (img_cmd) && in.n_argv
          && strcmp (json_string_value (json_object_get (json_object_get (ex, "cmd"), "origin")), "run arguments") == 0)
        imgfs_startcheck (s, layers, &in_cmd, &cmd_check, &e);
      store_txn_end (s);
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
bale_cmd_explain (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct explain_cli c = { .format = "text" };
  struct imgfs_layers layers = { 0 };
  json_t *config = NULL, *prov = NULL, *ex = NULL;
  char digest[DIGEST_STRLEN + 1];
  int ret = -1;

  parse_opts (argc, argv, &c);
  g->platform = c.platform;
  if (strcmp (c.format, "text") != 0 && strcmp (c.format, "json") != 0)
    return bale_make_error (err, 0, "explain: unknown format '%s' (want text or json)", c.format);
  if (!c.dir && !c.name)
    return bale_make_error (err, 0, "explain: name an image, or an OCI layout with --dir");
  c.eo.image = c.name ? c.name : c.dir;
  if (open_image (g, &c, &config, digest, &layers, err) < 0 || cli_provenance_read (g, digest, &prov, err) < 0)
    goto out;
  ex = explain_image (config, prov, &c.eo);
  check_image (g, ex, config, prov, &layers);
  {
    char *s = strcmp (c.format, "json") == 0 ? json_dumps (ex, JSON_INDENT (2)) : explain_to_text (ex);
    fputs (s, stdout);
    if (strcmp (c.format, "json") == 0)
      putchar ('\n');
    free (s);
  }
  ret = 0;
out:
  for (size_t i = 0; i < c.eo.n_env; i++)
    free (c.env[i]);
  free (c.env);
  layers_release (&layers);
  json_decref (config);
  json_decref (prov);
  json_decref (ex);
  return ret;
}
