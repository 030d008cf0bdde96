/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the parser: AST details, JSON output, and hostile input. */
#include <config.h>

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "bale.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "tests/testutil.h"

static struct bale_dockerfile *
parse_ok (const char *src)
{
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;

  if (bale_parse_checked ("Dockerfile", src, strlen (src), &df, &err) < 0)
    test_fail ("parse failed: %s", err->msg);
  return df;
}

static void
test_flags_and_comments (void **state)
{
  struct bale_dockerfile *df
      = parse_ok ("FROM scratch\n# build it\n# fast\nRUN --network=none --mount=type=tmpfs,target=/t make\n");
  const struct bale_node *n = &df->nodes[1];

  (void) state;
  assert_int_equal (n->kind, BALE_I_RUN);
  assert_int_equal (n->n_flags, 2);
  assert_string_equal (n->flags[0].name, "network");
  assert_string_equal (n->flags[0].value, "none");
  assert_string_equal (n->flags[1].name, "mount");
  assert_string_equal (n->flags[1].value, "type=tmpfs,target=/t");
  assert_string_equal (n->rest, "make");
  assert_int_equal (n->n_comments, 2);
  assert_string_equal (n->comments[0], "build it");
  assert_string_equal (n->comments[1], "fast");
  assert_false (n->json);
  bale_dockerfile_free (df);
}

static void
test_onbuild_and_original (void **state)
{
  struct bale_dockerfile *df = parse_ok ("FROM scratch\nONBUILD   COPY a \\\n  b\n");
  const struct bale_node *n = &df->nodes[1];

  (void) state;
  assert_int_equal (n->kind, BALE_I_ONBUILD);
  assert_non_null (n->sub);
  assert_int_equal (n->sub->kind, BALE_I_COPY);
  assert_string_equal (n->rest, "COPY a   b");
  assert_string_equal (n->original, "ONBUILD   COPY a   b");
  bale_dockerfile_free (df);
}

static void
test_json_output (void **state)
{
  struct bale_dockerfile *df = parse_ok ("FROM scratch\nENV A=1 B=2\nCMD [\"x\"]\nRUN <<EOF\nhi\nEOF\n");
  char *text = bale_ast_to_json (df, 0);
  json_error_t jerr;
  json_t *root = json_loads (text, 0, &jerr), *ins;

  (void) state;
  assert_non_null (root);
  ins = json_object_get (root, "instructions");
  assert_int_equal (json_array_size (ins), 4);
  assert_string_equal (json_string_value (json_object_get (json_array_get (ins, 2), "form")), "exec");
  assert_int_equal (json_array_size (json_object_get (json_array_get (ins, 1), "pairs")), 2);
  assert_string_equal (json_string_value (json_object_get (
                           json_array_get (json_object_get (json_array_get (ins, 3), "heredocs"), 0), "content")),
                       "hi\n");
  json_decref (root);
  free (text);
  bale_dockerfile_free (df);
}

/* Bad input ends in a clean error or a correct AST, never a crash (run under ASan in CI). */
static void
try_parse (const char *buf, size_t len)
{
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;

  if (bale_parse_checked ("Dockerfile", buf, len, &df, &err) == 0)
    {
      char *d = bale_dump (df), *j = bale_ast_to_json (df, 0);
      free (d);
      free (j);
      bale_dockerfile_free (df);
    }
  else
    assert_non_null (err);
  bale_error_release (&err);
}

static void
test_hostile_input (void **state)
{
  unsigned seed = 1;
  char *buf = xmalloc (1 << 20);
  size_t i, round;

  (void) state;
  for (round = 0; round < 200; round++)
    {
      size_t len = (size_t) (rand_r (&seed) % 4096);
      for (i = 0; i < len; i++)
        buf[i] = (char) rand_r (&seed);
      try_parse (buf, len);
    }
  memset (buf, 0, 4096);
  try_parse (buf, 4096);
  try_parse ("FROM x\nRUN a\0b\n", 15);
  try_parse ("", 0);
  try_parse ("# just a comment\n\n   \n", 22);
  try_parse ("FROM x\nCMD [\"unterminated", 24);
  try_parse ("FROM x\nRUN <<EOF\nno end", 22);
  try_parse ("\\", 1);
  try_parse ("FROM x\nRUN \\", 12);
  /* A 1 MiB line is longer than BuildKit's limit: a clean error. */
  memcpy (buf, "FROM x\nRUN ", 11);
  memset (buf + 11, 'a', (1 << 20) - 11);
  {
    struct bale_dockerfile *df = NULL;
    bale_error_t err = NULL;
    assert_int_equal (bale_parse ("Dockerfile", buf, 1 << 20, &df, &err), -1);
    assert_string_equal (err->msg, "dockerfile line greater than max allowed size of 65535");
    bale_error_release (&err);
  }
  free (buf);
}

/* Whether "FROM x\n" + PREFIX + n bytes of FILL + TAIL parses; a failure must be the line limit
   at the line of the FILL bytes. */
