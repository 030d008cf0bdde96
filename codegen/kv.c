/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>

#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "codegen/kv.h"
#include "common/xalloc.h"
#include "common/banned.h"

size_t
kv_key_len (const char *entry)
{
  const char *eq = strchr (entry, '=');
  return eq ? (size_t) (eq - entry) : strlen (entry);
}

static ssize_t
kv_find (const struct kvlist *l, const char *key, size_t klen)
{
  size_t i;
  for (i = 0; i < l->n; i++)
    if (kv_key_len (l->kv[i]) == klen && memcmp (l->kv[i], key, klen) == 0)
      return (ssize_t) i;
  return -1;
}

void
kv_release (struct kvlist *l)
{
  size_t i;
  for (i = 0; i < l->n; i++)
    free (l->kv[i]);
  free (l->kv);
  l->kv = NULL;
  l->n = l->alloc = 0;
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
}

const char *
kv_get (const struct kvlist *l, const char *key)
{
  ssize_t i = kv_find (l, key, strlen (key));
  if (i < 0)
    return NULL;
  return l->kv[i][strlen (key)] == '=' ? l->kv[i] + strlen (key) + 1 : "";
}

static void
kv_put (struct kvlist *l, char *entry, size_t klen)
{
  ssize_t i = kv_find (l, entry, klen);
  if (i >= 0)
    {
      free (l->kv[i]);
      l->kv[i] = entry;
      return;
    }
  XGROW (l->kv, l->alloc, l->n + 1);
  l->kv[l->n++] = entry;
}

void
kv_set (struct kvlist *l, const char *key, const char *value)
{
  kv_put (l, xasprintf ("%s=%s", key, value), strlen (key));
}

void
kv_set_entry (struct kvlist *l, const char *entry)
{
  size_t klen = kv_key_len (entry);
  if (entry[klen] == '=')
    kv_put (l, xstrdup (entry), klen);
  else
    kv_put (l, xasprintf ("%s=", entry), klen);
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
}

struct words_env
kv_words_env (const struct kvlist *l)
{
  struct words_env e = { (const char *const *) l->kv, l->n };
  return e;
}
