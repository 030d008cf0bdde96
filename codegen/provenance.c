/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replays the CMD and ENTRYPOINT rules of BuildKit's dispatch (dispatchCmd and
 * dispatchEntrypoint: an ENTRYPOINT drops the CMD unless a CMD came earlier in the same
 * stage) over the target's chain of stages, recording origins instead of values.
 */
#include <config.h>

#include <string.h>

#include "codegen/provenance.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct replay
{
  json_t *cmd, *entrypoint, *dropped, *multiple;
};

static json_t *
instruction_origin (const struct plan *p, const struct plan_stage *st, const struct plan_step *s)
{
  json_t *o = json_object ();
  const struct bale_node *n = s->node;
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  json_object_set_new (o, "line", json_integer (n->span.line));
  json_object_set_new (o, "stage", json_string (st->display));
  json_object_set_new (o, "form", json_string (n->json ? "exec" : "shell"));
  /* The text as written, one line: the instruction keyword and its arguments. */
  strbuf_addstr (&sb, n->keyword);
  if (n->json)
    {
      strbuf_addstr (&sb, " [");
      for (i = 0; i < n->n_args; i++)
        {
          json_t *str = json_stringn (n->args[i].value, n->args[i].len);
          char *enc = json_dumps (str, JSON_ENCODE_ANY);
          strbuf_addf (&sb, "%s%s", i ? ", " : "", enc);
          free (enc);
          json_decref (str);
        }
      strbuf_addstr (&sb, "]");
    }
  else
    for (i = 0; i < n->n_args; i++)
      strbuf_addf (&sb, " %s", n->args[i].value);
  json_object_set_new (o, "text", json_string (sb.buf));
  strbuf_release (&sb);
  if (s->onbuild)
    json_object_set_new (o, "onbuild", json_true ());
  (void) p;
  return o;
}

static void
note_multiple (struct replay *r, const struct plan_stage *st, const char *instr, json_t *lines)
{
  json_t *m;

  if (json_array_size (lines) < 2)
    {
      json_decref (lines);
      return;
    }
  m = json_object ();
  json_object_set_new (m, "instruction", json_string (instr));
  json_object_set_new (m, "stage", json_string (st->display));
  json_object_set_new (m, "lines", lines);
  json_array_append_new (r->multiple, m);
}

static void
replay_stage (const struct plan *p, const struct plan_stage *st, struct replay *r)
{
  json_t *cmd_lines = json_array (), *ep_lines = json_array ();
  bool cmd_set = false;
  size_t i;

  for (i = 0; i < st->n_steps; i++)
    {
      const struct plan_step *s = &st->steps[i];
      if (s->instr == BALE_I_CMD)
        {
          json_decref (r->cmd);
          r->cmd = instruction_origin (p, st, s);
          cmd_set = true;
          /* A CMD after the drop gives the image a CMD again: nothing is lost. */
          json_decref (r->dropped);
          r->dropped = NULL;
          json_array_append_new (cmd_lines, json_integer (s->node->span.line));
        }
      else if (s->instr == BALE_I_ENTRYPOINT)
        {
          json_decref (r->entrypoint);
          r->entrypoint = instruction_origin (p, st, s);
          json_array_append_new (ep_lines, json_integer (s->node->span.line));
          if (!cmd_set && r->cmd)
            {
              json_decref (r->dropped);
              r->dropped = json_object ();
              json_object_set_new (r->dropped, "origin", r->cmd);
              json_object_set (r->dropped, "by", r->entrypoint);
              r->cmd = NULL;
            }
        }
    }
  note_multiple (r, st, "CMD", cmd_lines);
  note_multiple (r, st, "ENTRYPOINT", ep_lines);
}

json_t *
provenance_from_plan (const struct plan *p)
{
  const struct plan_stage *chain[256];
  size_t n = 0;
  int i = p->target;
  struct replay r = { 0 };
  const struct plan_stage *root;
  json_t *out = json_object ();

  /* The target and the stages it is built on, root last. A chain longer than the array is
     cut at the root end, which only loses origins of values nobody can see. */
  while (i >= 0 && n < sizeof chain / sizeof chain[0])
    {
      chain[n++] = &p->stages[i];
      i = p->stages[i].base_stage;
    }
  root = chain[n - 1];
  r.multiple = json_array ();
  if (root->base_config)
    {
      const json_t *c = json_object_get (root->base_config, "config");
      json_t *cmd = json_object_get (c, "Cmd"), *ep = json_object_get (c, "Entrypoint");
      if (json_array_size (cmd))
        {
          r.cmd = json_object ();
          json_object_set_new (r.cmd, "image", json_string (root->base));
          json_object_set (r.cmd, "value", cmd);
        }
      if (json_array_size (ep))
        {
          r.entrypoint = json_object ();
          json_object_set_new (r.entrypoint, "image", json_string (root->base));
        }
    }
  while (n > 0)
    replay_stage (p, chain[--n], &r);

  json_object_set_new (out, "target", json_string (p->stages[p->target].display));
  json_object_set_new (out, "base",
                       root->base_stage < 0 && root->base_config ? json_string (root->base) : json_null ());
  json_object_set_new (out, "entrypoint", r.entrypoint ? r.entrypoint : json_null ());
  json_object_set_new (out, "cmd", r.cmd ? r.cmd : json_null ());
  if (r.dropped)
    json_object_set_new (out, "cmd_dropped", r.dropped);
  json_object_set_new (out, "multiple", r.multiple);
  return out;
}
