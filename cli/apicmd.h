/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a subcommand written on the public API (include/bale.h) needs from the rest of the
 * CLI, and nothing of the runtime: the files that include only this, bale.h and common/ are
 * the migrated ones (docs/architecture.md lists the others; tests/check_layers.py checks it).
 */
#ifndef BALE_CLI_APICMD_H
#define BALE_CLI_APICMD_H

#include "bale.h"

struct cli_global;

/* The store of --store, $BALE_STORE or the default, as a public handle. A command that only
   reads (g->read_only) fails rather than create a store where there is none. */
int cli_bale_store (const struct cli_global *g, bale_store **out, bale_error_t *err);

/* Options for a subcommand that takes only --help and min..max operands (max -1: any).
   Prints usage and exits on --help or bad usage; returns the index of the first operand. */
int cli_simple_args (int argc, char **argv, const char *usage, int min, int max, bale_error_t *err);
/* The --help line every command's usage text lists. */
#define CLI_HELP_USAGE "  -h, --help           print this help\n"
/* A bad option of `bale CMD`: getopt said what; point at the help and exit 2. */
void cli_usage_error (const char *cmd) __attribute__ ((noreturn));
/* The front program (bale): execute bale-core with argv; returns only on a failure (127). */
int cli_exec_core (char **argv);
/* An image name for -t or tag: Docker's rules, with its message for capitals. */
int cli_check_name (const char *name, bale_error_t *err);

/* The migrated subcommands. */
int bale_cmd_save (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_tag (int argc, char **argv, struct cli_global *g, bale_error_t *err);

#endif
