/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bale run`: run an image of the store in the build sandbox, with Docker's ENTRYPOINT/CMD
 * rules (bale_run). Every run is `--rm`.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/kv.h"
#include "common/banned.h"

static void
run_usage (FILE *f)
{
  fputs ("usage: bale run [--rm] [--entrypoint CMD] [-e K=V]... [-u USER] [-w DIR]\n"
         "                [--network none|host] [--platform P] IMAGE [ARGS...]\n"
         "  --rm               accepted for docker compatibility: bale never keeps containers\n"
         "  --entrypoint CMD   replace the image's ENTRYPOINT (and drop its CMD)\n"
         "  -e, --env K=V      set an environment variable (a bare K takes $K)\n"
         "  -u, --user USER    run as USER (name or uid[:gid])\n"
         "  -w, --workdir DIR  the working directory\n"
         "  --network MODE     host (default) or none\n"
         "  --platform P       the image of a multi-platform index to run (default: this\n"
         "                     machine's); a foreign one runs under its binfmt_misc emulator\n" CLI_HELP_USAGE,
         f);
}

struct run_opts
{
  struct bale_run_options o;
  struct kvlist env;
};

static int
parse_args (int argc, char **argv, struct run_opts *r)
{
  static const struct option opts[] = {
    { "rm", no_argument, NULL, 'r' },
    { "entrypoint", required_argument, NULL, 'E' },
    { "env", required_argument, NULL, 'e' },
    { "user", required_argument, NULL, 'u' },
    { "workdir", required_argument, NULL, 'w' },
    { "network", required_argument, NULL, 'n' },
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  /* '+': options end at the image; what follows belongs to the command. */
  while ((c = getopt_long (argc, argv, "+e:u:w:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'r': break;
      case 'E': r->o.entrypoint = optarg; break;
      case 'e':
        if (strchr (optarg, '='))
          kv_set_entry (&r->env, optarg);
        else if (getenv (optarg))
          kv_set (&r->env, optarg, getenv (optarg));
        break;
      case 'u': r->o.user = optarg; break;
      case 'w': r->o.workdir = optarg; break;
      case 'n': r->o.network = optarg; break;
      case 'p': r->o.platform = optarg; break;
      case 'h': run_usage (stdout); exit (0);
      /* docker run's usage errors: one pointer to the help, status 125. */
      default: fprintf (stderr, "see 'bale run --help'\n"); exit (125);
      }
  if (optind >= argc)
    {
      /* docker run's words and status */
      fprintf (stderr, "bale run: requires at least 1 argument\nsee 'bale run --help'\n");
      exit (125);
    }
  r->o.image = argv[optind++];
  r->o.args = (const char *const *) argv + optind;
  r->o.n_args = (size_t) (argc - optind);
  r->o.env = (const char *const *) r->env.kv;
  r->o.n_env = r->env.n;
  return 0;
}

int
bale_cmd_run (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct run_opts r = { .o = BALE_RUN_OPTIONS_INIT };
  bale_store *s = NULL;
  int status = 125, ret = -1;

  if (parse_args (argc, argv, &r) == 0 && cli_bale_store (g, &s, err) == 0)
    {
      fflush (stdout);
      ret = bale_run (s, &r.o, &status, err);
    }
  /* docker run's statuses: 125 when docker itself fails, 126/127 when the command cannot be
     executed (its message names the error already, in docker's words), else the command's. */
  if (ret < 0)
    {
      cli_set_error_status (g, status);
      if (status != 125 && *err)
        (*err)->status = 0;
    }
  bale_store_close (s);
  kv_release (&r.env);
  return ret < 0 ? -1 : status;
}
