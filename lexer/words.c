/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shell-word expansion and splitting, a rune-for-rune port of BuildKit's shell/lex.go. */
#include <config.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/words.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/cleanup.h"
#include "common/banned.h"

/* Go's text/scanner yields runes: EOF is -1, and every byte of invalid UTF-8 becomes U+FFFD. */
#define RUNE_EOF (-1)
#define RUNE_ERROR 0xfffd
/* Go grows its stack without bound; we stop nested ${...} before ours overflows. */
#define MAX_DEPTH 1000
/* Go grows its strings without bound too, and forty ARG lines that each double the last
   ("ARG v1=$v0$v0") ask for a terabyte: one expansion stops at 1 MiB (execve takes at most
   128 KiB per argument or variable anyway) and one pattern match at 2^29 cells. */
#define MAX_EXPANSION (1u << 20)
#define MAX_MATCH_CELLS ((size_t) 1 << 29)

/* The input as Go's text/scanner sees it. */
struct scan
{
  const unsigned char *s;
  size_t len, pos;
};

/* The words being split off (lex.go's wordsStruct). Only the outermost level keeps one. */
struct wordlist
{
  struct strbuf cur;
  bool in_word;
  char **v;
  size_t n, alloc;
};

/* One run of the lexer (lex.go's shellWord). */
struct shell
{
  const struct words_lex *lx;
  const struct words_env *env;
  struct scan sc;
  bool raw_escapes;
  unsigned depth;
  struct strbuf msg; /* the failure, worded as BuildKit words it */
};

/* ---- runes -------------------------------------------------------------------------------- */

static size_t
rune_at (const unsigned char *s, size_t len, size_t pos, int32_t *r)
{
  uint32_t u;
  size_t w;

  if (pos >= len)
    {
      *r = RUNE_EOF;
      return 0;
    }
  w = utf8_decode (s + pos, len - pos, &u);
  if (w == 0)
    {
      *r = RUNE_ERROR;
      return 1;
    }
  *r = (int32_t) u;
  return w;
}

/* Decode all of s; invalid bytes become U+FFFD, as Go's []rune(s) does. When off is not NULL,
   it receives the byte offset of each rune, plus len at the end. */
static int32_t *
decode_all (const char *s, size_t len, size_t *n, size_t **off)
{
  int32_t *v = xmalloc ((len + 1) * sizeof *v);
  size_t pos = 0;

  if (off)
    *off = xmalloc ((len + 1) * sizeof **off);
  *n = 0;
  while (pos < len)
    {
      if (off)
        (*off)[*n] = pos;
      pos += rune_at ((const unsigned char *) s, len, pos, &v[(*n)++]);
    }
  if (off)
    (*off)[*n] = len;
  return v;
}

/* Go's WriteRune and string(rune): anything that is not a valid rune, EOF included, is U+FFFD. */
static void
add_rune (struct strbuf *sb, int32_t r)
{
  char buf[4];

  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
    r = RUNE_ERROR;
  strbuf_add (sb, buf, utf8_encode ((uint32_t) r, buf));
}

static void
add_runes (struct strbuf *sb, const int32_t *v, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    add_rune (sb, v[i]);
}

/* Go's unicode.IsDigit: the Nd blocks of Unicode 15, each ten code points from its zero. */
static bool
is_digit (int32_t r)
{
  static const int32_t zeros[] = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,
    0xc66,   0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,
    0x1810,  0x1946,  0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,
    0xa8d0,  0xa900,  0xa9d0,  0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066,
    0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0,
    0x11950, 0x11c50, 0x11d50, 0x11da0, 0x11f50, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8,
    0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e4f0, 0x1e950, 0x1fbf0,
  };
  size_t i;

  for (i = 0; i < sizeof zeros / sizeof zeros[0] && zeros[i] <= r; i++)
    if (r < zeros[i] + 10)
      return true;
  return false;
}

/* Go's unicode.IsLetter. utf8_is_letter guesses above Latin-1; U+FFFC and U+FFFD are symbols,
   and U+FFFD matters because every invalid byte after a '$' decodes to it. */
static bool
is_letter (int32_t r)
{
  return r >= 0 && r != RUNE_ERROR && r != 0xfffc && utf8_is_letter ((uint32_t) r);
}

static bool
is_space (int32_t r)
{
  return r >= 0 && utf8_is_space ((uint32_t) r);
}

/* ---- the scanner -------------------------------------------------------------------------- */

static void
scan_init (struct scan *sc, const char *s, size_t len)
{
  sc->s = (const unsigned char *) s;
  sc->len = len;
  sc->pos = 0;
  /* text/scanner drops a byte order mark at the very start of its input. */
  if (len >= 3 && memcmp (s, "\xef\xbb\xbf", 3) == 0)
    sc->pos = 3;
}

