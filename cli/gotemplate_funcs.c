/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The functions of docker's templates (cli/templates/templates.go) and text/template's
   builtins, on JSON values (cli/gotemplate.h). */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/gotemplate_ast.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static json_t *call_error (struct gt_call *c, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static json_t *
call_error (struct gt_call *c, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  gt_verror (c->err, c->text, c->pos, fmt, ap);
  va_end (ap);
  return NULL;
}

static const char *
want_string (struct gt_call *c, size_t i, const char *fn)
{
  if (!json_is_string (c->argv[i]))
    return call_error (c, "wrong type for value in %s: expected string", fn), NULL;
  return json_string_value (c->argv[i]);
}

static json_t *
fn_json (struct gt_call *c)
{
  /* docker's encoder: no HTML escaping, trailing newline trimmed; objects in their order. */
  char *text = json_dumps (c->argv[0], JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
  json_t *v = json_string (text ? text : "null");

  free (text);
  return v;
}

static json_t *
fn_join (struct gt_call *c)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  const char *sep = want_string (c, 1, "join");
  size_t i;

  if (sep == NULL)
    return NULL;
  if (!json_is_array (c->argv[0]) && !json_is_null (c->argv[0]))
    return call_error (c, "wrong type for value in %s: expected a list", "join");
  for (i = 0; i < json_array_size (c->argv[0]); i++)
    {
      json_t *e = json_array_get (c->argv[0], i);

      if (!json_is_string (e))
        return call_error (c, "wrong type for value in %s: expected a list of strings", "join");
      strbuf_addf (&sb, "%s%s", i ? sep : "", json_string_value (e));
    }
  return json_stringn (sb.buf, sb.len);
}

static json_t *
fn_split (struct gt_call *c)
{
  const char *s = want_string (c, 0, "split"), *sep = s ? want_string (c, 1, "split") : NULL;
  json_t *out;
  const char *p;

  if (sep == NULL)
    return NULL;
  out = json_array ();
  if (*sep == 0)
    {
      /* Go splits after each UTF-8 sequence. */
      for (p = s; *p;)
        {
          size_t n = 1;

          while (((unsigned char) p[n] & 0xc0) == 0x80)
            n++;
          json_array_append_new (out, json_stringn (p, n));
          p += n;
        }
      return out;
    }
  for (p = s;; p += strlen (sep))
    {
      const char *q = strstr (p, sep);

      json_array_append_new (out, json_stringn (p, q ? (size_t) (q - p) : strlen (p)));
      if (q == NULL)
        break;
      p = q;
    }
  return out;
}

static json_t *
map_case (struct gt_call *c, const char *fn, int mode)
{
  const char *s = want_string (c, 0, fn);
  char *copy;
  bool word_start = true;
  json_t *v;
  size_t i;

  if (s == NULL)
    return NULL;
  copy = xstrdup (s);
  for (i = 0; copy[i]; i++)
    {
      unsigned char ch = (unsigned char) copy[i];

      if (mode < 0)
        copy[i] = (char) tolower (ch);
      else if (mode > 0 || word_start)
        copy[i] = (char) toupper (ch);
      word_start = isspace (ch) || ch == '-' || ch == '_';
    }
  v = json_string (copy);
  free (copy);
  return v;
}

static json_t *
fn_lower (struct gt_call *c)
{
  return map_case (c, "lower", -1);
}

static json_t *
fn_upper (struct gt_call *c)
{
  return map_case (c, "upper", 1);
}

static json_t *
fn_title (struct gt_call *c)
{
  return map_case (c, "title", 0);
}

static json_t *
fn_pad (struct gt_call *c)
{
  const char *s = want_string (c, 0, "pad");
  json_int_t before = json_integer_value (c->argv[1]), after = json_integer_value (c->argv[2]);

  if (s == NULL)
    return NULL;
  if (!json_is_integer (c->argv[1]) || !json_is_integer (c->argv[2]) || before < 0 || after < 0)
    return call_error (c, "wrong type for value in %s: expected two counts", "pad");
  if (*s == 0)
    return json_string ("");
  return json_sprintf ("%*s%s%*s", (int) before, "", s, (int) after, "");
}

static json_t *
fn_truncate (struct gt_call *c)
{
  const char *s = want_string (c, 0, "truncate");
  json_int_t n = json_integer_value (c->argv[1]);

  if (s == NULL)
    return NULL;
  if (!json_is_integer (c->argv[1]) || n < 0)
    return call_error (c, "wrong type for value in %s: expected a length", "truncate");
  return json_stringn (s, (size_t) n < strlen (s) ? (size_t) n : strlen (s));
}

static json_t *
fn_index (struct gt_call *c)
{
  json_t *v = c->argv[0];
  size_t i;

  for (i = 1; i < c->argc; i++)
    {
      json_t *k = c->argv[i];

      if (json_is_object (v) && json_is_string (k))
        v = json_object_get (v, json_string_value (k));
      else if (json_is_array (v) && json_is_integer (k))
        {
          if (json_integer_value (k) < 0 || (size_t) json_integer_value (k) >= json_array_size (v))
            {
              gt_error (c->err, c->text, c->pos, "error calling index: index out of range: %"
                        JSON_INTEGER_FORMAT, json_integer_value (k));
              return NULL;
            }
          v = json_array_get (v, (size_t) json_integer_value (k));
        }
      else if (json_is_null (v))
        return call_error (c, "error calling index: index of untyped nil%s", "");
      else
        return call_error (c, "error calling index: cannot index %s with this key",
                           json_is_string (v) ? "a string" : "this value");
      if (v == NULL) /* a missing map key gives the zero value */
        return json_null ();
    }
  return json_incref (v);
}

static json_t *
fn_len (struct gt_call *c)
{
  json_t *v = c->argv[0];

  if (json_is_string (v))
    return json_integer ((json_int_t) json_string_length (v));
  if (json_is_array (v))
    return json_integer ((json_int_t) json_array_size (v));
  if (json_is_object (v))
    return json_integer ((json_int_t) json_object_size (v));
  return call_error (c, "error calling len: len of %s", json_is_null (v) ? "nil" : "this type");
}

/* fmt.Sprint: a space between operands when neither is a string. */
static json_t *
fn_print (struct gt_call *c)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  size_t i;

  for (i = 0; i < c->argc; i++)
    {
      if (i && !json_is_string (c->argv[i]) && !json_is_string (c->argv[i - 1]))
        strbuf_addch (&sb, ' ');
      gt_print_value (&sb, c->argv[i], false);
    }
  return json_stringn (sb.buf, sb.len);
}

