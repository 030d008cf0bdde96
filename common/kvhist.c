/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/kvhist.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct kv_assignment
{
  size_t pos;
  char *entry;
};

struct kv_history
{
  size_t refs;
  struct kv_assignment *v;
  size_t n, alloc;
};

void
kv_history_record (struct kv_history **h, const struct kvlist *l, size_t pos)
{
  if (!*h)
    {
      *h = xzalloc (sizeof **h);
      (*h)->refs = 1;
    }
  XGROW ((*h)->v, (*h)->alloc, (*h)->n + 1);
  (*h)->v[(*h)->n].pos = pos;
  (*h)->v[(*h)->n++].entry = xstrdup (l->kv[pos]);
}

void
kv_history_record_all (struct kv_history **h, const struct kvlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    kv_history_record (h, l, i);
}

void
kv_history_unref (struct kv_history *h)
{
  if (!h || --h->refs > 0)
    return;
  for (size_t i = 0; i < h->n; i++)
    free (h->v[i].entry);
  free (h->v);
  free (h);
}

struct kv_state
kv_state_take (struct kv_history *h)
{
  if (h)
    h->refs++;
  return (struct kv_state){ h, h ? h->n : 0 };
}

void
kv_state_release (struct kv_state *s)
{
  kv_history_unref (s->h);
  s->h = NULL;
  s->n = 0;
}

void
kv_state_get (const struct kv_state *s, struct kvlist *out)
{
  const char **at;
  size_t n_pos = 0, i;

  for (i = 0; i < s->n; i++)
    if (s->h->v[i].pos + 1 > n_pos)
      n_pos = s->h->v[i].pos + 1;
  /* Each position holds its last assignment; positions are filled in order, so the list
     comes out in the order of its keys' first assignment, as kv_set keeps it. */
  at = xcalloc (n_pos + 1, sizeof *at);
  for (i = 0; i < s->n; i++)
    at[s->h->v[i].pos] = s->h->v[i].entry;
  for (i = 0; i < n_pos; i++)
    if (at[i])
      kv_set_entry (out, at[i]);
  free (at);
}
