/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From a parsed Dockerfile to a build plan, in the order of BuildKit's toDispatchState:
 * global arguments, stages and their bases, the target, the dependency graph, base image
 * resolution and ONBUILD triggers, then the dispatch of every reachable stage.
 */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codegen/dispatch.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "codegen/plan.h"
#include "lexer/words.h"
#include "parser/ast.h"
#include "parser/suggest.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* ---- diagnostics ------------------------------------------------------------------------ */

static void
plan_warning (struct plan *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
plan_warning (struct plan *p, const char *fmt, ...)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  bale_error_t e = NULL;
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  bale_make_error (&e, 0, "%s", sb.buf);
  e->severity = BALE_SEVERITY_WARNING;
  bale_error_join (&p->warnings, &e);
}

/* ---- arguments ---------------------------------------------------------------------------- */

static bool
is_proxy_arg (const char *entry)
{
  /* docker 20.10's (BuildKit 0.8's proxyEnvFromBuildArgs); ALL_PROXY came later, and 20.10
     gives a RUN no ALL_PROXY it was not declared for (FINDINGS F65). */
  static const char *const names[] = { "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY" };
  size_t i, klen = kv_key_len (entry);

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen (names[i]) == klen && strncasecmp (entry, names[i], klen) == 0)
      return true;
  return false;
}

/* proxyEnvFromBuildArgs plus the executor's proxyEnvList: each proxy value in both cases. */
static void
collect_proxy_env (struct plan *p)
{
  size_t i;

  for (i = 0; i < p->build_args.n; i++)
    if (is_proxy_arg (p->build_args.kv[i]))
      {
        const char *entry = p->build_args.kv[i];
        size_t klen = kv_key_len (entry), k;
        const char *v = entry[klen] == '=' ? entry + klen + 1 : "";
        char upper[16], lower[16];

        if (*v == '\0' || klen >= sizeof upper)
          continue;
        for (k = 0; k < klen; k++)
          {
            upper[k] = (char) toupper ((unsigned char) entry[k]);
            lower[k] = (char) tolower ((unsigned char) entry[k]);
          }
        upper[klen] = lower[klen] = '\0';
        kv_set (&p->proxy_env, upper, v);
        kv_set (&p->proxy_env, lower, v);
        p->consumed[i] = true; /* predefined: usable without an ARG */
      }
}

