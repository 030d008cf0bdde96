/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vertices `bale build` reports besides the executor's steps (BuildKit's names, §1.4 of
   the cli-compat brief). Every function is a no-op when p is NULL. */
#ifndef BALE_CLI_BUILDEVENTS_H
#define BALE_CLI_BUILDEVENTS_H

#include "runtime/build/progress.h"

/* "[internal] load build definition from NAME" with "transferring dockerfile: SIZE". */
void buildevents_definition (const struct bale_progress *p, const char *dockerfile);
/* "[internal] load .dockerignore" with "transferring context: SIZE". */
void buildevents_dockerignore (const struct bale_progress *p, const char *context,
                               const char *dockerfile);
/* "[internal] load metadata for docker.io/library/x:tag", started in v. */
void buildevents_resolve_start (struct progress_vertex *v, const struct bale_progress *p,
                                const char *ref);
/* A registry_log_fn: the message as a finished status of the vertex ctx (a progress_vertex
   that may be idle). */
void buildevents_registry_log (void *ctx, const char *msg);
/* A name in Docker's normal form ("docker.io/library/x:latest"); the caller frees it. */
char *buildevents_name (const char *tag);

#endif
