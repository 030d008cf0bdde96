/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Instruction-level checks, as BuildKit's instructions.Parse and its BFlags. */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser/ast.h"
#include "parser/duration.h"
#include "parser/suggest.h"
#include "common/error.h"
#include "common/srcfile.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

enum flag_type { F_BOOL, F_STRING, F_STRINGS };

struct flag_spec
{
  const char *name;
  enum flag_type type;
};

#define N_OF(a) (sizeof (a) / sizeof ((a)[0]))

static const struct flag_spec from_flags[] = { { "platform", F_STRING } };
static const struct flag_spec copy_flags[] = {
  { "from", F_STRING }, { "chown", F_STRING }, { "chmod", F_STRING }, { "link", F_BOOL },
  { "parents", F_BOOL }, { "exclude", F_STRINGS },
};
static const struct flag_spec add_flags[] = {
  { "chown", F_STRING }, { "chmod", F_STRING }, { "link", F_BOOL }, { "keep-git-dir", F_BOOL },
  { "checksum", F_STRING }, { "unpack", F_BOOL }, { "exclude", F_STRINGS },
};
static const struct flag_spec run_flags[] = {
  { "mount", F_STRINGS }, { "network", F_STRING }, { "security", F_STRING }, { "device", F_STRINGS },
};
static const struct flag_spec health_flags[] = {
  { "interval", F_STRING }, { "timeout", F_STRING }, { "start-period", F_STRING },
  { "start-interval", F_STRING }, { "retries", F_STRING },
};

struct vctx
{
  struct srcfile sf;
  bale_error_t *err;
  int count;
};

static void verr (struct vctx *v, const struct bale_span *span, const char *hint, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
verr (struct vctx *v, const struct bale_span *span, const char *hint, const char *fmt, ...)
{
  struct bale_loc loc = srcfile_loc (&v->sf, span);
  bale_error_t e = NULL;
  va_list ap;

  if (v->count >= 20)
    return;
  va_start (ap, fmt);
  bale_make_verror_at (&e, 0, &loc, fmt, ap);
  va_end (ap);
  if (hint)
    e->hint = xstrdup (hint);
  bale_error_join (v->err, &e);
  v->count++;
}

/* ---- flags --------------------------------------------------------------------------------- */

static const struct flag_spec *
find_flag (const struct flag_spec *specs, size_t n, const char *name)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (strcmp (specs[i].name, name) == 0)
      return &specs[i];
  return NULL;
}

static void
unknown_flag (struct vctx *v, const struct bale_flag *f, const struct flag_spec *specs, size_t n)
{
  const char *names[8];
  const char *best;
  char *hint = NULL;
  size_t i;

  for (i = 0; i < n && i < N_OF (names); i++)
    names[i] = specs[i].name;
  best = suggest_closest (f->name, names, i);
  if (best)
    hint = xasprintf ("did you mean \"--%s\"?", best);
  verr (v, &f->span, hint, "unknown flag: %s", f->name);
  free (hint);
}

static void
check_flag_value (struct vctx *v, const struct bale_flag *f, const struct flag_spec *spec)
{
  if (spec->type == F_BOOL)
    {
      if (f->value && *f->value == '\0')
        verr (v, &f->span, NULL, "missing a value on flag: %s", f->name);
      else if (f->value && strcasecmp (f->value, "true") != 0 && strcasecmp (f->value, "false") != 0)
        verr (v, &f->span, NULL, "expecting boolean value for flag %s, not: %s", f->name, f->value);
    }
  else if (f->value == NULL)
    verr (v, &f->span, NULL, "missing a value on flag: %s", f->name);
}

