/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Dockerfile grammar. The scanner has already applied the line rules, so a file is a run
 * of parser directives followed by instructions, each a keyword, its flags, its argument text
 * and its heredoc bodies; ONBUILD nests one instruction. Argument text is split per keyword
 * in args.c (BuildKit's dispatch table). Semantic errors are reported with FAIL and parsing
 * goes on with the next instruction, so one run reports every bad line.
 */
%code requires {
#include <stddef.h>
#include "bale.h"
#include "lexer/lex.h"

struct parser;

/* Locations are byte offsets; common/srcfile.c maps them to lines and columns. */
typedef struct
{
  size_t start, end;
} YYLTYPE;
#define YYLTYPE_IS_DECLARED 1


#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                           \
  do                                                                                          \
    {                                                                                         \
      if (N)                                                                                  \
        {                                                                                     \
          (Cur).start = YYRHSLOC (Rhs, 1).start;                                              \
          (Cur).end = YYRHSLOC (Rhs, N).end;                                                  \
        }                                                                                     \
      else                                                                                    \
        (Cur).start = (Cur).end = YYRHSLOC (Rhs, 0).end;                                      \
    }                                                                                         \
  while (0)

struct tok_list
{
  struct lex_tok **toks;
  size_t n;
};
}

%code provides {
int parser_run (struct parser *p);
}

%code {
#include <stdlib.h>
#include <string.h>

#include "parser/ast.h"
#include "parser/args.h"
#include "parser/internal.h"
#include "common/error.h"
#include "common/xalloc.h"

static int yylex (YYSTYPE *lval, YYLTYPE *lloc, struct parser *p);
static void yyerror (YYLTYPE *loc, struct parser *p, const char *msg);
static struct tok_list *tok_list_append (struct tok_list *l, struct lex_tok *t);
static void tok_list_free (struct tok_list *l);
static struct bale_node *make_node (struct parser *p, struct lex_tok *kw, struct tok_list *flags,
                                    struct lex_tok *args);
static struct bale_node *make_onbuild (struct parser *p, struct bale_node *n, struct bale_node *sub);
static void add_instruction (struct parser *p, struct bale_node *n, struct tok_list *heredocs,
                             const YYLTYPE *loc);
static void add_directive (struct parser *p, struct lex_tok *d, const YYLTYPE *loc);
}

%define api.pure full
%locations
%define parse.error detailed
%define parse.lac full
%param {struct parser *p}
%expect 0

%union {
  struct lex_tok *tok;
  struct bale_node *node;
  struct tok_list *list;
}

%token <tok> T_DIRECTIVE "parser directive"
%token <tok> T_KEYWORD "instruction"
%token <tok> T_ONBUILD "ONBUILD"
%token <tok> T_FLAG "flag"
%token <tok> T_ARGS "arguments"
%token <tok> T_HEREDOC "heredoc body"
%token T_EOL "end of instruction"

%type <node> command
%type <list> flags heredocs
%type <tok> args

%destructor { lex_tok_free ($$); } <tok>
%destructor { ast_node_free ($$); } <node>
%destructor { tok_list_free ($$); } <list>

%%

dockerfile:
  directives instructions
;

directives:
  %empty
| directives T_DIRECTIVE                { add_directive (p, $2, &@2); }
;

instructions:
  %empty
| instructions instruction
| instructions error T_EOL              { yyerrok; }
;

instruction:
  command heredocs T_EOL                { add_instruction (p, $1, $2, &@$); }
;

command:
  T_KEYWORD flags args                  { $$ = make_node (p, $1, $2, $3); }
| T_ONBUILD flags                       { $$ = make_node (p, $1, $2, NULL); }
| T_ONBUILD flags command               { $$ = make_onbuild (p, make_node (p, $1, $2, NULL), $3); }
;

flags:
  %empty                                { $$ = NULL; }
| flags T_FLAG                          { $$ = tok_list_append ($1, $2); }
;

args:
  %empty                                { $$ = NULL; }
| T_ARGS                                { $$ = $1; }
;

heredocs:
  %empty                                { $$ = NULL; }
| heredocs T_HEREDOC                    { $$ = tok_list_append ($1, $2); }
;

%%

static int
yylex (YYSTYPE *lval, YYLTYPE *lloc, struct parser *p)
{
  struct lex_queued q;

  for (;;)
    {
      if (lex_pop (&p->lex, &q))
        {
          lval->tok = q.tok;
          lloc->start = q.start;
          lloc->end = q.end;
          return q.token;
        }
      if (p->eof || p->lex.stopped)
        return YYEOF;
      if (lexyy_lex (lval, lloc, p->scanner) == 0)
        p->eof = true;
    }
}

static struct bale_span
span_of (struct parser *p, size_t start, size_t end)
{
  return srcfile_span (&p->sf, start, end);
}

/* Report a semantic error at source offsets [start, end); parsing goes on. */
#define FAIL(start, end, ...)                                                                 \
  do                                                                                          \
    {                                                                                         \
      struct bale_span fail_span_ = span_of (p, (start), (end));                              \
      struct bale_loc fail_loc_ = srcfile_loc (&p->sf, &fail_span_);                          \
      bale_make_error_at (p->err, &fail_loc_, __VA_ARGS__);                                   \
    }                                                                                         \
  while (0)

static void
yyerror (YYLTYPE *loc, struct parser *p, const char *msg)
{
  FAIL (loc->start, loc->end, "%s", msg);
}

static struct tok_list *
tok_list_append (struct tok_list *l, struct lex_tok *t)
{
  if (l == NULL)
    l = xzalloc (sizeof *l);
  l->toks = xrealloc (l->toks, (l->n + 1) * sizeof *l->toks);
  l->toks[l->n++] = t;
  return l;
}

static void
tok_list_free (struct tok_list *l)
{
  size_t i;

  if (l == NULL)
    return;
  for (i = 0; i < l->n; i++)
    lex_tok_free (l->toks[i]);
  free (l->toks);
  free (l);
}

static struct bale_span
tok_span (struct parser *p, const struct lex_tok *t)
{
  size_t s = lex_line_src (t->line, t->loff);
  size_t e = t->lend > t->loff ? lex_line_src (t->line, t->lend - 1) + 1 : s;
  return span_of (p, s, e);
}

static void
take_flags (struct parser *p, struct bale_node *n, struct tok_list *flags)
{
  size_t i;

  for (i = 0; flags && i < flags->n; i++)
    ast_node_add_flag (n, flags->toks[i]->text, flags->toks[i]->len, tok_span (p, flags->toks[i]));
  tok_list_free (flags);
}

static struct bale_node *
make_node (struct parser *p, struct lex_tok *kw, struct tok_list *flags, struct lex_tok *args)
{
  struct bale_node *n = ast_node_new (kw->text, tok_span (p, kw));
  const struct lex_line *line = kw->line;
  struct args_ctx ctx = { &p->sf, line, args ? args->loff : line->text.len, p->lex.escape };
  int ret;

  n->original = xmemdup0 (line->text.buf + kw->loff, line->text.len - kw->loff);
  n->rest = args ? xmemdup0 (args->text, args->len) : xstrdup ("");
  n->comments = kw->comments;
  n->n_comments = kw->n_comments;
  kw->comments = NULL;
  kw->n_comments = 0;
  take_flags (p, n, flags);
  ret = args_parse (n, n->rest, strlen (n->rest), &ctx, p->err);
  n->span = span_of (p, lex_line_src (line, kw->loff), line->src_end);
  lex_tok_free (kw);
  lex_tok_free (args);
  if (bale_error_count (*p->err) >= LEX_MAX_ERRORS)
    p->lex.stopped = true;
  if (ret < 0)
    {
      ast_node_free (n);
      return NULL;
    }
  return n;
}

static struct bale_node *
make_onbuild (struct parser *p, struct bale_node *n, struct bale_node *sub)
{
  if (n == NULL || sub == NULL)
    {
      ast_node_free (n);
      ast_node_free (sub);
      return NULL;
    }
  free (n->rest);
  n->rest = xstrdup (sub->original);
  n->sub = sub;
  return n;
}

static void
add_instruction (struct parser *p, struct bale_node *n, struct tok_list *heredocs, const YYLTYPE *loc)
{
  size_t i;

  if (n == NULL)
    {
      tok_list_free (heredocs);
      return;
    }
  if (heredocs && heredocs->n > 0)
    {
      n->heredocs = xcalloc (heredocs->n, sizeof *n->heredocs);
      for (i = 0; i < heredocs->n; i++)
        {
          struct lex_tok *t = heredocs->toks[i];
          n->heredocs[i] = t->heredoc;
          memset (&t->heredoc, 0, sizeof t->heredoc);
          n->heredocs[i].span = span_of (p, t->src_start, t->src_end);
        }
      n->n_heredocs = heredocs->n;
      struct bale_span end = span_of (p, loc->end, loc->end);
      n->span.end_line = end.line;
      n->span.end_col = end.col;
    }
  tok_list_free (heredocs);
  ast_dockerfile_take_node (p->df, n);
}

static void
add_directive (struct parser *p, struct lex_tok *d, const YYLTYPE *loc)
{
  ast_dockerfile_add_directive (p->df, d->name, d->text, span_of (p, loc->start, loc->end));
  lex_tok_free (d);
}

int
parser_run (struct parser *p)
{
  return yyparse (p);
}
