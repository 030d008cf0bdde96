/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One instruction's effect on a stage, as BuildKit's dispatch() and its dispatchX functions
 * (frontend/dockerfile/dockerfile2llb/convert.go): expansion against the environment as it
 * was before the instruction, the image config change, the history entry, and the plan step.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codegen/dispatch.h"
#include "codegen/expose.h"
#include "codegen/signal.h"
#include "codegen/plan.h"
#include "lexer/heredoc.h"
#include "lexer/words.h"
#include "parser/ast.h"
#include "parser/duration.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/ignore.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define HISTORY_COMMENT "buildkit.dockerfile.v0"

/* ---- small helpers ------------------------------------------------------------------------- */

static void
argv_push (char ***argv, size_t *argc, const char *s)
{
  *argv = xrealloc (*argv, (*argc + 2) * sizeof (char *));
  (*argv)[(*argc)++] = xstrdup (s);
  (*argv)[*argc] = NULL;
}

static void
argv_push_n (char ***argv, size_t *argc, const char *s, size_t len)
{
  *argv = xrealloc (*argv, (*argc + 2) * sizeof (char *));
  (*argv)[(*argc)++] = xmemdup0 (s, len);
  (*argv)[*argc] = NULL;
}

/* Go's fmt %q of a []string: ["a" "b"]. */
static void
add_goquoted_list (struct strbuf *sb, char *const *v, size_t n)
{
  size_t i;

  strbuf_addch (sb, '[');
  for (i = 0; i < n; i++)
    {
      if (i)
        strbuf_addch (sb, ' ');
      strbuf_add_goquote (sb, v[i], strlen (v[i]));
    }
  strbuf_addch (sb, ']');
}

/* Go's fmt %v of a []string: [a b]. */
static void
add_plain_list (struct strbuf *sb, char *const *v, size_t n)
{
  size_t i;

  strbuf_addch (sb, '[');
  for (i = 0; i < n; i++)
    {
      if (i)
        strbuf_addch (sb, ' ');
      strbuf_addstr (sb, v[i]);
    }
  strbuf_addch (sb, ']');
}

