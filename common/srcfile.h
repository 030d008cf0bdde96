/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A source file and its line map: byte offsets to 1-based lines and columns (after jq's locfile). */
#ifndef BALE_SRCFILE_H
#define BALE_SRCFILE_H

#include <stddef.h>

#include "bale.h"

struct srcfile
{
  const char *path; /* borrowed */
  const char *buf;  /* borrowed */
  size_t len;
  size_t *line_starts; /* offset of the first byte of each line */
  size_t n_lines;
  size_t hint; /* the line of the last lookup: lookups mostly move forward a little */
};

void srcfile_init (struct srcfile *sf, const char *path, const char *buf, size_t len);
void srcfile_release (struct srcfile *sf);
/* The 1-based line and byte column of offset off (off may equal len). */
void srcfile_pos (const struct srcfile *sf, size_t off, int *line, int *col);
/* The span from offset start to offset end (exclusive). */
struct bale_span srcfile_span (const struct srcfile *sf, size_t start, size_t end);
/* A location for an error at span, with the text of its first line for the caret. */
struct bale_loc srcfile_loc (const struct srcfile *sf, const struct bale_span *span);

#endif
