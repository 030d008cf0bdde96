/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Allocation helpers that abort on out-of-memory. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "common/banned.h"

static void __attribute__ ((noreturn))
oom (void)
{
  fputs ("bale: out of memory\n", stderr);
  abort ();
}

void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xzalloc (size_t size)
{
  return xcalloc (1, size);
}

void *
xcalloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
xrealloc (void *p, size_t size)
{
  p = realloc (p, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void
xgrow (void **p, size_t *alloc, size_t need, size_t elt)
{
  size_t n = *alloc;
  if (need <= n)
    return;
  n = n < 8 ? 8 : n;
  while (n < need)
    {
      if (n > ((size_t) -1) / 2 / elt)
        oom ();
      n *= 2;
    }
  *p = xrealloc (*p, n * elt);
  *alloc = n;
}

void *
xgrow_one (void *p, size_t n, size_t elt)
{
  if (n != 0 && (n & (n - 1)) != 0)
    return p; /* n is not a power of two: the array has room */
  if (n > ((size_t) -1) / 2 / elt)
    oom ();
  return xrealloc (p, (n ? 2 * n : 1) * elt);
}

char *
xstrdup (const char *s)
{
  return xmemdup0 (s, strlen (s));
}

char *
xstrndup (const char *s, size_t n)
{
  return xmemdup0 (s, strnlen (s, n));
}

char *
xmemdup0 (const void *s, size_t n)
{
  char *p = xmalloc (n + 1);
  if (n)
    memcpy (p, s, n);
  p[n] = '\0';
  return p;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *ret;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&ret, fmt, ap);
  va_end (ap);
  if (r < 0)
    oom ();
  return ret;
}