json_t *
json_strv (char *const *v, size_t n)
{
  json_t *a = json_array ();
  size_t i;

  for (i = 0; i < n; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

/* The container config object of the stage's image, created when missing. */
static json_t *
cfg (struct plan_stage *st)
{
  json_t *c = json_object_get (st->config, "config");

  if (!json_is_object (c))
    {
      c = json_object ();
      json_object_set_new (st->config, "config", c);
    }
  return c;
}

static json_t *
cfg_map (struct plan_stage *st, const char *key)
{
  json_t *m = json_object_get (cfg (st), key);

  if (!json_is_object (m))
    {
      m = json_object ();
      json_object_set_new (cfg (st), key, m);
    }
  return m;
}

static const char *
cfg_string (struct plan_stage *st, const char *key)
{
  const char *s = json_string_value (json_object_get (cfg (st), key));
  return s ? s : "";
}

/* commitToHistory: append a history entry; layer entries of RUN/COPY/ADD end in " # buildkit". */
static void
commit_history (struct plan_stage *st, const char *created_by, bool with_layer)
{
  json_t *h = json_object_get (st->config, "history");
  json_t *e = json_object ();

  if (!json_is_array (h))
    {
      h = json_array ();
      json_object_set_new (st->config, "history", h);
    }
  json_object_set_new (e, "created_by", json_string (created_by));
  json_object_set_new (e, "comment", json_string (HISTORY_COMMENT));
  if (!with_layer)
    json_object_set_new (e, "empty_layer", json_true ());
  json_array_append_new (h, e);
}

/* The position of key in the config's Env array, or -1. Looked up through st->cfg_env, the
   array's keys with an index, made again whenever they are not the array's (a new config, one
   changed elsewhere); an array with repeated keys or non-strings is searched from the start. */
static ssize_t
config_env_find (struct plan_stage *st, json_t *env, const char *key, size_t klen)
{
  size_t i;

  if (st->cfg_env_of != env || st->cfg_env.n != json_array_size (env))
    {
      kv_release (&st->cfg_env);
      for (i = 0; i < json_array_size (env); i++)
        {
          const char *e = json_string_value (json_array_get (env, i));
          cleanup_free char *k = e ? xstrndup (e, kv_key_len (e)) : NULL;
          if (k)
            kv_set_bare (&st->cfg_env, k);
        }
      st->cfg_env_of = env;
    }
  if (st->cfg_env.n == json_array_size (env))
    {
      ssize_t at = kv_find (&st->cfg_env, key, klen);
      const char *e = at >= 0 ? json_string_value (json_array_get (env, (size_t) at)) : NULL;
      if (at < 0 || (e && kv_key_len (e) == klen && memcmp (e, key, klen) == 0))
        return at;
    }
  for (i = 0; i < json_array_size (env); i++)
    {
      const char *e = json_string_value (json_array_get (env, i));
      if (e && kv_key_len (e) == klen && memcmp (e, key, klen) == 0)
        return (ssize_t) i;
    }
  return -1;
}

/* The config's Env with key set (replaced in place, else appended): Go's addEnv. */
static void
config_add_env (struct plan_stage *st, const char *key, const char *value)
{
  json_t *env = json_object_get (cfg (st), "Env");
  cleanup_free char *entry = xasprintf ("%s=%s", key, value);
  ssize_t at;

  if (!json_is_array (env))
    {
      env = json_array ();
      json_object_set_new (cfg (st), "Env", env);
    }
  at = config_env_find (st, env, key, strlen (key));
  if (at >= 0)
    json_array_set_new (env, (size_t) at, json_string (entry));
  else
    {
      json_array_append_new (env, json_string (entry));
      if (st->cfg_env_of == env && st->cfg_env.n + 1 == json_array_size (env))
        kv_set_bare (&st->cfg_env, key);
    }
}

int
dispatch_expand (struct plan *p, struct plan_stage *st, const struct bale_span *span, const char *word,
                 size_t len, char **out, bale_error_t *err)
{
  struct words_lex lx = words_lex_default (p->df->escape);
  struct words_env env = kv_words_env (&st->env);
  cleanup_error bale_error_t e = NULL;
  struct plan_lint_vars *vars = p->lint_node ? plan_lint_vars_new () : NULL;
  int r;

  /* reportUnmatchedVariables runs for each word, before its error is returned. */
  if (vars)
    plan_lint_vars_hook (vars, &lx);
  r = words_process_word (&lx, word, len, &env, out, NULL, &e);
  if (vars)
    plan_lint_vars_report (p, st, p->lint_node, vars);
  plan_lint_vars_free (vars);
  if (r < 0)
    return plan_error_at (p, span, err, "%s", e ? e->msg : "invalid expansion");
  p->expanded += strlen (*out);
  if (p->expanded > PLAN_MAX_EXPANDED)
    {
      free (steal_pointer (out));
      return plan_error_at (p, span, err, "the Dockerfile's expansions add up to more than %zu MiB",
                            PLAN_MAX_EXPANDED >> 20);
    }
  return 0;
}

static const struct bale_flag *
flag (const struct bale_node *n, const char *name)
{
  return ast_flag_get (n, name);
}

/* A flag's value expanded, or NULL when the flag is absent. */
static int
expand_flag (struct plan *p, struct plan_stage *st, const struct bale_node *n, const char *name,
             char **out, bale_error_t *err)
{
  const struct bale_flag *f = flag (n, name);

  *out = NULL;
  if (f == NULL)
    return 0;
  return dispatch_expand (p, st, &f->span, f->value ? f->value : "", f->value ? strlen (f->value) : 0,
                          out, err);
}

static int
bool_flag (const struct bale_node *n, const char *name)
{
  const struct bale_flag *f = flag (n, name);

  if (f == NULL)
    return -1;
  return f->value == NULL || strcasecmp (f->value, "true") == 0 || strcmp (f->value, "1") == 0;
}

/* d.image.OS == "windows": there BuildKit gives a shebang heredoc to the shell as text. */
static bool
stage_is_windows (const struct plan_stage *st)
{
  const char *os = json_string_value (json_object_get (st->config, "os"));

  return os && strcmp (os, "windows") == 0;
}

/* withShell: the SHELL in effect (or the default) plus the words joined by spaces. */
static void
with_shell (struct plan_stage *st, const char *cmdline, char ***argv, size_t *argc)
{
  json_t *shell = json_object_get (cfg (st), "Shell");
  size_t i;

  if (json_is_array (shell) && json_array_size (shell) > 0)
    for (i = 0; i < json_array_size (shell); i++)
      argv_push (argv, argc, json_string_value (json_array_get (shell, i)));
  else
    {
      argv_push (argv, argc, "/bin/sh");
      argv_push (argv, argc, "-c");
    }
  argv_push (argv, argc, cmdline);
}

/* The command line of RUN/CMD/ENTRYPOINT: exec form as given, shell form through the shell. */
static void
command_line (struct plan_stage *st, const struct bale_node *n, size_t first, char ***argv, size_t *argc)
{
  size_t i;

  if (n->json)
    {
      for (i = first; i < n->n_args; i++)
        argv_push_n (argv, argc, n->args[i].value, n->args[i].len);
      if (*argv == NULL)
        *argv = xzalloc (sizeof (char *));
      return;
    }
  {
    cleanup_strbuf struct strbuf sb = STRBUF_INIT;
    for (i = first; i < n->n_args; i++)
      {
        if (i > first)
          strbuf_addch (&sb, ' ');
        strbuf_add (&sb, n->args[i].value, n->args[i].len);
      }
    with_shell (st, sb.buf, argv, argc);
  }
}

static void
snapshot_state (struct plan_stage *st, struct plan_step *s)
{
  const char *wd = cfg_string (st, "WorkingDir");

  s->env = kv_state_take (st->env_history); /* O(1): no copy a step */
  /* cleaned: the config keeps an absolute WORKDIR as written (F53), the steps' paths do not */
  s->workdir = dispatch_clean_path (wd);
  s->workdir_raw = strcmp (wd, s->workdir) != 0 ? xstrdup (wd) : NULL;
  s->user = xstrdup (cfg_string (st, "User"));
}

/* ---- instructions ---------------------------------------------------------------------- */

/* ENV and LABEL: key/value/separator triples, keys and values expanded. */
static int
dispatch_kv (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s,
             bale_error_t *err)
{
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  size_t i;

  strbuf_addstr (&msg, bale_instr_name (n->kind));
  for (i = 0; i + 1 < n->n_args; i += 3)
    {
      char *k, *v;
      if (dispatch_expand (p, st, &n->args[i].span, n->args[i].value, n->args[i].len, &k, err) < 0)
        return -1;
      if (dispatch_expand (p, st, &n->args[i + 1].span, n->args[i + 1].value, n->args[i + 1].len, &v, err) < 0)
        {
          free (k);
          return -1;
        }
      argv_push (&s->argv, &s->argc, k);
      argv_push (&s->argv, &s->argc, v);
      strbuf_addf (&msg, " %s=%s", k, v);
      free (k);
      free (v);
    }
  /* dispatchEnv, dispatchLabel: the checks of each pair. */
  for (i = 0; i + 1 < n->n_args; i += 3)
    {
      if (n->args[i + 2].len == 0)
        plan_lint (p, n, &n->span, LINT_LEGACY_KEY_VALUE_FORMAT,
                   "\"%s key=value\" should be used instead of legacy \"%s key value\" format", n->keyword, n->keyword);
      if (n->kind == BALE_I_ENV)
        plan_lint_secret_key (p, n, "ENV", s->argv[(i / 3) * 2]);
    }
  /* All words were expanded against the environment before the instruction; apply now. */
  for (i = 0; i + 1 < s->argc; i += 2)
    if (n->kind == BALE_I_ENV)
      {
        kv_history_record (&st->env_history, &st->env, kv_set (&st->env, s->argv[i], s->argv[i + 1]));
        config_add_env (st, s->argv[i], s->argv[i + 1]);
      }
    else
      json_object_set_new (cfg_map (st, "Labels"), s->argv[i], json_string (s->argv[i + 1]));
  s->created_by = strbuf_detach (&msg, NULL);
  return 0;
}

static int
dispatch_single (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s,
                 bale_error_t *err)
{
  cleanup_free char *v = NULL;
  const char *word = n->n_args ? n->args[0].value : "";
  size_t len = n->n_args ? n->args[0].len : 0;

  if (dispatch_expand (p, st, n->n_args ? &n->args[0].span : &n->span, word, len, &v, err) < 0)
    return -1;
  argv_push (&s->argv, &s->argc, v);
  switch (n->kind)
    {
    case BALE_I_USER:
      json_object_set_new (cfg (st), "User", json_string (v));
      s->created_by = xasprintf ("USER %s", v);
      break;
    case BALE_I_STOPSIGNAL:
      if (!signal_valid (v))
        return plan_error_at (p, &n->span, err, "Invalid signal: %s", v);
      json_object_set_new (cfg (st), "StopSignal", json_string (v));
      s->created_by = xasprintf ("STOPSIGNAL %s", v);
      break;
    default:
      abort ();
    }
  return 0;
}

static int
dispatch_workdir (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s,
                  bale_error_t *err)
{
  cleanup_free char *v = NULL;
  cleanup_free char *wd = NULL;

  if (dispatch_expand (p, st, n->n_args ? &n->args[0].span : &n->span, n->n_args ? n->args[0].value : "",
                       n->n_args ? n->args[0].len : 0, &v, err) < 0)
    return -1;
  wd = dispatch_normalize_workdir (cfg_string (st, "WorkingDir"), v);
  /* Linux resolves no longer path (chdir fails, and BuildKit's MkdirAll with it), and every
     directory of a deeper one costs its extraction a walk from the root: 32000 levels of
     "WORKDIR /a/a/..." on one line would make a 1 GB layer and hours of extraction. */
  if (strlen (wd) >= PATH_MAX)
    return plan_error_at (p, n->n_args ? &n->args[0].span : &n->span, err,
                          "WORKDIR: the path is longer than %d bytes", PATH_MAX - 1);
  if (!st->workdir_set && v[0] != '/')
    plan_lint (p, n, &n->span, LINT_WORKDIR_RELATIVE_PATH,
               "Relative workdir \"%s\" can have unexpected results if the base image changes", v);
  st->workdir_set = true;
  /* docker 20.10's BuildKit keeps an absolute path as written ("/a//b/." in WorkingDir and
     the history, FINDINGS F53); a relative one is joined to the current one and cleaned. */
  json_object_set_new (cfg (st), "WorkingDir", json_string (v[0] == '/' ? v : wd));
  argv_push (&s->argv, &s->argc, wd);
  s->created_by = xasprintf ("WORKDIR %s", v[0] == '/' ? v : wd);
  /* The directory is created (owned by the current USER) even when it exists: a layer.
     20.10's dispatchWorkdir skips the mkdir only when the path it stores is "/" itself: an
     absolute spelling of the root ("//", "/./", "/..") makes a layer, an empty one, and a
     relative path that leads to the root none (FINDINGS F58). */
  if (strcmp (v[0] == '/' ? v : wd, "/") != 0)
    {
      s->kind = PLAN_STEP_LAYER;
      snapshot_state (st, s);
    }
  return 0;
}

static int
dispatch_expose (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s,
                 bale_error_t *err)
{
  struct words_lex lx = words_lex_default (p->df->escape);
  struct words_env env = kv_words_env (&st->env);
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  const struct bale_word **sorted;
  char **ports = NULL;
  size_t n_ports = 0, i, j;
  int ret = 0;

  /* BuildKit sorts the raw items when it parses the instruction, before expansion. */
  sorted = xcalloc (n->n_args + 1, sizeof *sorted);
  for (i = 0; i < n->n_args; i++)
    sorted[i] = &n->args[i];
  for (i = 1; i < n->n_args; i++)
    for (j = i; j > 0 && strcmp (sorted[j - 1]->value, sorted[j]->value) > 0; j--)
      {
        const struct bale_word *t = sorted[j];
        sorted[j] = sorted[j - 1];
        sorted[j - 1] = t;
      }
  for (i = 0; ret == 0 && i < n->n_args; i++)
    {
      cleanup_error bale_error_t e = NULL;
      char **words = NULL;
      size_t nw = 0, k;

      if (words_process_words (&lx, sorted[i]->value, sorted[i]->len, &env, &words, &nw, &e) < 0)
        {
          ret = plan_error_at (p, &sorted[i]->span, err, "%s", e ? e->msg : "invalid expansion");
          break;
        }
      for (k = 0; ret == 0 && k < nw; k++)
        {
          cleanup_free char *msgerr = NULL;
          unsigned lint = expose_lint (words[k]);
          if (lint & EXPOSE_LINT_PROTO_CASE)
            plan_lint (p, n, &n->span, LINT_EXPOSE_PROTO_CASING,
                       "Defined protocol '%s' in EXPOSE instruction should be lowercase", words[k]);
          if (lint & EXPOSE_LINT_HOST)
            plan_lint (p, n, &n->span, LINT_EXPOSE_INVALID_FORMAT,
                       "EXPOSE instruction should not define an IP address or host-port mapping, found '%s'", words[k]);
          if (expose_parse (words[k], &ports, &n_ports, &msgerr) < 0)
            ret = plan_error_at (p, &sorted[i]->span, err, "%s", msgerr);
        }
      for (k = 0; k < nw; k++)
        free (words[k]);
      free (words);
    }
  free (sorted);
  if (ret == 0)
    {
      for (i = 0; i < n_ports; i++)
        {
          json_object_set_new (cfg_map (st, "ExposedPorts"), ports[i], json_object ());
          argv_push (&s->argv, &s->argc, ports[i]);
        }
      strbuf_addstr (&msg, "EXPOSE ");
      add_plain_list (&msg, ports, n_ports);
      s->created_by = strbuf_detach (&msg, NULL);
    }
  for (i = 0; i < n_ports; i++)
    free (ports[i]);
  free (ports);
  return ret;
}

static int
dispatch_volume (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s,
                 bale_error_t *err)
{
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  size_t i;

  for (i = 0; i < n->n_args; i++)
    {
      char *v;
      if (dispatch_expand (p, st, &n->args[i].span, n->args[i].value, n->args[i].len, &v, err) < 0)
        return -1;
      argv_push (&s->argv, &s->argc, v);
      free (v);
      if (s->argv[i][0] == '\0')
        return plan_error_at (p, &n->args[i].span, err, "VOLUME specified can not be an empty string");
    }
  for (i = 0; i < s->argc; i++)
    json_object_set_new (cfg_map (st, "Volumes"), s->argv[i], json_object ());
  strbuf_addstr (&msg, "VOLUME ");
  add_plain_list (&msg, s->argv, s->argc);
  s->created_by = strbuf_detach (&msg, NULL);
  return 0;
}

static void
dispatch_shell (struct plan_stage *st, const struct bale_node *n, struct plan_step *s)
{
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  size_t i;

  for (i = 0; i < n->n_args; i++)
    argv_push_n (&s->argv, &s->argc, n->args[i].value, n->args[i].len);
  json_object_set_new (cfg (st), "Shell", json_strv (s->argv, s->argc));
  strbuf_addstr (&msg, "SHELL ");
  add_plain_list (&msg, s->argv, s->argc);
  s->created_by = strbuf_detach (&msg, NULL);
}

/* validateUsedOnce: a second CMD, ENTRYPOINT or HEALTHCHECK makes the previous one useless,
   and the warning is about that one. */
static void
lint_used_once (struct plan *p, const struct bale_node *n, const struct bale_node **last)
{
  if (*last)
    plan_lint (p, n, &(*last)->span, LINT_MULTIPLE_INSTRUCTIONS_DISALLOWED,
               "Multiple %s instructions should not be used in the same stage because only the last one will be used",
               n->keyword);
  *last = n;
}

static void
dispatch_cmd (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s)
{
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  bool is_cmd = n->kind == BALE_I_CMD;

  lint_used_once (p, n, is_cmd ? &st->last_cmd : &st->last_entrypoint);
  if (!n->json && json_array_size (json_object_get (cfg (st), "Shell")) == 0)
    plan_lint (p, n, &n->span, LINT_JSON_ARGS_RECOMMENDED,
               "JSON arguments recommended for %s to prevent unintended behavior related to OS signals", n->keyword);
  command_line (st, n, 0, &s->argv, &s->argc);
  if (is_cmd)
    {
      json_object_set_new (cfg (st), "Cmd", json_strv (s->argv, s->argc));
      json_object_set_new (cfg (st), "ArgsEscaped", json_true ());
      st->cmd_set = true;
    }
  else
    {
      json_object_set_new (cfg (st), "Entrypoint", json_strv (s->argv, s->argc));
      /* An ENTRYPOINT drops every CMD but one set earlier in this very stage. */
      if (!st->cmd_set)
        json_object_del (cfg (st), "Cmd");
      st->entrypoint_set = true;
    }
  strbuf_addstr (&msg, is_cmd ? "CMD " : "ENTRYPOINT ");
  add_goquoted_list (&msg, s->argv, s->argc);
  s->created_by = strbuf_detach (&msg, NULL);
}

static int64_t
duration_flag (const struct bale_node *n, const char *name)
{
  const struct bale_flag *f = flag (n, name);
  int64_t ns = 0;

  if (f && f->value && !duration_parse (f->value, &ns))
    ns = 0; /* rejected by bale_validate already */
  return ns;
}

static void
dispatch_healthcheck (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s)
{
  static const char *const dur_flags[] = { "interval", "timeout", "start-period", "start-interval" };
  static const char *const dur_keys[] = { "Interval", "Timeout", "StartPeriod", "StartInterval" };
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  json_t *hc = json_object ();
  const char *type = n->n_args ? n->args[0].value : "";
  const struct bale_flag *retries = flag (n, "retries");
  long long r = retries && retries->value ? strtoll (retries->value, NULL, 10) : 0;
  size_t i;

  lint_used_once (p, n, &st->last_healthcheck);
  if (strcasecmp (type, "NONE") == 0)
    argv_push (&s->argv, &s->argc, "NONE");
  else if (n->json)
    {
      argv_push (&s->argv, &s->argc, "CMD");
      for (i = 1; i < n->n_args; i++)
        argv_push_n (&s->argv, &s->argc, n->args[i].value, n->args[i].len);
    }
  else
    {
      cleanup_strbuf struct strbuf line = STRBUF_INIT;
      for (i = 1; i < n->n_args; i++)
        {
          if (i > 1)
            strbuf_addch (&line, ' ');
          strbuf_add (&line, n->args[i].value, n->args[i].len);
        }
      argv_push (&s->argv, &s->argc, "CMD-SHELL");
      argv_push (&s->argv, &s->argc, line.buf);
    }
  json_object_set_new (hc, "Test", json_strv (s->argv, s->argc));
  strbuf_addstr (&msg, "HEALTHCHECK {Test:");
  add_plain_list (&msg, s->argv, s->argc);
  for (i = 0; i < 4; i++)
    {
      char buf[DURATION_STRLEN];
      int64_t ns = duration_flag (n, dur_flags[i]);
      if (ns)
        json_object_set_new (hc, dur_keys[i], json_integer (ns));
      strbuf_addf (&msg, " %s:%s", dur_keys[i], duration_format (ns, buf));
    }
  if (r)
    json_object_set_new (hc, "Retries", json_integer (r));
  strbuf_addf (&msg, " Retries:%lld}", r);
  json_object_set_new (cfg (st), "Healthcheck", hc);
  st->healthcheck_set = true;
  s->created_by = strbuf_detach (&msg, NULL);
}

/* The stage's ARG list entry for key: inherited and declared ARGs, "K=V" or "K". */
static void
stage_args_set (struct plan_stage *st, const char *key, const char *value)
{
  if (value)
    kv_set (&st->args, key, value);
  else
    kv_set_bare (&st->args, key);
}

static int
dispatch_arg (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s,
              bale_error_t *err)
{
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  size_t i;

  strbuf_addstr (&msg, "ARG");
  for (i = 0; i < n->n_args; i++)
    {
      const char *word = n->args[i].value, *eq = strchr (word, '=');
      cleanup_free char *key = eq ? xstrndup (word, (size_t) (eq - word)) : xstrdup (word);
      cleanup_free char *value = NULL;
      const char *given = kv_get (&p->build_args, key);

      plan_lint_secret_key (p, n, "ARG", key);
      if (given)
        value = xstrdup (given);
      else if (eq)
        {
          if (dispatch_expand (p, st, &n->args[i].span, eq + 1, strlen (eq + 1), &value, err) < 0)
            return -1;
        }
      else if (kv_get (&p->global_args, key))
        value = xstrdup (kv_get (&p->global_args, key)); /* importing a global ARG */
      plan_consume_build_arg (p, key);
      if (value && strcmp (key, "BUILDKIT_SBOM_SCAN_CONTEXT") && strcmp (key, "BUILDKIT_SBOM_SCAN_STAGE"))
        kv_history_record (&st->env_history, &st->env, kv_set (&st->env, key, value));
      stage_args_set (st, key, value);
      {
        cleanup_free char *entry = value ? xasprintf ("%s=%s", key, value) : xstrdup (key);
        strbuf_addf (&msg, " %s", entry);
        argv_push (&s->argv, &s->argc, entry);
      }
    }
  s->created_by = strbuf_detach (&msg, NULL);
  return 0;
}

/* Go's ChompHeredocContent: leading tabs of every line removed. */
static char *
chomp (const char *data, size_t len, size_t *out_len)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  bool bol = true;
  size_t i;

  for (i = 0; i < len; i++)
    {
      if (bol && data[i] == '\t')
        continue;
      bol = data[i] == '\n';
      strbuf_addch (&sb, data[i]);
    }
  return strbuf_detach (&sb, out_len);
}

static void
add_file (struct plan_step *s, const char *name, char *data, size_t len)
{
  s->files = xrealloc (s->files, (s->n_files + 1) * sizeof *s->files);
  s->files[s->n_files].name = xstrdup (name);
  s->files[s->n_files].data = data;
  s->files[s->n_files].len = len;
  s->n_files++;
}

/* dockerfile2llb makes a heredoc's file with llb.Mkfile(NAME) in an empty scratch: NAME is
   cleaned against "/", which drops a leading "..", and only a name left with one component
   can be made there: "a/b" or "../../etc/x" fail (open /etc/x: no such file or directory),
   "." and ".." too (open /: is a directory). A RUN script is then run as path.Join
   ("/dev/pipes/", NAME), which for "../x" is /x, not the script. 0 when NAME is a file
   name; otherwise -1 with a located error. */
static int
heredoc_name_check (const struct plan *p, const struct bale_span *span, const char *instr,
                    const char *name, bool run, bale_error_t *err)
{
  cleanup_free char *abs = xasprintf ("/%s", name);
  cleanup_free char *clean = dispatch_clean_path (abs);
  cleanup_free char *piped = NULL;

  if (strcmp (clean, "/") == 0)
    return plan_error_at (p, span, err, "%s <<%s: a heredoc's name must be a file name: BuildKit "
                          "makes it as / in an empty directory (open /: is a directory)",
                          instr, name);
  if (strchr (clean + 1, '/'))
    return plan_error_at (p, span, err, "%s <<%s: a heredoc's name must be a file name: BuildKit "
                          "makes it as %s in an empty directory (open %s: no such file or "
                          "directory)", instr, name, clean, clean);
  if (!run)
    return 0;
  piped = xasprintf ("/dev/pipes/%s", name);
  free (abs);
  abs = dispatch_clean_path (piped);
  if (strcmp (abs + strlen ("/dev/pipes"), clean) != 0)
    return plan_error_at (p, span, err, "%s <<%s: BuildKit mounts the script at /dev/pipes%s but "
                          "runs %s, which is not it", instr, name, clean, abs);
  return 0;
}

/* runCommandString: "|N K=V ... " for the stage's ARGs (value from the env, else the ARG's),
   then the argv. */
static char *
run_created_by (struct plan_stage *st, char *const *argv, size_t argc)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  size_t i;

  strbuf_addstr (&sb, "RUN ");
  if (st->args.n)
    strbuf_addf (&sb, "|%zu ", st->args.n);
  for (i = 0; i < st->args.n; i++)
    {
      size_t klen = kv_key_len (st->args.kv[i]);
      cleanup_free char *key = xstrndup (st->args.kv[i], klen);
      const char *v = kv_get (&st->env, key);
      if (v == NULL)
        v = st->args.kv[i][klen] == '=' ? st->args.kv[i] + klen + 1 : "";
      strbuf_addf (&sb, "%s=%s ", key, v);
    }
  for (i = 0; i < argc; i++)
    {
      if (i)
        strbuf_addch (&sb, ' ');
      strbuf_addstr (&sb, argv[i]);
    }
  strbuf_addstr (&sb, " # buildkit");
  return strbuf_detach (&sb, NULL);
}

