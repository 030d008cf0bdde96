/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the image store: atomic blobs, names, resolution, gc, locking, platform choice. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "codegen/canonjson.h"
#include "codegen/digest.h"
#include "codegen/oci.h"
#include "codegen/platmatch.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/store.h"
#include "tests/testutil.h"
#include "common/banned.h"

#define SHA_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fixture
{
  char *dir;
  struct store *s;
};

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static int
setup (void **state)
{
  struct fixture *f = xzalloc (sizeof *f);
  char tmpl[] = "/tmp/bale-store-test.XXXXXX";
  bale_error_t err = NULL;

  assert_non_null (mkdtemp (tmpl));
  f->dir = xasprintf ("%s/store", tmpl);
  assert_int_equal (store_open (f->dir, &f->s, &err), 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  char *top = xstrndup (f->dir, strlen (f->dir) - strlen ("/store"));

  store_close (f->s);
  nftw (top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free (top);
  free (f->dir);
  free (f);
  return 0;
}

/* Number of entries in dir/sub, not counting . and .. */
static int
count_files (const char *dir, const char *sub)
{
  char *path = xasprintf ("%s/%s", dir, sub);
  DIR *d = opendir (path);
  struct dirent *e;
  int n = 0;

  free (path);
  if (d == NULL)
    return -1;
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      n++;
  closedir (d);
  return n;
}

/* Fail the test showing the error chain when ret is negative. */
static void
assert_ok (int ret, bale_error_t *err)
{
  if (ret < 0)
    {
      char *text = test_format_errors (*err);
      test_fail ("unexpected error: %s", text);
      free (text);
    }
  assert_null (*err);
}

/* Put a JSON document as a blob; out gets its digest. */
static void
put_json (struct store *s, json_t *doc_take, char out[DIGEST_STRLEN + 1])
{
  bale_error_t err = NULL;
  size_t len;
  char *bytes = canonjson_dumps (doc_take, &len, &err);

  assert_non_null (bytes);
  assert_ok (store_blob_put (s, bytes, len, out, &err), &err);
  free (bytes);
  json_decref (doc_take);
}

/* A one-layer image for platform os/arch[/variant]; out gets the manifest digest. */
static void
put_image (struct store *s, const char *layer, const char *os, const char *arch,
           const char *variant, char manifest[DIGEST_STRLEN + 1])
{
  struct bale_platform p = { (char *) os, (char *) arch, (char *) variant };
  char layer_d[DIGEST_STRLEN + 1], config_d[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  json_t *config = oci_config_new_scratch (&p), *m, *cdesc, *ldesc;
  int64_t csize;

  assert_ok (store_blob_put (s, layer, strlen (layer), layer_d, &err), &err);
  json_array_append_new (json_object_get (json_object_get (config, "rootfs"), "diff_ids"),
                         json_string (layer_d));
  put_json (s, config, config_d);
  csize = store_blob_size (s, config_d, &err);
  cdesc = oci_descriptor_new (OCI_MT_CONFIG, config_d, csize, NULL, NULL, &err);
  ldesc = oci_descriptor_new (OCI_MT_LAYER_TAR, layer_d, (int64_t) strlen (layer), NULL, NULL, &err);
  m = oci_manifest_new (cdesc);
  oci_manifest_add_layer (m, ldesc);
  json_decref (cdesc);
  json_decref (ldesc);
  put_json (s, m, manifest);
}

/* ---- blobs ---------------------------------------------------------------------------- */

static void
test_blob_put_and_read (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char d[DIGEST_STRLEN + 1];
  char *buf = NULL, *path;
  size_t len = 0;
  struct stat st;

  assert_ok (store_blob_put (f->s, "abc", 3, d, &err), &err);
  assert_string_equal (d, SHA_ABC);
  assert_true (store_blob_exists (f->s, SHA_ABC));
  assert_int_equal (store_blob_size (f->s, SHA_ABC, &err), 3);
  assert_ok (store_blob_read (f->s, SHA_ABC, 100, &buf, &len, &err), &err);
  assert_int_equal (len, 3);
  assert_string_equal (buf, "abc");
  free (buf);
  path = store_blob_path (f->s, SHA_ABC);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0644);
  free (path);
  /* Putting the same bytes again is a no-op, and leaves nothing in tmp/. */
  assert_ok (store_blob_put (f->s, "abc", 3, NULL, &err), &err);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 1);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  /* The size bound of store_blob_read. */
  assert_int_equal (store_blob_read (f->s, SHA_ABC, 2, &buf, &len, &err) < 0, 1);
  assert_int_equal (err->status, EFBIG);
  bale_error_release (&err);
}

static void
test_blob_writer_verifies_digest (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  struct store_blob_writer *w = store_blob_writer_new (f->s, &err);

  assert_non_null (w);
  assert_ok (store_blob_writer_write (w, "ab", 2, &err), &err);
  assert_ok (store_blob_writer_write (w, "d", 1, &err), &err);
  assert_int_equal (store_blob_writer_size (w), 3);
  /* Until commit, the bytes are only in tmp/. */
  assert_int_equal (count_files (f->dir, "tmp"), 1);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 0);
  assert_true (store_blob_writer_commit (w, SHA_ABC, NULL, &err) < 0);
  assert_non_null (strstr (err->msg, "digest mismatch"));
  bale_error_release (&err);
  /* A failed commit leaves nothing: no blob, no temporary file. */
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 0);
  assert_false (store_blob_exists (f->s, SHA_ABC));

  w = store_blob_writer_new (f->s, &err);
  assert_ok (store_blob_writer_write (w, "abc", 3, &err), &err);
  store_blob_writer_abort (w);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 0);
}

