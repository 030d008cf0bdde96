/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ordered KEY=VALUE lists: an image's Env, the expansion environment of a build stage and the
 * global (meta) arguments. Keys compare case-sensitively (Linux rules). A key is absent
 * (unset) or present with a value, possibly empty.
 */
#ifndef BALE_KV_H
#define BALE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* An environment: "KEY=VALUE" strings. The last entry of a key wins; a key that is absent is
   unset, "KEY=" is set and empty. Keys compare case-sensitively (Unix rules). */
struct words_env
{
  const char *const *kv;
  size_t n;
  /* When set, words_env_get asks it instead of scanning kv (a list with an index of its keys,
     common/kv.c): the value of the key's entry, or NULL. */
  const char *(*lookup) (const void *ctx, const char *key, size_t key_len);
  const void *ctx;
};

struct kvlist
{
  char **kv; /* "KEY=VALUE", owned */
  size_t n, alloc;
  /* A hash index of the keys (open addressing: position + 1, 0 for a free slot; a power of
     two, at least twice n), so that a Dockerfile of 100,000 ARG or ENV lines is not quadratic.
     Only the functions below may change kv. */
  size_t *slots, n_slots;
};

#define KVLIST_INIT { NULL, 0, 0, NULL, 0 }

void kv_release (struct kvlist *l);
void kv_copy (struct kvlist *dst, const struct kvlist *src);
/* The value of key, or NULL when it is not set. */
const char *kv_get (const struct kvlist *l, const char *key);
/* Set key: replace the first entry with that key in place, else append (Go's addEnv).
   Returns the entry's position. */
size_t kv_set (struct kvlist *l, const char *key, const char *value);
/* Set key to the bare "KEY" (an ARG without a value), with kv_set's rule. */
void kv_set_bare (struct kvlist *l, const char *key);
/* The position of the entry with key (key_len bytes), or -1. */
ssize_t kv_find (const struct kvlist *l, const char *key, size_t key_len);
/* Add a "KEY=VALUE" (or bare "KEY", taken as KEY=) string with kv_set's rule. Returns the
   entry's position. */
size_t kv_set_entry (struct kvlist *l, const char *entry);
void kv_delete (struct kvlist *l, const char *key);
/* A view of l for the shell-word lexer, with its lookups through the index (borrowed; valid
   until l changes). */
struct words_env kv_words_env (const struct kvlist *l);
/* The key of a "KEY=VALUE" entry: its length, up to the first '='. */
size_t kv_key_len (const char *entry);

#endif
