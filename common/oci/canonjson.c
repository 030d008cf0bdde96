/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A json_t walker that writes Go encoding/json's exact bytes (jansson's dumper cannot:
   it escapes with uppercase hex and leaves `<`, `>`, `&` and U+2028/9 raw). */
#include <config.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/oci/canonjson.h"
#include "common/error.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define MAX_DEPTH 10000

static const char hexdigits[] = "0123456789abcdef";

/* Keys may hold NUL bytes only through jansson 2.14's *n API; configure accepts 2.13. */
static size_t
iter_key_len (void *it)
{
#if JANSSON_VERSION_HEX >= 0x020e00
  return json_object_iter_key_len (it);
#else
  return strlen (json_object_iter_key (it));
#endif
}

static void
set_member (json_t *obj, const char *key, size_t len, json_t *value)
{
#if JANSSON_VERSION_HEX >= 0x020e00
  json_object_setn_new_nocheck (obj, key, len, value);
#else
  (void) len;
  json_object_set_new_nocheck (obj, key, value);
#endif
}

static void
add_u_escape (struct strbuf *out, unsigned int c)
{
  strbuf_addstr (out, "\\u");
  strbuf_addch (out, hexdigits[(c >> 12) & 0xf]);
  strbuf_addch (out, hexdigits[(c >> 8) & 0xf]);
  strbuf_addch (out, hexdigits[(c >> 4) & 0xf]);
  strbuf_addch (out, hexdigits[c & 0xf]);
}

/* The escape Go's appendString uses for an ASCII byte, or NULL when it is written as is. */
static const char *
ascii_escape (unsigned char c)
{
  switch (c)
    {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return NULL;
    }
}

static void
add_ascii (struct strbuf *out, unsigned char c)
{
  const char *esc = ascii_escape (c);

  if (esc)
    strbuf_addstr (out, esc);
  else if (c < 0x20 || c == '<' || c == '>' || c == '&')
    add_u_escape (out, c);
  else
    strbuf_addch (out, c);
}

static void
add_string (struct strbuf *out, const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *) s;
  size_t i = 0;

  strbuf_addch (out, '"');
  while (i < len)
    {
      uint32_t r;
      size_t w;

      if (p[i] < 0x80)
        {
          add_ascii (out, p[i++]);
          continue;
        }
      w = utf8_decode (p + i, len - i, &r);
      if (w == 0)
        {
          /* Go coerces to valid UTF-8 one bad byte at a time. */
          strbuf_addstr (out, "\\ufffd");
          i++;
          continue;
        }
      if (r == 0x2028 || r == 0x2029)
        add_u_escape (out, r);
      else
        strbuf_add (out, p + i, w);
      i += w;
    }
  strbuf_addch (out, '"');
}

/* Shortest decimal digits that read back as f (f > 0), and the decimal exponent of the first. */
static void
shortest_digits (double f, char digits[32], int *exp10)
{
  char buf[48];
  int prec;

  for (prec = 1; prec <= 17; prec++)
    {
      snprintf (buf, sizeof buf, "%.*e", prec - 1, f);
      if (strtod (buf, NULL) == f)
        break;
    }
  {
    char *e = strchr (buf, 'e');
    size_t n = 0;
    const char *q;

    *exp10 = atoi (e + 1);
    for (q = buf; q < e; q++)
      if (*q != '.')
        digits[n++] = *q;
    while (n > 1 && digits[n - 1] == '0')
      n--;
    digits[n] = '\0';
  }
}

static void
add_fixed (struct strbuf *out, const char *d, int e)
{
  int n = (int) strlen (d);
  int i;

  if (e < 0)
    {
      strbuf_addstr (out, "0.");
      for (i = 0; i < -e - 1; i++)
        strbuf_addch (out, '0');
      strbuf_addstr (out, d);
      return;
    }
  for (i = 0; i <= e || i < n; i++)
    {
      if (i == e + 1)
        strbuf_addch (out, '.');
      strbuf_addch (out, i < n ? d[i] : '0');
    }
}

static void
add_exp (struct strbuf *out, const char *d, int e)
{
  strbuf_addch (out, d[0]);
  if (d[1])
    {
      strbuf_addch (out, '.');
      strbuf_addstr (out, d + 1);
    }
  /* strconv writes at least two exponent digits; encoding/json then trims "e-0N" to
     "e-N" but leaves positive exponents (always >= 21 here) alone. */
  if (e < 0 && e > -10)
    strbuf_addf (out, "e-%d", -e);
  else
    strbuf_addf (out, "e%c%02d", e < 0 ? '-' : '+', abs (e));
}