static int32_t
peek (struct shell *sh)
{
  int32_t r;

  rune_at (sh->sc.s, sh->sc.len, sh->sc.pos, &r);
  return r;
}

static int32_t
next (struct shell *sh)
{
  int32_t r;

  sh->sc.pos += rune_at (sh->sc.s, sh->sc.len, sh->sc.pos, &r);
  return r;
}

static int
fail (struct shell *sh, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Record the error; a later one replaces it, as lex.go replaces errors on the way up. */
static int
fail (struct shell *sh, const char *fmt, ...)
{
  va_list ap;

  strbuf_reset (&sh->msg);
  va_start (ap, fmt);
  strbuf_vaddf (&sh->msg, fmt, ap);
  va_end (ap);
  return -1;
}

/* ---- word splitting (wordsStruct) --------------------------------------------------------- */

static void
wl_add_raw (struct wordlist *w, const char *s, size_t len)
{
  if (w == NULL)
    return;
  strbuf_add (&w->cur, s, len);
  w->in_word = true;
}

static void
wl_add_raw_rune (struct wordlist *w, int32_t r)
{
  if (w == NULL)
    return;
  add_rune (&w->cur, r);
  w->in_word = true;
}

static void
wl_flush (struct wordlist *w)
{
  if (w == NULL || w->cur.len == 0)
    return;
  XGROW (w->v, w->alloc, w->n + 2);
  w->v[w->n++] = strbuf_detach (&w->cur, NULL);
  w->v[w->n] = NULL;
  w->in_word = false;
}

/* An unquoted character: whitespace ends the word, unless no word has begun. */
static void
wl_add_rune (struct wordlist *w, int32_t r)
{
  if (w == NULL)
    return;
  if (!is_space (r))
    wl_add_raw_rune (w, r);
  else if (w->in_word)
    wl_flush (w);
}

/* The value of an unquoted $var, split at its whitespace. */
static void
wl_add_string (struct wordlist *w, const char *s, size_t len)
{
  size_t pos = 0;
  int32_t r;

  if (w == NULL)
    return;
  while (pos < len)
    {
      pos += rune_at ((const unsigned char *) s, len, pos, &r);
      wl_add_rune (w, r);
    }
}

static void
wl_release (struct wordlist *w)
{
  size_t i;

  for (i = 0; i < w->n; i++)
    free (w->v[i]);
  free (w->v);
  strbuf_release (&w->cur);
}

/* ---- glob patterns (convertShellPatternToRegex) ------------------------------------------- */

/*
 * BuildKit turns a ${v#p}, ${v%p} or ${v/p/r} pattern into a Go regexp made only of literals,
 * '.' and '.*' (greedy) or '.*?' (lazy). We match that small language directly, with
 * leftmost-first semantics: for each token i and rune position j, ok[i][j] says whether the
 * rest of the pattern can match from j; the match then follows Go's preference order along
 * positions where ok holds, so it never backtracks.
 */
enum tok_kind
{
  TOK_LIT,
  TOK_ANY,
  TOK_STAR,
};

struct pat_tok
{
  enum tok_kind kind;
  int32_t r;
};

struct pattern
{
  struct pat_tok *t;
  size_t n;
  bool greedy;
};

struct matcher
{
  const struct pattern *p;
  const int32_t *s; /* the subject, as runes */
  size_t m;
  unsigned char *ok; /* (p->n + 1) rows of (m + 1) bits */
};

static void
pattern_push (struct pattern *p, size_t *alloc, enum tok_kind kind, int32_t r)
{
  XGROW (p->t, *alloc, p->n + 1);
  p->t[p->n].kind = kind;
  p->t[p->n++].r = r;
}

/* One escape of the pattern; lex.go allows only \*, \? and \\, and drops the \ of \} and \/. */
static int
convert_escape (const int32_t *v, size_t n, size_t *i, struct pattern *p, size_t *alloc,
                struct strbuf *err)
{
  int32_t tok;

  if (*i < n && (v[*i] == '}' || v[*i] == '/'))
    return 0;
  tok = *i < n ? v[(*i)++] : RUNE_EOF;
  if (tok != '*' && tok != '?' && tok != '\\')
    {
      strbuf_addstr (err, "invalid escape '\\");
      add_rune (err, tok);
      strbuf_addch (err, '\'');
      return -1;
    }
  pattern_push (p, alloc, TOK_LIT, tok);
  return 0;
}

/* The pattern always escapes with a backslash, whatever the Dockerfile's escape character. */
static int
convert_pattern (const int32_t *v, size_t n, bool greedy, struct pattern *p, struct strbuf *err)
{
  size_t i = 0, alloc = 0;

  p->t = NULL;
  p->n = 0;
  p->greedy = greedy;
  /* The pattern goes through text/scanner too, which drops a leading byte order mark. */
  if (n > 0 && v[0] == 0xfeff)
    i = 1;
  while (i < n)
    {
      int32_t tok = v[i++];

      if (tok == '*')
        pattern_push (p, &alloc, TOK_STAR, 0);
      else if (tok == '?')
        pattern_push (p, &alloc, TOK_ANY, 0);
      else if (tok != '\\')
        pattern_push (p, &alloc, TOK_LIT, tok);
      else if (convert_escape (v, n, &i, p, &alloc, err) < 0)
        {
          free (p->t);
          return -1;
        }
    }
  return 0;
}

static bool
ok_get (const struct matcher *mt, size_t i, size_t j)
{
  size_t bit = i * (mt->m + 1) + j;
  return (mt->ok[bit / 8] >> (bit % 8)) & 1;
}

static void
ok_set (struct matcher *mt, size_t i, size_t j)
{
  size_t bit = i * (mt->m + 1) + j;
  mt->ok[bit / 8] |= (unsigned char) (1u << (bit % 8));
}

/* Go's '.' matches any rune but a newline. */
static bool
tok_accepts (const struct pat_tok *t, int32_t r)
{
  return t->kind == TOK_LIT ? r == t->r : r != '\n';
}

static void
fill_row (struct matcher *mt, size_t i)
{
  const struct pat_tok *t = &mt->p->t[i];
  size_t j = mt->m + 1;

  while (j-- > 0)
    {
      bool ok;

      if (t->kind == TOK_STAR)
        ok = ok_get (mt, i + 1, j) || (j < mt->m && mt->s[j] != '\n' && ok_get (mt, i, j + 1));
      else
        ok = j < mt->m && tok_accepts (t, mt->s[j]) && ok_get (mt, i + 1, j + 1);
      if (ok)
        ok_set (mt, i, j);
    }
}

static void
matcher_init (struct matcher *mt, const struct pattern *p, const int32_t *s, size_t m)
{
  size_t j, i = p->n;

  mt->p = p;
  mt->s = s;
  mt->m = m;
  mt->ok = xzalloc (((p->n + 1) * (m + 1) + 7) / 8);
  for (j = 0; j <= m; j++)
    ok_set (mt, p->n, j);
  while (i-- > 0)
    fill_row (mt, i);
}

/* The matcher's table has a cell per pattern token and value rune: refuse one past
   MAX_MATCH_CELLS rather than allocate gigabytes. */
static bool
match_too_big (struct shell *sh, const struct pattern *p, size_t m)
{
  if (p->n + 1 <= MAX_MATCH_CELLS / (m + 1))
    return false;
  fail (sh, "a pattern of %zu characters against a value of %zu is too large to match", p->n, m);
  return true;
}

/* Where a star at token i, entered at j, hands over: the farthest (greedy) or nearest (lazy)
   position from which the rest of the pattern still matches. */
static size_t
star_end (const struct matcher *mt, size_t i, size_t j)
{
  size_t k = j, best = j;

  while (true)
    {
      if (ok_get (mt, i + 1, k))
        {
          best = k;
          if (!mt->p->greedy)
            return k;
        }
      if (k == mt->m || mt->s[k] == '\n')
        return best;
      k++;
    }
}

/* The end of the match that starts at `start` (ok[0][start] must hold). */
static size_t
match_end (const struct matcher *mt, size_t start)
{
  size_t i, j = start;

  for (i = 0; i < mt->p->n; i++)
    j = mt->p->t[i].kind == TOK_STAR ? star_end (mt, i, j) : j + 1;
  return j;
}

/* Go's FindStringIndex from rune position `from`: the leftmost start, then its end. */
static bool
find_match (const struct matcher *mt, size_t from, size_t *a, size_t *b)
{
  size_t st;

  for (st = from; st <= mt->m; st++)
    if (ok_get (mt, 0, st))
      {
        *a = st;
        *b = match_end (mt, st);
        return true;
      }
  return false;
}

/* ---- pattern operators -------------------------------------------------------------------- */

/* lex.go's reversePattern: reverse the runes but keep each \x pair in order. */
static void
reverse_pattern (int32_t *v, size_t n)
{
  int32_t *out = xmalloc ((n + 1) * sizeof *out);
  size_t i = 0;

  while (i < n)
    {
      size_t o = n - 1 - i;

      if (v[i] == '\\' && i != n - 1)
        {
          out[o - 1] = '\\';
          out[o] = v[i + 1];
          i += 2;
        }
      else
        out[o] = v[i++];
    }
  memcpy (v, out, n * sizeof *v);
  free (out);
}

static void
reverse_runes (int32_t *v, size_t n)
{
  size_t i;

  for (i = 0; i < n / 2; i++)
    {
      int32_t t = v[i];
      v[i] = v[n - 1 - i];
      v[n - 1 - i] = t;
    }
}

/*
 * ${v#p}, ${v##p}, ${v%p}, ${v%%p} (lex.go's trimPrefix and trimSuffix). A suffix is trimmed by
 * reversing both the value and the pattern; that round trip through []rune is also why invalid
 * UTF-8 in the value comes back as U+FFFD for '%' only.
 */
static int
trim_affix (struct shell *sh, const char *pat, size_t pat_len, const char *value, bool greedy,
            bool suffix, struct strbuf *out)
{
  struct strbuf why = STRBUF_INIT;
  struct pattern p;
  struct matcher mt;
  size_t pn, m, b = 0, *off = NULL;
  int32_t *pv = decode_all (pat, pat_len, &pn, NULL);
  int32_t *s = decode_all (value, strlen (value), &m, suffix ? NULL : &off);
  int ret = 0;

  if (suffix)
    {
      reverse_pattern (pv, pn);
      reverse_runes (s, m);
    }
  if (convert_pattern (pv, pn, greedy, &p, &why) < 0)
    {
      /* The message shows the pattern as converted: reversed, for a suffix. */
      struct strbuf shown = STRBUF_INIT;

      if (suffix)
        add_runes (&shown, pv, pn);
      else
        strbuf_add (&shown, pat, pat_len);
      ret = fail (sh, "invalid pattern (%s) in substitution: %s", shown.buf, why.buf);
      strbuf_release (&shown);
    }
  else if (match_too_big (sh, &p, m))
    {
      ret = -1;
      free (p.t);
    }
  else
    {
      matcher_init (&mt, &p, s, m);
      /* The regexp is anchored with '^', so only a match at the start counts. */
      if (ok_get (&mt, 0, 0))
        b = match_end (&mt, 0);
      if (suffix)
        {
          reverse_runes (s + b, m - b);
          add_runes (out, s + b, m - b);
        }
      else
        strbuf_add (out, value + off[b], off[m] - off[b]);
      free (mt.ok);
      free (p.t);
    }
  strbuf_release (&why);
  free (pv);
  free (s);
  free (off);
  return ret;
}

/* Go's regexp.extract: the group name or number after a '$' of a replacement template. */
static bool
extract_group (const char *t, size_t len, size_t *i, long *num)
{
  size_t j = *i, start, k;
  bool brace = j < len && t[j] == '{';
  int32_t r;

  j += brace;
  start = j;
  while (j < len)
    {
      size_t w = rune_at ((const unsigned char *) t, len, j, &r);
      if (!is_letter (r) && !is_digit (r) && r != '_')
        break;
      j += w;
    }
  if (j == start || (brace && (j >= len || t[j] != '}')))
    return false;
  *num = 0;
  for (k = start; k < j && *num >= 0; k++)
    *num = (t[k] < '0' || t[k] > '9' || *num >= 100000000) ? -1 : *num * 10 + (t[k] - '0');
  if (t[start] == '0' && j - start > 1)
    *num = -1;
  *i = j + brace;
  return true;
}

/*
 * ${v//p/r} hands r to Go's Regexp.ReplaceAllString, which expands "$0" and "${0}" to the match,
 * "$$" to "$", and any other group reference to nothing: the pattern has no groups.
 */
static void
expand_template (struct strbuf *out, const struct strbuf *tmpl, const char *match, size_t mlen)
{
  const char *t = tmpl->buf;
  size_t i = 0, len = tmpl->len;
  long num;

  while (i < len)
    {
      const char *dollar = memchr (t + i, '$', len - i);

      if (dollar == NULL)
        break;
      strbuf_add (out, t + i, (size_t) (dollar - (t + i)));
      i = (size_t) (dollar - t) + 1;
      if (i < len && t[i] == '$')
        {
          strbuf_addch (out, '$');
          i++;
        }
      else if (!extract_group (t, len, &i, &num))
        strbuf_addch (out, '$');
      else if (num == 0)
        strbuf_add (out, match, mlen);
    }
  strbuf_add (out, t + i, len - i);
}

/* Go's Regexp.replaceAll: no empty match right after a match, and always move on a rune.
   False when the result grows past MAX_EXPANSION. */
static bool
replace_all (const struct matcher *mt, const char *value, const size_t *off,
             const struct strbuf *rep, struct strbuf *out)
{
  size_t search = 0, last = 0, a, b;

  while (search <= mt->m && find_match (mt, search, &a, &b))
    {
      strbuf_add (out, value + off[last], off[a] - off[last]);
      if (b > last || a == 0)
        expand_template (out, rep, value + off[a], off[b] - off[a]);
      if (out->len > MAX_EXPANSION)
        return false;
      last = b;
      search = b > search ? b : search + 1;
    }
  strbuf_add (out, value + off[last], off[mt->m] - off[last]);
  return true;
}

/* ${v/p/r} and ${v//p/r}: p is unanchored and its stars are greedy. Only the replace-all form
   goes through Go's template expansion; the first-match form pastes r as it is. */
static int
substitute (struct shell *sh, const struct strbuf *pat, const struct strbuf *rep,
            const char *value, bool all, struct strbuf *out)
{
  struct strbuf why = STRBUF_INIT;
  struct pattern p;
  struct matcher mt;
  size_t pn, m, a, b, *off;
  int32_t *pv = decode_all (pat->buf, pat->len, &pn, NULL);
  int32_t *s = decode_all (value, strlen (value), &m, &off);
  int ret = 0;

  if (convert_pattern (pv, pn, true, &p, &why) < 0)
    ret = fail (sh, "invalid pattern (%s) in substitution: %s", pat->buf, why.buf);
  else if (match_too_big (sh, &p, m))
    {
      ret = -1;
      free (p.t);
    }
  else
    {
      matcher_init (&mt, &p, s, m);
      if (all)
        {
          if (!replace_all (&mt, value, off, rep, out))
            ret = fail (sh, "substitution longer than %u bytes", MAX_EXPANSION);
        }
      else if (!find_match (&mt, 0, &a, &b))
        strbuf_addstr (out, value);
      else
        {
          strbuf_add (out, value, off[a]);
          strbuf_add (out, rep->buf, rep->len);
          strbuf_addstr (out, value + off[b]);
        }
      free (mt.ok);
      free (p.t);
    }
  strbuf_release (&why);
  free (pv);
  free (s);
  free (off);
  return ret;
}

/* ---- the lexer (shellWord) ---------------------------------------------------------------- */

static int process_stop_on (struct shell *sh, int32_t stop, bool raw_escapes, struct strbuf *out,
                            struct wordlist *words);
static int process_dollar (struct shell *sh, struct strbuf *out);

static int32_t
escape_rune (const struct shell *sh)
{
  return (unsigned char) sh->lx->escape;
}

static const char *
lookup (const struct shell *sh, const struct strbuf *name)
{
  const char *v = words_env_get (sh->env, name->buf, name->len);

  if (sh->lx->on_lookup)
    sh->lx->on_lookup (sh->lx->lookup_ctx, name->buf, name->len, v != NULL);
  return v;
}

static bool
is_special_param (int32_t ch)
{
  return ch == '@' || ch == '*' || ch == '#' || ch == '?' || ch == '-' || ch == '$' || ch == '!'
         || ch == '0';
}

/* processName: letters, digits and '_'; a leading digit takes digits only, and a special
   parameter is a name by itself. */
static void
process_name (struct shell *sh, struct strbuf *name)
{
  int32_t ch;

  while ((ch = peek (sh)) != RUNE_EOF)
    {
      if (name->len == 0 && is_digit (ch))
        {
          while (is_digit (peek (sh)))
            add_rune (name, next (sh));
          return;
        }
      if (name->len == 0 && is_special_param (ch))
        {
          add_rune (name, next (sh));
          return;
        }
      if (!is_letter (ch) && !is_digit (ch) && ch != '_')
        return;
      add_rune (name, next (sh));
    }
}

/* Everything up to the next single quote, literally; there is no way to escape one. */
static int
process_single_quote (struct shell *sh, struct strbuf *out)
{
  int32_t ch = next (sh);

  if (sh->lx->raw_quotes)
    add_rune (out, ch);
  while (true)
    {
      ch = next (sh);
      if (ch == RUNE_EOF)
        return fail (sh, "unexpected end of statement while looking for matching single-quote");
      if (ch == '\'')
        break;
      add_rune (out, ch);
    }
  if (sh->lx->raw_quotes)
    add_rune (out, ch);
  return 0;
}

/*
 * One character inside double quotes. The escape character escapes only '"', '$' and itself;
 * before anything else it stays. With raw escapes lex.go writes such an escape twice, once
 * for being an escape and once for being literal; we do the same.
 */
static void
double_quote_char (struct shell *sh, struct strbuf *out)
{
  int32_t nx, ch = next (sh);

  if (ch == escape_rune (sh))
    {
      if (sh->raw_escapes)
        add_rune (out, ch);
      nx = peek (sh);
      if (nx == RUNE_EOF)
        return;
      if (nx == '"' || nx == '$' || nx == escape_rune (sh))
        ch = next (sh);
    }
  add_rune (out, ch);
}

static int
process_double_quote (struct shell *sh, struct strbuf *out)
{
  int32_t ch = next (sh);

  if (sh->lx->raw_quotes)
    add_rune (out, ch);
  while ((ch = peek (sh)) != '"')
    {
      if (ch == RUNE_EOF)
        return fail (sh, "unexpected end of statement while looking for matching double-quote");
      if (ch != '$')
        double_quote_char (sh, out);
      else if (process_dollar (sh, out) < 0)
        return -1;
    }
  ch = next (sh);
  if (sh->lx->raw_quotes)
    add_rune (out, ch);
  return 0;
}

/* '<' is special so that "<<" and the blanks after it stay in one word with the heredoc
   delimiter that follows (processPossibleHeredoc): `RUN << EOF` has the word "<< EOF". */
static void
process_possible_heredoc (struct shell *sh, struct strbuf *out)
{
  add_rune (out, next (sh));
  if (peek (sh) != '<')
    return;
  add_rune (out, next (sh));
  while (peek (sh) == ' ' || peek (sh) == '\t')
    add_rune (out, next (sh));
}

static int
unsupported (struct shell *sh, const struct strbuf *chs)
{
  return fail (sh, "unsupported modifier (%s) in substitution", chs->buf);
}

/* $name: an empty name leaves the '$' as it is. */
static int
dollar_simple (struct shell *sh, struct strbuf *out)
{
  struct strbuf name = STRBUF_INIT;
  const char *value;

  process_name (sh, &name);
  value = name.len ? lookup (sh, &name) : NULL;
  if (name.len == 0 || (value == NULL && sh->lx->skip_unset_env))
    {
      strbuf_addch (out, '$');
      strbuf_add (out, name.buf, name.len);
    }
  else if (value)
    strbuf_addstr (out, value);
  strbuf_release (&name);
  return 0;
}

/* With skip_unset_env an unset variable is written back: "${" NAME OP WORD "}", where WORD has
   already been processed (quotes and escapes removed, nested variables expanded). */
static void
write_back (struct strbuf *out, const struct strbuf *name, const char *op, size_t op_len,
            const struct strbuf *word)
{
  strbuf_addstr (out, "${");
  strbuf_add (out, name->buf, name->len);
  strbuf_add (out, op, op_len);
  strbuf_add (out, word->buf, word->len);
  strbuf_addch (out, '}');
}

static int
apply_modifier (struct shell *sh, const struct strbuf *name, const struct strbuf *chs, int32_t op,
                const char *value, const struct strbuf *word, struct strbuf *out)
{
  bool unset_or_null = value == NULL || (chs->buf[0] == ':' && *value == '\0');
  size_t greedy;

  switch (op)
    {
    case '-':
      if (unset_or_null)
        strbuf_add (out, word->buf, word->len);
      else
        strbuf_addstr (out, value);
      return 0;
    case '+':
      if (!unset_or_null)
        strbuf_add (out, word->buf, word->len);
      return 0;
    case '?':
      if (!unset_or_null)
        {
          strbuf_addstr (out, value);
          return 0;
        }
      return fail (sh, "%s: %s", name->buf,
                   word->len ? word->buf
                   : value    ? "is not allowed to be empty"
                              : "is not allowed to be unset");
    case '#':
    case '%':
      /* A doubled operator (## or %%) makes the stars greedy. */
      greedy = word->len > 0 && word->buf[0] == (char) op;
      return trim_affix (sh, word->buf + greedy, word->len - greedy, value ? value : "",
                         greedy, op == '%', out);
    default:
      return unsupported (sh, chs);
    }
}

/* ${name OP word} for OP in - + ? # %, their ':' forms, and any other ":x" (an error that comes
   only after the word has been read, as in lex.go). */
static int
dollar_modifier (struct shell *sh, const struct strbuf *name, int32_t op, struct strbuf *out)
{
  struct strbuf chs = STRBUF_INIT, word = STRBUF_INIT;
  const char *value;
  bool raw;
  int ret = 0;

  add_rune (&chs, op);
  if (op == ':')
    add_rune (&chs, op = next (sh));
  /* The pattern of # and % keeps its escapes, for the glob conversion to read. */
  raw = op == '#' || op == '%';
  if (raw && chs.buf[0] == ':')
    ret = unsupported (sh, &chs);
  else if (process_stop_on (sh, '}', raw, &word, NULL) < 0)
    ret = peek (sh) == RUNE_EOF ? fail (sh, "syntax error: missing '}'") : -1;
  else if ((value = lookup (sh, name)) == NULL && sh->lx->skip_unset_env)
    write_back (out, name, chs.buf, chs.len, &word);
  else
    ret = apply_modifier (sh, name, &chs, op, value, &word, out);
  strbuf_release (&chs);
  strbuf_release (&word);
  return ret;
}

/* ${name/pattern/replacement} and ${name//pattern/replacement}. Both parts keep their escapes. */
static int
dollar_replace (struct shell *sh, const struct strbuf *name, struct strbuf *out)
{
  struct strbuf pat = STRBUF_INIT, rep = STRBUF_INIT;
  bool all = peek (sh) == '/';
  const char *value;
  int ret = 0;

  if (all)
    next (sh);
  if (process_stop_on (sh, '/', true, &pat, NULL) < 0)
    ret = peek (sh) == RUNE_EOF ? fail (sh, "syntax error: missing '/' in ${}") : -1;
  else if (process_stop_on (sh, '}', true, &rep, NULL) < 0)
    ret = peek (sh) == RUNE_EOF ? fail (sh, "syntax error: missing '}'") : -1;
  else if ((value = lookup (sh, name)) == NULL && sh->lx->skip_unset_env)
    {
      /* lex.go writes a single '/' back even for the replace-all form. */
      strbuf_add (&pat, "/", 1);
      strbuf_add (&pat, rep.buf, rep.len);
      write_back (out, name, "/", 1, &pat);
    }
  else
    ret = substitute (sh, &pat, &rep, value ? value : "", all, out);
  strbuf_release (&pat);
  strbuf_release (&rep);
  return ret;
}

static int
process_dollar (struct shell *sh, struct strbuf *out)
{
  struct strbuf name = STRBUF_INIT;
  const char *value;
  int32_t ch;
  int ret = 0;

  next (sh);
  if (peek (sh) != '{')
    return dollar_simple (sh, out);
  next (sh);
  ch = peek (sh);
  if (ch == RUNE_EOF)
    return fail (sh, "syntax error: missing '}'");
  if (ch == '{' || ch == '}' || ch == ':')
    return fail (sh, "syntax error: bad substitution");
  process_name (sh, &name);
  ch = next (sh);
  if (ch == '}')
    {
      value = lookup (sh, &name);
      if (value == NULL && sh->lx->skip_unset_env)
        {
          strbuf_addstr (out, "${");
          strbuf_add (out, name.buf, name.len);
          strbuf_addch (out, '}');
        }
      else if (value)
        strbuf_addstr (out, value);
    }
  else if (ch == ':' || ch == '+' || ch == '-' || ch == '?' || ch == '#' || ch == '%')
    ret = dollar_modifier (sh, &name, ch, out);
  else if (ch == '/')
    ret = dollar_replace (sh, &name, out);
  else
    {
      struct strbuf chs = STRBUF_INIT;
      add_rune (&chs, ch);
      ret = unsupported (sh, &chs);
      strbuf_release (&chs);
    }
  strbuf_release (&name);
  return ret;
}

static bool
is_special (const struct shell *sh, int32_t ch)
{
  if (ch == '$' || ch == '<')
    return true;
  return !sh->lx->skip_process_quotes && (ch == '\'' || ch == '"');
}

/* A quote, '$' or '<'. What a variable expands to is split at its whitespace; quoted text and
   "<<" are not. */
static int
process_special (struct shell *sh, int32_t ch, struct strbuf *out, struct wordlist *words)
{
  size_t start = out->len;
  int ret = 0;

  if (ch == '$')
    ret = process_dollar (sh, out);
  else if (ch == '\'')
    ret = process_single_quote (sh, out);
  else if (ch == '"')
    ret = process_double_quote (sh, out);
  else
    process_possible_heredoc (sh, out);
  if (ret < 0)
    return -1;
  if (ch == '$')
    wl_add_string (words, out->buf + start, out->len - start);
  else
    wl_add_raw (words, out->buf + start, out->len - start);
  return 0;
}

/* An ordinary character, or the escape character and the one it protects. Returns false for
   an escape at the very end, which lex.go drops and which ends the loop. */
static bool
process_plain (struct shell *sh, struct strbuf *out, struct wordlist *words)
{
  int32_t ch = next (sh);

  if (ch != escape_rune (sh))
    {
      wl_add_rune (words, ch);
      add_rune (out, ch);
      return true;
    }
  if (sh->raw_escapes)
    {
      wl_add_raw_rune (words, ch);
      add_rune (out, ch);
    }
  ch = next (sh);
  if (ch == RUNE_EOF)
    return false;
  wl_add_raw_rune (words, ch);
  add_rune (out, ch);
  return true;
}

static int
stop_on_loop (struct shell *sh, int32_t stop, struct strbuf *out, struct wordlist *words)
{
  int32_t ch;

  while ((ch = peek (sh)) != RUNE_EOF)
    {
      if (stop != RUNE_EOF && ch == stop)
        {
          next (sh);
          wl_flush (words);
          return 0;
        }
      if (is_special (sh, ch))
        {
          if (process_special (sh, ch, out, words) < 0)
            return -1;
          if (out->len > MAX_EXPANSION)
            return fail (sh, "the expansion is longer than %u bytes", MAX_EXPANSION);
        }
      else if (!process_plain (sh, out, words))
        break;
    }
  if (stop != RUNE_EOF)
    return fail (sh, "unexpected end of statement while looking for matching %c", (char) stop);
  wl_flush (words);
  return 0;
}

/* processStopOn: read up to `stop` (consumed) or the end of the input (stop == RUNE_EOF).
   raw_escapes holds for this level only. words is NULL except at the outermost level. */
static int
process_stop_on (struct shell *sh, int32_t stop, bool raw_escapes, struct strbuf *out,
                 struct wordlist *words)
{
  bool saved = sh->raw_escapes;
  int ret;

  if (sh->depth >= MAX_DEPTH)
    return fail (sh, "variable substitutions nested more than %d deep", MAX_DEPTH);
  sh->depth++;
  sh->raw_escapes = raw_escapes;
  ret = stop_on_loop (sh, stop, out, words);
  sh->raw_escapes = saved;
  sh->depth--;
  return ret;
}

/* lex.go's process: the whole input, with errors wrapped as `failed to process "SRC": ...`. */
static int
run (const struct words_lex *lx, const char *src, size_t len, const struct words_env *env,
     struct strbuf *out, struct wordlist *words, bale_error_t *err)
{
  struct shell sh = { .lx = lx, .env = env, .raw_escapes = lx->raw_escapes, .msg = STRBUF_INIT };
  struct strbuf quoted = STRBUF_INIT;
  int ret = 0;

  scan_init (&sh.sc, src, len);
  if (process_stop_on (&sh, RUNE_EOF, lx->raw_escapes, out, words) < 0)
    {
      strbuf_add_goquote (&quoted, src, len);
      ret = bale_make_error (err, 0, "failed to process %s: %s", quoted.buf, sh.msg.buf);
    }
  strbuf_release (&quoted);
  strbuf_release (&sh.msg);
  return ret;
}

/* ---- the API ------------------------------------------------------------------------------ */

struct words_lex
words_lex_default (char escape)
{
  struct words_lex lx = { .escape = escape };
  return lx;
}

int
words_process_word (const struct words_lex *lx, const char *src, size_t len,
                    const struct words_env *env, char **out, size_t *out_len, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;

  if (run (lx, src, len, env, &sb, NULL, err) < 0)
    {
      strbuf_release (&sb);
      return -1;
    }
  *out = strbuf_detach (&sb, out_len);
  return 0;
}

int
words_process_words (const struct words_lex *lx, const char *src, size_t len,
                     const struct words_env *env, char ***out, size_t *n_out, bale_error_t *err)
{
  struct wordlist w = { .cur = STRBUF_INIT };
  struct strbuf sb = STRBUF_INIT;
  int ret = run (lx, src, len, env, &sb, &w, err);

  strbuf_release (&sb);
  if (ret < 0)
    {
      wl_release (&w);
      return -1;
    }
  if (w.v == NULL)
    w.v = xzalloc (sizeof *w.v);
  strbuf_release (&w.cur);
  *n_out = w.n;
  *out = steal_pointer (&w.v);
  return 0;
}

const char *
words_env_get (const struct words_env *env, const char *key, size_t key_len)
{
  size_t i = env ? env->n : 0;

  if (env && env->lookup)
    return env->lookup (env->ctx, key, key_len);
  /* The last entry wins, as in BuildKit's EnvsFromSlice; "KEY" alone is set and empty. */
  while (i-- > 0)
    {
      const char *kv = env->kv[i];
      size_t klen = strcspn (kv, "=");

      if (klen == key_len && memcmp (kv, key, key_len) == 0)
        return kv[klen] ? kv + klen + 1 : kv + klen;
    }
  return NULL;
}
