/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a subcommand written on the public API (include/bale.h) needs from the rest of the
 * CLI, and nothing of the runtime: the files that include only this, bale.h and common/ are
 * the migrated ones (docs/architecture.md lists the others; tests/check_layers.py checks it).
 */
#ifndef BALE_CLI_APICMD_H
#define BALE_CLI_APICMD_H

#include <stdbool.h>
#include <stdint.h>

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
/* An image name for -t or tag: Docker's rules, with its message for capitals. */
int cli_check_name (const char *name, bale_error_t *err);

/* --quiet of the command line (bale -q CMD). */
bool cli_quiet (const struct cli_global *g);

/* ---- the image commands' shared presentation (cli/imgpresent.c) ---- */

/* Split a stored name into Docker's familiar repository ("busybox", "ghcr.io/a/b") and tag,
   both for the caller to free. A digest (an untagged image) gives "<none>" twice and -1. */
int cli_familiar (const char *full, char **repo, char **tag);
/* "4.26MB", as Docker prints sizes. The caller frees it. */
char *cli_human_size (int64_t size);
/* "Untagged: busybox:latest" for a name, "Deleted: sha256:…" for an untagged image. */
void cli_print_untagged (const char *full);

/* The options of the commands that talk to registries (pull, push, login), as the public
   API's bale_registry_options. */
struct cli_regopts
{
  struct bale_registry_options o;
  const char **insecure; /* o.insecure points here */
  size_t n_insecure, insecure_alloc;
};
/* Defaults and $BALE_INSECURE_REGISTRY; progress lines go to stderr unless quiet. */
void cli_regopts_init (struct cli_regopts *r, bool quiet);
/* Handle option c (from CLI_REGISTRY_OPTIONS); false when it is not one of them. */
bool cli_regopts_option (struct cli_regopts *r, int c, const char *arg);
void cli_regopts_release (struct cli_regopts *r);

/* getopt_long values outside the range of option letters, so no subcommand's letters clash. */
#define CLI_OPT_INSECURE 0x1001
#define CLI_OPT_TLS_CA 0x1002

/* The getopt_long entries for --insecure-registry and --tls-ca, and their help text. */
#define CLI_REGISTRY_OPTIONS                                                                       \
  { "insecure-registry", required_argument, NULL, CLI_OPT_INSECURE },                            \
  { "tls-ca", required_argument, NULL, CLI_OPT_TLS_CA }
#define CLI_REGISTRY_USAGE                                                                         \
  "      --insecure-registry HOST[:PORT]  use plain http for this registry (repeatable)\n"        \
  "      --tls-ca FILE     also trust the CA certificates in FILE (PEM)\n"

/* The migrated subcommands. */
int bale_cmd_save (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_tag (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_binfmt (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_cache (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_history (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_images (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_inspect (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_load (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_login (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_logout (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_prune (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_pull (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_push (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_rmi (int argc, char **argv, struct cli_global *g, bale_error_t *err);

#endif
