/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress events: the emitter's helpers and the rawjson (SolveStatus) encoding both ways. */
#define _GNU_SOURCE
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/oci/digest.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/executor.h"
#include "runtime/build/progress.h"
#include "common/banned.h"

int64_t
progress_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
send (const struct progress_vertex *v, struct bale_progress_event *ev)
{
  ev->vertex = v->digest;
  ev->name = v->name;
  ev->started = v->started;
  if (!ev->time)
    ev->time = progress_now ();
  v->p->fn (v->p->ctx, ev);
}

static bool
listening (const struct progress_vertex *v)
{
  return v->p && v->p->fn;
}

void
progress_vertex_start (struct progress_vertex *v, const struct bale_progress *p, const char *key,
                       const char *name)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_START };
  cleanup_free char *seed = NULL;

  memset (v, 0, sizeof *v);
  v->p = p;
  if (!listening (v))
    return;
  /* BuildKit's digest is the LLB op's; ours names the step's place and text, which is as
     stable across builds and unique within one. */
  seed = xasprintf ("%s\n%s", key, name);
  if (digest_buffer (seed, strlen (seed), v->digest, NULL) < 0)
    snprintf (v->digest, sizeof v->digest, "sha256:%064x", 0);
  v->name = xstrdup (name);
  v->started = ev.time = progress_now ();
  send (v, &ev);
}

void
progress_vertex_status (struct progress_vertex *v, const char *id, int64_t current, int64_t total,
                        bool completed)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_STATUS };

  if (!listening (v))
    return;
  ev.id = id;
  ev.current = current;
  ev.total = total;
  ev.completed = completed;
  send (v, &ev);
}

void
progress_vertex_log (struct progress_vertex *v, int stream, const char *data, size_t len)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_LOG };

  if (!listening (v))
    return;
  ev.stream = stream;
  ev.data = data;
  ev.len = len;
  send (v, &ev);
}

void
progress_log_line (void *vertex, int stream, const char *line, size_t len)
{
  progress_vertex_log (vertex, stream, line, len);
}

void
progress_transfer (void *vertex, const char *id, int64_t current, int64_t total, bool completed)
{
  progress_vertex_status (vertex, id, current, total, completed);
}

void
progress_vertex_warn (struct progress_vertex *v, const char *msg)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_WARNING };

  if (!listening (v))
    return;
  ev.data = msg;
  ev.len = strlen (msg);
  send (v, &ev);
}

void
progress_vertex_miss (struct progress_vertex *v, const char *why)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_MISS };

  if (!listening (v))
    return;
  ev.data = why;
  ev.len = strlen (why);
  send (v, &ev);
}

void
progress_vertex_end (struct progress_vertex *v, bool cached, const char *error)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_DONE };

  if (!listening (v))
    return;
  if (error)
    ev.kind = BALE_PROGRESS_ERROR;
  else if (cached)
    ev.kind = BALE_PROGRESS_CACHED;
  ev.error = error;
  send (v, &ev);
  free (v->name);
  v->name = NULL;
  v->p = NULL;
}

/* ---- rawjson ------------------------------------------------------------------------------ */

static json_t *
json_time (int64_t ns)
{
  char buf[40];

  exec_format_time (ns / 1000000000, (long) (ns % 1000000000), buf);
  return json_string (buf);
}

/* RFC 3339 in UTC as json_time writes it; 0 when it is not one. */
static int64_t
parse_time (const json_t *j)
{
  const char *s = json_string_value (j), *rest;
  struct tm tm = { 0 };
  int64_t frac = 0, scale = 100000000;

  if (!s || !(rest = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm)))
    return 0;
  if (*rest == '.')
    for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
      frac += (*rest - '0') * scale;
  return (int64_t) timegm (&tm) * 1000000000 + frac;
}

static json_t *
json_base64 (const char *data, size_t len)
{
  cleanup_free unsigned char *out = xmalloc (4 * ((len + 2) / 3) + 1);

  EVP_EncodeBlock (out, (const unsigned char *) data, (int) len);
  return json_string ((char *) out);
}

/* The bytes of a base64 string, NUL-terminated, in *len; NULL when it is not base64. */
static char *
from_base64 (const json_t *j, size_t *len)
{
  const char *s = json_string_value (j);
  size_t n = s ? strlen (s) : 0;
  unsigned char *out;
  int got;

  if (!s || n % 4)
    return NULL;
  out = xmalloc (n / 4 * 3 + 1);
  got = EVP_DecodeBlock (out, (const unsigned char *) s, (int) n);
  if (got < 0)
    {
      free (out);
      return NULL;
    }
  /* EVP_DecodeBlock counts the padding as zero bytes. */
  while (n > 0 && s[n - 1] == '=' && got > 0)
    n--, got--;
  out[got] = '\0';
  *len = (size_t) got;
  return (char *) out;
}

