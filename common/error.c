/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error values with locations, chained so one operation can report several of them. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* An error keeps and shows only the part of its source line around the column: a line can be
   megabytes long (a line over BuildKit's 65535 bytes is itself an error). */
#define EXCERPT_BEFORE 80
#define EXCERPT_AFTER 160

/* n moved back (down) or forward (up) to the start of a UTF-8 character of s[0..len). */
static size_t
utf8_boundary (const char *s, size_t len, size_t n, int up)
{
  while (n > 0 && n < len && ((unsigned char) s[n] & 0xC0) == 0x80)
    n += up ? 1 : (size_t) -1;
  return n;
}

static void
append (bale_error_t *err, struct bale_error_s *e)
{
  while (*err)
    err = &(*err)->next;
  *err = e;
}

int
bale_make_verror_at (bale_error_t *err, int status, const struct bale_loc *loc, const char *fmt,
                     va_list ap)
{
  struct bale_error_s *e = xzalloc (sizeof *e);
  struct strbuf sb = STRBUF_INIT;

  strbuf_vaddf (&sb, fmt, ap);
  e->msg = strbuf_detach (&sb, NULL);
  e->status = status;
  e->severity = BALE_SEVERITY_ERROR;
  if (loc)
    {
      e->file = loc->file ? xstrdup (loc->file) : NULL;
      e->line = loc->line;
      e->col = loc->col;
      e->end_line = loc->end_line;
      e->end_col = loc->end_col;
      if (loc->text)
        {
          size_t keep = (size_t) (loc->col > 0 ? loc->col : 1) + EXCERPT_AFTER;

          keep = keep < loc->text_len ? utf8_boundary (loc->text, loc->text_len, keep, 1)
                                      : loc->text_len;
          e->source_line = xmemdup0 (loc->text, keep);
        }
    }
  append (err, e);
  return -status - 1;
}

int
bale_make_error (bale_error_t *err, int status, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = bale_make_verror_at (err, status, NULL, fmt, ap);
  va_end (ap);
  return ret;
}

int
bale_make_error_at (bale_error_t *err, const struct bale_loc *loc, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = bale_make_verror_at (err, 0, loc, fmt, ap);
  va_end (ap);
  return ret;
}

int
bale_error_wrap (bale_error_t *err, const char *fmt, ...)
{
  struct strbuf prefix = STRBUF_INIT;
  struct bale_error_s *e;
  va_list ap;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  strbuf_vaddf (&prefix, fmt, ap);
  va_end (ap);
  for (e = *err; e; e = e->next)
    {
      char *msg = xasprintf ("%s: %s", prefix.buf, e->msg);
      free (e->msg);
      e->msg = msg;
    }
  strbuf_release (&prefix);
  return -(*err)->status - 1;
}

void
bale_error_join (bale_error_t *to, bale_error_t *from)
{
  if (*from == NULL)
    return;
  append (to, *from);
  *from = NULL;
}

int
bale_error_count (bale_error_t err)
{
  int n = 0;
  for (; err; err = err->next)
    n++;
  return n;
}

void
bale_error_release (bale_error_t *err)
{
  struct bale_error_s *e, *next;

  if (err == NULL)
    return;
  for (e = *err; e; e = next)
    {
      next = e->next;
      free (e->msg);
      free (e->file);
      free (e->source_line);
      free (e->hint);
      free (e);
    }
  *err = NULL;
}

/* The source line, cut to the bytes around the column with "..." where it is cut, and a caret
   under the column. */
static void
format_caret (struct strbuf *sb, const struct bale_error_s *e)
{
  const char *line = e->source_line;
  size_t len = strlen (line), col = (size_t) e->col - 1, from = 0, to = len, i;
  int width, k;

  if (col > EXCERPT_BEFORE && col <= len)
    from = utf8_boundary (line, len, col - EXCERPT_BEFORE, 0);
  if (col + EXCERPT_AFTER < len)
    to = utf8_boundary (line, len, col + EXCERPT_AFTER, 1);
  strbuf_addf (sb, "\n    %s%.*s%s\n    %s", from ? "..." : "", (int) (to - from), line + from,
               to < len ? "..." : "", from ? "   " : "");
  for (i = from; i < col && i < to; i++)
    strbuf_addch (sb, line[i] == '\t' ? '\t' : ' ');
  strbuf_addch (sb, '^');
  width = (e->end_line == e->line && e->end_col > e->col) ? e->end_col - e->col : 0;
  for (k = 1; k < width && k < 200; k++)
    strbuf_addch (sb, '~');
}

char *
bale_error_format (const struct bale_error_s *e)
{
  struct strbuf sb = STRBUF_INIT;
  const char *sev = e->severity == BALE_SEVERITY_WARNING ? "warning" : "error";

  if (e->file && e->line > 0)
    strbuf_addf (&sb, "%s:%d:%d: %s: %s", e->file, e->line, e->col > 0 ? e->col : 1, sev, e->msg);
  else if (e->file)
    strbuf_addf (&sb, "%s: %s: %s", e->file, sev, e->msg);
  else
    strbuf_addf (&sb, "%s: %s", sev, e->msg);
  if (e->status > 0)
    strbuf_addf (&sb, ": %s", strerror (e->status));
  if (e->hint)
    strbuf_addf (&sb, " (%s)", e->hint);
  if (e->source_line && e->col > 0)
    format_caret (&sb, e);
  return strbuf_detach (&sb, NULL);
}

char *
error_go_text (int errnum)
{
  char *s = xstrdup (strerror (errnum));

  if (s[0] >= 'A' && s[0] <= 'Z')
    s[0] = (char) (s[0] - 'A' + 'a');
  return s;
}
