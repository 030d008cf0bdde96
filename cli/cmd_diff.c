/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale diff`: every difference between two images, to find out why two builds differ. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/imgsrc.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/layer/fsmeta.h"
#include "runtime/layer/imgdiff.h"
#include "common/banned.h"

/* diff(1) and cmp(1) exit 1 for "different", so trouble needs a status of its own. */
#define DIFF_EXIT_TROUBLE 2

static void
diff_usage (FILE *f)
{
  fputs ("usage: bale diff [--ignore-timestamps] [--format text|json] [--platform P] IMAGE_A IMAGE_B\n"
         "  IMAGE                 a name or ID in bale's store, oci:DIR[:TAG], a path to an\n"
         "                        OCI layout (/DIR or ./DIR), oci-archive:FILE or\n"
         "                        docker-archive:FILE\n"
         "  --ignore-timestamps   leave out config and history `created`, and file mtimes\n"
         "  --format FORMAT       text (default: one line per difference) or json\n"
         "  --platform P          the image of a multi-platform index (default: this machine's)\n" CLI_HELP_USAGE
         "exit status: 0 when the images are equal, 1 when they differ, 2 on trouble\n",
         f);
}

struct diff_opts
{
  unsigned flags; /* enum imgdiff_flags */
  bool json;
  const char *a, *b;
  const char *platform; /* --platform: which image of an index */
};

static int
parse_args (int argc, char **argv, struct diff_opts *o, bale_error_t *err)
{
  static const struct option opts[] = {
    { "ignore-timestamps", no_argument, NULL, 'T' },
    { "format", required_argument, NULL, 'F' },
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = "text";
  int c;

  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'T': o->flags |= IMGDIFF_IGNORE_TIMESTAMPS; break;
      case 'F': format = optarg; break;
      case 'p': o->platform = optarg; break;
      case 'h': diff_usage (stdout); exit (0);
      default: diff_usage (stderr); exit (DIFF_EXIT_TROUBLE);
      }
  if (argc - optind != 2)
    {
      diff_usage (stderr);
      exit (DIFF_EXIT_TROUBLE);
    }
  if (strcmp (format, "json") != 0 && strcmp (format, "text") != 0)
    return bale_make_error (err, 0, "diff: unknown format '%s' (want text or json)", format);
  o->json = strcmp (format, "json") == 0;
  o->a = argv[optind];
  o->b = argv[optind + 1];
  return 0;
}

/* Apply every layer of src, in order, to a fresh file table. */
static struct fsmeta *
flatten (const struct imgsrc *src, bale_error_t *err)
{
  struct fsmeta *fs = fsmeta_new ();
  size_t i;

  for (i = 0; i < src->n_layers; i++)
    {
      cleanup_close int fd = open (src->layers[i], O_RDONLY | O_CLOEXEC);
      cleanup_free char *name = xasprintf ("layer %zu", i);

      if (fd < 0)
        {
          bale_make_error (err, errno, "cannot open layer %zu ('%s')", i, src->layers[i]);
          break;
        }
      if (fsmeta_apply_layer (fs, fd, name, err) < 0)
        {
          bale_error_wrap (err, "layer %zu ('%s')", i, src->layers[i]);
          break;
        }
    }
  if (i == src->n_layers)
    return fs;
  fsmeta_free (fs);
  return NULL;
}

/* Open one operand and flatten its file system; errors say which operand failed. */
static struct fsmeta *
load (struct cli_global *g, const char *what, struct imgsrc *src, bale_error_t *err)
{
  struct fsmeta *fs = NULL;

  if (imgsrc_open (g, what, src, err) == 0)
    fs = flatten (src, err);
  if (!fs)
    bale_error_wrap (err, "diff: image '%s'", what);
  return fs;
}

static void
print_diff (const struct imgdiff *d, bool json)
{
  if (json)
    {
      json_auto_t *j = imgdiff_to_json (d);
      cleanup_free char *s = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      puts (s);
    }
  else
    {
      cleanup_free char *s = imgdiff_to_text (d);
      fputs (s, stdout);
    }
}

int
bale_cmd_diff (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct diff_opts o = { 0 };
  struct imgsrc a = { 0 }, b = { 0 };
  struct fsmeta *fa = NULL, *fb = NULL;
  struct imgdiff d = { 0 };
  int ret = -1;

  g->error_status = DIFF_EXIT_TROUBLE;
  if (parse_args (argc, argv, &o, err) < 0)
    return -1;
  g->platform = o.platform;
  fa = load (g, o.a, &a, err);
  if (fa)
    fb = load (g, o.b, &b, err);
  if (fa && fb)
    {
      d.flags = o.flags;
      imgdiff_configs (&d, a.config, b.config);
      imgdiff_files (&d, fa, fb);
      print_diff (&d, o.json);
      ret = d.n > 0 ? 1 : 0;
    }
  imgdiff_release (&d);
  fsmeta_free (fa);
  fsmeta_free (fb);
  imgsrc_release (&a);
  imgsrc_release (&b);
  return ret;
}
