/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-instruction argument parsing, as BuildKit's line_parsers.go dispatch table. */
#ifndef BALE_ARGS_H
#define BALE_ARGS_H

#include <stddef.h>

#include "bale.h"
#include "common/srcfile.h"
#include "lexer/lex.h"

/* Where the argument text sits: logical offset base of line, for spans of single words. */
struct args_ctx
{
  const struct srcfile *sf;
  const struct lex_line *line;
  size_t base;
  char escape;
};

/* The span of bytes [a, b) of the argument text. */
struct bale_span args_span (const struct args_ctx *c, size_t a, size_t b);

/* Fill n->args and n->json from the argument text rest (already trimmed) by n->kind's rule. */
int args_parse (struct bale_node *n, const char *rest, size_t len, const struct args_ctx *c,
                bale_error_t *err);

/* BuildKit's parseWords: quote-aware words, quotes and escapes kept. Each word's [start,end)
   offsets in s are stored in offs (2 per word) when offs is not NULL. */
size_t args_parse_words (const char *s, size_t len, char escape, char ***words, size_t **offs);

#endif
