/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale pull`: fetch an image from a registry into the store. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/registry.h"
#include "cli/store.h"
#include "common/error.h"
#include "common/banned.h"

static void
pull_usage (FILE *f)
{
  fputs ("usage: bale pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
         "      --platform OS/ARCH[/VARIANT]  the image to take from a multi-platform index\n"
         "                        (default: this machine's)\n"
         "  -q, --quiet           print only the digest\n" CLI_HELP_USAGE CLI_REGISTRY_USAGE,
         f);
}

static int
pull_args (int argc, char **argv, struct cli_registry *r, const char **platform)
{
  static const struct option opts[] = {
    { "platform", required_argument, NULL, 'p' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    CLI_REGISTRY_OPTIONS,
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'p': *platform = optarg; break;
      case 'q': r->opts.log = NULL; break;
      case 'h': pull_usage (stdout); exit (0);
      default:
        if (!cli_registry_option (r, c, optarg))
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
  struct cli_registry r;
  struct bale_platform plat = { 0 };
  const char *platform = NULL;
  char digest[DIGEST_STRLEN + 1];
  struct store *s = NULL;
  int first, ret;

  cli_registry_init (&r, g->quiet);
  first = pull_args (argc, argv, &r, &platform);
  ret = platform ? platform_parse (platform, &plat, err) : 0;
  if (ret == 0)
    ret = cli_store_open (g, &s, err);
  if (ret == 0)
    ret = registry_pull (s, argv[first], platform ? &plat : NULL, &r.opts, digest, err);
  if (ret == 0)
    printf ("%s\n", digest);
  store_close (s);
  platform_release (&plat);
  cli_registry_release (&r);
  return ret;
}
