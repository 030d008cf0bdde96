/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running a parsed Go template (cli/gotemplate.h) on a JSON value, as text/template runs
   docker's templates on the map form of its objects. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/gotemplate.h"
#include "cli/gotemplate_ast.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct var
{
  const char *name;
  json_t *value; /* owned */
};

struct exec
{
  const struct gotemplate *t;
  struct strbuf *out;
  bool header;
  struct var *vars;
  size_t n_vars;
  bale_error_t *err;
  enum { FLOW_NEXT, FLOW_BREAK, FLOW_CONTINUE } flow;
};

static json_t *eval_pipe (struct exec *ex, const struct gt_pipe *pipe, json_t *dot);
static int exec_list (struct exec *ex, const struct gt_list *l, json_t *dot);

bool
gt_truth (const json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_STRING: return json_string_length (v) > 0;
    case JSON_INTEGER: return json_integer_value (v) != 0;
    case JSON_REAL: return json_real_value (v) != 0;
    case JSON_TRUE: return true;
    case JSON_ARRAY: return json_array_size (v) > 0;
    case JSON_OBJECT: return json_object_size (v) > 0;
    default: return false;
    }
}

/* fmt's %v of a float64: the shortest digits that read back, in %e form when the exponent
   is below -4 or at least 6 (strconv's 'g' with shortest precision, as %v uses). */
