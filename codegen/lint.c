/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * BuildKit's build checks, run by the planner where BuildKit runs them: the whole-file checks
 * of instructions.Parse and dockerfile2llb's validations before any stage is dispatched, the
 * FROM checks while stages are set up (buildDispatchStates), the rest from dispatch.c while
 * each instruction is dispatched. Messages and rule names are BuildKit's (linter/ruleset.go);
 * each warning is located at the instruction it is about.
 */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/plan.h"
#include "common/kv.h"
#include "lexer/words.h"
#include "codegen/dispatch.h"
#include "common/ignore.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* ---- reporting ------------------------------------------------------------------------------ */

void
plan_lint (struct plan *p, const struct bale_node *n, const struct bale_span *span, enum lint_rule r, const char *fmt,
           ...)
{
  struct lint_config c = p->lint;
  cleanup_strbuf struct strbuf msg = STRBUF_INIT;
  va_list ap;
  int i;

  if (n)
    lint_config_for_comments (&p->lint, n->comments, n->n_comments, &c);
  if (!lint_config_enabled (&c, r))
    return;
  for (i = 0; i < p->n_lint_called && p->lint_called[i] != (int) r; i++)
    ;
  if (i == p->n_lint_called)
    p->lint_called[p->n_lint_called++] = (int) r;
  /* LintFormatShort's "Rule: message"; the location is carried by the warning itself. */
  strbuf_addf (&msg, "%s: ", lint_rules[r].name);
  va_start (ap, fmt);
  strbuf_vaddf (&msg, fmt, ap);
  va_end (ap);
  plan_warning_at (p, span, "%s", msg.buf);
  p->n_lint_warnings++;
}

int
plan_lint_setup (struct plan *p, const struct plan_opts *o, bale_error_t *err)
{
  const char *check = NULL;
  size_t i;

  (void) o;
  /* The BUILDKIT_DOCKERFILE_CHECK build argument replaces the directive (dockerui.Config). */
  check = kv_get (&p->build_args, "BUILDKIT_DOCKERFILE_CHECK");
  if (check)
    {
      if (lint_config_parse (check, &p->lint, err) < 0)
        return bale_error_wrap (err, "failed to parse build-arg:BUILDKIT_DOCKERFILE_CHECK");
      return 0;
    }
  for (i = 0; i < p->df->n_directives; i++)
    if (strcmp (p->df->directives[i].name, "check") == 0)
      check = p->df->directives[i].value;
  if (check && lint_config_parse (check, &p->lint, err) < 0)
    return bale_error_wrap (err, "failed to parse check options");
  return 0;
}

int
plan_lint_finish (struct plan *p, bale_error_t *err)
{
  cleanup_strbuf struct strbuf rules = STRBUF_INIT;
  int i;

  if (!p->lint.error || p->n_lint_called == 0)
    return 0;
  for (i = 0; i < p->n_lint_called; i++)
    strbuf_addf (&rules, "%s%s", i ? ", " : "", lint_rules[p->lint_called[i]].name);
  /* The warnings go first, so that they are printed with the error that they caused. */
  bale_error_join (err, &p->warnings);
  return bale_make_error (err, 0, "lint violation found for rules: %s", rules.buf);
}

/* ---- suggestions ---------------------------------------------------------------------------- */

/* Levenshtein distance (insertions, deletions, substitutions), as agext/levenshtein. */
static size_t
levenshtein (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b), i, j;
  cleanup_free size_t *row = xcalloc (lb + 1, sizeof *row);

  for (j = 0; j <= lb; j++)
    row[j] = j;
  for (i = 1; i <= la; i++)
    {
      size_t diag = row[0];

      row[0] = i;
      for (j = 1; j <= lb; j++)
        {
          size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

          if (up + 1 < best)
            best = up + 1;
          if (row[j - 1] + 1 < best)
            best = row[j - 1] + 1;
          row[j] = best;
          diag = up;
        }
    }
  return row[lb];
}

/* util/suggest.Search, case-sensitive: the first option closer than 3 edits; none when one
   matches exactly. */
static const char *
suggest_search (const char *val, const char *const *options, size_t n)
{
  const char *match = NULL;
  size_t best = 3, i;

  for (i = 0; i < n; i++)
    {
      size_t d;

      if (strcmp (val, options[i]) == 0)
        return NULL;
      d = levenshtein (val, options[i]);
      if (d < best)
        {
          match = options[i];
          best = d;
        }
    }
  return match;
}

