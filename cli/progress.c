/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `--progress`: choosing a renderer, and the plain and rawjson ones (BuildKit's printer.go). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/apicmd.h"
#include "cli/progress.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct cli_progress
{
  enum cli_progress_mode mode;
  int fd;
  struct bale_progress sink;
  struct trace trace;
  size_t active;               /* plain: 1 + the index in trace.v of the vertex whose lines
                                  come last, 0 for none (an index: trace.v moves as it grows) */
  bool printed;                /* plain: something was printed (blank lines between blocks) */
  struct strbuf out;           /* plain: a batch of lines, written per event */
  pid_t tty_pid;               /* tty: the renderer process */
};

int
cli_progress_parse (const char *s, enum cli_progress_mode *mode, bale_error_t *err)
{
  static const char *const names[] = { "auto", "plain", "tty", "quiet", "rawjson", "none" };
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (s, names[i]) == 0)
      {
        *mode = (enum cli_progress_mode) i;
        return 0;
      }
  return bale_make_error (err, 0, "invalid progress mode '%s' (want auto, plain, tty, quiet, rawjson or none)", s);
}

enum cli_progress_mode
cli_progress_resolve (enum cli_progress_mode mode, int fd)
{
  const char *env = getenv ("BUILDKIT_PROGRESS");

  /* buildx consults BUILDKIT_PROGRESS only while the flag is still auto. */
  if (mode == CLI_PROGRESS_AUTO && env && *env)
    {
      bale_error_t e = NULL;
      if (cli_progress_parse (env, &mode, &e) < 0)
        mode = CLI_PROGRESS_AUTO;
      bale_error_release (&e);
    }
  if (mode == CLI_PROGRESS_AUTO)
    mode = isatty (fd) ? CLI_PROGRESS_TTY : CLI_PROGRESS_PLAIN;
  return mode;
}

/* ---- plain -------------------------------------------------------------------------------- */

/* Seconds since the vertex's start as BuildKit prefixes log lines: %.3f, %.2f, then %.1f. */
static void
log_time (struct strbuf *sb, double s)
{
  strbuf_addf (sb, s < 10 ? "%.3f" : s < 100 ? "%.2f" : "%.1f", s);
}

/* Make v the vertex being printed: "#A ..." for an unfinished one it interrupts, then its
   name line (again, when it resumes). */
static void
activate (struct cli_progress *p, struct trace_vertex *v)
{
  struct trace_vertex *last = p->active ? &p->trace.v[p->active - 1] : NULL;

  if (last == v)
    return;
  if (last && !last->completed)
    strbuf_addf (&p->out, "#%d ...\n", last->num);
  if (!v->num)
    v->num = ++p->trace.next_num;
  strbuf_addf (&p->out, "%s#%d %s\n", p->printed ? "\n" : "", v->num, v->name);
  p->printed = true;
  p->active = (size_t) (v - p->trace.v) + 1;
}

static void
plain_status (struct cli_progress *p, struct trace_vertex *v, const struct bale_progress_event *ev)
{
  struct trace_status *s = NULL;
  size_t i;

  for (i = 0; i < v->n_statuses; i++)
    if (strcmp (v->statuses[i].id, ev->id) == 0)
      s = &v->statuses[i];
  /* An unfinished status is shown again after 5% more or 5 s (minProgressDelta, minTimeDelta). */
  if (!ev->completed && s->printed_current >= 0
      && !(s->total && (s->current - s->printed_current) * 20 >= s->total)
      && ev->time - s->printed_at < 5000000000LL)
    return;
  activate (p, v);
  strbuf_addf (&p->out, "#%d %s", v->num, s->id);
  trace_bytes (&p->out, s->current, s->total);
  {
    double t = (double) ((s->completed ? s->completed : ev->time) - s->started) / 1e9;
    if (t > 0.01)
      strbuf_addf (&p->out, " %.1fs", t);
  }
  strbuf_addstr (&p->out, s->completed ? " done\n" : "\n");
  s->printed_at = ev->time;
  s->printed_current = s->current;
}

