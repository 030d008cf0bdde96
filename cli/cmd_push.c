/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale push`: upload an image of the store to a registry. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/banned.h"

static void
push_usage (FILE *f)
{
  fputs ("usage: bale push [OPTIONS] NAME [DESTINATION]\n"
         "Push the image NAME of the store to DESTINATION (default: NAME), a registry\n"
         "reference like registry.example.com/team/app:1.0. Prints the manifest digest.\n"
         "      --compression gzip|gzip-single|zstd|none  how to compress uncompressed layers (gzip;\n"
         "                        gzip-single: one gzip member, for readers that stop after one)\n"
         "      --chunk-size BYTES  upload blobs larger than this in chunks (64 MiB)\n"
         "  -q, --quiet           print only the digest\n" CLI_PROGRESS_USAGE CLI_HELP_USAGE
         CLI_REGISTRY_USAGE,
         f);
}

static int
push_args (int argc, char **argv, struct cli_regopts *r)
{
  static const struct option opts[] = {
    { "compression", required_argument, NULL, 'z' },
    { "chunk-size", required_argument, NULL, 'k' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    CLI_REGISTRY_OPTIONS,
    CLI_PROGRESS_OPTION,
    { NULL, 0, NULL, 0 },
  };
  char *end;
  int c;

  while ((c = getopt_long (argc, argv, "qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'z':
        /* A bad name is a usage error here, before the store is opened. */
        if (strcmp (optarg, "gzip") != 0 && strcmp (optarg, "gzip-single") != 0
            && strcmp (optarg, "zstd") != 0 && strcmp (optarg, "none") != 0)
          goto bad;
        r->o.compression = optarg;
        break;
      case 'k':
        r->o.chunk_size = strtoll (optarg, &end, 10);
        if (*end || r->o.chunk_size <= 0)
          goto bad;
        break;
      case 'q': r->o.log = NULL; break;
      case 'h': push_usage (stdout); exit (0);
      default:
        if (!cli_regopts_option (r, c, optarg))
          goto bad;
      }
  if (optind == argc - 1 || optind == argc - 2)
    return optind;
bad:
  push_usage (stderr);
  exit (2);
}

int
bale_cmd_push (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct cli_regopts r;
  char *digest = NULL;
  bale_store *s = NULL;
  int first, ret;

  cli_regopts_init (&r, cli_quiet (g));
  first = push_args (argc, argv, &r);
  ret = cli_bale_store (g, &s, err);
  if (ret == 0)
    ret = cli_regopts_start (&r, "Pushing", err);
  if (ret == 0)
    ret = bale_image_push_with (s, argv[first], first + 1 < argc ? argv[first + 1] : NULL, &r.o,
                                &digest, err);
  cli_regopts_finish (&r);
  if (ret == 0)
    printf ("%s\n", digest);
  free (digest);
  bale_store_close (s);
  cli_regopts_release (&r);
  return ret;
}
