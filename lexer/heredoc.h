/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Heredoc detection in an instruction line (BuildKit's heredocsFromLine and ParseHeredoc). */
#ifndef BALE_HEREDOC_H
#define BALE_HEREDOC_H

#include <stddef.h>

#include "bale.h"

/*
 * Find the heredocs `[n]<<[-]NAME` that line declares, in order. *out receives an array of
 * *n heredocs with name, expand, chomp and fd set (content empty), or NULL when there are
 * none. Fails on an unbalanced quote in a delimiter.
 */
int heredoc_from_line (const char *line, size_t len, struct bale_heredoc **out, size_t *n,
                       bale_error_t *err);

/* Parse one word as a heredoc marker. Returns 1 and fills *hd, 0 when word is no heredoc. */
int heredoc_parse_word (const char *word, struct bale_heredoc *hd, bale_error_t *err);

#endif
