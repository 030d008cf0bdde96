/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale images`: the images of the store, as `docker images` prints them, with its filters
   and --format. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/apicmd.h"
#include "cli/humantime.h"
#include "cli/table.h"
#include "common/cleanup.h"
#include "common/gomatch.h"
#include "common/oci/digest.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define DEFAULT_TABLE "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
#define DIGESTS_TABLE                                                                         \
  "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

struct images_opts
{
  const char *format;
  bool quiet, no_trunc, digests;
  char **filters; /* KEY=VALUE, checked by parse_filters */
  size_t n_filters;
};

/* What a row is filtered on, beside its JSON. */
struct row
{
  json_t *o; /* Repository, Tag, ID, … as docker's --format sees them */
  time_t created;
  json_t *labels; /* the config's Labels, for label= */
  char *name;     /* the stored name */
};

/* The image of the store's name ref and its config, or -1 with an error. */
static int
read_image (bale_store *s, const char *what, struct bale_image_details **img, json_t **config,
            bale_error_t *err)
{
  json_error_t jerr;

  if (bale_image_details_get (s, what, NULL, img, err) < 0)
    return -1;
  /* The store checked the config when it read the image: it is JSON. */
  if ((*config = json_loadb ((*img)->config, (*img)->config_len, 0, &jerr)) == NULL)
    {
      bale_image_details_free (*img);
      return bale_make_error (err, 0, "the config of '%s': %s", what, jerr.text);
    }
  return 0;
}

static int
fill_row (bale_store *s, const struct bale_image *ref, bool no_trunc, struct row *r,
          bale_error_t *err)
{
  cleanup_free char *repo = NULL, *tag = NULL, *since = NULL, *size = NULL, *id = NULL;
  struct bale_image_details *img;
  json_auto_t *config = NULL;
  const char *created;
  json_t *labels;

  if (read_image (s, ref->digest, &img, &config, err) < 0)
    return bale_error_wrap (err, "image '%s'", ref->name);
  cli_familiar (ref->name, &repo, &tag);
  created = json_string_value (json_object_get (config, "created"));
  r->created = cli_parse_time (created);
  since = cli_time_since (r->created);
  size = cli_human_size (img->size);
  id = no_trunc ? xstrdup (img->id) : xstrndup (digest_hex (img->id), 12);
  labels = json_object_get (json_object_get (config, "config"), "Labels");
  /* Keys in docker's order for {{json .}}: its row is a map, so sorted. */
  r->o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers",
                    "N/A", "CreatedAt", created ? created : "", "CreatedSince", since, "Digest",
                    ref->digest, "ID", id, "Repository", repo, "SharedSize", "N/A", "Size", size,
                    "Tag", tag, "UniqueSize", "N/A", "VirtualSize", size);
  r->labels = json_is_object (labels) ? json_incref (labels) : json_object ();
  r->name = xstrdup (ref->name);
  bale_image_details_free (img);
  return 0;
}

/* Newest first, as docker sorts; then by name. */
static int
compare_rows (const void *a, const void *b)
{
  const struct row *x = a, *y = b;
  int c;

  if (x->created != y->created)
    return x->created < y->created ? 1 : -1;
  c = strcmp (json_string_value (json_object_get (x->o, "Repository")),
              json_string_value (json_object_get (y->o, "Repository")));
  return c ? c : strcmp (json_string_value (json_object_get (x->o, "Tag")),
                         json_string_value (json_object_get (y->o, "Tag")));
}

/* docker's reference filter: reference.FamiliarMatch, on "repo:tag" and then on "repo". */
static bool
match_reference (const struct row *r, const char *pattern)
{
  const char *repo = json_string_value (json_object_get (r->o, "Repository"));
  cleanup_free char *full = xasprintf ("%s:%s", repo,
                                       json_string_value (json_object_get (r->o, "Tag")));

  if (strcmp (repo, "<none>") == 0)
    return false;
  return gomatch (pattern, full) == 1 || gomatch (pattern, repo) == 1;
}

static bool
match_label (const struct row *r, const char *want)
{
  const char *eq = strchr (want, '=');
  cleanup_free char *key = eq ? xstrndup (want, (size_t) (eq - want)) : xstrdup (want);
  json_t *v = json_object_get (r->labels, key);

  return v && (eq == NULL || strcmp (json_string_value (v) ? json_string_value (v) : "", eq + 1) == 0);
}

/* The filter kinds, each given any number of times: a row passes a kind when one of its
   values matches (docker ORs values of one key and ANDs the keys). */
static const char *const kinds[] = { "reference", "dangling", "label", "before", "since" };
#define N_KINDS (sizeof kinds / sizeof kinds[0])

struct filter_set
{
  bool given[N_KINDS];
  time_t before, since;
  int dangling; /* -1: not given */
};

static int
image_time (bale_store *s, const char *name, time_t *out, bale_error_t *err)
{
  struct bale_image_details *img;
  json_auto_t *config = NULL;

  if (read_image (s, name, &img, &config, err) < 0)
    return -1;
  *out = cli_parse_time (json_string_value (json_object_get (config, "created")));
  bale_image_details_free (img);
  return 0;
}

static int
parse_filters (bale_store *s, const struct images_opts *o, struct filter_set *fs,
               bale_error_t *err)
{
  size_t i, k;

  fs->dangling = -1;
  for (i = 0; i < o->n_filters; i++)
    {
      const char *f = o->filters[i], *eq = strchr (f, '=');
      const char *v = eq ? eq + 1 : NULL;

      if (eq == NULL)
        return bale_make_error (err, 0, "bad format of filter '%s' (expected name=value)", f);
      for (k = 0; k < N_KINDS; k++)
        if (strlen (kinds[k]) == (size_t) (eq - f) && strncmp (f, kinds[k], (size_t) (eq - f)) == 0)
          break;
      if (k == N_KINDS)
        return bale_make_error (err, 0, "invalid filter '%.*s' (want reference, dangling, label, before or since)",
                                (int) (eq - f), f);
      fs->given[k] = true;
      if (strcmp (kinds[k], "dangling") == 0)
        {
          int d = strcmp (v, "true") == 0 || strcmp (v, "1") == 0 ? 1
                  : strcmp (v, "false") == 0 || strcmp (v, "0") == 0 ? 0
                                                                     : -1;
          if (d < 0)
            return bale_make_error (err, 0, "invalid filter 'dangling=%s' (want true or false)", v);
          fs->dangling = d;
        }
      else if (strcmp (kinds[k], "before") == 0 || strcmp (kinds[k], "since") == 0)
        {
          time_t *t = kinds[k][0] == 'b' ? &fs->before : &fs->since;

          if (image_time (s, v, t, err) < 0)
            return bale_error_wrap (err, "filter %s", f);
        }
    }
  return 0;
}

static bool
row_passes (const struct row *r, const struct images_opts *o, const struct filter_set *fs)
{
  bool any[N_KINDS] = { false };
  size_t i, k;

  for (i = 0; i < o->n_filters; i++)
    {
      const char *f = o->filters[i], *v = strchr (f, '=') + 1;

      for (k = 0; strncmp (f, kinds[k], (size_t) (v - 1 - f)) != 0; k++)
        ;
      if (k == 0)
        any[k] |= match_reference (r, v);
      else if (k == 2)
        any[k] |= match_label (r, v);
    }
  if ((fs->given[0] && !any[0]) || (fs->given[2] && !any[2]))
    return false;
  if (fs->dangling >= 0 && (digest_is_valid (r->name) ? 1 : 0) != fs->dangling)
    return false;
  if (fs->given[3] && !(r->created < fs->before))
    return false;
  return !fs->given[4] || r->created > fs->since;
}

static void
images_usage (FILE *f)
{
  fputs ("usage: bale images [OPTIONS]\n"
         "  -a, --all             accepted: bale keeps no intermediate images\n"
         "      --digests         show the digest column\n"
         "  -f, --filter FILTER   only images that match: reference=PATTERN, dangling=true|false,\n"
         "                        label=KEY[=VALUE], before=IMAGE, since=IMAGE (repeatable)\n"
         "      --format FORMAT   table (default), json (one object per line), 'table TEMPLATE'\n"
         "                        or a Go template ({{.Repository}}, {{.Tag}}, {{.ID}}, ...)\n"
         "  -h, --help            print this help\n"
         "      --no-trunc        full image IDs\n"
         "  -q, --quiet           only the image IDs\n",
         f);
}

static int
images_args (int argc, char **argv, struct images_opts *o)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "digests", no_argument, NULL, 'D' },
    { "filter", required_argument, NULL, 'f' },
    { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },
    { "no-trunc", no_argument, NULL, 'T' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "af:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'a': break;
      case 'D': o->digests = true; break;
      case 'f':
        o->filters = xgrow_one (o->filters, o->n_filters, sizeof *o->filters);
        o->filters[o->n_filters++] = optarg;
        break;
      case 'F': o->format = optarg; break;
      case 'T': o->no_trunc = true; break;
      case 'q': o->quiet = true; break;
      case 'h': images_usage (stdout); exit (0);
      default: cli_usage_error ("images");
      }
  if (optind < argc)
    cli_usage_fail ("images", "unexpected argument '%s'", argv[optind]);
  return 0;
}

/* The column names of docker's image table, for "table …" formats. */
static json_t *
headers (void)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository",
                    "REPOSITORY", "Tag", "TAG", "ID", "IMAGE ID", "Digest", "DIGEST",
                    "CreatedSince", "CREATED", "CreatedAt", "CREATED AT", "Size", "SIZE",
                    "VirtualSize", "VIRTUAL SIZE", "Containers", "CONTAINERS", "SharedSize",
                    "SHARED SIZE", "UniqueSize", "UNIQUE SIZE");
}

int
bale_cmd_images (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct images_opts o = { 0 };
  struct filter_set fs = { 0 };
  bale_store *s = NULL;
  struct bale_image *refs = NULL;
  struct row *rows = NULL;
  json_auto_t *shown = json_array (), *names = headers ();
  size_t n = 0, i;
  int ret = 0;

  if (images_args (argc, argv, &o) < 0 || cli_bale_store (g, &s, err) < 0)
    {
      free (o.filters);
      return -1;
    }
  if (bale_images_list (s, &refs, &n, err) < 0 || parse_filters (s, &o, &fs, err) < 0)
    ret = -1;
  rows = xcalloc (n + 1, sizeof *rows);
  for (i = 0; i < n && ret == 0; i++)
    ret = fill_row (s, &refs[i], o.no_trunc, &rows[i], err);
  if (ret == 0)
    {
      qsort (rows, n, sizeof *rows, compare_rows);
      for (i = 0; i < n; i++)
        if (row_passes (&rows[i], &o, &fs))
          json_array_append (shown, rows[i].o);
      if (o.quiet && o.format == NULL)
        o.format = "{{.ID}}";
      ret = cli_format_rows (o.format, o.digests ? DIGESTS_TABLE : DEFAULT_TABLE, shown, names,
                             err);
      if (ret < 0)
        bale_error_wrap (err, "--format");
    }
  for (i = 0; i < n; i++)
    json_decref (rows[i].o), json_decref (rows[i].labels), free (rows[i].name);
  free (rows);
  free (o.filters);
  bale_images_free (refs, n);
  bale_store_close (s);
  return ret;
}