static int
dispatch_run (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s,
              bale_error_t *err)
{
  size_t i;

  for (i = 0; i < n->n_flags; i++)
    {
      const struct bale_flag *f = &n->flags[i];
      char *v;

      if (strcmp (f->name, "mount") == 0)
        {
          if (dispatch_expand (p, st, &f->span, f->value ? f->value : "", f->value ? strlen (f->value) : 0, &v, err) < 0)
            return -1;
          cleanup_free char *value = v;
          cleanup_error bale_error_t e = NULL;
          struct plan_mount *m;
          s->mounts = xrealloc (s->mounts, (s->n_mounts + 1) * sizeof *s->mounts);
          s->mount_from = xrealloc (s->mount_from, (s->n_mounts + 1) * sizeof *s->mount_from);
          m = &s->mounts[s->n_mounts];
          s->mount_from[s->n_mounts].stage = -1;
          s->mount_from[s->n_mounts].image = NULL;
          s->n_mounts++;
          /* Located at the instruction, as BuildKit reports a bad --mount. */
          if (plan_mount_parse (value, m, &e) < 0)
            return plan_error_at (p, &n->span, err, "%s", e->msg);
          /* docker 20.10's dispatchRunMounts joins a target to the working directory, takes
             the working directory itself when there is none (a cache, bind or tmpfs
             mount), and refuses "/" (FINDINGS F64). */
          if (m->type != PLAN_MOUNT_SECRET && m->type != PLAN_MOUNT_SSH)
            {
              cleanup_free char *t = dispatch_normalize_workdir (cfg_string (st, "WorkingDir"),
                                                                 m->target ? m->target : "");
              if (strcmp (t, "/") == 0)
                return plan_error_at (p, &n->span, err, "invalid mount target \"/\"");
              if (!m->target)
                m->target = xstrdup (t);
            }
          if (plan_mount_source (p, st, f, m, &s->mount_from[s->n_mounts - 1], err) < 0)
            return -1;
        }
      else if (strcmp (f->name, "network") == 0)
        {
          const char *mode = f->value ? f->value : "";
          /* BuildKit's modes; a named network (docker's bridge and the like) bale has not. */
          if (strcmp (mode, "default") != 0 && strcmp (mode, "none") != 0 && strcmp (mode, "host") != 0)
            return plan_error_at (p, &f->span, err, "RUN --network: unsupported network mode "
                                  "'%s' (want default, none or host)", mode);
          free (s->network);
          s->network = xstrdup (mode);
        }
      else if (strcmp (f->name, "security") == 0)
        {
          const char *mode = f->value ? f->value : "";
          if (strcmp (mode, "sandbox") != 0 && strcmp (mode, "insecure") != 0)
            return plan_error_at (p, &f->span, err, "RUN --security: unsupported security mode "
                                  "'%s' (want sandbox or insecure)", mode);
          free (s->security);
          s->security = xstrdup (mode);
        }
    }
  if (s->security && strcmp (s->security, "insecure") == 0 && !p->allow_insecure)
    return plan_error_at (p, &flag (n, "security")->span, err,
                          "RUN --security=insecure runs the step with every capability and no "
                          "seccomp filter: it needs `bale build --allow security.insecure`");
  if (n->n_heredocs > 0 && !n->json)
    {
      struct bale_heredoc hd = { 0 };
      cleanup_error bale_error_t e = NULL;
      const char *line = n->n_args ? n->args[0].value : "";

      if (n->n_heredocs == 1 && heredoc_parse_word (line, &hd, &e) == 1)
        {
          size_t len = n->heredocs[0].content_len;
          char *data = n->heredocs[0].chomp ? chomp (n->heredocs[0].content, len, &len)
                                            : xmemdup0 (n->heredocs[0].content, len);
          free (hd.name);
          if (len >= 2 && data[0] == '#' && data[1] == '!' && !stage_is_windows (st))
            {
              /* A script with a shebang is a file mounted at /dev/pipes/NAME; the RUN is still
                 shell form, so dispatchRun runs it through the shell in effect. */
              char *path;
              if (heredoc_name_check (p, &n->args[0].span, "RUN", n->heredocs[0].name, true, err) < 0)
                {
                  free (data);
                  return -1;
                }
              {
                cleanup_free char *joined = xasprintf ("/dev/pipes/%s", n->heredocs[0].name);
                path = dispatch_clean_path (joined); /* path.Join, as dispatchRun */
              }
              add_file (s, n->heredocs[0].name, data, len);
              with_shell (st, path, &s->argv, &s->argc);
              free (path);
            }
          else
            {
              with_shell (st, data, &s->argv, &s->argc);
              free (data);
            }
        }
      else
        {
          cleanup_strbuf struct strbuf sb = STRBUF_INIT;
          free (hd.name);
          strbuf_addstr (&sb, line);
          for (i = 0; i < n->n_heredocs; i++)
            {
              strbuf_addch (&sb, '\n');
              strbuf_add (&sb, n->heredocs[i].content, n->heredocs[i].content_len);
              strbuf_addstr (&sb, n->heredocs[i].name);
            }
          with_shell (st, sb.buf, &s->argv, &s->argc);
        }
    }
  else
    command_line (st, n, 0, &s->argv, &s->argc);
  s->kind = PLAN_STEP_LAYER;
  snapshot_state (st, s);
  s->created_by = run_created_by (st, s->argv, s->argc);
  return 0;
}

