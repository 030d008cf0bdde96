/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Line maps: the lexer tracks only byte offsets; lines and columns are computed on demand. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/srcfile.h"
#include "common/xalloc.h"
#include "common/banned.h"

void
srcfile_init (struct srcfile *sf, const char *path, const char *buf, size_t len)
{
  size_t alloc = 0, i;

  sf->path = path;
  sf->buf = buf;
  sf->len = len;
  sf->line_starts = NULL;
  sf->n_lines = 0;
  sf->hint = 0;
  XGROW (sf->line_starts, alloc, 1);
  sf->line_starts[sf->n_lines++] = 0;
  for (i = 0; i < len; i++)
    if (buf[i] == '\n')
      {
        XGROW (sf->line_starts, alloc, sf->n_lines + 1);
        sf->line_starts[sf->n_lines++] = i + 1;
      }
}

void
srcfile_release (struct srcfile *sf)
{
  free (sf->line_starts);
  sf->line_starts = NULL;
  sf->n_lines = 0;
}

void
srcfile_pos (const struct srcfile *sf, size_t off, int *line, int *col)
{
  size_t lo = 0, hi = sf->n_lines, h = sf->hint;

  /* Most lookups land on the line of the previous one or the next; try those first. */
  if (h < sf->n_lines && sf->line_starts[h] <= off)
    {
      if (h + 1 == sf->n_lines || off < sf->line_starts[h + 1])
        lo = hi = h;
      else if (h + 2 == sf->n_lines || off < sf->line_starts[h + 2])
        lo = hi = h + 1;
      else
        lo = h;
    }
  /* The last line start that is <= off. */
  while (hi - lo > 1)
    {
      size_t mid = lo + (hi - lo) / 2;
      if (sf->line_starts[mid] <= off)
        lo = mid;
      else
        hi = mid;
    }
  /* The hint is a cache, not state: a lookup through a const srcfile may update it. */
  ((struct srcfile *) sf)->hint = lo;
  *line = (int) lo + 1;
  *col = (int) (off - sf->line_starts[lo]) + 1;
}

struct bale_span
srcfile_span (const struct srcfile *sf, size_t start, size_t end)
{
  struct bale_span s;

  srcfile_pos (sf, start, &s.line, &s.col);
  srcfile_pos (sf, end < start ? start : end, &s.end_line, &s.end_col);
  return s;
}

struct bale_loc
srcfile_loc (const struct srcfile *sf, const struct bale_span *span)
{
  struct bale_loc loc = { 0 };

  loc.file = sf->path;
  if (span == NULL || span->line <= 0)
    return loc;
  loc.line = span->line;
  loc.col = span->col;
  loc.end_line = span->end_line;
  loc.end_col = span->end_col;
  if ((size_t) span->line <= sf->n_lines)
    {
      size_t start = sf->line_starts[span->line - 1];
      size_t end = start;
      while (end < sf->len && sf->buf[end] != '\n' && sf->buf[end] != '\r')
        end++;
      loc.text = sf->buf + start;
      loc.text_len = end - start;
    }
  return loc;
}
