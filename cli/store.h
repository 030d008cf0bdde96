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


#endif
