/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Build cache entries: record and look up, misses for lost blobs, pruning by last use. */
#include <config.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "runtime/cache.h"
#include "runtime/store.h"
#include "tests/testutil.h"

struct fixture
{
  char top[64];
  struct store *s;
};

static int
setup (void **state)
{
  struct fixture *f = xzalloc (sizeof *f);
  bale_error_t err = NULL;
  char *dir;

  snprintf (f->top, sizeof f->top, "/tmp/bale-cache-test.XXXXXX");
  assert_non_null (mkdtemp (f->top));
  dir = xasprintf ("%s/store", f->top);
  assert_int_equal (store_open (dir, &f->s, &err), 0);
  free (dir);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  char *cmd = xasprintf ("rm -rf %s", f->top);

  store_close (f->s);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  free (f);
  return 0;
}

/* An entry for a new blob of size bytes under the key digest(name); its last use is t. */
static void
entry (struct fixture *f, const char *name, size_t size, time_t t, char key[DIGEST_STRLEN + 1])
{
  struct cache_entry e = { 0 };
  bale_error_t err = NULL;
  char *data = xzalloc (size);
  char *path;
  struct timespec ts[2] = { { t, 0 }, { t, 0 } };

  snprintf (data, size, "%s", name);
  assert_int_equal (store_blob_put (f->s, data, size, e.digest, &err), 0);
  memcpy (e.diff_id, e.digest, sizeof e.diff_id);
  e.size = (int64_t) size;
  snprintf (e.media_type, sizeof e.media_type, "application/vnd.oci.image.layer.v1.tar");
  assert_int_equal (digest_buffer (name, strlen (name), key, &err), 0);
  assert_int_equal (cache_record (f->s, key, &e, &err), 0);
  path = xasprintf ("%s/buildcache/keys/%s", store_path (f->s), digest_hex (key));
  assert_int_equal (utimensat (AT_FDCWD, path, ts, 0), 0);
  free (path);
  free (data);
}

/* Whether key has an entry, without using it. */
static bool
has (struct fixture *f, const char *key)
{
  char *path = xasprintf ("%s/buildcache/keys/%s", store_path (f->s), digest_hex (key));
  bool r = access (path, F_OK) == 0;

  free (path);
  return r;
}

static void
test_record_lookup (void **state)
{
  struct fixture *f = *state;
  char key[DIGEST_STRLEN + 1], other[DIGEST_STRLEN + 1];
  struct cache_entry e;
  bale_error_t err = NULL;
  int64_t freed = 0;

  entry (f, "a", 100, 1000, key);
  assert_int_equal (cache_lookup (f->s, key, &e), 1);
  assert_int_equal (e.size, 100);
  assert_string_equal (e.media_type, "application/vnd.oci.image.layer.v1.tar");
  assert_int_equal (digest_buffer ("b", 1, other, &err), 0);
  assert_int_equal (cache_lookup (f->s, other, &e), 0);

  /* store_gc keeps the blob through cache_keep, and drops it without. */
  {
    struct cache_blobs *keep = NULL;
    assert_int_equal (cache_blobs_load (f->s, &keep, &err), 0);
    assert_int_equal (store_gc (f->s, cache_keep, keep, &freed, &err), 0);
    cache_blobs_free (keep);
  }
  assert_int_equal (cache_lookup (f->s, key, &e), 1);
  assert_int_equal (store_gc (f->s, NULL, NULL, &freed, &err), 0);
  assert_int_equal (cache_lookup (f->s, key, &e), 0); /* the blob is gone: a miss */
}

static void
test_prune_by_last_use (void **state)
{
  struct fixture *f = *state;
  char a[DIGEST_STRLEN + 1], b[DIGEST_STRLEN + 1], c[DIGEST_STRLEN + 1];
  struct cache_entry e;
  bale_error_t err = NULL;
  size_t dropped = 0;

  entry (f, "a", 100, 3000, a); /* the most recent */
  entry (f, "b", 100, 1000, b); /* the oldest */
  entry (f, "c", 100, 2000, c);
  assert_int_equal (cache_prune (f->s, 250, &dropped, &err), 0);
  assert_int_equal (dropped, 1);
  assert_true (has (f, a) && has (f, c) && !has (f, b));
  /* A lookup is a use: c is now the most recent, so a goes first. */
  assert_int_equal (cache_lookup (f->s, c, &e), 1);
  assert_int_equal (cache_prune (f->s, 100, &dropped, &err), 0);
  assert_int_equal (cache_lookup (f->s, c, &e), 1);
  assert_int_equal (cache_lookup (f->s, a, &e), 0);
  assert_int_equal (cache_prune (f->s, -1, &dropped, &err), 0);
  assert_int_equal (dropped, 1);
  assert_int_equal (cache_lookup (f->s, c, &e), 0);
}

static void
test_damaged_entry (void **state)
{
  struct fixture *f = *state;
  char key[DIGEST_STRLEN + 1];
  struct cache_entry e;
  char *path;
  FILE *fp;

  entry (f, "a", 10, 1000, key);
  path = xasprintf ("%s/buildcache/keys/%s", store_path (f->s), digest_hex (key));
  fp = fopen (path, "w");
  assert_non_null (fp);
  fputs ("{\"digest\":\"sha256:nothex\"", fp);
  fclose (fp);
  assert_int_equal (cache_lookup (f->s, key, &e), 0);
  free (path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_record_lookup, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prune_by_last_use, setup, teardown),
    cmocka_unit_test_setup_teardown (test_damaged_entry, setup, teardown),
  };

  return cmocka_run_group_tests_name ("cache", tests, NULL, NULL);
}