static int
dispatch_copy (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_step *s,
               bale_error_t *err)
{
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  bool is_add = n->kind == BALE_I_ADD;
  struct words_lex raw = words_lex_default ('\\');
  struct words_env env = kv_words_env (&st->env);
  size_t i;

  raw.skip_process_quotes = true;
  if (!is_add && flag (n, "from") && plan_source_resolve (p, st, flag (n, "from"), &s->from, err) < 0)
    return -1;
  if (expand_flag (p, st, n, "chown", &s->chown, err) < 0 || expand_flag (p, st, n, "chmod", &s->chmod, err) < 0
      || (is_add && expand_flag (p, st, n, "checksum", &s->checksum, err) < 0))
    return -1;
  /* dispatchCopy's check, only for a stage the build needs (FINDINGS F54) */
  if (s->chmod && s->chmod[0] >= '0' && s->chmod[0] <= '9')
    {
      char *end;
      unsigned long m = strtoul (s->chmod, &end, 8);
      if (*end != '\0' || m > 07777)
        return plan_error_at (p, &flag (n, "chmod")->span, err,
                              "invalid chmod parameter: '%s'. it should be octal string and between 0 and 07777",
                              s->chmod);
    }
  s->link = bool_flag (n, "link") == 1;
  s->parents = bool_flag (n, "parents") == 1;
  s->keep_git_dir = bool_flag (n, "keep-git-dir") == 1;
  s->unpack = bool_flag (n, "unpack");
  for (i = 0; i < n->n_flags; i++)
    if (strcmp (n->flags[i].name, "exclude") == 0)
      {
        s->exclude = xrealloc (s->exclude, (s->n_exclude + 1) * sizeof (char *));
        s->exclude[s->n_exclude++] = xstrdup (n->flags[i].value ? n->flags[i].value : "");
      }
  /* --exclude is not expanded (instructions.CopyCommand.Expand leaves ExcludePatterns as
     written); its patterns are checked here as fsutil's copier compiles them. */
  if (s->n_exclude)
    {
      struct ignore_matcher *m = NULL;
      cleanup_error bale_error_t e = NULL;
      if (ignore_matcher_from_list (s->exclude, s->n_exclude, &m, &e) < 0)
        return plan_error_at (p, &n->span, err, "%s --exclude: invalid pattern: %s", is_add ? "ADD" : "COPY",
                              e->msg);
      ignore_matcher_free (m);
    }

  /* Sources that are heredocs become inline files; the rest are paths, expanded. */
  for (i = 0; i + 1 < n->n_args; i++)
    {
      const struct bale_heredoc *hd = NULL;
      size_t k;
      char *v;

      if (n->args[i].len > 2 && strncmp (n->args[i].value, "<<", 2) == 0)
        for (k = 0; k < n->n_heredocs && hd == NULL; k++)
          {
            struct bale_heredoc parsed = { 0 };
            cleanup_error bale_error_t e = NULL;
            if (heredoc_parse_word (n->args[i].value, &parsed, &e) == 1 && strcmp (parsed.name, n->heredocs[k].name) == 0)
              hd = &n->heredocs[k];
            free (parsed.name);
          }
      if (hd)
        {
          size_t len = hd->content_len;
          char *data;
          if (heredoc_name_check (p, &n->args[i].span, bale_instr_name (n->kind), hd->name, false, err) < 0)
            return -1;
          data = hd->chomp ? chomp (hd->content, len, &len) : xmemdup0 (hd->content, len);
          if (hd->expand)
            {
              cleanup_error bale_error_t e = NULL;
              char *x = NULL;
              size_t xlen = 0;
              if (words_process_word (&raw, data, len, &env, &x, &xlen, &e) < 0)
                {
                  free (data);
                  return plan_error_at (p, &hd->span, err, "%s", e ? e->msg : "invalid expansion");
                }
              free (data);
              data = x;
              len = xlen;
            }
          add_file (s, hd->name, data, len);
          continue;
        }
      if (dispatch_expand (p, st, &n->args[i].span, n->args[i].value, n->args[i].len, &v, err) < 0)
        return -1;
      /* the build context's files only: not --from, not a URL or a git remote of ADD */
      if (s->from.stage < 0 && s->from.image == NULL
          && !(is_add && (strncmp (v, "http://", 7) == 0 || strncmp (v, "https://", 8) == 0
                          || strncmp (v, "git@", 4) == 0 || strncmp (v, "git://", 6) == 0)))
        plan_lint_copy_source (p, n, v);
      argv_push (&s->argv, &s->argc, v);
      free (v);
    }
  /* As dockerfile2llb's dispatchCopy: a checksum is for one remote source (fuzzer finding
     F34: a local file's was ignored). */
  if (is_add && s->checksum && *s->checksum)
    {
      const char *v = s->argc == 1 ? s->argv[0] : "";
      if (s->argc != 1)
        return plan_error_at (p, &n->span, err, "checksum can't be specified for multiple sources");
      if (strncmp (v, "http://", 7) != 0 && strncmp (v, "https://", 8) != 0 && strncmp (v, "git@", 4) != 0
          && strncmp (v, "git://", 6) != 0 && strncmp (v, "ssh://", 6) != 0)
        return plan_error_at (p, &n->span, err, "checksum requires HTTP(S) or Git sources");
    }
  for (i = 0; i < s->n_files; i++)
    {
      char *w = xasprintf ("<<%s", s->files[i].name);
      argv_push (&s->argv, &s->argc, w);
      free (w);
    }
  {
    const struct bale_word *d = &n->args[n->n_args - 1];
    char *v;
    if (dispatch_expand (p, st, &d->span, d->value, d->len, &v, err) < 0)
      return -1;
    if (strlen (v) + (v[0] == '/' || !cfg_string (st, "WorkingDir") ? 0 : strlen (cfg_string (st, "WorkingDir")) + 1)
        >= PATH_MAX)
      {
        free (v);
        return plan_error_at (p, &d->span, err, "the destination is longer than %d bytes", PATH_MAX - 1);
      }
    argv_push (&s->argv, &s->argc, v);
    free (v);
  }
  strbuf_addstr (&msg, is_add ? "ADD" : "COPY");
  if (s->parents)
    strbuf_addstr (&msg, " --parents");
  if (s->chown && *s->chown)
    strbuf_addf (&msg, " --chown=%s", s->chown);
  if (s->chmod && *s->chmod)
    strbuf_addf (&msg, " --chmod=%s", s->chmod);
  for (i = 0; i < s->argc; i++)
    strbuf_addf (&msg, " %s", s->argv[i]);
  strbuf_addstr (&msg, " # buildkit");
  s->kind = PLAN_STEP_LAYER;
  snapshot_state (st, s);
  s->created_by = strbuf_detach (&msg, NULL);
  return 0;
}

