/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * BuildKit's build checks (frontend/dockerfile/linter): the rules with their names, messages'
 * documentation URLs and experimental flags, and the check configuration of the `# check=`
 * directive, the BUILDKIT_DOCKERFILE_CHECK build argument and `# check=` comments above an
 * instruction. The checks themselves run in the planner (codegen/lint.c), where the values
 * they need are known.
 */
#ifndef BALE_LINT_H
#define BALE_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "bale.h"

enum lint_rule
{
  LINT_STAGE_NAME_CASING,
  LINT_FROM_AS_CASING,
  LINT_NO_EMPTY_CONTINUATION,
  LINT_CONSISTENT_INSTRUCTION_CASING,
  LINT_DUPLICATE_STAGE_NAME,
  LINT_RESERVED_STAGE_NAME,
  LINT_JSON_ARGS_RECOMMENDED,
  LINT_MAINTAINER_DEPRECATED,
  LINT_UNDEFINED_ARG_IN_FROM,
  LINT_WORKDIR_RELATIVE_PATH,
  LINT_UNDEFINED_VAR,
  LINT_MULTIPLE_INSTRUCTIONS_DISALLOWED,
  LINT_LEGACY_KEY_VALUE_FORMAT,
  LINT_INVALID_BASE_IMAGE_PLATFORM,
  LINT_REDUNDANT_TARGET_PLATFORM,
  LINT_SECRETS_USED_IN_ARG_OR_ENV,
  LINT_INVALID_DEFAULT_ARG_IN_FROM,
  LINT_FROM_PLATFORM_FLAG_CONST_DISALLOWED,
  LINT_COPY_IGNORED_FILE,
  LINT_INVALID_DEFINITION_DESCRIPTION,
  LINT_EXPOSE_PROTO_CASING,
  LINT_EXPOSE_INVALID_FORMAT,
  LINT_N_RULES
};

struct lint_rule_info
{
  const char *name;
  const char *description;
  const char *url; /* NULL for InvalidBaseImagePlatform, which has no page */
  bool experimental;
};

extern const struct lint_rule_info lint_rules[LINT_N_RULES];

/* linter.Config: which rules run, and whether a violation fails the build. */
struct lint_config
{
  bool skip_all, experimental_all, error;
  bool skip[LINT_N_RULES];
  bool experimental[LINT_N_RULES];
};

/* ParseLintOptions: "skip=A,B|all;experimental=C|all;error=true", at most three options.
   Unknown rule names are kept out silently, as BuildKit ignores them. Errors are BuildKit's
   ("invalid check option \"x\"", "failed to parse check option \"error=x\": ..."). */
int lint_config_parse (const char *s, struct lint_config *out, bale_error_t *err);

/* WithMergedConfig: other's skips, experimental rules and skip/experimental "all" added. */
void lint_config_merge (struct lint_config *c, const struct lint_config *other);

/* WithMergedConfigFromComments: the first `check=...` among an instruction's comments (each
   without its '#'), merged into a copy of c; an unparsable one leaves c as it is. */
void lint_config_for_comments (const struct lint_config *c, char *const *comments, size_t n,
                               struct lint_config *out);

/* Linter.Run's filter: false for a skipped rule, and for an experimental one not enabled. */
bool lint_config_enabled (const struct lint_config *c, enum lint_rule r);

/* The rule of that name, or -1. */
int lint_rule_find (const char *name, size_t len);

#endif
