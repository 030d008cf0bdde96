/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for parallel gzip, both formats: zlib reads it back, output independent of the
   thread count, the input hook sees every byte. */
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
#include "common/oci/digest.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/pgzip.h"
#include "tests/testutil.h"
#include "common/banned.h"

/* sha256 of words (3,000,000) in each format, with libdeflate 1.14 and zlib 1.2.13
   (Debian 12). */
#define PINNED_MEMBERS "sha256:4ff2edf7f7a6ef8dee6d5e10fb9dcb2390fd5c7dd606746847c3c44dc69f4b4e"
#define PINNED_SINGLE "sha256:df22326b4ad48188dcd2973e161aae193a8187e3e8cde32b1e42610e86cae608"

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

/* Text-like bytes from a fixed generator: words picked by an LCG, which compress differently
   at each level (sample's repetition does not). */
static unsigned char *
words (size_t n)
{
  static const char *const vocab[] = { "layer ", "tar ", "usr/share/doc/", "gzip ", "member ",
                                       "\n", "0755 ", "root ", "deflate ", "copyright " };
  unsigned char *p = xmalloc (n + 32);
  uint32_t x = 12345;
  size_t i = 0;

  while (i < n)
    {
      const char *w;

      x = x * 1103515245u + 12345u;
      w = vocab[(x >> 16) % 10];
      memcpy (p + i, w, strlen (w));
      i += strlen (w);
      if ((x >> 8) % 7 == 0)
        p[i++] = (unsigned char) (x >> 24);
    }
  return p;
}

static void
compress_fd_data (const unsigned char *data, size_t n, enum pgzip_format format, int threads,
                  struct strbuf *out, struct strbuf *seen)
{
  FILE *f = tmpfile ();
  bale_error_t err = NULL;
  struct pgzip_opts o = { .format = format, .threads = threads, .input = collect, .input_ctx = seen };

  assert_non_null (f);
  assert_int_equal (fwrite (data, 1, n, f), n);
  fflush (f);
  rewind (f);
  assert_int_equal (pgzip_compress (fileno (f), "sample", &o, collect, out, &err), 0);
  fclose (f);
}

/* Decompress every gzip member of gz, as gzip -d does, checking each CRC; returns the number
   of members. zlib's inflate stops at the end of each member: reset and go on. */
static size_t
gunzip_members (const struct strbuf *gz, unsigned char *back, size_t cap, size_t *out_len)
{
  z_stream z;
  size_t members = 0;

  memset (&z, 0, sizeof z);
  assert_int_equal (inflateInit2 (&z, 15 + 16), Z_OK);
  z.next_in = (unsigned char *) gz->buf;
  z.avail_in = (uInt) gz->len;
  z.next_out = back;
  z.avail_out = (uInt) cap;
  do
    {
      /* Every member has a fixed header: no name, no time. */
      assert_int_equal (z.next_in[0], 0x1f);
      assert_int_equal (z.next_in[4] | z.next_in[5] | z.next_in[6] | z.next_in[7], 0);
      assert_int_equal (inflate (&z, Z_FINISH), Z_STREAM_END);
      members++;
      assert_int_equal (inflateReset (&z), Z_OK);
    }
  while (z.avail_in > 0);
  *out_len = cap - z.avail_out;
  inflateEnd (&z);
  return members;
}

static void
check_roundtrip (size_t n, enum pgzip_format format)
{
  unsigned char *data = sample (n), *back = xmalloc (n + 16);
  struct strbuf one = STRBUF_INIT, two = STRBUF_INIT, eight = STRBUF_INIT, seen = STRBUF_INIT;
  size_t got, members;

  compress_fd_data (data, n, format, 1, &one, &seen);
  /* The hook saw the input, in order. */
  assert_int_equal (seen.len, n);
  assert_memory_equal (seen.buf, data, n);
  strbuf_reset (&seen);
  compress_fd_data (data, n, format, 3, &two, &seen);
  compress_fd_data (data, n, format, 8, &eight, &seen);
  /* The same bytes whatever the thread count: layer digests must not depend on the machine. */
  assert_int_equal (one.len, two.len);
  assert_memory_equal (one.buf, two.buf, one.len);
  assert_int_equal (one.len, eight.len);
  assert_memory_equal (one.buf, eight.buf, one.len);
  members = gunzip_members (&one, back, n + 16, &got);
  assert_int_equal (got, n);
  assert_memory_equal (back, data, n);
  /* One member per MiB (at least one), or a single one. */
  assert_int_equal (members, format == PGZIP_SINGLE ? 1 : n == 0 ? 1 : (n + (1 << 20) - 1) >> 20);
  strbuf_release (&one);
  strbuf_release (&two);
  strbuf_release (&eight);
  strbuf_release (&seen);
  free (data);
  free (back);
}

static const size_t sizes[] = { 0, 1, 1000, 128 * 1024, 128 * 1024 + 1, 3 * 128 * 1024,
                                1024 * 1024, 1024 * 1024 + 1, 5 * 1000 * 1000 + 7 };

static void
test_members (void **state)
{
  size_t i;

  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    check_roundtrip (sizes[i], PGZIP_MEMBERS);
}

static void
test_single (void **state)
{
  size_t i;

  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    check_roundtrip (sizes[i], PGZIP_SINGLE);
}

/* The format is a contract: the digest of a fixed input must not move with a rebuild or a
   change of thread count; a new libdeflate or zlib that changes it must be noticed. */
static void
test_pinned (void **state)
{
  unsigned char *data = words (3 * 1000 * 1000);
  struct strbuf out = STRBUF_INIT, seen = STRBUF_INIT;
  char digest[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;

  compress_fd_data (data, 3 * 1000 * 1000, PGZIP_MEMBERS, 2, &out, &seen);
  assert_int_equal (digest_buffer (out.buf, out.len, digest, &err), 0);
  assert_string_equal (digest, PINNED_MEMBERS);
  strbuf_reset (&out);
  compress_fd_data (data, 3 * 1000 * 1000, PGZIP_SINGLE, 2, &out, &seen);
  assert_int_equal (digest_buffer (out.buf, out.len, digest, &err), 0);
  assert_string_equal (digest, PINNED_SINGLE);
  strbuf_release (&out);
  strbuf_release (&seen);
  free (data);
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
  unsigned char *data = sample (4 * 1000 * 1000);
  FILE *f = tmpfile ();
  bale_error_t err = NULL;
  int calls = 0;
  struct pgzip_opts o = { .format = PGZIP_MEMBERS, .threads = 2 };

  assert_int_equal (fwrite (data, 1, 4 * 1000 * 1000, f), 4 * 1000 * 1000);
  fflush (f);
  rewind (f);
  assert_int_equal (pgzip_compress (fileno (f), "x", &o, fail_writer, &calls, &err), -1);
  assert_string_equal (err->msg, "disk full");
  bale_error_release (&err);
  fclose (f);
  free (data);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_members),
    cmocka_unit_test (test_single),
    cmocka_unit_test (test_pinned),
    cmocka_unit_test (test_write_error),
  };

  return cmocka_run_group_tests_name ("pgzip", tests, NULL, NULL);
}
