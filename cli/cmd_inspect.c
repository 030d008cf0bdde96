/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale inspect`: image details as JSON, a subset of `docker image inspect`. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "cli/table.h"
#include "common/cleanup.h"
#include "common/oci/platform.h"
#include "common/banned.h"

static json_t *
config_get (json_t *config, const char *key)
{
  json_t *v = json_object_get (config, key);

  return v ? json_incref (v) : json_string ("");
}

/* ["busybox:latest", …]: the familiar names of the store's names that point at target. */
static json_t *
repo_tags (const struct bale_image *names, size_t n, const char *target)
{
  json_t *tags = json_array ();
  size_t i;

  for (i = 0; i < n; i++)
    {
      cleanup_free char *repo = NULL, *tag = NULL;

      if (strcmp (names[i].digest, target) == 0 && cli_familiar (names[i].name, &repo, &tag) == 0)
        json_array_append_new (tags, json_sprintf ("%s:%s", repo, tag));
    }
  return tags;
}

/* One element of docker's inspect array, its fields in docker's order. */
static json_t *
describe (const struct bale_image_details *img, json_t *cfg, const struct bale_image *names,
          size_t n)
{
  json_t *o = json_object ();
  json_t *layers = json_array ();
  json_t *config = json_object_get (cfg, "config");
  size_t i;

  for (i = 0; i < img->n_layers; i++)
    json_array_append_new (layers, json_string (img->diff_ids[i]));
  json_object_set_new (o, "Id", json_string (img->id));
  json_object_set_new (o, "RepoTags", repo_tags (names, n, img->target));
  json_object_set_new (o, "Created", config_get (cfg, "created"));
  json_object_set_new (o, "Architecture", config_get (cfg, "architecture"));
  if (json_object_get (cfg, "variant"))
    json_object_set_new (o, "Variant", config_get (cfg, "variant"));
  json_object_set_new (o, "Os", config_get (cfg, "os"));
  json_object_set_new (o, "Size", json_integer (img->size));
  json_object_set_new (o, "Config", config ? json_incref (config) : json_object ());
  json_object_set_new (o, "RootFS", json_pack ("{s:s, s:o}", "Type", "layers", "Layers", layers));
  json_object_set_new (o, "Manifest", json_string (img->manifest));
  return o;
}

/* The element of what, or NULL with an error. */
static json_t *
inspect_one (bale_store *s, const char *what, const char *platform,
             const struct bale_image *names, size_t n, bale_error_t *err)
{
  struct bale_image_details *img = NULL;
  json_auto_t *cfg = NULL;
  json_error_t jerr;
  json_t *o = NULL;

  struct bale_platform pl = { 0 };

  /* A bad --platform is named as the option, for each image as docker does. */
  if (platform && platform_parse (platform, &pl, err) < 0)
    {
      bale_error_wrap (err, "--platform");
      return NULL;
    }
  platform_release (&pl);
  if (bale_image_details_get (s, what, platform, &img, err) < 0)
    return NULL;
  /* The store checked the config when it read the image: it is JSON. */
  if ((cfg = json_loadb (img->config, img->config_len, 0, &jerr)) == NULL)
    bale_make_error (err, 0, "the config of '%s': %s", what, jerr.text);
  else
    o = describe (img, cfg, names, n);
  bale_image_details_free (img);
  return o;
}

static void
inspect_usage (FILE *f)
{
  fputs ("usage: bale inspect [OPTIONS] NAME...\n"
         "  -f, --format FORMAT   json (compact), or a Go template run on each image\n"
         "                        ({{.Id}}, {{json .Config}}, {{index .RepoTags 0}}, ...)\n"
         "  -h, --help            print this help\n"
         "      --platform P      the image of a multi-platform index (default: this machine's)\n"
         "      --type TYPE       image (the only kind of object bale has)\n",
         f);
}

static int
inspect_args (int argc, char **argv, const char **format, const char **platform)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { "type", required_argument, NULL, 't' },
    { "platform", required_argument, NULL, 'p' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "f:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'f': *format = optarg; break;
      case 'p': *platform = optarg; break;
      case 't':
        if (strcmp (optarg, "image") != 0)
          cli_usage_fail ("inspect", "--type %s: bale has only images", optarg);
        break;
      case 'h': inspect_usage (stdout); exit (0);
      default: cli_usage_error ("inspect");
      }
  if (optind >= argc)
    cli_usage_fail ("inspect", "requires at least 1 argument");
  return optind;
}

int
bale_cmd_inspect (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  const char *format = NULL, *platform = NULL;
  int first = inspect_args (argc, argv, &format, &platform);
  json_auto_t *out = json_array ();
  bale_store *s = NULL;
  struct bale_image *names = NULL;
  size_t n = 0;
  int i, ret;

  if (first < 0 || cli_bale_store (g, &s, err) < 0)
    return -1;
  if (bale_images_list (s, &names, &n, err) < 0)
    {
      bale_store_close (s);
      return -1;
    }
  /* As docker: every image found is printed, every one missing is an error (exit 1). */
  for (i = first, ret = 0; i < argc; i++)
    {
      json_t *o = inspect_one (s, argv[i], platform, names, n, err);

      if (o)
        json_array_append_new (out, o);
      else
        ret = -1;
    }
  if (format && *format && strcmp (format, "json") != 0)
    {
      /* A template error is the command's error, whatever else went wrong. */
      if (cli_format_objects (format, out, err) < 0)
        ret = bale_error_wrap (err, "--format");
    }
  else
    {
      cleanup_free char *text = json_dumps (out, JSON_PRESERVE_ORDER | (format && *format
                                                                       ? JSON_COMPACT
                                                                       : JSON_INDENT (4)));

      puts (text);
    }
  bale_images_free (names, n);
  bale_store_close (s);
  return ret;
}
