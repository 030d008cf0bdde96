/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a plan. Stages are built in index order: the plan only lets a stage read stages
 * defined before it, so that order respects every dependency.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codegen/canonjson.h"
#include "codegen/oci.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/executor.h"
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

static int
step_error (const struct plan *p, const struct plan_step *s, bale_error_t *err, const char *what)
{
  return plan_error_at (p, &s->node->span, err, "%s: %s", bale_instr_name (s->instr), what);
}

static void
progress (const struct exec_opts *o, const struct plan_stage *st, size_t i, const struct plan_step *s)
{
  if (!o->progress)
    return;
  fprintf (o->progress, "[%s %zu/%zu] %s\n", st->display, i + 1, st->n_steps,
           s->created_by ? s->created_by : bale_instr_name (s->instr));
}

static int
build_stage (struct plan *p, struct plan_stage *st, const struct exec_opts *o, bale_error_t *err)
{
  size_t i;

  if (st->base_stage < 0 && !st->base_scratch)
    return plan_error_at (p, &st->from->span, err,
                          "FROM %s: building on an image with layers is not supported yet",
                          st->base);
  for (i = 0; i < st->n_steps; i++)
    {
      const struct plan_step *s = &st->steps[i];
      progress (o, st, i, s);
      if (s->kind == PLAN_STEP_LAYER)
        return step_error (p, s, err, "building layers is not supported yet");
    }
  return 0;
}

static int
assemble (struct plan *p, const struct exec_opts *o, struct exec_image *out, bale_error_t *err)
{
  const struct plan_stage *st = &p->stages[p->target];
  cleanup_error bale_error_t e = NULL;
  json_t *config, *desc, *manifest;
  char created[40];
  size_t i;

  if (o->epoch_set)
    exec_format_time (o->epoch, 0, created);
  else
    {
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      exec_format_time (ts.tv_sec, ts.tv_nsec, created);
    }
  config = plan_final_config (p, st, created, NULL, 0, err);
  if (!config)
    return -1;
  out->config = canonjson_dumps (config, &out->config_len, err);
  json_decref (config);
  if (!out->config || digest_buffer (out->config, out->config_len, out->config_digest, err) < 0)
    return -1;

  desc = oci_descriptor_new ("application/vnd.oci.image.config.v1+json", out->config_digest,
                             (int64_t) out->config_len, NULL, NULL, err);
  if (!desc)
    return -1;
  manifest = oci_manifest_new (desc); /* borrows desc */
  json_decref (desc);
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
  out->platform.os = xstrdup (st->platform.os ? st->platform.os : p->target_platform.os);
  out->platform.arch = xstrdup (st->platform.arch ? st->platform.arch : p->target_platform.arch);
  if (st->platform.os ? st->platform.variant : p->target_platform.variant)
    out->platform.variant
        = xstrdup (st->platform.os ? st->platform.variant : p->target_platform.variant);
  return 0;
}

int
executor_build (struct plan *p, const struct exec_opts *o, struct exec_image *out,
                bale_error_t *err)
{
  size_t i;

  memset (out, 0, sizeof *out);
  for (i = 0; i < p->n_stages; i++)
    if (p->stages[i].reachable && build_stage (p, &p->stages[i], o, err) < 0)
      return -1;
  if (assemble (p, o, out, err) < 0)
    {
      exec_image_release (out);
      return -1;
    }
  return 0;
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
    }
  free (img->layers);
  platform_release (&img->platform);
  memset (img, 0, sizeof *img);
}
