/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the scanner's helpers: continuation, directives, heredoc markers. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bale.h"
#include "lexer/lex.h"
#include "lexer/heredoc.h"
#include "lexer/jsonarg.h"
#include "tests/testutil.h"

static void
check_cont (const char *line, char esc, bool want, const char *rest)
{
  size_t len = strlen (line);
  bool got = lex_trim_continuation (line, &len, esc);

  if (got != want)
    test_fail ("'%s': continuation %d, want %d", line, got, want);
  if (want && (len != strlen (rest) || memcmp (line, rest, len) != 0))
    test_fail ("'%s': rest '%.*s', want '%s'", line, (int) len, line, rest);
}

/* The regex ([^E])E[ \t]*$|^E[ \t]*$ of BuildKit's parser. */
static void
test_continuation (void **state)
{
  (void) state;
  check_cont ("RUN a \\", '\\', true, "RUN a ");
  check_cont ("RUN a\\ \t ", '\\', true, "RUN a");
  check_cont ("\\", '\\', true, "");
  check_cont ("  \\", '\\', true, "  ");
  check_cont ("a\\\\", '\\', false, NULL);
  check_cont ("a\\\\\\", '\\', false, NULL);
  check_cont ("a\\x", '\\', false, NULL);
  check_cont ("a `", '`', true, "a ");
  check_cont ("a \\", '`', false, NULL);
  check_cont ("", '\\', false, NULL);
}

static void
check_heredoc (const char *word, int want, const char *name, bool expand, bool chomp, unsigned fd)
{
  struct bale_heredoc hd;
  bale_error_t err = NULL;
  int r = heredoc_parse_word (word, &hd, &err);

  if (r != want)
    test_fail ("'%s': result %d, want %d", word, r, want);
  if (r == 1)
    {
      assert_string_equal (hd.name, name);
      assert_int_equal (hd.expand, expand);
      assert_int_equal (hd.chomp, chomp);
      assert_int_equal (hd.fd, fd);
      free (hd.name);
    }
  bale_error_release (&err);
}

/* Cases from BuildKit's TestParseHeredocHelpers. */
static void
test_heredoc_words (void **state)
{
  (void) state;
  check_heredoc ("<<EOF", 1, "EOF", true, false, 0);
  check_heredoc ("<<-EOF", 1, "EOF", true, true, 0);
  check_heredoc ("3<<EOF", 1, "EOF", true, false, 3);
  check_heredoc ("<<'EOF'", 1, "EOF", false, false, 0);
  check_heredoc ("<<\"EOF\"", 1, "EOF", false, false, 0);
  check_heredoc ("<<E\"O\"F", 1, "EOF", false, false, 0);
  check_heredoc ("<<eo'f'", 1, "eof", false, false, 0);
  check_heredoc ("<<eo\\'f", 1, "eo'f", true, false, 0);
  check_heredoc ("<< EOF", 1, "EOF", true, false, 0);
  check_heredoc ("<<", 0, NULL, false, false, 0);
  check_heredoc ("<<<EOF", 0, NULL, false, false, 0);
  check_heredoc ("<<EOF sh", 0, NULL, false, false, 0);
  check_heredoc ("x<<EOF", 0, NULL, false, false, 0);
  check_heredoc ("<<'EOF", -1, NULL, false, false, 0);
}

static void
test_jsonarg (void **state)
{
  struct jsonarg_elem *e = NULL;
  size_t n = 0;

  (void) state;
  assert_int_equal (jsonarg_parse (" [\"a\", \"b\\u0000c\"] ", 18, &e, &n), JSONARG_OK);
  assert_int_equal (n, 2);
  assert_int_equal (e[1].len, 3);
  assert_memory_equal (e[1].value, "b\0c", 3);
  assert_int_equal (e[0].start, 2);
  assert_int_equal (e[0].end, 5);
  jsonarg_free (e, n);
  assert_int_equal (jsonarg_parse ("[1]", 3, NULL, NULL), JSONARG_NOT_STRINGS);
  assert_int_equal (jsonarg_parse ("[\"a\"", 4, NULL, NULL), JSONARG_NOT_JSON);
  assert_int_equal (jsonarg_parse ("['a']", 5, NULL, NULL), JSONARG_NOT_JSON);
  assert_int_equal (jsonarg_parse ("{\"a\":1}", 7, NULL, NULL), JSONARG_NOT_JSON);
  assert_int_equal (jsonarg_parse ("[] x", 4, NULL, NULL), JSONARG_NOT_JSON);
  assert_int_equal (jsonarg_parse ("", 0, NULL, NULL), JSONARG_NOT_JSON);
}

static void
test_directives (void **state)
{
  const char *src = "#syntax=docker/dockerfile:1\n# Check = skip=all\n#escape=`\nFROM x\n";
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;

  (void) state;
  assert_int_equal (bale_parse ("Dockerfile", src, strlen (src), &df, &err), 0);
  assert_int_equal (df->n_directives, 3);
  assert_string_equal (df->directives[0].name, "syntax");
  assert_string_equal (df->directives[0].value, "docker/dockerfile:1");
  assert_string_equal (df->directives[1].name, "check");
  assert_string_equal (df->directives[1].value, "skip=all");
  assert_int_equal (df->directives[2].span.line, 3);
  assert_int_equal (df->escape, '`');
  bale_dockerfile_free (df);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_continuation),
    cmocka_unit_test (test_heredoc_words),
    cmocka_unit_test (test_jsonarg),
    cmocka_unit_test (test_directives),
  };
  return cmocka_run_group_tests_name ("lexer", tests, NULL, NULL);
}