static json_t *
vertex_json (const struct bale_progress_event *ev)
{
  json_t *v = json_object ();

  json_object_set_new (v, "digest", json_string (ev->vertex));
  json_object_set_new (v, "name", json_string (ev->name ? ev->name : ""));
  json_object_set_new (v, "started", json_time (ev->kind == BALE_PROGRESS_START ? ev->time : ev->started));
  if (ev->kind != BALE_PROGRESS_START)
    json_object_set_new (v, "completed", json_time (ev->time));
  if (ev->kind == BALE_PROGRESS_CACHED)
    json_object_set_new (v, "cached", json_true ());
  if (ev->kind == BALE_PROGRESS_ERROR)
    json_object_set_new (v, "error", json_string (ev->error ? ev->error : "failed"));
  return v;
}

static json_t *
status_json (const struct bale_progress_event *ev)
{
  json_t *s = json_object ();

  json_object_set_new (s, "id", json_string (ev->id ? ev->id : ""));
  json_object_set_new (s, "vertex", json_string (ev->vertex));
  if (ev->total)
    json_object_set_new (s, "total", json_integer (ev->total));
  json_object_set_new (s, "current", json_integer (ev->current));
  json_object_set_new (s, "timestamp", json_time (ev->time));
  json_object_set_new (s, "started", json_time (ev->started));
  if (ev->completed)
    json_object_set_new (s, "completed", json_time (ev->time));
  return s;
}

char *
progress_event_to_json (const struct bale_progress_event *ev)
{
  json_t *top = json_object (), *item;
  const char *key;
  char *text, *line;

  switch (ev->kind)
    {
    case BALE_PROGRESS_STATUS:
      key = "statuses";
      item = status_json (ev);
      break;
    case BALE_PROGRESS_LOG:
      {
        /* BuildKit's logs carry the raw bytes, newline included. */
        cleanup_free char *nl = xmalloc (ev->len + 1);
        memcpy (nl, ev->data, ev->len);
        nl[ev->len] = '\n';
        key = "logs";
        item = json_object ();
        json_object_set_new (item, "vertex", json_string (ev->vertex));
        json_object_set_new (item, "stream", json_integer (ev->stream ? ev->stream : 1));
        json_object_set_new (item, "data", json_base64 (nl, ev->len + 1));
        json_object_set_new (item, "timestamp", json_time (ev->time));
        break;
      }
    case BALE_PROGRESS_WARNING:
      key = "warnings";
      item = json_object ();
      json_object_set_new (item, "vertex", json_string (ev->vertex));
      json_object_set_new (item, "level", json_integer (1));
      json_object_set_new (item, "short", json_base64 (ev->data, ev->len));
      break;
    case BALE_PROGRESS_MISS:
      /* Not in BuildKit's SolveStatus: a key of its own, which its clients ignore. */
      key = "cacheMisses";
      item = json_object ();
      json_object_set_new (item, "vertex", json_string (ev->vertex));
      {
        json_t *why = json_stringn (ev->data, ev->len);
        json_object_set_new (item, "reason", why ? why : json_string ("(not UTF-8)"));
      }
      json_object_set_new (item, "timestamp", json_time (ev->time));
      break;
    default:
      key = "vertexes";
      item = vertex_json (ev);
      break;
    }
  json_object_set_new (top, key, json_pack ("[o]", item));
  text = json_dumps (top, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (top);
  line = xasprintf ("%s\n", text);
  free (text);
  return line;
}

static void
decode_vertex (const json_t *v, const struct bale_progress *p)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_START };
  const json_t *err = json_object_get (v, "error");

  ev.vertex = json_string_value (json_object_get (v, "digest"));
  ev.name = json_string_value (json_object_get (v, "name"));
  ev.started = parse_time (json_object_get (v, "started"));
  ev.time = ev.started;
  if (json_object_get (v, "completed"))
    {
      ev.time = parse_time (json_object_get (v, "completed"));
      ev.kind = err ? BALE_PROGRESS_ERROR
                : json_is_true (json_object_get (v, "cached")) ? BALE_PROGRESS_CACHED
                                                              : BALE_PROGRESS_DONE;
      ev.error = json_string_value (err);
    }
  if (ev.vertex)
    p->fn (p->ctx, &ev);
}

static void
decode_status (const json_t *s, const struct bale_progress *p)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_STATUS };

  ev.vertex = json_string_value (json_object_get (s, "vertex"));
  ev.id = json_string_value (json_object_get (s, "id"));
  ev.current = json_integer_value (json_object_get (s, "current"));
  ev.total = json_integer_value (json_object_get (s, "total"));
  ev.time = parse_time (json_object_get (s, "timestamp"));
  ev.started = parse_time (json_object_get (s, "started"));
  ev.completed = json_object_get (s, "completed") != NULL;
  if (ev.vertex)
    p->fn (p->ctx, &ev);
}

