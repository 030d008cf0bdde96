/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The scanner's state and tokens. The flex scanner (lexer.l) reads physical lines and applies
 * BuildKit's line rules (directives, comments, continuations, heredoc bodies); lexline.c holds
 * the logical-line helpers it calls (continuation test, keyword/flag split) so they stay
 * testable on their own.
 */
#ifndef BALE_LEX_H
#define BALE_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "bale.h"
#include "common/srcfile.h"
#include "common/strbuf.h"

/* BuildKit's bufio.Scanner limit: a longer physical line is an error. */
#define LEX_MAX_LINE 65535
/* Stop after this many errors in one file. */
#define LEX_MAX_ERRORS 20

/* A piece of a logical line and where it came from in the source. */
struct lex_seg
{
  size_t loff; /* offset in the logical line */
  size_t src;  /* offset in the source */
};

/* A logical line: continuation lines joined, comment lines dropped. Reference counted, since
   every token of the instruction points into it. */
struct lex_line
{
  int refs;
  struct strbuf text;
  struct lex_seg *segs;
  size_t n_segs, alloc_segs;
  size_t src_start, src_end; /* the physical lines it spans, newlines excluded */
};

struct lex_line *lex_line_new (size_t src_start);
struct lex_line *lex_line_ref (struct lex_line *l);
void lex_line_unref (struct lex_line *l);
void lex_line_append (struct lex_line *l, const char *p, size_t n, size_t src);
/* The source offset of logical offset loff (loff may equal the text length). */
size_t lex_line_src (const struct lex_line *l, size_t loff);

/*
 * BuildKit's trimContinuationCharacter: the regex `([^E])E[ \t]*$|^E[ \t]*$` with E the escape
 * character. Returns true when the line continues, and then shortens *len to drop the escape
 * and the blanks after it.
 */
bool lex_trim_continuation (const char *s, size_t *len, char escape);

enum lex_tok_kind
{
  LEX_TOK_KEYWORD,
  LEX_TOK_FLAG,
  LEX_TOK_ARGS,
  LEX_TOK_HEREDOC,
  LEX_TOK_DIRECTIVE,
};

/* A token's semantic value. text is owned; line is a reference (NULL for directives). */
struct lex_tok
{
  enum lex_tok_kind kind;
  char *text; /* keyword, flag word, argument text, or directive value */
  size_t len;
  size_t loff; /* offset of the token in its logical line */
  size_t lend; /* end offset in the logical line */
  size_t src_start, src_end; /* where the token is in the source */
  struct lex_line *line;
  char *name;  /* directive name, lowercased */
  struct bale_heredoc heredoc; /* LEX_TOK_HEREDOC: owns name and content */
  char **comments;             /* LEX_TOK_KEYWORD: the comments above the instruction */
  size_t n_comments;
};

void lex_tok_free (struct lex_tok *t);

/* Split a logical line as BuildKit's splitCommand + extractBuilderFlags do, queueing tokens. */
struct lex_state;
void lex_split_instruction (struct lex_state *st, struct lex_line *line, size_t loff, size_t len);

struct lex_queued
{
  int token;
  struct lex_tok *tok;
  size_t start, end; /* source offsets */
};

struct lex_pending_heredoc
{
  struct bale_heredoc hd;
};

struct lex_state
{
  const struct srcfile *sf;
  size_t off; /* source offset of the next byte the scanner reads */
  char escape;
  bool directives_done;
  bool seen_syntax, seen_escape, seen_check;
  bool stopped; /* too many errors, or a line over LEX_MAX_LINE */

  /* the instruction being assembled */
  struct lex_line *cur;
  bool empty_continuation;
  char **comments;
  size_t n_comments, alloc_comments;

  /* heredoc bodies still to read for the current instruction */
  struct bale_heredoc *heredocs;
  size_t n_heredocs, i_heredoc;
  struct strbuf body;
  size_t body_start;
  size_t instr_start; /* source offset of the instruction, for heredoc errors */
  size_t last_end;    /* end of the last heredoc terminator, newline excluded */

  /* tokens waiting for the parser */
  struct lex_queued *queue;
  size_t q_head, q_len, q_alloc;

  bale_error_t *err;
  bale_error_t warnings;
};

void lex_state_init (struct lex_state *st, const struct srcfile *sf, bale_error_t *err);
void lex_state_release (struct lex_state *st);
void lex_push (struct lex_state *st, int token, struct lex_tok *tok, size_t start, size_t end);
bool lex_pop (struct lex_state *st, struct lex_queued *out);
/* Record an error at source offsets [start, end). */
void lex_error (struct lex_state *st, size_t start, size_t end, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
void lex_warning (struct lex_state *st, size_t start, size_t end, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/* Classify the current physical line (scanner actions call these; see lexer.l). */
void lex_comment_line (struct lex_state *st, const char *text, size_t len, size_t start);
void lex_blank_line (struct lex_state *st);
/* Returns true when the instruction continues on the next line. */
bool lex_instruction_line (struct lex_state *st, const char *text, size_t len, size_t start);
bool lex_continuation_line (struct lex_state *st, const char *text, size_t len, size_t start);
/* A comment line inside a continuation: skipped, but inside the instruction's span. */
void lex_continuation_comment (struct lex_state *st, const char *text, size_t len, size_t start);
/* The instruction is complete: queue its tokens. Returns true when heredoc bodies follow. */
bool lex_finish_instruction (struct lex_state *st);
/* A heredoc body line. Returns true when every body has been read. */
bool lex_heredoc_line (struct lex_state *st, const char *text, size_t len, size_t start);
void lex_heredoc_eof (struct lex_state *st);
/* Whether the physical line text[0..len) (its '\n' included, if any) is within BuildKit's
   limit; else a located error, and the scanner stops. */
bool lex_check_length (struct lex_state *st, const char *text, size_t len, size_t start);

#endif
