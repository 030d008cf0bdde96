/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Arguments of the subcommands that take only --help and operands (a file of its own: the
   front program links it without what only bale-core's commands need). */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/banned.h"

int
cli_simple_args (int argc, char **argv, const char *usage, int min, int max, bale_error_t *err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  /* argv[0] is "bale CMD" (cli/main.c), or CMD alone from `bale help CMD` */
  const char *cmd = strncmp (argv[0], "bale ", 5) == 0 ? argv[0] + 5 : argv[0];
  int c, n;

  (void) err;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    {
      if (c != 'h')
        cli_usage_error (cmd);
      fputs (usage, stdout);
      fputs (CLI_HELP_USAGE, stdout);
      exit (0);
    }
  n = argc - optind;
  if (max == 0 && n > 0)
    cli_usage_fail (cmd, "accepts no arguments");
  if (min == max && n != min)
    cli_usage_fail (cmd, "requires exactly %d argument%s", min, min == 1 ? "" : "s");
  if (n < min)
    cli_usage_fail (cmd, "requires at least %d argument%s", min, min == 1 ? "" : "s");
  if (max >= 0 && n > max)
    cli_usage_fail (cmd, "requires at most %d argument%s", max, max == 1 ? "" : "s");
  return optind;
}
