/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The output pump of prefix mode: line-prefixed streaming plus a tail for error messages. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/* A line longer than this is cut into pieces: a progress bar without newlines must still show,
   and the pump must not grow without bound. */
#define LINE_MAX_BYTES 4096

static void
remember (struct rt_sbx_tail *tail, const char *line, size_t len)
{
  size_t slot = (tail->next + tail->count) % SANDBOX_TAIL_LINES;

  if (tail->count == SANDBOX_TAIL_LINES)
    {
      slot = tail->next;
      free (tail->lines[slot]);
      tail->next = (tail->next + 1) % SANDBOX_TAIL_LINES;
    }
  else
    tail->count++;
  tail->lines[slot] = xmemdup0 (line, len);
}

static void
emit (struct rt_sbx_stream *s, const char *prefix, struct rt_sbx_tail *tail, const char *line,
      size_t len)
{
  struct strbuf out = STRBUF_INIT;

  if (s->on_line)
    {
      s->on_line (s->line_ctx, s->stream, line, len);
      remember (tail, line, len);
      return;
    }
  strbuf_addstr (&out, prefix);
  strbuf_add (&out, line, len);
  strbuf_addch (&out, '\n');
  /* A closed or full output must not stop the step: its output is then lost, as with a
     terminal that went away. */
  (void) fileio_write_all (s->out, out.buf, out.len);
  strbuf_release (&out);
  remember (tail, line, len);
}

void
rt_sbx_pump (struct rt_sbx_stream *s, const char *prefix, struct rt_sbx_tail *tail)
{
  char buf[16384];
  ssize_t n = read (s->fd, buf, sizeof buf);
  size_t start = 0;

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      if (s->partial.len > 0)
        emit (s, prefix, tail, s->partial.buf, s->partial.len);
      strbuf_release (&s->partial);
      close (s->fd);
      s->fd = -1;
      return;
    }
  strbuf_add (&s->partial, buf, (size_t) n);
  for (size_t i = 0; i < s->partial.len; i++)
    if (s->partial.buf[i] == '\n' || i - start == LINE_MAX_BYTES)
      {
        emit (s, prefix, tail, s->partial.buf + start, i - start);
        start = s->partial.buf[i] == '\n' ? i + 1 : i;
      }
  memmove (s->partial.buf, s->partial.buf + start, s->partial.len - start);
  strbuf_setlen (&s->partial, s->partial.len - start);
}

char *
rt_sbx_tail_take (struct rt_sbx_tail *tail)
{
  struct strbuf sb = STRBUF_INIT;

  for (size_t i = 0; i < tail->count; i++)
    {
      size_t slot = (tail->next + i) % SANDBOX_TAIL_LINES;
      strbuf_addstr (&sb, tail->lines[slot]);
      strbuf_addch (&sb, '\n');
      free (tail->lines[slot]);
      tail->lines[slot] = NULL;
    }
  tail->count = tail->next = 0;
  return sb.len ? strbuf_detach (&sb, NULL) : NULL;
}
