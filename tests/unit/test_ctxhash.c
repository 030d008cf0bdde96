/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Context digests for the build cache: what they cover, and that the stat index spares reads. */
#include <config.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/ctxhash.h"
#include "common/ignore.h"
#include "tests/testutil.h"

static char top[64];
static char *ctx, *store;

static void
put (const char *rel, const char *content)
{
  char *p = xasprintf ("%s/%s", ctx, rel);
  FILE *f = fopen (p, "w");

  assert_non_null (f);
  fputs (content, f);
  fclose (f);
  free (p);
}

static int
setup (void **state)
{
  char *p;

  (void) state;
  snprintf (top, sizeof top, "/tmp/bale-ctxhash.XXXXXX");
  assert_non_null (mkdtemp (top));
  ctx = xasprintf ("%s/ctx", top);
  store = xasprintf ("%s/store", top);
  p = xasprintf ("%s/tmp", store);
  assert_int_equal (mkdir (ctx, 0755), 0);
  assert_int_equal (mkdir (store, 0700), 0);
  assert_int_equal (mkdir (p, 0700), 0);
  free (p);
  p = xasprintf ("%s/dir", ctx);
  assert_int_equal (mkdir (p, 0755), 0);
  free (p);
  put ("a", "alpha");
  put ("dir/b", "bravo");
  put ("dir/c.log", "charlie");
  p = xasprintf ("%s/dir/l", ctx);
  assert_int_equal (symlink ("b", p), 0);
  free (p);
  /* Out of the racy window: a file changed within 50 ms of hashing is read again. */
  usleep (120000);
  return 0;
}

static int
teardown (void **state)
{
  char *cmd = xasprintf ("rm -rf %s", top);

  (void) state;
  assert_int_equal (system (cmd), 0);
  free (cmd);
  free (ctx);
  free (store);
  return 0;
}

/* The digest of sources ("." when NULL) with ignore text (may be NULL); *read gets the
   number of files read. The index is saved. */
static void
hash (const char *source, const char *ignore_text, char out[DIGEST_STRLEN + 1], size_t *read)
{
  bale_error_t err = NULL;
  struct ignore_matcher *m = NULL;
  struct ctxhash *h = ctxhash_open (store, ctx, &err);
  struct digester d = { 0 };
  char *src = xstrdup (source ? source : ".");

  assert_non_null (h);
  if (ignore_text)
    assert_int_equal (ignore_matcher_parse (ignore_text, strlen (ignore_text), &m, &err), 0);
  assert_int_equal (digester_init (&d, &err), 0);
  if (ctxhash_sources (h, m, NULL, false, &src, 1, &d, &err) < 0)
    test_fail ("%s", err->msg);
  assert_int_equal (digester_final (&d, out, &err), 0);
  *read = ctxhash_files_read (h);
  assert_int_equal (ctxhash_save (h, &err), 0);
  ctxhash_free (h);
  ignore_matcher_free (m);
  free (src);
}

static void
test_index_spares_reads (void **state)
{
  char d1[DIGEST_STRLEN + 1], d2[DIGEST_STRLEN + 1];
  size_t read;

  (void) state;
  hash (NULL, NULL, d1, &read);
  assert_int_equal (read, 3);
  hash (NULL, NULL, d2, &read);
  assert_int_equal (read, 0);
  assert_string_equal (d1, d2);
  /* Same size, new bytes: found by the stat (ctime), and only that file is read. */
  put ("dir/b", "BRAVO");
  hash (NULL, NULL, d2, &read);
  assert_int_equal (read, 1);
  assert_string_not_equal (d1, d2);
  /* Just changed, so racy: read once more next time, then trusted. */
  hash (NULL, NULL, d1, &read);
  assert_int_equal (read, 1);
  assert_string_equal (d1, d2);
}

static void
test_what_counts (void **state)
{
  char d1[DIGEST_STRLEN + 1], d2[DIGEST_STRLEN + 1];
  char *p = xasprintf ("%s/a", ctx), *l = xasprintf ("%s/dir/l", ctx);
  size_t read;

  (void) state;
  hash (NULL, "*/*.log", d1, &read);
  put ("dir/c.log", "ignored, so no change");
  hash (NULL, "*/*.log", d2, &read);
  assert_string_equal (d1, d2);
  hash (NULL, NULL, d2, &read);
  assert_string_not_equal (d1, d2);

  hash ("dir", NULL, d1, &read);
  put ("a", "not in dir");
  hash ("dir", NULL, d2, &read);
  assert_string_equal (d1, d2);

  hash (NULL, NULL, d1, &read);
  assert_int_equal (chmod (p, 0755), 0);
  hash (NULL, NULL, d2, &read);
  assert_string_not_equal (d1, d2);

  assert_int_equal (unlink (l), 0);
  assert_int_equal (symlink ("c.log", l), 0);
  hash (NULL, NULL, d1, &read);
  assert_string_not_equal (d1, d2);

  /* A hard link is written as one: not the same layer as two equal files. */
  put ("h", "not in dir");
  assert_int_equal (chmod (p, 0644), 0);
  hash (NULL, NULL, d1, &read);
  {
    char *h = xasprintf ("%s/h", ctx);
    assert_int_equal (unlink (h), 0);
    assert_int_equal (link (p, h), 0);
    free (h);
  }
  hash (NULL, NULL, d2, &read);
  assert_string_not_equal (d1, d2);
  free (p);
  free (l);
}

