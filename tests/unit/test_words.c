/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for lexer/words.c: BuildKit's shell corpus, tests/data/words.test, and edge cases. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lexer/words.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* Rows in the pinned corpus snapshot (tests/corpus/README.md): a row that stops running, or a
   corpus update, shows up as a count mismatch instead of passing silently. */
#define ENVVAR_ROWS_RUN 228
#define ENVVAR_ROWS_WINDOWS 2
#define WORDS_ROWS 24

/* ---- helpers ------------------------------------------------------------------------------ */

struct lines
{
  char *data;
  char **v;
  size_t n, alloc;
};

static char *
read_file (const char *rel, size_t *len)
{
  const char *top = getenv ("top_srcdir");
  char *path = xasprintf ("%s/%s", top && *top ? top : ".", rel);
  struct strbuf sb = STRBUF_INIT;
  char buf[65536];
  size_t n;
  FILE *f = fopen (path, "rb");

  if (f == NULL)
    fail_msg ("cannot open %s (set top_srcdir)", path);
  while ((n = fread (buf, 1, sizeof buf, f)) > 0)
    strbuf_add (&sb, buf, n);
  fclose (f);
  free (path);
  return strbuf_detach (&sb, len);
}

/* Split like Go's bufio.Scanner with ScanLines: on '\n', dropping one '\r' before it, and
   with no empty last line after a final newline. */
static void
read_lines (const char *rel, struct lines *ls)
{
  size_t len, start = 0, i;

  memset (ls, 0, sizeof *ls);
  ls->data = read_file (rel, &len);
  for (i = 0; i <= len; i++)
    {
      if (i < len && ls->data[i] != '\n')
        continue;
      if (i == len && start == len)
        break;
      ls->data[i] = '\0';
      if (i > start && ls->data[i - 1] == '\r')
        ls->data[i - 1] = '\0';
      XGROW (ls->v, ls->alloc, ls->n + 1);
      ls->v[ls->n++] = ls->data + start;
      start = i + 1;
    }
}

static void
free_lines (struct lines *ls)
{
  free (ls->data);
  free (ls->v);
}

/* Go's strings.TrimSpace (Unicode white space) on a NUL-terminated string, in place. */
static char *
trim_space (char *s)
{
  size_t len = strlen (s), w, back;
  uint32_t r;

  while (*s && (w = utf8_decode ((unsigned char *) s, strlen (s), &r)) > 0 && utf8_is_space (r))
    s += w;
  len = strlen (s);
  while (len > 0)
    {
      for (back = 1; back < len && back < 4 && ((unsigned char) s[len - back] & 0xc0) == 0x80;)
        back++;
      w = utf8_decode ((unsigned char *) s + len - back, back, &r);
      if (w != back || !utf8_is_space (r))
        break;
      len -= back;
    }
  s[len] = '\0';
  return s;
}

/* Split s in place at every sep, as Go's strings.Split. Returns the number of fields. */
static size_t
split (char *s, char sep, char **fields, size_t max)
{
  size_t n = 0;

  fields[n++] = s;
  for (; *s; s++)
    if (*s == sep)
      {
        *s = '\0';
        if (n < max)
          fields[n] = s + 1;
        n++;
      }
  return n;
}

static char *
quote (const char *s, size_t len)
{
  struct strbuf sb = STRBUF_INIT;

  strbuf_add_goquote (&sb, s, len);
  return strbuf_detach (&sb, NULL);
}

static char *
quote_words (char **v, size_t n)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  strbuf_addch (&sb, '[');
  for (i = 0; i < n; i++)
    {
      if (i)
        strbuf_addch (&sb, ' ');
      strbuf_add_goquote (&sb, v[i], strlen (v[i]));
    }
  strbuf_addch (&sb, ']');
  return strbuf_detach (&sb, NULL);
}

