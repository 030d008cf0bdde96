/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shell-word processing exactly as BuildKit's frontend/dockerfile/shell/lex.go: quotes, the
 * escape character, $var and ${var...} expansion (every operator BuildKit supports), and
 * word splitting. Used for variable expansion of instructions and for heredoc detection.
 */
#ifndef BALE_WORDS_H
#define BALE_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "bale.h"
#include "common/kv.h" /* struct words_env */

struct words_lex
{
  char escape;              /* '\\' or '`' */
  bool raw_quotes;          /* keep quote characters in the result (Lex.RawQuotes) */
  bool raw_escapes;         /* keep escape characters in the result (Lex.RawEscapes) */
  bool skip_unset_env;      /* leave $VAR / ${VAR} as written when VAR is unset (Lex.SkipUnsetEnv) */
  bool skip_process_quotes; /* quotes are ordinary characters (Lex.SkipProcessQuotes) */
  /* When set, called for every variable looked up, found or not (ProcessWordWithMatches'
     Matched and Unmatched sets, which the build checks read). */
  void (*on_lookup) (void *ctx, const char *name, size_t len, bool found);
  void *lookup_ctx;
};

/* A lexer with BuildKit's defaults and the given escape character. */
struct words_lex words_lex_default (char escape);

/*
 * Expand src as one word (Lex.ProcessWord): no field splitting. On success *out is a
 * NUL-terminated string the caller frees and *out_len its length (it may hold NUL bytes).
 * Fails with BuildKit's message (e.g. "missing '}'", "bad substitution",
 * "FOO: is not allowed to be unset") and no location: the caller adds one.
 */
int words_process_word (const struct words_lex *lx, const char *src, size_t len,
                        const struct words_env *env, char **out, size_t *out_len, bale_error_t *err);

/*
 * Expand src and split it into words (Lex.ProcessWords). *out is a NULL-terminated array of
 * strings, all owned by the caller (free each, then the array); *n_out is their number.
 */
int words_process_words (const struct words_lex *lx, const char *src, size_t len,
                         const struct words_env *env, char ***out, size_t *n_out, bale_error_t *err);

/* Look key up in env (last entry wins). Returns the value or NULL when unset. */
const char *words_env_get (const struct words_env *env, const char *key, size_t key_len);

#endif
