/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The regular-expression engine of .dockerignore patterns (common/ignore_re.h): the subset of
 * Go's RE2 syntax that patternmatcher's regular expressions can hold, compiled into a
 * Thompson-style program and run by a backtracker that never visits a state twice.
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/ignore_re.h"
#include "common/banned.h"

struct re_class
{
  uint32_t (*r)[2];
  size_t n, alloc;
  bool negate;
};

enum re_op
{
  RE_RUNE,
  RE_CLASS,
  RE_ANY_NOT_NL,
  RE_ASSERT,
  RE_SPLIT,
  RE_JMP,
  RE_MATCH,
};

enum re_assert
{
  AT_BEGIN,
  AT_END,
  AT_WORD,
  AT_NOT_WORD,
};

/*
 * The compiled form is a Thompson-style program: RUNE, CLASS and ANY_NOT_NL consume one
 * rune, ASSERT checks a position, SPLIT forks to x (preferred) and y, JMP goes to x, MATCH
 * accepts. Quantifiers wrap an atom's instructions in SPLIT/JMP, so no AST is needed.
 */
struct re_inst
{
  enum re_op op;
  uint32_t arg; /* the rune, the class index or the assertion */
  size_t x, y;  /* jump targets */
};

struct re_prog
{
  struct re_inst *inst;
  size_t n, alloc;
  struct re_class *cls;
  size_t ncls, acls;
};

struct re_parser
{
  const char *s, *end;
  struct re_prog *prog;
  size_t atom; /* where the last atom starts, for a following quantifier */
  const char *why;
};

/* utf8.DecodeRune: an invalid byte decodes as U+FFFD of width 1. */
size_t
ignore_re_rune_at (const char *s, size_t len, uint32_t *r)
{
  size_t w = utf8_decode ((const unsigned char *) s, len, r);

  if (w == 0)
    {
      *r = RUNE_ERROR;
      w = 1;
    }
  return w;
}

/* ---- compiling the regular expression --------------------------------------------------- */

/* Character tables of Go's regexp/syntax (perl_groups.go), sorted. */
static const uint32_t R_DIGIT[][2] = { { '0', '9' } };
static const uint32_t R_PERL_SPACE[][2] = { { '\t', '\n' }, { '\f', '\r' }, { ' ', ' ' } };
static const uint32_t R_WORD[][2] = { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } };
static const uint32_t R_ALNUM[][2] = { { '0', '9' }, { 'A', 'Z' }, { 'a', 'z' } };
static const uint32_t R_ALPHA[][2] = { { 'A', 'Z' }, { 'a', 'z' } };
static const uint32_t R_ASCII[][2] = { { 0, 0x7f } };
static const uint32_t R_BLANK[][2] = { { '\t', '\t' }, { ' ', ' ' } };
static const uint32_t R_CNTRL[][2] = { { 0, 0x1f }, { 0x7f, 0x7f } };
static const uint32_t R_GRAPH[][2] = { { '!', '~' } };
static const uint32_t R_LOWER[][2] = { { 'a', 'z' } };
static const uint32_t R_PRINT[][2] = { { ' ', '~' } };
static const uint32_t R_PUNCT[][2] = { { '!', '/' }, { ':', '@' }, { '[', '`' }, { '{', '~' } };
static const uint32_t R_SPACE[][2] = { { '\t', '\r' }, { ' ', ' ' } };
static const uint32_t R_UPPER[][2] = { { 'A', 'Z' } };
static const uint32_t R_XDIGIT[][2] = { { '0', '9' }, { 'A', 'F' }, { 'a', 'f' } };

struct named_class
{
  const char *name;
  const uint32_t (*r)[2];
  size_t n;
};

#define NAMED(s, t) { s, t, sizeof (t) / sizeof (t[0]) }
static const struct named_class posix_classes[] = {
  NAMED ("alnum", R_ALNUM), NAMED ("alpha", R_ALPHA), NAMED ("ascii", R_ASCII),
  NAMED ("blank", R_BLANK), NAMED ("cntrl", R_CNTRL), NAMED ("digit", R_DIGIT),
  NAMED ("graph", R_GRAPH), NAMED ("lower", R_LOWER), NAMED ("print", R_PRINT),
  NAMED ("punct", R_PUNCT), NAMED ("space", R_SPACE), NAMED ("upper", R_UPPER),
  NAMED ("word", R_WORD),   NAMED ("xdigit", R_XDIGIT),
};
static const struct named_class perl_classes[] = {
  NAMED ("d", R_DIGIT),
  NAMED ("s", R_PERL_SPACE),
  NAMED ("w", R_WORD),
};

