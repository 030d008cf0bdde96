/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The byte counts of one transfer (a blob pulled, pushed or exported, a context downloaded),
 * reported to a callback at a bounded rate: once at the start (0 of total), then at most every
 * METER_INTERVAL_NS while bytes move, and once at the end (completed). A transfer of any size
 * costs a clock read per buffer and a few calls, so progress is never a reason to be slow.
 */
#ifndef BALE_METER_H
#define BALE_METER_H

#include <stdbool.h>
#include <stdint.h>

#define METER_INTERVAL_NS 100000000LL

/* id names the transfer (a blob's digest); total is 0 when unknown. */
typedef void (*meter_fn) (void *ctx, const char *id, int64_t current, int64_t total,
                          bool completed);

struct meter
{
  meter_fn fn; /* NULL: nothing is reported, every call is a no-op */
  void *ctx;
  const char *id; /* borrowed for the transfer's duration */
  int64_t current, total;
  int64_t next; /* CLOCK_MONOTONIC ns before which no report is sent */
};

/* Begin (or, after a failed attempt, begin again) and report 0 of total. */
void meter_start (struct meter *m, meter_fn fn, void *ctx, const char *id, int64_t total);
/* A meter the caller names (fn, ctx, id) and hands to a writer that learns the total (an
   export sums its blobs, a download reads Content-Length): the writer calls meter_begin. */
#define METER_INIT(fn, ctx, id) { (fn), (ctx), (id), 0, 0, 0 }
/* meter_start with the fn, ctx and id already in m (a no-op for a NULL m). */
void meter_begin (struct meter *m, int64_t total);
/* current bytes done in all (meter_set) or n more (meter_add); reported when the interval
   has passed. */
void meter_set (struct meter *m, int64_t current);
void meter_add (struct meter *m, int64_t n);
/* The transfer finished with size bytes: reported at once, completed. */
void meter_end (struct meter *m, int64_t size);
/* For writers handed a meter that may be NULL: meter_add and meter_end, no-ops on NULL. */
void meter_add_opt (struct meter *m, int64_t n);
void meter_end_opt (struct meter *m, int64_t size);

#endif
