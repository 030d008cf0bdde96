/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The build plan: what a Dockerfile means once its stages are resolved, its variables expanded
 * and every instruction applied to an image config, exactly as BuildKit's dockerfile2llb
 * dispatch does. The runtime only executes the layer steps of a plan; everything about the
 * image config and history is decided here.
 */
#ifndef BALE_PLAN_H
#define BALE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bale.h"
#include "codegen/mount.h"
#include "common/kv.h"
#include "common/kvhist.h"
#include "lexer/words.h"
#include "common/oci/platform.h"
#include "linter/lint.h"

enum plan_step_kind
{
  PLAN_STEP_META,  /* changes the config and adds an empty_layer history entry (or none) */
  PLAN_STEP_LAYER, /* RUN, COPY, ADD, WORKDIR other than "/": one layer */
};

/* Where a COPY --from or RUN --mount from= reads: a stage of this plan or an image. */
struct plan_source
{
  int stage;   /* index into plan.stages, or -1 */
  char *image; /* an image reference when stage < 0, or the build context when both unset */
};

/* A file a RUN step gets at /dev/pipes/NAME: a heredoc starting with "#!". */
struct plan_file
{
  char *name;
  char *data;
  size_t len;
};

struct plan_step
{
  enum bale_instr instr;
  enum plan_step_kind kind;
  const struct bale_node *node; /* the instruction (an ONBUILD trigger: the parsed trigger) */
  bool onbuild;                 /* run because the base image or stage had an ONBUILD */

  /*
   * The instruction after expansion. RUN: the final argv (shell prepended for shell form).
   * COPY/ADD: the sources then the destination ("<<NAME" for a heredoc). WORKDIR: the
   * absolute directory. Others: the expanded words as recorded in the history.
   */
  char **argv;
  size_t argc;
  char *created_by; /* the history entry's created_by; NULL when no entry (ONBUILD) */

  /* The build state the step runs in (RUN, COPY, ADD, WORKDIR). */
  struct kv_state env; /* RUN: image env plus the stage's ARG values (kv_state_get) */
  char *workdir;     /* absolute; "/" when unset */
  char *workdir_raw; /* RUN: WorkingDir as written when that is not workdir, else NULL: runc
                        creates what it names (FINDINGS F62) */
  char *user;        /* "" when unset */

  /* COPY/ADD: expanded flags, NULL when not given. */
  char *chown, *chmod, *checksum;
  bool link, parents, keep_git_dir;
  int unpack;                /* -1 unset, 0 false, 1 true (ADD --unpack) */
  char **exclude;            /* --exclude patterns, not expanded */
  size_t n_exclude;
  struct plan_source from;   /* COPY --from; from.stage < 0 && !from.image: the context */
  struct plan_file *files;   /* COPY/ADD heredoc sources, RUN heredoc scripts */
  size_t n_files;

  /* RUN: expanded and typed --mount values, network and security modes. */
  struct plan_mount *mounts;
  size_t n_mounts;
  struct plan_source *mount_from; /* per mount: its from= source (stage -1, image NULL: none) */
  char *network, *security;
};

struct plan_stage
{
  int index;
  char *name;        /* lowercased `AS name`, or NULL */
  char *display;     /* name, or "stage-N" (BuildKit's progress names) */
  char *base;        /* the FROM name after expansion, normalised for images */
  int base_stage;    /* index of the parent stage, or -1 */
  bool base_scratch; /* FROM scratch, or an image without layers */
  char *platform_spec;      /* FROM --platform after expansion, or NULL */
  struct bale_platform platform;
  const struct bale_node *from; /* the FROM instruction */
  bool reachable;           /* needed for the target */
  bool resolved, triggers_done, dispatched;

  /* The instructions to dispatch: ONBUILD triggers of the base first, then the stage's own. */
  const struct bale_node **cmds;
  bool *cmd_onbuild;
  size_t n_cmds;

  struct plan_step *steps;
  size_t n_steps;
  int *deps; /* the stages this stage reads (parent excluded) */
  size_t n_deps;

  json_t *base_config; /* the base image's config as resolved, NULL for scratch and stages */
  char *base_digest;   /* its manifest digest, when the resolver gave one */
  json_t *config;      /* the resulting image config (created left out) */
  size_t n_base_layers;  /* layers below this stage's own (base image and parent stages) */
  size_t n_image_layers; /* layers of the image at the root of the FROM chain */