/* The trigger text of ONBUILD: the line without the ONBUILD keyword (BuildKit's regexp
   `(?i)^\s*ONBUILD\s*`), then "\n" + body + name for each heredoc, as parseOnBuild stores it
   so that the child parses the trigger with its bodies. */
char *
dispatch_onbuild_expression (const struct bale_node *n)
{
  struct strbuf sb = STRBUF_INIT;
  const char *s = n->original;
  size_t i;

  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
    s++;
  if (strncasecmp (s, "ONBUILD", 7) == 0)
    s += 7;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
    s++;
  strbuf_addstr (&sb, s);
  for (i = 0; i < n->n_heredocs; i++)
    {
      strbuf_addch (&sb, '\n');
      strbuf_add (&sb, n->heredocs[i].content, n->heredocs[i].content_len);
      strbuf_addstr (&sb, n->heredocs[i].name);
    }
  return strbuf_detach (&sb, NULL);
}

int
plan_dispatch (struct plan *p, struct plan_stage *st, const struct bale_node *n, bool onbuild,
               bale_error_t *err)
{
  struct plan_step *s;
  int ret = 0;

  st->steps = xgrow_one (st->steps, st->n_steps, sizeof *st->steps);
  s = &st->steps[st->n_steps++];
  memset (s, 0, sizeof *s);
  s->instr = n->kind;
  s->kind = PLAN_STEP_META;
  s->node = n;
  s->onbuild = onbuild;
  s->from.stage = -1;
  s->unpack = -1;
  p->lint_node = n;

  switch (n->kind)
    {
    case BALE_I_ENV:
    case BALE_I_LABEL:
      ret = dispatch_kv (p, st, n, s, err);
      break;
    case BALE_I_MAINTAINER:
      argv_push (&s->argv, &s->argc, n->n_args ? n->args[0].value : "");
      json_object_set_new (st->config, "author", json_string (s->argv[0]));
      s->created_by = xasprintf ("MAINTAINER %s", s->argv[0]);
      break;
    case BALE_I_USER:
    case BALE_I_STOPSIGNAL:
      ret = dispatch_single (p, st, n, s, err);
      break;
    case BALE_I_WORKDIR:
      ret = dispatch_workdir (p, st, n, s, err);
      break;
    case BALE_I_EXPOSE:
      ret = dispatch_expose (p, st, n, s, err);
      break;
    case BALE_I_VOLUME:
      ret = dispatch_volume (p, st, n, s, err);
      break;
    case BALE_I_SHELL:
      dispatch_shell (st, n, s);
      break;
    case BALE_I_CMD:
    case BALE_I_ENTRYPOINT:
      dispatch_cmd (p, st, n, s);
      break;
    case BALE_I_HEALTHCHECK:
      dispatch_healthcheck (p, st, n, s);
      break;
    case BALE_I_ARG:
      ret = dispatch_arg (p, st, n, s, err);
      break;
    case BALE_I_RUN:
      ret = dispatch_run (p, st, n, s, err);
      break;
    case BALE_I_COPY:
    case BALE_I_ADD:
      ret = dispatch_copy (p, st, n, s, err);
      break;
    case BALE_I_ONBUILD:
      {
        json_t *ob = json_object_get (cfg (st), "OnBuild");
        char *expr = dispatch_onbuild_expression (n);
        if (!json_is_array (ob))
          {
            ob = json_array ();
            json_object_set_new (cfg (st), "OnBuild", ob);
          }
        json_array_append_new (ob, json_string (expr));
        argv_push (&s->argv, &s->argc, expr);
        free (expr);
      }
      break;
    case BALE_I_FROM:
    case BALE_I_UNKNOWN:
    default:
      return plan_error_at (p, &n->span, err, "%s cannot be dispatched here", n->keyword);
    }
  p->lint_node = NULL;
  if (ret < 0)
    return ret;
  if (s->created_by)
    commit_history (st, s->created_by, s->kind == PLAN_STEP_LAYER);
  return 0;
}
