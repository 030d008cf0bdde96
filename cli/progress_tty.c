/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tty renderer (BuildKit's ttyDisplay): a live frame of the running vertices with their
 * elapsed time and last output lines, redrawn in place, and at the end the same summary as
 * plain mode. It runs in a process of its own that reads the build's events as rawjson lines:
 * the build blocks in one step for minutes and may not start threads (the sandbox forks), yet
 * the timers must go on.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/progress.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define LOG_ROWS 6       /* BUILDKIT_TTY_LOG_LINES' default */
#define REDRAW_NS 100000000LL

struct tty
{
  struct trace t;
  int out;
  int cols, rows;
  int drawn;        /* lines of the frame on screen */
  int64_t last_draw;
};

static void
tty_event (void *ctx, const struct bale_progress_event *ev)
{
  struct tty *y = ctx;
  struct trace_vertex *v = trace_update (&y->t, ev);

  if (v && (ev->kind == BALE_PROGRESS_LOG || ev->kind == BALE_PROGRESS_MISS))
    {
      char *line = xasprintf ("%s%.*s", ev->kind == BALE_PROGRESS_MISS ? "MISS: " : "",
                              (int) ev->len, ev->data);
      trace_remember_log (v, line);
      free (line);
    }
}

static void
term_size (struct tty *y)
{
  struct winsize ws;

  y->cols = 80;
  y->rows = 10;
  if (ioctl (y->out, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)
    {
      y->cols = ws.ws_col;
      y->rows = ws.ws_row;
    }
}

/* One frame line: text cut to the width, the time right-aligned when given. */
static void
frame_line (struct tty *y, struct strbuf *sb, const char *color, const char *text, double t)
{
  int room = y->cols - 1 - (t >= 0 ? 7 : 0);
  int len = (int) strlen (text);

  if (room < 12)
    return;
  if (len > room)
    len = room;
  if (y->t.color && color)
    strbuf_addstr (sb, color);
  strbuf_addf (sb, "%.*s", len, text);
  if (t >= 0)
    strbuf_addf (sb, "%*s%6.1fs", room - len, "", t);
  if (y->t.color && color)
    strbuf_addstr (sb, "\033[0m");
  strbuf_addstr (sb, "\033[K\n");
}

static double
elapsed (int64_t from, int64_t to)
{
  return to > from ? (double) (to - from) / 1e9 : 0;
}

static int
vertex_lines (struct tty *y, const struct trace_vertex *v, struct strbuf *sb, int64_t now)
{
  struct strbuf line = STRBUF_INIT;
  int n = 1;
  size_t k;
  const char *color = !v->completed ? NULL : v->canceled ? "\033[33m" : v->error ? "\033[31m" : "\033[34m";

  strbuf_addf (&line, " => %s", trace_prefix (v));
  trace_shown_text (&line, v->name);
  frame_line (y, sb, color, line.buf, elapsed (v->started, v->completed ? v->completed : now));
  for (k = 0; k < v->n_statuses; k++)
    {
      const struct trace_status *s = &v->statuses[k];
      strbuf_reset (&line);
      strbuf_addf (&line, " => => %s", s->id);
      trace_bytes (&line, s->current, s->total);
      trace_rate (&line, s, now);
      frame_line (y, sb, color, line.buf, elapsed (s->started, s->completed ? s->completed : now));
      n++;
    }
  /* A running vertex shows its last lines of output. */
  for (k = v->completed ? v->log_count : (v->log_count > LOG_ROWS ? v->log_count - LOG_ROWS : 0);
       k < v->log_count; k++)
    {
      strbuf_reset (&line);
      strbuf_addstr (&line, " => => # ");
      trace_shown_text (&line, v->logs[(v->log_next + k) % TRACE_LOG_LINES]);
      frame_line (y, sb, "\033[2m", line.buf, -1);
      n++;
    }
  strbuf_release (&line);
  return n;
}

/* Running vertices always; finished ones, newest first, while rows remain. */
static void
draw (struct tty *y, int64_t now)
{
  struct strbuf sb = STRBUF_INIT, body = STRBUF_INIT, scratch = STRBUF_INIT;
  bool *show = xcalloc (y->t.n + 1, sizeof *show);
  int budget, lines = 1;
  size_t i, done = 0;

  term_size (y);
  budget = y->rows - 2;
  for (i = 0; i < y->t.n; i++)
    {
      done += y->t.v[i].completed != 0;
      if (!y->t.v[i].completed)
        {
          strbuf_reset (&scratch);
          budget -= vertex_lines (y, &y->t.v[i], &scratch, now);
          show[i] = true;
        }
    }
  for (i = y->t.n; i > 0 && budget > 0; i--)
    if (!show[i - 1])
      {
        strbuf_reset (&scratch);
        budget -= vertex_lines (y, &y->t.v[i - 1], &scratch, now);
        show[i - 1] = budget >= 0;
      }
  for (i = 0; i < y->t.n; i++)
    if (show[i])
      lines += vertex_lines (y, &y->t.v[i], &body, now);
  strbuf_addstr (&sb, "\033[?25l");
  if (y->drawn > 0)
    strbuf_addf (&sb, "\r\033[%dA", y->drawn);
  strbuf_addf (&sb, "[+] %s %.1fs (%zu/%zu)\033[K\n", y->t.title ? y->t.title : "Building",
               elapsed (y->t.started, now), done, y->t.n);
  strbuf_add (&sb, body.buf, body.len);
  strbuf_addstr (&sb, "\033[J\033[?25h");
  (void) fileio_write_all (y->out, sb.buf, sb.len);
  y->drawn = lines;
  y->last_draw = now;
  free (show);
  strbuf_release (&sb);
  strbuf_release (&body);
  strbuf_release (&scratch);
}

/* The last frame: the live one gives way to the plain summary and the failed steps' logs. */
static void
finish (struct tty *y)
{
  struct strbuf sb = STRBUF_INIT;

  if (y->drawn > 0)
    strbuf_addf (&sb, "\r\033[%dA\033[J", y->drawn);
  if (y->t.n > 0)
    {
      trace_summary (&y->t, &sb, true);
      trace_error_logs (&y->t, &sb, true);
    }
  (void) fileio_write_all (y->out, sb.buf, sb.len);
  strbuf_release (&sb);
}

static void __attribute__ ((noreturn))
run (int in, int out, const char *title)
{
  struct tty y = { .out = out, .t.title = title };
  struct bale_progress sink = { tty_event, &y };
  struct strbuf pending = STRBUF_INIT;
  const char *nc = getenv ("NO_COLOR");

  /* Ctrl-C is for the build: the renderer ends when its input does, after the last frame. */
  signal (SIGINT, SIG_IGN);
  signal (SIGTERM, SIG_IGN);
  signal (SIGHUP, SIG_IGN);
  y.t.color = !(nc && *nc);
  for (;;)
    {
      struct pollfd pfd = { in, POLLIN, 0 };
      int r = poll (&pfd, 1, 150);
      struct timespec ts;
      int64_t now;
      clock_gettime (CLOCK_REALTIME, &ts);
      now = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
      if (r > 0)
        {
          char buf[65536];
          ssize_t n = read (in, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          strbuf_add (&pending, buf, (size_t) n);
          {
            size_t used = bale_progress_feed (pending.buf, pending.len, &sink);
            memmove (pending.buf, pending.buf + used, pending.len - used);
            strbuf_setlen (&pending, pending.len - used);
          }
        }
      if (y.t.n > 0 && (r == 0 || now - y.last_draw >= REDRAW_NS))
        draw (&y, now);
    }
  finish (&y);
  strbuf_release (&pending);
  trace_release (&y.t);
  _exit (0);
}

int
progress_tty_start (int out_fd, const char *title, int *event_fd, pid_t *pid, bale_error_t *err)
{
  int fds[2];

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return bale_make_error (err, errno, "--progress=tty: pipe");
  *pid = fork ();
  if (*pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return bale_make_error (err, errno, "--progress=tty: fork");
    }
  if (*pid == 0)
    {
      close (fds[1]);
      run (fds[0], out_fd, title);
    }
  close (fds[0]);
  *event_fd = fds[1];
  return 0;
}
