/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gomatch against the table of Go's path/filepath match_test.go (Unix rows). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/gomatch.h"
#include "tests/testutil.h"

struct row
{
  const char *pattern, *s;
  int want; /* 1 match, 0 no match, -1 ErrBadPattern */
};

static const struct row rows[] = {
  { "abc", "abc", 1 },
  { "*", "abc", 1 },
  { "*c", "abc", 1 },
  { "a*", "a", 1 },
  { "a*", "abc", 1 },
  { "a*", "ab/c", 0 },
  { "a*/b", "abc/b", 1 },
  { "a*/b", "a/c/b", 0 },
  { "a*b*c*d*e*/f", "axbxcxdxe/f", 1 },
  { "a*b*c*d*e*/f", "axbxcxdxexxx/f", 1 },
  { "a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0 },
  { "a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0 },
  { "a*b?c*x", "abxbbxdbxebxczzx", 1 },
  { "a*b?c*x", "abxbbxdbxebxczzy", 0 },
  { "ab[c]", "abc", 1 },
  { "ab[b-d]", "abc", 1 },
  { "ab[e-g]", "abc", 0 },
  { "ab[^c]", "abc", 0 },
  { "ab[^b-d]", "abc", 0 },
  { "ab[^e-g]", "abc", 1 },
  { "a\\*b", "a*b", 1 },
  { "a\\*b", "ab", 0 },
  { "a?b", "a\xe2\x98\xba" "b", 1 },
  { "a[^a]b", "a\xe2\x98\xba" "b", 1 },
  { "a???b", "a\xe2\x98\xba" "b", 0 },
  { "a[^a][^a][^a]b", "a\xe2\x98\xba" "b", 0 },
  { "[a-\xce\xb6]*", "\xce\xb1", 1 },
  { "*[a-\xce\xb6]", "A", 0 },
  { "a?b", "a/b", 0 },
  { "a*b", "a/b", 0 },
  { "[\\]a]", "]", 1 },
  { "[\\-]", "-", 1 },
  { "[x\\-]", "x", 1 },
  { "[x\\-]", "-", 1 },
  { "[x\\-]", "z", 0 },
  { "[\\-x]", "x", 1 },
  { "[\\-x]", "-", 1 },
  { "[\\-x]", "a", 0 },
  { "[]a]", "]", -1 },
  { "[-]", "-", -1 },
  { "[x-]", "x", -1 },
  { "[x-]", "-", -1 },
  { "[x-]", "z", -1 },
  { "[-x]", "x", -1 },
  { "[-x]", "-", -1 },
  { "[-x]", "a", -1 },
  { "\\", "a", -1 },
  { "[a-b-c]", "a", -1 },
  { "[", "a", -1 },
  { "[^", "a", -1 },
  { "[^bc", "a", -1 },
  { "a[", "a", -1 },
  { "a[", "ab", -1 },
  { "a[", "x", -1 },
  { "a/b[", "x", -1 },
  { "*x", "xxx", 1 },
};

static void
test_go_table (void **state)
{
  size_t i;

  (void) state;
  for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
    {
      int got = gomatch (rows[i].pattern, rows[i].s);
      if (got != rows[i].want)
        test_fail ("Match(%s, %s) = %d, want %d", rows[i].pattern, rows[i].s, got, rows[i].want);
    }
}

static void
test_has_meta (void **state)
{
  (void) state;
  assert_true (gomatch_has_meta ("*.go"));
  assert_true (gomatch_has_meta ("a?"));
  assert_true (gomatch_has_meta ("[ab]"));
  /* fsutil's containsWildcards: an escaped wildcard or a lone backslash is literal */
  assert_false (gomatch_has_meta ("a\\b"));
  assert_false (gomatch_has_meta ("a\\1.txt"));
  assert_false (gomatch_has_meta ("a\\*b"));
  assert_false (gomatch_has_meta ("a\\"));
  assert_true (gomatch_has_meta ("a\\b*"));
  assert_true (gomatch_has_meta ("\\\\*"));
  assert_false (gomatch_has_meta ("src/main.c"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_go_table),
    cmocka_unit_test (test_has_meta),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