/* BFlags.Parse: every flag must be known; only multi-value flags may repeat. */
static void
check_flags (struct vctx *v, const struct bale_node *n, const struct flag_spec *specs, size_t ns)
{
  size_t i, j;

  for (i = 0; i < n->n_flags; i++)
    {
      const struct bale_flag *f = &n->flags[i];
      const struct flag_spec *spec = find_flag (specs, ns, f->name);

      if (spec == NULL)
        {
          unknown_flag (v, f, specs, ns);
          continue;
        }
      for (j = 0; j < i && spec->type != F_STRINGS; j++)
        if (strcmp (n->flags[j].name, f->name) == 0)
          {
            verr (v, &f->span, NULL, "duplicate flag specified: %s", f->name);
            break;
          }
      check_flag_value (v, f, spec);
    }
}


/* ---- per instruction ----------------------------------------------------------------------- */

static bool
valid_stage_name (const char *s)
{
  if (!islower ((unsigned char) *s))
    return false;
  for (s++; *s; s++)
    if (!islower ((unsigned char) *s) && !isdigit ((unsigned char) *s) && !strchr ("-_.", *s))
      return false;
  return true;
}

static void
check_from (struct vctx *v, const struct bale_node *n)
{
  char *name;
  size_t i;

  check_flags (v, n, from_flags, N_OF (from_flags));
  if (!(n->n_args == 1 || (n->n_args == 3 && strcasecmp (n->args[1].value, "as") == 0)))
    {
      verr (v, &n->keyword_span, NULL, "FROM requires either one or three arguments");
      return;
    }
  if (n->n_args != 3)
    return;
  name = xstrdup (n->args[2].value);
  for (i = 0; name[i]; i++)
    name[i] = (char) tolower ((unsigned char) name[i]);
  if (!valid_stage_name (name))
    verr (v, &n->args[2].span, NULL,
          "invalid name for build stage: \"%s\", name can't start with a number or contain symbols",
          n->args[2].value);
  free (name);
}

static void
check_copy (struct vctx *v, const struct bale_node *n)
{
  const char *name = bale_instr_name (n->kind);

  if (n->kind == BALE_I_COPY)
    check_flags (v, n, copy_flags, N_OF (copy_flags));
  else
    check_flags (v, n, add_flags, N_OF (add_flags));
  if (n->n_args == 0)
    verr (v, &n->keyword_span, NULL, "%s requires at least two arguments", name);
  else if (n->n_args == 1)
    verr (v, &n->span, NULL,
          "%s requires at least two arguments, but only one was provided. Destination could not be determined",
          name);
  else if (n->n_heredocs && strncmp (n->args[n->n_args - 1].value, "<<", 2) == 0)
    verr (v, &n->args[n->n_args - 1].span, NULL, "%s cannot accept a heredoc as a destination", name);
  if (n->kind == BALE_I_COPY && n->n_args > 0 && strstr (n->args[0].value, "://") != NULL
      && (strncmp (n->args[0].value, "http://", 7) == 0 || strncmp (n->args[0].value, "https://", 8) == 0))
    verr (v, &n->args[0].span, NULL, "source can't be a URL for COPY");
  /* (a bad octal --chmod is the dispatch's: BuildKit accepts it in a stage it does not build) */
}

static void
check_run (struct vctx *v, const struct bale_node *n)
{
  const struct bale_flag *net, *sec, *dev;

  check_flags (v, n, run_flags, N_OF (run_flags));
  if ((net = ast_flag_get (n, "network")) && net->value
      && strcmp (net->value, "default") && strcmp (net->value, "none") && strcmp (net->value, "host"))
    verr (v, &net->span, NULL, "unsupported network mode \"%s\"", net->value);
  if ((sec = ast_flag_get (n, "security")) && sec->value
      && strcmp (sec->value, "sandbox") && strcmp (sec->value, "insecure"))
    verr (v, &sec->span, NULL, "unsupported security mode \"%s\"", sec->value);
  if ((dev = ast_flag_get (n, "device")))
    verr (v, &dev->span, NULL, "device feature is only supported in Dockerfile frontend 1.14.0-labs or later");
}

