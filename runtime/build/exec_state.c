/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a stage has built so far (struct stage_state): its layers, from a parent stage, an
   image of the store or a step. The bottom of the executor: every file that runs steps adds
   to a state, and none of this calls back into them. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"
#include "runtime/build/executor.h"
#include "runtime/build/executor_internal.h"
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

void
exec_step_error (const struct executor *x, const struct plan_step *s, const char *msg, int status,
                 bale_error_t *err)
{
  bale_error_t e;

  plan_error_at (x->p, &s->node->span, err, "%s: %s", bale_instr_name (s->instr), msg);
  for (e = *err; e->next; e = e->next)
    ;
  e->status = status;
}

/* ---- signals ------------------------------------------------------------------------------ */

volatile sig_atomic_t exec_interrupted;

static const int caught_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static void
on_signal (int sig)
{
  exec_interrupted = sig;
}

void
exec_catch_signals (struct sigaction old[3])
{
  struct sigaction sa = { 0 };
  size_t i;

  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  exec_interrupted = 0;
  for (i = 0; i < 3; i++)
    sigaction (caught_signals[i], &sa, &old[i]);
}

void
exec_restore_signals (const struct sigaction old[3])
{
  size_t i;

  for (i = 0; i < 3; i++)
    sigaction (caught_signals[i], &old[i], NULL);
}