static void
test_blob_corruption_detected (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char *path, *buf = NULL;
  size_t len;
  FILE *fp;

  assert_ok (store_blob_put (f->s, "abc", 3, NULL, &err), &err);
  path = store_blob_path (f->s, SHA_ABC);
  fp = fopen (path, "w");
  fputs ("abd", fp);
  fclose (fp);
  free (path);
  assert_true (store_blob_read (f->s, SHA_ABC, 100, &buf, &len, &err) < 0);
  assert_non_null (strstr (err->msg, "is corrupt"));
  bale_error_release (&err);
  assert_true (store_blob_read (f->s, "sha256:nothex", 100, &buf, &len, &err) < 0);
  assert_non_null (strstr (err->msg, "invalid digest 'sha256:nothex'"));
  bale_error_release (&err);
}

/* A process killed while writing leaves its file in tmp/ only; gc clears it. */
static void
test_killed_writer_leaves_no_blob (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  int status;
  pid_t pid = fork ();

  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct store_blob_writer *w = store_blob_writer_new (f->s, &err);

      store_blob_writer_write (w, "abc", 3, &err);
      _exit (0); /* no commit, no abort: as if killed */
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_int_equal (count_files (f->dir, "tmp"), 1);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 0);
  assert_ok (store_gc (f->s, NULL, NULL, NULL, &err), &err);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
}

/* ---- names ---------------------------------------------------------------------------- */

static void
test_refs_normalized (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char d[DIGEST_STRLEN + 1], got[DIGEST_STRLEN + 1];
  struct store_ref *refs = NULL;
  size_t n = 0;

  assert_ok (store_blob_put (f->s, "abc", 3, d, &err), &err);
  assert_ok (store_ref_set (f->s, "busybox", d, &err), &err);
  assert_ok (store_ref_get (f->s, "docker.io/library/busybox:latest", got, &err), &err);
  assert_string_equal (got, d);
  assert_ok (store_ref_get (f->s, "busybox:latest", got, &err), &err);
  assert_ok (store_ref_set (f->s, "example.com:5000/a/b:v1", d, &err), &err);
  assert_ok (store_ref_list (f->s, &refs, &n, &err), &err);
  assert_int_equal (n, 2);
  assert_string_equal (refs[0].name, "docker.io/library/busybox:latest");
  assert_string_equal (refs[1].name, "example.com:5000/a/b:v1");
  store_refs_free (refs, n);

  assert_true (store_ref_get (f->s, "busybox:1", got, &err) < 0);
  assert_int_equal (err->status, ENOENT);
  assert_non_null (strstr (err->msg, "no such image: 'busybox:1'"));
  bale_error_release (&err);
  assert_true (store_ref_set (f->s, "Bad/Name", d, &err) < 0);
  assert_non_null (strstr (err->msg, "invalid image name 'Bad/Name'"));
  bale_error_release (&err);
  /* Naming a blob the store does not have is refused. */
  assert_true (store_ref_set (f->s, "x", "sha256:" "0000000000000000000000000000000000000000000000000000000000000000", &err) < 0);
  bale_error_release (&err);

  assert_ok (store_ref_delete (f->s, "busybox", &err), &err);
  assert_true (store_ref_delete (f->s, "busybox", &err) < 0);
  assert_int_equal (err->status, ENOENT);
  bale_error_release (&err);
}

