/* SPDX-License-Identifier: GPL-2.0-or-later */
/* BuildKit's build-check rules and their configuration (linter/ruleset.go, linter/linter.go). */
#include <config.h>

#include <ctype.h>
#include <string.h>

#include "linter/lint.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define RULE_URL "https://docs.docker.com/go/dockerfile/rule/"

const struct lint_rule_info lint_rules[LINT_N_RULES] = {
  [LINT_STAGE_NAME_CASING] = { "StageNameCasing", "Stage names should be lowercase", RULE_URL "stage-name-casing/", false },
  [LINT_FROM_AS_CASING] = { "FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword",
                            RULE_URL "from-as-casing/", false },
  [LINT_NO_EMPTY_CONTINUATION] = { "NoEmptyContinuation", "Empty continuation lines will become errors in a future release",
                                   RULE_URL "no-empty-continuation/", false },
  [LINT_CONSISTENT_INSTRUCTION_CASING]
  = { "ConsistentInstructionCasing", "All commands within the Dockerfile should use the same casing (either upper or lower)",
      RULE_URL "consistent-instruction-casing/", false },
  [LINT_DUPLICATE_STAGE_NAME] = { "DuplicateStageName", "Stage names should be unique", RULE_URL "duplicate-stage-name/", false },
  [LINT_RESERVED_STAGE_NAME] = { "ReservedStageName", "Reserved words should not be used as stage names",
                                 RULE_URL "reserved-stage-name/", false },
  [LINT_JSON_ARGS_RECOMMENDED]
  = { "JSONArgsRecommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
      RULE_URL "json-args-recommended/", false },
  [LINT_MAINTAINER_DEPRECATED]
  = { "MaintainerDeprecated", "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
      RULE_URL "maintainer-deprecated/", false },
  [LINT_UNDEFINED_ARG_IN_FROM] = { "UndefinedArgInFrom", "FROM command must use declared ARGs", RULE_URL "undefined-arg-in-from/", false },
  [LINT_WORKDIR_RELATIVE_PATH]
  = { "WorkdirRelativePath",
      "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
      RULE_URL "workdir-relative-path/", false },
  [LINT_UNDEFINED_VAR] = { "UndefinedVar", "Variables should be defined before their use", RULE_URL "undefined-var/", false },
  [LINT_MULTIPLE_INSTRUCTIONS_DISALLOWED]
  = { "MultipleInstructionsDisallowed", "Multiple instructions of the same type should not be used in the same stage",
      RULE_URL "multiple-instructions-disallowed/", false },
  [LINT_LEGACY_KEY_VALUE_FORMAT] = { "LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used",
                                     RULE_URL "legacy-key-value-format/", false },
  [LINT_INVALID_BASE_IMAGE_PLATFORM]
  = { "InvalidBaseImagePlatform", "Base image platform does not match expected target platform", NULL, false },
  [LINT_REDUNDANT_TARGET_PLATFORM]
  = { "RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
      RULE_URL "redundant-target-platform/", false },
  [LINT_SECRETS_USED_IN_ARG_OR_ENV] = { "SecretsUsedInArgOrEnv", "Sensitive data should not be used in the ARG or ENV commands",
                                        RULE_URL "secrets-used-in-arg-or-env/", false },
  [LINT_INVALID_DEFAULT_ARG_IN_FROM]
  = { "InvalidDefaultArgInFrom", "Default value for global ARG results in an empty or invalid base image name",
      RULE_URL "invalid-default-arg-in-from/", false },
  [LINT_FROM_PLATFORM_FLAG_CONST_DISALLOWED]
  = { "FromPlatformFlagConstDisallowed", "FROM --platform flag should not use a constant value",
      RULE_URL "from-platform-flag-const-disallowed/", false },
  [LINT_COPY_IGNORED_FILE] = { "CopyIgnoredFile", "Attempting to Copy file that is excluded by .dockerignore",
                               RULE_URL "copy-ignored-file/", false },
  [LINT_INVALID_DEFINITION_DESCRIPTION]
  = { "InvalidDefinitionDescription",
      "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not "
      "intended to be a description comment, add an empty line or comment between the instruction and the comment.",
      RULE_URL "invalid-definition-description/", true },
  [LINT_EXPOSE_PROTO_CASING] = { "ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase",
                                 RULE_URL "expose-proto-casing/", false },
  [LINT_EXPOSE_INVALID_FORMAT]
  = { "ExposeInvalidFormat",
      "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
      RULE_URL "expose-invalid-format/", false },
};

int
lint_rule_find (const char *name, size_t len)
{
  int i;

  for (i = 0; i < LINT_N_RULES; i++)
    if (strlen (lint_rules[i].name) == len && memcmp (lint_rules[i].name, name, len) == 0)
      return i;
  return -1;
}

