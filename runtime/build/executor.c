/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a plan. Stages are built in index order: the plan only lets a stage read stages
 * defined before it, so that order respects every dependency.
 */
#include <config.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "common/cleanup.h"
#include "common/dirwalk.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/executor.h"
#include "runtime/build/executor_internal.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/store/store.h"
#include "common/trace.h"
#include "common/banned.h"

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
  /* An entry with no time of its own and none to borrow stays without one, as in BuildKit,
     unless SOURCE_DATE_EPOCH gives every entry that time. */
  struct plan_times t = { layer_times, o->epoch_set ? created : NULL, NULL };
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

/* Whether a reachable stage has a RUN step. */
static bool
exec_needs_sandbox (const struct plan *p)
{
  for (size_t i = 0; i < p->n_stages; i++)
    for (size_t j = 0; p->stages[i].reachable && j < p->stages[i].n_steps; j++)
      if (p->stages[i].steps[j].instr == BALE_I_RUN)
        return true;
  return false;
}

int
executor_build (struct plan *p, const struct exec_opts *o, struct exec_image *out,
                bale_error_t *err)
{
  struct executor x = { .p = p,
                        .o = o,
                        .states = xcalloc (p->n_stages, sizeof *x.states),
                        .overlay = -1,
                        .key_lock = -1,
                        .reaper = { .fd = -1, .pid = -1, .dir_fd = -1, .ns_wait_fd = -1 } };
  struct sigaction old_signals[3];
  size_t i;
  int ret = 0;

  size_t reachable = 0;

  memset (out, 0, sizeof *out);
  /* The seccomp filter of RUN steps, compiled here once rather than in every forked stage. */
  if (exec_needs_sandbox (p) && sandbox_prepare (err) < 0)
    {
      free (x.states);
      return -1;
    }
  trace_mark ("executor: seccomp filter compiled");
  /* Made before stages fork, removed when they are done: each process keeps the scratch
     directory of its RUN sandboxes there, made once rather than per step (sandbox.h). */
  if (o->store && exec_needs_sandbox (p))
    {
      x.sandbox_dir = store_area_path (o->store, STORE_AREA_TMP, "sandbox.XXXXXX");
      if (!mkdtemp (x.sandbox_dir))
        free (steal_pointer (&x.sandbox_dir)); /* each step makes and removes its own */
      else
        {
          exec_reaper_start (&x.reaper, x.sandbox_dir);
          store_set_deferred_free (o->store, exec_reaper_keep_cb, &x.reaper);
        }
    }
  /* Hold off store_gc (bale prune) for the whole build: the layers it writes, and the cache
     entries naming them, are not referenced by an image until the build ends. */
  trace_mark ("executor: sandbox directory made");
  if (o->store && store_txn_begin (o->store, err) < 0)
    {
      store_set_deferred_free (o->store, NULL, NULL);
      exec_reaper_finish (&x.reaper);
      free (x.states);
      return -1;
    }
  for (i = 0; i < p->n_stages; i++)
    reachable += p->stages[i].reachable;
  /* SIGINT, SIGTERM and SIGHUP stop the build at its next check, which cleans up; a signal
     that comes once the image is being assembled lets it finish. */
  exec_catch_signals (old_signals);
  /* Several stages: independent ones run side by side in child processes. */
  if (reachable > 1)
    ret = exec_build_parallel (&x, err);
  else
    for (i = 0; i < p->n_stages && ret == 0; i++)
      if (p->stages[i].reachable)
        ret = exec_build_stage (&x, &p->stages[i], err);
  trace_mark ("executor: stages done");
  /* No step runs any more: the sandbox directory goes while the image is assembled. */
  exec_reaper_remove_all (&x.reaper);
  exec_cache_finish (&x);
  exec_cache_unlock (&x);
  if (ret == 0)
    ret = assemble (&x, out, err);
  trace_mark ("executor: assembled");
  exec_restore_signals (old_signals);
  if (o->store)
    store_txn_end (o->store);
  if (ret < 0)
    exec_image_release (out);
  for (i = 0; i < p->n_stages; i++)
    exec_state_release (&x.states[i]);
  free (x.states);
  if (o->store)
    store_set_deferred_free (o->store, NULL, NULL);
  exec_reaper_finish (&x.reaper);
  if (x.sandbox_dir)
    {
      cleanup_free char *tmp = store_area_path (o->store, STORE_AREA_TMP, NULL);
      cleanup_close int parent = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      bale_error_t e = NULL;
      if (parent >= 0)
        dirwalk_remove (parent, strrchr (x.sandbox_dir, '/') + 1, x.sandbox_dir, &e);
      bale_error_release (&e);
      free (x.sandbox_dir);
    }
  trace_mark ("executor: sandbox dir removed");
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
