/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The AST as JSON, for `bale parse --format json` and tools (schema: docs/ast.md). */
#include <config.h>

#include <jansson.h>
#include <stdio.h>
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

/* Writes TEXT with PAD after each of its newlines: a value dumped alone, set at its depth. */
static int
write_padded (FILE *out, const char *text, const char *pad)
{
  const char *nl;

  while ((nl = strchr (text, '\n')))
    {
      if (fwrite (text, 1, (size_t) (nl - text) + 1, out) != (size_t) (nl - text) + 1 || fputs (pad, out) < 0)
        return -1;
      text = nl + 1;
    }
  return fputs (text, out) < 0 ? -1 : 0;
}

/* The document is dumped without its instructions, then each instruction is dumped alone into
   the gap: one instruction's JSON tree at a time, where the whole tree of a 10^6-line Dockerfile
   took gigabytes (jansson spends kilobytes on an instruction's objects). The text is the same
   as one json_dumps of the whole tree: the array's layout is jansson's (dump.c), and JSON
   strings hold no raw newline, so indenting after each newline is safe. */
int
bale_ast_write_json (const struct bale_dockerfile *df, int indent, FILE *out)
{
  json_t *root = json_object (), *dirs = json_array ();
  size_t flags = JSON_PRESERVE_ORDER | (indent > 0 ? JSON_INDENT (indent) : JSON_COMPACT);
  const char *marker = indent > 0 ? "\"instructions\": []" : "\"instructions\":[]";
  char esc[2] = { df->escape, 0 }, pad1[64], pad2[64];
  char *head, *gap;
  size_t i;
  int rc = -1;

  if (indent < 0)
    indent = 0;
  if (indent > 31)
    indent = 31; /* JSON_INDENT's own limit */
  snprintf (pad1, sizeof pad1, "%*s", indent, "");
  snprintf (pad2, sizeof pad2, "%*s", 2 * indent, "");
  for (i = 0; i < df->n_directives; i++)
    json_array_append_new (dirs, json_pack ("{s:o,s:o,s:o}", "name", jstr (df->directives[i].name, strlen (df->directives[i].name)),
                                            "value", jstr (df->directives[i].value, strlen (df->directives[i].value)),
                                            "span", jspan (&df->directives[i].span)));
  json_object_set_new (root, "file", jstr (df->path, strlen (df->path)));
  json_object_set_new (root, "escape", json_string (esc));
  json_object_set_new (root, "directives", dirs);
  json_object_set_new (root, "instructions", json_array ());
  json_object_set_new (root, "warnings", jwarnings (df));
  head = json_dumps (root, flags);
  json_decref (root);
  if (!head || !(gap = strstr (head, marker)))
    goto out;
  gap += strlen (marker) - 1; /* at the array's "]" */
  if (fwrite (head, 1, (size_t) (gap - head), out) != (size_t) (gap - head))
    goto out;
  for (i = 0; i < df->n_nodes; i++)
    {
      json_t *node = jnode (&df->nodes[i]);
      char *text = json_dumps (node, flags);
      int w;

      json_decref (node);
      if (!text)
        goto out;
      if (i > 0 && fputc (',', out) == EOF)
        {
          free (text);
          goto out;
        }
      w = indent > 0 ? (fputc ('\n', out) == EOF || fputs (pad2, out) < 0 ? -1 : write_padded (out, text, pad2))
                     : (fputs (text, out) < 0 ? -1 : 0);
      free (text);
      if (w < 0)
        goto out;
    }
  if (indent > 0 && df->n_nodes > 0 && (fputc ('\n', out) == EOF || fputs (pad1, out) < 0))
    goto out;
  if (fputs (gap, out) >= 0)
    rc = 0;
out:
  free (head);
  return rc;
}

char *
bale_ast_to_json (const struct bale_dockerfile *df, int indent)
{
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream (&text, &len);

  if (!mem)
    return NULL;
  if (bale_ast_write_json (df, indent, mem) < 0)
    {
      fclose (mem);
      free (text);
      return NULL;
    }
  if (fclose (mem) != 0)
    {
      free (text);
      return NULL;
    }
  return text;
}
