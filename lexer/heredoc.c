/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Heredoc markers: which words of an instruction start a heredoc, and what they are called. */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/heredoc.h"
#include "lexer/words.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

static void
free_words (char **w, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    free (w[i]);
  free (w);
}

static size_t
count_quotes (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += (*s == '\'' || *s == '"');
  return n;
}

/* Split rest with and without raw quotes (heredocFromMatch). A quote anywhere in the
   delimiter turns expansion of the body off. */
static int
parse_name (const char *rest, struct bale_heredoc *hd, bale_error_t *err)
{
  struct words_lex lx = words_lex_default ('\\');
  struct words_env env = { 0 };
  char **words = NULL, **raw = NULL;
  size_t n = 0, n_raw = 0;
  int ret;

  lx.skip_unset_env = true;
  if (words_process_words (&lx, rest, strlen (rest), &env, &words, &n, err) < 0)
    return -1;
  if (n != 1)
    {
      free_words (words, n);
      return 0;
    }
  lx.raw_quotes = true;
  ret = words_process_words (&lx, rest, strlen (rest), &env, &raw, &n_raw, err);
  if (ret < 0 || n_raw != 1)
    {
      free_words (words, n);
      free_words (raw, n_raw);
      return ret < 0 ? -1 : bale_make_error (err, 0, "internal lexing of heredoc produced inconsistent results: %s", rest);
    }
  hd->expand = count_quotes (words[0]) == count_quotes (raw[0]);
  hd->name = steal_pointer (&words[0]);
  free_words (words, n);
  free_words (raw, n_raw);
  return 1;
}

int
heredoc_parse_word (const char *word, struct bale_heredoc *hd, bale_error_t *err)
{
  const char *p = word, *digits = word;
  unsigned long fd = 0;

  /* ^(\d*)<<(-?)\s*([^<]*)$ */
  while (isdigit ((unsigned char) *p))
    p++;
  if (p[0] != '<' || p[1] != '<')
    return 0;
  if (p > digits)
    fd = strtoul (digits, NULL, 10);
  p += 2;
  memset (hd, 0, sizeof *hd);
  hd->chomp = *p == '-';
  if (hd->chomp)
    p++;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\f' || *p == '\r')
    p++;
  if (*p == '\0' || strchr (p, '<') != NULL)
    return 0;
  hd->fd = (unsigned) fd;
  return parse_name (p, hd, err);
}

int
heredoc_from_line (const char *line, size_t len, struct bale_heredoc **out, size_t *n,
                   bale_error_t *err)
{
  struct words_lex lx = words_lex_default ('\\');
  struct words_env env = { 0 };
  bale_error_t ignored = NULL;
  struct bale_heredoc *docs = NULL;
  size_t n_docs = 0, alloc = 0, n_words = 0, i;
  char **words = NULL;

  *out = NULL;
  *n = 0;
  lx.raw_quotes = lx.raw_escapes = lx.skip_unset_env = true;
  /* BuildKit ignores a lexing error of the whole line: such a line has no heredocs. */
  if (words_process_words (&lx, line, len, &env, &words, &n_words, &ignored) < 0)
    {
      bale_error_release (&ignored);
      return 0;
    }
  for (i = 0; i < n_words; i++)
    {
      struct bale_heredoc hd;
      int r = heredoc_parse_word (words[i], &hd, err);
      if (r < 0)
        break;
      if (r == 0)
        continue;
      XGROW (docs, alloc, n_docs + 1);
      docs[n_docs++] = hd;
    }
  free_words (words, n_words);
  if (i < n_words)
    {
      for (i = 0; i < n_docs; i++)
        free (docs[i].name);
      free (docs);
      return -1;
    }
  *out = docs;
  *n = n_docs;
  return 0;
}
