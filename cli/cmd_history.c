/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale history IMAGE`: the steps an image was made of, newest first, as `docker history`
   prints them (cli/command/image/formatter_history.go). */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "cli/humantime.h"
#include "cli/table.h"
#include "common/cleanup.h"
#include "common/oci/digest.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define DEFAULT_TABLE "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
#define RAW_TABLE "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"

struct history_opts
{
  const char *format;
  bool quiet, no_trunc, human;
};

/* docker's Ellipsis (s, 45) of the command, tabs made spaces: 44 characters and "…". */
static char *
created_by (const char *s, bool trunc)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  size_t chars = 0, i, cut = 0;

  for (i = 0; s[i]; i++)
    {
      strbuf_addch (&sb, s[i] == '\t' ? ' ' : s[i]);
      if (((unsigned char) s[i] & 0xc0) != 0x80 && ++chars == 45)
        cut = i;
    }
  if (trunc && chars > 45)
    {
      strbuf_setlen (&sb, cut);
      strbuf_addstr (&sb, "\xe2\x80\xa6");
    }
  return strbuf_detach (&sb, NULL);
}

static json_t *
history_row (const struct history_opts *o, const char *id, const json_t *h, int64_t size)
{
  const char *when = json_string_value (json_object_get (h, "created"));
  const char *by = json_string_value (json_object_get (h, "created_by"));
  const char *comment = json_string_value (json_object_get (h, "comment"));
  time_t t = cli_parse_time (when);
  cleanup_free char *since = NULL, *at = NULL, *cmd = created_by (by ? by : "", !o->no_trunc);
  cleanup_free char *sz = o->human ? cli_human_size (size) : xasprintf ("%lld", (long long) size);
  cleanup_free char *shown_id = NULL;

  at = t < 0 ? xstrdup ("N/A") : cli_time_rfc3339 (t);
  since = o->human ? cli_time_since (t) : xstrdup (at);
  shown_id = id == NULL ? xstrdup ("<missing>")
             : o->no_trunc ? xstrdup (id)
                           : xstrndup (digest_hex (id), 12);
  /* The keys sorted, as docker's {{json .}} of the row (a map) prints them. */
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment", comment ? comment : "",
                    "CreatedAt", at, "CreatedBy", cmd, "CreatedSince", since, "ID", shown_id,
                    "Size", sz);
}

/* One row per history entry, its layer's size for those that made one; an image without
   history (made by a tool that writes none) gets one row per layer. Newest first. */
static json_t *
history_rows (const struct history_opts *o, const struct bale_image_details *img, json_t *config,
              bale_error_t *err)
{
  json_t *hist = json_object_get (config, "history");
  json_auto_t *rows = json_array ();
  size_t i, layer = 0, n = json_array_size (hist);

  for (i = 0; i < n; i++)
    {
      json_t *h = json_array_get (hist, i);
      int64_t size = 0;

      if (!json_is_true (json_object_get (h, "empty_layer")))
        {
          if (layer >= img->n_layers)
            {
              bale_make_error (err, 0, "the image's history names more layers (%zu) than it has (%zu)",
                               layer + 1, img->n_layers);
              return NULL;
            }
          size = img->layer_sizes[layer++];
        }
      json_array_insert_new (rows, 0, history_row (o, i + 1 == n ? img->id : NULL, h, size));
    }
  for (; n == 0 && layer < img->n_layers; layer++)
    {
      json_auto_t *h = json_object ();

      json_array_insert_new (rows, 0, history_row (o, layer + 1 == img->n_layers ? img->id : NULL,
                                                   h, img->layer_sizes[layer]));
    }
  return json_incref (rows);
}

static void
history_usage (FILE *f)
{
  fputs ("usage: bale history [OPTIONS] IMAGE\n"
         "  --format FORMAT       table (default), json (one object per line), 'table TEMPLATE'\n"
         "                        or a Go template ({{.ID}}, {{.CreatedBy}}, {{.Size}}, ...)\n"
         "  -h, --help            print this help\n"
         "  -H, --human[=BOOL]    sizes and dates for people (default true)\n"
         "      --no-trunc        full IDs and commands\n"
         "  -q, --quiet           only the IDs\n",
         f);
}

static int
history_args (int argc, char **argv, struct history_opts *o)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },
    { "human", optional_argument, NULL, 'H' },
    { "no-trunc", no_argument, NULL, 'T' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  o->human = true;
  while ((c = getopt_long (argc, argv, "H::qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'F': o->format = optarg; break;
      case 'H':
        /* pflag's -H=false reaches getopt's optional argument as "=false". */
        if (optarg && *optarg == '=')
          optarg++;
        if (optarg == NULL || strcmp (optarg, "true") == 0 || strcmp (optarg, "1") == 0)
          o->human = true;
        else if (strcmp (optarg, "false") == 0 || strcmp (optarg, "0") == 0)
          o->human = false;
        else
          cli_usage_fail ("history", "--human takes true or false, not '%s'", optarg);
        break;
      case 'T': o->no_trunc = true; break;
      case 'q': o->quiet = true; break;
      case 'h': history_usage (stdout); exit (0);
      default: cli_usage_error ("history");
      }
  if (argc - optind != 1)
    cli_usage_fail ("history", "requires exactly 1 argument");
  return optind;
}

int
bale_cmd_history (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct history_opts o = { 0 };
  bale_store *s = NULL;
  struct bale_image_details *img = NULL;
  json_auto_t *rows = NULL, *names = NULL, *config = NULL;
  json_error_t jerr;
  int first, ret;

  if ((first = history_args (argc, argv, &o)) < 0 || cli_bale_store (g, &s, err) < 0)
    return -1;
  if (bale_image_details_get (s, argv[first], NULL, &img, err) < 0)
    {
      bale_store_close (s);
      return -1;
    }
  /* The store checked the config when it read the image: it is JSON. */
  config = json_loadb (img->config, img->config_len, 0, &jerr);
  rows = config ? history_rows (&o, img, config, err) : NULL;
  if (!config)
    bale_make_error (err, 0, "the config of '%s': %s", argv[first], jerr.text);
  names = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE", "CreatedSince", "CREATED",
                     "CreatedAt", "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE",
                     "Comment", "COMMENT");
  if (o.quiet && o.format == NULL)
    o.format = "{{.ID}}";
  ret = rows ? cli_format_rows (o.format, o.human ? DEFAULT_TABLE : RAW_TABLE, rows, names, err) : -1;
  if (rows && ret < 0)
    bale_error_wrap (err, "--format");
  bale_image_details_free (img);
  bale_store_close (s);
  return ret;
}
