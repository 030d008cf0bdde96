/* SPDX-License-Identifier: GPL-2.0-or-later */
/* BuildKit's own parser test data: every dump must match byte for byte, negatives must fail. */
#include <config.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bale.h"
#include "tests/testutil.h"
#include "common/xalloc.h"

#define EXPECTED_POSITIVE 33
#define EXPECTED_NEGATIVE 4

struct corpus_case
{
  char *dir;
  char *name;
};

static void
test_positive (void **state)
{
  const struct corpus_case *c = *state;
  char *df_path = xasprintf ("%s/Dockerfile", c->dir);
  char *res_path = xasprintf ("%s/result", c->dir);
  size_t len = 0, rlen = 0;
  char *src = test_read_file (df_path, &len);
  char *want = test_read_file (res_path, &rlen);
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;
  char *got;

  assert_non_null (src);
  assert_non_null (want);
  if (bale_parse ("Dockerfile", src, len, &df, &err) < 0)
    {
      char *msg = test_format_errors (err);
      test_fail ("%s: parse failed: %s", c->name, msg);
    }
  got = bale_dump (df);
  assert_string_equal (got, want);
  free (got);
  bale_dockerfile_free (df);
  free (src);
  free (want);
  free (df_path);
  free (res_path);
}

static void
test_negative (void **state)
{
  const struct corpus_case *c = *state;
  char *df_path = xasprintf ("%s/Dockerfile", c->dir);
  static const struct { const char *name, *msg; } want[] = {
    { "empty_dockerfile", "file with no instructions" },
    { "only_comments", "file with no instructions" },
    { "env_no_value", "ENV must have two arguments" },
    { "shykes-nested-json", "when using JSON array syntax, arrays must be comprised of strings only" },
  };
  size_t len = 0, i;
  char *src = test_read_file (df_path, &len);
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;

  assert_non_null (src);
  assert_int_equal (bale_parse ("Dockerfile", src, len, &df, &err), -1);
  assert_non_null (err);
  for (i = 0; i < sizeof want / sizeof want[0]; i++)
    if (strcmp (want[i].name, c->name) == 0)
      assert_string_equal (err->msg, want[i].msg);
  bale_error_release (&err);
  free (src);
  free (df_path);
}

/* testfile-line: instruction spans as parser_test.go's TestParseIncludesLineNumbers. */
static void
test_lines (void **state)
{
  char *path = test_path ("tests/corpus/buildkit-parser/testfile-line/Dockerfile");
  size_t len = 0;
  char *src = test_read_file (path, &len);
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;

  (void) state;
  assert_non_null (src);
  assert_int_equal (bale_parse ("Dockerfile", src, len, &df, &err), 0);
  assert_int_equal (df->span.line, 5);
  assert_int_equal (df->span.end_line, 31);
  assert_int_equal (df->n_nodes, 3);
  assert_int_equal (df->nodes[0].span.line, 5);
  assert_int_equal (df->nodes[0].span.end_line, 5);
  assert_int_equal (df->nodes[1].span.line, 11);
  assert_int_equal (df->nodes[1].span.end_line, 12);
  assert_int_equal (df->nodes[2].span.line, 17);
  assert_int_equal (df->nodes[2].span.end_line, 31);
  /* The blank lines inside the RUN continuation are reported, as BuildKit warns. */
  assert_non_null (df->warnings);
  bale_dockerfile_free (df);
  free (src);
  free (path);
}

static size_t
collect (const char *rel, struct corpus_case **cases, size_t n)
{
  char *dir = test_path (rel);
  struct dirent **ents;
  int count = scandir (dir, &ents, NULL, alphasort), i;

  if (count < 0)
    {
      fprintf (stderr, "cannot read %s\n", dir);
      exit (1);
    }
  for (i = 0; i < count; i++)
    {
      if (ents[i]->d_name[0] != '.')
        {
          *cases = xrealloc (*cases, (n + 1) * sizeof **cases);
          (*cases)[n].dir = xasprintf ("%s/%s", dir, ents[i]->d_name);
          (*cases)[n].name = xstrdup (ents[i]->d_name);
          n++;
        }
      free (ents[i]);
    }
  free (ents);
  free (dir);
  return n;
}

int
main (void)
{
  struct corpus_case *pos = NULL, *neg = NULL;
  size_t n_pos = collect ("tests/corpus/buildkit-parser/testfiles", &pos, 0);
  size_t n_neg = collect ("tests/corpus/buildkit-parser/testfiles-negative", &neg, 0);
  struct CMUnitTest *tests = xcalloc (n_pos + n_neg + 1, sizeof *tests);
  size_t i, n = 0;

  /* The corpus is copied whole: fewer cases would mean a broken copy, not a pass. */
  if (n_pos != EXPECTED_POSITIVE || n_neg != EXPECTED_NEGATIVE)
    {
      fprintf (stderr, "corpus has %zu positive and %zu negative cases, expected %d and %d\n",
               n_pos, n_neg, EXPECTED_POSITIVE, EXPECTED_NEGATIVE);
      return 1;
    }
  for (i = 0; i < n_pos; i++, n++)
    tests[n] = (struct CMUnitTest){ pos[i].name, test_positive, NULL, NULL, &pos[i] };
  for (i = 0; i < n_neg; i++, n++)
    tests[n] = (struct CMUnitTest){ neg[i].name, test_negative, NULL, NULL, &neg[i] };
  tests[n++] = (struct CMUnitTest){ "testfile-line", test_lines, NULL, NULL, NULL };
  return _cmocka_run_group_tests ("buildkit-parser-corpus", tests, n, NULL, NULL);
}
