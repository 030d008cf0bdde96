/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for common/error: chains, wrapping, formatting with a caret. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/error.h"
#include "common/xalloc.h"

static void
test_make_and_chain (void **state)
{
  bale_error_t err = NULL;

  (void) state;
  assert_int_equal (bale_make_error (&err, ENOENT, "cannot open '%s'", "x"), -ENOENT - 1);
  assert_int_equal (bale_make_error (&err, 0, "second"), -1);
  assert_int_equal (bale_error_count (err), 2);
  assert_string_equal (err->msg, "cannot open 'x'");
  assert_string_equal (err->next->msg, "second");
  bale_error_wrap (&err, "load");
  assert_string_equal (err->msg, "load: cannot open 'x'");
  assert_string_equal (err->next->msg, "load: second");
  bale_error_release (&err);
  assert_null (err);
  bale_error_release (&err);
}

static void
test_format (void **state)
{
  struct bale_loc loc = { "Dockerfile", 3, 5, 3, 9, "RUN echo", 8 };
  bale_error_t err = NULL;
  char *s;

  (void) state;
  bale_make_error_at (&err, &loc, "bad '%s'", "echo");
  s = bale_error_format (err);
  assert_string_equal (s, "Dockerfile:3:5: error: bad 'echo'\n    RUN echo\n        ^~~~");
  free (s);
  bale_error_release (&err);

  bale_make_error (&err, ENOENT, "cannot open '%s'", "f");
  s = bale_error_format (err);
  assert_string_equal (s, "error: cannot open 'f': No such file or directory");
  free (s);
  bale_error_release (&err);
}

/* A long source line is cut around the column: the error keeps at most 160 bytes after it and
   shows 80 before it, with "..." where it is cut, the caret still under the column. */
static void
test_format_long_line (void **state)
{
  size_t len = 1 << 20;
  char *text = xmalloc (len), *s, *want;
  struct bale_loc loc = { "Dockerfile", 1, 1001, 1, 1004, text, len };
  bale_error_t err = NULL;

  (void) state;
  memset (text, 'a', len);
  memcpy (text + 1000, "BAD", 3);
  bale_make_error_at (&err, &loc, "bad");
  assert_int_equal (strlen (err->source_line), 1001 + 160);
  s = bale_error_format (err);
  want = xasprintf ("Dockerfile:1:1001: error: bad\n    ...%.80sBAD%.157s...\n       %80s^~~", text,
                    text, "");
  assert_string_equal (s, want);
  free (want);
  free (s);
  bale_error_release (&err);

  loc.col = loc.end_col = 1;
  bale_make_error_at (&err, &loc, "bad");
  s = bale_error_format (err);
  assert_int_equal (strlen (s), strlen ("Dockerfile:1:1: error: bad\n    ...\n    ^") + 160);
  free (s);
  bale_error_release (&err);
  free (text);
}

static void
test_join (void **state)
{
  bale_error_t a = NULL, b = NULL;

  (void) state;
  bale_make_error (&a, 0, "a");
  bale_make_error (&b, 0, "b");
  bale_error_join (&a, &b);
  assert_null (b);
  assert_int_equal (bale_error_count (a), 2);
  bale_error_release (&a);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_make_and_chain),
    cmocka_unit_test (test_format),
    cmocka_unit_test (test_format_long_line),
    cmocka_unit_test (test_join),
  };
  return cmocka_run_group_tests_name ("error", tests, NULL, NULL);
}