/* The keys of a "K=V" list, in order, NULL-terminated. */
static char **
kv_keys (const struct kvlist *l, size_t *n)
{
  char **keys = xcalloc (l->n + 1, sizeof *keys);
  size_t i;

  for (i = 0; i < l->n; i++)
    keys[i] = xstrndup (l->kv[i], kv_key_len (l->kv[i]));
  *n = l->n;
  return keys;
}

static bool
strv_has (char *const *v, size_t n, const char *s)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

/* ---- variables a word looked up ------------------------------------------------------------- */

struct plan_lint_vars
{
  char **matched, **unmatched; /* in the order of first lookup, without repeats */
  size_t n_matched, n_unmatched;
};

static void
on_lookup (void *ctx, const char *name, size_t len, bool found)
{
  struct plan_lint_vars *v = ctx;
  char ***set = found ? &v->matched : &v->unmatched;
  size_t *n = found ? &v->n_matched : &v->n_unmatched;
  cleanup_free char *s = xstrndup (name, len);

  if (strv_has (*set, *n, s))
    return;
  *set = xrealloc (*set, (*n + 2) * sizeof **set);
  (*set)[(*n)++] = xstrdup (s);
  (*set)[*n] = NULL;
}

struct plan_lint_vars *
plan_lint_vars_new (void)
{
  return xzalloc (sizeof (struct plan_lint_vars));
}

void
plan_lint_vars_hook (struct plan_lint_vars *v, struct words_lex *lx)
{
  lx->on_lookup = on_lookup;
  lx->lookup_ctx = v;
}

void
plan_lint_vars_free (struct plan_lint_vars *v)
{
  if (v == NULL)
    return;
  cleanup_strvp (&v->matched);
  cleanup_strvp (&v->unmatched);
  free (v);
}

/* reportUnmatchedVariables: declared ARGs (with or without a value) and the SBOM scan args
   are not undefined; the suggestion comes from the stage's environment. */
void
plan_lint_vars_report (struct plan *p, struct plan_stage *st, const struct bale_node *n, struct plan_lint_vars *v)
{
  size_t i, n_keys = 0;
  char **keys = NULL;

  for (i = 0; i < v->n_unmatched; i++)
    {
      const char *name = v->unmatched[i];
      const char *match;
      size_t k;
      bool declared = false;

      for (k = 0; k < st->args.n && !declared; k++)
        declared = kv_key_len (st->args.kv[k]) == strlen (name)
                   && strncmp (st->args.kv[k], name, strlen (name)) == 0;
      if (declared || strcmp (name, "BUILDKIT_SBOM_SCAN_CONTEXT") == 0
          || strcmp (name, "BUILDKIT_SBOM_SCAN_STAGE") == 0)
        continue;
      if (keys == NULL)
        keys = kv_keys (&st->env, &n_keys);
      match = suggest_search (name, (const char *const *) keys, n_keys);
      if (match)
        plan_lint (p, n, &n->span, LINT_UNDEFINED_VAR, "Usage of undefined variable '$%s' (did you mean $%s?)", name,
                   match);
      else
        plan_lint (p, n, &n->span, LINT_UNDEFINED_VAR, "Usage of undefined variable '$%s'", name);
    }
  cleanup_strvp (&keys);
}

/* ---- the .dockerignore -------------------------------------------------------------------- */

/* validateCopySourcePath: not when an exception could bring the path back; "." and "/" only
   when every entry of the root is excluded. */
void
plan_lint_copy_source (struct plan *p, const struct bale_node *n, const char *src)
{
  cleanup_free char *clean = NULL;
  const char *rel;

  if (p->ignore == NULL || ignore_has_exceptions (p->ignore))
    return;
  /* filepath.Clean, relative paths kept relative */
  if (src[0] == '/')
    clean = dispatch_clean_path (src);
  else
    {
      cleanup_free char *abs = xasprintf ("/%s", src);
      cleanup_free char *c = dispatch_clean_path (abs);
      clean = xstrdup (c[1] ? c + 1 : ".");
    }
  rel = clean;
  if ((strcmp (rel, ".") == 0 || strcmp (rel, "/") == 0) && !ignore_ignores_root (p->ignore))
    return;
  if (ignore_matches (p->ignore, rel))
    plan_lint (p, n, &n->span, LINT_COPY_IGNORED_FILE, "Attempting to %s file \"%s\" that is excluded by .dockerignore",
               n->kind == BALE_I_ADD ? "Add" : "Copy", rel);
}

/* ---- secrets -------------------------------------------------------------------------------- */

/* `(?i)(?:_|^)(?:TOKENS)(?:_|$)`: one of the tokens is the whole key or a '_'-separated part of
   it at its start, end or inside. */
