/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bale plan` renderings. The text form is for people reading what a Dockerfile will do; the
 * JSON form is for tools and carries the same facts: stages, what each stage needs, and each
 * step's kind, expanded arguments and inputs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "codegen/plan.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static const char *
kind_name (enum plan_step_kind k)
{
  return k == PLAN_STEP_LAYER ? "layer" : "metadata";
}

static void
source_describe (const struct plan *p, const struct plan_source *src, struct strbuf *sb)
{
  if (src->stage >= 0)
    strbuf_addf (sb, "stage %s", p->stages[src->stage].display);
  else if (src->image)
    strbuf_addf (sb, "image %s", src->image);
  else
    strbuf_addstr (sb, "context");
}

/* What a step reads besides its parent state, as short descriptions. */
static void
step_reads (const struct plan *p, const struct plan_step *s, void (*emit) (void *, const char *),
            void *ctx)
{
  struct strbuf sb = STRBUF_INIT;

  if (s->instr == BALE_I_COPY || s->instr == BALE_I_ADD)
    {
      size_t i;
      for (i = 0; s->argc > 0 && i + 1 < s->argc; i++)
        {
          const char *a = s->argv[i];
          strbuf_reset (&sb);
          if (strncmp (a, "<<", 2) == 0)
            strbuf_addf (&sb, "heredoc %s", a + 2);
          else if (s->instr == BALE_I_ADD && s->from.stage < 0 && !s->from.image
                   && (strncmp (a, "http://", 7) == 0 || strncmp (a, "https://", 8) == 0
                       || strncmp (a, "git@", 4) == 0))
            strbuf_addf (&sb, "url %s", a);
          else
            {
              source_describe (p, &s->from, &sb);
              strbuf_addf (&sb, ":%s", a);
            }
          emit (ctx, sb.buf);
        }
    }
  else if (s->instr == BALE_I_RUN)
    {
      size_t i;
      for (i = 0; i < s->n_mounts; i++)
        {
          strbuf_reset (&sb);
          strbuf_addf (&sb, "mount %s", s->mounts[i].spec);
          if (s->mount_from && (s->mount_from[i].stage >= 0 || s->mount_from[i].image))
            {
              strbuf_addstr (&sb, " (");
              source_describe (p, &s->mount_from[i], &sb);
              strbuf_addstr (&sb, ")");
            }
          emit (ctx, sb.buf);
        }
    }
  strbuf_release (&sb);
}

static void
emit_text (void *ctx, const char *s)
{
  struct strbuf *sb = ctx;
  strbuf_addf (sb, "%s%s", sb->len && sb->buf[sb->len - 1] != ' ' ? ", " : "", s);
}

static void
emit_json (void *ctx, const char *s)
{
  json_array_append_new (ctx, json_string (s));
}

static bool
shown (const struct plan_stage *st, bool all)
{
  return all || st->reachable;
}

char *
plan_to_text (const struct plan *p, bool all_stages)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i, j;

  for (i = 0; i < p->n_stages; i++)
    {
      const struct plan_stage *st = &p->stages[i];
      char *plat;

      if (!shown (st, all_stages))
        continue;
      /* Stages the target does not need are never resolved: they have no platform. */
      plat = st->platform.os ? platform_format (&st->platform) : NULL;
      strbuf_addf (&sb, "stage %d %s: FROM %s", st->index, st->display,
                   st->base_stage >= 0 ? p->stages[st->base_stage].display : st->base);
      if (st->base_stage >= 0)
        strbuf_addstr (&sb, " (stage)");
      if (plat)
        strbuf_addf (&sb, " [%s]", plat);
      free (plat);
      if ((int) i == p->target)
        strbuf_addstr (&sb, " (target)");
      if (!st->reachable)
        strbuf_addstr (&sb, " (not needed)");
      strbuf_addch (&sb, '\n');
      if (st->n_deps)
        {
          strbuf_addstr (&sb, "  needs:");
          for (j = 0; j < st->n_deps; j++)
            strbuf_addf (&sb, " %s", p->stages[st->deps[j]].display);
          strbuf_addch (&sb, '\n');
        }
      for (j = 0; j < st->n_steps; j++)
        {
          const struct plan_step *s = &st->steps[j];
          struct strbuf reads = STRBUF_INIT;
          size_t k;

          bool pairs = s->instr == BALE_I_ENV || s->instr == BALE_I_LABEL;

          strbuf_addf (&sb, "  line %-4d %-11s %-8s", s->node->span.line,
                       bale_instr_name (s->instr), kind_name (s->kind));
          for (k = 0; k < s->argc; k++)
            {
              /* ENV and LABEL hold key, value pairs: show them as KEY=VALUE. */
              strbuf_addch (&sb, pairs && k % 2 ? '=' : ' ');
              strbuf_add_goquote (&sb, s->argv[k], strlen (s->argv[k]));
            }
          if (s->onbuild)
            strbuf_addstr (&sb, "  (ONBUILD trigger)");
          step_reads (p, s, emit_text, &reads);
          if (reads.len)
            strbuf_addf (&sb, "\n            reads: %s", reads.buf);
          strbuf_release (&reads);
          strbuf_addch (&sb, '\n');
        }
    }
  return strbuf_detach (&sb, NULL);
}

static json_t *
step_json (const struct plan *p, const struct plan_step *s)
{
  json_t *o = json_object (), *argv = json_array (), *reads = json_array ();
  size_t k;

  json_object_set_new (o, "line", json_integer (s->node->span.line));
  json_object_set_new (o, "column", json_integer (s->node->span.col));
  json_object_set_new (o, "instruction", json_string (bale_instr_name (s->instr)));
  json_object_set_new (o, "kind", json_string (kind_name (s->kind)));
  for (k = 0; k < s->argc; k++)
    json_array_append_new (argv, json_string (s->argv[k]));
  json_object_set_new (o, "args", argv);
  json_object_set_new (o, "created_by", s->created_by ? json_string (s->created_by) : json_null ());
  if (s->onbuild)
    json_object_set_new (o, "onbuild", json_true ());
  if (s->kind == PLAN_STEP_LAYER)
    {
      json_object_set_new (o, "workdir", json_string (s->workdir ? s->workdir : "/"));
      if (s->user && *s->user)
        json_object_set_new (o, "user", json_string (s->user));
    }
  if (s->instr == BALE_I_RUN)
    {
      json_t *env = json_array ();
      struct kvlist l = KVLIST_INIT;
      kv_state_get (&s->env, &l);
      for (k = 0; k < l.n; k++)
        json_array_append_new (env, json_string (l.kv[k]));
      kv_release (&l);
      json_object_set_new (o, "env", env);
      if (s->network)
        json_object_set_new (o, "network", json_string (s->network));
    }
  step_reads (p, s, emit_json, reads);
  json_object_set_new (o, "reads", reads);
  return o;
}

json_t *
plan_to_json (const struct plan *p, bool all_stages)
{
  json_t *root = json_object (), *stages = json_array ();
  size_t i, j;

  for (i = 0; i < p->n_stages; i++)
    {
      const struct plan_stage *st = &p->stages[i];
      json_t *o, *deps, *steps;
      char *plat;

      if (!shown (st, all_stages))
        continue;
      o = json_object ();
      deps = json_array ();
      steps = json_array ();
      json_object_set_new (o, "index", json_integer (st->index));
      json_object_set_new (o, "name", st->name ? json_string (st->name) : json_null ());
      if (st->base_stage >= 0)
        json_object_set_new (o, "base_stage", json_string (p->stages[st->base_stage].display));
      else
        json_object_set_new (o, "base", json_string (st->base));
      if (st->platform.os)
        {
          plat = platform_format (&st->platform);
          json_object_set_new (o, "platform", json_string (plat));
          free (plat);
        }
      json_object_set_new (o, "reachable", json_boolean (st->reachable));
      for (j = 0; j < st->n_deps; j++)
        json_array_append_new (deps, json_string (p->stages[st->deps[j]].display));
      json_object_set_new (o, "needs", deps);
      for (j = 0; j < st->n_steps; j++)
        json_array_append_new (steps, step_json (p, &st->steps[j]));
      json_object_set_new (o, "steps", steps);
      if (st->config)
        json_object_set_new (o, "config", json_deep_copy (st->config));
      json_array_append_new (stages, o);
    }
  json_object_set_new (root, "target", json_string (p->stages[p->target].display));
  json_object_set_new (root, "stages", stages);
  return root;
}
