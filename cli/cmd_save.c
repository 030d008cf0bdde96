/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale save`: write images of the store as one docker-archive that `docker load` accepts. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/apicmd.h"
#include "common/banned.h"

static void
save_usage (FILE *f)
{
  fputs ("usage: bale save [-o FILE] [--platform P] NAME...\n"
         "  -o, --output FILE   the docker-archive to write (Docker 25+ layout); standard\n"
         "                      output when missing or '-'\n"
         "      --platform P    of a multi-platform image, the image for P (os/arch[/variant]);\n"
         "                      the host's by default\n" CLI_HELP_USAGE,
         f);
}

static const char *
save_args (int argc, char **argv, const char **platform)
{
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *output = "-";
  int c;

  while ((c = getopt_long (argc, argv, "o:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'o': output = optarg; break;
      case 'p': *platform = optarg; break;
      case 'h': save_usage (stdout); exit (0);
      default: cli_usage_error ("save");
      }
  if (optind >= argc)
    {
      fprintf (stderr, "bale save: requires at least 1 argument\n");
      cli_usage_error ("save");
    }
  return output;
}

int
bale_cmd_save (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  const char *platform = NULL;
  const char *output = save_args (argc, argv, &platform);
  bale_store *s = NULL;
  char **saved = NULL;
  int ret, i;

  /* docker's words: a tar on a terminal is never what was meant. */
  if (strcmp (output, "-") == 0 && isatty (STDOUT_FILENO))
    return bale_make_error (err, 0, "cowardly refusing to save to a terminal: use -o FILE or "
                            "redirect the output");
  if (cli_bale_store (g, &s, err) < 0)
    return -1;
  ret = bale_image_save_platform (s, (const char *const *) argv + optind, (size_t) (argc - optind),
                                  output, platform, &saved, err);
  /* A docker-archive holds one image per name: say which one of an index it is. */
  for (i = 0; ret == 0 && i < argc - optind; i++)
    if (saved[i][0])
      fprintf (stderr, "%s: an image index: saved its %s image%s\n", argv[optind + i], saved[i],
               platform ? "" : " (--platform selects another)");
  bale_strv_free (saved);
  bale_store_close (s);
  return ret;
}
