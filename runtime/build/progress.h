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

enum bale_progress_kind
{
  BALE_PROGRESS_START = 1, /* the vertex started (name set) */
  BALE_PROGRESS_STATUS,    /* a sub-status of a running vertex (id, current, total, completed) */
  BALE_PROGRESS_LOG,       /* output of the vertex: data/len, one line without its newline */
  BALE_PROGRESS_DONE,      /* the vertex completed (started = when it started) */
  BALE_PROGRESS_CACHED,    /* the vertex completed from the build cache */
  BALE_PROGRESS_ERROR,     /* the vertex failed: error */
  BALE_PROGRESS_WARNING,   /* a warning about the vertex: data/len */
  BALE_PROGRESS_MISS,      /* the vertex missed the build cache: data/len says why (inputs
                              that differ from the last build of the step), one line */
};

/*
 * One event. Every string is borrowed for the duration of the callback only. Times are
 * nanoseconds since 1970 (CLOCK_REALTIME).
 */
struct bale_progress_event
{
  enum bale_progress_kind kind;
  const char *vertex; /* "sha256:<hex>", the vertex's identity across its events */
  const char *name;   /* START, DONE, CACHED, ERROR: e.g. "[build 2/5] RUN make" */
  int64_t time;       /* when the event happened */
  int64_t started;    /* DONE, CACHED, ERROR: when the vertex started */
  /* STATUS */
  const char *id;     /* e.g. "transferring context:", "exporting layers" */
  int64_t current;    /* bytes (or items) done, 0 if not counted */
  int64_t total;      /* bytes expected, 0 if unknown */
  bool completed;     /* the status is finished */
  /* LOG, WARNING, MISS */
  int stream;         /* LOG: 1 stdout, 2 stderr */
  const char *data;
  size_t len;
  const char *error;  /* ERROR: the message */
};

/* Where events go. fn NULL (or a NULL struct pointer): nobody listens, nothing is built. */
struct bale_progress
{
  void (*fn) (void *ctx, const struct bale_progress_event *ev);
  void *ctx;
};

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

#endif
