/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the plain and tty renderers know about a build's vertices, and the summary they end with. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "cli/progress.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct trace_vertex *
trace_find (struct trace *t, const char *digest)
{
  size_t i;

  for (i = t->n; i > 0; i--)
    if (strcmp (t->v[i - 1].digest, digest) == 0)
      return &t->v[i - 1];
  return NULL;
}

static void
update_status (struct trace_vertex *v, const struct bale_progress_event *ev)
{
  struct trace_status *s = NULL;
  size_t i;

  for (i = 0; i < v->n_statuses; i++)
    if (strcmp (v->statuses[i].id, ev->id) == 0)
      s = &v->statuses[i];
  if (!s)
    {
      XGROW (v->statuses, v->alloc_statuses, v->n_statuses + 1);
      s = &v->statuses[v->n_statuses++];
      memset (s, 0, sizeof *s);
      s->id = xstrdup (ev->id);
      s->started = ev->time;
      s->printed_current = -1;
    }
  s->current = ev->current;
  s->total = ev->total;
  if (ev->completed)
    s->completed = ev->time;
}

struct trace_vertex *
trace_update (struct trace *t, const struct bale_progress_event *ev)
{
  struct trace_vertex *v = ev->vertex ? trace_find (t, ev->vertex) : NULL;

  if (!ev->vertex)
    return NULL; /* a MESSAGE belongs to no vertex */
  if (!t->started)
    t->started = ev->time;
  if (!v && ev->kind != BALE_PROGRESS_START && !ev->name)
    return NULL;
  if (!v)
    {
      XGROW (t->v, t->alloc, t->n + 1);
      v = &t->v[t->n++];
      memset (v, 0, sizeof *v);
      snprintf (v->digest, sizeof v->digest, "%s", ev->vertex);
      v->name = xstrdup (ev->name ? ev->name : "");
      v->started = ev->kind == BALE_PROGRESS_START ? ev->time : ev->started;
    }
  switch (ev->kind)
    {
    case BALE_PROGRESS_STATUS: update_status (v, ev); break;
    case BALE_PROGRESS_LOG: v->log_bytes += (int64_t) ev->len; break;
    case BALE_PROGRESS_WARNING:
      {
        char *w = xasprintf ("%sWARN: %.*s\n", v->warnings ? v->warnings : "", (int) ev->len, ev->data);
        free (v->warnings);
        v->warnings = w;
        break;
      }
    case BALE_PROGRESS_DONE:
    case BALE_PROGRESS_CACHED:
    case BALE_PROGRESS_ERROR:
      v->completed = ev->time;
      v->cached = ev->kind == BALE_PROGRESS_CACHED;
      if (ev->kind == BALE_PROGRESS_ERROR)
        {
          /* The first line: the rest (a RUN's last output lines) is in the logs. */
          const char *msg = ev->error ? ev->error : "failed";
          size_t n = strcspn (msg, "\n");
          free (v->error);
          v->error = xasprintf ("%.*s", (int) n, msg);
          /* Stopped because another step failed: BuildKit's "context canceled". */
          v->canceled = n >= 11 && (strncmp (msg + n - 11, "interrupted", 11) == 0
                                    || (n >= 16 && strncmp (msg + n - 16, "context canceled", 16) == 0));
        }
      break;
    default: break;
    }
  return v;
}

void
trace_remember_log (struct trace_vertex *v, const char *line)
{
  size_t slot = (v->log_next + v->log_count) % TRACE_LOG_LINES;

  if (v->log_count == TRACE_LOG_LINES)
    {
      slot = v->log_next;
      free (v->logs[slot]);
      v->log_next = (v->log_next + 1) % TRACE_LOG_LINES;
    }
  else
    v->log_count++;
  v->logs[slot] = xstrdup (line);
}

/* BuildKit's units.Bytes with %.2f: decimal units, integer bytes below 1000. */
static void
human (struct strbuf *sb, int64_t n)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
  double v = (double) n;
  size_t u = 0;

  if (n < 1000)
    {
      strbuf_addf (sb, "%lldB", (long long) n);
      return;
    }
  while (v >= 1000 && u + 1 < sizeof units / sizeof units[0])
    v /= 1000, u++;
  strbuf_addf (sb, "%.2f%s", v, units[u]);
}

void
trace_bytes (struct strbuf *sb, int64_t current, int64_t total)
{
  if (total)
    {
      strbuf_addch (sb, ' ');
      human (sb, current);
      strbuf_addstr (sb, " / ");
      human (sb, total);
    }
  else if (current)
    {
      strbuf_addch (sb, ' ');
      human (sb, current);
    }
}

void
trace_rate (struct strbuf *sb, const struct trace_status *s, int64_t now)
{
  /* Bytes of a transfer still under way, over at least a tenth of a second. */
  if (s->completed || s->current <= 0 || now - s->started < 100000000)
    return;
  strbuf_addch (sb, ' ');
  human (sb, (int64_t) ((double) s->current * 1e9 / (double) (now - s->started)));
  strbuf_addstr (sb, "/s");
}

static double
secs (int64_t from, int64_t to)
{
  return to > from ? (double) (to - from) / 1e9 : 0;
}

