/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logical lines, directives, the keyword/flag split and the token queue behind lexer.l. */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/lex.h"
#include "lexer/heredoc.h"
#include "lexer/jsonarg.h"
#include "parser/parser.h"
#include "common/error.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* ---- logical lines ------------------------------------------------------------------------- */

struct lex_line *
lex_line_new (size_t src_start)
{
  struct lex_line *l = xzalloc (sizeof *l);

  l->refs = 1;
  strbuf_init (&l->text);
  l->src_start = l->src_end = src_start;
  return l;
}

struct lex_line *
lex_line_ref (struct lex_line *l)
{
  if (l)
    l->refs++;
  return l;
}

void
lex_line_unref (struct lex_line *l)
{
  if (l == NULL || --l->refs > 0)
    return;
  strbuf_release (&l->text);
  free (l->segs);
  free (l);
}

void
lex_line_append (struct lex_line *l, const char *p, size_t n, size_t src)
{
  XGROW (l->segs, l->alloc_segs, l->n_segs + 1);
  l->segs[l->n_segs].loff = l->text.len;
  l->segs[l->n_segs].src = src;
  l->n_segs++;
  strbuf_add (&l->text, p, n);
}

size_t
lex_line_src (const struct lex_line *l, size_t loff)
{
  size_t lo = 0, hi = l->n_segs;

  if (l->n_segs == 0)
    return l->src_start;
  while (hi - lo > 1)
    {
      size_t mid = lo + (hi - lo) / 2;
      if (l->segs[mid].loff <= loff)
        lo = mid;
      else
        hi = mid;
    }
  return l->segs[lo].src + (loff - l->segs[lo].loff);
}

bool
lex_trim_continuation (const char *s, size_t *len, char escape)
{
  size_t k = *len;

  while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'))
    k--;
  if (k == 0 || s[k - 1] != escape)
    return false;
  /* An escaped escape (`\\` at the end) does not continue the line. */
  if (k >= 2 && s[k - 2] == escape)
    return false;
  *len = k - 1;
  return true;
}

void
lex_tok_free (struct lex_tok *t)
{
  if (t == NULL)
    return;
  free (t->text);
  free (t->name);
  free (t->heredoc.name);
  free (t->heredoc.content);
  for (size_t i = 0; i < t->n_comments; i++)
    free (t->comments[i]);
  free (t->comments);
  lex_line_unref (t->line);
  free (t);
}

/* ---- state, queue, diagnostics ------------------------------------------------------------- */

void
lex_state_init (struct lex_state *st, const struct srcfile *sf, bale_error_t *err)
{
  memset (st, 0, sizeof *st);
  st->sf = sf;
  st->escape = '\\';
  st->err = err;
  strbuf_init (&st->body);
}

static void
clear_comments (struct lex_state *st)
{
  size_t i;
  for (i = 0; i < st->n_comments; i++)
    free (st->comments[i]);
  st->n_comments = 0;
}

static void
clear_heredocs (struct lex_state *st)
{
  size_t i;
  for (i = 0; i < st->n_heredocs; i++)
    {
      free (st->heredocs[i].name);
      free (st->heredocs[i].content);
    }
  free (st->heredocs);
  st->heredocs = NULL;
  st->n_heredocs = st->i_heredoc = 0;
}

void
lex_state_release (struct lex_state *st)
{
  struct lex_queued q;

  while (lex_pop (st, &q))
    lex_tok_free (q.tok);
  free (st->queue);
  clear_comments (st);
  free (st->comments);
  clear_heredocs (st);
  strbuf_release (&st->body);
  lex_line_unref (st->cur);
  bale_error_release (&st->warnings);
}

void
lex_push (struct lex_state *st, int token, struct lex_tok *tok, size_t start, size_t end)
{
  XGROW (st->queue, st->q_alloc, st->q_len + 1);
  st->queue[st->q_len].token = token;
  st->queue[st->q_len].tok = tok;
  st->queue[st->q_len].start = start;
  st->queue[st->q_len].end = end;
  st->q_len++;
  if (tok)
    {
      tok->src_start = start;
      tok->src_end = end;
    }
}

