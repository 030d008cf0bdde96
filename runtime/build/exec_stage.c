/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building one stage: its base's layers, then each step in order, through the cache, with a
 * progress vertex per step. Below the executor and its parallel scheduler (which both build
 * stages with it), above the files that run each kind of step.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/kv.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/trace.h"
#include "runtime/build/executor.h"
#include "runtime/build/executor_internal.h"
#include "lexer/words.h"
#include "runtime/store/store.h"
#include "common/banned.h"

static int
step_error (const struct plan *p, const struct plan_step *s, bale_error_t *err, const char *what)
{
  return plan_error_at (p, &s->node->span, err, "%s: %s", bale_instr_name (s->instr), what);
}

/* BuildKit's vertex name of a step (dockerfile2llb prefixCommand): "[stage i/n] TEXT", the
   stage name left out when the Dockerfile has one stage, the width of i that of n. n counts a
   base image and the ADD, COPY, RUN and WORKDIR steps; TEXT is the instruction as written,
   expanded in the step's environment, its keyword upper-cased (processCmdEnv, uppercaseCmd). */
static bool
has_vertex (const struct plan_step *s)
{
  return s->instr == BALE_I_COPY || s->instr == BALE_I_ADD || s->instr == BALE_I_RUN
         || s->instr == BALE_I_WORKDIR;
}

static size_t
stage_total (const struct plan_stage *st)
{
  size_t i, n = st->base_stage < 0 && !st->base_scratch ? 1 : 0;

  for (i = 0; i < st->n_steps; i++)
    n += has_vertex (&st->steps[i]);
  return n;
}

/* BuildKit's prefix of a stage's vertices when several platforms were asked for
   (formatTargetPlatform): the stage's platform, "linux/amd64->arm64" for a stage of another
   platform than the target (a cross-compiling builder); "" otherwise. */
static char *
platform_prefix (const struct executor *x, const struct plan_stage *st)
{
  const struct bale_platform *tp = &x->p->target_platform;
  const struct bale_platform *sp = st->platform.os ? &st->platform : tp;
  cleanup_free char *f = NULL;

  if (!x->o->platform_prefix)
    return xstrdup ("");
  f = platform_format (sp);
  if (strcmp (sp->os, tp->os) != 0)
    {
      cleanup_free char *t = platform_format (tp);
      return xasprintf ("%s->%s ", f, t);
    }
  if (strcmp (sp->arch, tp->arch) != 0 || (sp->variant ? !tp->variant || strcmp (sp->variant, tp->variant) : tp->variant != NULL))
    return xasprintf ("%s->%s%s%s ", f, tp->arch, tp->variant ? "/" : "", tp->variant ? tp->variant : "");
  return xasprintf ("%s ", f);
}

static char *
vertex_name (const struct executor *x, const struct plan_stage *st, size_t index, const char *text,
             const struct kvlist *env)
{
  const struct plan *p = x->p;
  cleanup_free char *prefix = platform_prefix (x, st);
  size_t total = stage_total (st), width = 1, k;
  struct words_lex lx = words_lex_default ('\\');
  struct words_env we = kv_words_env (env);
  char *expanded = NULL, *name;
  size_t len;
  bale_error_t e = NULL;

  /* Quotes, escapes and unknown variables stay as written: the name is for people. */
  lx.raw_quotes = lx.raw_escapes = lx.skip_unset_env = true;
  for (k = total; k >= 10; k /= 10)
    width++;
  if (words_process_word (&lx, text, strlen (text), &we, &expanded, &len, &e) < 0)
    {
      bale_error_release (&e);
      expanded = xstrdup (text);
    }
  for (k = 0; expanded[k] && expanded[k] != ' '; k++)
    if (expanded[k] >= 'a' && expanded[k] <= 'z')
      expanded[k] = (char) (expanded[k] - 'a' + 'A');
  name = xasprintf ("[%s%s%s%*zu/%zu] %s", prefix, p->n_stages > 1 ? st->display : "", p->n_stages > 1 ? " " : "",
                    (int) width, index, total, expanded);
  free (expanded);
  return name;
}

/* Start the vertex of step i of st (x->vertex). */
static void
step_vertex (struct executor *x, const struct plan_stage *st, size_t i)
{
  const struct plan_step *s = &st->steps[i];
  size_t index = st->base_stage < 0 && !st->base_scratch ? 2 : 1, k;
  cleanup_free char *key = xasprintf ("%d/%zu", st->index, i);
  cleanup_free char *text = NULL;
  char *name;

  for (k = 0; k < i; k++)
    index += has_vertex (&st->steps[k]);
  text = s->onbuild ? xasprintf ("ONBUILD %s", s->node->original) : xstrdup (s->node->original);
  {
    struct kvlist env = KVLIST_INIT;
    kv_state_get (&s->env, &env);
    name = vertex_name (x, st, index, text, &env);
    kv_release (&env);
  }
  progress_vertex_start (&x->vertex, x->o->events, key, name);
  free (name);
}

