/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the instruction dispatch (codegen/dispatch.c) that other codegen files share. */
#ifndef BALE_DISPATCH_H
#define BALE_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "bale.h"

struct plan;
struct plan_stage;

/* Expand word (Lex.ProcessWord with the Dockerfile's escape) against the stage's environment;
   a failure is located at span. */
int dispatch_expand (struct plan *p, struct plan_stage *st, const struct bale_span *span,
                     const char *word, size_t len, char **out, bale_error_t *err);
/* system.NormalizeWorkdir for Linux: wd joined to current when relative, then cleaned. */
char *dispatch_normalize_workdir (const char *current, const char *wd);
/* Go's path.Clean of an absolute path ("/" for an empty result). */
char *dispatch_clean_path (const char *path);
/* A new JSON array of the n strings of v. */
json_t *json_strv (char *const *v, size_t n);

/* ONBUILD's trigger text: the line without the keyword. The caller frees it. */
char *dispatch_onbuild_expression (const struct bale_node *n);

#endif
