/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What an instruction names of the rest of the plan: a stage by name or index (COPY --from,
   RUN --mount from=) and the build args an ARG consumes. The dispatch asks these of the plan
   it is building; they sit below both the planner and the dispatch. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codegen/plan.h"
#include "lexer/words.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

void
plan_consume_build_arg (struct plan *p, const char *key)
{
  size_t i, klen = strlen (key);

  for (i = 0; i < p->build_args.n; i++)
    if (kv_key_len (p->build_args.kv[i]) == klen && memcmp (p->build_args.kv[i], key, klen) == 0)
      p->consumed[i] = true;
}

int
plan_find_stage (const struct plan *p, const char *name, size_t limit)
{
  size_t i;

  for (i = 0; i < limit && i < p->n_stages; i++)
    if (p->stages[i].name && strcasecmp (p->stages[i].name, name) == 0)
      return (int) i;
  return -1;
}

/* Go's strconv.Atoi accepts an optional sign and decimal digits. */
static bool
atoi_go (const char *s, long *out)
{
  char *end;

  if (!*s || (!isdigit ((unsigned char) *s) && !((*s == '+' || *s == '-') && isdigit ((unsigned char) s[1]))))
    return false;
  errno = 0;
  *out = strtol (s, &end, 10);
  return *end == '\0' && errno == 0;
}

/* toCommand's --from: a stage index, a stage name (any stage of the file), or an image. */
int
plan_source_lookup (struct plan *p, const char *name, const struct bale_span *span, struct plan_source *src,
               bale_error_t *err)
{
  long idx;

  src->stage = -1;
  src->image = NULL;
  if (atoi_go (name, &idx))
    {
      if (idx < 0 || (size_t) idx >= p->n_stages)
        return plan_error_at (p, span, err, "invalid stage index %ld", idx);
      src->stage = (int) idx;
      return 0;
    }
  src->stage = plan_find_stage (p, name, p->n_stages);
  if (src->stage < 0)
    src->image = xstrdup (name);
  return 0;
}

int
plan_from_flag_lookup (struct plan *p, const struct bale_flag *f, struct plan_source *src, bale_error_t *err)
{
  struct words_lex lx = words_lex_default (p->df->escape);
  struct words_env none = { 0 };
  cleanup_error bale_error_t e = NULL;
  cleanup_free char *out = NULL;
  const char *v = f->value ? f->value : "";

  if (words_process_word (&lx, v, strlen (v), &none, &out, NULL, &e) < 0 || strcmp (out, v) != 0)
    return plan_error_at (p, &f->span, err,
                          "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround");
  return plan_source_lookup (p, v, &f->span, src, err);
}

int
plan_source_resolve (struct plan *p, struct plan_stage *st, const struct bale_flag *from,
                     struct plan_source *src, bale_error_t *err)
{
  if (plan_from_flag_lookup (p, from, src, err) < 0)
    return -1;
  if (src->stage >= 0 && !p->stages[src->stage].dispatched)
    return plan_error_at (p, &from->span, err, "cannot copy from stage \"%s\", it needs to be defined before current stage \"%s\"",
                          from->value, st->display);
  return 0;
}

/* The graph of stages is built before the dispatch expands anything: from= as written. The
   rest of the value is checked when the instruction is dispatched. */
char *
plan_mount_from (const char *value)
{
  struct plan_mount m;
  cleanup_error bale_error_t e = NULL;
  char *from;

  plan_mount_parse (value, &m, &e);
  from = m.from;
  m.from = NULL;
  plan_mount_release (&m);
  return from;
}

int
plan_mount_source (struct plan *p, struct plan_stage *st, const struct bale_flag *f, const struct plan_mount *m,
                   struct plan_source *src, bale_error_t *err)
{
  const char *from = m->from;

  src->stage = -1;
  src->image = NULL;
  if (from == NULL)
    return 0;
  if (plan_source_lookup (p, from, &f->span, src, err) < 0)
    return -1;
  if (src->stage >= 0 && !p->stages[src->stage].dispatched)
    return plan_error_at (p, &f->span, err, "cannot mount from stage \"%s\", it needs to be defined before current stage \"%s\"",
                          from, st->display);
  return 0;
}
