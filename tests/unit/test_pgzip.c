/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for parallel gzip: zlib reads it back, output independent of the thread count. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/pgzip.h"
#include "tests/testutil.h"
#include "common/banned.h"

static int
collect (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  strbuf_add (ctx, buf, len);
  return 0;
}

/* Compressible but not trivial bytes: text with a slowly changing counter. */
static unsigned char *
sample (size_t n)
{
  unsigned char *p = xmalloc (n + 1);
  size_t i;

  for (i = 0; i < n; i++)
    p[i] = (unsigned char) ("layer tar bytes "[i % 16] + (i / 100000) % 7);
  return p;
}

static void
compress_fd_data (const unsigned char *data, size_t n, int threads, struct strbuf *out)
{
  FILE *f = tmpfile ();
  bale_error_t err = NULL;

  assert_non_null (f);
  assert_int_equal (fwrite (data, 1, n, f), n);
  fflush (f);
  rewind (f);
  assert_int_equal (pgzip_compress (fileno (f), "sample", Z_DEFAULT_COMPRESSION, threads, collect,
                                    out, &err),
                    0);
  fclose (f);
}

static void
check_roundtrip (size_t n)
{
  unsigned char *data = sample (n), *back = xmalloc (n + 16);
  struct strbuf one = STRBUF_INIT, two = STRBUF_INIT;
  z_stream z;

  compress_fd_data (data, n, 1, &one);
  compress_fd_data (data, n, 3, &two);
  /* The same bytes whatever the thread count: layer digests must not depend on the machine. */
  assert_int_equal (one.len, two.len);
  assert_memory_equal (one.buf, two.buf, one.len);
  /* A header without time, and zlib's gzip reader (15 + 16 window bits) gets the input back. */
  assert_int_equal ((unsigned char) one.buf[0], 0x1f);
  assert_int_equal (one.buf[4] | one.buf[5] | one.buf[6] | one.buf[7], 0);
  memset (&z, 0, sizeof z);
  assert_int_equal (inflateInit2 (&z, 15 + 16), Z_OK);
  z.next_in = (unsigned char *) one.buf;
  z.avail_in = (uInt) one.len;
  z.next_out = back;
  z.avail_out = (uInt) n + 16;
  assert_int_equal (inflate (&z, Z_FINISH), Z_STREAM_END);
  assert_int_equal (z.total_out, n);
  assert_int_equal (z.avail_in, 0);
  assert_memory_equal (back, data, n);
  inflateEnd (&z);
  strbuf_release (&one);
  strbuf_release (&two);
  free (data);
  free (back);
}

static void
test_sizes (void **state)
{
  static const size_t sizes[] = { 0, 1, 1000, 128 * 1024, 128 * 1024 + 1, 3 * 128 * 1024,
                                  5 * 1000 * 1000 + 7 };
  size_t i;

  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    check_roundtrip (sizes[i]);
}

static int
fail_writer (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  int *calls = ctx;

  return ++*calls == 3 ? bale_make_error (err, 0, "disk full") : 0;
}

static void
test_write_error (void **state)
{
  unsigned char *data = sample (2 * 1000 * 1000);
  FILE *f = tmpfile ();
  bale_error_t err = NULL;
  int calls = 0;

  assert_int_equal (fwrite (data, 1, 2 * 1000 * 1000, f), 2 * 1000 * 1000);
  fflush (f);
  rewind (f);
  assert_int_equal (pgzip_compress (fileno (f), "x", 6, 2, fail_writer, &calls, &err), -1);
  assert_string_equal (err->msg, "disk full");
  bale_error_release (&err);
  fclose (f);
  free (data);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_sizes),
    cmocka_unit_test (test_write_error),
  };

  return cmocka_run_group_tests_name ("pgzip", tests, NULL, NULL);
}
