/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON exec-form arrays, decoded with jansson; element positions recovered for error spans. */
#include <config.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/jsonarg.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* Offsets of the string tokens at depth 1 of a JSON text that jansson has accepted. */
static void
locate_elements (const char *text, size_t len, struct jsonarg_elem *elems, size_t n)
{
  size_t i, k = 0;
  int depth = 0;

  for (i = 0; i < len && k < n; i++)
    {
      if (text[i] == '[')
        depth++;
      else if (text[i] == ']')
        depth--;
      else if (text[i] == '"')
        {
          size_t start = i++;
          while (i < len && text[i] != '"')
            i += text[i] == '\\' ? 2 : 1;
          if (depth == 1)
            {
              elems[k].start = start;
              elems[k].end = i + 1;
              k++;
            }
        }
    }
}

static size_t
leading_space (const char *text, size_t len)
{
  size_t i = 0;
  while (i < len)
    {
      uint32_t r;
      size_t w = utf8_decode ((const unsigned char *) text + i, len - i, &r);
      if (w == 0 || !utf8_is_space (r))
        break;
      i += w;
    }
  return i;
}

static enum jsonarg_result
check_strings (json_t *arr)
{
  size_t i;
  json_t *v;

  json_array_foreach (arr, i, v)
    if (!json_is_string (v))
      return JSONARG_NOT_STRINGS;
  return JSONARG_OK;
}

enum jsonarg_result
jsonarg_parse (const char *text, size_t len, struct jsonarg_elem **out, size_t *n)
{
  size_t lead = leading_space (text, len), i, count;
  json_error_t jerr;
  json_t *arr, *v;
  enum jsonarg_result res;
  struct jsonarg_elem *elems;

  if (lead >= len || text[lead] != '[')
    return JSONARG_NOT_JSON;
  /* Go's json.Unmarshal accepts "\u0000" in strings; jansson needs JSON_ALLOW_NUL for it. */
  arr = json_loadb (text + lead, len - lead, JSON_ALLOW_NUL, &jerr);
  if (arr == NULL || !json_is_array (arr))
    {
      json_decref (arr);
      return JSONARG_NOT_JSON;
    }
  res = check_strings (arr);
  if (res != JSONARG_OK || out == NULL)
    {
      json_decref (arr);
      return res;
    }
  count = json_array_size (arr);
  elems = xcalloc (count ? count : 1, sizeof *elems);
  json_array_foreach (arr, i, v)
    {
      elems[i].len = json_string_length (v);
      elems[i].value = xmemdup0 (json_string_value (v), elems[i].len);
    }
  locate_elements (text + lead, len - lead, elems, count);
  for (i = 0; i < count; i++)
    elems[i].start += lead, elems[i].end += lead;
  json_decref (arr);
  *out = elems;
  *n = count;
  return JSONARG_OK;
}

void
jsonarg_free (struct jsonarg_elem *elems, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    free (elems[i].value);
  free (elems);
}
