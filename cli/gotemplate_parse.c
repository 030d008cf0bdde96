/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing Go templates (cli/gotemplate.h): text/template's grammar, the part of it that
   docker's --format users write; the rest is refused with its position. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/gotemplate.h"
#include "cli/gotemplate_ast.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct parser
{
  const char *text;
  const char *p;
  bool trim_next; /* the last action ended with " -}}" */
  bale_error_t *err;
};

enum stop
{
  STOP_EOF,
  STOP_END,
  STOP_ELSE,
  STOP_ELSE_IF,
  STOP_ELSE_WITH,
};

static struct gt_pipe *parse_pipe (struct parser *ps, bool in_parens);
static void pipe_free (struct gt_pipe *pipe);
static void list_free (struct gt_list *l);

int
gt_verror (bale_error_t *err, const char *text, int pos, const char *fmt, va_list ap)
{
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  int line = 1, col = 1, i;

  for (i = 0; i < pos && text[i]; i++)
    if (text[i] == '\n')
      line++, col = 1;
    else
      col++;
  strbuf_vaddf (&msg, fmt, ap);
  return bale_make_error (err, 0, "template: %d:%d: %s", line, col, msg.buf);
}

int
gt_error (bale_error_t *err, const char *text, int pos, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = gt_verror (err, text, pos, fmt, ap);
  va_end (ap);
  return ret;
}

static int fail (struct parser *ps, const char *at, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
fail (struct parser *ps, const char *at, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = gt_verror (ps->err, ps->text, (int) (at - ps->text), fmt, ap);
  va_end (ap);
  return ret;
}

static void
skip_space (struct parser *ps)
{
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
    ps->p++;
}

/* At the end of the action: "}}" or " -}}" (the trim marker needs the space before it). */
static bool
at_close (struct parser *ps)
{
  const char *q = ps->p;

  if (q[0] == '}' && q[1] == '}')
    return true;
  return q[0] == '-' && q[1] == '}' && q[2] == '}' && q > ps->text
         && strchr (" \t\n\r", q[-1]) != NULL;
}

static int
expect_close (struct parser *ps)
{
  skip_space (ps);
  if (!at_close (ps))
    return fail (ps, ps->p, "unexpected %s in action: want \"}}\"",
                 *ps->p ? "input" : "end of template");
  if (*ps->p == '-')
    ps->p++, ps->trim_next = true;
  ps->p += 2;
  return 0;
}

static bool
ident_char (char c)
{
  return isalnum ((unsigned char) c) || c == '_' || (unsigned char) c >= 0x80;
}

static char *
take_ident (struct parser *ps)
{
  const char *start = ps->p;

  while (ident_char (*ps->p))
    ps->p++;
  return xstrndup (start, (size_t) (ps->p - start));
}

/* The keyword at the start of an action, if any, without consuming it. */
static bool
keyword (struct parser *ps, const char *kw)
{
  size_t n = strlen (kw);

  return strncmp (ps->p, kw, n) == 0 && !ident_char (ps->p[n]);
}

/* A Go string literal: "…" with escapes, or `raw`. */
static int
parse_string (struct parser *ps, json_t **out)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  const char *start = ps->p;
  char quote = *ps->p++;

  for (; *ps->p != quote; ps->p++)
    {
      if (*ps->p == 0 || (quote == '"' && *ps->p == '\n'))
        return fail (ps, start, "unterminated %s", "quoted string");
      if (quote == '`' || *ps->p != '\\')
        {
          strbuf_addch (&sb, *ps->p);
          continue;
        }
      ps->p++;
      switch (*ps->p)
        {
        case 'n': strbuf_addch (&sb, '\n'); break;
        case 't': strbuf_addch (&sb, '\t'); break;
        case 'r': strbuf_addch (&sb, '\r'); break;
        case '\\': strbuf_addch (&sb, '\\'); break;
        case '"': strbuf_addch (&sb, '"'); break;
        case '\'': strbuf_addch (&sb, '\''); break;
        case 'a': strbuf_addch (&sb, '\a'); break;
        case 'b': strbuf_addch (&sb, '\b'); break;
        case 'f': strbuf_addch (&sb, '\f'); break;
        case 'v': strbuf_addch (&sb, '\v'); break;
        case 'x':
        case 'u':
        case 'U':
          {
            int digits = *ps->p == 'x' ? 2 : *ps->p == 'u' ? 4 : 8, i;
            uint32_t r = 0;
            char enc[4];

            for (i = 1; i <= digits; i++)
              {
                if (!isxdigit ((unsigned char) ps->p[i]))
                  return fail (ps, ps->p, "bad escape in %s", "quoted string");
                r = r * 16 + (uint32_t) (isdigit ((unsigned char) ps->p[i])
                                             ? ps->p[i] - '0'
                                             : (tolower ((unsigned char) ps->p[i]) - 'a' + 10));
              }
            ps->p += digits;
            if (digits == 2)
              strbuf_addch (&sb, (char) r);
            else
              strbuf_add (&sb, enc, utf8_encode (r, enc));
            break;
          }
        default: return fail (ps, ps->p - 1, "unknown escape sequence in %s", "quoted string");
        }
    }
  ps->p++;
  *out = json_stringn (sb.buf, sb.len);
  if (*out == NULL)
    return fail (ps, start, "%s is not valid UTF-8", "quoted string");
  return 0;
}

