/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options shared by the subcommands that talk to registries (pull, push, login). */
#ifndef BALE_CLI_REGISTRY_H
#define BALE_CLI_REGISTRY_H

#include <getopt.h>
#include <stddef.h>

#include "cli/apicmd.h"
#include "runtime/registry/registry.h"

struct cli_registry
{
  struct registry_opts opts;
  struct cli_regopts api; /* the options as the public API has them; opts follows it */
};

/* Defaults; progress lines go to stderr unless quiet. */
void cli_registry_init (struct cli_registry *r, bool quiet);
/* Handle option c (from CLI_REGISTRY_OPTIONS); false when it is not one of them. */
bool cli_registry_option (struct cli_registry *r, int c, const char *arg);
void cli_registry_release (struct cli_registry *r);

/* "gzip", "zstd" or "none" into opts->compression; false for anything else. */
bool cli_registry_compression (struct registry_opts *opts, const char *name);

/* Push the store's image name to dest (NULL: name) and print "DEST: digest: …" to stderr
   unless quiet (bale build --push and --output type=registry); digest receives the manifest
   digest pushed. */
int cli_registry_push (struct store *s, const struct cli_registry *r, const char *name,
                       const char *dest, bool quiet, char digest[DIGEST_STRLEN + 1],
                       bale_error_t *err);

#endif
