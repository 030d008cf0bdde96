/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AST construction and destruction. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser/ast.h"
#include "common/xalloc.h"
#include "common/banned.h"

static const char *const instr_names[] = {
  [BALE_I_UNKNOWN] = "",
  [BALE_I_ADD] = "ADD",
  [BALE_I_ARG] = "ARG",
  [BALE_I_CMD] = "CMD",
  [BALE_I_COPY] = "COPY",
  [BALE_I_ENTRYPOINT] = "ENTRYPOINT",
  [BALE_I_ENV] = "ENV",
  [BALE_I_EXPOSE] = "EXPOSE",
  [BALE_I_FROM] = "FROM",
  [BALE_I_HEALTHCHECK] = "HEALTHCHECK",
  [BALE_I_LABEL] = "LABEL",
  [BALE_I_MAINTAINER] = "MAINTAINER",
  [BALE_I_ONBUILD] = "ONBUILD",
  [BALE_I_RUN] = "RUN",
  [BALE_I_SHELL] = "SHELL",
  [BALE_I_STOPSIGNAL] = "STOPSIGNAL",
  [BALE_I_USER] = "USER",
  [BALE_I_VOLUME] = "VOLUME",
  [BALE_I_WORKDIR] = "WORKDIR",
};

const char *
bale_instr_name (enum bale_instr kind)
{
  if ((size_t) kind >= sizeof instr_names / sizeof instr_names[0])
    return "";
  return instr_names[kind];
}

enum bale_instr
ast_instr_lookup (const char *keyword)
{
  size_t i;
  int c = *keyword & ~0x20; /* ASCII upper case */

  for (i = 1; i < sizeof instr_names / sizeof instr_names[0]; i++)
    if (instr_names[i][0] == c && strcasecmp (keyword, instr_names[i]) == 0)
      return (enum bale_instr) i;
  return BALE_I_UNKNOWN;
}

struct bale_node *
ast_node_new (const char *keyword, struct bale_span keyword_span)
{
  struct bale_node *n = xzalloc (sizeof *n);

  n->keyword = xstrdup (keyword);
  n->kind = ast_instr_lookup (keyword);
  n->keyword_span = keyword_span;
  n->span = keyword_span;
  return n;
}

void
ast_node_clear (struct bale_node *n)
{
  size_t i;

  if (n == NULL)
    return;
  free (n->keyword);
  free (n->original);
  free (n->rest);
  for (i = 0; i < n->n_flags; i++)
    {
      free (n->flags[i].raw);
      free (n->flags[i].name);
      free (n->flags[i].value);
    }
  free (n->flags);
  for (i = 0; i < n->n_args; i++)
    free (n->args[i].value);
  free (n->args);
  ast_node_free (n->sub);
  for (i = 0; i < n->n_heredocs; i++)
    {
      free (n->heredocs[i].name);
      free (n->heredocs[i].content);
    }
  free (n->heredocs);
  for (i = 0; i < n->n_comments; i++)
    free (n->comments[i]);
  free (n->comments);
  memset (n, 0, sizeof *n);
}

void
ast_node_free (struct bale_node *n)
{
  ast_node_clear (n);
  free (n);
}

void
ast_node_add_arg (struct bale_node *n, const char *value, size_t len, struct bale_span span)
{
  /* Grow at powers of two: the node keeps no capacity field. */
  if ((n->n_args & (n->n_args - 1)) == 0)
    n->args = xrealloc (n->args, (n->n_args ? 2 * n->n_args : 1) * sizeof *n->args);
  n->args[n->n_args].value = xmemdup0 (value, len);
  n->args[n->n_args].len = len;
  n->args[n->n_args].span = span;
  n->n_args++;
}

void
ast_node_add_flag (struct bale_node *n, const char *raw, size_t len, struct bale_span span)
{
  struct bale_flag *f;
  const char *name = raw, *eq;

  n->flags = xrealloc (n->flags, (n->n_flags + 1) * sizeof *n->flags);
  f = &n->flags[n->n_flags++];
  f->raw = xmemdup0 (raw, len);
  f->span = span;
  while (name < raw + len && *name == '-')
    name++;
  eq = memchr (name, '=', (size_t) (raw + len - name));
  f->name = xmemdup0 (name, (size_t) ((eq ? eq : raw + len) - name));
  f->value = eq ? xmemdup0 (eq + 1, (size_t) (raw + len - eq - 1)) : NULL;
}

struct bale_dockerfile *
ast_dockerfile_new (const char *path, const char *buf, size_t len)
{
  struct bale_dockerfile *df = xzalloc (sizeof *df);

  df->path = xstrdup (path);
  df->source = xmemdup0 (buf, len);
  df->source_len = len;
  df->escape = '\\';
  return df;
}

void
ast_dockerfile_take_node (struct bale_dockerfile *df, struct bale_node *n)
{
  df->nodes = xgrow_one (df->nodes, df->n_nodes, sizeof *df->nodes);
  df->nodes[df->n_nodes++] = *n;
  free (n);
}

void
ast_dockerfile_add_directive (struct bale_dockerfile *df, const char *name, const char *value,
                              struct bale_span span)
{
  struct bale_directive *d;

  df->directives = xrealloc (df->directives, (df->n_directives + 1) * sizeof *df->directives);
  d = &df->directives[df->n_directives++];
  d->name = xstrdup (name);
  d->value = xstrdup (value);
  d->span = span;
}

void
bale_dockerfile_free (struct bale_dockerfile *df)
{
  size_t i;

  if (df == NULL)
    return;
  for (i = 0; i < df->n_nodes; i++)
    ast_node_clear (&df->nodes[i]);
  free (df->nodes);
  for (i = 0; i < df->n_directives; i++)
    {
      free (df->directives[i].name);
      free (df->directives[i].value);
    }
  free (df->directives);
  bale_error_release (&df->warnings);
  free (df->path);
  free (df->source);
  free (df);
}

const struct bale_flag *
ast_flag_get (const struct bale_node *n, const char *name)
{
  size_t i;
  for (i = n->n_flags; i > 0; i--)
    if (strcmp (n->flags[i - 1].name, name) == 0)
      return &n->flags[i - 1];
  return NULL;
}

const char *
ast_flag_value (const struct bale_node *n, const char *name)
{
  const struct bale_flag *f = ast_flag_get (n, name);
  return f ? f->value : NULL;
}