static void
check_duration (struct vctx *v, const struct bale_node *n, const char *flag, const char *what)
{
  const struct bale_flag *f = ast_flag_get (n, flag);
  int64_t ns;

  if (f == NULL || f->value == NULL)
    return;
  if (!duration_parse (f->value, &ns))
    verr (v, &f->span, NULL, "time: invalid duration \"%s\"", f->value);
  else if (ns < 1000000)
    /* 0 too, as docker 20.10's BuildKit (today's takes 0 for the default: FINDINGS F56) */
    verr (v, &f->span, NULL, "%s \"%s\" cannot be less than 1ms", what, flag);
}

static void
check_healthcheck (struct vctx *v, const struct bale_node *n)
{
  const struct bale_flag *r;

  if (n->n_args == 0)
    {
      verr (v, &n->keyword_span, NULL, "HEALTHCHECK requires at least one argument");
      return;
    }
  if (strcasecmp (n->args[0].value, "NONE") == 0)
    {
      /* BuildKit never parses the flags of HEALTHCHECK NONE. */
      if (n->n_args > 1)
        verr (v, &n->args[1].span, NULL, "HEALTHCHECK NONE takes no arguments");
      return;
    }
  if (strcasecmp (n->args[0].value, "CMD") != 0)
    {
      verr (v, &n->args[0].span, NULL, "Unknown type \"%s\" in HEALTHCHECK (try CMD)", n->args[0].value);
      return;
    }
  check_flags (v, n, health_flags, N_OF (health_flags));
  if (n->n_args == 1)
    verr (v, &n->args[0].span, NULL, "Missing command after HEALTHCHECK CMD");
  check_duration (v, n, "interval", "Interval");
  check_duration (v, n, "timeout", "Timeout");
  check_duration (v, n, "start-period", "StartPeriod");
  check_duration (v, n, "start-interval", "StartInterval");
  if ((r = ast_flag_get (n, "retries")) && r->value)
    {
      char *end;
      long val = strtol (r->value, &end, 10);
      if (*r->value == '\0' || *end != '\0' || val > 2147483647L || val < -2147483647L - 1)
        verr (v, &r->span, NULL, "strconv.ParseInt: parsing \"%s\": invalid syntax", r->value);
      else if (val < 1)
        /* docker 20.10's BuildKit; today's takes 0 (F56) */
        verr (v, &r->span, NULL, "--retries must be at least 1 (not %ld)", val);
    }
}

static void
check_kv (struct vctx *v, const struct bale_node *n)
{
  size_t i;

  check_flags (v, n, NULL, 0);
  if (n->n_args == 0)
    verr (v, &n->keyword_span, NULL, "%s requires at least one argument", bale_instr_name (n->kind));
  for (i = 0; i + 2 < n->n_args; i += 3)
    if (n->args[i].len == 0)
      verr (v, &n->args[i].span, NULL, "%s names can not be blank", bale_instr_name (n->kind));
}

