/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Arguments of the subcommands that take only --help and operands (a file of its own: the
   front program links it without what only bale-core's commands need). */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/apicmd.h"
#include "common/banned.h"

int
cli_simple_args (int argc, char **argv, const char *usage, int min, int max, bale_error_t *err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, n;

  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    {
      fputs (usage, c == 'h' ? stdout : stderr);
      if (c == 'h')
        fputs (CLI_HELP_USAGE, stdout);
      exit (c == 'h' ? 0 : 2);
    }
  n = argc - optind;
  if (n < min || (max >= 0 && n > max))
    {
      fputs (usage, stderr);
      exit (2);
    }
  return optind;
}
