/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "Did you mean ...?": the closest candidate to a misspelt word. */
#ifndef BALE_SUGGEST_H
#define BALE_SUGGEST_H

#include <stddef.h>

/* The candidate closest to word (case-insensitive Damerau-Levenshtein distance), or NULL when
   none is close enough to be a plausible typo. */
const char *suggest_closest (const char *word, const char *const *candidates, size_t n);

#endif