static json_t *
fn_println (struct gt_call *c)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  size_t i;

  for (i = 0; i < c->argc; i++)
    {
      if (i)
        strbuf_addch (&sb, ' ');
      gt_print_value (&sb, c->argv[i], false);
    }
  strbuf_addch (&sb, '\n');
  return json_stringn (sb.buf, sb.len);
}

/* fmt.Sprintf for the verbs people use in --format: %s %v %d %q %t %%, with flags and width. */
static json_t *
fn_printf (struct gt_call *c)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  const char *f = want_string (c, 0, "printf");
  size_t next = 1;

  if (f == NULL)
    return NULL;
  for (; *f; f++)
    {
      cleanup_strbuf struct strbuf arg = STRBUF_INIT;
      bool left = false, zero = false;
      int width = 0;
      json_t *v;

      if (*f != '%')
        {
          strbuf_addch (&sb, *f);
          continue;
        }
      if (*++f == '%')
        {
          strbuf_addch (&sb, '%');
          continue;
        }
      for (; *f == '-' || *f == '0'; f++)
        left |= *f == '-', zero |= *f == '0';
      for (; isdigit ((unsigned char) *f); f++)
        width = width * 10 + (*f - '0');
      if (*f == 0 || !strchr ("svdqt", *f))
        return call_error (c, "printf: the verb %%%.1s is not supported by bale", *f ? f : "");
      if (next >= c->argc)
        return call_error (c, "printf: missing operand for %%%.1s", f);
      v = c->argv[next++];
      if (*f == 'd' && !json_is_integer (v))
        return call_error (c, "printf: %%d of a value that is not an integer%s", "");
      if (*f == 't' && !json_is_boolean (v))
        return call_error (c, "printf: %%t of a value that is not a boolean%s", "");
      if (*f == 'q' && !json_is_string (v))
        return call_error (c, "printf: %%q of a value that is not a string%s", "");
      if (*f == 'q')
        strbuf_add_goquote (&arg, json_string_value (v), json_string_length (v));
      else
        gt_print_value (&arg, v, false);
      if (zero && !left && *f == 'd')
        strbuf_addf (&sb, "%0*" JSON_INTEGER_FORMAT, width, json_integer_value (v));
      else
        strbuf_addf (&sb, left ? "%-*s" : "%*s", width, arg.buf);
    }
  if (next < c->argc)
    return call_error (c, "printf: %s", "more operands than verbs");
  return json_stringn (sb.buf, sb.len);
}

