/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by the test programs: reading files relative to $top_srcdir. */
#ifndef BALE_TESTUTIL_H
#define BALE_TESTUTIL_H

#include <stddef.h>

/* $top_srcdir/rel (top_srcdir defaults to "."). Caller frees. */
char *test_path (const char *rel);
/* The whole file, NUL-terminated; *len its size. NULL when it cannot be read. Caller frees. */
char *test_read_file (const char *path, size_t *len);
/* Every formatted error of a chain, one per line. Caller frees. */
struct bale_error_s;
char *test_format_errors (const struct bale_error_s *chain);

/* Under the directory root: rel as a file holding content, or as a directory (0755) when
   content is NULL; test_ln makes rel a symlink to target. 0, or -1 with errno. */
int test_mk (const char *root, const char *rel, const char *content);
int test_ln (const char *root, const char *target, const char *rel);

/* Print a diagnostic as TAP comment lines, then fail the current cmocka test. cmocka's own
   fail_msg() text is lost in its TAP output mode. */
#define test_fail(...)                                                                        \
  do                                                                                          \
    {                                                                                         \
      test_diag (__VA_ARGS__);                                                                \
      fail ();                                                                                \
    }                                                                                         \
  while (0)
void test_diag (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
