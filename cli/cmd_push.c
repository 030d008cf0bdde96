/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale push`: upload an image of the store to a registry. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/registry.h"
#include "cli/store.h"
#include "common/error.h"
#include "common/banned.h"

static void
push_usage (FILE *f)
{
  fputs ("usage: bale push [OPTIONS] NAME [DESTINATION]\n"
         "Push the image NAME of the store to DESTINATION (default: NAME), a registry\n"
         "reference like registry.example.com/team/app:1.0. Prints the manifest digest.\n"
         "      --compression gzip|zstd|none  how to compress uncompressed layers (gzip)\n"
         "      --chunk-size BYTES  upload blobs larger than this in chunks (64 MiB)\n"
         "  -q, --quiet           print only the digest\n" CLI_HELP_USAGE CLI_REGISTRY_USAGE,
         f);
}

static int
push_args (int argc, char **argv, struct cli_registry *r)
{
  static const struct option opts[] = {
    { "compression", required_argument, NULL, 'z' },
    { "chunk-size", required_argument, NULL, 'k' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    CLI_REGISTRY_OPTIONS,
    { NULL, 0, NULL, 0 },
  };
  char *end;
  int c;

  while ((c = getopt_long (argc, argv, "qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'z':
        if (!cli_registry_compression (&r->opts, optarg))
          goto bad;
        break;
      case 'k':
        r->opts.chunk_size = strtoll (optarg, &end, 10);
        if (*end || r->opts.chunk_size <= 0)
          goto bad;
        break;
      case 'q': r->opts.log = NULL; break;
      case 'h': push_usage (stdout); exit (0);
      default:
        if (!cli_registry_option (r, c, optarg))
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
  struct cli_registry r;
  char digest[DIGEST_STRLEN + 1];
  struct store *s = NULL;
  int first, ret;

  cli_registry_init (&r, g->quiet);
  first = push_args (argc, argv, &r);
  ret = cli_store_open (g, &s, err);
  if (ret == 0)
    ret = registry_push (s, argv[first], first + 1 < argc ? argv[first + 1] : NULL, &r.opts,
                         digest, err);
  if (ret == 0)
    printf ("%s\n", digest);
  store_close (s);
  cli_registry_release (&r);
  return ret;
}
