/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Argument parsing per instruction: exec-form JSON, whitespace lists, name=value pairs. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "parser/args.h"
#include "parser/ast.h"
#include "lexer/jsonarg.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct bale_span
args_span (const struct args_ctx *c, size_t a, size_t b)
{
  size_t s = lex_line_src (c->line, c->base + a);
  /* The end is exclusive: map the last byte, so a word that ends a physical line does not
     point at the start of the next one. */
  size_t e = b > a ? lex_line_src (c->line, c->base + b - 1) + 1 : s;
  return srcfile_span (c->sf, s, e);
}

static int
fail (const struct args_ctx *c, size_t a, size_t b, bale_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

static int
fail (const struct args_ctx *c, size_t a, size_t b, bale_error_t *err, const char *fmt, ...)
{
  struct bale_span span = args_span (c, a, b);
  struct bale_loc loc = srcfile_loc (c->sf, &span);
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = bale_make_verror_at (err, 0, &loc, fmt, ap);
  va_end (ap);
  return ret;
}

static void
add (struct bale_node *n, const struct args_ctx *c, const char *s, size_t len, size_t a, size_t b)
{
  ast_node_add_arg (n, s, len, args_span (c, a, b));
}

static bool
is_split_space (char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f' || ch == '\r';
}

/* parseStringsWhitespaceDelimited: split on [\t\v\f\r ]+, no quote handling. */
static int
parse_ws_list (struct bale_node *n, const char *s, size_t len, const struct args_ctx *c)
{
  size_t i = 0;

  if (len == 0)
    return 0;
  for (;;)
    {
      size_t start = i;
      while (i < len && !is_split_space (s[i]))
        i++;
      add (n, c, s + start, i - start, start, i);
      if (i == len)
        return 0;
      while (i < len && is_split_space (s[i]))
        i++;
    }
}

/* parseJSON: 1 when the text was a JSON array of strings. */
static int
parse_json (struct bale_node *n, const char *s, size_t len, const struct args_ctx *c,
            bale_error_t *err)
{
  struct jsonarg_elem *elems = NULL;
  size_t count = 0, i;

  switch (jsonarg_parse (s, len, &elems, &count))
    {
    case JSONARG_NOT_JSON:
      return 0;
    case JSONARG_NOT_STRINGS:
      return fail (c, 0, len, err, "when using JSON array syntax, arrays must be comprised of strings only");
    case JSONARG_OK:
      break;
    }
  for (i = 0; i < count; i++)
    add (n, c, elems[i].value, elems[i].len, elems[i].start, elems[i].end);
  jsonarg_free (elems, count);
  n->json = true;
  return 1;
}

/* parseMaybeJSON: exec form, or the whole text as one shell-form word. */
static int
parse_maybe_json (struct bale_node *n, const char *s, size_t len, const struct args_ctx *c,
                  bale_error_t *err)
{
  int r;

  if (len == 0)
    return 0;
  r = parse_json (n, s, len, c, err);
  if (r != 0)
    return r < 0 ? r : 0;
  add (n, c, s, len, 0, len);
  return 0;
}

static int
parse_maybe_json_list (struct bale_node *n, const char *s, size_t len, const struct args_ctx *c,
                       bale_error_t *err)
{
  int r = parse_json (n, s, len, c, err);
  if (r != 0)
    return r < 0 ? r : 0;
  return parse_ws_list (n, s, len, c);
}

/* ---- parseWords ---------------------------------------------------------------------------- */

struct wordlist
{
  char **words;
  size_t *offs;
  size_t n, alloc, alloc_offs;
};

static void
word_end (struct wordlist *wl, struct strbuf *w, size_t start, size_t end, bool blank_ok)
{
  if (blank_ok || w->len > 0)
    {
      XGROW (wl->words, wl->alloc, wl->n + 2);
      XGROW (wl->offs, wl->alloc_offs, 2 * wl->n + 2);
      wl->offs[2 * wl->n] = start;
      wl->offs[2 * wl->n + 1] = end;
      wl->words[wl->n++] = xmemdup0 (w->buf, w->len);
      wl->words[wl->n] = NULL;
    }
  strbuf_reset (w);
}

/* One rune at s[pos]; invalid UTF-8 decodes to U+FFFD of width 1, as Go's DecodeRuneInString. */
static size_t
rune_at (const char *s, size_t len, size_t pos, uint32_t *r)
{
  size_t w;

  if ((unsigned char) s[pos] < 0x80)
    {
      *r = (unsigned char) s[pos];
      return 1;
    }
  w = utf8_decode ((const unsigned char *) s + pos, len - pos, r);
  if (w == 0)
    {
      *r = 0xfffd;
      w = 1;
    }
  return w;
}

static void
add_rune (struct strbuf *w, uint32_t r)
{
  char buf[4];

  if (r < 0x80)
    strbuf_addch (w, (int) r);
  else
    strbuf_add (w, buf, utf8_encode (r, buf));
}

size_t
args_parse_words (const char *s, size_t len, char escape, char ***words, size_t **offs)
{
  enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
  struct wordlist wl = { 0 };
  struct strbuf w = STRBUF_INIT;
  bool blank_ok = false;
  uint32_t ch = 0, quote = 0;
  size_t pos, width = 1, start = 0;

  for (pos = 0; pos <= len; pos += width)
    {
      if (pos != len)
        width = rune_at (s, len, pos, &ch);
      if (phase == IN_SPACES)
        {
          if (pos == len)
            break;
          if (utf8_is_space (ch))
            continue;
          phase = IN_WORD;
          start = pos;
        }
      if (pos == len)
        {
          word_end (&wl, &w, start, pos, blank_ok);
          break;
        }
      if (phase == IN_WORD)
        {
          if (utf8_is_space (ch))
            {
              phase = IN_SPACES;
              word_end (&wl, &w, start, pos, blank_ok);
              blank_ok = false;
              continue;
            }
          if (ch == '\'' || ch == '"')
            {
              quote = ch;
              blank_ok = true;
              phase = IN_QUOTE;
            }
          if (ch == (unsigned char) escape)
            {
              if (pos + width == len)
                continue; /* an escape at the very end is dropped */
              add_rune (&w, ch);
              pos += width;
              width = rune_at (s, len, pos, &ch);
            }
          add_rune (&w, ch);
          continue;
        }
      /* IN_QUOTE */
      if (ch == quote)
        phase = IN_WORD;
      if (ch == (unsigned char) escape && quote != '\'')
        {
          if (pos + width == len)
            {
              phase = IN_WORD;
              continue;
            }
          pos += width;
          add_rune (&w, ch);
          width = rune_at (s, len, pos, &ch);
        }
      add_rune (&w, ch);
    }
  strbuf_release (&w);
  if (wl.words == NULL)
    {
      wl.words = xzalloc (sizeof *wl.words);
    }
  *words = wl.words;
  if (offs)
    *offs = wl.offs;
  else
    free (wl.offs);
  return wl.n;
}

static void
free_words (char **words, size_t n, size_t *offs)
{
  size_t i;
  for (i = 0; i < n; i++)
    free (words[i]);
  free (words);
  free (offs);
}

/* parseNameOrNameVal (ARG): the words, quotes kept. */
static int
parse_name_or_name_val (struct bale_node *n, const char *s, size_t len, const struct args_ctx *c)
{
  char **words;
  size_t *offs = NULL, count, i;

  count = args_parse_words (s, len, c->escape, &words, &offs);
  for (i = 0; i < count; i++)
    add (n, c, words[i], strlen (words[i]), offs[2 * i], offs[2 * i + 1]);
  free_words (words, count, offs);
  return 0;
}

static int
legacy_name_val (struct bale_node *n, const char *s, size_t len, const struct args_ctx *c,
                 bale_error_t *err)
{
  size_t k = 0, v;

  while (k < len && !is_split_space (s[k]))
    k++;
  v = k;
  while (v < len && is_split_space (s[v]))
    v++;
  if (k == len)
    return fail (c, 0, len, err, "%s must have two arguments", bale_instr_name (n->kind));
  add (n, c, s, k, 0, k);
  add (n, c, s + v, len - v, v, len);
  add (n, c, "", 0, k, v);
  return 0;
}

/* parseNameVal (ENV, LABEL): `KEY value` (legacy) or `k=v k2=v2`, as key/value/sep triples. */
static int
parse_name_val (struct bale_node *n, const char *s, size_t len, const struct args_ctx *c,
                bale_error_t *err)
{
  char **words;
  size_t *offs = NULL, count, i;
  int ret = 0;

  count = args_parse_words (s, len, c->escape, &words, &offs);
  if (count > 0 && strchr (words[0], '=') == NULL)
    ret = legacy_name_val (n, s, len, c, err);
  for (i = 0; ret == 0 && count > 0 && strchr (words[0], '=') && i < count; i++)
    {
      char *eq = strchr (words[i], '=');
      size_t a = offs[2 * i], b = offs[2 * i + 1];
      struct strbuf q = STRBUF_INIT;

      if (eq == NULL)
        {
          strbuf_add_goquote (&q, words[i], strlen (words[i]));
          ret = fail (c, a, b, err, "Syntax error - can't find = in %s. Must be of the form: name=value", q.buf);
          strbuf_release (&q);
          break;
        }
      add (n, c, words[i], (size_t) (eq - words[i]), a, a + (size_t) (eq - words[i]));
      add (n, c, eq + 1, strlen (eq + 1), a + (size_t) (eq - words[i]) + 1, b);
      add (n, c, "=", 1, a + (size_t) (eq - words[i]), a + (size_t) (eq - words[i]) + 1);
    }
  free_words (words, count, offs);
  return ret;
}

static bool
byte_space (unsigned char ch)
{
  return ch == ' ' || (ch >= '\t' && ch <= '\r') || ch == 0x85 || ch == 0xa0;
}

/* parseHealthConfig: the type word, then the command as for CMD. */
static int
parse_health (struct bale_node *n, const char *s, size_t len, const struct args_ctx *c,
              bale_error_t *err)
{
  size_t sep = 0, next;
  struct args_ctx sub = *c;

  while (sep < len && !byte_space ((unsigned char) s[sep]))
    sep++;
  next = sep;
  while (next < len && byte_space ((unsigned char) s[next]))
    next++;
  if (sep == 0)
    return 0;
  add (n, c, s, sep, 0, sep);
  sub.base = c->base + next;
  return parse_maybe_json (n, s + next, len - next, &sub, err);
}

int
args_parse (struct bale_node *n, const char *rest, size_t len, const struct args_ctx *c,
            bale_error_t *err)
{
  switch (n->kind)
    {
    case BALE_I_RUN:
    case BALE_I_CMD:
    case BALE_I_ENTRYPOINT:
    case BALE_I_SHELL:
      return parse_maybe_json (n, rest, len, c, err);
    case BALE_I_ADD:
    case BALE_I_COPY:
    case BALE_I_VOLUME:
      return parse_maybe_json_list (n, rest, len, c, err);
    case BALE_I_FROM:
    case BALE_I_EXPOSE:
      return parse_ws_list (n, rest, len, c);
    case BALE_I_ENV:
    case BALE_I_LABEL:
      return parse_name_val (n, rest, len, c, err);
    case BALE_I_ARG:
      return parse_name_or_name_val (n, rest, len, c);
    case BALE_I_MAINTAINER:
    case BALE_I_USER:
    case BALE_I_WORKDIR:
    case BALE_I_STOPSIGNAL:
      if (len > 0)
        add (n, c, rest, len, 0, len);
      return 0;
    case BALE_I_HEALTHCHECK:
      return parse_health (n, rest, len, c, err);
    case BALE_I_ONBUILD:
      return 0; /* the trigger is parsed as its own instruction by the grammar */
    case BALE_I_UNKNOWN:
    default:
      /* parseIgnore: one empty argument; validation reports the unknown keyword. */
      add (n, c, "", 0, 0, len);
      return 0;
    }
}
