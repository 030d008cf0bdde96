/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale diff`: every difference between two images, to find out why two builds differ. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/banned.h"

/* diff(1) and cmp(1) exit 1 for "different", so trouble needs a status of its own. */
#define DIFF_EXIT_TROUBLE 2

static void
diff_usage (FILE *f)
{
  fputs ("usage: bale diff [--ignore-timestamps] [--format text|json] [--platform P] IMAGE_A IMAGE_B\n"
         "  IMAGE                 a name or ID in bale's store, oci:DIR[:TAG], a path to an\n"
         "                        OCI layout (/DIR or ./DIR), oci-archive:FILE or\n"
         "                        docker-archive:FILE\n"
         "  --ignore-timestamps   leave out config and history `created`, and file mtimes\n"
         "  --format FORMAT       text (default: one line per difference) or json\n"
         "  --platform P          the image of a multi-platform index (default: this machine's)\n" CLI_HELP_USAGE
         "exit status: 0 when the images are equal, 1 when they differ, 2 on trouble\n",
         f);
}

struct diff_opts
{
  struct bale_diff_options o; /* flags, and --platform: which image of an index */
  bool json;
  const char *a, *b;
};

static int
parse_args (int argc, char **argv, struct diff_opts *o)
{
  static const struct option opts[] = {
    { "ignore-timestamps", no_argument, NULL, 'T' },
    { "format", required_argument, NULL, 'F' },
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = "text";
  int c;

  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'T': o->o.flags |= BALE_DIFF_IGNORE_TIMESTAMPS; break;
      case 'F': format = optarg; break;
      case 'p': o->o.platform = optarg; break;
      case 'h': diff_usage (stdout); exit (0);
      default: cli_usage_error ("diff"); /* 2, diff's trouble status too */
      }
  if (argc - optind != 2)
    cli_usage_fail ("diff", "requires exactly 2 arguments");
  if (strcmp (format, "json") != 0 && strcmp (format, "text") != 0)
    cli_usage_fail ("diff", "unknown format '%s' (want text or json)", format);
  o->json = strcmp (format, "json") == 0;
  o->a = argv[optind];
  o->b = argv[optind + 1];
  return 0;
}

int
bale_cmd_diff (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct diff_opts o = { .o = BALE_DIFF_OPTIONS_INIT };
  bale_store *s = NULL;
  bale_error_t no_store = NULL;
  char *out = NULL;
  int n;

  cli_set_error_status (g, DIFF_EXIT_TROUBLE);
  if (parse_args (argc, argv, &o) < 0)
    return -1;
  /* Layouts and archives need no store: one that cannot be opened (a read-only command
     creates none) is only an error for an operand that names an image in it. */
  if (cli_bale_store (g, &s, &no_store) < 0)
    s = NULL;
  n = bale_diff (s, o.a, o.b, &o.o, o.json ? NULL : &out, o.json ? &out : NULL, err);
  bale_store_close (s);
  if (n < 0)
    {
      bale_error_wrap (err, "diff");
      /* Why there was no store, when that is what failed: the store's own error says it,
         after the operand's (whose status only told which failure it was). */
      if (*err && (*err)->status == ENXIO && no_store)
        {
          (*err)->status = 0;
          bale_error_join (err, &no_store);
        }
      bale_error_release (&no_store);
      return -1;
    }
  bale_error_release (&no_store);
  if (o.json)
    puts (out);
  else
    fputs (out, stdout);
  free (out);
  return n > 0 ? 1 : 0;
}
