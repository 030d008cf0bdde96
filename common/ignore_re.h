/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The regular-expression engine behind .dockerignore patterns (common/ignore.c): what
   patternmatcher hands to Go's regexp package, compiled and matched here. */
#ifndef BALE_IGNORE_RE_H
#define BALE_IGNORE_RE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUNE_ERROR 0xfffdu
#define MAX_RUNE 0x10ffffu

struct re_prog;

/* The program of regular expression re, or NULL with *why (a static string) when re uses
   syntax outside the subset. */
struct re_prog *ignore_re_compile (const char *re, const char **why);
/* Go's MatchString: whether the expression matches somewhere in s[0..len) (its own ^ and $
   anchor it). */
bool ignore_re_match (const struct re_prog *p, const char *s, size_t len);
void ignore_re_free (struct re_prog *p);
/* utf8.DecodeRune: an invalid byte decodes as U+FFFD of width 1. */
size_t ignore_re_rune_at (const char *s, size_t len, uint32_t *r);

#endif
