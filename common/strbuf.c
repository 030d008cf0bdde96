/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growable, always NUL-terminated byte buffer. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/banned.h"

const char strbuf_empty[1] = "";

void
strbuf_init (struct strbuf *sb)
{
  sb->alloc = sb->len = 0;
  sb->buf = (char *) strbuf_empty;
}

void
strbuf_release (struct strbuf *sb)
{
  if (sb->alloc)
    free (sb->buf);
  strbuf_init (sb);
}

char *
strbuf_detach (struct strbuf *sb, size_t *len)
{
  char *ret;

  if (len)
    *len = sb->len;
  ret = sb->alloc ? sb->buf : xstrdup ("");
  strbuf_init (sb);
  return ret;
}

void
strbuf_grow (struct strbuf *sb, size_t extra)
{
  size_t need = sb->len + extra + 1;
  if (need <= sb->len)
    abort ();
  if (sb->alloc == 0)
    {
      sb->buf = NULL;
      XGROW (sb->buf, sb->alloc, need < 32 ? 32 : need);
      sb->buf[0] = '\0';
      return;
    }
  XGROW (sb->buf, sb->alloc, need);
}

void
strbuf_reset (struct strbuf *sb)
{
  strbuf_setlen (sb, 0);
}

void
strbuf_setlen (struct strbuf *sb, size_t len)
{
  if (sb->alloc == 0)
    return;
  sb->len = len;
  sb->buf[len] = '\0';
}

void
strbuf_add (struct strbuf *sb, const void *data, size_t len)
{
  if (len == 0)
    return;
  if (sb->len + len >= sb->alloc)
    strbuf_grow (sb, len);
  memcpy (sb->buf + sb->len, data, len);
  sb->len += len;
  sb->buf[sb->len] = '\0';
}

void
strbuf_addstr (struct strbuf *sb, const char *s)
{
  strbuf_add (sb, s, strlen (s));
}

void
strbuf_addch (struct strbuf *sb, int c)
{
  char ch = (char) c;
  strbuf_add (sb, &ch, 1);
}

void
strbuf_vaddf (struct strbuf *sb, const char *fmt, va_list ap)
{
  va_list cp;
  int n;

  va_copy (cp, ap);
  n = vsnprintf (NULL, 0, fmt, cp);
  va_end (cp);
  if (n < 0)
    abort ();
  strbuf_grow (sb, (size_t) n);
  vsnprintf (sb->buf + sb->len, (size_t) n + 1, fmt, ap);
  sb->len += (size_t) n;
}

void
strbuf_addf (struct strbuf *sb, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  strbuf_vaddf (sb, fmt, ap);
  va_end (ap);
}

static void
add_rune_escape (struct strbuf *sb, uint32_t r)
{
  switch (r)
    {
    case '\a': strbuf_addstr (sb, "\\a"); return;
    case '\b': strbuf_addstr (sb, "\\b"); return;
    case '\f': strbuf_addstr (sb, "\\f"); return;
    case '\n': strbuf_addstr (sb, "\\n"); return;
    case '\r': strbuf_addstr (sb, "\\r"); return;
    case '\t': strbuf_addstr (sb, "\\t"); return;
    case '\v': strbuf_addstr (sb, "\\v"); return;
    default: break;
    }
  if (r < 0x20 || r == 0x7f)
    strbuf_addf (sb, "\\x%02x", r);
  else if (r < 0x10000)
    strbuf_addf (sb, "\\u%04x", r);
  else
    strbuf_addf (sb, "\\U%08x", r);
}

void
strbuf_add_goquote (struct strbuf *sb, const char *s, size_t len)
{
  size_t i = 0;

  strbuf_addch (sb, '"');
  while (i < len)
    {
      uint32_t r;
      size_t w = utf8_decode ((const unsigned char *) s + i, len - i, &r);

      if (w == 0)
        {
          /* Go's strconv.Quote writes each byte of invalid UTF-8 as \xHH. */
          strbuf_addf (sb, "\\x%02x", (unsigned char) s[i]);
          i++;
          continue;
        }
      if (r == '"' || r == '\\')
        {
          strbuf_addch (sb, '\\');
          strbuf_addch (sb, (int) r);
        }
      else if (utf8_is_print (r))
        strbuf_add (sb, s + i, w);
      else
        add_rune_escape (sb, r);
      i += w;
    }
  strbuf_addch (sb, '"');
}
