/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Transfer byte counts at a bounded rate (meter.h). */
#include <config.h>

#include <time.h>

#include "common/meter.h"
#include "common/banned.h"

static int64_t
mono_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
meter_start (struct meter *m, meter_fn fn, void *ctx, const char *id, int64_t total)
{
  m->fn = fn;
  m->ctx = ctx;
  m->id = id;
  m->current = 0;
  m->total = total;
  if (!fn)
    return;
  m->next = mono_now () + METER_INTERVAL_NS;
  fn (ctx, id, 0, total, false);
}

void
meter_set (struct meter *m, int64_t current)
{
  int64_t now;

  m->current = current;
  if (!m->fn)
    return;
  now = mono_now ();
  if (now < m->next)
    return;
  m->next = now + METER_INTERVAL_NS;
  m->fn (m->ctx, m->id, current, m->total, false);
}

void
meter_add (struct meter *m, int64_t n)
{
  meter_set (m, m->current + n);
}

void
meter_end (struct meter *m, int64_t size)
{
  m->current = size;
  if (m->fn)
    m->fn (m->ctx, m->id, size, size, true);
  m->fn = NULL;
}

void
meter_begin (struct meter *m, int64_t total)
{
  if (m)
    meter_start (m, m->fn, m->ctx, m->id, total);
}

void
meter_add_opt (struct meter *m, int64_t n)
{
  if (m)
    meter_add (m, n);
}

void
meter_end_opt (struct meter *m, int64_t size)
{
  if (m)
    meter_end (m, size);
}
