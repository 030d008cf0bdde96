/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options `bale plan` and `bale lint` share (those of `bale build` that shape a plan),
   parsed once for both into a struct bale_plan_options. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* --platform P1,P2 and a repeated --platform add platforms, as buildx does; a plan is for one
   of them, so a second distinct one is refused by cli_planopts_parse. */
static int
add_platform (struct cli_planopts *po, const char *arg, size_t *n, bale_error_t *err)
{
  char *list = xstrdup (arg), *save = list, *item;
  int ret = 0;

  while ((item = strsep (&save, ",")) != NULL)
    {
      while (*item == ' ')
        item++;
      if (!*item)
        {
          ret = bale_make_error (err, 0, "invalid --platform '%s': an empty platform", arg);
          break;
        }
      if (po->o.platform && strcmp (po->o.platform, item) == 0)
        continue;
      if (!po->o.platform)
        po->o.platform = po->platform = xstrdup (item);
      ++*n;
    }
  free (list);
  return ret;
}

static int
add_build_arg (struct cli_planopts *po, const char *arg, bale_error_t *err)
{
  const char *eq = strchr (arg, '=');

  if (eq == arg || *arg == '\0')
    return bale_make_error (err, 0, "invalid --build-arg '%s': want KEY=VALUE or KEY", arg);
  /* docker: a bare name takes its value from the environment and is dropped when the
     environment does not have it. */
  if (!eq && !getenv (arg))
    return 0;
  po->build_args = xrealloc (po->build_args, (po->o.n_build_args + 2) * sizeof *po->build_args);
  po->build_args[po->o.n_build_args++] = eq ? xstrdup (arg) : xasprintf ("%s=%s", arg, getenv (arg));
  po->build_args[po->o.n_build_args] = NULL;
  po->o.build_args = (const char *const *) po->build_args;
  return 0;
}

static void
add_str (const char ***v, size_t *n, const char *arg)
{
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = arg;
}

/* One shared option: 1 when c is one, 0 when not, -1 on a bad value. */
static int
shared_option (struct cli_planopts *po, int c, const char *arg, size_t *n_platforms, bale_error_t *err)
{
  switch (c)
    {
    case 'f': po->o.dockerfile = arg; return 1;
    case 0x100: po->o.target = arg; return 1;
    case 0x101: return add_build_arg (po, arg, err) < 0 ? -1 : 1;
    case 0x102: return add_platform (po, arg, n_platforms, err) < 0 ? -1 : 1;
    case 0x103: po->o.check = true; return 1;
    case 0x110:
      if (strcmp (arg, "security.insecure") == 0)
        po->o.allow_insecure = true;
      else if (strcmp (arg, "network.host") != 0)
        return bale_make_error (err, 0, "--allow: unknown entitlement '%s' (want "
                                        "security.insecure or network.host)", arg);
      return 1;
    case 0x111: po->o.network = arg; return 1;
    case 0x112: add_str (&po->add_hosts, &po->o.n_add_hosts, arg); po->o.add_hosts = po->add_hosts; return 1;
    case 0x113: add_str (&po->ulimits, &po->o.n_ulimits, arg); po->o.ulimits = po->ulimits; return 1;
    case 0x114: po->o.shm_size = arg; return 1;
    default: return 0;
    }
}

int
cli_planopts_parse (int argc, char **argv, const char *cmd, const struct option *opts,
                    void (*usage) (FILE *), int (*own) (void *ctx, int c, const char *arg, bale_error_t *err),
                    void *ctx, struct cli_planopts *po, bale_error_t *err)
{
  size_t n_platforms = 0;
  int c, r;

  po->o = (struct bale_plan_options) BALE_PLAN_OPTIONS_INIT;
  while ((c = getopt_long (argc, argv, "f:h", opts, NULL)) != -1)
    {
      if ((r = shared_option (po, c, optarg, &n_platforms, err)) < 0)
        return -1;
      if (r > 0)
        continue;
      if (c == 'h')
        {
          usage (stdout);
          cli_planopts_release (po);
          exit (0);
        }
      if (c == '?' || c == ':' || !own)
        cli_usage_error (cmd);
      if (own (ctx, c, optarg, err) < 0)
        return -1;
    }
  if (argc - optind > 1)
    cli_usage_fail (cmd, "want one context directory, got '%s' and '%s'", argv[optind], argv[optind + 1]);
  if (n_platforms > 1)
    cli_usage_fail (cmd, "one --platform at a time (%zu given)", n_platforms);
  po->o.context = argc - optind == 1 ? argv[optind] : ".";
  if (!po->o.dockerfile)
    po->o.dockerfile = po->dockerfile = xasprintf ("%s/Dockerfile", po->o.context);
  return 0;
}

void
cli_planopts_release (struct cli_planopts *po)
{
  for (size_t i = 0; i < po->o.n_build_args; i++)
    free (po->build_args[i]);
  free (po->build_args);
  free (po->add_hosts);
  free (po->ulimits);
  free (po->dockerfile);
  free (po->platform);
  memset (po, 0, sizeof *po);
}

void
cli_check_report (int n)
{
  /* BuildKit's words, which scripts grep for. */
  if (n == 0)
    puts ("Check complete, no warnings found.");
  else if (n == 1)
    puts ("Check complete, 1 warning has been found!");
  else
    printf ("Check complete, %d warnings have been found!\n", n);
}

int
cli_plan_store (const struct cli_global *g, bale_store **out)
{
  bale_error_t e = NULL;

  if (cli_bale_store (g, out, &e) < 0)
    *out = NULL;
  bale_error_release (&e);
  return 0;
}
