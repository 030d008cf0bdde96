/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale explain`: what `docker run IMAGE ARGS` will execute, where it came from, whether it can
   start in the image, and the traps. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "cli/table.h"
#include "common/xalloc.h"
#include "common/banned.h"

static void
explain_usage (FILE *f)
{
  fputs ("usage: bale explain [IMAGE | --dir OCI_DIR [NAME]] [--entrypoint X] [-u USER] [-w DIR]\n"
         "                    [-e K=V]... [--format text|json] [--platform P] [-- ARGS...]\n"
         "  IMAGE              an image in bale's store\n"
         "  --platform P       the image of a multi-platform index (default: this machine's)\n"
         "  --dir OCI_DIR      an OCI image layout; NAME picks an image by its ref.name\n"
         "  --entrypoint X     as `docker run --entrypoint X`\n"
         "  -u, --user USER    as `docker run --user USER`\n"
         "  -w, --workdir DIR  as `docker run --workdir DIR`\n"
         "  -e, --env K=V      as `docker run --env K=V` (only PATH changes what is checked)\n"
         "  --format FORMAT    text (default) or json\n" CLI_HELP_USAGE
         "  ARGS               the arguments given to `docker run IMAGE ARGS`\n",
         f);
}

struct explain_cli
{
  struct bale_explain_options eo;
  const char *format;
  char **env; /* owned strings */
};

static void
add_env (struct explain_cli *c, const char *arg)
{
  /* docker run -e K takes K from the caller's environment, and drops it when unset there. */
  if (!strchr (arg, '=') && !getenv (arg))
    return;
  c->env = xrealloc (c->env, (c->eo.n_env + 1) * sizeof *c->env);
  c->env[c->eo.n_env++] = strchr (arg, '=') ? xstrdup (arg) : xasprintf ("%s=%s", arg, getenv (arg));
  c->eo.env = (const char *const *) c->env;
}

static int
parse_opts (int argc, char **argv, struct explain_cli *c)
{
  static const struct option opts[] = {
    { "dir", required_argument, NULL, 'd' },
    { "entrypoint", required_argument, NULL, 'E' },
    { "user", required_argument, NULL, 'u' },
    { "workdir", required_argument, NULL, 'w' },
    { "env", required_argument, NULL, 'e' },
    { "format", required_argument, NULL, 'F' },
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int ch;

  /* '+': the first non-option is the image; options may follow it too, up to `--`. */
  while (optind < argc && strcmp (argv[optind - 1], "--") != 0)
    {
      if ((ch = getopt_long (argc, argv, "+hu:w:e:", opts, NULL)) == -1)
        {
          if (c->eo.image || c->eo.layout || strcmp (argv[optind - 1], "--") == 0)
            break;
          c->eo.image = argv[optind++];
          continue;
        }
      switch (ch)
        {
        case 'd': c->eo.layout = optarg; break;
        case 'E': c->eo.entrypoint = optarg; break;
        case 'u': c->eo.user = optarg; break;
        case 'w': c->eo.workdir = optarg; break;
        case 'e': add_env (c, optarg); break;
        case 'F': c->format = optarg; break;
        case 'p': c->eo.platform = optarg; break;
        case 'h': explain_usage (stdout); exit (0);
        default: cli_usage_error ("explain");
        }
    }
  /* --dir DIR NAME: the name follows the layout. */
  if (c->eo.layout && !c->eo.image && optind < argc && strcmp (argv[optind - 1], "--") != 0 && strcmp (argv[optind], "--") != 0)
    c->eo.image = argv[optind++];
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  c->eo.args = (const char *const *) argv + optind;
  c->eo.n_args = (size_t) (argc - optind);
  return 0;
}

int
bale_cmd_explain (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct explain_cli c = { .eo = BALE_EXPLAIN_OPTIONS_INIT, .format = "text" };
  bool json;
  bale_store *s = NULL;
  char *out = NULL;
  int ret;

  parse_opts (argc, argv, &c);
  if (strcmp (c.format, "text") != 0 && strcmp (c.format, "json") != 0)
    cli_usage_fail ("explain", "unknown format '%s' (want text or json)", c.format);
  if (!c.eo.layout && !c.eo.image)
    cli_usage_fail ("explain", "name an image, or an OCI layout with --dir");
  json = strcmp (c.format, "json") == 0;
  /* A layout is explained without a store too: no build record, checks unknown. */
  if (c.eo.layout)
    cli_plan_store (g, &s);
  ret = (c.eo.layout || cli_bale_store (g, &s, err) == 0)
            ? bale_explain (s, &c.eo, json ? &out : NULL, json ? NULL : &out, err)
            : -1;
  /* The text view quotes the image's strings (user, workdir, entrypoint) as they are: on a
     terminal their escape sequences are shown, not obeyed. JSON escapes them itself. */
  if (ret == 0 && json)
    printf ("%s\n", out);
  else if (ret == 0)
    cli_print_shown (out);
  free (out);
  bale_store_close (s);
  for (size_t i = 0; i < c.eo.n_env; i++)
    free (c.env[i]);
  free (c.env);
  return ret;
}