static bool
has_token (const char *key, const char *const *tokens)
{
  size_t len = strlen (key), i;
  const char *const *t;

  for (i = 0; i <= len; i++)
    {
      if (i > 0 && key[i - 1] != '_')
        continue;
      for (t = tokens; *t; t++)
        {
          size_t tl = strlen (*t);
          if (i + tl <= len && strncasecmp (key + i, *t, tl) == 0 && (key[i + tl] == '\0' || key[i + tl] == '_'))
            return true;
        }
    }
  return false;
}

void
plan_lint_secret_key (struct plan *p, const struct bale_node *n, const char *instruction, const char *key)
{
  static const char *const deny[] = { "apikey", "auth",  "credential", "credentials", "key", "password",
                                      "pword",  "passwd", "secret",     "token",       NULL };
  static const char *const allow[] = { "public", "file", "version", NULL };

  if (has_token (key, deny) && !has_token (key, allow))
    plan_lint (p, n, &n->span, LINT_SECRETS_USED_IN_ARG_OR_ENV,
               "Do not use ARG or ENV instructions for sensitive data (%s \"%s\")", instruction, key);
}

/* ---- the whole file, before dispatch ----------------------------------------------------- */

static bool
is_lower (const char *s)
{
  for (; *s; s++)
    if (isupper ((unsigned char) *s))
      return false;
  return true;
}

static bool
is_upper (const char *s)
{
  for (; *s; s++)
    if (islower ((unsigned char) *s))
      return false;
  return true;
}

/* NoEmptyContinuation, from the parser's warnings: BuildKit locates it at the last line of the
   instruction. */
static void
lint_empty_continuations (struct plan *p)
{
  const struct bale_error_s *w;

  for (w = p->df->warnings; w; w = w->next)
    {
      struct bale_span span = { 0 };

      if (strncmp (w->msg, "empty continuation line", 23) != 0)
        continue;
      span.line = span.end_line = w->end_line > 0 ? w->end_line : w->line;
      span.col = 1;
      span.end_col = 1;
      plan_lint (p, NULL, &span, LINT_NO_EMPTY_CONTINUATION, "Empty continuation line");
    }
}

/* validateDefinitionDescription (experimental): the comment just above names the definition. */
static void
lint_description (struct plan *p, const struct bale_node *n, const char *instruction, char *const *keys, size_t n_keys)
{
  const char *last;
  size_t first;

  if (n->n_comments == 0 || n_keys == 0)
    return;
  last = n->comments[n->n_comments - 1];
  first = strcspn (last, " ");
  for (size_t i = 0; i < n_keys; i++)
    if (strlen (keys[i]) == first && strncmp (keys[i], last, first) == 0)
      return;
  plan_lint (p, n, &n->span, LINT_INVALID_DEFINITION_DESCRIPTION,
             "Comment for %s should follow the format: `# %s <description>`", instruction,
             n_keys > 1 ? "<arg_key>" : keys[0]);
}

/* ParseInstructionWithLinter's checks, node by node. */
static void
lint_instruction (struct plan *p, const struct bale_node *n)
{
  if (n->kind == BALE_I_MAINTAINER)
    plan_lint (p, n, &n->span, LINT_MAINTAINER_DEPRECATED, "Maintainer instruction is deprecated in favor of using label");
  else if (n->kind == BALE_I_FROM)
    {
      if (n->n_args == 3 && !is_lower (n->args[2].value))
        plan_lint (p, n, &n->span, LINT_STAGE_NAME_CASING, "Stage name '%s' should be lowercase", n->args[2].value);
      /* The casing of an inconsistent FROM itself is ConsistentInstructionCasing's. */
      if (n->n_args >= 3 && (is_lower (n->keyword) || is_upper (n->keyword))
          && !(is_lower (n->keyword) ? is_lower (n->args[1].value) : is_upper (n->args[1].value)))
        plan_lint (p, n, &n->span, LINT_FROM_AS_CASING, "'%s' and '%s' keywords' casing do not match", n->args[1].value,
                   n->keyword);
      if (n->n_args >= 3)
        {
          cleanup_free char *name = xstrdup (n->args[2].value);
          for (char *c = name; *c; c++)
            *c = (char) tolower ((unsigned char) *c);
          lint_description (p, n, "FROM", &name, 1);
        }
    }
  else if (n->kind == BALE_I_ARG)
    {
      char **keys = xcalloc (n->n_args + 1, sizeof *keys);
      size_t i;

      for (i = 0; i < n->n_args; i++)
        keys[i] = xstrndup (n->args[i].value, strcspn (n->args[i].value, "="));
      lint_description (p, n, "ARG", keys, n->n_args);
      cleanup_strvp (&keys);
    }
}

