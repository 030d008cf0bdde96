/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale parse`: the syntax tree of a Dockerfile, as JSON or as BuildKit's dump. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/banned.h"

struct parse_opts
{
  const char *file;
  const char *format;
  bool raw;
};

static void
parse_usage (FILE *f)
{
  fputs ("usage: bale parse [-f FILE] [--format json|dump] [--raw]\n"
         "  -f, --file FILE   the Dockerfile (default ./Dockerfile; '-' reads standard input)\n"
         "  --format FORMAT   json (the syntax tree, default) or dump (BuildKit's parser dump)\n"
         "  --raw             skip the instruction-level checks (BuildKit's parser.Parse only)\n" CLI_HELP_USAGE,
         f);
}

static int
parse_args (int argc, char **argv, struct parse_opts *o)
{
  static const struct option opts[] = {
    { "file", required_argument, NULL, 'f' },
    { "format", required_argument, NULL, 'F' },
    { "raw", no_argument, NULL, 'r' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  o->file = "Dockerfile";
  o->format = "json";
  while ((c = getopt_long (argc, argv, "f:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'f': o->file = optarg; break;
      case 'F': o->format = optarg; break;
      case 'r': o->raw = true; break;
      case 'h': parse_usage (stdout); exit (0);
      default: cli_usage_error ("parse");
      }
  if (optind < argc)
    cli_usage_fail ("parse", "unexpected argument '%s'", argv[optind]);
  if (strcmp (o->format, "json") != 0 && strcmp (o->format, "dump") != 0)
    cli_usage_fail ("parse", "unknown format '%s' (want json or dump)", o->format);
  return 0;
}

int
bale_cmd_parse (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct parse_opts o = { 0 };
  struct bale_dockerfile *df = NULL;
  char *text;

  (void) g;
  if (parse_args (argc, argv, &o) < 0)
    return -1;
  if ((o.raw ? bale_parse_file (o.file, &df, err) : bale_parse_file_checked (o.file, &df, err)) < 0)
    return -1;
  cli_print_diagnostics (df->warnings);
  if (strcmp (o.format, "dump") == 0)
    {
      text = bale_dump (df);
      fputs (text, stdout);
      free (text);
    }
  else if (bale_ast_write_json (df, 2, stdout) < 0 || fputc ('\n', stdout) == EOF)
    {
      bale_dockerfile_free (df);
      return bale_make_error (err, 0, "cannot write the syntax tree: %s", strerror (errno));
    }
  bale_dockerfile_free (df);
  return 0;
}