static bool
line_parses (const char *prefix, char fill, size_t n, const char *tail)
{
  struct strbuf sb = STRBUF_INIT;
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;
  int line = 2;
  bool ok;

  for (const char *c = prefix; *c; c++)
    line += *c == '\n';
  strbuf_addstr (&sb, "FROM x\n");
  strbuf_addstr (&sb, prefix);
  for (size_t i = 0; i < n; i++)
    strbuf_addch (&sb, fill);
  strbuf_addstr (&sb, tail);
  ok = bale_parse ("Dockerfile", sb.buf, sb.len, &df, &err) == 0;
  if (!ok)
    {
      assert_string_equal (err->msg, "dockerfile line greater than max allowed size of 65535");
      assert_int_equal (err->line, line);
    }
  bale_error_release (&err);
  bale_dockerfile_free (df);
  strbuf_release (&sb);
  return ok;
}

/* BuildKit's limit is 65535 bytes before the '\n' (bufio.Scanner's 64 KiB buffer holds the
   line and its '\n'), whatever the line holds; checked against docker 20.10's BuildKit: a
   65535-byte LABEL line builds with or without its '\n', one byte more fails, and so does a
   line of 70,000 spaces. */
static void
test_line_limit (void **state)
{
  (void) state;
  assert_true (line_parses ("LABEL a=", 'x', 65535 - 8, "\n"));
  assert_false (line_parses ("LABEL a=", 'x', 65536 - 8, "\n"));
  assert_true (line_parses ("LABEL a=", 'x', 65535 - 8, ""));
  assert_false (line_parses ("LABEL a=", 'x', 65536 - 8, ""));
  assert_false (line_parses ("LABEL a=", 'x', 65535 - 8, "\r\n"));
  assert_true (line_parses ("LABEL a=", 'x', 65534 - 8, "\r\n"));
  /* Blank lines, comments, continuations and heredoc bodies count alike. */
  assert_true (line_parses ("", ' ', 65535, "\nLABEL b=1\n"));
  assert_false (line_parses ("", ' ', 65536, "\nLABEL b=1\n"));
  assert_false (line_parses ("", ' ', 70000, ""));
  assert_false (line_parses ("#", 'c', 65535, "\n"));
  assert_true (line_parses ("RUN echo \\\n", 'b', 65535, "\n"));
  assert_false (line_parses ("RUN echo \\\n", 'b', 65536, "\n"));
  assert_true (line_parses ("RUN <<EOF\n", 'h', 65535, "\nEOF\n"));
  assert_false (line_parses ("RUN <<EOF\n", 'h', 65536, "\nEOF\n"));
}

static void
test_error_cap (void **state)
{
  struct strbuf sb = STRBUF_INIT;
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;
  int i;

  (void) state;
  strbuf_addstr (&sb, "FROM scratch\n");
  for (i = 0; i < 100; i++)
    strbuf_addstr (&sb, "ENV x\n");
  assert_int_equal (bale_parse ("Dockerfile", sb.buf, sb.len, &df, &err), -1);
  assert_true (bale_error_count (err) <= 20);
  assert_true (bale_error_count (err) >= 1);
  bale_error_release (&err);
  strbuf_release (&sb);
}

/* The thread's CPU time: what the parse costs, not how long a loaded machine kept it waiting. */
static double
seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
time_parse (const struct strbuf *sb)
{
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;
  double t0 = seconds ();

  bale_parse ("Dockerfile", sb->buf, sb->len, &df, &err);
  bale_dockerfile_free (df);
  bale_error_release (&err);
  return seconds () - t0;
}

/* Doubling the input of each pathological shape must not quadruple the time. */
static void
test_linear_time (void **state)
{
  static const char *const shapes[] = { "a \\\n", "# c\n", "\n", "x\n", "    \\\n" };
  size_t s;

  (void) state;
  for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    {
      struct strbuf small = STRBUF_INIT, big = STRBUF_INIT;
      double t1, t2;
      int i;

      strbuf_addstr (&small, "FROM x\nRUN <<EOF \\\n");
      strbuf_addstr (&big, small.buf);
      for (i = 0; i < 50000; i++)
        strbuf_addstr (&small, shapes[s]);
      for (i = 0; i < 100000; i++)
        strbuf_addstr (&big, shapes[s]);
      /* The best of five runs of CPU time: a busy machine only ever makes a run slower. A
         quadratic parser takes seconds here, so 0.2 s leaves room for sanitizers. */
      t1 = time_parse (&small);
      t2 = time_parse (&big);
      for (i = 0; i < 4; i++)
        {
          double a = time_parse (&small), b = time_parse (&big);
          t1 = a < t1 ? a : t1;
          t2 = b < t2 ? b : t2;
        }
      if (t2 > 0.2 && t2 > 6 * t1)
        test_fail ("shape %zu: %.3fs for 50k lines but %.3fs for 100k", s, t1, t2);
      strbuf_release (&small);
      strbuf_release (&big);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_flags_and_comments),
    cmocka_unit_test (test_onbuild_and_original),
    cmocka_unit_test (test_json_output),
    cmocka_unit_test (test_hostile_input),
    cmocka_unit_test (test_line_limit),
    cmocka_unit_test (test_error_cap),
    cmocka_unit_test (test_linear_time),
  };
  return cmocka_run_group_tests_name ("parser", tests, NULL, NULL);
}