static void
case_match (struct plan *p, const struct bale_node *n, bool majority_lower)
{
  if (majority_lower && !is_lower (n->keyword))
    plan_lint (p, n, &n->span, LINT_CONSISTENT_INSTRUCTION_CASING,
               "Command '%s' should match the case of the command majority (lowercase)", n->keyword);
  else if (!majority_lower && !is_upper (n->keyword))
    plan_lint (p, n, &n->span, LINT_CONSISTENT_INSTRUCTION_CASING,
               "Command '%s' should match the case of the command majority (uppercase)", n->keyword);
}

/* validateCommandCasing over the stages' instructions (the ARGs before the first FROM are
   not part of a stage). */
static void
lint_casing (struct plan *p, size_t first_from)
{
  const struct bale_dockerfile *df = p->df;
  int lower = 0, upper = 0;
  size_t i;

  for (i = first_from; i < df->n_nodes; i++)
    {
      const char *k = df->nodes[i].keyword;
      if (is_lower (k))
        lower++;
      else if (is_upper (k))
        upper++;
    }
  for (i = first_from; i < df->n_nodes; i++)
    case_match (p, &df->nodes[i], lower > upper);
}

/* validateBaseImagesWithDefaultArgs: the base names with the meta ARGs' defaults alone must
   still be references. */
static void
lint_default_bases (struct plan *p, size_t first_from)
{
  const struct bale_dockerfile *df = p->df;
  struct words_lex lx = words_lex_default (df->escape);
  struct kvlist args = KVLIST_INIT;
  size_t i, k;

  kv_copy (&args, &p->global_args);
  for (i = 0; i < first_from; i++)
    for (k = 0; df->nodes[i].kind == BALE_I_ARG && k < df->nodes[i].n_args; k++)
      {
        const char *word = df->nodes[i].args[k].value, *eq = strchr (word, '=');
        cleanup_free char *key = xstrndup (word, eq ? (size_t) (eq - word) : strlen (word));
        cleanup_free char *value = NULL;
        struct words_env env = kv_words_env (&args);
        bale_error_t e = NULL;

        if (!eq)
          continue;
        if (words_process_word (&lx, eq + 1, strlen (eq + 1), &env, &value, NULL, &e) < 0)
          {
            /* the build fails on it later, with its own error */
            bale_error_release (&e);
            kv_release (&args);
            return;
          }
        kv_set (&args, key, value);
      }
  for (i = first_from; i < df->n_nodes; i++)
    {
      const struct bale_node *n = &df->nodes[i];
      struct words_env env = kv_words_env (&args);
      cleanup_free char *base = NULL;
      struct oci_ref ref = { 0 };
      bale_error_t e = NULL;

      if (n->kind != BALE_I_FROM || n->n_args == 0)
        continue;
      if (words_process_word (&lx, n->args[0].value, n->args[0].len, &env, &base, NULL, &e) < 0)
        {
          bale_error_release (&e);
          break;
        }
      if (oci_ref_parse (base, OCI_REF_DIGEST, &ref, &e) < 0)
        plan_lint (p, n, &n->span, LINT_INVALID_DEFAULT_ARG_IN_FROM,
                   "Default value for ARG %s results in empty or invalid base image name", n->args[0].value);
      bale_error_release (&e);
      oci_ref_release (&ref);
    }
  kv_release (&args);
}

void
plan_lint_dockerfile (struct plan *p)
{
  const struct bale_dockerfile *df = p->df;
  size_t i, first_from = df->n_nodes;

  lint_empty_continuations (p);
  for (i = 0; i < df->n_nodes; i++)
    {
      if (df->nodes[i].kind == BALE_I_FROM && first_from == df->n_nodes)
        first_from = i;
      lint_instruction (p, &df->nodes[i]);
    }
  /* validateStageNames: DuplicateStageName is an error in bale (README, divergences). */
  for (i = first_from; i < df->n_nodes; i++)
    {
      const struct bale_node *n = &df->nodes[i];
      if (n->kind == BALE_I_FROM && n->n_args >= 3
          && (strcasecmp (n->args[2].value, "context") == 0 || strcasecmp (n->args[2].value, "scratch") == 0))
        {
          cleanup_free char *name = xstrdup (n->args[2].value);
          for (char *c = name; *c; c++)
            *c = (char) tolower ((unsigned char) *c);
          plan_lint (p, n, &n->span, LINT_RESERVED_STAGE_NAME,
                     "Stage name should not use the same name as reserved stage \"%s\"", name);
        }
    }
  lint_casing (p, first_from);
  lint_default_bases (p, first_from);
}

/* ---- FROM ------------------------------------------------------------------------------------ */

