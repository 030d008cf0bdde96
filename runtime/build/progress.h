/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build progress as one stream of typed events. The executor (and the CLI around it) emit
 * events through a struct bale_progress callback; renderers (cli/progress*.c: plain, tty,
 * rawjson) and libbale embedders consume them. The model is BuildKit's SolveStatus
 * (client/graph.go): a build is a set of vertices, each started, then completed, cached or
 * failed, with sub-statuses (byte counts of transfers) and log lines on the way.
 * docs/progress.md describes the events and their JSON form.
 */
#ifndef BALE_PROGRESS_H
#define BALE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bale.h"

/* The event model (enum bale_progress_kind, struct bale_progress_event, struct bale_progress)
   is public API: include/bale.h. */

/* Now, in nanoseconds since 1970. */
int64_t progress_now (void);

/*
 * A vertex being reported: the emitter's handle. progress_vertex_start names it and sends
 * START; the others send one event each. All are no-ops when p (or p->fn) is NULL, so an
 * emitter never tests whether anybody listens. key makes the digest unique in the build
 * (e.g. "stage/step"); the name is copied.
 */
struct progress_vertex
{
  const struct bale_progress *p;
  char digest[72];
  char *name;
  int64_t started;
};

void progress_vertex_start (struct progress_vertex *v, const struct bale_progress *p,
                            const char *key, const char *name);
void progress_vertex_status (struct progress_vertex *v, const char *id, int64_t current,
                             int64_t total, bool completed);
void progress_vertex_log (struct progress_vertex *v, int stream, const char *data, size_t len);
/* progress_vertex_log for callbacks that take a void * (sandbox_spec.on_line). */
void progress_log_line (void *vertex, int stream, const char *line, size_t len);
void progress_vertex_warn (struct progress_vertex *v, const char *msg);
/* Why the vertex missed the build cache (bale build --explain-cache). */
void progress_vertex_miss (struct progress_vertex *v, const char *why);
/* A transfer's byte counts (a meter_fn, common/meter.h) as a status of the vertex at ctx (a
   struct progress_vertex *): id a blob's digest, as BuildKit reports pulls and pushes. Nothing
   while the vertex is not started. */
void progress_transfer (void *vertex, const char *id, int64_t current, int64_t total,
                        bool completed);
/* The end of a vertex: DONE, CACHED (cached) or ERROR (error != NULL). Frees the name. */
void progress_vertex_end (struct progress_vertex *v, bool cached, const char *error);

/* The event as one line of rawjson (BuildKit's SolveStatus JSON), newline included; the
   caller frees it. */
char *progress_event_to_json (const struct bale_progress_event *ev);
/* Decode one rawjson line (as progress_event_to_json writes it) and pass every event it
   holds to p. Returns 0, or -1 when the line is not such an object. */
int progress_event_from_json (const char *line, size_t len, const struct bale_progress *p);

struct strbuf;
/* Decode the complete lines of pending (rawjson, as a pipe delivers them in pieces), pass
   their events to p, and keep the incomplete last line in pending. */
void progress_feed (struct strbuf *pending, const struct bale_progress *p);

/* A sink for a child process: ctx points at the int descriptor of a pipe, each event goes
   to it as one rawjson line (the parent reads them back with progress_feed). */
void progress_pipe_event (void *ctx, const struct bale_progress_event *ev);

/* An error chain as a JSON array, and back (appended to *err), to carry a child process's
   errors, locations included, to its parent. */

json_t *progress_errors_to_json (bale_error_t e);
void progress_errors_from_json (const json_t *a, bale_error_t *err);

#endif