static void
print_real (struct strbuf *out, double d)
{
  char buf[64];
  int prec, exp;

  if (isinf (d) || isnan (d))
    {
      strbuf_addstr (out, isnan (d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
      return;
    }
  for (prec = 1; prec < 17; prec++)
    {
      snprintf (buf, sizeof buf, "%.*e", prec - 1, d);
      if (strtod (buf, NULL) == d)
        break;
    }
  snprintf (buf, sizeof buf, "%.*e", prec - 1, d);
  exp = atoi (strchr (buf, 'e') + 1);
  if (exp < -4 || exp >= 6)
    strbuf_addstr (out, buf);
  else
    strbuf_addf (out, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
gt_print_value (struct strbuf *out, const json_t *v, bool top)
{
  size_t i;

  switch (json_typeof (v))
    {
    case JSON_STRING: strbuf_add (out, json_string_value (v), json_string_length (v)); break;
    case JSON_INTEGER: strbuf_addf (out, "%" JSON_INTEGER_FORMAT, json_integer_value (v)); break;
    case JSON_REAL: print_real (out, json_real_value (v)); break;
    case JSON_TRUE: strbuf_addstr (out, "true"); break;
    case JSON_FALSE: strbuf_addstr (out, "false"); break;
    case JSON_NULL: strbuf_addstr (out, top ? "<no value>" : "<nil>"); break;
    case JSON_ARRAY:
      strbuf_addch (out, '[');
      for (i = 0; i < json_array_size (v); i++)
        {
          if (i)
            strbuf_addch (out, ' ');
          gt_print_value (out, json_array_get (v, i), false);
        }
      strbuf_addch (out, ']');
      break;
    case JSON_OBJECT:
      {
        /* Docker's empty objects inside maps are struct{} (ExposedPorts, Volumes): "{}". */
        const char **keys = xcalloc (json_object_size (v) + 1, sizeof *keys);
        const char *k;
        json_t *e;
        size_t n = 0;

        if (!top && json_object_size (v) == 0)
          {
            strbuf_addstr (out, "{}");
            free (keys);
            break;
          }
        json_object_foreach ((json_t *) v, k, e)
          keys[n++] = k;
        qsort (keys, n, sizeof *keys, compare_keys);
        strbuf_addstr (out, "map[");
        for (i = 0; i < n; i++)
          {
            strbuf_addf (out, "%s%s:", i ? " " : "", keys[i]);
            gt_print_value (out, json_object_get (v, keys[i]), false);
          }
        strbuf_addch (out, ']');
        free (keys);
        break;
      }
    }
}

static const char *
type_name (const json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "int";
    case JSON_REAL: return "float64";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    case JSON_ARRAY: return "[]interface {}";
    case JSON_OBJECT: return "map[string]interface {}";
    default: return "interface {}";
    }
}

/* v.A.B…: a new reference, or NULL with an error. */
static json_t *
walk (struct exec *ex, json_t *v, char *const *fields, size_t n, int pos)
{
  size_t i;

  json_incref (v);
  for (i = 0; i < n; i++)
    {
      json_t *next;

      if (json_is_null (v))
        next = NULL, gt_error (ex->err, ex->t->text, pos, "nil pointer evaluating interface {}.%s",
                               fields[i]);
      else if (!json_is_object (v))
        next = NULL, gt_error (ex->err, ex->t->text, pos, "can't evaluate field %s in type %s",
                               fields[i], type_name (v));
      else if ((next = json_object_get (v, fields[i])) == NULL && !ex->header)
        gt_error (ex->err, ex->t->text, pos, "map has no entry for key \"%s\"", fields[i]);
      else if (next == NULL)
        next = json_string ("");
      else
        json_incref (next);
      json_decref (v);
      if ((v = next) == NULL)
        return NULL;
    }
  return v;
}

static struct var *
find_var (struct exec *ex, const char *name)
{
  size_t i;

  for (i = ex->n_vars; i-- > 0;)
    if (strcmp (ex->vars[i].name, name) == 0)
      return &ex->vars[i];
  return NULL;
}

static void
push_var (struct exec *ex, const char *name, json_t *value)
{
  ex->vars = xgrow_one (ex->vars, ex->n_vars, sizeof *ex->vars);
  ex->vars[ex->n_vars].name = name;
  ex->vars[ex->n_vars++].value = json_incref (value);
}

/* Variables declared in a block go out of scope at its end. */
static void
pop_vars (struct exec *ex, size_t mark)
{
  while (ex->n_vars > mark)
    json_decref (ex->vars[--ex->n_vars].value);
}

static json_t *
eval_arg (struct exec *ex, const struct gt_arg *a, json_t *dot)
{
  json_auto_t *base = NULL;
  struct var *var;

  switch (a->kind)
    {
    case GT_FIELD: return walk (ex, dot, a->fields, a->n_fields, a->pos);
    case GT_CONST: return json_incref (a->value);
    case GT_VAR:
      if ((var = find_var (ex, a->name)) == NULL)
        {
          gt_error (ex->err, ex->t->text, a->pos, "undefined variable \"%s\"", a->name);
          return NULL;
        }
      return walk (ex, var->value, a->fields, a->n_fields, a->pos);
    case GT_PIPE:
      if ((base = eval_pipe (ex, a->pipe, dot)) == NULL)
        return NULL;
      return walk (ex, base, a->fields, a->n_fields, a->pos);
    case GT_FUNC: break;
    }
  gt_error (ex->err, ex->t->text, a->pos, "can't use function \"%s\" as a value", a->name);
  return NULL;
}

static json_t *
eval_cmd (struct exec *ex, const struct gt_cmd *cmd, json_t *dot, json_t *piped)
{
  const struct gt_arg *first = &cmd->args[0];
  const struct gt_func *f;
  struct gt_call call = { .header = ex->header, .err = ex->err, .text = ex->t->text };
  json_t *result = NULL;
  size_t i;

  if (first->kind != GT_FUNC)
    {
      if (cmd->n_args > 1 || piped)
        {
          gt_error (ex->err, ex->t->text, first->pos, "can't give argument to non-function %s",
                    first->kind == GT_CONST ? "constant" : "value");
          return NULL;
        }
      return eval_arg (ex, first, dot);
    }
  f = &gt_funcs[first->fn];
  call.argc = cmd->n_args - 1 + (piped != NULL);
  call.pos = first->pos;
  if ((int) call.argc < f->min || (f->max >= 0 && (int) call.argc > f->max))
    {
      gt_error (ex->err, ex->t->text, first->pos, "wrong number of args for %s: got %zu",
                f->name, call.argc);
      return NULL;
    }
  call.argv = xcalloc (call.argc + 1, sizeof *call.argv);
  for (i = 1; i < cmd->n_args; i++)
    if ((call.argv[i - 1] = eval_arg (ex, &cmd->args[i], dot)) == NULL)
      goto out;
  if (piped)
    call.argv[call.argc - 1] = json_incref (piped);
  result = ex->header && f->header_identity ? json_incref (call.argv[0]) : f->fn (&call);
out:
  for (i = 0; i < call.argc; i++)
    json_decref (call.argv[i]);
  free (call.argv);
  return result;
}

static json_t *
eval_pipe (struct exec *ex, const struct gt_pipe *pipe, json_t *dot)
{
  json_t *v = NULL;
  size_t i;

  for (i = 0; i < pipe->n_cmds; i++)
    {
      json_t *next = eval_cmd (ex, &pipe->cmds[i], dot, v);

      json_decref (v);
      if ((v = next) == NULL)
        return NULL;
    }
  if (pipe->n_decl == 1)
    {
      struct var *var = find_var (ex, pipe->decl[0]);

      if (pipe->assign && var == NULL)
        {
          gt_error (ex->err, ex->t->text, pipe->cmds[0].args[0].pos, "undefined variable \"%s\"",
                    pipe->decl[0]);
          json_decref (v);
          return NULL;
        }
      if (pipe->assign)
        {
          json_decref (var->value);
          var->value = json_incref (v);
        }
      else
        push_var (ex, pipe->decl[0], v);
    }
  return v;
}

static int
exec_range (struct exec *ex, const struct gt_node *n, json_t *dot)
{
  json_auto_t *v = NULL;
  size_t i, count, mark = ex->n_vars;
  const struct gt_pipe *p = n->pipe;
  cleanup_free const char **keys = NULL;

  /* The declared variables of range are the index and element, not the whole value. */
  {
    struct gt_pipe plain = *p;

    plain.n_decl = 0;
    if ((v = eval_pipe (ex, &plain, dot)) == NULL)
      return -1;
  }
  if (json_is_object (v))
    {
      const char *k;
      json_t *e;

      keys = xcalloc (json_object_size (v) + 1, sizeof *keys);
      count = 0;
      json_object_foreach (v, k, e)
        keys[count++] = k;
      qsort (keys, count, sizeof *keys, compare_keys);
    }
  else if (json_is_array (v) || json_is_null (v))
    count = json_array_size (v);
  else
    return gt_error (ex->err, ex->t->text, n->pos, "range can't iterate over %s",
                     json_is_string (v) ? json_string_value (v) : type_name (v));
  if (count == 0)
    return exec_list (ex, &n->alt, dot);
  for (i = 0; i < count; i++)
    {
      json_t *elem = keys ? json_object_get (v, keys[i]) : json_array_get (v, i);
      json_auto_t *index = keys ? json_string (keys[i]) : json_integer ((json_int_t) i);
      int ret;

      if (p->n_decl == 1)
        push_var (ex, p->decl[0], elem);
      else if (p->n_decl == 2)
        push_var (ex, p->decl[0], index), push_var (ex, p->decl[1], elem);
      ret = exec_list (ex, &n->body, elem);
      pop_vars (ex, mark);
      if (ret < 0)
        return -1;
      if (ex->flow == FLOW_BREAK)
        {
          ex->flow = FLOW_NEXT;
          break;
        }
      ex->flow = FLOW_NEXT;
    }
  return 0;
}

static int
exec_node (struct exec *ex, const struct gt_node *n, json_t *dot)
{
  json_auto_t *v = NULL;
  size_t mark = ex->n_vars;
  int ret;

  switch (n->kind)
    {
    case GT_TEXT: strbuf_addstr (ex->out, n->text); return 0;
    case GT_BREAK: ex->flow = FLOW_BREAK; return 0;
    case GT_CONTINUE: ex->flow = FLOW_CONTINUE; return 0;
    case GT_RANGE: return exec_range (ex, n, dot);
    case GT_ACTION:
      if ((v = eval_pipe (ex, n->pipe, dot)) == NULL)
        return -1;
      /* A declaration prints nothing; its variable lives to the end of the enclosing block. */
      if (n->pipe->n_decl == 0)
        gt_print_value (ex->out, v, true);
      return 0;
    case GT_IF:
    case GT_WITH:
      if ((v = eval_pipe (ex, n->pipe, dot)) == NULL)
        return -1;
      if (gt_truth (v))
        ret = exec_list (ex, &n->body, n->kind == GT_WITH ? v : dot);
      else
        ret = exec_list (ex, &n->alt, dot);
      pop_vars (ex, mark);
      return ret;
    }
  return 0;
}

static int
exec_list (struct exec *ex, const struct gt_list *l, json_t *dot)
{
  size_t i, mark = ex->n_vars;
  int ret = 0;

  for (i = 0; i < l->n && ret == 0 && ex->flow == FLOW_NEXT; i++)
    ret = exec_node (ex, l->nodes[i], dot);
  pop_vars (ex, mark);
  return ret;
}

int
gotemplate_exec (const struct gotemplate *t, json_t *data, bool header, struct strbuf *out,
                 bale_error_t *err)
{
  struct exec ex = { .t = t, .out = out, .header = header, .err = err };
  int ret;

  push_var (&ex, "$", data);
  ret = exec_list (&ex, &t->root, data);
  pop_vars (&ex, 0);
  free (ex.vars);
  return ret;
}