/* " => text" padded so that the time ends at column 80 (or one space after a longer text). */
static void
row (struct strbuf *sb, const char *color, const char *text, double t, bool use_color)
{
  int width = (int) strlen (text);
  int pad = 80 - 4 - 1 - width - 5;

  if (use_color && color)
    strbuf_addstr (sb, color);
  strbuf_addf (sb, " => %s%*s%5.1fs", text, pad > 0 ? pad : 0, "", t);
  if (use_color && color)
    strbuf_addstr (sb, "\033[0m");
  strbuf_addch (sb, '\n');
}

/*
 * What a step printed, as text the frame may show: BuildKit's tty view runs the output
 * through a vt100 emulator and prints only the cells it drew. Here escape sequences (CSI
 * colours and cursor moves, OSC titles and clipboard writes, DCS and the rest) and the
 * other C0 and C1 controls are dropped, a tab is a space, and a carriage return starts the
 * line again (a progress bar shows its last state). Before, a step could write the user's
 * clipboard (OSC 52), retitle the terminal or move the cursor to forge the frame.
 */
void
trace_shown_text (struct strbuf *out, const char *s)
{
  size_t start = out->len;

  while (*s)
    {
      unsigned char c = (unsigned char) *s++;

      if (c == 033)
        {
          c = (unsigned char) *s;
          if (c == '[')
            {
              for (s++; *s && (*s < 0x40 || *s > 0x7e); s++)
                ;
              s += *s != '\0';
            }
          else if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X')
            {
              for (s++; *s && *s != '\a' && !(*s == 033 && s[1] == '\\'); s++)
                ;
              s += *s == '\a' ? 1 : *s ? 2 : 0;
            }
          else if (c != '\0')
            s++;
        }
      else if (c == '\r')
        {
          if (*s && *s != '\n')
            strbuf_setlen (out, start);
        }
      else if (c == '\t')
        strbuf_addch (out, ' ');
      else if (c == 0xc2 && (unsigned char) *s >= 0x80 && (unsigned char) *s <= 0x9f)
        s++; /* a C1 control in UTF-8 */
      else if (c >= 0x20 && c != 0x7f)
        strbuf_addch (out, (char) c);
    }
}

const char *
trace_prefix (const struct trace_vertex *v)
{
  return v->canceled ? "CANCELED " : v->error ? "ERROR " : v->cached ? "CACHED " : "";
}

void
trace_summary (const struct trace *t, struct strbuf *sb, bool text_only)
{
  size_t i, j, done = 0;
  int64_t end = t->started;

  for (i = 0; i < t->n; i++)
    {
      done += t->v[i].completed != 0;
      if (t->v[i].completed > end)
        end = t->v[i].completed;
    }
  strbuf_addf (sb, "[+] %s %.1fs (%zu/%zu)%s\n", t->title ? t->title : "Building",
               secs (t->started, end), done, t->n,
               done == t->n ? " FINISHED" : "");
  for (i = 0; i < t->n; i++)
    {
      const struct trace_vertex *v = &t->v[i];
      struct strbuf line = STRBUF_INIT;
      const char *color = v->canceled ? "\033[33m" : v->error ? "\033[31m" : "\033[34m";
      strbuf_addstr (&line, trace_prefix (v));
      if (text_only)
        trace_shown_text (&line, v->name);
      else
        strbuf_addstr (&line, v->name);
      row (sb, color, line.buf, v->cached ? 0 : secs (v->started, v->completed), t->color);
      for (j = 0; j < v->n_statuses; j++)
        {
          const struct trace_status *s = &v->statuses[j];
          strbuf_reset (&line);
          strbuf_addf (&line, "=> %s", s->id);
          trace_bytes (&line, s->current, s->total);
          row (sb, color, line.buf, secs (s->started, s->completed ? s->completed : v->completed), t->color);
        }
      strbuf_release (&line);
    }
}

void
trace_error_logs (const struct trace *t, struct strbuf *sb, bool text_only)
{
  size_t i, k;

  for (i = 0; i < t->n; i++)
    {
      const struct trace_vertex *v = &t->v[i];
      if (!v->error || v->canceled)
        continue;
      strbuf_addstr (sb, "------\n > ");
      if (text_only)
        trace_shown_text (sb, v->name);
      else
        strbuf_addstr (sb, v->name);
      strbuf_addstr (sb, ":\n");
      for (k = 0; k < v->log_count; k++)
        {
          const char *log = v->logs[(v->log_next + k) % TRACE_LOG_LINES];
          if (text_only)
            trace_shown_text (sb, log);
          else
            strbuf_addstr (sb, log);
          strbuf_addch (sb, '\n');
        }
      strbuf_addstr (sb, "------\n");
    }
}

void
trace_release (struct trace *t)
{
  size_t i, k;

  for (i = 0; i < t->n; i++)
    {
      struct trace_vertex *v = &t->v[i];
      free (v->name);
      free (v->error);
      free (v->warnings);
      for (k = 0; k < v->n_statuses; k++)
        free (v->statuses[k].id);
      free (v->statuses);
      for (k = 0; k < TRACE_LOG_LINES; k++)
        free (v->logs[k]);
    }
  free (t->v);
  memset (t, 0, sizeof *t);
}