/* The layers of the stage's base: a parent stage's, or the base image's from the store. */
static int
init_state (struct executor *x, const struct plan_stage *st, bale_error_t *err)
{
  struct stage_state *s = &x->states[st->index];
  struct store_image img = { 0 };
  size_t i;

  if (st->base_stage >= 0)
    {
      const struct stage_state *parent = &x->states[st->base_stage];
      for (i = 0; i < parent->n_layers; i++)
        exec_state_add_layer (s, &parent->layers[i], false);
      for (i = 0; i < parent->n_new; i++)
        {
          XGROW (s->new_diff_ids, s->alloc_new, s->n_new + 1);
          s->new_diff_ids[s->n_new++] = xstrdup (parent->new_diff_ids[i]);
        }
      return 0;
    }
  if (st->base_scratch || !st->base_config)
    return 0;
  if (!x->o->store || !st->base_digest)
    return plan_error_at (x->p, &st->from->span, err, "FROM %s: the image's layers are not in a store", st->base);
  {
    bale_error_t e = NULL;
    if (store_image_read (x->o->store, st->base_digest, &st->platform, &img, &e) < 0)
      {
        plan_error_at (x->p, &st->from->span, err, "FROM %s: %s", st->base, e->msg);
        bale_error_release (&e);
        return -1;
      }
  }
  exec_state_add_image (x, s, &img);
  store_image_release (&img);
  {
    /* The base is in the store by now (the plan resolved it, pulling what was missing). */
    struct kvlist none = KVLIST_INIT;
    cleanup_free char *key = xasprintf ("%d/from", st->index);
    bool pin = st->base_digest && !strchr (st->base, '@');
    cleanup_free char *text = xasprintf ("FROM %s%s%s", st->base, pin ? "@" : "", pin ? st->base_digest : "");
    cleanup_free char *name = vertex_name (x, st, 1, text, &none);
    progress_vertex_start (&x->vertex, x->o->events, key, name);
    progress_vertex_end (&x->vertex, !x->o->no_cache, NULL);
  }
  return 0;
}

/* Docker's overlay2 storage stacks at most 128 lower layers under a step (graphdriver
   maxDepth): a step on an image of 129 layers fails there with "max depth exceeded", and so an
   image of more layers than that could not be loaded or run by Docker either. */
#define EXEC_MAX_DEPTH 128

static int
check_depth (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
             bale_error_t *err)
{
  size_t n = x->states[st->index].n_layers;
  char what[160];

  if (s->kind != PLAN_STEP_LAYER || n <= EXEC_MAX_DEPTH)
    return 0;
  snprintf (what, sizeof what,
            "max depth exceeded: the image has %zu layers, and Docker stacks at most %d under a "
            "step; merge steps (RUN a && b, one COPY of a directory)", n, EXEC_MAX_DEPTH);
  return step_error (x->p, s, err, what);
}

static int
build_steps (struct executor *x, const struct plan_stage *st, bale_error_t *err)
{
  size_t i;

  for (i = 0; i < st->n_steps; i++)
    {
      const struct plan_step *s = &st->steps[i];
      char key[DIGEST_STRLEN + 1] = "";
      bool cached;
      int r = 0;
      trace_mark ("step: start");
      exec_cache_step_start (x);
      /* Only a RUN step may start while the last RUN layer's blob is being stored. */
      if (s->instr != BALE_I_RUN && exec_commit_wait (x, err) < 0)
        return -1;
      if (exec_interrupted)
        return bale_make_error (err, EINTR, "interrupted");
      if (check_depth (x, st, s, err) < 0)
        return -1;
      if (s->kind == PLAN_STEP_LAYER && exec_cache_defer (x, st, s))
        {
          /* Looked up while the layer is written (exec_fs_step returns 1 on a hit). */
          x->deferred.st = st;
          x->deferred.key = key;
          x->deferred.lookup = exec_cache_lookup_deferred;
          cached = false;
        }
      else
        cached = s->kind == PLAN_STEP_LAYER && exec_cache_lookup (x, st, s, key) == 1;
      trace_mark ("step: cache looked up");
      x->stepno++;
      if (has_vertex (s))
        step_vertex (x, st, i);
      if (x->miss_reason)
        progress_vertex_miss (&x->vertex, x->miss_reason);
      if (s->kind != PLAN_STEP_LAYER || cached)
        {
          progress_vertex_end (&x->vertex, cached, NULL);
          continue;
        }
      /* The last RUN step's overlay holds its upper directory, now a snapshot this step may
         mount: its namespace must be gone first. */
      exec_reaper_wait_ns (&x->reaper);
      if (s->instr == BALE_I_COPY || s->instr == BALE_I_ADD || s->instr == BALE_I_WORKDIR)
        r = exec_fs_step (x, st, s, err);
      else if (s->instr == BALE_I_RUN)
        r = exec_run_step (x, st, s, x->stepno, err);
      else
        r = step_error (x->p, s, err, "building layers is not supported for this instruction");
      x->deferred.st = NULL; /* taken by now, unless the step failed first */
      if (r == 0)
        {
          trace_mark ("step: layer written");
          exec_cache_settled (x, s, key);
          trace_mark ("step: context checked unchanged");
        }
      progress_vertex_end (&x->vertex, r == 1, r < 0 && *err ? (*err)->msg : NULL);
      if (r < 0)
        return -1;
      if (r == 1)
        continue; /* the deferred key's hit */
      exec_cache_record (x, st, s, key);
      trace_mark ("step: cache recorded");
    }
  return 0;
}

int
exec_build_stage (struct executor *x, const struct plan_stage *st, bale_error_t *err)
{
  int ret;

  trace_mark ("stage: start");
  if (init_state (x, st, err) < 0)
    return -1;
  trace_mark ("stage: base ready");
  ret = build_steps (x, st, err);
  /* Other stages (other processes) may mount this one's snapshots next. */
  exec_reaper_wait_ns (&x->reaper);
  /* The stage's blobs are all in blobs/ before anything reads its image. A failed step's
     error is the one to report. */
  if (ret < 0)
    {
      bale_error_t ignored = NULL;
      exec_commit_wait (x, &ignored);
      bale_error_release (&ignored);
      return -1;
    }
  return exec_commit_wait (x, err);
}