/* defaultArgs: the automatic platform arguments and TARGETSTAGE, build args overriding. */
static void
default_args (struct plan *p, const char *target_name)
{
  cleanup_free char *bp = platform_format (&p->build_platform);
  cleanup_free char *tp = platform_format (&p->target_platform);
  const char *defaults[][2] = {
    { "BUILDPLATFORM", bp },
    { "BUILDOS", p->build_platform.os },
    { "BUILDOSVERSION", p->build_platform.os_version ? p->build_platform.os_version : "" },
    { "BUILDARCH", p->build_platform.arch },
    { "BUILDVARIANT", p->build_platform.variant ? p->build_platform.variant : "" },
    { "TARGETPLATFORM", tp },
    { "TARGETOS", p->target_platform.os },
    { "TARGETOSVERSION", p->target_platform.os_version ? p->target_platform.os_version : "" },
    { "TARGETARCH", p->target_platform.arch },
    { "TARGETVARIANT", p->target_platform.variant ? p->target_platform.variant : "" },
    { "TARGETSTAGE", target_name && *target_name ? target_name : "default" },
  };
  size_t i;

  for (i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    {
      const char *given = kv_get (&p->build_args, defaults[i][0]);
      kv_set (&p->global_args, defaults[i][0], given ? given : defaults[i][1]);
      if (given)
        plan_consume_build_arg (p, defaults[i][0]);
    }
}

/* Split an ARG word "K=V" / "K". *value is NULL when there is no '='. */
static char *
arg_key (const char *word, const char **value)
{
  const char *eq = strchr (word, '=');

  *value = eq ? eq + 1 : NULL;
  return eq ? xstrndup (word, (size_t) (eq - word)) : xstrdup (word);
}

/* buildMetaArgs: ARGs before the first FROM, defaults expanded against the globals so far;
   a build arg replaces the default without expansion. */
static int
meta_args (struct plan *p, const struct bale_node *n, bale_error_t *err)
{
  struct words_lex lx = words_lex_default (p->df->escape);
  size_t i;

  for (i = 0; i < n->n_args; i++)
    {
      const char *def;
      cleanup_free char *key = arg_key (n->args[i].value, &def);
      const char *given = kv_get (&p->build_args, key);
      cleanup_free char *value = NULL;

      plan_consume_build_arg (p, key);
      if (given)
        value = xstrdup (given);
      else if (def)
        {
          struct words_env env = kv_words_env (&p->global_args);
          cleanup_error bale_error_t e = NULL;
          if (words_process_word (&lx, def, strlen (def), &env, &value, NULL, &e) < 0)
            return plan_error_at (p, &n->args[i].span, err, "%s", e ? e->msg : "invalid expansion");
        }
      if (value)
        kv_set (&p->global_args, key, value);
    }
  return 0;
}

/* ---- stages ------------------------------------------------------------------------------ */

static void
stage_add_cmd (struct plan_stage *st, const struct bale_node *n, bool onbuild, bool prepend)
{
  st->cmds = xgrow_one (st->cmds, st->n_cmds, sizeof *st->cmds);
  st->cmd_onbuild = xgrow_one (st->cmd_onbuild, st->n_cmds, sizeof *st->cmd_onbuild);
  if (prepend)
    {
      memmove (st->cmds + 1, st->cmds, st->n_cmds * sizeof *st->cmds);
      memmove (st->cmd_onbuild + 1, st->cmd_onbuild, st->n_cmds * sizeof *st->cmd_onbuild);
      st->cmds[0] = n;
      st->cmd_onbuild[0] = onbuild;
    }
  else
    {
      st->cmds[st->n_cmds] = n;
      st->cmd_onbuild[st->n_cmds] = onbuild;
    }
  st->n_cmds++;
}

/* buildDispatchStates: FROM names and platforms expanded against the global args. */
static int
add_stage (struct plan *p, const struct bale_node *from, bale_error_t *err)
{
  struct words_lex lx = words_lex_default (p->df->escape);
  struct words_env env = kv_words_env (&p->global_args);
  cleanup_error bale_error_t e = NULL;
  struct plan_stage *st;
  const struct bale_flag *plat = ast_flag_get (from, "platform");
  char *base = NULL;

  p->stages = xrealloc (p->stages, (p->n_stages + 1) * sizeof *p->stages);
  st = &p->stages[p->n_stages];
  memset (st, 0, sizeof *st);
  st->index = (int) p->n_stages;
  st->from = from;
  st->base_stage = -1;
  p->n_stages++;

  if (from->n_args >= 3)
    {
      size_t i;
      st->name = xstrdup (from->args[2].value);
      for (i = 0; st->name[i]; i++)
        st->name[i] = (char) tolower ((unsigned char) st->name[i]);
      /* BuildKit only lints this (DuplicateStageName) and then lets the last one win for
         names; a reference could silently mean the wrong stage, so it is an error here. */
      for (i = 0; i + 1 < p->n_stages; i++)
        if (p->stages[i].name && strcmp (p->stages[i].name, st->name) == 0)
          return plan_error_at (p, &from->args[2].span, err,
                                "Duplicate stage name \"%s\", stage names should be unique",
                                from->args[2].value);
    }
  st->display = st->name ? xstrdup (st->name) : xasprintf ("stage-%d", st->index);
  plan_lint_from (p, from, &env, plat);

  if (words_process_word (&lx, from->args[0].value, from->args[0].len, &env, &base, NULL, &e) < 0)
    return plan_error_at (p, &from->args[0].span, err, "%s", e->msg);
  if (*base == '\0')
    {
      free (base);
      return plan_error_at (p, &from->args[0].span, err, "base name (%s) should not be blank", from->args[0].value);
    }
  st->base = base;
  if (plat && plat->value)
    {
      char *v = NULL;
      if (words_process_word (&lx, plat->value, strlen (plat->value), &env, &v, NULL, &e) < 0)
        return plan_error_at (p, &plat->span, err, "failed to process arguments for platform %s: %s", plat->value, e->msg);
      st->platform_spec = v;
      if (*v == '\0')
        return plan_error_at (p, &plat->span, err, "empty platform value from expression %s", plat->value);
      if (platform_parse (v, &st->platform, &e) < 0)
        return plan_error_at (p, &plat->span, err, "failed to parse platform %s: %s", plat->value, e->msg);
    }
  /* addState: the base is an earlier stage when the name matches exactly (stage names are
     stored lowercased, the base name is not folded). */
  {
    size_t i;
    for (i = 0; i + 1 < p->n_stages; i++)
      if (p->stages[i].name && strcmp (p->stages[i].name, st->base) == 0)
        st->base_stage = (int) i;
  }
  if (st->base_stage < 0 && strcmp (st->base, "scratch") == 0)
    st->base_scratch = true;
  return 0;
}

static void
add_dep (struct plan_stage *st, int dep)
{
  size_t i;

  for (i = 0; i < st->n_deps; i++)
    if (st->deps[i] == dep)
      return;
  st->deps = xrealloc (st->deps, (st->n_deps + 1) * sizeof *st->deps);
  st->deps[st->n_deps++] = dep;
}

/* buildStageDependencyGraph for one instruction: COPY --from and RUN --mount from=. */
static int
node_deps (struct plan *p, struct plan_stage *st, const struct bale_node *n, bale_error_t *err)
{
  struct plan_source src = { -1, NULL };
  size_t i;

  if (n->kind == BALE_I_COPY && ast_flag_get (n, "from"))
    {
      const struct bale_flag *f = ast_flag_get (n, "from");
      if (plan_from_flag_lookup (p, f, &src, err) < 0)
        return -1;
      if (src.stage >= 0)
        add_dep (st, src.stage);
      free (src.image);
    }
  for (i = 0; n->kind == BALE_I_RUN && i < n->n_flags; i++)
    if (strcmp (n->flags[i].name, "mount") == 0 && n->flags[i].value)
      {
        cleanup_free char *from = NULL;
        /* docker 20.10's BuildKit parses every stage's --mount (unexpanded) before it builds
           any: a bad one fails a stage the target does not need too (FINDINGS F54). One with
           a variable is checked when it is dispatched, expanded, as today's BuildKit does. */
        if (!strchr (n->flags[i].value, '$'))
          {
            struct plan_mount m;
            cleanup_error bale_error_t e = NULL;
            int bad = plan_mount_parse (n->flags[i].value, &m, &e);
            plan_mount_release (&m);
            if (bad < 0)
              return plan_error_at (p, &n->span, err, "%s", e->msg);
          }
        from = plan_mount_from (n->flags[i].value);
        if (from == NULL)
          continue;
        if (plan_source_lookup (p, from, &n->flags[i].span, &src, err) < 0)
          return -1;
        if (src.stage >= 0)
          add_dep (st, src.stage);
        free (src.image);
      }
  return 0;
}

/* validateCircularDependency: a depth-first walk over bases and dependencies. */
static int
check_cycles (struct plan *p, int s, int *state, bale_error_t *err)
{
  struct plan_stage *st = &p->stages[s];
  size_t i;

  if (state[s] == 2)
    return 0;
  if (state[s] == 1)
    return plan_error_at (p, &st->from->span, err, "circular dependency detected on stage: %s", st->display);
  state[s] = 1;
  if (st->base_stage >= 0 && check_cycles (p, st->base_stage, state, err) < 0)
    return -1;
  for (i = 0; i < st->n_deps; i++)
    if (check_cycles (p, st->deps[i], state, err) < 0)
      return -1;
  state[s] = 2;
  return 0;
}

static void
mark_reachable (struct plan *p, int s)
{
  struct plan_stage *st = &p->stages[s];
  size_t i;

  if (st->reachable)
    return;
  st->reachable = true;
  if (st->base_stage >= 0)
    mark_reachable (p, st->base_stage);
  for (i = 0; i < st->n_deps; i++)
    mark_reachable (p, st->deps[i]);
}

/* ---- base images ---------------------------------------------------------------------------- */

/* The fields BuildKit's DockerOCIImage keeps when it reads a base config; others are dropped. */
static json_t *
filter_base_config (const json_t *src)
{
  static const char *const top[] = { "author", "architecture", "variant", "os", "os.version", "os.features",
                                     "config", "rootfs", "history", NULL };
  static const char *const inner[] = { "User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes",
                                       "WorkingDir", "Labels", "StopSignal", "ArgsEscaped", "Healthcheck",
                                       "OnBuild", "Shell", NULL };
  json_t *out = json_object ();
  const json_t *c = json_object_get (src, "config");
  const char *const *k;

  for (k = top; *k; k++)
    if (json_object_get (src, *k) && !json_is_null (json_object_get (src, *k)) && strcmp (*k, "config"))
      json_object_set_new (out, *k, json_deep_copy (json_object_get (src, *k)));
  if (json_is_object (c))
    {
      json_t *oc = json_object ();
      for (k = inner; *k; k++)
        if (json_object_get (c, *k) && !json_is_null (json_object_get (c, *k)))
          json_object_set_new (oc, *k, json_deep_copy (json_object_get (c, *k)));
      json_object_set_new (out, "config", oc);
    }
  return out;
}

static bool
config_has_layers (const json_t *config)
{
  const json_t *h = json_object_get (config, "history");
  size_t i;

  if (json_array_size (json_object_get (json_object_get (config, "rootfs"), "diff_ids")) > 0)
    return true;
  for (i = 0; i < json_array_size (h); i++)
    if (!json_is_true (json_object_get (json_array_get (h, i), "empty_layer")))
      return true;
  return false;
}

static int
resolve_base (struct plan *p, const struct plan_opts *o, struct plan_stage *st, bale_error_t *err)
{
  const struct bale_platform *plat = st->platform.os ? &st->platform : &p->target_platform;
  struct oci_ref ref = { 0 };
  cleanup_error bale_error_t e = NULL;
  cleanup_free char *name = NULL;
  json_t *config = NULL;
  int r;

  if (st->resolved)
    return 0;
  st->resolved = true;
  /* A digest reference goes to the resolver as written. */
  if (strchr (st->base, '@') == NULL)
    {
      if (oci_ref_parse (st->base, 0, &ref, &e) < 0)
        return plan_error_at (p, &st->from->args[0].span, err, "failed to parse stage name \"%s\": %s", st->base, e->msg);
      name = oci_ref_full (&ref);
      oci_ref_release (&ref);
      free (st->base);
      st->base = xstrdup (name);
    }
  r = o->resolve ? o->resolve (o->resolve_ctx, st->base, plat, &config, &st->base_digest, &e) : 0;
  if (r < 0)
    return plan_error_at (p, &st->from->args[0].span, err, "base image %s: %s", st->base, e ? e->msg : "failed to resolve");
  if (r == 0)
    {
      if (!o->lenient)
        return plan_error_at (p, &st->from->args[0].span, err,
                              "base image %s is not in the store (load it with `bale load`, or pull it)", st->base);
      plan_warning_at (p, &st->from->args[0].span,
                       "base image %s is not in the store: planning with an empty image config", st->base);
      return 0;
    }
  st->base_config = config;
  st->base_scratch = !config_has_layers (config);
  return 0;
}

/* ---- ONBUILD triggers -------------------------------------------------------------------- */

static void
relocate (struct bale_node *n, const struct bale_span *span)
{
  size_t i;

  n->span = n->keyword_span = *span;
  for (i = 0; i < n->n_args; i++)
    n->args[i].span = *span;
  for (i = 0; i < n->n_flags; i++)
    n->flags[i].span = *span;
  for (i = 0; i < n->n_heredocs; i++)
    n->heredocs[i].span = *span;
}

static int
add_trigger (struct plan *p, struct plan_stage *st, const char *expr, size_t pos, bale_error_t *err)
{
  struct bale_dockerfile *df = NULL;
  cleanup_error bale_error_t e = NULL;
  /* The checks want every instruction inside a stage: parse the trigger after a FROM. */
  cleanup_free char *text = xasprintf ("FROM scratch\n%s\n", expr);

  if (bale_parse_checked ("ONBUILD", text, strlen (text), &df, &e) < 0)
    {
      bale_dockerfile_free (df);
      return plan_error_at (p, &st->from->span, err, "ONBUILD trigger \"%s\": %s", expr, e ? e->msg : "invalid");
    }
  if (df->n_nodes != 2)
    {
      bale_dockerfile_free (df);
      return plan_error_at (p, &st->from->span, err, "onbuild trigger should be a single expression");
    }
  /* BuildKit reports problems of a trigger at the FROM line that ran it. */
  relocate (&df->nodes[1], &st->from->span);
  p->triggers = xrealloc (p->triggers, (p->n_triggers + 1) * sizeof *p->triggers);
  p->triggers[p->n_triggers++] = df;
  /* Triggers run before the stage's own instructions, in their original order. */
  st->cmds = xgrow_one (st->cmds, st->n_cmds, sizeof *st->cmds);
  st->cmd_onbuild = xgrow_one (st->cmd_onbuild, st->n_cmds, sizeof *st->cmd_onbuild);
  memmove (st->cmds + pos + 1, st->cmds + pos, (st->n_cmds - pos) * sizeof *st->cmds);
  memmove (st->cmd_onbuild + pos + 1, st->cmd_onbuild + pos, (st->n_cmds - pos) * sizeof *st->cmd_onbuild);
  st->cmds[pos] = &df->nodes[1];
  st->cmd_onbuild[pos] = true;
  st->n_cmds++;
  return node_deps (p, st, &df->nodes[1], err);
}

static int
init_triggers (struct plan *p, struct plan_stage *st, bale_error_t *err)
{
  size_t pos = 0, i;

  if (st->triggers_done)
    return 0;
  st->triggers_done = true;
  if (st->base_stage >= 0)
    {
      const struct plan_stage *base = &p->stages[st->base_stage];
      for (i = 0; i < base->n_cmds; i++)
        if (base->cmds[i]->kind == BALE_I_ONBUILD && !base->cmd_onbuild[i])
          {
            cleanup_free char *expr = dispatch_onbuild_expression (base->cmds[i]);
            if (add_trigger (p, st, expr, pos++, err) < 0)
              return -1;
          }
    }
  else if (st->base_config)
    {
      const json_t *ob = json_object_get (json_object_get (st->base_config, "config"), "OnBuild");
      for (i = 0; i < json_array_size (ob); i++)
        if (json_is_string (json_array_get (ob, i))
            && add_trigger (p, st, json_string_value (json_array_get (ob, i)), pos++, err) < 0)
          return -1;
    }
  return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static void
stage_env_from_config (struct plan_stage *st)
{
  const json_t *env = json_object_get (json_object_get (st->config, "config"), "Env");
  size_t i;

  for (i = 0; i < json_array_size (env); i++)
    if (json_is_string (json_array_get (env, i)))
      kv_history_record (&st->env_history, &st->env,
                         kv_set_entry (&st->env, json_string_value (json_array_get (env, i))));
}

static size_t
stage_layers (const struct plan_stage *st)
{
  size_t n = st->n_base_layers, i;

  for (i = 0; i < st->n_steps; i++)
    n += st->steps[i].kind == PLAN_STEP_LAYER;
  return n;
}

static void
stage_init (struct plan *p, struct plan_stage *st)
{
  json_t *c, *env;
  size_t i;
  bool has_path = false;

  if (st->base_stage >= 0)
    {
      const struct plan_stage *base = &p->stages[st->base_stage];
      st->config = json_deep_copy (base->config);
      json_object_del (json_object_get (st->config, "config"), "OnBuild");
      kv_copy (&st->env, &base->env);
      kv_history_record_all (&st->env_history, &st->env);
      kv_copy (&st->args, &base->args);
      st->workdir_set = base->workdir_set;
      st->n_base_layers = stage_layers (base);
      st->n_image_layers = base->n_image_layers;
      if (!st->platform.os && base->platform.os)
        {
          platform_copy (&st->platform, &base->platform);
        }
      return;
    }
  if (st->base_config)
    {
      st->config = filter_base_config (st->base_config);
      st->n_base_layers = json_array_size (json_object_get (json_object_get (st->config, "rootfs"), "diff_ids"));
      st->n_image_layers = st->n_base_layers;
      /* The base's triggers were turned into instructions of this stage (resolveStages). */
      json_object_del (json_object_get (st->config, "config"), "OnBuild");
    }
  else
    st->config = oci_config_new_scratch (&p->target_platform);
  c = json_object_get (st->config, "config");
  if (!json_is_object (c))
    {
      c = json_object ();
      json_object_set_new (st->config, "config", c);
    }
  /* Every stage has a PATH (dispatchStages); Windows is not a target of bale. */
  env = json_object_get (c, "Env");
  for (i = 0; i < json_array_size (env); i++)
    {
      const char *e = json_string_value (json_array_get (env, i));
      if (e && kv_key_len (e) == 4 && strncmp (e, "PATH", 4) == 0)
        has_path = true;
    }
  if (!has_path)
    {
      if (!json_is_array (env))
        {
          env = json_array ();
          json_object_set_new (c, "Env", env);
        }
      json_array_append_new (env, json_string (OCI_DEFAULT_PATH_ENV));
    }
  stage_env_from_config (st);
  if (!st->platform.os)
    {
      platform_copy (&st->platform, &p->target_platform);
    }
}

static int
dispatch_stage (struct plan *p, struct plan_stage *st, bale_error_t *err)
{
  size_t i;

  stage_init (p, st);
  for (i = 0; i < st->n_cmds; i++)
    if (plan_dispatch (p, st, st->cmds[i], st->cmd_onbuild[i], err) < 0)
      return -1;
  st->dispatched = true;
  return 0;
}

/* finalizeResultImage: an explicit --platform overrides os/architecture/variant. */
static void
finalize_target (struct plan *p, struct plan_stage *st)
{
  const char *os = json_string_value (json_object_get (st->config, "os"));
  const char *arch = json_string_value (json_object_get (st->config, "architecture"));
  bool same;

  if (!p->explicit_platform)
    return;
  same = os && arch && strcmp (os, p->target_platform.os) == 0 && strcmp (arch, p->target_platform.arch) == 0;
  json_object_set_new (st->config, "os", json_string (p->target_platform.os));
  json_object_set_new (st->config, "architecture", json_string (p->target_platform.arch));
  if (p->target_platform.variant)
    json_object_set_new (st->config, "variant", json_string (p->target_platform.variant));
  else if (!same)
    json_object_del (st->config, "variant");
  /* os.version follows the variant's rule; os.features are set when the target has some. */
  if (p->target_platform.os_version || !same || p->target_platform.n_os_features)
    {
      json_t *version = json_incref (json_object_get (st->config, "os.version"));

      oci_platform_set_os_options (st->config, &p->target_platform);
      if (version && !p->target_platform.os_version && same)
        json_object_set (st->config, "os.version", version);
      json_decref (version);
    }
}

/* ---- the whole compilation ------------------------------------------------------------------- */

static int
setup (struct plan *p, const struct plan_opts *o, bale_error_t *err)
{
  size_t i;

  p->ignore = o->ignore;
  if (platform_host (&p->build_platform, err) < 0)
    return -1;
  if (o->platform)
    {
      if (platform_parse (o->platform, &p->target_platform, err) < 0)
        return bale_error_wrap (err, "--platform");
      p->explicit_platform = true;
    }
  else
    platform_copy (&p->target_platform, &p->build_platform);
  for (i = 0; i < o->n_build_args; i++)
    kv_set_entry (&p->build_args, o->build_args[i]);
  p->consumed = xcalloc (p->build_args.n + 1, sizeof *p->consumed);
  collect_proxy_env (p);
  for (i = 0; i < p->build_args.n; i++)
    if (strncmp (p->build_args.kv[i], "BUILDKIT_", 9) == 0 || strncmp (p->build_args.kv[i], "SOURCE_DATE_EPOCH=", 18) == 0)
      p->consumed[i] = true; /* read by the builder itself */
  return plan_lint_setup (p, o, err);
}

static int
build_stages (struct plan *p, const struct plan_opts *o, bale_error_t *err)
{
  const struct bale_dockerfile *df = p->df;
  const char *target_name = o->target;
  size_t i;

  /* TARGETSTAGE is the --target, else the name of the last stage. */
  if (target_name == NULL)
    for (i = 0; i < df->n_nodes; i++)
      if (df->nodes[i].kind == BALE_I_FROM)
        target_name = df->nodes[i].n_args >= 3 ? df->nodes[i].args[2].value : NULL;
  default_args (p, target_name);
  plan_lint_dockerfile (p);
  for (i = 0; i < df->n_nodes && df->nodes[i].kind != BALE_I_FROM; i++)
    if (df->nodes[i].kind == BALE_I_ARG && meta_args (p, &df->nodes[i], err) < 0)
      return -1;
  for (; i < df->n_nodes; i++)
    {
      const struct bale_node *n = &df->nodes[i];
      if (n->kind == BALE_I_FROM)
        {
          if (add_stage (p, n, err) < 0)
            return -1;
        }
      else
        stage_add_cmd (&p->stages[p->n_stages - 1], n, false, false);
    }
  if (p->n_stages == 0)
    {
      bale_make_error (err, 0, "%s: dockerfile contains no stages to build", df->path);
      return -1;
    }
  if (o->target)
    {
      p->target = plan_find_stage (p, o->target, p->n_stages);
      if (p->target < 0)
        {
          const char **names = xcalloc (p->n_stages + 1, sizeof *names);
          size_t k = 0;
          const char *best;
          for (i = 0; i < p->n_stages; i++)
            if (p->stages[i].name)
              names[k++] = p->stages[i].name;
          best = suggest_closest (o->target, names, k);
          if (best)
            bale_make_error (err, 0, "target stage \"%s\" could not be found (did you mean %s?)", o->target, best);
          else
            bale_make_error (err, 0, "target stage \"%s\" could not be found", o->target);
          free (names);
          return -1;
        }
    }
  else
    p->target = (int) p->n_stages - 1;
  return 0;
}

static int
build_graph (struct plan *p, const struct plan_opts *o, bale_error_t *err)
{
  cleanup_free int *state = xcalloc (p->n_stages + 1, sizeof *state);
  size_t i, k;

  for (i = 0; i < p->n_stages; i++)
    for (k = 0; k < p->stages[i].n_cmds; k++)
      if (node_deps (p, &p->stages[i], p->stages[i].cmds[k], err) < 0)
        return -1;
  for (i = 0; i < p->n_stages; i++)
    if (check_cycles (p, (int) i, state, err) < 0)
      return -1;
  mark_reachable (p, p->target);
  /* `bale lint`: every stage is dispatched, as BuildKit checks them all without a target. */
  for (i = 0; o->all_stages && i < p->n_stages; i++)
    mark_reachable (p, (int) i);
  /* resolveStages: base images of reachable stages, then ONBUILD triggers, which may add
     dependencies, until nothing changes. */
  for (i = 0; i < p->n_stages; i++)
    {
      struct plan_stage *st = &p->stages[i];
      size_t before = st->n_deps;
      if (!st->reachable)
        continue;
      if (st->base_stage < 0 && !st->base_scratch && resolve_base (p, o, st, err) < 0)
        return -1;
      if (init_triggers (p, st, err) < 0)
        return -1;
      if (st->n_deps != before)
        {
          memset (state, 0, (p->n_stages + 1) * sizeof *state);
          for (k = 0; k < p->n_stages; k++)
            if (check_cycles (p, (int) k, state, err) < 0)
              return -1;
          for (k = 0; k < st->n_deps; k++)
            mark_reachable (p, st->deps[k]);
          i = (size_t) -1; /* resolve the newly reachable stages too */
        }
    }
  return 0;
}

static void
find_unused (struct plan *p)
{
  cleanup_strbuf struct strbuf names = STRBUF_INIT;
  size_t i;

  for (i = 0; i < p->build_args.n; i++)
    if (!p->consumed[i])
      {
        char *key = xstrndup (p->build_args.kv[i], kv_key_len (p->build_args.kv[i]));
        p->unused_build_args = xrealloc (p->unused_build_args, (p->n_unused + 1) * sizeof (char *));
        p->unused_build_args[p->n_unused++] = key;
        strbuf_addf (&names, "%s%s", names.len ? " " : "", key);
      }
  if (p->n_unused)
    plan_warning (p, "one or more build-args [%s] were not consumed", names.buf);
}

int
plan_build (const struct bale_dockerfile *df, const struct plan_opts *o, struct plan **out, bale_error_t *err)
{
  struct plan *p = xzalloc (sizeof *p);
  size_t i;

  p->df = df;
  p->allow_insecure = o->allow_insecure;
  if (setup (p, o, err) < 0 || build_stages (p, o, err) < 0 || build_graph (p, o, err) < 0)
    goto fail;
  for (i = 0; i < p->n_stages; i++)
    if (p->stages[i].reachable && dispatch_stage (p, &p->stages[i], err) < 0)
      goto fail;
  finalize_target (p, &p->stages[p->target]);
  find_unused (p);
  /* finalizeResultImage: with check error=true, a violation fails the build. */
  if (plan_lint_finish (p, err) < 0)
    goto fail;
  *out = p;
  return 0;
fail:
  /* `bale lint` reports the checks' warnings with the error, as BuildKit's lint result
     carries both (plan_lint_finish has already moved them when it is the error). */
  if (o->all_stages && p->warnings)
    {
      bale_error_t chain = p->warnings;

      p->warnings = NULL;
      bale_error_join (&chain, err);
      *err = chain;
    }
  plan_free (p);
  return -1;
}

static void
step_release (struct plan_step *s)
{
  size_t i;

  for (i = 0; i < s->argc; i++)
    free (s->argv[i]);
  free (s->argv);
  free (s->created_by);
  kv_state_release (&s->env);
  free (s->workdir);
  free (s->workdir_raw);
  free (s->user);
  free (s->chown);
  free (s->chmod);
  free (s->checksum);
  for (i = 0; i < s->n_exclude; i++)
    free (s->exclude[i]);
  free (s->exclude);
  free (s->from.image);
  for (i = 0; i < s->n_files; i++)
    {
      free (s->files[i].name);
      free (s->files[i].data);
    }
  free (s->files);
  for (i = 0; i < s->n_mounts; i++)
    {
      plan_mount_release (&s->mounts[i]);
      free (s->mount_from[i].image);
    }
  free (s->mounts);
  free (s->mount_from);
  free (s->network);
  free (s->security);
}

void
plan_free (struct plan *p)
{
  size_t i, k;

  if (p == NULL)
    return;
  for (i = 0; i < p->n_stages; i++)
    {
      struct plan_stage *st = &p->stages[i];
      free (st->name);
      free (st->display);
      free (st->base);
      free (st->base_digest);
      free (st->platform_spec);
      platform_release (&st->platform);
      free (st->cmds);
      free (st->cmd_onbuild);
      for (k = 0; k < st->n_steps; k++)
        step_release (&st->steps[k]);
      free (st->steps);
      free (st->deps);
      json_decref (st->base_config);
      json_decref (st->config);
      kv_release (&st->env);
      kv_history_unref (st->env_history);
      kv_release (&st->args);
      kv_release (&st->cfg_env);
    }
  free (p->stages);
  platform_release (&p->build_platform);
  platform_release (&p->target_platform);
  kv_release (&p->global_args);
  kv_release (&p->build_args);
  kv_release (&p->proxy_env);
  free (p->consumed);
  for (i = 0; i < p->n_unused; i++)
    free (p->unused_build_args[i]);
  free (p->unused_build_args);
  bale_error_release (&p->warnings);
  for (i = 0; i < p->n_triggers; i++)
    bale_dockerfile_free (p->triggers[i]);
  free (p->triggers);
  free (p);
}
