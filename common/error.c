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
        e->source_line = xmemdup0 (loc->text, loc->text_len);
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

static void
format_caret (struct strbuf *sb, const struct bale_error_s *e)
{
  int i, width;

  strbuf_addf (sb, "\n    %s\n    ", e->source_line);
  for (i = 1; i < e->col && e->source_line[i - 1]; i++)
    strbuf_addch (sb, e->source_line[i - 1] == '\t' ? '\t' : ' ');
  strbuf_addch (sb, '^');
  width = (e->end_line == e->line && e->end_col > e->col) ? e->end_col - e->col : 0;
  for (i = 1; i < width && i < 200; i++)
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
