/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Build cache entries: record and look up, misses for lost blobs, pruning by last use, what a
   fleet export selects and the registry artifact's config. */
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
#include "runtime/build/cache.h"
#include "runtime/build/cache_inputs.h"
#include "runtime/build/cache_registry.h"
#include "runtime/store/store.h"
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

static void
test_select (void **state)
{
  struct fixture *f = *state;
  char a[DIGEST_STRLEN + 1], b[DIGEST_STRLEN + 1], c[DIGEST_STRLEN + 1];
  struct timespec since = { 2000, 0 };
  struct cache_keyed *v = NULL;
  struct cache_entry e;
  bale_error_t err = NULL;
  const char *layers[1];
  size_t n = 9;

  entry (f, "a", 10, 3000, a);
  entry (f, "b", 10, 1000, b); /* used before the build began: another build's */
  entry (f, "c", 10, 2000, c);
  assert_int_equal (cache_select (f->s, &since, NULL, 0, &v, &n, &err), 0);
  assert_int_equal (n, 2);
  /* Sorted by key, whatever the directory's order. */
  assert_true (strcmp (v[0].key, v[1].key) < 0);
  assert_true ((strcmp (v[0].key, a) == 0 && strcmp (v[1].key, c) == 0)
               || (strcmp (v[0].key, c) == 0 && strcmp (v[1].key, a) == 0));
  free (v);
  /* mode=min: only entries whose layer the image has. */
  assert_int_equal (cache_lookup (f->s, a, &e), 1);
  layers[0] = e.digest;
  assert_int_equal (cache_select (f->s, &since, layers, 1, &v, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (v[0].key, a);
  assert_string_equal (v[0].e.digest, e.digest);
  free (v);
  /* Every entry without a time; an entry whose blob is gone is never exported. */
  assert_int_equal (store_gc (f->s, NULL, NULL, NULL, &err), 0);
  assert_int_equal (cache_select (f->s, NULL, NULL, 0, &v, &n, &err), 0);
  assert_int_equal (n, 0);
  free (v);
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define TAR "application/vnd.oci.image.layer.v1.tar"

static int
parse (const char *json, size_t n_layers, struct cache_artifact_entry **v, size_t *n,
       bale_error_t *err)
{
  return cache_artifact_parse (json, strlen (json), n_layers, v, n, err);
}

static void
test_artifact_config (void **state)
{
  struct cache_artifact_entry *v = NULL;
  bale_error_t err = NULL;
  size_t n = 0;

  (void) state;
  assert_int_equal (parse ("{\"entries\":[{\"key\":\"" D1 "\",\"layer\":1,\"digest\":\"" D2
                           "\",\"diff_id\":\"" D2 "\",\"size\":7,\"media_type\":\"" TAR "\"}]}",
                           2, &v, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (v[0].k.key, D1);
  assert_string_equal (v[0].k.e.digest, D2);
  assert_int_equal (v[0].layer, 1);
  assert_int_equal (v[0].k.e.size, 7);
  free (v);

  /* A layer index past the manifest's layers. */
  assert_int_equal (parse ("{\"entries\":[{\"key\":\"" D1 "\",\"layer\":2,\"digest\":\"" D2
                           "\",\"diff_id\":\"" D2 "\",\"size\":7,\"media_type\":\"" TAR "\"}]}",
                           2, &v, &n, &err), -1);
  assert_non_null (strstr (err->msg, "layer 2 of 2"));
  bale_error_release (&err);
  /* An uncompressed layer must be its own diff_id: a config cannot lie into an image. */
  assert_int_equal (parse ("{\"entries\":[{\"key\":\"" D1 "\",\"layer\":0,\"digest\":\"" D2
                           "\",\"diff_id\":\"" D1 "\",\"size\":7,\"media_type\":\"" TAR "\"}]}",
                           1, &v, &n, &err), -1);
  assert_non_null (strstr (err->msg, "diff_id is not its digest"));
  bale_error_release (&err);
  /* A key that is not a digest, a missing list, and no JSON at all. */
  assert_int_equal (parse ("{\"entries\":[{\"key\":\"../x\",\"layer\":0,\"digest\":\"" D2
                           "\",\"diff_id\":\"" D2 "\",\"size\":7,\"media_type\":\"" TAR "\"}]}",
                           1, &v, &n, &err), -1);
  bale_error_release (&err);
  assert_int_equal (parse ("{}", 1, &v, &n, &err), -1);
  assert_non_null (strstr (err->msg, "no \"entries\""));
  bale_error_release (&err);
  assert_int_equal (parse ("[", 1, &v, &n, &err), -1);
  bale_error_release (&err);
  assert_null (v);
}

static int
mounts (const char *json, size_t n_layers, struct cache_artifact_mount **v, size_t *n,
        bale_error_t *err)
{
  return cache_artifact_mounts (json, strlen (json), n_layers, v, n, err);
}

/* Cache mounts in the artifact config: an id must stay one directory of <store>/cache. */
static void
test_artifact_mounts (void **state)
{
  static const char *const bad[] = { "..", ".", "", "a/b", "../etc", ".import.x" };
  struct cache_artifact_mount *v = NULL;
  bale_error_t err = NULL;
  size_t n = 9, i;

  (void) state;
  assert_int_equal (mounts ("{\"entries\":[]}", 0, &v, &n, &err), 0);
  assert_int_equal (n, 0);
  free (v);
  assert_int_equal (mounts ("{\"mounts\":[{\"id\":\"apt\",\"layer\":0,\"digest\":\"" D1
                            "\",\"size\":5}]}", 1, &v, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (v[0].id, "apt");
  assert_string_equal (v[0].digest, D1);
  assert_int_equal (v[0].size, 5);
  free (v);
  for (i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      char *json = xasprintf ("{\"mounts\":[{\"id\":\"%s\",\"layer\":0,\"digest\":\"" D1
                              "\",\"size\":5}]}", bad[i]);
      assert_int_equal (mounts (json, 1, &v, &n, &err), -1);
      bale_error_release (&err);
      free (json);
    }
  /* A layer past the manifest's. */
  assert_int_equal (mounts ("{\"mounts\":[{\"id\":\"apt\",\"layer\":1,\"digest\":\"" D1
                            "\",\"size\":5}]}", 1, &v, &n, &err), -1);
  bale_error_release (&err);
}

static json_t *
inputs (const char *json)
{
  json_t *j = json_loads (json, 0, NULL);
  assert_non_null (j);
  return j;
}

static void
explains (const char *before, const char *now, const char *want)
{
  json_t *a = inputs (before), *b = inputs (now);
  char *why = cache_inputs_explain (a, b, NULL, NULL);

  if (strcmp (why, want) != 0)
    fail_msg ("explained \"%s\", want \"%s\"", why, want);
  free (why);
  json_decref (a);
  json_decref (b);
}

/* What a miss says for each kind of input, and nothing for equal inputs. */
static void
test_explain (void **state)
{
  (void) state;
  explains ("{\"v\":1,\"env\":[\"A=1\"]}", "{\"v\":1,\"env\":[\"A=1\"]}", "");
  explains ("{\"v\":1}", "{\"v\":2}", "the cache key format changed (another bale version)");
  explains ("{\"env\":[\"A=1\",\"B=2\"]}", "{\"env\":[\"A=secret\",\"C=3\"]}",
            "build arg or ENV A, C (new), B (unset) changed");
  explains ("{\"step\":\"RUN a\",\"argv\":[\"a\"]}", "{\"step\":\"RUN b\",\"argv\":[\"b\"]}",
            "instruction changed (was: RUN a)");
  explains ("{\"workdir\":\"/a\"}", "{\"workdir\":\"/b\"}", "WORKDIR changed (/a -> /b)");
  explains ("{\"parent\":[\"x\"],\"base\":\"busybox sha256:1\"}",
            "{\"parent\":[\"y\"],\"base\":\"busybox sha256:2\"}",
            "base image changed (busybox sha256:1 -> busybox sha256:2)");
  explains ("{\"parent\":[\"x\",\"y\"],\"base\":\"b\"}", "{\"parent\":[\"x\",\"z\"],\"base\":\"b\"}",
            "parent layer changed (layer 2 of 2)");
  explains ("{\"context\":\"1\",\"ctxfiles\":{\"a\":\"100644 d1\",\"b\":\"100644 d\",\"c\":\"100644 d\","
            "\"d\":\"100644 d\",\"e\":\"100644 d\"}}",
            "{\"context\":\"2\",\"ctxfiles\":{\"a\":\"100644 d2\",\"b\":\"100755 d\",\"d\":\"100644 d\","
            "\"e\":\"120777 d\",\"f\":\"100644 d\"}}",
            "context file a changed (content); context file b changed (mode 0644 -> 0755); "
            "context file c removed; 2 more files");
  explains ("{\"context\":\"1\"}", "{\"context\":\"2\"}",
            "context changed (the earlier build's file list is not known)");
  explains ("{\"files\":[[\"a\",\"d1\"]]}", "{\"files\":[[\"a\",\"d2\"]]}", "a heredoc changed");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_record_lookup, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prune_by_last_use, setup, teardown),
    cmocka_unit_test_setup_teardown (test_damaged_entry, setup, teardown),
    cmocka_unit_test_setup_teardown (test_select, setup, teardown),
    cmocka_unit_test (test_artifact_config),
    cmocka_unit_test (test_artifact_mounts),
    cmocka_unit_test (test_explain),
  };

  return cmocka_run_group_tests_name ("cache", tests, NULL, NULL);
}