static void
plain_event (void *ctx, const struct bale_progress_event *ev)
{
  struct cli_progress *p = ctx;
  struct trace_vertex *v = ev->vertex ? trace_find (&p->trace, ev->vertex) : NULL;
  bool was_done = v && v->completed;

  v = trace_update (&p->trace, ev);
  if (!v)
    return;
  /* A vertex reported again (two stages resolve one base): said once. */
  if (was_done && (ev->kind == BALE_PROGRESS_START || ev->kind == BALE_PROGRESS_DONE
                   || ev->kind == BALE_PROGRESS_CACHED))
    return;
  switch (ev->kind)
    {
    case BALE_PROGRESS_START: activate (p, v); break;
    case BALE_PROGRESS_STATUS: plain_status (p, v, ev); break;
    case BALE_PROGRESS_LOG:
      {
        size_t start;
        activate (p, v);
        strbuf_addf (&p->out, "#%d ", v->num);
        log_time (&p->out, (double) (ev->time - v->started) / 1e9);
        strbuf_addch (&p->out, ' ');
        start = p->out.len;
        strbuf_add (&p->out, ev->data, ev->len);
        trace_remember_log (v, p->out.buf + start);
        strbuf_addch (&p->out, '\n');
        break;
      }
    case BALE_PROGRESS_WARNING:
      activate (p, v);
      strbuf_addf (&p->out, "#%d WARN: %.*s\n", v->num, (int) ev->len, ev->data);
      break;
    case BALE_PROGRESS_MISS:
      activate (p, v);
      strbuf_addf (&p->out, "#%d MISS: %.*s\n", v->num, (int) ev->len, ev->data);
      break;
    case BALE_PROGRESS_DONE:
      activate (p, v);
      strbuf_addf (&p->out, "#%d DONE %.1fs\n", v->num, (double) (v->completed - v->started) / 1e9);
      break;
    case BALE_PROGRESS_CACHED:
      activate (p, v);
      strbuf_addf (&p->out, "#%d CACHED\n", v->num);
      break;
    case BALE_PROGRESS_ERROR:
      activate (p, v);
      if (v->canceled)
        strbuf_addf (&p->out, "#%d CANCELED\n", v->num);
      else
        strbuf_addf (&p->out, "#%d ERROR: %s\n", v->num, v->error);
      break;
    default: /* MESSAGE: no vertex's (bale build prints those itself) */
      break;
    }
  /* --progress plain on a terminal: names and logs as text (cli_shown_text); to a file or a
     pipe, the bytes as BuildKit prints them */
  cli_shown_text (&p->out, p->fd);
  (void) fileio_write_all (p->fd, p->out.buf, p->out.len);
  strbuf_reset (&p->out);
}

/* ---- rawjson and tty: the events as JSON lines ---------------------------------------------- */

static void
json_event (void *ctx, const struct bale_progress_event *ev)
{
  struct cli_progress *p = ctx;
  char *line = bale_progress_event_json (ev);

  /* A renderer that went away must not stop the build. */
  (void) fileio_write_all (p->fd, line, strlen (line));
  free (line);
}

int
cli_progress_open (enum cli_progress_mode mode, int fd, struct cli_progress **out,
                   bale_error_t *err)
{
  return cli_progress_open_as (mode, fd, NULL, out, err);
}

int
cli_progress_open_as (enum cli_progress_mode mode, int fd, const char *title,
                      struct cli_progress **out, bale_error_t *err)
{
  struct cli_progress *p;

  *out = NULL;
  mode = cli_progress_resolve (mode, fd);
  if (mode == CLI_PROGRESS_QUIET || mode == CLI_PROGRESS_NONE)
    return 0;
  if (mode == CLI_PROGRESS_TTY && !isatty (fd))
    return bale_make_error (err, ENOTTY, "--progress=tty: failed to get console");
  p = xzalloc (sizeof *p);
  p->mode = mode;
  p->fd = fd;
  p->trace.title = title;
  p->sink.ctx = p;
  p->sink.fn = mode == CLI_PROGRESS_PLAIN ? plain_event : json_event;
  if (mode == CLI_PROGRESS_TTY && progress_tty_start (fd, title, &p->fd, &p->tty_pid, err) < 0)
    {
      free (p);
      return -1;
    }
  *out = p;
  return 0;
}

const struct bale_progress *
cli_progress_sink (struct cli_progress *p)
{
  return p ? &p->sink : NULL;
}

void
cli_progress_close (struct cli_progress *p)
{
  if (!p)
    return;
  if (p->mode == CLI_PROGRESS_PLAIN && p->trace.n > 0)
    {
      strbuf_addch (&p->out, '\n');
      trace_summary (&p->trace, &p->out, false);
      trace_error_logs (&p->trace, &p->out, false);
      cli_shown_text (&p->out, p->fd);
      (void) fileio_write_all (p->fd, p->out.buf, p->out.len);
    }
  if (p->mode == CLI_PROGRESS_TTY)
    {
      int status;
      close (p->fd); /* the renderer draws its last frame at end of input */
      while (waitpid (p->tty_pid, &status, 0) < 0 && errno == EINTR)
        ;
    }
  strbuf_release (&p->out);
  trace_release (&p->trace);
  free (p);
}
