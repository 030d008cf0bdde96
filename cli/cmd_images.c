/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale images`: the images of the store, as `docker images` prints them. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/store.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define N_COLS 5

struct row
{
  char *cols[N_COLS]; /* REPOSITORY, TAG, IMAGE ID, CREATED, SIZE */
  char *digest;
  char *created_at;
  time_t created;
};

/* RFC 3339 ("2024-05-01T10:00:00.123Z", "…+02:00") to a time; -1 when it is not one. */
static time_t
parse_rfc3339 (const char *s)
{
  struct tm tm;
  const char *p;
  time_t t;

  memset (&tm, 0, sizeof tm);
  if (s == NULL || (p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
    return -1;
  t = timegm (&tm);
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      ;
  if ((*p == '+' || *p == '-') && strlen (p) >= 6)
    {
      long off = (long) (atoi (p + 1) * 3600 + atoi (p + 4) * 60);
      t -= *p == '+' ? off : -off;
    }
  return t;
}

/* go-units HumanDuration, which `docker images` prints followed by " ago". */
static char *
human_duration (time_t secs)
{
  long m = (long) (secs / 60), h = (long) ((secs + 1800) / 3600);

  if (secs < 1)
    return xstrdup ("Less than a second");
  if (secs == 1)
    return xstrdup ("1 second");
  if (secs < 60)
    return xasprintf ("%ld seconds", (long) secs);
  if (m == 1)
    return xstrdup ("About a minute");
  if (m < 60)
    return xasprintf ("%ld minutes", m);
  if (h == 1)
    return xstrdup ("About an hour");
  if (h < 48)
    return xasprintf ("%ld hours", h);
  if (h < 24 * 7 * 2)
    return xasprintf ("%ld days", h / 24);
  if (h < 24 * 30 * 2)
    return xasprintf ("%ld weeks", h / 24 / 7);
  if (h < 24 * 365 * 2)
    return xasprintf ("%ld months", h / 24 / 30);
  return xasprintf ("%ld years", h / 24 / 365);
}

static int64_t
image_size (const struct store_image *img)
{
  int64_t size = json_integer_value (
      json_object_get (json_object_get (img->manifest_json, "config"), "size"));
  size_t i;

  for (i = 0; i < img->n_layers; i++)
    size += img->layers[i].size;
  return size;
}

static int
fill_row (struct store *s, const struct store_ref *ref, struct row *r, bale_error_t *err)
{
  struct store_image img;
  const char *created;
  char *ago;

  if (store_image_read (s, ref->digest, NULL, &img, err) < 0)
    return bale_error_wrap (err, "image '%s'", ref->name);
  cli_familiar (ref->name, &r->cols[0], &r->cols[1]);
  r->cols[2] = xstrndup (digest_hex (img.id), 12);
  created = json_string_value (json_object_get (img.config_json, "created"));
  r->created = parse_rfc3339 (created);
  r->created_at = xstrdup (created ? created : "");
  ago = r->created < 0 ? NULL : human_duration (time (NULL) - r->created);
  r->cols[3] = ago ? xasprintf ("%s ago", ago) : xstrdup ("N/A");
  free (ago);
  r->cols[4] = cli_human_size (image_size (&img));
  r->digest = xstrdup (ref->digest);
  store_image_release (&img);
  return 0;
}

static void
rows_free (struct row *rows, size_t n)
{
  size_t i, j;

  for (i = 0; i < n; i++)
    {
      for (j = 0; j < N_COLS; j++)
        free (rows[i].cols[j]);
      free (rows[i].digest);
      free (rows[i].created_at);
    }
  free (rows);
}

/* Newest first, as docker sorts; then by name. */
static int
compare_rows (const void *a, const void *b)
{
  const struct row *x = a, *y = b;
  int c;

  if (x->created != y->created)
    return x->created < y->created ? 1 : -1;
  c = strcmp (x->cols[0], y->cols[0]);
  return c ? c : strcmp (x->cols[1], y->cols[1]);
}

static void
print_cells (char *const *cells, const int *width)
{
  size_t j;

  for (j = 0; j + 1 < N_COLS; j++)
    printf ("%-*s", width[j], cells[j]);
  printf ("%s\n", cells[N_COLS - 1]);
}

/* docker's tabwriter: minimum width 10, padding 3, the last column unpadded. */
static void
print_table (const struct row *rows, size_t n)
{
  static char *const header[N_COLS] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
  int width[N_COLS];
  size_t i, j;

  for (j = 0; j < N_COLS; j++)
    {
      width[j] = (int) strlen (header[j]);
      for (i = 0; i < n; i++)
        if ((int) strlen (rows[i].cols[j]) > width[j])
          width[j] = (int) strlen (rows[i].cols[j]);
      width[j] = width[j] + 3 < 10 ? 10 : width[j] + 3;
    }
  print_cells (header, width);
  for (i = 0; i < n; i++)
    print_cells (rows[i].cols, width);
}

/* `docker images --format json`: one object per line. */
static void
print_json (const struct row *rows, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      json_auto_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository",
                                  rows[i].cols[0], "Tag", rows[i].cols[1], "ID", rows[i].cols[2],
                                  "CreatedSince", rows[i].cols[3], "Size", rows[i].cols[4],
                                  "CreatedAt", rows[i].created_at, "Digest", rows[i].digest);
      cleanup_free char *text = json_dumps (o, JSON_COMPACT | JSON_SORT_KEYS);

      puts (text);
    }
}

static void
images_usage (FILE *f)
{
  fputs ("usage: bale images [--format table|json] [-q]\n"
         "  --format FORMAT   table (default) or json (one object per line)\n"
         "  -q, --quiet       only the image IDs\n",
         f);
}

static int
images_args (int argc, char **argv, const char **format, bool *quiet, bale_error_t *err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'f': *format = optarg; break;
      case 'q': *quiet = true; break;
      case 'h': images_usage (stdout); exit (0);
      default: cli_usage_error ("images");
      }
  if (optind < argc)
    return bale_make_error (err, 0, "images: unexpected argument '%s'", argv[optind]);
  if (strcmp (*format, "table") != 0 && strcmp (*format, "json") != 0)
    return bale_make_error (err, 0, "images: unknown format '%s' (want table or json)", *format);
  return 0;
}

int
bale_cmd_images (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  const char *format = "table";
  bool quiet = false;
  struct store *s = NULL;
  struct store_ref *refs = NULL;
  struct row *rows = NULL;
  size_t n = 0, i;
  int ret = 0;

  if (images_args (argc, argv, &format, &quiet, err) < 0 || cli_store_open (g, &s, err) < 0)
    return -1;
  if (store_ref_list (s, &refs, &n, err) < 0)
    n = 0, ret = -1;
  rows = xcalloc (n + 1, sizeof *rows);
  for (i = 0; i < n && ret == 0; i++)
    ret = fill_row (s, &refs[i], &rows[i], err);
  if (ret == 0)
    {
      qsort (rows, n, sizeof *rows, compare_rows);
      for (i = 0; quiet && i < n; i++)
        puts (rows[i].cols[2]);
      if (!quiet)
        (strcmp (format, "json") == 0 ? print_json : print_table) (rows, n);
    }
  rows_free (rows, n);
  store_refs_free (refs, n);
  store_close (s);
  return ret;
}
