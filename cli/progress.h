/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `--progress`: the renderers of the build's event stream (include/bale.h), as buildx
 * names them. plain and tty share a trace of the vertices (cli/progress_trace.c); tty draws
 * from a process of its own so that it can redraw while the build blocks (cli/progress_tty.c).
 */
#ifndef BALE_CLI_PROGRESS_H
#define BALE_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "bale.h"
#include "common/strbuf.h"

enum cli_progress_mode
{
  CLI_PROGRESS_AUTO = 0, /* tty when stderr is a terminal, else plain */
  CLI_PROGRESS_PLAIN,
  CLI_PROGRESS_TTY,
  CLI_PROGRESS_QUIET,    /* nothing; the image ID on stdout (as -q) */
  CLI_PROGRESS_RAWJSON,
  CLI_PROGRESS_NONE,     /* nothing at all */
};

/* "auto", "plain", "tty", "quiet", "rawjson" or "none". */
int cli_progress_parse (const char *s, enum cli_progress_mode *mode, bale_error_t *err);
/* auto (and BUILDKIT_PROGRESS when auto) settled against the terminal: never AUTO. */
enum cli_progress_mode cli_progress_resolve (enum cli_progress_mode mode, int fd);

struct cli_progress;
/* A renderer writing to fd (stderr); NULL for quiet and none. tty on a non-terminal fails
   as buildx does. */
int cli_progress_open (enum cli_progress_mode mode, int fd, struct cli_progress **out,
                       bale_error_t *err);
/* The same with the word of the header ("[+] Pulling 1.2s (1/1)", as docker compose says
   it) instead of "Building"; title is static. */
int cli_progress_open_as (enum cli_progress_mode mode, int fd, const char *title,
                          struct cli_progress **out, bale_error_t *err);
/* The sink to hand to emitters; NULL when p is NULL. */
const struct bale_progress *cli_progress_sink (struct cli_progress *p);
/* End of the stream: the summary (plain, tty) and the logs of failed vertices. NULL-safe. */
void cli_progress_close (struct cli_progress *p);

/* ---- the trace shared by plain and tty (cli/progress_trace.c) ---- */

#define TRACE_LOG_LINES 10

struct trace_status
{
  char *id;
  int64_t current, total, started, completed, printed_at, printed_current;
};

struct trace_vertex
{
  char digest[72];
  char *name;
  int num;            /* #N, given when first printed (0: not yet) */
  int64_t started, completed;
  bool cached;
  bool canceled;      /* stopped because another step failed */
  char *error;
  char *warnings;     /* "WARN: ..." lines */
  struct trace_status *statuses;
  size_t n_statuses, alloc_statuses;
  char *logs[TRACE_LOG_LINES]; /* the last lines, as plain prints them */
  size_t log_next, log_count;
  int64_t log_bytes;
};

struct trace
{
  struct trace_vertex *v;
  size_t n, alloc;
  int next_num;
  int64_t started; /* the first event */
  bool color;
  const char *title; /* the header's verb; NULL: "Building" */
};

struct trace_vertex *trace_find (struct trace *t, const char *digest);
/* Record ev; returns the vertex it concerns (NULL when unknown and not a start). */
struct trace_vertex *trace_update (struct trace *t, const struct bale_progress_event *ev);
/* "CACHED ", "ERROR ", "CANCELED " or "": how the summary marks the vertex. */
const char *trace_prefix (const struct trace_vertex *v);
void trace_remember_log (struct trace_vertex *v, const char *line);
/* " 1.05kB / 2.00kB" or " 227B" or "" as BuildKit's units.Bytes %.2f. */
void trace_bytes (struct strbuf *sb, int64_t current, int64_t total);
/* " 12.30MB/s": the rate of a transfer under way at now (nothing when finished or too young). */
void trace_rate (struct strbuf *sb, const struct trace_status *s, int64_t now);
/* s as text a terminal may be shown, appended to out: escape sequences (CSI, OSC, DCS and
   the rest) and the other C0 and C1 controls dropped, a tab a space, a carriage return
   starting the line again. */
void trace_shown_text (struct strbuf *out, const char *s);
/* The summary: header and one line per vertex and status, as the tty's final frame; the
   names as trace_shown_text shows them when text_only (the tty view), as they are else. */
void trace_summary (const struct trace *t, struct strbuf *sb, bool text_only);
/* "------\n > name:\n" + last logs + "------\n" for every failed vertex; text_only as
   trace_summary's, for the logs too. */
void trace_error_logs (const struct trace *t, struct strbuf *sb, bool text_only);
void trace_release (struct trace *t);

/* tty renderer: a process reading rawjson lines on in_fd and drawing on out_fd. */
int progress_tty_start (int out_fd, const char *title, int *event_fd, pid_t *pid, bale_error_t *err);

#endif
