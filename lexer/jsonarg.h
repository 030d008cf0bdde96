/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exec-form detection: is an instruction's text a JSON array of strings (BuildKit's parseJSON)? */
#ifndef BALE_JSONARG_H
#define BALE_JSONARG_H

#include <stddef.h>

enum jsonarg_result
{
  JSONARG_NOT_STRINGS = -1, /* valid JSON, but an element is not a string: a hard error */
  JSONARG_NOT_JSON = 0,     /* not a JSON array: BuildKit falls back to the shell form */
  JSONARG_OK = 1,
};

struct jsonarg_elem
{
  char *value; /* decoded; may hold NUL bytes */
  size_t len;
  size_t start, end; /* the element's quoted text in the input */
};

/* Parse text as a JSON array of strings. When out is not NULL and the result is JSONARG_OK,
   *out receives the elements (free with jsonarg_free) and *n their number. */
enum jsonarg_result jsonarg_parse (const char *text, size_t len, struct jsonarg_elem **out, size_t *n);
void jsonarg_free (struct jsonarg_elem *elems, size_t n);

#endif