bool
lex_pop (struct lex_state *st, struct lex_queued *out)
{
  if (st->q_head == st->q_len)
    return false;
  *out = st->queue[st->q_head++];
  /* Rewind once drained, so the queue never grows beyond one instruction's tokens. */
  if (st->q_head == st->q_len)
    st->q_head = st->q_len = 0;
  return true;
}

static void vdiag (struct lex_state *st, bale_error_t *where, size_t start, size_t end, const char *fmt,
                   va_list ap) __attribute__ ((format (printf, 5, 0)));

static void
vdiag (struct lex_state *st, bale_error_t *where, size_t start, size_t end, const char *fmt, va_list ap)
{
  struct bale_span span = srcfile_span (st->sf, start, end);
  struct bale_loc loc = srcfile_loc (st->sf, &span);
  bale_error_t e = NULL;

  bale_make_verror_at (&e, 0, &loc, fmt, ap);
  if (where == &st->warnings)
    e->severity = BALE_SEVERITY_WARNING;
  bale_error_join (where, &e);
}

void
lex_error (struct lex_state *st, size_t start, size_t end, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vdiag (st, st->err, start, end, fmt, ap);
  va_end (ap);
  if (bale_error_count (*st->err) >= LEX_MAX_ERRORS)
    st->stopped = true;
}

void
lex_warning (struct lex_state *st, size_t start, size_t end, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vdiag (st, &st->warnings, start, end, fmt, ap);
  va_end (ap);
}

bool
lex_check_length (struct lex_state *st, const char *text, size_t len, size_t start)
{
  /* BuildKit reads lines with a bufio.Scanner of 64 KiB: a line fits when its bytes and its
     '\n' do, so 65535 bytes before the '\n' (or the end of the file) are allowed. A line of
     whitespace alone counts too (docker 20.10: "LABEL a=" + 65527 bytes + '\n' builds, one
     byte more or 70,000 spaces fail). */
  if (len > 0 && text[len - 1] == '\n')
    len--;
  if (len <= LEX_MAX_LINE)
    return true;
  /* BuildKit's scanner stops at the first such line; so does bale, without copying it. */
  lex_error (st, start, start, "dockerfile line greater than max allowed size of %d", LEX_MAX_LINE);
  st->stopped = true;
  return false;
}

/* ---- whitespace as Go sees it -------------------------------------------------------------- */

/* Bytes of unicode.IsSpace at s (0 when none). */
static size_t
space_at (const char *s, size_t n)
{
  unsigned char c;
  uint32_t r;
  size_t w;

  if (n == 0)
    return 0;
  c = (unsigned char) *s;
  if (c < 0x80)
    return (c == ' ' || (c >= '\t' && c <= '\r')) ? 1 : 0;
  w = utf8_decode ((const unsigned char *) s, n, &r);
  return (w && utf8_is_space (r)) ? w : 0;
}

static size_t
skip_space (const char *s, size_t i, size_t n)
{
  size_t w;
  while (i < n && (w = space_at (s + i, n - i)) > 0)
    i += w;
  return i;
}

/* Length of s without trailing unicode spaces, scanning back from the end. */
static size_t
trim_right (const char *s, size_t n)
{
  while (n > 0)
    {
      size_t start = n - 1;
      /* Back up over UTF-8 continuation bytes to the start of the last rune. */
      while (start > 0 && n - start < 4 && ((unsigned char) s[start] & 0xc0) == 0x80)
        start--;
      if (space_at (s + start, n - start) != n - start)
        return n;
      n = start;
    }
  return 0;
}

static size_t
trim_newline (const char *s, size_t n)
{
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    n--;
  return n;
}

/* ---- directives and comments --------------------------------------------------------------- */

