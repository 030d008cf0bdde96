/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale inspect`: image details as JSON, a subset of `docker image inspect`. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/store.h"
#include "cli/table.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/banned.h"

static json_t *
config_get (const struct store_image *img, const char *key)
{
  json_t *v = json_object_get (img->config_json, key);

  return v ? json_incref (v) : json_string ("");
}

/* One element of docker's inspect array, its fields in docker's order. */
static json_t *
describe (const struct store_image *img, const struct store_ref *refs, size_t n)
{
  json_t *o = json_object ();
  json_t *layers = json_array ();
  json_int_t size = json_integer_value (
      json_object_get (json_object_get (img->manifest_json, "config"), "size"));
  json_t *config = json_object_get (img->config_json, "config");
  size_t i;

  for (i = 0; i < img->n_layers; i++)
    {
      json_array_append_new (layers, json_string (img->diff_ids[i]));
      size += img->layers[i].size;
    }
  json_object_set_new (o, "Id", json_string (img->id));
  json_object_set_new (o, "RepoTags", cli_repo_tags (refs, n, img->target));
  json_object_set_new (o, "Created", config_get (img, "created"));
  json_object_set_new (o, "Architecture", config_get (img, "architecture"));
  if (json_object_get (img->config_json, "variant"))
    json_object_set_new (o, "Variant", config_get (img, "variant"));
  json_object_set_new (o, "Os", config_get (img, "os"));
  json_object_set_new (o, "Size", json_integer (size));
  json_object_set_new (o, "Config", config ? json_incref (config) : json_object ());
  json_object_set_new (o, "RootFS", json_pack ("{s:s, s:o}", "Type", "layers", "Layers", layers));
  json_object_set_new (o, "Manifest", json_string (img->manifest));
  return o;
}

static void
inspect_usage (FILE *f)
{
  fputs ("usage: bale inspect [OPTIONS] NAME...\n"
         "  -f, --format FORMAT   json (compact), or a Go template run on each image\n"
         "                        ({{.Id}}, {{json .Config}}, {{index .RepoTags 0}}, ...)\n"
         "  -h, --help            print this help\n"
         "      --type TYPE       image (the only kind of object bale has)\n",
         f);
}

static int
inspect_args (int argc, char **argv, const char **format, bale_error_t *err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { "type", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "f:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'f': *format = optarg; break;
      case 't':
        if (strcmp (optarg, "image") != 0)
          return bale_make_error (err, 0, "inspect: --type %s: bale has only images", optarg);
        break;
      case 'h': inspect_usage (stdout); exit (0);
      default: cli_usage_error ("inspect");
      }
  if (optind >= argc)
    {
      fprintf (stderr, "bale inspect: requires at least 1 argument\n");
      cli_usage_error ("inspect");
    }
  return optind;
}

int
bale_cmd_inspect (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  const char *format = NULL;
  int first = inspect_args (argc, argv, &format, err);
  json_auto_t *out = json_array ();
  struct store *s = NULL;
  struct store_ref *refs = NULL;
  size_t n = 0;
  int i, ret;

  if (first < 0 || cli_store_open (g, &s, err) < 0)
    return -1;
  if (store_ref_list (s, &refs, &n, err) < 0)
    {
      store_close (s);
      return -1;
    }
  /* As docker: every image found is printed, every one missing is an error (exit 1). */
  for (i = first, ret = 0; i < argc; i++)
    {
      struct store_image img;

      if (store_image_read (s, argv[i], NULL, &img, err) < 0)
        ret = -1;
      else
        {
          json_array_append_new (out, describe (&img, refs, n));
          store_image_release (&img);
        }
    }
  if (format && *format && strcmp (format, "json") != 0)
    {
      /* A template error is the command's error, whatever else went wrong. */
      if (cli_format_objects (format, out, err) < 0)
        ret = bale_error_wrap (err, "inspect: --format");
    }
  else
    {
      cleanup_free char *text = json_dumps (out, JSON_PRESERVE_ORDER | (format && *format
                                                                       ? JSON_COMPACT
                                                                       : JSON_INDENT (4)));

      puts (text);
    }
  store_refs_free (refs, n);
  store_close (s);
  return ret;
}