static int
parse_number (struct parser *ps, json_t **out)
{
  const char *start = ps->p;
  char *end;
  long long i;
  double d;

  errno = 0;
  i = strtoll (start, &end, 0);
  if (!ident_char (*end) && *end != '.' && errno == 0)
    {
      ps->p = end;
      *out = json_integer (i);
      return 0;
    }
  d = strtod (start, &end);
  if (end == start || ident_char (*end) || *end == '.')
    return fail (ps, start, "bad number syntax: %s", "number");
  ps->p = end;
  *out = json_real (d);
  return 0;
}

/* ".A.B" following a term (no space before the dot). */
static int
parse_chain (struct parser *ps, struct gt_arg *a)
{
  while (*ps->p == '.' && ident_char (ps->p[1]))
    {
      ps->p++;
      a->fields = xgrow_one (a->fields, a->n_fields, sizeof *a->fields);
      a->fields[a->n_fields++] = take_ident (ps);
    }
  if (*ps->p == '.')
    return fail (ps, ps->p, "unexpected %s after term", "\".\"");
  return 0;
}

static int
parse_operand (struct parser *ps, struct gt_arg *a)
{
  const char *start = ps->p;
  char c = *ps->p;

  a->pos = (int) (ps->p - ps->text);
  if (c == '.')
    {
      a->kind = GT_FIELD;
      if (!ident_char (ps->p[1]))
        ps->p++;
      return parse_chain (ps, a);
    }
  if (c == '$')
    {
      ps->p++;
      a->kind = GT_VAR;
      free (take_ident (ps));
      a->name = xstrndup (start, (size_t) (ps->p - start));
      return parse_chain (ps, a);
    }
  if (c == '"' || c == '`')
    {
      a->kind = GT_CONST;
      return parse_string (ps, &a->value);
    }
  if (c == '\'')
    return fail (ps, start, "%s are not supported by bale", "character constants");
  if (isdigit ((unsigned char) c) || ((c == '-' || c == '+') && isdigit ((unsigned char) ps->p[1])))
    {
      a->kind = GT_CONST;
      return parse_number (ps, &a->value);
    }
  if (c == '(')
    {
      ps->p++;
      a->kind = GT_PIPE;
      if ((a->pipe = parse_pipe (ps, true)) == NULL)
        return -1;
      return parse_chain (ps, a);
    }
  if (ident_char (c))
    {
      cleanup_free char *name = take_ident (ps);

      a->kind = GT_CONST;
      if (strcmp (name, "true") == 0 || strcmp (name, "false") == 0)
        a->value = json_boolean (name[0] == 't');
      else if (strcmp (name, "nil") == 0)
        a->value = json_null ();
      else
        {
          a->kind = GT_FUNC;
          a->fn = gt_func_find (name);
          if (a->fn < 0)
            return fail (ps, start, "function \"%s\" not defined", name);
          if (gt_funcs[a->fn].fn == NULL)
            return fail (ps, start, "function \"%s\" is not supported by bale", name);
          a->name = steal_pointer (&name);
        }
      return 0;
    }
  if (c == 0)
    return fail (ps, start, "unclosed action%s", "");
  return fail (ps, start, "unexpected \"%.1s\" in command", start);
}

static void
arg_release (struct gt_arg *a)
{
  size_t i;

  free (a->name);
  for (i = 0; i < a->n_fields; i++)
    free (a->fields[i]);
  free (a->fields);
  json_decref (a->value);
  if (a->pipe)
    pipe_free (a->pipe);
}

static void
pipe_free (struct gt_pipe *pipe)
{
  size_t i, j;

  for (i = 0; i < pipe->n_decl; i++)
    free (pipe->decl[i]);
  for (i = 0; i < pipe->n_cmds; i++)
    {
      for (j = 0; j < pipe->cmds[i].n_args; j++)
        arg_release (&pipe->cmds[i].args[j]);
      free (pipe->cmds[i].args);
    }
  free (pipe->cmds);
  free (pipe);
}

