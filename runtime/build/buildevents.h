/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vertices `bale build` reports besides the executor's steps (BuildKit's names, §1.4 of
   the cli-compat brief). Every function is a no-op when p is NULL. */
#ifndef BALE_RT_BUILDEVENTS_H
#define BALE_RT_BUILDEVENTS_H

#include "runtime/build/progress.h"

/* "[internal] load build definition from NAME" with "transferring dockerfile: SIZE". */
void buildevents_definition (const struct bale_progress *p, const char *dockerfile);
/* "[internal] load .dockerignore" with "transferring context: SIZE". */
void buildevents_dockerignore (const struct bale_progress *p, const char *context,
                               const char *dockerfile);
/* "[internal] load metadata for docker.io/library/x:tag", started in v. */
void buildevents_resolve_start (struct progress_vertex *v, const struct bale_progress *p,
                                const char *ref);
/* What a build says outside any vertex, one line at a time without its newline: a
   registry's messages, cache imports and exports, warnings and the Dockerfile's diagnostics
   (the CLI prints them on stderr; bale_build() passes them on as BALE_PROGRESS_MESSAGE). */
struct build_say
{
  void (*fn) (void *ctx, const char *line);
  void *ctx;
};
void build_say (const struct build_say *s, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Every error of the chain formatted (bale_error_format), as a diagnostic or a warning. */
void build_say_diagnostics (const struct build_say *s, bale_error_t chain);
void build_say_warnings (const struct build_say *s, bale_error_t chain);

/* The context of buildevents_registry_log: the vertex of the moment (which may be idle) and
   where the messages go outside a vertex. */
struct buildevents_log
{
  struct progress_vertex vertex;
  struct build_say say;
};
/* A registry_log_fn (ctx a struct buildevents_log): the message as a finished status of the
   open vertex, else said. */
void buildevents_registry_log (void *ctx, const char *msg);
/* A name in Docker's normal form ("docker.io/library/x:latest"); the caller frees it. */
char *buildevents_name (const char *tag);

#endif