static void
test_resolve (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char m1[DIGEST_STRLEN + 1], m2[DIGEST_STRLEN + 1], got[DIGEST_STRLEN + 1];
  char prefix[13];
  struct store_image img;

  put_image (f->s, "layer one", "linux", "amd64", NULL, m1);
  put_image (f->s, "layer two", "linux", "amd64", NULL, m2);
  assert_ok (store_ref_set (f->s, "one", m1, &err), &err);
  assert_ok (store_ref_set (f->s, "two:v2", m2, &err), &err);

  assert_ok (store_resolve (f->s, "one", got, &err), &err);
  assert_string_equal (got, m1);
  assert_ok (store_resolve (f->s, m2, got, &err), &err);
  assert_string_equal (got, m2);
  /* A 12-digit image ID: the config digest, as `bale images` prints it. */
  assert_ok (store_image_read (f->s, "two:v2", NULL, &img, &err), &err);
  memcpy (prefix, digest_hex (img.config), 12);
  prefix[12] = '\0';
  store_image_release (&img);
  assert_ok (store_resolve (f->s, prefix, got, &err), &err);
  assert_string_equal (got, m2);
  /* and a prefix of the manifest digest, with "sha256:" */
  memcpy (prefix, m1 + 7, 10);
  prefix[10] = '\0';
  {
    char *with = xasprintf ("sha256:%s", prefix);
    assert_ok (store_resolve (f->s, with, got, &err), &err);
    free (with);
  }
  assert_string_equal (got, m1);
  assert_true (store_resolve (f->s, "nothere", got, &err) < 0);
  assert_int_equal (err->status, ENOENT);
  bale_error_release (&err);
  /* The empty prefix is no ID at all, and an ambiguous one is an error. */
  assert_true (store_resolve (f->s, "", got, &err) < 0);
  bale_error_release (&err);
}

/* 17 images: by pigeonhole two manifest digests share their first hex digit. */
static void
test_resolve_ambiguous (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char m[17][DIGEST_STRLEN + 1], got[DIGEST_STRLEN + 1], text[32];
  int i, j, hits[16] = { 0 };

  for (i = 0; i < 17; i++)
    {
      snprintf (text, sizeof text, "layer %d", i);
      put_image (f->s, text, "linux", "amd64", NULL, m[i]);
      snprintf (text, sizeof text, "n%d", i);
      assert_ok (store_ref_set (f->s, text, m[i], &err), &err);
      hits[strchr ("0123456789abcdef", m[i][7]) - "0123456789abcdef"]++;
    }
  for (j = 0; hits[j] < 2; j++)
    ;
  text[0] = "0123456789abcdef"[j];
  text[1] = '\0';
  assert_true (store_resolve (f->s, text, got, &err) < 0);
  assert_int_equal (err->status, EINVAL);
  assert_non_null (strstr (err->msg, "is ambiguous"));
  bale_error_release (&err);
}

/* ---- images and platforms ------------------------------------------------------------- */

static void
test_platmatch (void **state)
{
  struct bale_platform amd64 = { "linux", "amd64", NULL }, amd64v3 = { "linux", "amd64", "v3" };
  struct bale_platform i386 = { "linux", "386", NULL }, armv7 = { "linux", "arm", "v7" };
  struct bale_platform armv6 = { "linux", "arm", "v6" }, arm = { "linux", "arm", NULL };
  struct bale_platform arm64 = { "linux", "aarch64", NULL }, arm64v8 = { "linux", "arm64", "v8" };
  struct bale_platform win = { "windows", "amd64", NULL };

  assert_int_equal (platmatch_rank (&amd64, &amd64), 0);
  assert_int_equal (platmatch_rank (&amd64, &i386), 2);
  assert_true (platmatch_rank (&amd64v3, &amd64) > 0);
  assert_int_equal (platmatch_rank (&amd64, &amd64v3), -1);
  assert_int_equal (platmatch_rank (&arm, &armv7), 0); /* arm means arm/v7 */
  assert_int_equal (platmatch_rank (&armv7, &armv6), 1);
  assert_int_equal (platmatch_rank (&armv6, &armv7), -1);
  assert_int_equal (platmatch_rank (&arm64, &arm64v8), 0); /* aarch64 = arm64, v8 = "" */
  assert_true (platmatch_rank (&arm64, &armv7) > 0);
  assert_int_equal (platmatch_rank (&win, &amd64), -1);
}