/* strings.TrimSpace over [*s, *e). */
static void
trim (const char **s, const char **e)
{
  while (*s < *e && isspace ((unsigned char) **s))
    (*s)++;
  while (*e > *s && isspace ((unsigned char) (*e)[-1]))
    (*e)--;
}

/* "all" or a comma-separated list of rule names into all/set. */
static void
rule_set (const char *v, const char *end, bool *all, bool set[LINT_N_RULES])
{
  trim (&v, &end);
  if (end - v == 3 && memcmp (v, "all", 3) == 0)
    {
      *all = true;
      return;
    }
  while (v <= end)
    {
      const char *comma = memchr (v, ',', (size_t) (end - v));
      const char *s = v, *e = comma ? comma : end;
      int r;

      trim (&s, &e);
      r = lint_rule_find (s, (size_t) (e - s));
      if (r >= 0)
        set[r] = true;
      if (!comma)
        break;
      v = comma + 1;
    }
}

/* strconv.ParseBool */
static int
parse_bool (const char *s, size_t n)
{
  static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
  size_t i;

  for (i = 0; i < 6; i++)
    {
      if (strlen (yes[i]) == n && memcmp (yes[i], s, n) == 0)
        return 1;
      if (strlen (no[i]) == n && memcmp (no[i], s, n) == 0)
        return 0;
    }
  return -1;
}

int
lint_config_parse (const char *str, struct lint_config *out, bale_error_t *err)
{
  struct lint_config c;
  const char *s = str, *end = str + strlen (str);
  int part;

  memset (&c, 0, sizeof c);
  trim (&s, &end);
  if (s == end)
    {
      *out = c;
      return 0;
    }
  /* strings.SplitN(checkStr, ";", 3): the third part keeps any further ';'. */
  for (part = 0;; part++)
    {
      const char *semi = part < 2 ? memchr (s, ';', (size_t) (end - s)) : NULL;
      const char *pe = semi ? semi : end;
      const char *eq = memchr (s, '=', (size_t) (pe - s));
      const char *k = s, *ke;

      if (eq == NULL)
        return bale_make_error (err, 0, "invalid check option \"%.*s\"", (int) (pe - s), s);
      ke = eq;
      trim (&k, &ke);
      if (ke - k == 4 && memcmp (k, "skip", 4) == 0)
        rule_set (eq + 1, pe, &c.skip_all, c.skip);
      else if (ke - k == 12 && memcmp (k, "experimental", 12) == 0)
        rule_set (eq + 1, pe, &c.experimental_all, c.experimental);
      else if (ke - k == 5 && memcmp (k, "error", 5) == 0)
        {
          const char *v = eq + 1, *ve = pe;
          int b;

          trim (&v, &ve);
          b = parse_bool (v, (size_t) (ve - v));
          if (b < 0)
            return bale_make_error (err, 0,
                                    "failed to parse check option \"%.*s\": strconv.ParseBool: parsing \"%.*s\": invalid syntax",
                                    (int) (pe - s), s, (int) (ve - v), v);
          c.error = b == 1;
        }
      else
        return bale_make_error (err, 0, "invalid check option \"%.*s\"", (int) (ke - k), k);
      if (!semi)
        break;
      s = semi + 1;
    }
  *out = c;
  return 0;
}

void
lint_config_merge (struct lint_config *c, const struct lint_config *other)
{
  int i;

  c->experimental_all |= other->experimental_all;
  c->skip_all |= other->skip_all;
  for (i = 0; i < LINT_N_RULES; i++)
    {
      c->experimental[i] |= other->experimental[i];
      c->skip[i] |= other->skip[i];
    }
}

void
lint_config_for_comments (const struct lint_config *c, char *const *comments, size_t n, struct lint_config *out)
{
  size_t i;

  *out = *c;
  for (i = 0; i < n; i++)
    {
      /* DirectiveParser with no comment prefix: name [A-Za-z][A-Za-z0-9]*, '=', the value
         trimmed, then cut at its first space. */
      const char *s = comments[i], *v, *ve;
      cleanup_free char *value = NULL;
      struct lint_config other;
      bale_error_t e = NULL;

      while (isspace ((unsigned char) *s))
        s++;
      if (strncasecmp (s, "check", 5) != 0)
        continue;
      v = s + 5;
      while (isspace ((unsigned char) *v))
        v++;
      if (*v != '=')
        continue;
      v++;
      ve = v + strlen (v);
      trim (&v, &ve);
      if (v == ve)
        continue;
      value = xstrndup (v, strcspn (v, " ") < (size_t) (ve - v) ? strcspn (v, " ") : (size_t) (ve - v));
      if (lint_config_parse (value, &other, &e) < 0)
        {
          bale_error_release (&e);
          return;
        }
      lint_config_merge (out, &other);
      return;
    }
}

bool
lint_config_enabled (const struct lint_config *c, enum lint_rule r)
{
  if (lint_rules[r].experimental)
    return c->experimental_all || c->experimental[r];
  return !c->skip_all && !c->skip[r];
}
