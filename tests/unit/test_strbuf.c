/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for common/strbuf and common/utf8: growth, formatting and Go's %q quoting. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/strbuf.h"
#include "common/utf8.h"

static void
test_grow_and_detach (void **state)
{
  struct strbuf sb = STRBUF_INIT;
  size_t len, i;
  char *s;

  (void) state;
  assert_string_equal (sb.buf, "");
  for (i = 0; i < 10000; i++)
    strbuf_addch (&sb, 'a' + (int) (i % 26));
  assert_int_equal (sb.len, 10000);
  assert_int_equal (sb.buf[sb.len], '\0');
  strbuf_addf (&sb, "%d-%s", 42, "x");
  s = strbuf_detach (&sb, &len);
  assert_int_equal (len, 10004);
  assert_memory_equal (s + 10000, "42-x", 5);
  assert_int_equal (sb.len, 0);
  free (s);
  s = strbuf_detach (&sb, NULL);
  assert_string_equal (s, "");
  free (s);
}

static void
check_quote (const char *in, size_t len, const char *want)
{
  struct strbuf sb = STRBUF_INIT;
  strbuf_add_goquote (&sb, in, len);
  assert_string_equal (sb.buf, want);
  strbuf_release (&sb);
}

/* Expected values are what Go's strconv.Quote returns. */
static void
test_goquote (void **state)
{
  (void) state;
  check_quote ("abc", 3, "\"abc\"");
  check_quote ("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
  check_quote ("\a\b\f\n\r\t\v", 7, "\"\\a\\b\\f\\n\\r\\t\\v\"");
  check_quote ("\0\x01\x7f", 3, "\"\\x00\\x01\\x7f\"");
  check_quote ("\xe2\x98\x83 \xe2\x99\xa5", 7, "\"\xe2\x98\x83 \xe2\x99\xa5\"");
  check_quote ("\xc2\xa0", 2, "\"\\u00a0\"");
  check_quote ("\xff\xfe", 2, "\"\\xff\\xfe\"");
  check_quote ("\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\""); /* a surrogate is invalid UTF-8 */
  check_quote ("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
  check_quote ("\xe2\x80\x8b", 3, "\"\\u200b\"");
  check_quote ("\xf3\xa0\x80\x81", 4, "\"\\U000e0001\"");
}

static void
test_utf8 (void **state)
{
  uint32_t r;
  char buf[4];

  (void) state;
  assert_int_equal (utf8_decode ((const unsigned char *) "\xc3\xa9", 2, &r), 2);
  assert_int_equal (r, 0xe9);
  assert_int_equal (utf8_decode ((const unsigned char *) "\xc0\x80", 2, &r), 0); /* overlong */
  assert_int_equal (utf8_decode ((const unsigned char *) "\xe2\x82", 2, &r), 0); /* truncated */
  assert_int_equal (utf8_encode (0x1f600, buf), 4);
  assert_memory_equal (buf, "\xf0\x9f\x98\x80", 4);
  assert_true (utf8_is_space (0x3000));
  assert_false (utf8_is_space ('x'));
  assert_true (utf8_is_letter (0xd55c)); /* Hangul */
  assert_false (utf8_is_letter ('_'));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_grow_and_detach),
    cmocka_unit_test (test_goquote),
    cmocka_unit_test (test_utf8),
  };
  return cmocka_run_group_tests_name ("strbuf", tests, NULL, NULL);
}
