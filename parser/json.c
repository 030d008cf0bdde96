/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The AST as JSON, for `bale parse --format json` and tools (schema: docs/ast.md). */
#include <config.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bale.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/banned.h"

/* A JSON string of s; bytes that are not UTF-8 become U+FFFD, since JSON text must be UTF-8. */
static json_t *
jstr (const char *s, size_t len)
{
  struct strbuf sb = STRBUF_INIT;
  json_t *j;
  size_t i = 0;

  while (i < len)
    {
      uint32_t r;
      size_t w = utf8_decode ((const unsigned char *) s + i, len - i, &r);
      if (w == 0)
        {
          strbuf_addstr (&sb, "\xef\xbf\xbd");
          i++;
          continue;
        }
      strbuf_add (&sb, s + i, w);
      i += w;
    }
  j = json_stringn (sb.buf, sb.len);
  strbuf_release (&sb);
  return j;
}

static json_t *
jspan (const struct bale_span *s)
{
  return json_pack ("{s:i,s:i,s:i,s:i}", "line", s->line, "column", s->col, "end_line",
                    s->end_line, "end_column", s->end_col);
}

static json_t *
jflags (const struct bale_node *n)
{
  json_t *a = json_array ();
  size_t i;

  for (i = 0; i < n->n_flags; i++)
    {
      const struct bale_flag *f = &n->flags[i];
      json_t *o = json_object ();
      json_object_set_new (o, "name", jstr (f->name, strlen (f->name)));
      json_object_set_new (o, "value", f->value ? jstr (f->value, strlen (f->value)) : json_null ());
      json_object_set_new (o, "raw", jstr (f->raw, strlen (f->raw)));
      json_object_set_new (o, "span", jspan (&f->span));
      json_array_append_new (a, o);
    }
  return a;
}

static json_t *
jargs (const struct bale_node *n)
{
  json_t *a = json_array ();
  size_t i;

  for (i = 0; i < n->n_args; i++)
    json_array_append_new (a, json_pack ("{s:o,s:o}", "value", jstr (n->args[i].value, n->args[i].len),
                                         "span", jspan (&n->args[i].span)));
  return a;
}

/* ENV and LABEL: the key/value/separator triples as objects. */
static json_t *
jpairs (const struct bale_node *n)
{
  json_t *a = json_array ();
  size_t i;

  for (i = 0; i + 2 < n->n_args; i += 3)
    json_array_append_new (a, json_pack ("{s:o,s:o,s:b}", "key",
                                         jstr (n->args[i].value, n->args[i].len), "value",
                                         jstr (n->args[i + 1].value, n->args[i + 1].len), "legacy",
                                         n->args[i + 2].len == 0));
  return a;
}

static json_t *
jheredocs (const struct bale_node *n)
{
  json_t *a = json_array ();
  size_t i;

  for (i = 0; i < n->n_heredocs; i++)
    {
      const struct bale_heredoc *h = &n->heredocs[i];
      json_array_append_new (a, json_pack ("{s:o,s:o,s:b,s:b,s:i,s:o}", "name",
                                           jstr (h->name, strlen (h->name)), "content",
                                           jstr (h->content, h->content_len), "expand", h->expand,
                                           "chomp", h->chomp, "fd", (int) h->fd, "span",
                                           jspan (&h->span)));
    }
  return a;
}

static bool
has_form (enum bale_instr k)
{
  return k == BALE_I_RUN || k == BALE_I_CMD || k == BALE_I_ENTRYPOINT || k == BALE_I_SHELL
         || k == BALE_I_HEALTHCHECK || k == BALE_I_ADD || k == BALE_I_COPY || k == BALE_I_VOLUME;
}

static json_t *
jnode (const struct bale_node *n)
{
  json_t *o = json_object ();
  size_t i;

  json_object_set_new (o, "instruction", json_string (n->kind ? bale_instr_name (n->kind) : "UNKNOWN"));
  json_object_set_new (o, "keyword", jstr (n->keyword, strlen (n->keyword)));
  json_object_set_new (o, "span", jspan (&n->span));
  json_object_set_new (o, "original", jstr (n->original, strlen (n->original)));
  json_object_set_new (o, "flags", jflags (n));
  if (has_form (n->kind))
    json_object_set_new (o, "form", json_string (n->json ? "exec" : "shell"));
  json_object_set_new (o, "args", jargs (n));
  if (n->kind == BALE_I_ENV || n->kind == BALE_I_LABEL)
    json_object_set_new (o, "pairs", jpairs (n));
  if (n->n_heredocs)
    json_object_set_new (o, "heredocs", jheredocs (n));
  if (n->sub)
    json_object_set_new (o, "trigger", jnode (n->sub));
  if (n->n_comments)
    {
      json_t *c = json_array ();
      for (i = 0; i < n->n_comments; i++)
        json_array_append_new (c, jstr (n->comments[i], strlen (n->comments[i])));
      json_object_set_new (o, "comments", c);
    }
  return o;
}

static json_t *
jwarnings (const struct bale_dockerfile *df)
{
  json_t *a = json_array ();
  const struct bale_error_s *w;

  for (w = df->warnings; w; w = w->next)
    json_array_append_new (a, json_pack ("{s:o,s:i,s:i}", "message", jstr (w->msg, strlen (w->msg)),
                                         "line", w->line, "column", w->col));
  return a;
}

char *
bale_ast_to_json (const struct bale_dockerfile *df, int indent)
{
  json_t *root = json_object (), *dirs = json_array (), *nodes = json_array ();
  char esc[2] = { df->escape, 0 };
  size_t i;
  char *text;

  for (i = 0; i < df->n_directives; i++)
    json_array_append_new (dirs, json_pack ("{s:o,s:o,s:o}", "name", jstr (df->directives[i].name, strlen (df->directives[i].name)),
                                            "value", jstr (df->directives[i].value, strlen (df->directives[i].value)),
                                            "span", jspan (&df->directives[i].span)));
  for (i = 0; i < df->n_nodes; i++)
    json_array_append_new (nodes, jnode (&df->nodes[i]));
  json_object_set_new (root, "file", jstr (df->path, strlen (df->path)));
  json_object_set_new (root, "escape", json_string (esc));
  json_object_set_new (root, "directives", dirs);
  json_object_set_new (root, "instructions", nodes);
  json_object_set_new (root, "warnings", jwarnings (df));
  text = json_dumps (root, JSON_PRESERVE_ORDER | (indent > 0 ? JSON_INDENT (indent) : JSON_COMPACT));
  json_decref (root);
  return text;
}