static int
fail (struct re_parser *ps, const char *why)
{
  ps->why = why;
  return -1;
}

static void
class_add (struct re_class *c, uint32_t lo, uint32_t hi)
{
  XGROW (c->r, c->alloc, c->n + 1);
  c->r[c->n][0] = lo;
  c->r[c->n][1] = hi;
  c->n++;
}

/* Add a table, or everything outside it (for \D, [:^alpha:] and the like). */
static void
class_add_table (struct re_class *c, const uint32_t (*t)[2], size_t n, bool negate)
{
  uint32_t next = 0;
  size_t i;

  for (i = 0; i < n; i++)
    {
      if (!negate)
        class_add (c, t[i][0], t[i][1]);
      else if (t[i][0] > next)
        class_add (c, next, t[i][0] - 1);
      next = t[i][1] + 1;
    }
  if (negate && next <= MAX_RUNE)
    class_add (c, next, MAX_RUNE);
}

static size_t
emit (struct re_prog *p, enum re_op op, uint32_t arg, size_t x, size_t y)
{
  XGROW (p->inst, p->alloc, p->n + 1);
  p->inst[p->n] = (struct re_inst) { op, arg, x, y };
  return p->n++;
}

static void
emit_class (struct re_prog *p, struct re_class *c)
{
  XGROW (p->cls, p->acls, p->ncls + 1);
  p->cls[p->ncls] = *c;
  emit (p, RE_CLASS, (uint32_t) p->ncls++, 0, 0);
}

static void
emit_table (struct re_prog *p, const struct named_class *nc, bool negate)
{
  struct re_class c = { NULL, 0, 0, false };

  class_add_table (&c, nc->r, nc->n, negate);
  emit_class (p, &c);
}

/* Put a SPLIT before the instruction at `at`; jumps inside the moved block follow it. */
static void
insert_split (struct re_prog *p, size_t at, size_t x, size_t y)
{
  size_t i;

  emit (p, RE_MATCH, 0, 0, 0);
  memmove (&p->inst[at + 1], &p->inst[at], (p->n - at - 1) * sizeof *p->inst);
  for (i = at + 1; i < p->n; i++)
    if (p->inst[i].op == RE_SPLIT || p->inst[i].op == RE_JMP)
      {
        p->inst[i].x += p->inst[i].x >= at;
        p->inst[i].y += p->inst[i].y >= at;
      }
  p->inst[at] = (struct re_inst) { RE_SPLIT, 0, x, y };
}

/* Wrap the atom that spans [start, p->n) in a loop or an option. */
static void
quantify (struct re_prog *p, size_t start, char q)
{
  size_t end = p->n;

  if (q == '*')
    {
      insert_split (p, start, start + 1, end + 2);
      emit (p, RE_JMP, 0, start, 0);
    }
  else if (q == '+')
    emit (p, RE_SPLIT, 0, start, end + 1);
  else
    insert_split (p, start, start + 1, end + 1);
}

static const struct named_class *
find_class (const struct named_class *tab, size_t n, const char *name, size_t len)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strlen (tab[i].name) == len && memcmp (tab[i].name, name, len) == 0)
      return &tab[i];
  return NULL;
}

/* \d, \s, \w and their negations \D, \S, \W. */
static const struct named_class *
perl_class (const struct re_parser *ps, bool *negate)
{
  char lower;

  if (ps->end - ps->s < 2 || ps->s[0] != '\\')
    return NULL;
  lower = (char) (ps->s[1] | 0x20);
  *negate = lower != ps->s[1];
  return find_class (perl_classes, 3, &lower, 1);
}