/* The names declared by ARGs before the first FROM (outline.allArgs). */
static char **
meta_arg_keys (const struct plan *p, size_t *n)
{
  char **keys = NULL;
  size_t i, k;

  *n = 0;
  for (i = 0; i < p->df->n_nodes && p->df->nodes[i].kind != BALE_I_FROM; i++)
    for (k = 0; p->df->nodes[i].kind == BALE_I_ARG && k < p->df->nodes[i].n_args; k++)
      {
        const char *w = p->df->nodes[i].args[k].value;
        keys = xrealloc (keys, (*n + 2) * sizeof *keys);
        keys[(*n)++] = xstrndup (w, strcspn (w, "="));
        keys[*n] = NULL;
      }
  return keys;
}

/* reportUnusedFromArgs: names a FROM word used that no global ARG declares. */
static void
undefined_in_from (struct plan *p, const struct bale_node *from, const struct plan_lint_vars *v)
{
  size_t n_meta = 0, n_global = 0, i;
  char **meta = meta_arg_keys (p, &n_meta);
  char **global = kv_keys (&p->global_args, &n_global);
  char **all = xcalloc (n_meta + n_global + 1, sizeof *all);
  size_t n_all = 0;

  for (i = 0; i < n_meta; i++)
    all[n_all++] = meta[i];
  for (i = 0; i < n_global; i++)
    if (!strv_has (all, n_all, global[i]))
      all[n_all++] = global[i];
  for (i = 0; i < v->n_unmatched; i++)
    {
      const char *match;

      if (strv_has (all, n_all, v->unmatched[i]))
        continue;
      match = suggest_search (v->unmatched[i], (const char *const *) all, n_all);
      if (match)
        plan_lint (p, from, &from->span, LINT_UNDEFINED_ARG_IN_FROM, "FROM argument '%s' is not declared (did you mean %s?)",
                   v->unmatched[i], match);
      else
        plan_lint (p, from, &from->span, LINT_UNDEFINED_ARG_IN_FROM, "FROM argument '%s' is not declared",
                   v->unmatched[i]);
    }
  free (all);
  cleanup_strvp (&meta);
  cleanup_strvp (&global);
}

static struct plan_lint_vars *
expand_tracked (const struct plan *p, const char *word, const struct words_env *env, char **out)
{
  struct words_lex lx = words_lex_default (p->df->escape);
  struct plan_lint_vars *v = plan_lint_vars_new ();
  bale_error_t e = NULL;

  plan_lint_vars_hook (v, &lx);
  *out = NULL;
  if (words_process_word (&lx, word, strlen (word), env, out, NULL, &e) < 0)
    bale_error_release (&e);
  return v;
}

void
plan_lint_from (struct plan *p, const struct bale_node *from, const struct words_env *global,
                const struct bale_flag *platform)
{
  cleanup_free char *base = NULL, *plat = NULL;
  struct plan_lint_vars *v;

  if (from->n_args == 0)
    return;
  v = expand_tracked (p, from->args[0].value, global, &base);
  undefined_in_from (p, from, v);
  plan_lint_vars_free (v);
  if (platform == NULL || platform->value == NULL)
    return;
  v = expand_tracked (p, platform->value, global, &plat);
  undefined_in_from (p, from, v);
  /* reportRedundantTargetPlatform: only $TARGETPLATFORM, giving the target platform. */
  if (plat && v->n_matched == 1 && v->n_unmatched == 0 && strcmp (v->matched[0], "TARGETPLATFORM") == 0
      && words_env_get (global, "TARGETPLATFORM", 14) && strcmp (plat, words_env_get (global, "TARGETPLATFORM", 14)) == 0)
    plan_lint (p, from, &from->span, LINT_REDUNDANT_TARGET_PLATFORM,
               "Setting platform to predefined %s in FROM is redundant as this is the default behavior", platform->value);
  /* reportConstPlatformDisallowed: a constant that parses and that the stage name does not
     mention. */
  if (plat && v->n_matched == 0 && v->n_unmatched == 0)
    {
      struct bale_platform pl = { 0 };
      bale_error_t e = NULL;
      const char *name = from->n_args >= 3 ? from->args[2].value : "";

      if (platform_parse (plat, &pl, &e) == 0 && !strstr (name, pl.os) && !strstr (name, pl.arch))
        plan_lint (p, from, &from->span, LINT_FROM_PLATFORM_FLAG_CONST_DISALLOWED,
                   "FROM --platform flag should not use constant value \"%s\"", plat);
      bale_error_release (&e);
      platform_release (&pl);
    }
  plan_lint_vars_free (v);
}