static void
test_image_read_from_index (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char ma[DIGEST_STRLEN + 1], mb[DIGEST_STRLEN + 1], mc[DIGEST_STRLEN + 1], idx[DIGEST_STRLEN + 1];
  struct bale_platform pa = { "linux", "arm", "v6" }, pb = { "linux", "arm64", NULL };
  struct bale_platform att = { "unknown", "unknown", NULL };
  struct bale_platform want_arm = { "linux", "arm", "v7" }, want_s390 = { "linux", "s390x", NULL };
  json_t *index = oci_index_new ();
  const struct bale_platform *plats[] = { &att, &pa, &pb };
  char *digests[] = { mc, ma, mb };
  struct store_image img;
  int i;

  put_image (f->s, "attestation", "unknown", "unknown", NULL, mc);
  put_image (f->s, "armv6 layer", "linux", "arm", "v6", ma);
  put_image (f->s, "arm64 layer", "linux", "arm64", NULL, mb);
  for (i = 0; i < 3; i++)
    {
      json_t *d = oci_descriptor_new (OCI_MT_MANIFEST, digests[i],
                                      store_blob_size (f->s, digests[i], &err), NULL, plats[i], &err);
      oci_index_add (index, d);
      json_decref (d);
    }
  put_json (f->s, index, idx);
  assert_ok (store_ref_set (f->s, "multi", idx, &err), &err);

  assert_ok (store_image_read (f->s, "multi", &want_arm, &img, &err), &err);
  assert_string_equal (img.target, idx);
  assert_string_equal (img.manifest, ma); /* arm/v7 runs arm/v6 */
  assert_int_equal (img.n_layers, 1);
  assert_string_equal (img.layers[0].media_type, OCI_MT_LAYER_TAR);
  assert_string_equal (img.diff_ids[0], img.layers[0].digest);
  assert_string_equal (json_string_value (json_object_get (img.config_json, "architecture")), "arm");
  store_image_release (&img);
  assert_ok (store_image_read (f->s, "multi", &pb, &img, &err), &err);
  assert_string_equal (img.manifest, mb);
  store_image_release (&img);
  assert_true (store_image_read (f->s, "multi", &want_s390, &img, &err) < 0);
  assert_non_null (strstr (err->msg, "no manifest for platform 'linux/s390x'"));
  bale_error_release (&err);
}

/* ---- garbage collection --------------------------------------------------------------- */

static bool
keep_abc (const char *digest, void *ctx)
{
  return strcmp (digest, SHA_ABC) == 0;
}

static void
test_gc (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char m1[DIGEST_STRLEN + 1], m2[DIGEST_STRLEN + 1], junk[DIGEST_STRLEN + 1];
  char pinned[DIGEST_STRLEN + 1];
  int64_t freed = 0;

  put_image (f->s, "kept layer", "linux", "amd64", NULL, m1);
  put_image (f->s, "dropped layer", "linux", "amd64", NULL, m2);
  assert_ok (store_blob_put (f->s, "junk", 4, junk, &err), &err);
  assert_ok (store_blob_put (f->s, "pinned", 6, pinned, &err), &err);
  assert_ok (store_blob_put (f->s, "abc", 3, NULL, &err), &err);
  assert_ok (store_ref_set (f->s, "keep", m1, &err), &err);
  assert_ok (store_pin_add (f->s, pinned, "build cache", &err), &err);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 9);

  assert_ok (store_gc (f->s, keep_abc, NULL, &freed, &err), &err);
  /* m1, its config and layer; the pinned blob; abc kept by the hook. */
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 5);
  assert_true (freed > 4);
  assert_true (store_blob_exists (f->s, m1));
  assert_false (store_blob_exists (f->s, m2));
  assert_false (store_blob_exists (f->s, junk));
  assert_true (store_blob_exists (f->s, pinned));
  assert_true (store_blob_exists (f->s, SHA_ABC));

  assert_ok (store_pin_remove (f->s, pinned, &err), &err);
  assert_ok (store_ref_delete (f->s, "keep", &err), &err);
  assert_ok (store_gc (f->s, NULL, NULL, NULL, &err), &err);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 0);

  /* Inside a transaction gc refuses rather than deadlock. */
  assert_ok (store_txn_begin (f->s, &err), &err);
  assert_true (store_gc (f->s, NULL, NULL, NULL, &err) < 0);
  assert_int_equal (err->status, EBUSY);
  bale_error_release (&err);
  store_txn_end (f->s);
}

