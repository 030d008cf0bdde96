/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for progress events: emitters, and the rawjson encoding read back event for event. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/progress.h"
#include "tests/testutil.h"
#include "common/banned.h"

/* What a sink saw: one line per event, fields that must survive the encoding. */
static void
record (void *ctx, const struct bale_progress_event *ev)
{
  struct strbuf *sb = ctx;
  /* Statuses, logs and warnings carry the vertex only; the renderer knows its name. */
  bool vertex = ev->kind != BALE_PROGRESS_LOG && ev->kind != BALE_PROGRESS_WARNING
                && ev->kind != BALE_PROGRESS_STATUS;

  strbuf_addf (sb, "%d %s %s %lld %lld|%s|%lld/%lld%s|%d:%.*s|%s\n", ev->kind, ev->vertex,
               vertex && ev->name ? ev->name : "-",
               (long long) (ev->kind == BALE_PROGRESS_WARNING ? 0 : ev->time), /* none in JSON */
               (long long) (vertex || ev->kind == BALE_PROGRESS_STATUS ? ev->started : 0),
               ev->id ? ev->id : "", (long long) ev->current, (long long) ev->total,
               ev->completed ? " done" : "", ev->stream, (int) ev->len, ev->data ? ev->data : "",
               ev->error ? ev->error : "");
}

/* Encode every event to a JSON line, and decode the lines into the second sink. */
struct relay
{
  struct strbuf direct, lines;
};

static void
relay (void *ctx, const struct bale_progress_event *ev)
{
  struct relay *r = ctx;
  char *line = progress_event_to_json (ev);

  record (&r->direct, ev);
  strbuf_addstr (&r->lines, line);
  free (line);
}

static void
test_round_trip (void **state)
{
  struct relay r = { STRBUF_INIT, STRBUF_INIT };
  struct bale_progress p = { relay, &r };
  struct strbuf decoded = STRBUF_INIT;
  struct bale_progress back = { record, &decoded };
  struct progress_vertex v, w;

  (void) state;
  progress_vertex_start (&v, &p, "0/1", "[1/2] RUN echo \"hi\"");
  progress_vertex_status (&v, "transferring context:", 1234, 5678, false);
  progress_vertex_status (&v, "transferring context:", 5678, 5678, true);
  progress_vertex_log (&v, 2, "to stderr \xc3\xa9", 12);
  progress_vertex_log (&v, 1, "", 0);
  progress_vertex_warn (&v, "slow");
  progress_vertex_end (&v, false, NULL);
  progress_vertex_start (&w, &p, "0/2", "[2/2] COPY . /");
  progress_vertex_end (&w, true, NULL);
  progress_vertex_start (&w, &p, "0/3", "[2/2] RUN false");
  progress_vertex_end (&w, false, "RUN returned exit code 1");
  /* The pipe delivers the lines in arbitrary pieces. */
  {
    struct strbuf pending = STRBUF_INIT;
    for (size_t i = 0; i < r.lines.len; i += 7)
      {
        strbuf_add (&pending, r.lines.buf + i, i + 7 <= r.lines.len ? 7 : r.lines.len - i);
        progress_feed (&pending, &back);
      }
    assert_int_equal (pending.len, 0);
    strbuf_release (&pending);
  }
  assert_string_equal (decoded.buf, r.direct.buf);
  /* The same digest for the same step and name, another for another. */
  assert_non_null (strstr (r.direct.buf, v.digest[0] ? v.digest : "sha256:"));
  strbuf_release (&r.direct);
  strbuf_release (&r.lines);
  strbuf_release (&decoded);
}

static void
test_rawjson_shape (void **state)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_LOG };
  char *line;

  (void) state;
  ev.vertex = "sha256:ab";
  ev.time = 1700000000123456789LL;
  ev.stream = 1;
  ev.data = "hello";
  ev.len = 5;
  line = progress_event_to_json (&ev);
  /* BuildKit's VertexLog: data is base64 of the bytes with their newline. */
  assert_string_equal (line, "{\"logs\":[{\"vertex\":\"sha256:ab\",\"stream\":1,\"data\":\"aGVsbG8K\","
                             "\"timestamp\":\"2023-11-14T22:13:20.123456789Z\"}]}\n");
  free (line);
  assert_int_equal (progress_event_from_json ("not json", 8, NULL), -1);
}

static void
test_nobody_listens (void **state)
{
  struct progress_vertex v;

  (void) state;
  /* No sink: every emitter is a no-op, nothing allocated. */
  progress_vertex_start (&v, NULL, "k", "name");
  progress_vertex_log (&v, 1, "x", 1);
  progress_vertex_end (&v, false, "e");
  assert_null (v.name);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_round_trip),
    cmocka_unit_test (test_rawjson_shape),
    cmocka_unit_test (test_nobody_listens),
  };

  return cmocka_run_group_tests_name ("progress", tests, NULL, NULL);
}