static void
check_onbuild (struct vctx *v, const struct bale_node *n)
{
  check_flags (v, n, NULL, 0);
  if (n->sub == NULL)
    {
      verr (v, &n->keyword_span, NULL, "ONBUILD requires at least one argument");
      return;
    }
  if (n->sub->kind == BALE_I_ONBUILD)
    verr (v, &n->sub->keyword_span, NULL, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  else if (n->sub->kind == BALE_I_FROM || n->sub->kind == BALE_I_MAINTAINER)
    verr (v, &n->sub->keyword_span, NULL, "%s isn't allowed as an ONBUILD trigger",
          bale_instr_name (n->sub->kind));
}

static void
check_exactly_one (struct vctx *v, const struct bale_node *n, bool flags)
{
  if (flags)
    check_flags (v, n, NULL, 0);
  if (n->n_args != 1)
    verr (v, &n->keyword_span, NULL, "%s requires exactly one argument", bale_instr_name (n->kind));
}

static void
check_at_least_one (struct vctx *v, const struct bale_node *n, bool flags)
{
  size_t i;

  if (flags)
    check_flags (v, n, NULL, 0);
  if (n->n_args == 0)
    verr (v, &n->keyword_span, NULL, "%s requires at least one argument", bale_instr_name (n->kind));
  for (i = 0; n->kind == BALE_I_VOLUME && i < n->n_args; i++)
    {
      const char *s = n->args[i].value;
      while (isspace ((unsigned char) *s))
        s++;
      if (*s == '\0')
        verr (v, &n->args[i].span, NULL, "VOLUME specified can not be an empty string");
    }
}

/* parseArg: a word with '=' is a name and a value, and the name must not be empty. */
static void
check_arg (struct vctx *v, const struct bale_node *n)
{
  size_t i;

  check_at_least_one (v, n, false);
  for (i = 0; i < n->n_args; i++)
    if (n->args[i].len > 0 && n->args[i].value[0] == '=')
      verr (v, &n->args[i].span, NULL, "ARG names can not be blank");
}

static void
check_shell (struct vctx *v, const struct bale_node *n)
{
  check_flags (v, n, NULL, 0);
  if (n->n_args == 0)
    verr (v, &n->keyword_span, NULL, "SHELL requires at least one argument");
  else if (!n->json)
    verr (v, &n->args[0].span, NULL, "SHELL requires the arguments to be in JSON form");
}

static void
unknown_instruction (struct vctx *v, const struct bale_node *n)
{
  const char *names[BALE_I_WORKDIR];
  const char *best;
  char *hint = NULL;
  size_t i;

  for (i = 0; i < N_OF (names); i++)
    names[i] = bale_instr_name ((enum bale_instr) (i + 1));
  best = suggest_closest (n->keyword, names, N_OF (names));
  if (best)
    hint = xasprintf ("did you mean \"%s\"?", best);
  verr (v, &n->keyword_span, hint, "unknown instruction \"%s\"", n->keyword);
  free (hint);
}

static void
check_node (struct vctx *v, const struct bale_node *n)
{
  switch (n->kind)
    {
    case BALE_I_FROM: check_from (v, n); break;
    case BALE_I_ADD:
    case BALE_I_COPY: check_copy (v, n); break;
    case BALE_I_RUN: check_run (v, n); break;
    case BALE_I_HEALTHCHECK: check_healthcheck (v, n); break;
    case BALE_I_ENV:
    case BALE_I_LABEL: check_kv (v, n); break;
    case BALE_I_ONBUILD: check_onbuild (v, n); break;
    case BALE_I_WORKDIR:
    case BALE_I_USER:
    case BALE_I_MAINTAINER: check_exactly_one (v, n, true); break;
    case BALE_I_STOPSIGNAL: check_exactly_one (v, n, false); break;
    case BALE_I_EXPOSE:
    case BALE_I_VOLUME: check_at_least_one (v, n, true); break;
    case BALE_I_ARG: check_arg (v, n); break;
    case BALE_I_SHELL: check_shell (v, n); break;
    case BALE_I_CMD:
    case BALE_I_ENTRYPOINT: check_flags (v, n, NULL, 0); break;
    case BALE_I_UNKNOWN:
    default: unknown_instruction (v, n); break;
    }
}

int
bale_validate (const struct bale_dockerfile *df, bale_error_t *err)
{
  struct vctx v = { .err = err };
  bool in_stage = false;
  size_t i;

  srcfile_init (&v.sf, df->path, df->source, df->source_len);
  for (i = 0; i < df->n_nodes; i++)
    {
      const struct bale_node *n = &df->nodes[i];

      check_node (&v, n);
      if (n->kind == BALE_I_FROM)
        in_stage = true;
      else if (!in_stage && n->kind != BALE_I_ARG && n->kind != BALE_I_UNKNOWN)
        verr (&v, &n->keyword_span, NULL, "no build stage in current context");
    }
  srcfile_release (&v.sf);
  return v.count > 0 ? -1 : 0;
}
