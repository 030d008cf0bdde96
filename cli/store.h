/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for the subcommands that use the image store. */
#ifndef BALE_CLI_STORE_H
#define BALE_CLI_STORE_H

#include <stdint.h>

#include <jansson.h>

#include "cli/cli.h"
#include "runtime/store/store.h"

/* Open the store of --store, else store_default_path(). */
int cli_store_open (const struct cli_global *g, struct store **out, bale_error_t *err);

/* Split a stored name into Docker's familiar repository ("busybox", "ghcr.io/a/b") and tag,
   both for the caller to free. A digest (an untagged image) gives "<none>" twice and -1. */
int cli_familiar (const char *full, char **repo, char **tag);

/* ["busybox:latest", …]: the familiar names of refs that point at target. */
json_t *cli_repo_tags (const struct store_ref *refs, size_t n, const char *target);

/* "4.26MB", as Docker prints sizes. The caller frees it. */
char *cli_human_size (int64_t size);

/* "Untagged: busybox:latest" for a name, "Deleted: sha256:…" for an untagged image. */
void cli_print_untagged (const char *full);

/* Delete every name of the image target (same image ID; any image when NULL), only the untagged images'
   digest names when untagged_only is set; print each as cli_print_untagged does. */
int cli_untag_where (struct store *s, const char *target, bool untagged_only, bale_error_t *err);


#endif