  /* dispatch state */
  struct kvlist env;        /* the expansion and RUN environment (llb state env) */
  struct kv_history *env_history; /* every change of env, for the steps' kv_state */
  struct kvlist args;       /* ARGs declared in this stage and inherited, "K=V" or "K" */
  struct kvlist cfg_env;    /* a copy of config's Env (cfg_env_of), for its index of keys */
  json_t *cfg_env_of;
  bool cmd_set, entrypoint_set, healthcheck_set, workdir_set;
  /* the last CMD, ENTRYPOINT and HEALTHCHECK of the stage (MultipleInstructionsDisallowed) */
  const struct bale_node *last_cmd, *last_entrypoint, *last_healthcheck;
};

/*
 * Resolves a base image: *config receives a new reference to its image config (as stored,
 * created included) and *digest (optional) its manifest digest. A look-up (common/error.h):
 * 1 when found, 0 when the image is not available, -1 (with *err) on other failures.
 */
typedef int (*plan_resolve_fn) (void *ctx, const char *ref, const struct bale_platform *platform,
                                json_t **config, char **digest, bale_error_t *err);

struct plan_opts
{
  const char *target; /* --target, or NULL for the last stage */
  /* --build-arg values, "K=V"; a bare "K" must already be resolved by the caller (docker takes
     it from the environment and drops it when unset). */
  const char *const *build_args;
  size_t n_build_args;
  const char *platform; /* --platform, or NULL for the host */
  plan_resolve_fn resolve;
  void *resolve_ctx;
  /* When set, images the resolver does not have are planned as empty configs with a warning
     (bale plan); otherwise they are an error (bale build). */
  bool lenient;
  /* Dispatch every stage, not only those the target needs (`bale lint`, `--check`: BuildKit
     checks all stages when no target is given). */
  bool all_stages;
  /* The build context's .dockerignore, for CopyIgnoredFile; NULL: none known. Borrowed. */
  const struct ignore_matcher *ignore;
  /* `--allow security.insecure`: RUN --security=insecure is granted (BuildKit's entitlement);
     without it such a RUN is an error at its line. */
  bool allow_insecure;
};

struct plan
{
  const struct bale_dockerfile *df; /* borrowed */
  struct plan_stage *stages;
  size_t n_stages;
  int target;
  struct bale_platform build_platform, target_platform;
  bool explicit_platform;
  struct kvlist global_args; /* automatic platform args, then meta ARGs with values */
  struct kvlist build_args;  /* as given */
  struct kvlist proxy_env;   /* proxy build args: given to RUN, never in history */
  bool allow_insecure;       /* plan_opts.allow_insecure */
  bool *consumed;            /* per build arg: an ARG declared it */
  char **unused_build_args;  /* build args no ARG consumed */
  size_t n_unused;
  bale_error_t warnings;
  struct lint_config lint;             /* the build checks in effect (codegen/lint.c) */
  int lint_called[LINT_N_RULES];       /* rules that reported, in the order they first did */
  int n_lint_called;
  int n_lint_warnings;
  const struct bale_node *lint_node; /* the instruction being dispatched: UndefinedVar's place */
  const struct ignore_matcher *ignore; /* plan_opts' */
  struct bale_dockerfile **triggers; /* parsed ONBUILD triggers, owned */
  size_t n_triggers;
  size_t expanded; /* bytes dispatch_expand produced so far (PLAN_MAX_EXPANDED) */
};

/* Every instruction keeps its expanded words (history, config, steps), so a few lines that
   copy a 1 MiB variable thousands of times would ask for gigabytes: the expansions of one
   plan stop at 64 MiB in total, with an error at the instruction that passes it. */
#define PLAN_MAX_EXPANDED ((size_t) 64 << 20)

/* Compile df into a plan. Errors carry the Dockerfile location of the instruction. */
int plan_build (const struct bale_dockerfile *df, const struct plan_opts *opts, struct plan **out,
                bale_error_t *err);
void plan_free (struct plan *p);

/* The times plan_final_config writes (RFC 3339 strings). */
struct plan_times
{
  /* The creation time of each layer built above the root base image (as diff_ids; NULL: the
     history entries without a time get fallback). Given, they are filled as BuildKit's
     exporter fills them: a layer step's entry gets its layer's time, a metadata step's the
     time of the layer step before it (the first new layer's when there is none). */
  const char *const *layers;
  /* An entry's time when no entry has one; NULL: such entries stay without a time and the
     config's `created` is null, as BuildKit writes them without SOURCE_DATE_EPOCH. */
  const char *fallback;
  const char *config;   /* the config's `created`; NULL: that of the last history entry */
};

