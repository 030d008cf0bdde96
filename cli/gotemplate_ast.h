/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parsed form of a Go template (cli/gotemplate.h), shared by its parser, executor and
   functions; nothing outside cli/gotemplate*.c includes it. */
#ifndef BALE_CLI_GOTEMPLATE_AST_H
#define BALE_CLI_GOTEMPLATE_AST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "bale.h"

struct strbuf;
struct gt_pipe;

enum gt_arg_kind
{
  GT_FIELD,  /* .A.B on dot; no fields: dot itself */
  GT_VAR,    /* $name.A.B */
  GT_CONST,  /* a string, number, bool or nil literal */
  GT_PIPE,   /* (pipeline).A.B */
  GT_FUNC,   /* a function name */
};

struct gt_arg
{
  enum gt_arg_kind kind;
  char *name;   /* GT_VAR: "$x"; GT_FUNC: the function */
  char **fields; /* the chain after the term */
  size_t n_fields;
  json_t *value; /* GT_CONST */
  struct gt_pipe *pipe;
  int fn;  /* GT_FUNC: index in gt_funcs */
  int pos; /* byte offset in the template, for errors */
};

struct gt_cmd
{
  struct gt_arg *args;
  size_t n_args;
};

struct gt_pipe
{
  char *decl[2]; /* "$i", "$e" */
  size_t n_decl;
  bool assign; /* "=" rather than ":=" */
  struct gt_cmd *cmds;
  size_t n_cmds;
};

enum gt_node_kind
{
  GT_TEXT,
  GT_ACTION,
  GT_IF,
  GT_RANGE,
  GT_WITH,
  GT_BREAK,
  GT_CONTINUE,
};

struct gt_list
{
  struct gt_node **nodes;
  size_t n;
};

struct gt_node
{
  enum gt_node_kind kind;
  char *text; /* GT_TEXT */
  struct gt_pipe *pipe;
  struct gt_list body, alt; /* alt: the else branch */
  int pos;
};

struct gotemplate
{
  char *text;
  struct gt_list root;
};

/* Function table: name, argument count (-1: variadic, at least min), implementation. */
struct gt_call
{
  json_t **argv;
  size_t argc;
  bool header;
  bale_error_t *err;
  const char *text;
  int pos;
};
typedef json_t *(*gt_fn) (struct gt_call *c);
struct gt_func
{
  const char *name;
  int min, max; /* max -1: any number */
  gt_fn fn;     /* NULL: Go has it, bale does not */
  bool header_identity; /* docker's own: returns its first argument in a table header */
};
extern const struct gt_func gt_funcs[];
int gt_func_find (const char *name);

/* fmt's %v of a JSON value, as Go prints the map docker's template falls back to. */
void gt_print_value (struct strbuf *out, const json_t *v, bool top);
/* text/template's truth: false, 0, "", empty array and object, and null are false. */
bool gt_truth (const json_t *v);
/* A located error: "template: LINE:COL: msg", pos a byte offset in text. */
int gt_error (bale_error_t *err, const char *text, int pos, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
int gt_verror (bale_error_t *err, const char *text, int pos, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 4, 0)));

#endif