/* Several sources (a directory, a file, a glob), hard links and a symlink: the one-walk
   description of a rebuild (every file in the index) must be the two-pass one of a cold
   index, byte for byte, or a rebuild would miss the cache. */
static void
test_one_walk_same_digest (void **state)
{
  char *srcs[] = { (char *) "dir", (char *) "a", (char *) "h*" };
  char cold[DIGEST_STRLEN + 1], warm[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  int round;

  (void) state;
  {
    char *a = xasprintf ("%s/a", ctx), *h = xasprintf ("%s/h1", ctx), *h2 = xasprintf ("%s/dir/h2", ctx);
    assert_int_equal (link (a, h), 0);
    assert_int_equal (link (a, h2), 0);
    free (a);
    free (h);
    free (h2);
  }
  usleep (120000);
  for (round = 0; round < 2; round++)
    {
      struct ctxhash *h = ctxhash_open (store, ctx, &err);
      struct digester d = { 0 };
      assert_non_null (h);
      assert_int_equal (digester_init (&d, &err), 0);
      digester_update (&d, "prefix", 6); /* what the key holds before the context */
      assert_int_equal (ctxhash_sources (h, NULL, NULL, false, srcs, 3, &d, &err), 0);
      /* Cold: every path is read (hard links too); warm: none. */
      assert_int_equal (ctxhash_files_read (h), round == 0 ? 5 : 0);
      assert_int_equal (digester_final (&d, round == 0 ? cold : warm, &err), 0);
      assert_int_equal (ctxhash_save (h, &err), 0);
      ctxhash_free (h);
    }
  assert_string_equal (cold, warm);
}

/* ctxhash_set_cold (the source trees' directories read ahead on threads) changes what is
   read when, never the description: a tree of 60 files in nested directories, a pruned
   .dockerignore'd directory and several sources, each round with an empty index. */
static void
test_cold_same_digest (void **state)
{
  char *srcs[] = { (char *) ".", (char *) "dir", (char *) "a" };
  char digests[2][DIGEST_STRLEN + 1];
  const char *ignore_text = "skip\n*/*.log\n";
  size_t reads[2];
  int round, i;

  (void) state;
  for (i = 0; i < 60; i++)
    {
      char *dir = xasprintf ("%s/t%d", ctx, i % 6), *sub = xasprintf ("%s/t%d/s%d", ctx, i % 6, i % 2);
      char *rel = xasprintf ("t%d/s%d/f%02d", i % 6, i % 2, i);
      mkdir (dir, 0755);
      mkdir (sub, 0755);
      put (rel, rel);
      free (dir);
      free (sub);
      free (rel);
    }
  {
    char *p = xasprintf ("%s/skip", ctx);
    assert_int_equal (mkdir (p, 0755), 0);
    free (p);
    put ("skip/x", "ignored");
  }
  usleep (120000);
  for (round = 0; round < 2; round++)
    {
      bale_error_t err = NULL;
      struct ignore_matcher *m = NULL;
      char *st = xasprintf ("%s/store%d", top, round), *tmp = xasprintf ("%s/tmp", st);
      struct ctxhash *h;
      struct digester d = { 0 };
      assert_int_equal (mkdir (st, 0700), 0);
      assert_int_equal (mkdir (tmp, 0700), 0);
      h = ctxhash_open (st, ctx, &err);
      assert_non_null (h);
      ctxhash_set_cold (h, round == 1);
      assert_int_equal (ignore_matcher_parse (ignore_text, strlen (ignore_text), &m, &err), 0);
      assert_int_equal (digester_init (&d, &err), 0);
      assert_int_equal (ctxhash_sources (h, m, NULL, false, srcs, 3, &d, &err), 0);
      /* a, dir/b and the 60 files at least (dir/c.log and skip/x are ignored); the same
         reads in both rounds */
      reads[round] = ctxhash_files_read (h);
      assert_true (reads[round] >= 62);
      assert_int_equal (digester_final (&d, digests[round], &err), 0);
      ctxhash_free (h);
      ignore_matcher_free (m);
      free (st);
      free (tmp);
    }
  assert_string_equal (digests[0], digests[1]);
  assert_int_equal (reads[0], reads[1]);
}

static void
test_missing_source (void **state)
{
  bale_error_t err = NULL;
  struct ctxhash *h = ctxhash_open (store, ctx, &err);
  struct digester d = { 0 };
  char *src = xstrdup ("nope");

  (void) state;
  assert_int_equal (digester_init (&d, &err), 0);
  assert_true (ctxhash_sources (h, NULL, NULL, false, &src, 1, &d, &err) < 0);
  assert_non_null (err);
  bale_error_release (&err);
  digester_release (&d);
  ctxhash_free (h);
  free (src);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_index_spares_reads, setup, teardown),
    cmocka_unit_test_setup_teardown (test_what_counts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_source, setup, teardown),
    cmocka_unit_test_setup_teardown (test_one_walk_same_digest, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cold_same_digest, setup, teardown),
  };

  return cmocka_run_group_tests_name ("ctxhash", tests, NULL, NULL);
}