/* encoding/json's floatEncoder: 'f' format unless 0 < |f| < 1e-6 or |f| >= 1e21. */
static int
add_real (struct strbuf *out, double f, bale_error_t *err)
{
  char digits[32];
  double a = fabs (f);
  int e;

  if (!isfinite (f))
    return bale_make_error (err, 0, "cannot encode non-finite number '%g'", f);
  if (signbit (f))
    strbuf_addch (out, '-');
  if (a == 0)
    {
      strbuf_addch (out, '0');
      return 0;
    }
  shortest_digits (a, digits, &e);
  if (a < 1e-6 || a >= 1e21)
    add_exp (out, digits, e);
  else
    add_fixed (out, digits, e);
  return 0;
}

static int add_value (struct strbuf *out, const json_t *v, int depth, bale_error_t *err);

static int
add_object (struct strbuf *out, const json_t *obj, int depth, bale_error_t *err)
{
  void *it;
  bool first = true;

  strbuf_addch (out, '{');
  for (it = json_object_iter ((json_t *) obj); it; it = json_object_iter_next ((json_t *) obj, it))
    {
      int ret;

      if (!first)
        strbuf_addch (out, ',');
      first = false;
      add_string (out, json_object_iter_key (it), iter_key_len (it));
      strbuf_addch (out, ':');
      ret = add_value (out, json_object_iter_value (it), depth + 1, err);
      if (ret < 0)
        return ret;
    }
  strbuf_addch (out, '}');
  return 0;
}

static int
add_array (struct strbuf *out, const json_t *arr, int depth, bale_error_t *err)
{
  size_t i;

  strbuf_addch (out, '[');
  for (i = 0; i < json_array_size (arr); i++)
    {
      int ret;

      if (i > 0)
        strbuf_addch (out, ',');
      ret = add_value (out, json_array_get (arr, i), depth + 1, err);
      if (ret < 0)
        return ret;
    }
  strbuf_addch (out, ']');
  return 0;
}

static int
add_value (struct strbuf *out, const json_t *v, int depth, bale_error_t *err)
{
  if (depth > MAX_DEPTH)
    return bale_make_error (err, 0, "cannot encode JSON nested deeper than %d", MAX_DEPTH);
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      return add_object (out, v, depth, err);
    case JSON_ARRAY:
      return add_array (out, v, depth, err);
    case JSON_STRING:
      add_string (out, json_string_value (v), json_string_length (v));
      return 0;
    case JSON_INTEGER:
      strbuf_addf (out, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
      return 0;
    case JSON_REAL:
      return add_real (out, json_real_value (v), err);
    case JSON_TRUE:
      strbuf_addstr (out, "true");
      return 0;
    case JSON_FALSE:
      strbuf_addstr (out, "false");
      return 0;
    case JSON_NULL:
    default:
      strbuf_addstr (out, "null");
      return 0;
    }
}

int
canonjson_append (struct strbuf *out, const json_t *v, bale_error_t *err)
{
  if (v == NULL)
    return bale_make_error (err, 0, "cannot encode a missing JSON value");
  return add_value (out, v, 0, err);
}

char *
canonjson_dumps (const json_t *v, size_t *len, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;

  if (canonjson_append (&sb, v, err) < 0)
    {
      strbuf_release (&sb);
      return NULL;
    }
  return strbuf_detach (&sb, len);
}

struct member
{
  const char *key;
  size_t len;
  json_t *value;
};

static int
compare_members (const void *a, const void *b)
{
  const struct member *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp (x->key, y->key, n);

  if (c != 0)
    return c;
  return (x->len > y->len) - (x->len < y->len);
}

void
canonjson_sort_keys (json_t *obj)
{
  size_t n = json_object_size (obj), i = 0;
  struct member *m;
  void *it;

  if (!json_is_object (obj) || n < 2)
    return;
  m = xcalloc (n, sizeof *m);
  for (it = json_object_iter (obj); it; it = json_object_iter_next (obj, it), i++)
    {
      m[i].len = iter_key_len (it);
      m[i].key = xmemdup0 (json_object_iter_key (it), m[i].len);
      m[i].value = json_incref (json_object_iter_value (it));
    }
  qsort (m, n, sizeof *m, compare_members);
  /* jansson keeps a replaced key in its old position, so reordering means re-inserting. */
  json_object_clear (obj);
  for (i = 0; i < n; i++)
    {
      set_member (obj, m[i].key, m[i].len, m[i].value);
      free ((char *) m[i].key);
    }
  free (m);
}
