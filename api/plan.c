/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bale_plan_new, bale_lint: the compiler (codegen/) over a parsed Dockerfile, with base
 * images' configs from a store. Nothing runs and nothing is pulled, so this happens in the
 * calling process.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "codegen/plan.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/ignore.h"
#include "common/xalloc.h"
#include "linter/lint.h"
#include "runtime/build/context.h"
#include "runtime/build/buildrun.h"
#include "runtime/sandbox/sandbox.h"
#include "common/banned.h"

struct bale_plan
{
  struct bale_dockerfile *df;
  struct plan *plan;
};

/* The plan's resolver (plan_resolve_fn): the image's config from the store, as a build finds
   it but never pulled; 0 when the store lacks it (the plan is lenient: an empty config and a
   warning). */
static int
resolve (void *ctx, const char *ref, const struct bale_platform *platform, json_t **config,
         char **digest, bale_error_t *err)
{
  if (!ctx)
    return 0;
  return build_resolve_image (ctx, ref, platform, NULL, false, config, digest, err);
}

/* A build's RUN options are checked here as the build would check them: a command line that
   plans is one that builds. */
static int
check_run_options (const struct bale_plan_options *o, bale_error_t *err)
{
  struct sandbox_rlimit rl;
  uint64_t size;

  if (o->network && strcmp (o->network, "default") != 0 && strcmp (o->network, "none") != 0
      && strcmp (o->network, "host") != 0)
    return bale_make_error (err, EINVAL, "--network: unsupported network mode '%s' (want "
                                         "default, none or host)", o->network);
  for (size_t i = 0; i < o->n_add_hosts; i++)
    {
      cleanup_free char *name = NULL, *ip = NULL;
      if (sandbox_parse_host (o->add_hosts[i], &name, &ip, err) < 0)
        return bale_error_wrap (err, "--add-host");
    }
  for (size_t i = 0; i < o->n_ulimits; i++)
    if (sandbox_parse_ulimit (o->ulimits[i], &rl, err) < 0)
      return bale_error_wrap (err, "--ulimit");
  if (o->shm_size && sandbox_parse_size (o->shm_size, &size, err) < 0)
    return bale_error_wrap (err, "--shm-size");
  for (size_t i = 0; i < o->n_build_args; i++)
    if (!strchr (o->build_args[i], '='))
      return bale_make_error (err, EINVAL, "build arg '%s' is not KEY=VALUE", o->build_args[i]);
  return 0;
}

int
bale_plan_new (const struct bale_plan_options *o, bale_plan **out, bale_error_t *err)
{
  cleanup_free char *dockerfile = NULL;
  struct ignore_matcher *ignore = NULL;
  struct plan_opts po = { 0 };
  bale_plan *p;
  int r;

  if (o->struct_size < offsetof (struct bale_plan_options, shm_size) + sizeof o->shm_size)
    return bale_make_error (err, EINVAL, "bale_plan_new: struct_size %zu is not that of this "
                            "library's struct bale_plan_options (%zu): set it with "
                            "BALE_PLAN_OPTIONS_INIT", o->struct_size, sizeof *o);
  if (check_run_options (o, err) < 0)
    return -1;
  dockerfile = o->dockerfile ? xstrdup (o->dockerfile)
                             : xasprintf ("%s/Dockerfile", o->context ? o->context : ".");
  /* A Dockerfile or .dockerignore of the context that is a symlink out of it: an error, never
     the host file's lines in a parse error (runtime/build/context.h). */
  if (o->context && context_check_files (o->context, dockerfile, err) < 0)
    return -1;
  p = xcalloc (1, sizeof *p);
  /* The parser's warnings come back from the planner as NoEmptyContinuation checks. */
  if (bale_parse_file_checked (dockerfile, &p->df, err) < 0)
    {
      bale_plan_free (p);
      return -1;
    }
  po.target = o->target;
  po.build_args = o->build_args;
  po.n_build_args = o->n_build_args;
  po.platform = o->platform;
  po.resolve = resolve;
  po.resolve_ctx = o->store ? o->store->st : NULL;
  po.lenient = true;
  po.allow_insecure = o->allow_insecure;
  /* BuildKit checks every stage when no target is given. */
  po.all_stages = o->check && o->target == NULL;
  /* CopyIgnoredFile reads the context's .dockerignore; a bad one fails the build later. */
  if (o->context)
    {
      bale_error_t e = NULL;
      if (ignore_matcher_load (o->context, dockerfile, &ignore, &e) == 0)
        po.ignore = ignore;
      bale_error_release (&e);
    }
  r = plan_build (p->df, &po, &p->plan, err);
  ignore_matcher_free (ignore);
  if (r < 0)
    {
      bale_plan_free (p);
      return -1;
    }
  *out = p;
  return 0;
}

void
bale_plan_free (bale_plan *p)
{
  if (!p)
    return;
  plan_free (p->plan);
  bale_dockerfile_free (p->df);
  free (p);
}

const struct bale_error_s *
bale_plan_warnings (const bale_plan *p)
{
  return p->plan->warnings;
}

int
bale_plan_check_count (const bale_plan *p)
{
  return p->plan->n_lint_warnings;
}

char *
bale_plan_to_text (const bale_plan *p, bool all)
{
  return plan_to_text (p->plan, all);
}

char *
bale_plan_to_json (const bale_plan *p, bool all)
{
  json_auto_t *j = plan_to_json (p->plan, all);

  return json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
}

int
bale_lint (const struct bale_plan_options *o, bale_error_t *warnings, bale_error_t *err)
{
  struct bale_plan_options c;
  bale_plan *p = NULL;
  int n;

  if (o->struct_size < offsetof (struct bale_plan_options, shm_size) + sizeof o->shm_size)
    return bale_plan_new (o, &p, err); /* says what is wrong */
  c = *o;
  c.struct_size = sizeof c;
  c.check = true;
  if (bale_plan_new (&c, &p, err) < 0)
    return -1;
  n = p->plan->n_lint_warnings;
  bale_error_join (warnings, &p->plan->warnings);
  bale_plan_free (p);
  return n;
}

const char *
bale_check_rule (const struct bale_error_s *w)
{
  const char *colon;
  int r;

  /* plan_lint writes BuildKit's LintFormatShort, "Rule: message". */
  if (!w || w->severity != BALE_SEVERITY_WARNING || !w->msg || !(colon = strstr (w->msg, ": ")))
    return NULL;
  r = lint_rule_find (w->msg, (size_t) (colon - w->msg));
  return r < 0 ? NULL : lint_rules[r].name;
}
