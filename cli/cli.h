/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The subcommands of the bale command; each is bale_cmd_NAME (argc, argv, global, err). */
#ifndef BALE_CLI_H
#define BALE_CLI_H

#include <stdbool.h>

#include "bale.h"
#include "codegen/plan.h"

struct cli_global
{
  const char *store; /* --store, or NULL */
  bool quiet;
};

int bale_cmd_parse (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_build (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_plan (int argc, char **argv, struct cli_global *g, bale_error_t *err);

/* The base-image resolver the planner uses (ctx is g). */
plan_resolve_fn cli_image_resolver (struct cli_global *g);

/* Print every diagnostic of a chain to stderr, in the one format editors understand. */
void cli_print_diagnostics (bale_error_t chain);

#endif