/* "$x :=", "$x =" or "$i, $e :=" at the start of a pipeline; nothing consumed otherwise. */
static void
parse_decl (struct parser *ps, struct gt_pipe *pipe)
{
  const char *save = ps->p;
  char *names[2] = { NULL, NULL };
  size_t n = 0;

  while (n < 2 && *ps->p == '$')
    {
      const char *start = ps->p++;

      free (take_ident (ps));
      names[n++] = xstrndup (start, (size_t) (ps->p - start));
      skip_space (ps);
      if (*ps->p != ',')
        break;
      ps->p++;
      skip_space (ps);
    }
  if (n > 0 && (strncmp (ps->p, ":=", 2) == 0 || (*ps->p == '=' && ps->p[1] != '=')))
    {
      pipe->assign = *ps->p == '=';
      ps->p += pipe->assign ? 1 : 2;
      pipe->decl[0] = names[0], pipe->decl[1] = names[1];
      pipe->n_decl = n;
      return;
    }
  free (names[0]), free (names[1]);
  ps->p = save;
}

static struct gt_pipe *
parse_pipe (struct parser *ps, bool in_parens)
{
  struct gt_pipe *pipe = xzalloc (sizeof *pipe);
  const char *start;

  skip_space (ps);
  start = ps->p;
  parse_decl (ps, pipe);
  for (;;)
    {
      struct gt_cmd *cmd;

      pipe->cmds = xgrow_one (pipe->cmds, pipe->n_cmds, sizeof *pipe->cmds);
      cmd = &pipe->cmds[pipe->n_cmds++];
      memset (cmd, 0, sizeof *cmd);
      for (;;)
        {
          skip_space (ps);
          if (*ps->p == '|' || (in_parens && *ps->p == ')') || (!in_parens && at_close (ps)))
            break;
          cmd->args = xgrow_one (cmd->args, cmd->n_args, sizeof *cmd->args);
          memset (&cmd->args[cmd->n_args], 0, sizeof *cmd->args);
          if (parse_operand (ps, &cmd->args[cmd->n_args++]) < 0)
            goto fail;
          if (*ps->p && !strchr (" \t\r\n|)", *ps->p) && !at_close (ps))
            {
              fail (ps, ps->p, "unexpected \"%.1s\" in operand", ps->p);
              goto fail;
            }
        }
      if (cmd->n_args == 0)
        {
          fail (ps, ps->p, "missing value for %s", pipe->n_cmds > 1 ? "command" : "pipeline");
          goto fail;
        }
      if (*ps->p != '|')
        break;
      ps->p++;
    }
  if (in_parens)
    ps->p++;
  (void) start;
  return pipe;
fail:
  pipe_free (pipe);
  return NULL;
}

static void
list_add (struct gt_list *l, struct gt_node *n)
{
  l->nodes = xgrow_one (l->nodes, l->n, sizeof *l->nodes);
  l->nodes[l->n++] = n;
}

static void
node_free (struct gt_node *n)
{
  free (n->text);
  if (n->pipe)
    pipe_free (n->pipe);
  list_free (&n->body);
  list_free (&n->alt);
  free (n);
}

static void
list_free (struct gt_list *l)
{
  size_t i;

  for (i = 0; i < l->n; i++)
    node_free (l->nodes[i]);
  free (l->nodes);
  l->nodes = NULL, l->n = 0;
}

static int parse_list (struct parser *ps, struct gt_list *l, enum stop *stop, int depth);

/* After "{{if pipeline}}" (or range, with): the body, an else branch, and the end. */
static int
parse_control (struct parser *ps, struct gt_node *n, int depth)
{
  enum stop stop;

  if ((n->pipe = parse_pipe (ps, false)) == NULL || expect_close (ps) < 0)
    return -1;
  if (parse_list (ps, &n->body, &stop, depth + 1) < 0)
    return -1;
  if (stop == STOP_EOF)
    return fail (ps, ps->p, "unexpected EOF%s", "");
  if (stop == STOP_ELSE_IF || stop == STOP_ELSE_WITH)
    {
      /* {{else if x}}…{{end}} is {{else}}{{if x}}…{{end}}{{end}}: the one end closes both. */
      struct gt_node *inner = xzalloc (sizeof *inner);

      inner->kind = stop == STOP_ELSE_IF ? GT_IF : GT_WITH;
      inner->pos = (int) (ps->p - ps->text);
      list_add (&n->alt, inner);
      return parse_control (ps, inner, depth);
    }
  if (stop == STOP_ELSE)
    {
      if (parse_list (ps, &n->alt, &stop, depth + 1) < 0)
        return -1;
      if (stop != STOP_END)
        return fail (ps, ps->p, "expected end; found %s", stop == STOP_EOF ? "EOF" : "else");
    }
  return 0;
}

