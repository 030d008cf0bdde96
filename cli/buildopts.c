/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options `bale build` and `bale plan` share. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/buildopts.h"
#include "cli/cli.h"
#include "runtime/build/buildrun.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/ignore.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

int
buildopts_option (struct buildopts *o, int c, const char *arg, bale_error_t *err)
{
  static const char *const sandbox[] = { "allow", "network", "add-host", "ulimit", "shm-size" };

  switch (c)
    {
    case 'f':
      o->file = arg;
      return 1;
    case 0x100:
      o->target = arg;
      return 1;
    case 0x102:
      if (build_platforms_add (&o->platforms, &o->n_platforms, &o->alloc_platforms, arg, err) < 0)
        return -1;
      o->platform = o->platforms[0];
      return 1;
    case 0x103:
      o->check = true;
      return 1;
    case 0x101:
      return build_args_add (&o->build_args, &o->n_build_args, &o->alloc_build_args, arg, err) < 0 ? -1 : 1;
    case 0x110: case 0x111: case 0x112: case 0x113: case 0x114:
      return build_sandbox_option (sandbox[c - 0x110], arg, &o->allow_insecure, &o->network, &o->hosts,
                                   &o->n_hosts, &o->alloc_hosts, &o->rlimits, &o->n_rlimits,
                                   &o->alloc_rlimits, &o->shm_size, err);
    default:
      return 0;
    }
}

int
buildopts_finish (struct buildopts *o, const char *cmd, int argc, char **argv, bale_error_t *err)
{
  if (argc > 1)
    return bale_make_error (err, 0, "%s: want one context directory, got '%s' and '%s'", cmd,
                            argv[0], argv[1]);
  if (o->n_platforms > 1 && strcmp (cmd, "build") != 0)
    return bale_make_error (err, 0, "%s: one --platform at a time (%zu given)", cmd, o->n_platforms);
  o->context = argc == 1 ? argv[0] : ".";
  if (o->file)
    o->dockerfile = xstrdup (o->file);
  else
    o->dockerfile = xasprintf ("%s/Dockerfile", o->context);
  return 0;
}

int
buildopts_plan (struct buildopts *o, plan_resolve_fn resolve, void *ctx, bool lenient,
                struct bale_dockerfile **df, struct plan **plan, bale_error_t *err)
{
  struct plan_opts po = { 0 };
  struct ignore_matcher *ignore = NULL;
  int r;

  /* The parser's warnings come back from the planner as NoEmptyContinuation checks. */
  if (bale_parse_file_checked (o->dockerfile, df, err) < 0)
    return -1;
  po.target = o->target;
  po.build_args = (const char *const *) o->build_args;
  po.n_build_args = o->n_build_args;
  po.platform = o->platform;
  po.resolve = resolve;
  po.resolve_ctx = ctx;
  po.lenient = lenient || o->check;
  po.allow_insecure = o->allow_insecure;
  /* BuildKit checks every stage when no target is given. */
  po.all_stages = o->check && o->target == NULL;
  /* CopyIgnoredFile reads the context's .dockerignore; a bad one fails the build later. */
  {
    bale_error_t e = NULL;
    if (o->context && ignore_matcher_load (o->context, o->dockerfile, &ignore, &e) == 0)
      po.ignore = ignore;
    bale_error_release (&e);
  }
  r = plan_build (*df, &po, plan, err);
  ignore_matcher_free (ignore);
  if (r < 0)
    return -1;
  cli_print_diagnostics ((*plan)->warnings);
  return 0;
}

int
buildopts_check_report (const struct plan *plan)
{
  if (plan->n_lint_warnings == 0)
    puts ("Check complete, no warnings found.");
  else if (plan->n_lint_warnings == 1)
    puts ("Check complete, 1 warning has been found!");
  else
    printf ("Check complete, %d warnings have been found!\n", plan->n_lint_warnings);
  return 0;
}

void
buildopts_release (struct buildopts *o)
{
  size_t i;

  for (i = 0; i < o->n_build_args; i++)
    free (o->build_args[i]);
  free (o->build_args);
  for (i = 0; i < o->n_hosts; i++)
    {
      free ((char *) o->hosts[i].name);
      free ((char *) o->hosts[i].ip);
    }
  free (o->hosts);
  free (o->rlimits);
  for (i = 0; i < o->n_platforms; i++)
    free (o->platforms[i]);
  free (o->platforms);
  free (o->dockerfile);
  memset (o, 0, sizeof *o);
}
