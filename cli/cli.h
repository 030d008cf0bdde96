/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The subcommands of the bale command; each is bale_cmd_NAME (argc, argv, global, err). */
#ifndef BALE_CLI_H
#define BALE_CLI_H

#include <stdbool.h>

#include "bale.h"
#include "cli/apicmd.h"
#include "common/oci/digest.h"
#include "codegen/plan.h"

struct store;
struct bale_progress;
struct progress_vertex;
struct namedctx;

struct cli_global
{
  const char *store; /* --store, or NULL */
  bool quiet;
  struct store *opened; /* the store, once a command needs it (cli_store_get) */
  /* Base images the store lacks are pulled with these options (bale build); NULL: never. */
  const struct registry_opts *pull_opts;
  bool pull_always; /* --pull: refresh every base image from its registry */
  int error_status;     /* exit status when the command fails; 0 means 1 */
  /* bale build: where progress events go (NULL: nowhere), and the vertex registry messages
     are reported on (the resolver opens it while it pulls). */
  const struct bale_progress *events;
  struct progress_vertex *log_vertex;
  const struct namedctx *named; /* --build-context: images FROM reads instead */
  bool read_only;               /* the command never creates a store */
  const char *platform; /* diff, explain --platform: an index's image to read (NULL: the host's) */
};
struct registry_opts;

int bale_cmd_parse (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_build (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_explain (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_run (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_plan (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_lint (int argc, char **argv, struct cli_global *g, bale_error_t *err);

/* The base-image resolver the planner uses (ctx is g). */
plan_resolve_fn cli_image_resolver (struct cli_global *g);
/* The store directory: --store, $BALE_STORE, /var/lib/bale for root, else
   $XDG_DATA_HOME/bale (~/.local/share/bale). NULL with an error when none can be found. */
char *cli_store_path (struct cli_global *g, bale_error_t *err);
/* The store, opened on first use and closed when the command ends. */
struct store *cli_store_get (struct cli_global *g, bale_error_t *err);
struct store_image;
/* store_image_read of what with g->platform (parsed here), the host's when it is NULL. */
int cli_store_image_read (struct cli_global *g, struct store *s, const char *what, struct store_image *img,
                          bale_error_t *err);
/* The config of an image in the store, and its digest. */
int cli_image_config (struct cli_global *g, const char *name, json_t **config,
                      char digest[DIGEST_STRLEN + 1], bale_error_t *err);
/* Build provenance (codegen/provenance.h) kept in the store by config digest; read gives
   NULL without error when there is none. */
int cli_provenance_write (struct cli_global *g, const char *config_digest, const json_t *prov,
                          bale_error_t *err);
int cli_provenance_read (struct cli_global *g, const char *config_digest, json_t **prov,
                         bale_error_t *err);
int bale_cmd_diff (int argc, char **argv, struct cli_global *g, bale_error_t *err);



/* Print every diagnostic of a chain to stderr, in the one format editors understand. */
void cli_print_diagnostics (bale_error_t chain);
/* The same, every one of them as a warning (the operation went on without it). */
void cli_print_warnings (bale_error_t chain);

#endif