/* The stage's config as the image config JSON BuildKit would write, given the times t of the
   new history entries and of the config and the diff_ids of every layer built above the root
   base image (parent stages' layer steps first). */
json_t *plan_final_config (const struct plan *p, const struct plan_stage *st,
                           const struct plan_times *t, const char *const *diff_ids,
                           size_t n_diff_ids, bale_error_t *err);

/* "plan" text and JSON renderings for `bale plan`. */
char *plan_to_text (const struct plan *p, bool all_stages);
json_t *plan_to_json (const struct plan *p, bool all_stages);

/* ---- helpers shared by the dispatch code (codegen/dispatch.c) ---------------------------- */

/* A located error at a span of the Dockerfile. */
int plan_error_at (const struct plan *p, const struct bale_span *span, bale_error_t *err,
                   const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));
void plan_warning_at (struct plan *p, const struct bale_span *span, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* A build-check warning of rule r at span, unless the check configuration (with n's
   `# check=` comments, when n is given) leaves the rule out. */
void plan_lint (struct plan *p, const struct bale_node *n, const struct bale_span *span, enum lint_rule r,
                const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
/* The checks BuildKit runs on the whole Dockerfile before dispatch (codegen/lint.c). */
int plan_lint_setup (struct plan *p, const struct plan_opts *o, bale_error_t *err);
void plan_lint_dockerfile (struct plan *p);
/* UndefinedArgInFrom, RedundantTargetPlatform and FromPlatformFlagConstDisallowed of a FROM. */
void plan_lint_from (struct plan *p, const struct bale_node *from, const struct words_env *global,
                     const struct bale_flag *platform);
/* UndefinedVar for the variables a word of n looked up without finding them. */
struct plan_lint_vars;
struct ignore_matcher;
struct plan_lint_vars *plan_lint_vars_new (void);
void plan_lint_vars_hook (struct plan_lint_vars *v, struct words_lex *lx);
void plan_lint_vars_report (struct plan *p, struct plan_stage *st, const struct bale_node *n,
                            struct plan_lint_vars *v);
void plan_lint_vars_free (struct plan_lint_vars *v);
/* CopyIgnoredFile for one source of a COPY or ADD from the build context. */
void plan_lint_copy_source (struct plan *p, const struct bale_node *n, const char *src);
/* SecretsUsedInArgOrEnv for one ARG or ENV key. */
void plan_lint_secret_key (struct plan *p, const struct bale_node *n, const char *instruction, const char *key);
/* error=true: every warning so far, then "lint violation found for rules: ..." into *err. */
int plan_lint_finish (struct plan *p, bale_error_t *err);
/* Apply one instruction to the stage: config, history, and (for layer steps) a plan step. */
int plan_dispatch (struct plan *p, struct plan_stage *st, const struct bale_node *n, bool onbuild,
                   bale_error_t *err);
/* The index of the first of the first limit stages named name (case-insensitively), or -1. */
int plan_find_stage (const struct plan *p, const char *name, size_t limit);
/* toCommand's --from: a stage index, a stage name (any stage of the file) or else an image,
   into src (src->image is the caller's). */
int plan_source_lookup (struct plan *p, const char *name, const struct bale_span *span, struct plan_source *src,
                        bale_error_t *err);
/* The same for a --from flag, whose value may not use variables. */
int plan_from_flag_lookup (struct plan *p, const struct bale_flag *f, struct plan_source *src, bale_error_t *err);
/* The from= field of a --mount value (comma-separated key=value fields), or NULL. */
char *plan_mount_from (const char *value);
/* Mark a build arg as consumed by an ARG instruction. */
void plan_consume_build_arg (struct plan *p, const char *key);
/* COPY --from: a stage dispatched before st, or an image. */
int plan_source_resolve (struct plan *p, struct plan_stage *st, const struct bale_flag *from,
                         struct plan_source *src, bale_error_t *err);
/* RUN --mount=...,from=X: the source of one (expanded, typed) mount; none when it has no from. */
int plan_mount_source (struct plan *p, struct plan_stage *st, const struct bale_flag *f,
                       const struct plan_mount *m, struct plan_source *src, bale_error_t *err);

#endif
