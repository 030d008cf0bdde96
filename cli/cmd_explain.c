/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale explain`: what `docker run IMAGE ARGS` will execute, where it came from, and the traps. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "codegen/explain.h"
#include "common/error.h"
#include "runtime/layout_read.h"
#include "common/banned.h"

static void
explain_usage (FILE *f)
{
  fputs ("usage: bale explain [IMAGE | --dir OCI_DIR [NAME]] [--entrypoint X] [--format text|json]\n"
         "                    [-- ARGS...]\n"
         "  IMAGE              an image in bale's store\n"
         "  --dir OCI_DIR      an OCI image layout; NAME picks an image by its ref.name\n"
         "  --entrypoint X     as `docker run --entrypoint X`\n"
         "  --format FORMAT    text (default) or json\n"
         "  ARGS               the arguments given to `docker run IMAGE ARGS`\n",
         f);
}

int
bale_cmd_explain (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const struct option opts[] = {
    { "dir", required_argument, NULL, 'd' },
    { "entrypoint", required_argument, NULL, 'e' },
    { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct explain_opts eo = { 0 };
  const char *dir = NULL, *format = "text", *name = NULL;
  json_t *config = NULL, *prov = NULL, *ex = NULL;
  char digest[DIGEST_STRLEN + 1];
  int c, ret = -1;

  /* '+': the first non-option is the image; what follows it (after `--`) is run arguments. */
  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 'd': dir = optarg; break;
      case 'e': eo.entrypoint = optarg; break;
      case 'F': format = optarg; break;
      case 'h': explain_usage (stdout); exit (0);
      default: explain_usage (stderr); exit (2);
      }
  if (optind < argc && strcmp (argv[optind - 1], "--") != 0)
    name = argv[optind++];
  /* Options may follow the image too (`bale explain app --format json -- x`). */
  while (optind < argc && strcmp (argv[optind - 1], "--") != 0
         && (c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 'd': dir = optarg; break;
      case 'e': eo.entrypoint = optarg; break;
      case 'F': format = optarg; break;
      default: explain_usage (stderr); exit (2);
      }
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  eo.args = argv + optind;
  eo.n_args = (size_t) (argc - optind);
  if (strcmp (format, "text") != 0 && strcmp (format, "json") != 0)
    return bale_make_error (err, 0, "explain: unknown format '%s' (want text or json)", format);
  if (!dir && !name)
    return bale_make_error (err, 0, "explain: name an image, or an OCI layout with --dir");

  if (dir)
    {
      if (layout_read_config (dir, name, &config, digest, err) < 0)
        return -1;
      eo.image = name ? name : dir;
    }
  else if (cli_image_config (g, name, &config, digest, err) < 0)
    return -1;
  else
    eo.image = name;
  if (cli_provenance_read (g, digest, &prov, err) < 0)
    goto out;
  ex = explain_image (config, prov, &eo);
  if (strcmp (format, "json") == 0)
    {
      char *s = json_dumps (ex, JSON_INDENT (2));
      puts (s);
      free (s);
    }
  else
    {
      char *s = explain_to_text (ex);
      fputs (s, stdout);
      free (s);
    }
  ret = 0;
out:
  json_decref (config);
  json_decref (prov);
  json_decref (ex);
  return ret;
}