static void
decode_bytes (const json_t *l, enum bale_progress_kind kind, const char *field,
              const struct bale_progress *p)
{
  struct bale_progress_event ev = { .kind = kind };
  cleanup_free char *data = from_base64 (json_object_get (l, field), &ev.len);

  ev.vertex = json_string_value (json_object_get (l, "vertex"));
  ev.stream = (int) json_integer_value (json_object_get (l, "stream"));
  ev.time = parse_time (json_object_get (l, "timestamp"));
  if (!data || !ev.vertex)
    return;
  if (kind == BALE_PROGRESS_LOG && ev.len > 0 && data[ev.len - 1] == '\n')
    data[--ev.len] = '\0';
  ev.data = data;
  p->fn (p->ctx, &ev);
}

int
progress_event_from_json (const char *line, size_t len, const struct bale_progress *p)
{
  json_t *top = json_loadb (line, len, 0, NULL);
  const json_t *a;
  size_t i;

  if (!json_is_object (top))
    {
      json_decref (top);
      return -1;
    }
  json_array_foreach (json_object_get (top, "vertexes"), i, a)
    decode_vertex (a, p);
  json_array_foreach (json_object_get (top, "statuses"), i, a)
    decode_status (a, p);
  json_array_foreach (json_object_get (top, "logs"), i, a)
    decode_bytes (a, BALE_PROGRESS_LOG, "data", p);
  json_array_foreach (json_object_get (top, "warnings"), i, a)
    decode_bytes (a, BALE_PROGRESS_WARNING, "short", p);
  json_array_foreach (json_object_get (top, "cacheMisses"), i, a)
    {
      struct bale_progress_event ev = { .kind = BALE_PROGRESS_MISS };
      ev.vertex = json_string_value (json_object_get (a, "vertex"));
      ev.data = json_string_value (json_object_get (a, "reason"));
      ev.time = parse_time (json_object_get (a, "timestamp"));
      if (ev.vertex && ev.data)
        {
          ev.len = strlen (ev.data);
          p->fn (p->ctx, &ev);
        }
    }
  json_decref (top);
  return 0;
}

void
progress_feed (struct strbuf *pending, const struct bale_progress *p)
{
  size_t start = 0, i;

  for (i = 0; i < pending->len; i++)
    if (pending->buf[i] == '\n')
      {
        (void) progress_event_from_json (pending->buf + start, i - start, p);
        start = i + 1;
      }
  memmove (pending->buf, pending->buf + start, pending->len - start);
  strbuf_setlen (pending, pending->len - start);
}

/* The child's sink: each event as a rawjson line on the pipe to the parent. */
void
progress_pipe_event (void *ctx, const struct bale_progress_event *ev)
{
  char *line = progress_event_to_json (ev);

  (void) fileio_write_all (*(int *) ctx, line, strlen (line));
  free (line);
}

static json_t *
err_str_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

json_t *
progress_errors_to_json (bale_error_t e)
{
  json_t *a = json_array ();

  for (; e; e = e->next)
    {
      json_t *j = json_object ();
      json_object_set_new (j, "status", json_integer (e->status));
      json_object_set_new (j, "msg", json_string (e->msg));
      json_object_set_new (j, "file", err_str_or_null (e->file));
      json_object_set_new (j, "line", json_integer (e->line));
      json_object_set_new (j, "col", json_integer (e->col));
      json_object_set_new (j, "end_line", json_integer (e->end_line));
      json_object_set_new (j, "end_col", json_integer (e->end_col));
      json_object_set_new (j, "source_line", err_str_or_null (e->source_line));
      json_object_set_new (j, "hint", err_str_or_null (e->hint));
      json_array_append_new (a, j);
    }
  return a;
}

static char *
err_dup_or_null (const json_t *j)
{
  return json_is_string (j) ? xstrdup (json_string_value (j)) : NULL;
}

void
progress_errors_from_json (const json_t *a, bale_error_t *err)
{
  size_t i;

  for (i = 0; i < json_array_size (a); i++)
    {
      const json_t *j = json_array_get (a, i);
      struct bale_error_s *e = xzalloc (sizeof *e);
      e->status = (int) json_integer_value (json_object_get (j, "status"));
      e->severity = BALE_SEVERITY_ERROR;
      e->msg = err_dup_or_null (json_object_get (j, "msg"));
      if (!e->msg)
        e->msg = xstrdup ("a stage failed");
      e->file = err_dup_or_null (json_object_get (j, "file"));
      e->line = (int) json_integer_value (json_object_get (j, "line"));
      e->col = (int) json_integer_value (json_object_get (j, "col"));
      e->end_line = (int) json_integer_value (json_object_get (j, "end_line"));
      e->end_col = (int) json_integer_value (json_object_get (j, "end_col"));
      e->source_line = err_dup_or_null (json_object_get (j, "source_line"));
      e->hint = err_dup_or_null (json_object_get (j, "hint"));
      bale_error_join (err, &e);
    }
}