static bool
is_octal (const struct re_parser *ps)
{
  return ps->s < ps->end && *ps->s >= '0' && *ps->s <= '7';
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* \xHH or \x{H...}, reachable because '{' and '}' are not escaped upstream. */
static int
parse_hex (struct re_parser *ps, uint32_t *r)
{
  int digits = 0;

  if (ps->s < ps->end && *ps->s != '{')
    {
      if (ps->end - ps->s < 2 || hex_digit (ps->s[0]) < 0 || hex_digit (ps->s[1]) < 0)
        return fail (ps, "invalid escape sequence");
      *r = (uint32_t) (hex_digit (ps->s[0]) * 16 + hex_digit (ps->s[1]));
      ps->s += 2;
      return 0;
    }
  for (*r = 0, ps->s++; ps->s < ps->end && *ps->s != '}'; ps->s++, digits++)
    {
      if (hex_digit (*ps->s) < 0)
        return fail (ps, "invalid escape sequence");
      *r = *r * 16 + (uint32_t) hex_digit (*ps->s);
      if (*r > MAX_RUNE)
        return fail (ps, "invalid escape sequence");
    }
  if (ps->s == ps->end || digits == 0)
    return fail (ps, "invalid escape sequence");
  ps->s++;
  return 0;
}

/* Go's parseEscape, after the backslash: octal, \xHH, C escapes and escaped punctuation. */
static int
parse_escape (struct re_parser *ps, uint32_t *r)
{
  static const char letters[] = "a\af\fn\nr\rt\tv\v";
  const char *l;
  uint32_t c;
  int i;

  if (ps->s == ps->end)
    return fail (ps, "trailing backslash at end of expression");
  ps->s += ignore_re_rune_at (ps->s, ps->end - ps->s, &c);
  if (c >= '1' && c <= '7' && !is_octal (ps))
    return fail (ps, "invalid escape sequence");
  if (c >= '0' && c <= '7')
    {
      for (*r = c - '0', i = 1; i < 3 && is_octal (ps); i++)
        *r = *r * 8 + (uint32_t) (*ps->s++ - '0');
      return 0;
    }
  if (c == 'x')
    return parse_hex (ps, r);
  for (l = letters; c != 0 && *l; l += 2)
    if ((uint32_t) *l == c)
      {
        *r = (uint32_t) l[1];
        return 0;
      }
  if (c < 0x80 && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9'))
    {
      *r = c;
      return 0;
    }
  return fail (ps, "invalid escape sequence");
}

static int
parse_class_char (struct re_parser *ps, uint32_t *r)
{
  if (ps->s == ps->end)
    return fail (ps, "missing closing ]");
  if (*ps->s == '\\')
    {
      ps->s++;
      return parse_escape (ps, r);
    }
  ps->s += ignore_re_rune_at (ps->s, ps->end - ps->s, r);
  return 0;
}

/* "[:alpha:]" or "[:^alpha:]". Returns 1 when one was consumed, 0 when there is none. */
static int
parse_posix_class (struct re_parser *ps, struct re_class *c)
{
  const struct named_class *nc;
  const char *name = ps->s + 2, *close;
  bool negate;

  if (ps->end - ps->s <= 2 || ps->s[0] != '[' || ps->s[1] != ':')
    return 0;
  close = memmem (name, ps->end - name, ":]", 2);
  if (close == NULL)
    return 0;
  negate = *name == '^';
  name += negate;
  nc = find_class (posix_classes, sizeof posix_classes / sizeof *posix_classes, name,
                   close - name);
  if (nc == NULL)
    return fail (ps, "invalid character class range");
  class_add_table (c, nc->r, nc->n, negate);
  ps->s = close + 2;
  return 1;
}

/* One item of a class: a named class, a Perl class, a character or a range. */
static int
parse_class_item (struct re_parser *ps, struct re_class *c)
{
  const struct named_class *nc;
  uint32_t lo, hi;
  bool negate;
  int ret = parse_posix_class (ps, c);

  if (ret != 0)
    return ret < 0 ? ret : 0;
  if (ps->end - ps->s >= 2 && ps->s[0] == '\\' && (ps->s[1] == 'p' || ps->s[1] == 'P'))
    return fail (ps, "Unicode classes are not supported");
  if ((nc = perl_class (ps, &negate)) != NULL)
    {
      class_add_table (c, nc->r, nc->n, negate);
      ps->s += 2;
      return 0;
    }
  if (parse_class_char (ps, &lo) < 0)
    return -1;
  hi = lo;
  if (ps->end - ps->s >= 2 && ps->s[0] == '-' && ps->s[1] != ']')
    {
      ps->s++;
      if (parse_class_char (ps, &hi) < 0)
        return -1;
      if (hi < lo)
        return fail (ps, "invalid character class range");
    }
  class_add (c, lo, hi);
  return 0;
}

/* Go's parseClass with Perl flags: ']' first is literal, '-' is literal anywhere it cannot
   make a range, and a negated class matches '\n' too. */
static int
parse_class (struct re_parser *ps)
{
  struct re_class c = { NULL, 0, 0, false };
  bool first = true;

  ps->s++;
  if (ps->s < ps->end && *ps->s == '^')
    {
      c.negate = true;
      ps->s++;
    }
  while (ps->s == ps->end || *ps->s != ']' || first)
    {
      first = false;
      if (parse_class_item (ps, &c) < 0)
        {
          free (c.r);
          return -1;
        }
    }
  ps->s++;
  emit_class (ps->prog, &c);
  return 0;
}

/* \Q...\E: everything up to \E (or the end) is literal. */
static void
parse_quoted (struct re_parser *ps)
{
  const char *stop = memmem (ps->s, ps->end - ps->s, "\\E", 2);
  const char *lit_end = stop ? stop : ps->end;
  uint32_t r;

  while (ps->s < lit_end)
    {
      ps->atom = ps->prog->n;
      ps->s += ignore_re_rune_at (ps->s, lit_end - ps->s, &r);
      emit (ps->prog, RE_RUNE, r, 0, 0);
    }
  ps->s = stop ? stop + 2 : ps->end;
}

/* The escapes that are not single characters: assertions, \Q...\E and Perl classes.
   Returns 1 when the escape was one of them. */
static int
parse_special_escape (struct re_parser *ps)
{
  static const struct
  {
    char c;
    enum re_assert a;
  } asserts[] = { { 'A', AT_BEGIN }, { 'z', AT_END }, { 'b', AT_WORD }, { 'B', AT_NOT_WORD } };
  const struct named_class *nc;
  bool negate;
  size_t i;

  for (i = 0; i < sizeof asserts / sizeof *asserts; i++)
    if (ps->s[1] == asserts[i].c)
      {
        emit (ps->prog, RE_ASSERT, asserts[i].a, 0, 0);
        ps->s += 2;
        return 1;
      }
  if (ps->s[1] == 'C')
    return fail (ps, "invalid escape sequence");
  if (ps->s[1] == 'p' || ps->s[1] == 'P')
    return fail (ps, "Unicode classes are not supported");
  if (ps->s[1] == 'Q')
    {
      ps->s += 2;
      parse_quoted (ps);
      return 1;
    }
  if ((nc = perl_class (ps, &negate)) == NULL)
    return 0;
  emit_table (ps->prog, nc, negate);
  ps->s += 2;
  return 1;
}

static int
parse_backslash (struct re_parser *ps)
{
  uint32_t r;
  int ret = ps->end - ps->s >= 2 ? parse_special_escape (ps) : 0;

  if (ret != 0)
    return ret < 0 ? ret : 0;
  ps->s++;
  if (parse_escape (ps, &r) < 0)
    return -1;
  emit (ps->prog, RE_RUNE, r, 0, 0);
  return 0;
}

static int parse_alt (struct re_parser *ps, int depth);

static int
parse_atom (struct re_parser *ps, int depth)
{
  uint32_t r;

  ps->atom = ps->prog->n;
  switch (*ps->s)
    {
    case '(':
      ps->s++;
      if (parse_alt (ps, depth + 1) < 0)
        return -1;
      if (ps->s == ps->end)
        return fail (ps, "missing closing )");
      ps->s++;
      ps->atom = SIZE_MAX; /* the group starts where this atom started */
      return 0;
    case ')':
      return fail (ps, "unexpected )");
    case '[':
      return parse_class (ps);
    case '\\':
      return parse_backslash (ps);
    case '.':
      emit (ps->prog, RE_ANY_NOT_NL, 0, 0, 0);
      ps->s++;
      return 0;
    case '^':
    case '$':
      /* without the m flag, Go's '^' and '$' only match at the ends of the text */
      emit (ps->prog, RE_ASSERT, *ps->s == '^' ? AT_BEGIN : AT_END, 0, 0);
      ps->s++;
      return 0;
    default:
      ps->s += ignore_re_rune_at (ps->s, ps->end - ps->s, &r);
      emit (ps->prog, RE_RUNE, r, 0, 0);
      return 0;
    }
}

/* Go's parseInt for repeat counts: no leading zeros; -1 when the number is too big. */
static bool
parse_count (const char **pp, const char *end, int *n)
{
  const char *p = *pp;

  if (p == end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9'))
    return false;
  for (*n = 0; p < end && *p >= '0' && *p <= '9'; p++)
    *n = (*n < 0 || *n >= 100000000) ? -1 : *n * 10 + (*p - '0');
  *pp = p;
  return true;
}

/* Go's parseRepeat: "{n}", "{n,}" or "{n,m}"; max is -1 when open. False when the text
   is no repeat, and then the '{' is a literal. */
static bool
parse_repeat (const char **pp, const char *end, int *min, int *max)
{
  const char *p = *pp + 1;

  if (!parse_count (&p, end, min) || p == end)
    return false;
  *max = *min;
  if (*p == ',')
    {
      if (++p == end)
        return false;
      if (*p == '}')
        *max = -1;
      else if (!parse_count (&p, end, max))
        return false;
      else if (*max < 0)
        *min = -1;
    }
  if (p == end || *p != '}')
    return false;
  *pp = p + 1;
  return true;
}

/* Append a copy of the block [start, start + len), moving its jump targets along. */
static void
copy_block (struct re_prog *p, const struct re_inst *block, size_t len, size_t from)
{
  size_t i, delta = p->n - from;

  for (i = 0; i < len; i++)
    {
      struct re_inst in = block[i];
      if (in.op == RE_SPLIT || in.op == RE_JMP)
        {
          in.x += delta;
          in.y += delta;
        }
      emit (p, in.op, in.arg, in.x, in.y);
    }
}

/* x{min,max} as min copies of x, then x* when open or max - min copies of x?. */
static int
expand_repeat (struct re_parser *ps, size_t start, int min, int max)
{
  size_t len = ps->prog->n - start;
  cleanup_free struct re_inst *block = xcalloc (len + 1, sizeof *block);
  int i;

  if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max))
    return fail (ps, "invalid repeat count");
  if (len * (size_t) (max < 0 ? min + 1 : max) > 100000)
    return fail (ps, "expression too large");
  memcpy (block, &ps->prog->inst[start], len * sizeof *block);
  ps->prog->n = start;
  for (i = 0; i < min; i++)
    copy_block (ps->prog, block, len, start);
  for (i = min; max < 0 ? i <= min : i < max; i++)
    {
      size_t at = ps->prog->n;
      copy_block (ps->prog, block, len, start);
      quantify (ps->prog, at, max < 0 ? '*' : '?');
    }
  return 0;
}

/* A quantifier after the atom at `last`: '*', '+', '?' or a valid {n,m}. Returns 1 when
   there was one (a lazy '?' after it matches the same strings and is dropped). */
static int
parse_quantifier (struct re_parser *ps, size_t last, bool repeated)
{
  const char *p = ps->s;
  char q = *p;
  int min = 0, max = 0, ret = 0;

  if (q != '{' && q != '*' && q != '+' && q != '?')
    return 0;
  if (q == '{' && !parse_repeat (&p, ps->end, &min, &max))
    return 0;
  if (last == SIZE_MAX)
    return fail (ps, "missing argument to repetition operator");
  if (repeated)
    return fail (ps, "invalid nested repetition operator");
  if (q == '{')
    ret = expand_repeat (ps, last, min, max);
  else
    quantify (ps->prog, last, *p++);
  ps->s = p;
  if (ps->s < ps->end && *ps->s == '?')
    ps->s++;
  return ret < 0 ? ret : 1;
}

/* A sequence of atoms, each maybe quantified, up to '|', ')' or the end. */
static int
parse_seq (struct re_parser *ps, int depth)
{
  size_t last = SIZE_MAX, start;
  bool repeated = false;
  int ret;

  while (ps->s < ps->end && *ps->s != '|' && !(*ps->s == ')' && depth > 0))
    {
      if ((ret = parse_quantifier (ps, last, repeated)) != 0)
        {
          if (ret < 0)
            return ret;
          repeated = true;
          continue;
        }
      start = ps->prog->n;
      if (parse_atom (ps, depth) < 0)
        return -1;
      last = ps->atom == SIZE_MAX ? start : ps->prog->n > start ? ps->atom : SIZE_MAX;
      repeated = false;
    }
  return 0;
}

/* Alternatives a|b|c, as a SPLIT between the first and the rest. */
static int
parse_alt (struct re_parser *ps, int depth)
{
  size_t start = ps->prog->n, jmp;

  if (parse_seq (ps, depth) < 0)
    return -1;
  if (ps->s == ps->end || *ps->s != '|')
    return 0;
  ps->s++;
  insert_split (ps->prog, start, start + 1, 0);
  jmp = emit (ps->prog, RE_JMP, 0, 0, 0);
  ps->prog->inst[start].y = ps->prog->n;
  if (parse_alt (ps, depth) < 0)
    return -1;
  ps->prog->inst[jmp].x = ps->prog->n;
  return 0;
}

void
ignore_re_free (struct re_prog *p)
{
  size_t i;

  if (p == NULL)
    return;
  for (i = 0; i < p->ncls; i++)
    free (p->cls[i].r);
  free (p->cls);
  free (p->inst);
  free (p);
}

struct re_prog *
ignore_re_compile (const char *re, const char **why)
{
  struct re_prog *p = xzalloc (sizeof *p);
  struct re_parser ps = { re, re + strlen (re), p, 0, NULL };

  if (parse_alt (&ps, 0) < 0)
    {
      *why = ps.why;
      ignore_re_free (p);
      return NULL;
    }
  emit (p, RE_MATCH, 0, 0, 0);
  return p;
}

/* ---- running it ------------------------------------------------------------------------- */

struct thread
{
  size_t pc, pos;
};

enum step
{
  STEP_DIE,
  STEP_NEXT,
  STEP_FORK,
  STEP_MATCH,
};

static bool
is_word_byte (const char *s, size_t len, size_t pos)
{
  char c;

  if (pos >= len)
    return false;
  c = s[pos];
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
}

static bool
assertion_holds (uint32_t a, const char *s, size_t len, size_t pos)
{
  bool boundary = is_word_byte (s, len, pos) != (pos > 0 && is_word_byte (s, len, pos - 1));

  switch (a)
    {
    case AT_BEGIN:
      return pos == 0;
    case AT_END:
      return pos == len;
    case AT_WORD:
      return boundary;
    default:
      return !boundary;
    }
}

static bool
rune_matches (const struct re_prog *p, const struct re_inst *in, uint32_t r)
{
  const struct re_class *c;
  size_t i;

  if (in->op == RE_RUNE)
    return r == in->arg;
  if (in->op == RE_ANY_NOT_NL)
    return r != '\n';
  c = &p->cls[in->arg];
  for (i = 0; i < c->n; i++)
    if (r >= c->r[i][0] && r <= c->r[i][1])
      return !c->negate;
  return c->negate;
}

/* Advance one thread by one instruction. */
static enum step
step (const struct re_prog *p, const char *s, size_t len, struct thread *t, struct thread *alt)
{
  const struct re_inst *in = &p->inst[t->pc];
  uint32_t r;
  size_t w;

  switch (in->op)
    {
    case RE_MATCH:
      return STEP_MATCH;
    case RE_JMP:
      t->pc = in->x;
      return STEP_NEXT;
    case RE_SPLIT:
      *alt = (struct thread) { in->y, t->pos };
      t->pc = in->x;
      return STEP_FORK;
    case RE_ASSERT:
      t->pc++;
      return assertion_holds (in->arg, s, len, t->pos) ? STEP_NEXT : STEP_DIE;
    default:
      break;
    }
  if (t->pos == len)
    return STEP_DIE;
  w = ignore_re_rune_at (s + t->pos, len - t->pos, &r);
  if (!rune_matches (p, in, r))
    return STEP_DIE;
  t->pos += w;
  t->pc++;
  return STEP_NEXT;
}

/*
 * A backtracking run that never visits a (pc, position) pair twice, as RE2's BitState
 * does: without captures a pair that failed once fails again, so the cost is bounded by
 * the program size times the path length, whatever '**' patterns a user writes.
 * MatchString is an unanchored search, which matters once an unescaped '|' has left an
 * alternative without its '^': a thread starts at every rune boundary.
 */
bool
ignore_re_match (const struct re_prog *p, const char *s, size_t len)
{
  size_t width = len + 1, nstack = 0, astack = 0, bit, start = 0;
  cleanup_free unsigned char *seen = xcalloc ((p->n * width + 7) / 8, 1);
  cleanup_free struct thread *stack = NULL;
  struct thread t = { 0, 0 }, alt;
  enum step st = STEP_NEXT;
  uint32_t r;

  for (;;)
    {
      bit = t.pc * width + t.pos;
      if (st == STEP_DIE || (seen[bit / 8] & (1u << (bit % 8))))
        {
          if (nstack == 0 && start == len)
            return false;
          if (nstack == 0)
            start += ignore_re_rune_at (s + start, len - start, &r);
          t = nstack > 0 ? stack[--nstack] : (struct thread) { 0, start };
          st = STEP_NEXT;
          continue;
        }
      seen[bit / 8] |= (unsigned char) (1u << (bit % 8));
      st = step (p, s, len, &t, &alt);
      if (st == STEP_MATCH)
        return true;
      if (st == STEP_FORK)
        {
          XGROW (stack, astack, nstack + 1);
          stack[nstack++] = alt;
        }
    }
}
