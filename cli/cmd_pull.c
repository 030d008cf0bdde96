/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale pull`: fetch an image from a registry into the store. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/apicmd.h"
#include "common/banned.h"

static void
pull_usage (FILE *f)
{
  fputs ("usage: bale pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
         "      --platform OS/ARCH[/VARIANT]  the image to take from a multi-platform index\n"
         "                        (default: this machine's)\n"
         "  -q, --quiet           print only the digest\n" CLI_PROGRESS_USAGE CLI_HELP_USAGE
         CLI_REGISTRY_USAGE,
         f);
}

static int
pull_args (int argc, char **argv, struct cli_regopts *r)
{
  static const struct option opts[] = {
    { "platform", required_argument, NULL, 'p' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    CLI_REGISTRY_OPTIONS,
    CLI_PROGRESS_OPTION,
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'p': r->o.platform = optarg; break;
      case 'q': r->o.log = NULL; break;
      case 'h': pull_usage (stdout); exit (0);
      default:
        if (!cli_regopts_option (r, c, optarg))
          {
            pull_usage (stderr);
            exit (2);
          }
      }
  if (optind != argc - 1)
    {
      pull_usage (stderr);
      exit (2);
    }
  return optind;
}

int
bale_cmd_pull (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct cli_regopts r;
  char *digest = NULL;
  bale_store *s = NULL;
  int first, ret;

  cli_regopts_init (&r, cli_quiet (g));
  first = pull_args (argc, argv, &r);
  ret = cli_bale_store (g, &s, err);
  if (ret == 0)
    ret = cli_regopts_start (&r, "Pulling", err);
  if (ret == 0)
    ret = bale_image_pull_with (s, argv[first], &r.o, &digest, err);
  cli_regopts_finish (&r);
  if (ret == 0)
    printf ("%s\n", digest);
  free (digest);
  bale_store_close (s);
  cli_regopts_release (&r);
  return ret;
}
