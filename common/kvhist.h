/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The states a kvlist went through, kept so that each can be had later without copying the
 * list at every state: a build stage's environment changes at each ENV and ARG, and each RUN,
 * COPY or WORKDIR step keeps the one it runs in. A copy per step made a Dockerfile of N ENV
 * lines each followed by a RUN quadratic in N (time and memory); a kv_state is O(1).
 */
#ifndef BALE_KVHIST_H
#define BALE_KVHIST_H

#include <stddef.h>

#include "common/kv.h"

/* An append-only log of (position, "KEY=VALUE") assignments, shared by reference count. */
struct kv_history;

/* One state: the first n assignments of a history (NULL: the empty list). */
struct kv_state
{
  struct kv_history *h;
  size_t n;
};

/* Record that l->kv[pos] was just set (replaced in place or appended), into *h (created on
   first use). */
void kv_history_record (struct kv_history **h, const struct kvlist *l, size_t pos);
/* Record every entry of l, in order (a list copied from elsewhere). */
void kv_history_record_all (struct kv_history **h, const struct kvlist *l);
void kv_history_unref (struct kv_history *h);

/* The current state of h (a reference the caller releases). */
struct kv_state kv_state_take (struct kv_history *h);
void kv_state_release (struct kv_state *s);
/* The list as it was in state s, into the empty list out. O(assignments up to s). */
void kv_state_get (const struct kv_state *s, struct kvlist *out);

#endif
