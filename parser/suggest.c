/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Nearest-word suggestions for unknown instructions and flags. */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "parser/suggest.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* Optimal string alignment distance; words longer than 64 bytes are never suggested for. */
static size_t
distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b), i, j;
  size_t d[65][65];

  if (la > 64 || lb > 64)
    return (size_t) -1;
  for (i = 0; i <= la; i++)
    d[i][0] = i;
  for (j = 0; j <= lb; j++)
    d[0][j] = j;
  for (i = 1; i <= la; i++)
    for (j = 1; j <= lb; j++)
      {
        size_t cost = tolower ((unsigned char) a[i - 1]) != tolower ((unsigned char) b[j - 1]);
        size_t best = d[i - 1][j] + 1;
        if (d[i][j - 1] + 1 < best)
          best = d[i][j - 1] + 1;
        if (d[i - 1][j - 1] + cost < best)
          best = d[i - 1][j - 1] + cost;
        if (i > 1 && j > 1 && tolower ((unsigned char) a[i - 1]) == tolower ((unsigned char) b[j - 2])
            && tolower ((unsigned char) a[i - 2]) == tolower ((unsigned char) b[j - 1])
            && d[i - 2][j - 2] + 1 < best)
          best = d[i - 2][j - 2] + 1;
        d[i][j] = best;
      }
  return d[la][lb];
}

const char *
suggest_closest (const char *word, const char *const *candidates, size_t n)
{
  const char *best = NULL;
  size_t best_d = (size_t) -1, i, len = strlen (word);
  /* Up to two edits in short words, a third of the length plus one in longer ones. */
  size_t limit = len <= 3 ? 2 : len / 3 + 1;

  if (len < 2)
    return NULL;
  for (i = 0; i < n; i++)
    {
      size_t dd = distance (word, candidates[i]);
      if (dd < best_d)
        {
          best_d = dd;
          best = candidates[i];
        }
    }
  return best_d <= limit ? best : NULL;
}
