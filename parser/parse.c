/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bale_parse(): set up the scanner over a buffer, run the grammar, check the whole file. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parser/parser.h"
#include "parser/internal.h"
#include "lexer/lexer.h"
#include "parser/ast.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* A UTF-8 byte order mark is dropped from the start of the file (BuildKit's discardBOM). */
static size_t
bom_length (const char *buf, size_t len)
{
  return (len >= 3 && memcmp (buf, "\xef\xbb\xbf", 3) == 0) ? 3 : 0;
}

static void
finish (struct parser *p)
{
  struct bale_dockerfile *df = p->df;

  df->escape = p->lex.escape;
  df->warnings = p->lex.warnings;
  p->lex.warnings = NULL;
  if (df->n_nodes > 0)
    {
      df->span.line = df->nodes[0].span.line;
      df->span.col = df->nodes[0].span.col;
      df->span.end_line = df->nodes[df->n_nodes - 1].span.end_line;
      df->span.end_col = df->nodes[df->n_nodes - 1].span.end_col;
    }
}

/* Parse buf; the AST is returned even when errors were found, holding the instructions that
   parsed, so that validation can report their errors too. */
static struct bale_dockerfile *
parse_buffer (const char *path, const char *buf, size_t len, bale_error_t *errs)
{
  struct parser p = { 0 };
  YY_BUFFER_STATE yb;
  size_t bom = bom_length (buf, len);

  p.df = ast_dockerfile_new (path, buf, len);
  /* The srcfile points at the AST's own copy, so error locations stay valid with it. */
  srcfile_init (&p.sf, p.df->path, p.df->source, len);
  p.err = errs;
  lex_state_init (&p.lex, &p.sf, errs);
  p.lex.off = bom;
  lexyy_lex_init_extra (&p.lex, &p.scanner);
  yb = lexyy__scan_bytes (p.df->source + bom, (int) (len - bom), p.scanner);
  parser_run (&p);
  lexyy__delete_buffer (yb, p.scanner);
  lexyy_lex_destroy (p.scanner);
  finish (&p);
  if (*errs == NULL && p.df->n_nodes == 0)
    {
      struct bale_loc loc = { .file = p.df->path };
      bale_make_error_at (errs, &loc, "file with no instructions");
    }
  lex_state_release (&p.lex);
  srcfile_release (&p.sf);
  return p.df;
}

static int
compare_errors (const void *a, const void *b)
{
  const struct bale_error_s *x = *(const struct bale_error_s *const *) a;
  const struct bale_error_s *y = *(const struct bale_error_s *const *) b;

  if (x->line != y->line)
    return x->line < y->line ? -1 : 1;
  return (x->col > y->col) - (x->col < y->col);
}

/* Order a chain by position, so that parse and validation errors read top to bottom. */
static void
sort_errors (bale_error_t *chain)
{
  size_t n = (size_t) bale_error_count (*chain), i;
  struct bale_error_s **v, *e;

  if (n < 2)
    return;
  v = xcalloc (n, sizeof *v);
  for (i = 0, e = *chain; e; e = e->next)
    v[i++] = e;
  /* Insertion sort: stable, and the chain holds a few dozen errors at most. */
  for (i = 1; i < n; i++)
    {
      size_t j = i;
      e = v[i];
      while (j > 0 && compare_errors (&v[j - 1], &e) > 0)
        {
          v[j] = v[j - 1];
          j--;
        }
      v[j] = e;
    }
  for (i = 0; i + 1 < n; i++)
    v[i]->next = v[i + 1];
  v[n - 1]->next = NULL;
  *chain = v[0];
  /* Report at most LEX_MAX_ERRORS, the first ones in the file. */
  if (n > LEX_MAX_ERRORS)
    {
      bale_error_t rest = v[LEX_MAX_ERRORS - 1]->next;
      v[LEX_MAX_ERRORS - 1]->next = NULL;
      bale_error_release (&rest);
    }
  free (v);
}

/* Parse, and with check also validate; errors of both come in file order. */
static int
parse_common (const char *path, const char *buf, size_t len, bool check,
              struct bale_dockerfile **out, bale_error_t *err)
{
  bale_error_t errs = NULL;
  struct bale_dockerfile *df;

  if (len > INT_MAX)
    return bale_make_error (err, 0, "'%s' is too large", path);
  df = parse_buffer (path, buf, len, &errs);
  if (check && df->n_nodes > 0)
    bale_validate (df, &errs);
  if (errs)
    {
      sort_errors (&errs);
      bale_dockerfile_free (df);
      bale_error_join (err, &errs);
      return -1;
    }
  *out = df;
  return 0;
}

int
bale_parse (const char *path, const char *buf, size_t len, struct bale_dockerfile **out,
            bale_error_t *err)
{
  return parse_common (path, buf, len, false, out, err);
}

int
bale_parse_checked (const char *path, const char *buf, size_t len, struct bale_dockerfile **out,
                    bale_error_t *err)
{
  return parse_common (path, buf, len, true, out, err);
}

static int
load_file (const char *path, struct strbuf *sb, bale_error_t *err)
{
  cleanup_close int fd = -1;

  fd = strcmp (path, "-") == 0 ? dup (STDIN_FILENO) : open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open '%s'", path);
  return fileio_read_fd (fd, path, sb, err);
}

static const char *
display_name (const char *path)
{
  return strcmp (path, "-") == 0 ? "<stdin>" : path;
}

int
bale_parse_file (const char *path, struct bale_dockerfile **out, bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;

  if (load_file (path, &sb, err) < 0)
    return -1;
  return bale_parse (display_name (path), sb.buf, sb.len, out, err);
}

int
bale_parse_file_checked (const char *path, struct bale_dockerfile **out, bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;

  if (load_file (path, &sb, err) < 0)
    return -1;
  return bale_parse_checked (display_name (path), sb.buf, sb.len, out, err);
}
