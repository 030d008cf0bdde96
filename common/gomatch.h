/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Go's path/filepath.Match on Unix: the wildcard syntax of COPY and ADD sources. */
#ifndef BALE_GOMATCH_H
#define BALE_GOMATCH_H

#include <stdbool.h>

/*
 * Whether name matches pattern: '*' any run of non-'/' bytes, '?' one non-'/' character,
 * '[...]' a class with ranges and a leading '^' for negation, '\\' escapes. Returns 1 on a
 * match, 0 on none, -1 when the pattern is malformed (Go's ErrBadPattern), which, as in Go,
 * may only be noticed on inputs that reach the bad part.
 */
int gomatch (const char *pattern, const char *name);

/* Whether pattern has any unescaped wildcard character, so it must be matched, not opened. */
bool gomatch_has_meta (const char *pattern);

#endif