/* One action, after "{{" and its trim marker; adds to l or sets *stop. */
static int
parse_action (struct parser *ps, struct gt_list *l, enum stop *stop, int depth)
{
  const char *start = ps->p;
  struct gt_node *n;
  static const char *const refused[] = { "define", "template", "block" };
  size_t i;

  skip_space (ps);
  if (strncmp (ps->p, "/*", 2) == 0)
    {
      const char *end = strstr (ps->p, "*/");

      if (end == NULL)
        return fail (ps, ps->p, "unclosed %s", "comment");
      ps->p = end + 2;
      return expect_close (ps);
    }
  for (i = 0; i < sizeof refused / sizeof refused[0]; i++)
    if (keyword (ps, refused[i]))
      return fail (ps, ps->p, "{{%s}} is not supported by bale", refused[i]);
  if (keyword (ps, "end") || keyword (ps, "else"))
    {
      bool is_end = keyword (ps, "end");

      if (depth == 0)
        return fail (ps, ps->p, "unexpected {{%s}}", is_end ? "end" : "else");
      ps->p += is_end ? 3 : 4;
      skip_space (ps);
      *stop = is_end ? STOP_END : STOP_ELSE;
      if (!is_end && (keyword (ps, "if") || keyword (ps, "with")))
        {
          *stop = keyword (ps, "if") ? STOP_ELSE_IF : STOP_ELSE_WITH;
          ps->p += *stop == STOP_ELSE_IF ? 2 : 4;
          return 0; /* parse_control reads the pipeline */
        }
      return expect_close (ps);
    }
  n = xzalloc (sizeof *n);
  n->pos = (int) (start - ps->text);
  list_add (l, n);
  if (keyword (ps, "if") || keyword (ps, "range") || keyword (ps, "with"))
    {
      n->kind = keyword (ps, "if") ? GT_IF : keyword (ps, "with") ? GT_WITH : GT_RANGE;
      ps->p += n->kind == GT_IF ? 2 : n->kind == GT_WITH ? 4 : 5;
      return parse_control (ps, n, depth);
    }
  if (keyword (ps, "break") || keyword (ps, "continue"))
    {
      n->kind = keyword (ps, "break") ? GT_BREAK : GT_CONTINUE;
      ps->p += n->kind == GT_BREAK ? 5 : 8;
      return expect_close (ps);
    }
  n->kind = GT_ACTION;
  if ((n->pipe = parse_pipe (ps, false)) == NULL)
    return -1;
  return expect_close (ps);
}

static int
parse_list (struct parser *ps, struct gt_list *l, enum stop *stop, int depth)
{
  *stop = STOP_EOF;
  while (*ps->p)
    {
      const char *open = strstr (ps->p, "{{");
      const char *end = open ? open : ps->p + strlen (ps->p);
      const char *from = ps->p;
      bool trim_before = open && open[2] == '-' && strchr (" \t\n\r", open[3]) && open[3];

      if (ps->trim_next)
        while (from < end && strchr (" \t\n\r", *from))
          from++;
      ps->trim_next = false;
      if (trim_before)
        while (end > from && strchr (" \t\n\r", end[-1]))
          end--;
      if (end > from)
        {
          struct gt_node *n = xzalloc (sizeof *n);

          n->kind = GT_TEXT;
          n->text = xstrndup (from, (size_t) (end - from));
          list_add (l, n);
        }
      if (open == NULL)
        {
          ps->p += strlen (ps->p);
          break;
        }
      ps->p = open + (trim_before ? 3 : 2);
      if (parse_action (ps, l, stop, depth) < 0)
        return -1;
      if (*stop != STOP_EOF)
        return 0;
    }
  return 0;
}

int
gotemplate_parse (const char *text, struct gotemplate **out, bale_error_t *err)
{
  struct gotemplate *t = xzalloc (sizeof *t);
  struct parser ps = { .err = err };
  enum stop stop;

  t->text = xstrdup (text);
  ps.text = ps.p = t->text;
  if (parse_list (&ps, &t->root, &stop, 0) < 0)
    {
      gotemplate_free (t);
      return -1;
    }
  *out = t;
  return 0;
}

void
gotemplate_free (struct gotemplate *t)
{
  if (t == NULL)
    return;
  list_free (&t->root);
  free (t->text);
  free (t);
}
