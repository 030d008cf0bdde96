/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The subcommands of the bale command; each is bale_cmd_NAME (argc, argv, global, err). */
#ifndef BALE_CLI_H
#define BALE_CLI_H

#include <stdbool.h>

#include "bale.h"

struct cli_global
{
  const char *store; /* --store, or NULL */
  bool quiet;
};

int bale_cmd_parse (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_load (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_save (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_images (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_rmi (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_tag (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_inspect (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_prune (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_pull (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_push (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_login (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_logout (int argc, char **argv, struct cli_global *g, bale_error_t *err);

/* Print every diagnostic of a chain to stderr, in the one format editors understand. */
void cli_print_diagnostics (bale_error_t chain);

#endif
