/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Allocation helpers that abort on out-of-memory, so callers need no NULL checks. */
#ifndef BALE_XALLOC_H
#define BALE_XALLOC_H

#include <stddef.h>

void *xmalloc (size_t size);
void *xzalloc (size_t size);
void *xcalloc (size_t n, size_t size);
void *xrealloc (void *p, size_t size);
/* Grow *p (an array of *alloc elements of size elt) so that it holds at least need elements. */
void xgrow (void **p, size_t *alloc, size_t need, size_t elt);
/* Room for element n of the array p holds n elements of size elt in, for arrays that only ever
   grow one element at a time from empty: the capacity follows from n (powers of two), so no
   field keeps it, and appending is amortised O(1), not a copy of the array each time. */
void *xgrow_one (void *p, size_t n, size_t elt);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
/* A NUL-terminated copy of n bytes that may themselves contain NUL. */
char *xmemdup0 (const void *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#define XGROW(arr, alloc, need) xgrow ((void **) &(arr), &(alloc), (need), sizeof (*(arr)))

#endif
