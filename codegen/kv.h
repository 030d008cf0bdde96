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

#include "lexer/words.h"

struct kvlist
{
  char **kv; /* "KEY=VALUE", owned */
  size_t n, alloc;
};

#define KVLIST_INIT { NULL, 0, 0 }

void kv_release (struct kvlist *l);
void kv_copy (struct kvlist *dst, const struct kvlist *src);
/* The value of key, or NULL when it is not set. */
const char *kv_get (const struct kvlist *l, const char *key);
/* Set key: replace the first entry with that key in place, else append (Go's addEnv). */
void kv_set (struct kvlist *l, const char *key, const char *value);
/* Add a "KEY=VALUE" (or bare "KEY", taken as KEY=) string with kv_set's rule. */
void kv_set_entry (struct kvlist *l, const char *entry);
void kv_delete (struct kvlist *l, const char *key);
/* A view of l for the shell-word lexer (borrowed; valid until l changes). */
struct words_env kv_words_env (const struct kvlist *l);
/* The key of a "KEY=VALUE" entry: its length, up to the first '='. */
size_t kv_key_len (const char *entry);

#endif