static void
free_words (char **v, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

/* ---- tests/corpus/buildkit-shell/envVarTest ----------------------------------------------- */

static const char *const corpus_env[] = { "PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL=" };

/* One A or U row; returns false (after printing why) when it fails. */
static bool
envvar_row (size_t lineno, const char *src, const char *expected)
{
  struct words_env env = { .kv = corpus_env, .n = 4 };
  struct words_lex lx = words_lex_default ('\\');
  bale_error_t err = NULL;
  char *out = NULL, *q;
  size_t out_len;
  bool want_error = strcmp (expected, "error") == 0, ok;
  int ret = words_process_word (&lx, src, strlen (src), &env, &out, &out_len, &err);

  if (ret < 0)
    ok = want_error;
  else
    ok = !want_error && out_len == strlen (expected) && memcmp (out, expected, out_len) == 0;
  if (!ok)
    {
      q = ret < 0 ? xasprintf ("error (%s)", err->msg) : quote (out, out_len);
      print_message ("# envVarTest:%zu: %s: got %s, expected %s\n", lineno, src, q, expected);
      free (q);
    }
  free (out);
  bale_error_release (&err);
  return ok;
}

static void
test_corpus_envvar (void **state)
{
  struct lines ls;
  size_t i, ran = 0, windows = 0, failed = 0, tagged = 0;
  char *f[4];

  (void) state;
  read_lines ("tests/corpus/buildkit-shell/envVarTest", &ls);
  for (i = 0; i < ls.n; i++)
    {
      char *line = ls.v[i];

      /* An independent count of the rows, to check that none is skipped below. */
      tagged += (line[0] == 'A' || line[0] == 'U' || line[0] == 'W') && line[1] == '|';
      if (line[0] == '#' || *(line = trim_space (line)) == '\0')
        continue;
      if (split (line, '|', f, 4) != 3)
        fail_msg ("envVarTest:%zu: not PLATFORM|SOURCE|EXPECTED", i + 1);
      trim_space (f[0]);
      if (strcmp (f[0], "W") == 0)
        {
          windows++;
          continue;
        }
      if (strcmp (f[0], "A") != 0 && strcmp (f[0], "U") != 0)
        fail_msg ("envVarTest:%zu: bad platform tag '%s'", i + 1, f[0]);
      failed += !envvar_row (i + 1, trim_space (f[1]), trim_space (f[2]));
      ran++;
    }
  free_lines (&ls);
  print_message ("# envVarTest: %zu/%zu rows passed (%zu Windows-only rows skipped)\n",
                 ran - failed, ran, windows);
  assert_int_equal (failed, 0);
  assert_int_equal (ran + windows, tagged);
  assert_int_equal (ran, ENVVAR_ROWS_RUN);
  assert_int_equal (windows, ENVVAR_ROWS_WINDOWS);
}

/* ---- tests/corpus/buildkit-shell/wordsTest ------------------------------------------------ */

struct envlist
{
  char **kv;
  size_t n, alloc;
};

static void
env_push (struct envlist *e, const char *kv, size_t len)
{
  XGROW (e->kv, e->alloc, e->n + 1);
  e->kv[e->n++] = xmemdup0 (kv, len);
}

static void
env_clear (struct envlist *e)
{
  free_words (e->kv, e->n);
  memset (e, 0, sizeof *e);
}

static bool
words_row (size_t lineno, const struct envlist *e, const char *input, char *expected)
{
  struct words_env env = { .kv = (const char *const *) e->kv, .n = e->n };
  struct words_lex lx = words_lex_default ('\\');
  bale_error_t err = NULL;
  char **got = NULL, *exp[64], *error_word = (char *) "error", *qg, *qe;
  size_t n_got = 0, n_exp = split (expected, ',', exp, 64), i;
  bool ok;

  if (words_process_words (&lx, input, strlen (input), &env, &got, &n_got, &err) < 0)
    {
      /* The Go harness compares an error as the one-word result "error". */
      got = xmalloc (2 * sizeof *got);
      got[0] = xstrdup (error_word);
      n_got = 1;
    }
  assert_true (n_exp <= 64);
  ok = n_got == n_exp;
  for (i = 0; ok && i < n_exp; i++)
    ok = strcmp (got[i], exp[i]) == 0;
  if (!ok)
    {
      qg = quote_words (got, n_got);
      qe = quote_words (exp, n_exp);
      print_message ("# wordsTest:%zu: %s: got %s, expected %s\n", lineno, input, qg, qe);
      free (qg);
      free (qe);
    }
  free_words (got, n_got);
  bale_error_release (&err);
  return ok;
}

static void
test_corpus_words (void **state)
{
  struct envlist env = { 0 };
  struct lines ls;
  size_t i, ran = 0, failed = 0, piped = 0;
  char *f[3], *val;

  (void) state;
  read_lines ("tests/corpus/buildkit-shell/wordsTest", &ls);
  for (i = 0; i < ls.n; i++)
    {
      char *line = ls.v[i];

      piped += line[0] != '#' && strchr (line, '|') != NULL;
      if (line[0] == '#')
        continue;
      if (strncmp (line, "ENV ", 4) == 0)
        {
          for (val = line + 3; *val == ' '; val++)
            ;
          env_push (&env, val, strlen (val));
          continue;
        }
      if (split (line, '|', f, 3) != 2)
        fail_msg ("wordsTest:%zu: not INPUT|EXPECTED", i + 1);
      while (*f[1] == ' ')
        f[1]++;
      failed += !words_row (i + 1, &env, trim_space (f[0]), f[1]);
      ran++;
    }
  free_lines (&ls);
  env_clear (&env);
  print_message ("# wordsTest: %zu/%zu rows passed\n", ran - failed, ran);
  assert_int_equal (failed, 0);
  assert_int_equal (ran, piped);
  assert_int_equal (ran, WORDS_ROWS);
}

/* ---- tests/data/words.test ---------------------------------------------------------------- */

struct data
{
  const char *file;
  size_t lineno;
  struct words_lex lx;
  struct envlist env;
};

static void
skip_blanks (const char **p)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* One escape of a quoted string: \\ \" \n \t \r \xHH. */
static void
unescape (struct data *d, const char **p, struct strbuf *sb)
{
  char c = *(*p)++;

  if (c == 'n')
    strbuf_addch (sb, '\n');
  else if (c == 't')
    strbuf_addch (sb, '\t');
  else if (c == 'r')
    strbuf_addch (sb, '\r');
  else if (c == '\\' || c == '"')
    strbuf_addch (sb, c);
  else if (c == 'x' && hex_digit ((*p)[0]) >= 0 && hex_digit ((*p)[1]) >= 0)
    {
      strbuf_addch (sb, hex_digit ((*p)[0]) * 16 + hex_digit ((*p)[1]));
      *p += 2;
    }
  else
    fail_msg ("%s:%zu: bad escape \\%c", d->file, d->lineno, c);
}

/* Parse a quoted string at *p into sb. Returns false when *p does not start one. */
static bool
parse_quoted (struct data *d, const char **p, struct strbuf *sb)
{
  skip_blanks (p);
  if (**p != '"')
    return false;
  (*p)++;
  while (**p != '"')
    {
      if (**p == '\0')
        fail_msg ("%s:%zu: unterminated string", d->file, d->lineno);
      if (**p == '\\')
        {
          (*p)++;
          unescape (d, p, sb);
        }
      else
        strbuf_addch (sb, *(*p)++);
    }
  (*p)++;
  return true;
}

static bool
take_word (const char **p, const char *w)
{
  size_t n = strlen (w);

  skip_blanks (p);
  if (strncmp (*p, w, n) != 0 || ((*p)[n] != '\0' && (*p)[n] != ' ' && (*p)[n] != '\t'))
    return false;
  *p += n;
  return true;
}

static void
directive_lex (struct data *d, const char *p)
{
  d->lx = words_lex_default ('\\');
  while (skip_blanks (&p), *p)
    {
      if (take_word (&p, "raw_quotes"))
        d->lx.raw_quotes = true;
      else if (take_word (&p, "raw_escapes"))
        d->lx.raw_escapes = true;
      else if (take_word (&p, "skip_unset_env"))
        d->lx.skip_unset_env = true;
      else if (take_word (&p, "skip_process_quotes"))
        d->lx.skip_process_quotes = true;
      else if (take_word (&p, "backtick"))
        d->lx.escape = '`';
      else if (!take_word (&p, "default"))
        fail_msg ("%s:%zu: unknown lexer option at '%s'", d->file, d->lineno, p);
    }
}

static void
directive_env (struct data *d, const char *p)
{
  struct strbuf sb = STRBUF_INIT;

  env_clear (&d->env);
  while (parse_quoted (d, &p, &sb))
    {
      env_push (&d->env, sb.buf, sb.len);
      strbuf_reset (&sb);
    }
  skip_blanks (&p);
  if (*p)
    fail_msg ("%s:%zu: env takes quoted KEY=VALUE strings", d->file, d->lineno);
  strbuf_release (&sb);
}

/* Run the expansion of one case; the result is either the word or the words, Go-quoted. */
static int
data_run (struct data *d, bool split_words, const struct strbuf *in, char **got, char **msg)
{
  struct words_env env = { .kv = (const char *const *) d->env.kv, .n = d->env.n };
  bale_error_t err = NULL;
  char *out, **v;
  size_t len, n;
  int ret;

  if (split_words)
    ret = words_process_words (&d->lx, in->buf, in->len, &env, &v, &n, &err);
  else
    ret = words_process_word (&d->lx, in->buf, in->len, &env, &out, &len, &err);
  if (ret < 0)
    {
      *msg = xstrdup (err->msg);
      bale_error_release (&err);
      return -1;
    }
  *got = split_words ? quote_words (v, n) : quote (out, len);
  if (split_words)
    free_words (v, n);
  else
    free (out);
  return 0;
}

/* The expected side: `error ["substring of the message"]`, or one or more quoted strings. */
static bool
data_check (struct data *d, bool split_words, const char *p, const struct strbuf *in)
{
  struct strbuf sb = STRBUF_INIT, want = STRBUF_INIT;
  char *got = NULL, *msg = NULL, *qin = quote (in->buf, in->len);
  bool want_error = take_word (&p, "error"), ok;
  size_t n = 0;
  int ret = data_run (d, split_words, in, &got, &msg);

  if (split_words && !want_error)
    strbuf_addch (&want, '[');
  while (parse_quoted (d, &p, &sb))
    {
      if (n++ && !want_error)
        strbuf_addch (&want, ' ');
      if (want_error)
        strbuf_add (&want, sb.buf, sb.len);
      else
        strbuf_add_goquote (&want, sb.buf, sb.len);
      strbuf_reset (&sb);
    }
  if (split_words && !want_error)
    strbuf_addch (&want, ']');
  skip_blanks (&p);
  if (*p || (!want_error && !split_words && n != 1))
    fail_msg ("%s:%zu: bad expected value", d->file, d->lineno);
  if (want_error)
    ok = ret < 0 && strstr (msg, want.buf) != NULL;
  else
    ok = ret == 0 && strcmp (got, want.buf) == 0;
  if (!ok)
    print_message ("# %s:%zu: %s: got %s%s, expected %s%s\n", d->file, d->lineno, qin,
                   ret < 0 ? "error: " : "", ret < 0 ? msg : got, want_error ? "error: " : "",
                   want.buf);
  free (got);
  free (msg);
  free (qin);
  strbuf_release (&sb);
  strbuf_release (&want);
  return ok;
}

/* `word "IN" => EXPECTED` or `words "IN" => EXPECTED`. */
static bool
data_case (struct data *d, bool split_words, const char *p)
{
  struct strbuf in = STRBUF_INIT;
  bool ok;

  if (!parse_quoted (d, &p, &in) || !take_word (&p, "=>"))
    fail_msg ("%s:%zu: expected \"INPUT\" =>", d->file, d->lineno);
  ok = data_check (d, split_words, p, &in);
  strbuf_release (&in);
  return ok;
}

static void
test_data_file (void **state)
{
  struct data d = { .file = "tests/data/words.test" };
  struct lines ls;
  size_t i, cases = 0, failed = 0, case_lines = 0;

  (void) state;
  d.lx = words_lex_default ('\\');
  read_lines (d.file, &ls);
  for (i = 0; i < ls.n; i++)
    {
      const char *p = ls.v[i];

      d.lineno = i + 1;
      case_lines += strncmp (p, "word", 4) == 0;
      if (*p == '#' || (skip_blanks (&p), *p == '\0'))
        continue;
      if (take_word (&p, "lex"))
        directive_lex (&d, p);
      else if (take_word (&p, "env"))
        directive_env (&d, p);
      else if (take_word (&p, "words"))
        cases++, failed += !data_case (&d, true, p);
      else if (take_word (&p, "word"))
        cases++, failed += !data_case (&d, false, p);
      else
        fail_msg ("%s:%zu: unknown line '%s'", d.file, d.lineno, p);
    }
  free_lines (&ls);
  env_clear (&d.env);
  print_message ("# words.test: %zu/%zu cases passed\n", cases - failed, cases);
  assert_int_equal (failed, 0);
  assert_int_equal (cases, case_lines);
  assert_true (cases >= 100);
}

/* ---- direct edge cases -------------------------------------------------------------------- */

static char *
expand (const struct words_lex *lx, const char *src, size_t len, const char *const *kv, size_t n,
        size_t *out_len)
{
  struct words_env env = { .kv = kv, .n = n };
  bale_error_t err = NULL;
  char *out = NULL;

  if (words_process_word (lx, src, len, &env, &out, out_len, &err) < 0)
    fail_msg ("unexpected error: %s", err->msg);
  return out;
}

static void
test_long_input (void **state)
{
  static const char *const kv[] = { "V=value" };
  struct words_lex lx = words_lex_default ('\\');
  struct strbuf in = STRBUF_INIT, want = STRBUF_INIT;
  size_t i, len;
  char *out;

  (void) state;
  for (i = 0; i < 20000; i++)
    {
      strbuf_addf (&in, "x%zu'q u'\"$V\"\\ ${V:-d}$V/", i);
      strbuf_addf (&want, "x%zuq uvalue valuevalue/", i);
    }
  out = expand (&lx, in.buf, in.len, kv, 1, &len);
  assert_int_equal (len, want.len);
  assert_memory_equal (out, want.buf, len);
  free (out);
  strbuf_release (&in);
  strbuf_release (&want);
}

static void
test_nested (void **state)
{
  static const char *const kv[] = { "c=C", "b=" };
  struct words_lex lx = words_lex_default ('\\');
  struct words_env env = { .kv = kv, .n = 2 };
  struct strbuf in = STRBUF_INIT;
  bale_error_t err = NULL;
  size_t i, len;
  char *out;

  (void) state;
  out = expand (&lx, "${a:-${b:-${c}}}", 16, kv, 2, &len);
  assert_string_equal (out, "C");
  free (out);
  /* 500 levels work, as in BuildKit. */
  for (i = 0; i < 500; i++)
    strbuf_addstr (&in, "${a:-\"");
  strbuf_addstr (&in, "$c");
  for (i = 0; i < 500; i++)
    strbuf_addstr (&in, "\"}");
  out = expand (&lx, in.buf, in.len, kv, 2, &len);
  assert_string_equal (out, "C");
  free (out);
  /* Far deeper nesting is refused instead of exhausting the C stack. */
  strbuf_reset (&in);
  for (i = 0; i < 100000; i++)
    strbuf_addstr (&in, "${a:-");
  assert_true (words_process_word (&lx, in.buf, in.len, &env, &out, &len, &err) < 0);
  assert_non_null (strstr (err->msg, "nested"));
  bale_error_release (&err);
  strbuf_release (&in);
}

static double
time_words (size_t size)
{
  static const char *const kv[] = { "SP=a  b\tc", "N=x" };
  struct words_lex lx = words_lex_default ('\\');
  struct words_env env = { .kv = kv, .n = 2 };
  static const char chunk[] = "w$SP \"q $N\" '${N}' \\  ${N:-y}${U-z} <<  E ";
  struct strbuf in = STRBUF_INIT;
  bale_error_t err = NULL;
  double best = 1e9;
  char **v;
  size_t n;
  int rep;

  while (in.len < size)
    strbuf_add (&in, chunk, sizeof chunk - 1);
  for (rep = 0; rep < 3; rep++)
    {
      clock_t t0 = clock ();
      assert_int_equal (words_process_words (&lx, in.buf, in.len, &env, &v, &n, &err), 0);
      double t = (double) (clock () - t0) / CLOCKS_PER_SEC;
      free_words (v, n);
      best = t < best ? t : best;
    }
  strbuf_release (&in);
  return best;
}

/* 1 MiB takes about four times as long as 256 KiB; a quadratic step would take sixteen. */
static void
test_linear_time (void **state)
{
  double small, big;

  (void) state;
  int i;

  /* The best of three: load on the machine only ever slows a run down. */
  small = time_words (256 * 1024);
  big = time_words (1024 * 1024);
  for (i = 0; i < 2; i++)
    {
      double a = time_words (256 * 1024), b = time_words (1024 * 1024);
      small = a < small ? a : small;
      big = b < big ? b : big;
    }
  print_message ("# 256 KiB: %.3fs, 1 MiB: %.3fs\n", small, big);
  assert_true (big < 10 * small + 0.2);
}

static void
test_api_edges (void **state)
{
  static const char *const kv[] = { "K=1", "BARE", "K=2", "=empty-name" };
  struct words_env env = { .kv = kv, .n = 4 };
  struct words_lex lx = words_lex_default ('\\');
  bale_error_t err = NULL;
  char **v, *out;
  size_t n, len;

  (void) state;
  assert_string_equal (words_env_get (&env, "K", 1), "2");
  assert_string_equal (words_env_get (&env, "BARE", 4), "");
  assert_null (words_env_get (&env, "BAR", 3));
  assert_null (words_env_get (&env, "K=", 1 + 1));
  assert_string_equal (words_env_get (&env, "", 0), "empty-name");
  assert_null (words_env_get (NULL, "K", 1));
  /* No words at all: an empty, NULL-terminated array. */
  assert_int_equal (words_process_words (&lx, " \"\" '' ", 7, &env, &v, &n, &err), 0);
  assert_int_equal (n, 0);
  assert_null (v[0]);
  free (v);
  /* A NUL byte in the input passes through, and out_len counts it. */
  out = expand (&lx, "a\0b$K", 5, kv, 4, &len);
  assert_int_equal (len, 4);
  assert_memory_equal (out, "a\0b2", 4);
  free (out);
  /* On failure nothing is returned and the error says what BuildKit says. */
  out = NULL;
  assert_true (words_process_word (&lx, "${", 2, &env, &out, &len, &err) < 0);
  assert_null (out);
  assert_string_equal (err->msg, "failed to process \"${\": syntax error: missing '}'");
  assert_int_equal (bale_error_count (err), 1);
  bale_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_corpus_envvar), cmocka_unit_test (test_corpus_words),
    cmocka_unit_test (test_data_file),     cmocka_unit_test (test_long_input),
    cmocka_unit_test (test_nested),        cmocka_unit_test (test_linear_time),
    cmocka_unit_test (test_api_edges),
  };

  return cmocka_run_group_tests_name ("words", tests, NULL, NULL);
}
