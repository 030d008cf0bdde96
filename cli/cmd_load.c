/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale load`: import a docker-archive, an OCI archive or an OCI layout into the store. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/apicmd.h"
#include "common/cleanup.h"
#include "common/banned.h"

static void
load_usage (FILE *f)
{
  fputs ("usage: bale load [-i FILE]\n"
         "  -i, --input FILE   a docker-archive (docker save), an OCI archive or an OCI layout\n"
         "                     directory; standard input when missing or '-'\n" CLI_HELP_USAGE,
         f);
}

static const char *
load_args (int argc, char **argv)
{
  static const struct option opts[] = {
    { "input", required_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *input = "-";
  int c;

  while ((c = getopt_long (argc, argv, "i:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'i': input = optarg; break;
      case 'h': load_usage (stdout); exit (0);
      default: cli_usage_error ("load");
      }
  if (optind < argc)
    {
      fprintf (stderr, "bale load: accepts no arguments (the archive comes with -i or on stdin)\n");
      cli_usage_error ("load");
    }
  return input;
}

int
bale_cmd_load (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  const char *input = load_args (argc, argv);
  bale_store *s = NULL;
  char **names = NULL;
  size_t i;
  int ret;

  if (cli_bale_store (g, &s, err) < 0)
    return -1;
  ret = bale_image_load (s, input, &names, err);
  for (i = 0; ret == 0 && names[i]; i++)
    {
      cleanup_free char *repo = NULL, *tag = NULL;

      /* docker load's wording, which scripts grep for; an untagged image's name is its
         digest. */
      if (cli_familiar (names[i], &repo, &tag) == 0)
        printf ("Loaded image: %s:%s\n", repo, tag);
      else
        printf ("Loaded image ID: %s\n", names[i]);
    }
  bale_strv_free (names);
  bale_store_close (s);
  return ret;
}