/* ---- concurrency ---------------------------------------------------------------------- */

#define WRITERS 6
#define NAMES_EACH 15

/* Each child opens its own store handle and names images; refs.json must end up with all. */
static void
test_concurrent_writers (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  struct store_ref *refs = NULL;
  pid_t pids[WRITERS];
  size_t n = 0;
  int i, status;

  for (i = 0; i < WRITERS; i++)
    {
      pids[i] = fork ();
      assert_true (pids[i] >= 0);
      if (pids[i] == 0)
        {
          struct store *s = NULL;
          char d[DIGEST_STRLEN + 1], name[64], data[64];
          int j, bad = 0;

          if (store_open (f->dir, &s, &err) < 0)
            _exit (1);
          for (j = 0; j < NAMES_EACH; j++)
            {
              snprintf (data, sizeof data, "blob %d %d", i, j);
              snprintf (name, sizeof name, "w%d:n%d", i, j);
              bad |= store_blob_put (s, data, strlen (data), d, &err) < 0;
              bad |= store_ref_set (s, name, d, &err) < 0;
              /* Everyone also writes the same blob at once. */
              bad |= store_blob_put (s, "shared", 6, NULL, &err) < 0;
            }
          store_close (s);
          bale_error_release (&err);
          _exit (bad);
        }
    }
  for (i = 0; i < WRITERS; i++)
    {
      assert_int_equal (waitpid (pids[i], &status, 0), pids[i]);
      assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  assert_ok (store_ref_list (f->s, &refs, &n, &err), &err);
  assert_int_equal (n, WRITERS * NAMES_EACH);
  store_refs_free (refs, n);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), WRITERS * NAMES_EACH + 1);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
}

/* A gc running next to a writer inside a transaction must not take the writer's blobs. */
static void
test_gc_waits_for_writers (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char d[DIGEST_STRLEN + 1];
  int pipefd[2], status;
  pid_t pid;
  char c;

  assert_int_equal (pipe (pipefd), 0);
  assert_ok (store_txn_begin (f->s, &err), &err);
  assert_ok (store_blob_put (f->s, "abc", 3, d, &err), &err);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct store *s = NULL;
      int ret = store_open (f->dir, &s, &err) < 0 || store_gc (s, NULL, NULL, NULL, &err) < 0;

      (void) !write (pipefd[1], "x", 1);
      store_close (s);
      bale_error_release (&err);
      _exit (ret);
    }
  /* The child's gc is blocked on our transaction: the blob gets its name first. */
  usleep (200000);
  assert_ok (store_ref_set (f->s, "abc", d, &err), &err);
  store_txn_end (f->s);
  assert_int_equal (read (pipefd[0], &c, 1), 1);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  assert_true (store_blob_exists (f->s, d));
  close (pipefd[0]);
  close (pipefd[1]);
}

static void
test_default_path (void **state)
{
  bale_error_t err = NULL;
  char *p;

  setenv ("BALE_STORE", "/x/y", 1);
  p = store_default_path (&err);
  assert_string_equal (p, "/x/y");
  free (p);
  unsetenv ("BALE_STORE");
  if (geteuid () != 0)
    {
      setenv ("XDG_DATA_HOME", "/data", 1);
      p = store_default_path (&err);
      assert_string_equal (p, "/data/bale");
      free (p);
      unsetenv ("XDG_DATA_HOME");
    }
  else
    {
      p = store_default_path (&err);
      assert_string_equal (p, "/var/lib/bale");
      free (p);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown (fn, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    T (test_blob_put_and_read),
    T (test_blob_writer_verifies_digest),
    T (test_blob_corruption_detected),
    T (test_killed_writer_leaves_no_blob),
    T (test_refs_normalized),
    T (test_resolve),
    T (test_resolve_ambiguous),
    cmocka_unit_test (test_platmatch),
    T (test_image_read_from_index),
    T (test_gc),
    T (test_concurrent_writers),
    T (test_gc_waits_for_writers),
    cmocka_unit_test (test_default_path),
  };

  return cmocka_run_group_tests_name ("store", tests, NULL, NULL);
}
