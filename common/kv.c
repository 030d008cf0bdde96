/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "common/kv.h"
#include "common/xalloc.h"
#include "common/banned.h"

size_t
kv_key_len (const char *entry)
{
  const char *eq = strchr (entry, '=');
  return eq ? (size_t) (eq - entry) : strlen (entry);
}

/* FNV-1a over the key's bytes. */
static size_t
key_hash (const char *key, size_t klen)
{
  uint64_t h = 14695981039346656037ULL;

  for (size_t i = 0; i < klen; i++)
    h = (h ^ (unsigned char) key[i]) * 1099511628211ULL;
  return (size_t) h;
}

/* The slot that holds key, or the free slot where it would go. */
static size_t
slot_of (const struct kvlist *l, const char *key, size_t klen)
{
  size_t mask = l->n_slots - 1, i = key_hash (key, klen) & mask;

  for (;; i = (i + 1) & mask)
    {
      size_t at = l->slots[i];
      if (at == 0)
        return i;
      if (kv_key_len (l->kv[at - 1]) == klen && memcmp (l->kv[at - 1], key, klen) == 0)
        return i;
    }
}

/* Rebuild the index for at least want entries. */
static void
reindex (struct kvlist *l, size_t want)
{
  size_t n_slots = 16;

  while (n_slots < 2 * want)
    n_slots *= 2;
  free (l->slots);
  l->slots = xcalloc (n_slots, sizeof *l->slots);
  l->n_slots = n_slots;
  for (size_t i = 0; i < l->n; i++)
    l->slots[slot_of (l, l->kv[i], kv_key_len (l->kv[i]))] = i + 1;
}

ssize_t
kv_find (const struct kvlist *l, const char *key, size_t klen)
{
  size_t at;

  if (l->n == 0)
    return -1;
  at = l->slots[slot_of (l, key, klen)];
  return at ? (ssize_t) at - 1 : -1;
}

void
kv_release (struct kvlist *l)
{
  size_t i;
  for (i = 0; i < l->n; i++)
    free (l->kv[i]);
  free (l->kv);
  free (l->slots);
  l->kv = NULL;
  l->slots = NULL;
  l->n = l->alloc = l->n_slots = 0;
}

void
kv_copy (struct kvlist *dst, const struct kvlist *src)
{
  size_t i;
  kv_release (dst);
  XGROW (dst->kv, dst->alloc, src->n + 1);
  for (i = 0; i < src->n; i++)
    dst->kv[i] = xstrdup (src->kv[i]);
  dst->n = src->n;
  if (src->n_slots)
    {
      dst->slots = xcalloc (src->n_slots, sizeof *src->slots);
      memcpy (dst->slots, src->slots, src->n_slots * sizeof *src->slots);
      dst->n_slots = src->n_slots;
    }
}

const char *
kv_get (const struct kvlist *l, const char *key)
{
  size_t klen = strlen (key);
  ssize_t i = kv_find (l, key, klen);
  if (i < 0)
    return NULL;
  return l->kv[i][klen] == '=' ? l->kv[i] + klen + 1 : "";
}

static size_t
kv_put (struct kvlist *l, char *entry, size_t klen)
{
  size_t slot;

  if (2 * (l->n + 1) > l->n_slots)
    reindex (l, l->n + 1);
  slot = slot_of (l, entry, klen);
  if (l->slots[slot])
    {
      size_t i = l->slots[slot] - 1;
      free (l->kv[i]);
      l->kv[i] = entry;
      return i;
    }
  XGROW (l->kv, l->alloc, l->n + 1);
  l->kv[l->n++] = entry;
  l->slots[slot] = l->n;
  return l->n - 1;
}

size_t
kv_set (struct kvlist *l, const char *key, const char *value)
{
  return kv_put (l, xasprintf ("%s=%s", key, value), strlen (key));
}

void
kv_set_bare (struct kvlist *l, const char *key)
{
  kv_put (l, xstrdup (key), strlen (key));
}

size_t
kv_set_entry (struct kvlist *l, const char *entry)
{
  size_t klen = kv_key_len (entry);
  if (entry[klen] == '=')
    return kv_put (l, xstrdup (entry), klen);
  return kv_put (l, xasprintf ("%s=", entry), klen);
}

void
kv_delete (struct kvlist *l, const char *key)
{
  ssize_t i = kv_find (l, key, strlen (key));
  if (i < 0)
    return;
  free (l->kv[i]);
  memmove (l->kv + i, l->kv + i + 1, (l->n - (size_t) i - 1) * sizeof (char *));
  l->n--;
  reindex (l, l->n); /* positions moved: rare (cmd_run), so a rebuild is fine */
}

static const char *
words_lookup (const void *ctx, const char *key, size_t klen)
{
  const struct kvlist *l = ctx;
  ssize_t i = kv_find (l, key, klen);

  if (i < 0)
    return NULL;
  return l->kv[i][klen] == '=' ? l->kv[i] + klen + 1 : l->kv[i] + klen;
}

struct words_env
kv_words_env (const struct kvlist *l)
{
  struct words_env e = { (const char *const *) l->kv, l->n, words_lookup, l };
  return e;
}