static json_t *
fn_not (struct gt_call *c)
{
  return json_boolean (!gt_truth (c->argv[0]));
}

/* Go 1.18's and/or: the first operand that decides, else the last. */
static json_t *
fn_and (struct gt_call *c)
{
  size_t i;

  for (i = 0; i + 1 < c->argc && gt_truth (c->argv[i]); i++)
    ;
  return json_incref (c->argv[i]);
}

static json_t *
fn_or (struct gt_call *c)
{
  size_t i;

  for (i = 0; i + 1 < c->argc && !gt_truth (c->argv[i]); i++)
    ;
  return json_incref (c->argv[i]);
}

/* -1, 0, 1; or 2 (with an error) when text/template refuses to compare them. */
static int
compare (struct gt_call *c, const json_t *a, const json_t *b, bool ordered)
{
  if (json_is_number (a) && json_is_number (b))
    {
      double x = json_number_value (a), y = json_number_value (b);

      if (json_is_integer (a) && json_is_integer (b))
        return json_integer_value (a) < json_integer_value (b)   ? -1
               : json_integer_value (a) > json_integer_value (b) ? 1
                                                                 : 0;
      return x < y ? -1 : x > y ? 1 : 0;
    }
  if (json_is_string (a) && json_is_string (b))
    {
      int r = strcmp (json_string_value (a), json_string_value (b));

      return r < 0 ? -1 : r > 0 ? 1 : 0;
    }
  if (!ordered && json_is_boolean (a) && json_is_boolean (b))
    return json_equal (a, b) ? 0 : 1;
  if (!ordered && (json_is_null (a) || json_is_null (b)))
    return json_is_null (a) && json_is_null (b) ? 0 : 1;
  call_error (c, ordered ? "error calling %s: invalid type for comparison"
                         : "error calling %s: incompatible types for comparison",
              ordered ? "lt" : "eq");
  return 2;
}

static json_t *
fn_eq (struct gt_call *c)
{
  size_t i;

  for (i = 1; i < c->argc; i++)
    {
      int r = compare (c, c->argv[0], c->argv[i], false);

      if (r == 2)
        return NULL;
      if (r == 0)
        return json_true ();
    }
  return json_false ();
}

static json_t *
fn_ne (struct gt_call *c)
{
  int r = compare (c, c->argv[0], c->argv[1], false);

  return r == 2 ? NULL : json_boolean (r != 0);
}

#define ORDER_FN(name, test)                                                                  \
  static json_t *fn_##name (struct gt_call *c)                                                \
  {                                                                                           \
    int r = compare (c, c->argv[0], c->argv[1], true);                                        \
    return r == 2 ? NULL : json_boolean (test);                                               \
  }
ORDER_FN (lt, r < 0)
ORDER_FN (le, r <= 0)
ORDER_FN (gt, r > 0)
ORDER_FN (ge, r >= 0)

const struct gt_func gt_funcs[] = {
  /* docker's additions */
  { "json", 1, 1, fn_json, true },
  { "join", 2, 2, fn_join, true },
  { "split", 2, 2, fn_split, true },
  { "title", 1, 1, fn_title, true },
  { "lower", 1, 1, fn_lower, true },
  { "upper", 1, 1, fn_upper, true },
  { "pad", 3, 3, fn_pad, true },
  { "truncate", 2, 2, fn_truncate, true },
  /* text/template's builtins */
  { "index", 1, -1, fn_index, false },
  { "len", 1, 1, fn_len, false },
  { "print", 0, -1, fn_print, false },
  { "printf", 1, -1, fn_printf, false },
  { "println", 0, -1, fn_println, false },
  { "not", 1, 1, fn_not, false },
  { "and", 1, -1, fn_and, false },
  { "or", 1, -1, fn_or, false },
  { "eq", 2, -1, fn_eq, false },
  { "ne", 2, 2, fn_ne, false },
  { "lt", 2, 2, fn_lt, false },
  { "le", 2, 2, fn_le, false },
  { "gt", 2, 2, fn_gt, false },
  { "ge", 2, 2, fn_ge, false },
  { "slice", 1, -1, NULL, false },
  { "html", 0, -1, NULL, false },
  { "js", 0, -1, NULL, false },
  { "urlquery", 0, -1, NULL, false },
  { "call", 1, -1, NULL, false },
  { NULL, 0, 0, NULL, false },
};

int
gt_func_find (const char *name)
{
  int i;

  for (i = 0; gt_funcs[i].name; i++)
    if (strcmp (gt_funcs[i].name, name) == 0)
      return i;
  return -1;
}