static bool
re_space (char c)
{
  /* Go's \s in RE2: [\t\n\f\r ] */
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* Match `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` (BuildKit's directiveRegexp). */
static bool
match_directive (const char *s, size_t n, size_t *k0, size_t *k1, size_t *v0, size_t *v1)
{
  size_t i = 1;

  if (n == 0 || s[0] != '#')
    return false;
  while (i < n && re_space (s[i]))
    i++;
  if (i >= n || !isalpha ((unsigned char) s[i]))
    return false;
  *k0 = i;
  while (i < n && isalnum ((unsigned char) s[i]))
    i++;
  *k1 = i;
  while (i < n && re_space (s[i]))
    i++;
  if (i >= n || s[i] != '=')
    return false;
  i++;
  while (i < n && re_space (s[i]))
    i++;
  *v0 = i;
  *v1 = n;
  while (*v1 > *v0 && re_space (s[*v1 - 1]))
    (*v1)--;
  return *v1 > *v0;
}

static bool *
directive_seen (struct lex_state *st, const char *key)
{
  if (strcmp (key, "syntax") == 0)
    return &st->seen_syntax;
  if (strcmp (key, "escape") == 0)
    return &st->seen_escape;
  if (strcmp (key, "check") == 0)
    return &st->seen_check;
  return NULL;
}

static void
queue_directive (struct lex_state *st, char *key, const char *v, size_t vlen, size_t start, size_t end)
{
  struct lex_tok *t = xzalloc (sizeof *t);

  t->kind = LEX_TOK_DIRECTIVE;
  t->name = key;
  t->text = xmemdup0 (v, vlen);
  t->len = vlen;
  lex_push (st, T_DIRECTIVE, t, start, end);
}

/* BuildKit's possibleParserDirective. Returns true when the line was a directive. */
static bool
try_directive (struct lex_state *st, const char *s, size_t n, size_t start)
{
  size_t k0, k1, v0, v1, i;
  char *key;
  bool *seen;

  if (st->directives_done || !match_directive (s, n, &k0, &k1, &v0, &v1))
    return st->directives_done = true, false;
  key = xmemdup0 (s + k0, k1 - k0);
  for (i = 0; key[i]; i++)
    key[i] = (char) tolower ((unsigned char) key[i]);
  seen = directive_seen (st, key);
  if (seen == NULL)
    {
      free (key);
      return st->directives_done = true, false;
    }
  if (*seen)
    lex_error (st, start, start + n, "only one %s parser directive can be used", key);
  *seen = true;
  if (strcmp (key, "escape") == 0)
    {
      if (v1 - v0 == 1 && (s[v0] == '`' || s[v0] == '\\'))
        st->escape = s[v0];
      else
        lex_error (st, start + v0, start + v1,
                   "invalid escape token '%.*s' does not match ` or \\", (int) (v1 - v0), s + v0);
    }
  queue_directive (st, key, s + v0, v1 - v0, start, start + n);
  return true;
}

void
lex_comment_line (struct lex_state *st, const char *text, size_t len, size_t start)
{
  size_t n = trim_newline (text, len);
  size_t lead = skip_space (text, 0, n);
  size_t c0, c1;

  if (try_directive (st, text + lead, n - lead, start + lead))
    return;
  c0 = skip_space (text, lead + 1, n);
  c1 = c0 + trim_right (text + c0, n - c0);
  if (c1 == c0)
    {
      clear_comments (st);
      return;
    }
  XGROW (st->comments, st->alloc_comments, st->n_comments + 1);
  st->comments[st->n_comments++] = xmemdup0 (text + c0, c1 - c0);
}

void
lex_blank_line (struct lex_state *st)
{
  st->directives_done = true;
}

/* ---- instructions -------------------------------------------------------------------------- */

bool
lex_instruction_line (struct lex_state *st, const char *text, size_t len, size_t start)
{
  size_t n = trim_newline (text, len);
  size_t lead = skip_space (text, 0, n);
  bool more;

  st->directives_done = true;
  n -= lead;
  more = lex_trim_continuation (text + lead, &n, st->escape);
  st->cur = lex_line_new (start + lead);
  st->instr_start = start + lead;
  st->empty_continuation = false;
  lex_line_append (st->cur, text + lead, n, start + lead);
  st->cur->src_end = start + trim_newline (text, len);
  return more;
}

bool
lex_continuation_line (struct lex_state *st, const char *text, size_t len, size_t start)
{
  size_t n = trim_newline (text, len);
  bool more;

  /* Every line a continuation consumes is part of the instruction's span, as BuildKit counts
     them: it matters when the continuation runs into the end of the file. */
  st->cur->src_end = start + n;
  if (skip_space (text, 0, n) == n)
    {
      st->empty_continuation = true;
      return true;
    }
  more = lex_trim_continuation (text, &n, st->escape);
  lex_line_append (st->cur, text, n, start);
  st->cur->src_end = start + trim_newline (text, len);
  return more;
}

void
lex_continuation_comment (struct lex_state *st, const char *text, size_t len, size_t start)
{
  st->cur->src_end = start + trim_newline (text, len);
}

static struct lex_tok *
new_tok (enum lex_tok_kind kind, struct lex_line *line, size_t loff, size_t lend)
{
  struct lex_tok *t = xzalloc (sizeof *t);

  t->kind = kind;
  t->line = lex_line_ref (line);
  t->loff = loff;
  t->lend = lend;
  t->text = xmemdup0 (line->text.buf + loff, lend - loff);
  t->len = lend - loff;
  return t;
}

static void
push_tok (struct lex_state *st, int token, struct lex_tok *t)
{
  lex_push (st, token, t, lex_line_src (t->line, t->loff), lex_line_src (t->line, t->lend));
}

/* Byte-wise unicode.IsSpace(rune(b)), as extractBuilderFlags tests single bytes. */
static bool
byte_space (unsigned char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xa0;
}

/* One flag word starting at i (which is at "--"); returns the index after it. The word loses
   its quotes and the escapes of the directive's escape character (\ or `), as in BuildKit's
   extractBuilderFlags. */
static size_t
scan_flag (const char *s, size_t i, size_t n, char escape, struct strbuf *word, bool *blank_ok)
{
  char quote = 0;

  for (; i < n; i++)
    {
      char c = s[i];
      if (!quote && byte_space ((unsigned char) c))
        break;
      if (!quote && (c == '\'' || c == '"'))
        {
          quote = c;
          *blank_ok = true;
          continue;
        }
      if (quote && c == quote)
        {
          quote = 0;
          continue;
        }
      if (c == escape)
        {
          if (i + 1 == n)
            continue;
          c = s[++i];
        }
      strbuf_addch (word, c);
    }
  return i;
}

/* Queue the flags at the start of [i, n) and return where the arguments begin. */
static size_t
split_flags (struct lex_state *st, struct lex_line *line, size_t i, size_t n)
{
  const char *s = line->text.buf;

  for (;;)
    {
      struct strbuf word = STRBUF_INIT;
      bool blank_ok = false;
      size_t start, end;
      struct lex_tok *t;

      while (i < n && byte_space ((unsigned char) s[i]))
        i++;
      if (i + 1 >= n || s[i] != '-' || s[i + 1] != '-')
        return i;
      start = i;
      end = scan_flag (s, i, n, st->escape, &word, &blank_ok);
      i = end;
      if (strcmp (word.buf, "--") == 0)
        {
          strbuf_release (&word);
          return i;
        }
      if (word.len == 0 && !blank_ok)
        {
          strbuf_release (&word);
          continue;
        }
      t = new_tok (LEX_TOK_FLAG, line, start, end);
      free (t->text);
      t->text = strbuf_detach (&word, &t->len);
      push_tok (st, T_FLAG, t);
    }
}

static bool
is_cmd_space (char c)
{
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Queue keyword, flags and arguments of the text [loff, loff+len) of line (BuildKit's
   splitCommand). ONBUILD's argument text is split again as its trigger instruction. */
void
lex_split_instruction (struct lex_state *st, struct lex_line *line, size_t loff, size_t len)
{
  const char *s = line->text.buf;
  size_t end = loff + trim_right (s + loff, len);
  size_t k = loff, a0, a1;
  struct lex_tok *kw;
  bool onbuild;

  while (k < end && !is_cmd_space (s[k]))
    k++;
  kw = new_tok (LEX_TOK_KEYWORD, line, loff, k);
  onbuild = strcasecmp (kw->text, "onbuild") == 0;
  push_tok (st, onbuild ? T_ONBUILD : T_KEYWORD, kw);
  if (k == end)
    return;
  while (k < end && is_cmd_space (s[k]))
    k++;
  a0 = split_flags (st, line, k, end);
  a0 = skip_space (s, a0, end);
  a1 = end;
  if (a0 >= a1)
    return;
  if (onbuild)
    lex_split_instruction (st, line, a0, a1 - a0);
  else
    push_tok (st, T_ARGS, new_tok (LEX_TOK_ARGS, line, a0, a1));
}

/* Find the keyword and argument tokens of the innermost instruction queued for the current
   line: for ONBUILD, the trigger's. */
static void
last_command (struct lex_state *st, size_t from, const struct lex_tok **kw, const struct lex_tok **args)
{
  size_t i;

  *kw = *args = NULL;
  for (i = from; i < st->q_len; i++)
    {
      if (st->queue[i].token == T_KEYWORD)
        *kw = st->queue[i].tok, *args = NULL;
      else if (st->queue[i].token == T_ARGS)
        *args = st->queue[i].tok;
    }
}

/* BuildKit's Node.canContainHeredoc: ADD, COPY and RUN (also as ONBUILD triggers), shell form. */
static bool
can_contain_heredoc (const struct lex_tok *kw, const struct lex_tok *args)
{
  if (kw == NULL)
    return false;
  if (strcasecmp (kw->text, "run") != 0 && strcasecmp (kw->text, "copy") != 0
      && strcasecmp (kw->text, "add") != 0)
    return false;
  return args == NULL || jsonarg_parse (args->text, args->len, NULL, NULL) != JSONARG_OK;
}

bool
lex_finish_instruction (struct lex_state *st)
{
  struct lex_line *line = st->cur;
  size_t from = st->q_len;
  const struct lex_tok *kw, *args;
  bale_error_t herr = NULL;

  st->cur = NULL;
  if (st->empty_continuation)
    lex_warning (st, line->src_start, line->src_end, "empty continuation line found in: %.*s%s",
                 line->text.len > 60 ? 60 : (int) line->text.len, line->text.buf,
                 line->text.len > 60 ? "..." : "");
  lex_split_instruction (st, line, 0, line->text.len);
  if (st->q_len > from)
    {
      /* The comments just above belong to the instruction (BuildKit's PrevComment). */
      struct lex_tok *k = st->queue[from].tok;
      k->comments = st->comments;
      k->n_comments = st->n_comments;
      st->comments = NULL;
      st->n_comments = st->alloc_comments = 0;
    }
  last_command (st, from, &kw, &args);
  clear_heredocs (st);
  if (can_contain_heredoc (kw, args) && strstr (line->text.buf, "<<") != NULL)
    {
      if (heredoc_from_line (line->text.buf, line->text.len, &st->heredocs, &st->n_heredocs, &herr) < 0)
        {
          lex_error (st, line->src_start, line->src_end, "%s", herr->msg);
          bale_error_release (&herr);
        }
    }
  lex_line_unref (line);
  st->i_heredoc = 0;
  strbuf_reset (&st->body);
  return st->n_heredocs > 0;
}

static void
queue_heredoc (struct lex_state *st, size_t end)
{
  struct lex_tok *t = xzalloc (sizeof *t);

  t->kind = LEX_TOK_HEREDOC;
  t->heredoc = st->heredocs[st->i_heredoc];
  memset (&st->heredocs[st->i_heredoc], 0, sizeof st->heredocs[st->i_heredoc]);
  t->heredoc.content = strbuf_detach (&st->body, &t->heredoc.content_len);
  lex_push (st, T_HEREDOC, t, st->body_start, end);
  st->i_heredoc++;
}

bool
lex_heredoc_line (struct lex_state *st, const char *text, size_t len, size_t start)
{
  const struct bale_heredoc *hd = &st->heredocs[st->i_heredoc];
  size_t n = trim_newline (text, len), lead = 0;

  if (st->body.len == 0)
    st->body_start = start;
  if (hd->chomp)
    while (lead < n && text[lead] == '\t')
      lead++;
  if (n - lead == strlen (hd->name) && memcmp (text + lead, hd->name, n - lead) == 0)
    {
      if (st->body.len == 0)
        st->body_start = start;
      queue_heredoc (st, start + n);
      strbuf_init (&st->body);
      st->last_end = start + n;
      return st->i_heredoc == st->n_heredocs;
    }
  strbuf_add (&st->body, text, len);
  return false;
}

void
lex_heredoc_eof (struct lex_state *st)
{
  const char *nl = memchr (st->sf->buf + st->instr_start, '\n', st->sf->len - st->instr_start);
  size_t end = nl ? (size_t) (nl - st->sf->buf) : st->sf->len;

  if (end > st->instr_start && st->sf->buf[end - 1] == '\r')
    end--;
  lex_error (st, st->instr_start, end, "unterminated heredoc");
  clear_heredocs (st);
  strbuf_reset (&st->body);
  st->last_end = st->sf->len;
}
