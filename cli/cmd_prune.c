/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale prune`: drop untagged images, the build cache and RUN cache mounts, then collect
   every blob no name, pin or remaining cache entry needs. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/cleanup.h"
#include "common/units.h"
#include "common/banned.h"

static const char usage[] = "usage: bale prune [--keep-storage SIZE]\n"
                            "  --keep-storage SIZE  keep the most recently used build cache up to\n"
                            "                       SIZE bytes (suffixes k, m, g, t, p: powers of 1024),\n"
                            "                       and the RUN cache mounts\n" CLI_HELP_USAGE;

/* "512", "10k", "1.5g", "10GiB": docker's MemBytes (base 1024). */
static int
parse_size (const char *s, int64_t *out, bale_error_t *err)
{
  uint64_t v;

  if (!units_parse_bytes (s, &v))
    return bale_make_error (err, 0, "--keep-storage: invalid size '%s'", s);
  *out = (int64_t) v;
  return 0;
}

static int
parse_args (int argc, char **argv, int64_t *keep, bale_error_t *err)
{
  static const struct option opts[] = {
    { "keep-storage", required_argument, NULL, 'k' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int ch;

  *keep = -1;
  while ((ch = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (ch)
      {
      case 'k':
        if (parse_size (optarg, keep, err) < 0)
          return -1;
        break;
      case 'h': fputs (usage, stdout); exit (0);
      default: cli_usage_error ("prune");
      }
  if (optind != argc)
    cli_usage_fail ("prune", "accepts no arguments");
  return 0;
}

int
bale_cmd_prune (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  bale_store *s = NULL;
  char **untagged = NULL;
  int64_t reclaimed = 0, keep_bytes;
  size_t i;
  int ret;

  if (parse_args (argc, argv, &keep_bytes, err) < 0)
    return -1;
  if (cli_bale_store (g, &s, err) < 0)
    return -1;
  ret = bale_store_prune (s, keep_bytes, &untagged, &reclaimed, err);
  for (i = 0; ret == 0 && untagged[i]; i++)
    cli_print_untagged (untagged[i]);
  if (ret == 0)
    {
      cleanup_free char *size = cli_human_size (reclaimed);

      printf ("Total reclaimed space: %s\n", size);
    }
  bale_strv_free (untagged);
  bale_store_close (s);
  return ret;
}
