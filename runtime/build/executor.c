/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a plan. Stages are built in index order: the plan only lets a stage read stages
 * defined before it, so that order respects every dependency.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/oci/canonjson.h"
#include "common/kv.h"
#include "common/oci/oci.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/executor.h"
#include "runtime/build/executor_internal.h"
#include "lexer/words.h"
#include "runtime/store/store.h"
#include "common/banned.h"

void
exec_format_time (int64_t sec, long nsec, char buf[40])
{
  time_t t = (time_t) sec;
  struct tm tm;
  size_t n;

  gmtime_r (&t, &tm);
  n = strftime (buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  if (nsec > 0)
    {
      char frac[24];
      int len;
      snprintf (frac, sizeof frac, ".%09ld", nsec);
      len = (int) strlen (frac);
      while (len > 1 && frac[len - 1] == '0')
        frac[--len] = '\0';
      snprintf (buf + n, 40 - n, "%sZ", frac);
    }
  else
    snprintf (buf + n, 40 - n, "Z");
}

int64_t
exec_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
exec_state_add_layer (struct stage_state *s, const struct exec_layer *l, bool is_new)
{
  struct exec_layer *d;

  XGROW (s->layers, s->alloc_layers, s->n_layers + 1);
  d = &s->layers[s->n_layers++];
  *d = *l;
  d->media_type = xstrdup (l->media_type);
  d->path = l->path ? xstrdup (l->path) : NULL;
  d->snapshot = l->snapshot ? xstrdup (l->snapshot) : NULL;
  if (is_new)
    {
      /* A layer a step just made is created now (a cache hit brings its entry's time). */
      if (d->created_ns == 0)
        d->created_ns = exec_now_ns ();
      XGROW (s->new_diff_ids, s->alloc_new, s->n_new + 1);
      s->new_diff_ids[s->n_new++] = xstrdup (l->diff_id);
    }
}

void
exec_state_add_image (struct executor *x, struct stage_state *s, const struct store_image *img)
{
  size_t i;

  for (i = 0; i < img->n_layers; i++)
    {
      struct exec_layer l = { 0 };
      l.media_type = img->layers[i].media_type;
      snprintf (l.digest, sizeof l.digest, "%s", img->layers[i].digest);
      snprintf (l.diff_id, sizeof l.diff_id, "%s", img->diff_ids[i]);
      l.size = img->layers[i].size;
      l.path = store_blob_path (x->o->store, img->layers[i].digest);
      exec_state_add_layer (s, &l, false);
      free (l.path);
    }
}

void
exec_state_release (struct stage_state *s)
{
  size_t i;

  for (i = 0; i < s->n_layers; i++)
    {
      free (s->layers[i].media_type);
      free (s->layers[i].path);
      free (s->layers[i].snapshot);
    }
  for (i = 0; i < s->n_new; i++)
    free (s->new_diff_ids[i]);
  free (s->layers);
  free (s->new_diff_ids);
}

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

static char *
vertex_name (const struct plan *p, const struct plan_stage *st, size_t index, const char *text,
             const struct kvlist *env)
{
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
  name = xasprintf ("[%s%s%*zu/%zu] %s", p->n_stages > 1 ? st->display : "", p->n_stages > 1 ? " " : "",
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
    name = vertex_name (x->p, st, index, text, &env);
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
    cleanup_free char *name = vertex_name (x->p, st, 1, text, &none);
    progress_vertex_start (&x->vertex, x->o->events, key, name);
    progress_vertex_end (&x->vertex, !x->o->no_cache, NULL);
  }
  return 0;
}

int
exec_build_stage (struct executor *x, const struct plan_stage *st, bale_error_t *err)
{
  size_t i;

  if (init_state (x, st, err) < 0)
    return -1;
  for (i = 0; i < st->n_steps; i++)
    {
      const struct plan_step *s = &st->steps[i];
      char key[DIGEST_STRLEN + 1] = "";
      bool cached = s->kind == PLAN_STEP_LAYER && exec_cache_lookup (x, st, s, key) == 1;
      int r = 0;
      x->stepno++;
      if (has_vertex (s))
        step_vertex (x, st, i);
      if (s->kind != PLAN_STEP_LAYER || cached)
        {
          progress_vertex_end (&x->vertex, cached, NULL);
          continue;
        }
      if (s->instr == BALE_I_COPY || s->instr == BALE_I_ADD || s->instr == BALE_I_WORKDIR)
        r = exec_fs_step (x, st, s, err);
      else if (s->instr == BALE_I_RUN)
        r = exec_run_step (x, st, s, x->stepno, err);
      else
        r = step_error (x->p, s, err, "building layers is not supported for this instruction");
      progress_vertex_end (&x->vertex, false, r < 0 && *err ? (*err)->msg : NULL);
      if (r < 0)
        return -1;
      exec_cache_record (x, st, key);
    }
  return 0;
}

int
exec_image_set_manifest (struct exec_image *out, bale_error_t *err)
{
  json_t *desc, *manifest;
  size_t i;

  free (out->manifest);
  out->manifest = NULL;
  desc = oci_descriptor_new ("application/vnd.oci.image.config.v1+json", out->config_digest,
                             (int64_t) out->config_len, NULL, NULL, err);
  if (!desc)
    return -1;
  manifest = oci_manifest_new (desc); /* borrows desc */
  json_decref (desc);
  if (out->annotations && json_object_size (out->annotations) > 0)
    json_object_set (manifest, "annotations", out->annotations);
  for (i = 0; i < out->n_layers; i++)
    {
      json_t *l = oci_descriptor_new (out->layers[i].media_type, out->layers[i].digest,
                                      out->layers[i].size, NULL, NULL, err);
      if (!l)
        {
          json_decref (manifest);
          return -1;
        }
      oci_manifest_add_layer (manifest, l); /* borrows l */
      json_decref (l);
    }
  out->manifest = canonjson_dumps (manifest, &out->manifest_len, err);
  json_decref (manifest);
  if (!out->manifest
      || digest_buffer (out->manifest, out->manifest_len, out->manifest_digest, err) < 0)
    return -1;
  return 0;
}

static int
assemble (struct executor *x, struct exec_image *out, bale_error_t *err)
{
  struct plan *p = x->p;
  const struct plan_stage *st = &p->stages[p->target];
  const struct stage_state *ss = &x->states[p->target];
  const struct exec_opts *o = x->o;
  json_t *config;
  char created[40];
  char (*times)[40] = xcalloc (ss->n_new + 1, sizeof *times);
  const char **layer_times = xcalloc (ss->n_new + 1, sizeof *layer_times);
  struct plan_times t = { layer_times, created, NULL };
  size_t i;

  if (o->epoch_set)
    exec_format_time (o->epoch, 0, created);
  else
    {
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      exec_format_time (ts.tv_sec, ts.tv_nsec, created);
    }
  /* The new layers are the stage's topmost; each entry gets its layer's time (a cache hit's
     is its entry's), clamped to SOURCE_DATE_EPOCH as BuildKit clamps it. */
  for (i = 0; i < ss->n_new && i < ss->n_layers; i++)
    {
      int64_t ns = ss->layers[ss->n_layers - ss->n_new + i].created_ns;
      if (o->epoch_set && (ns == 0 || ns > o->epoch * 1000000000))
        ns = o->epoch * 1000000000;
      if (ns > 0)
        {
          exec_format_time (ns / 1000000000, (long) (ns % 1000000000), times[i]);
          layer_times[i] = times[i];
        }
      else
        layer_times[i] = created;
    }
  if (o->epoch_set)
    t.config = created;
  config = plan_final_config (p, st, &t, (const char *const *) ss->new_diff_ids, ss->n_new, err);
  free (layer_times);
  free (times);
  if (!config)
    return -1;
  out->config = canonjson_dumps (config, &out->config_len, err);
  json_decref (config);
  if (!out->config || digest_buffer (out->config, out->config_len, out->config_digest, err) < 0)
    return -1;

  out->layers = xcalloc (ss->n_layers + 1, sizeof *out->layers);
  for (i = 0; i < ss->n_layers; i++)
    {
      out->layers[i] = ss->layers[i];
      out->layers[i].media_type = xstrdup (ss->layers[i].media_type);
      out->layers[i].path = ss->layers[i].path ? xstrdup (ss->layers[i].path) : NULL;
      out->layers[i].snapshot = NULL;
    }
  out->n_layers = ss->n_layers;

  if (exec_image_set_manifest (out, err) < 0)
    return -1;
  {
    const struct bale_platform *pl = st->platform.os ? &st->platform : &p->target_platform;
    platform_copy (&out->platform, pl);
  }
  return 0;
}

int
executor_build (struct plan *p, const struct exec_opts *o, struct exec_image *out,
                bale_error_t *err)
{
  struct executor x = { p, o, xcalloc (p->n_stages, sizeof *x.states), 0, -1, NULL, { 0 } };
  size_t i;
  int ret = 0;

  size_t reachable = 0;

  memset (out, 0, sizeof *out);
  /* The seccomp filter of RUN steps, compiled here once rather than in every forked stage. */
  for (i = 0; i < p->n_stages; i++)
    for (size_t j = 0; p->stages[i].reachable && j < p->stages[i].n_steps; j++)
      if (p->stages[i].steps[j].instr == BALE_I_RUN && sandbox_prepare (err) < 0)
        {
          free (x.states);
          return -1;
        }
  /* Hold off store_gc (bale prune) for the whole build: the layers it writes, and the cache
     entries naming them, are not referenced by an image until the build ends. */
  if (o->store && store_txn_begin (o->store, err) < 0)
    {
      free (x.states);
      return -1;
    }
  for (i = 0; i < p->n_stages; i++)
    reachable += p->stages[i].reachable;
  /* Several stages: independent ones run side by side in child processes. */
  if (reachable > 1)
    ret = exec_build_parallel (&x, err);
  else
    for (i = 0; i < p->n_stages && ret == 0; i++)
      if (p->stages[i].reachable)
        ret = exec_build_stage (&x, &p->stages[i], err);
  exec_cache_finish (&x);
  if (ret == 0)
    ret = assemble (&x, out, err);
  if (o->store)
    store_txn_end (o->store);
  if (ret < 0)
    exec_image_release (out);
  for (i = 0; i < p->n_stages; i++)
    exec_state_release (&x.states[i]);
  free (x.states);
  return ret < 0 ? -1 : 0;
}

void
exec_image_release (struct exec_image *img)
{
  size_t i;

  free (img->config);
  free (img->manifest);
  for (i = 0; i < img->n_layers; i++)
    {
      free (img->layers[i].media_type);
      free (img->layers[i].path);
      free (img->layers[i].snapshot);
    }
  free (img->layers);
  json_decref (img->annotations);
  platform_release (&img->platform);
  memset (img, 0, sizeof *img);
}
