/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options `bale build` and `bale plan` share. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/buildopts.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/oci/platform.h"
#include "common/ignore.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* "arm64" and "linux/arm64" are one platform: compared normalised (a platform that does not
   parse is compared as written; the plan reports it). */
static bool
same_platform (const char *a, const char *b)
{
  struct bale_platform pa = { 0 }, pb = { 0 };
  bale_error_t e = NULL;
  bool same = strcmp (a, b) == 0;

  if (!same && platform_parse (a, &pa, &e) == 0 && platform_parse (b, &pb, &e) == 0)
    {
      cleanup_free char *fa = platform_format (&pa), *fb = platform_format (&pb);
      same = strcmp (fa, fb) == 0;
    }
  bale_error_release (&e);
  platform_release (&pa);
  platform_release (&pb);
  return same;
}

int
buildopts_option (struct buildopts *o, int c, const char *arg, bale_error_t *err)
{
  switch (c)
    {
    case 'f':
      o->file = arg;
      return 1;
    case 0x100:
      o->target = arg;
      return 1;
    case 0x102:
      {
        /* buildx: a comma-separated list, and the flag repeated, both add platforms. */
        cleanup_free char *list = xstrdup (arg);
        char *save = list, *item;
        while ((item = strsep (&save, ",")) != NULL)
          {
            size_t i;
            while (*item == ' ')
              item++;
            if (!*item)
              return bale_make_error (err, 0, "invalid --platform '%s': an empty platform", arg);
            for (i = 0; i < o->n_platforms && !same_platform (o->platforms[i], item); i++)
              ;
            if (i < o->n_platforms)
              continue;
            XGROW (o->platforms, o->alloc_platforms, o->n_platforms + 1);
            o->platforms[o->n_platforms++] = xstrdup (item);
          }
        o->platform = o->platforms[0];
        return 1;
      }
    case 0x103:
      o->check = true;
      return 1;
    case 0x101:
      {
        const char *eq = strchr (arg, '=');
        char *kv;
        if (eq == arg || *arg == '\0')
          return bale_make_error (err, 0, "invalid --build-arg '%s': want KEY=VALUE or KEY", arg);
        if (eq)
          kv = xstrdup (arg);
        else
          {
            /* docker: a bare name takes its value from the environment and is dropped when
               the environment does not have it. */
            const char *v = getenv (arg);
            if (!v)
              return 1;
            kv = xasprintf ("%s=%s", arg, v);
          }
        XGROW (o->build_args, o->alloc_build_args, o->n_build_args + 1);
        o->build_args[o->n_build_args++] = kv;
        return 1;
      }
    case 0x110:
      if (strcmp (arg, "security.insecure") == 0)
        o->allow_insecure = true;
      else if (strcmp (arg, "network.host") != 0)
        return bale_make_error (err, 0, "--allow: unknown entitlement '%s' (want "
                                        "security.insecure or network.host)", arg);
      return 1;
    case 0x111:
      if (strcmp (arg, "default") != 0 && strcmp (arg, "none") != 0 && strcmp (arg, "host") != 0)
        return bale_make_error (err, 0, "--network: unsupported network mode '%s' (want "
                                        "default, none or host)", arg);
      o->network = arg;
      return 1;
    case 0x112:
      {
        char *name, *ip;
        if (sandbox_parse_host (arg, &name, &ip, err) < 0)
          {
            bale_error_wrap (err, "--add-host");
            return -1;
          }
        XGROW (o->hosts, o->alloc_hosts, o->n_hosts + 1);
        o->hosts[o->n_hosts].name = name;
        o->hosts[o->n_hosts++].ip = ip;
        return 1;
      }
    case 0x113:
      {
        struct sandbox_rlimit rl;
        size_t i;
        if (sandbox_parse_ulimit (arg, &rl, err) < 0)
          {
            bale_error_wrap (err, "--ulimit");
            return -1;
          }
        /* docker: the last one given for a resource wins. */
        for (i = 0; i < o->n_rlimits && o->rlimits[i].resource != rl.resource; i++)
          ;
        if (i == o->n_rlimits)
          XGROW (o->rlimits, o->alloc_rlimits, ++o->n_rlimits);
        o->rlimits[i] = rl;
        return 1;
      }
    case 0x114:
      if (sandbox_parse_size (arg, &o->shm_size, err) < 0)
        {
          bale_error_wrap (err, "--shm-size");
          return -1;
        }
      return 1;
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
