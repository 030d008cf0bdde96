/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the image store: atomic blobs, names, resolution, gc, locking, platform choice. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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

#include "common/oci/canonjson.h"
#include "common/oci/digest.h"
#include "common/oci/oci.h"
#include "common/oci/platmatch.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/store/layout_read.h"
#include "runtime/store/store.h"
#include "tests/testutil.h"
#include "common/banned.h"

#define SHA_ABC_HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ABC "sha256:" SHA_ABC_HEX

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
  struct bale_platform p = { .os = (char *) os, .arch = (char *) arch, .variant = (char *) variant };
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

static void
write_text (const char *dir, const char *name, const char *text)
{
  char *path = xasprintf ("%s/%s", dir, name);
  FILE *fp = fopen (path, "w");

  assert_non_null (fp);
  fputs (text, fp);
  fclose (fp);
  free (path);
}

/* Append an index entry for a stored manifest. */
static void
index_add (struct store *s, json_t *index, const char *digest, const struct bale_platform *p)
{
  bale_error_t err = NULL;
  json_t *d = oci_descriptor_new (OCI_MT_MANIFEST, digest, store_blob_size (s, digest, &err), NULL,
                                  p, &err);

  assert_non_null (d);
  oci_index_add (index, d);
  json_decref (d);
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

/* A producer that hashes what it writes (the layer writer) writes to the writer's descriptor
   and commits with its digest: the size must match, and a failure leaves nothing behind. */
static void
test_blob_writer_hashed_by_caller (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  struct store_blob_writer *w = store_blob_writer_new (f->s, &err);

  assert_non_null (w);
  assert_int_equal (write (store_blob_writer_fd (w), "abc", 3), 3);
  assert_true (store_blob_writer_commit_hashed (w, SHA_ABC, 4, &err) < 0);
  assert_non_null (strstr (err->msg, "has 3 bytes"));
  bale_error_release (&err);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  assert_false (store_blob_exists (f->s, SHA_ABC));

  w = store_blob_writer_new (f->s, &err);
  assert_int_equal (write (store_blob_writer_fd (w), "abc", 3), 3);
  assert_true (store_blob_writer_commit_hashed (w, "sha256:abc", 3, &err) < 0);
  bale_error_release (&err);
  assert_int_equal (count_files (f->dir, "tmp"), 0);

  w = store_blob_writer_new (f->s, &err);
  assert_int_equal (write (store_blob_writer_fd (w), "abc", 3), 3);
  assert_ok (store_blob_writer_commit_hashed (w, SHA_ABC, 3, &err), &err);
  assert_true (store_blob_exists (f->s, SHA_ABC));
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  /* The same bytes again: the blob is there already, the new file goes. */
  w = store_blob_writer_new (f->s, &err);
  assert_int_equal (write (store_blob_writer_fd (w), "abc", 3), 3);
  assert_ok (store_blob_writer_commit_hashed (w, SHA_ABC, 3, &err), &err);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 1);
  /* Bytes handed over unhashed (store_blob_writer_write_hashed): counted, not hashed, so the
     caller's digest names them and a size that is not theirs is refused. */
  w = store_blob_writer_new (f->s, &err);
  assert_ok (store_blob_writer_write_hashed (w, "ab", 2, &err), &err);
  assert_ok (store_blob_writer_write_hashed (w, "c", 1, &err), &err);
  assert_int_equal (store_blob_writer_size (w), 3);
  assert_true (store_blob_writer_commit_hashed (w, SHA_ABC, 2, &err) < 0);
  bale_error_release (&err);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  w = store_blob_writer_new (f->s, &err);
  assert_ok (store_blob_writer_write_hashed (w, "abc", 3, &err), &err);
  assert_ok (store_blob_writer_commit_hashed (w, SHA_ABC, 3, &err), &err);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 1);
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
  assert_non_null (strstr (err->msg, "no such image"));
  assert_non_null (strstr (err->msg, "no such image: 'busybox:1'"));
  bale_error_release (&err);
  assert_true (store_ref_set (f->s, "Bad/Name", d, &err) < 0);
  assert_non_null (strstr (err->msg, "invalid image name 'Bad/Name'"));
  bale_error_release (&err);
  assert_true (store_ref_set (f->s, "sha256:" "0000000000000000000000000000000000000000000000000000000000000000", d, &err) < 0);
  assert_non_null (strstr (err->msg, "a digest cannot name another image"));
  bale_error_release (&err);
  /* Naming a blob the store does not have is refused. */
  assert_true (store_ref_set (f->s, "x", "sha256:" "0000000000000000000000000000000000000000000000000000000000000000", &err) < 0);
  bale_error_release (&err);

  /* Renaming away the last name of an image keeps it, untagged. */
  {
    char e[DIGEST_STRLEN + 1];

    assert_ok (store_blob_put (f->s, "def", 3, e, &err), &err);
    assert_ok (store_ref_set (f->s, "example.com:5000/a/b:v1", e, &err), &err);
    assert_ok (store_ref_set (f->s, "busybox", e, &err), &err);
    assert_ok (store_ref_list (f->s, &refs, &n, &err), &err);
    assert_int_equal (n, 3);
    assert_string_equal (refs[2].name, d);
    assert_string_equal (refs[2].digest, d);
    store_refs_free (refs, n);
    assert_ok (store_ref_delete (f->s, d, &err), &err);
  }
  assert_ok (store_ref_delete (f->s, "busybox", &err), &err);
  assert_true (store_ref_delete (f->s, "busybox", &err) < 0);
  assert_non_null (strstr (err->msg, "no such image"));
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
  assert_string_equal (img.id, img.config);
  memcpy (prefix, digest_hex (img.id), 12);
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
  assert_non_null (strstr (err->msg, "no such image: 'nothere'"));
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
  assert_non_null (strstr (err->msg, "is ambiguous"));
  bale_error_release (&err);
}

/* ---- images and platforms ------------------------------------------------------------- */

static void
test_platmatch (void **state)
{
  struct bale_platform amd64 = { .os = "linux", .arch = "amd64", .variant = NULL }, amd64v3 = { .os = "linux", .arch = "amd64", .variant = "v3" };
  struct bale_platform i386 = { .os = "linux", .arch = "386", .variant = NULL }, armv7 = { .os = "linux", .arch = "arm", .variant = "v7" };
  struct bale_platform armv6 = { .os = "linux", .arch = "arm", .variant = "v6" }, arm = { .os = "linux", .arch = "arm", .variant = NULL };
  struct bale_platform arm64 = { .os = "linux", .arch = "aarch64", .variant = NULL }, arm64v8 = { .os = "linux", .arch = "arm64", .variant = "v8" };
  struct bale_platform win = { .os = "windows", .arch = "amd64", .variant = NULL };

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
  struct bale_platform pa = { .os = "linux", .arch = "arm", .variant = "v6" }, pb = { .os = "linux", .arch = "arm64", .variant = NULL };
  struct bale_platform att = { .os = "unknown", .arch = "unknown", .variant = NULL };
  struct bale_platform want_arm = { .os = "linux", .arch = "arm", .variant = "v7" }, want_s390 = { .os = "linux", .arch = "s390x", .variant = NULL };
  json_t *index = oci_index_new ();
  const struct bale_platform *plats[] = { &att, &pa, &pb };
  char *digests[] = { mc, ma, mb };
  struct store_image img;
  int i;

  put_image (f->s, "attestation", "unknown", "unknown", NULL, mc);
  put_image (f->s, "armv6 layer", "linux", "arm", "v6", ma);
  put_image (f->s, "arm64 layer", "linux", "arm64", NULL, mb);
  for (i = 0; i < 3; i++)
    index_add (f->s, index, digests[i], plats[i]);
  put_json (f->s, index, idx);
  assert_ok (store_ref_set (f->s, "multi", idx, &err), &err);

  assert_ok (store_image_read (f->s, "multi", &want_arm, &img, &err), &err);
  assert_string_equal (img.target, idx);
  assert_string_equal (img.manifest, ma); /* arm/v7 runs arm/v6 */
  assert_string_equal (img.id, idx); /* the ID of an index is its digest */
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

/* The export's compressed/ index keeps compressed copies of live layers, and only those. */
static void
test_gc_keeps_compressed (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char m[DIGEST_STRLEN + 1], gz[DIGEST_STRLEN + 1], stale[DIGEST_STRLEN + 1];
  char *dir = xasprintf ("%s/compressed", f->dir), *name;
  struct store_image img;

  put_image (f->s, "live layer", "linux", "amd64", NULL, m);
  assert_ok (store_ref_set (f->s, "live", m, &err), &err);
  assert_ok (store_image_read (f->s, "live", NULL, &img, &err), &err);
  assert_ok (store_blob_put (f->s, "gzip of the live layer", 22, gz, &err), &err);
  assert_ok (store_blob_put (f->s, "gzip of a layer now gone", 24, stale, &err), &err);
  assert_int_equal (mkdir (dir, 0700), 0);
  name = xasprintf ("%s.gzip", digest_hex (img.layers[0].digest));
  write_text (dir, name, gz);
  free (name);
  write_text (dir, "0000000000000000000000000000000000000000000000000000000000000000.gzip", stale);
  store_image_release (&img);

  assert_ok (store_gc (f->s, NULL, NULL, NULL, &err), &err);
  assert_true (store_blob_exists (f->s, gz));
  assert_false (store_blob_exists (f->s, stale));
  assert_int_equal (count_files (f->dir, "compressed"), 1);
  /* Once the image goes, so do its compressed layers. */
  assert_ok (store_ref_delete (f->s, "live", &err), &err);
  assert_ok (store_gc (f->s, NULL, NULL, NULL, &err), &err);
  assert_false (store_blob_exists (f->s, gz));
  assert_int_equal (count_files (f->dir, "compressed"), 0);
  free (dir);
}

#define HEX_1 "1111111111111111111111111111111111111111111111111111111111111111"
#define HEX_2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HEX_3 "3333333333333333333333333333333333333333333333333333333333333333"

/* A one-layer image whose config lists diff_id, which differs from the layer's digest as
   for a compressed layer; out gets the manifest digest. */
static void
put_image_diff_id (struct store *s, const char *diff_id, char manifest[DIGEST_STRLEN + 1])
{
  struct bale_platform p = { .os = (char *) "linux", .arch = (char *) "amd64", .variant = NULL };
  char layer_d[DIGEST_STRLEN + 1], config_d[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  json_t *config = oci_config_new_scratch (&p), *m, *cdesc, *ldesc;

  assert_ok (store_blob_put (s, "gzip bytes", 10, layer_d, &err), &err);
  json_array_append_new (json_object_get (json_object_get (config, "rootfs"), "diff_ids"),
                         json_string (diff_id));
  put_json (s, config, config_d);
  cdesc = oci_descriptor_new (OCI_MT_CONFIG, config_d, store_blob_size (s, config_d, &err), NULL,
                              NULL, &err);
  ldesc = oci_descriptor_new (OCI_MT_LAYER_GZIP, layer_d, 10, NULL, NULL, &err);
  m = oci_manifest_new (cdesc);
  oci_manifest_add_layer (m, ldesc);
  json_decref (cdesc);
  json_decref (ldesc);
  put_json (s, m, manifest);
}

/* snapshots/<name>/fs with a 100-byte file in a read-only directory; as root, the file
   belongs to another user, as unpacked layers' files do. */
static void
make_snapshot (const struct fixture *f, const char *name)
{
  char *ro = xasprintf ("%s/snapshots/%s/fs/ro", f->dir, name);
  char *file = xasprintf ("%s/file", ro);
  char *fs = xstrndup (ro, strlen (ro) - strlen ("/ro"));
  char *top = xstrndup (fs, strlen (fs) - strlen ("/fs"));

  assert_int_equal (mkdir (top, 0700), 0);
  assert_int_equal (mkdir (fs, 0755), 0);
  assert_int_equal (mkdir (ro, 0755), 0);
  write_text (ro, "file", "0123456789012345678901234567890123456789012345678901234567890123456789"
                          "012345678901234567890123456789");
  if (geteuid () == 0)
    assert_int_equal (lchown (file, 1234, 1234), 0);
  assert_int_equal (chmod (ro, 0555), 0);
  free (ro);
  free (file);
  free (fs);
  free (top);
}

static bool
snapshot_exists (const struct fixture *f, const char *name)
{
  char *path = xasprintf ("%s/snapshots/%s", f->dir, name);
  struct stat st;
  bool ok = lstat (path, &st) == 0;

  free (path);
  return ok;
}

/* A snapshot survives while a live config lists its diff_id or a surviving blob has its
   digest; leftovers of unfinished unpacks always go, lock files with their snapshot. */
static void
test_gc_snapshots (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char m1[DIGEST_STRLEN + 1], m2[DIGEST_STRLEN + 1], lock[DIGEST_STRLEN + 16];
  char *snapdir = xasprintf ("%s/snapshots", f->dir);
  struct store_image img;
  int64_t freed = 0;
  const char *live;

  put_image (f->s, "live layer", "linux", "amd64", NULL, m1);
  put_image_diff_id (f->s, "sha256:" HEX_1, m2);
  assert_ok (store_ref_set (f->s, "live", m1, &err), &err);
  assert_ok (store_ref_set (f->s, "compressed", m2, &err), &err);
  assert_ok (store_blob_put (f->s, "abc", 3, NULL, &err), &err);
  assert_ok (store_image_read (f->s, "live", NULL, &img, &err), &err);
  live = digest_hex (img.diff_ids[0]);
  make_snapshot (f, live);
  make_snapshot (f, HEX_1);
  make_snapshot (f, digest_hex (SHA_ABC));
  make_snapshot (f, HEX_2);
  make_snapshot (f, HEX_3 ".tmp");
  make_snapshot (f, HEX_1 ".adopt");
  write_text (snapdir, HEX_2 ".lock", "");
  snprintf (lock, sizeof lock, "%s.lock", live);
  write_text (snapdir, lock, "");
  write_text (snapdir, "README", "not a snapshot");

  assert_ok (store_gc (f->s, keep_abc, NULL, &freed, &err), &err);
  assert_true (snapshot_exists (f, live) && snapshot_exists (f, lock));
  assert_true (snapshot_exists (f, HEX_1));
  assert_true (snapshot_exists (f, digest_hex (SHA_ABC)));
  assert_true (snapshot_exists (f, "README"));
  assert_int_equal (count_files (f->dir, "snapshots"), 5);
  /* Three trees of one 100-byte file each: HEX_2, HEX_3.tmp, HEX_1.adopt. */
  assert_true (freed >= 300);

  assert_ok (store_ref_delete (f->s, "live", &err), &err);
  assert_ok (store_ref_delete (f->s, "compressed", &err), &err);
  assert_ok (store_gc (f->s, NULL, NULL, NULL, &err), &err);
  assert_int_equal (count_files (f->dir, "snapshots"), 1);
  assert_true (snapshot_exists (f, "README"));
  store_image_release (&img);
  free (snapdir);
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

/* Whether pid waits for a flock: a blocked request ("->") of /proc/locks with its pid. */
static bool
flock_waits (pid_t pid)
{
  cleanup_free char *locks = test_read_file ("/proc/locks", NULL);
  char *line = locks, *next;

  for (; line && *line; line = next)
    {
      int who;
      if ((next = strchr (line, '\n')))
        *next++ = '\0';
      if (sscanf (line, "%*d: -> FLOCK %*s %*s %d", &who) == 1 && who == (int) pid)
        return true;
    }
  return false;
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
  /* The child's gc is blocked on our transaction (60 s at most, a hang guard): the blob gets
     its name first. */
  for (int i = 0; i < 6000 && !flock_waits (pid); i++)
    usleep (10000);
  if (!flock_waits (pid))
    {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      test_fail ("the child's gc did not wait for gc.lock within 60 s");
    }
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

  store_close (NULL); /* accepted, as cleanup functions must */
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

/* ---- archives ------------------------------------------------------------------------- */

struct tar_member
{
  const char *name;
  const char *data;   /* NULL for a symlink */
  const char *target; /* the symlink's target */
  size_t len;         /* 0: strlen (data) */
};

static la_ssize_t
to_strbuf (struct archive *a, void *ctx, const void *buf, size_t len)
{
  strbuf_add (ctx, buf, len);
  return (la_ssize_t) len;
}

/* A tar of the members (optionally gzipped) into out. */
static void
make_tar (struct strbuf *out, const struct tar_member *m, size_t n, bool gzip)
{
  struct archive *a = archive_write_new ();
  size_t i;

  archive_write_set_format_pax_restricted (a);
  if (gzip)
    archive_write_add_filter_gzip (a);
  archive_write_set_bytes_in_last_block (a, 1);
  assert_int_equal (archive_write_open2 (a, out, NULL, to_strbuf, NULL, NULL), ARCHIVE_OK);
  for (i = 0; i < n; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      size_t len = m[i].data ? (m[i].len ? m[i].len : strlen (m[i].data)) : 0;

      archive_entry_set_pathname (e, m[i].name);
      archive_entry_set_filetype (e, m[i].data ? AE_IFREG : AE_IFLNK);
      if (m[i].target)
        archive_entry_set_symlink (e, m[i].target);
      archive_entry_set_perm (e, 0644);
      archive_entry_set_size (e, (la_int64_t) len);
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      if (len)
        assert_int_equal (archive_write_data (a, m[i].data, len), (la_ssize_t) len);
      archive_entry_free (e);
    }
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

static char *
write_tar_file (const struct fixture *f, const char *name, const struct tar_member *m, size_t n)
{
  struct strbuf sb = STRBUF_INIT;
  char *path = xasprintf ("%s.%s", f->dir, name);
  FILE *fp = fopen (path, "wb");

  make_tar (&sb, m, n, false);
  assert_non_null (fp);
  assert_int_equal (fwrite (sb.buf, 1, sb.len, fp), sb.len);
  fclose (fp);
  strbuf_release (&sb);
  return path;
}

#define LAYER "pretend this is a layer tar"

static char *
config_for (const char *diff_id)
{
  return xasprintf ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
                    "\"created\":\"2024-01-02T03:04:05Z\","
                    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                    diff_id);
}

/* docker save before Docker 25: v1 directories, a symlinked duplicate layer, <id>.json. */
static char *
legacy_archive (const struct fixture *f, const char *name, const char *manifest_layers)
{
  char diff_id[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  char *config, *manifest, *path;

  assert_ok (digest_buffer (LAYER, strlen (LAYER), diff_id, &err), &err);
  config = config_for (diff_id);
  manifest = xasprintf ("[{\"Config\":\"cfg.json\",\"RepoTags\":[\"busybox:latest\"],"
                        "\"Layers\":[\"%s\"]},"
                        "{\"Config\":\"./cfg.json\",\"RepoTags\":[\"example.com/other:1\"],"
                        "\"Layers\":[\"def/layer.tar\"]}]",
                        manifest_layers);
  {
    const struct tar_member m[] = {
      { "abc/VERSION", "1.0", NULL, 0 },
      { "abc/layer.tar", LAYER, NULL, 0 },
      { "def/layer.tar", NULL, "../abc/layer.tar", 0 },
      { "cfg.json", config, NULL, 0 },
      { "manifest.json", manifest, NULL, 0 },
      { "repositories", "{\"busybox\":{\"latest\":\"abc\"}}", NULL, 0 },
    };
    path = write_tar_file (f, name, m, sizeof m / sizeof m[0]);
  }
  free (config);
  free (manifest);
  return path;
}

static void
test_load_docker_legacy (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char *path = legacy_archive (f, "legacy.tar", "abc/layer.tar");
  struct store_ref *names = NULL;
  struct store_image img;
  size_t n = 0;

  assert_ok (store_load (f->s, path, &names, &n, &err), &err);
  assert_int_equal (n, 2);
  assert_string_equal (names[0].name, "docker.io/library/busybox:latest");
  assert_string_equal (names[1].name, "example.com/other:1");
  /* Both items convert to the same OCI manifest. */
  assert_string_equal (names[0].digest, names[1].digest);
  store_refs_free (names, n);
  assert_ok (store_image_read (f->s, "busybox", NULL, &img, &err), &err);
  assert_int_equal (img.n_layers, 1);
  assert_string_equal (img.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar");
  assert_string_equal (img.layers[0].digest, img.diff_ids[0]);
  assert_string_equal (json_string_value (json_object_get (img.manifest_json, "mediaType")),
                       OCI_MT_MANIFEST);
  store_image_release (&img);
  /* Only the blobs: the layer, the config and the manifest. */
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 3);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
  unlink (path);
  free (path);
}

static void
test_load_gzip_layer (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  struct strbuf gz = STRBUF_INIT;
  const struct tar_member inner[] = { { "hello", "hi\n", NULL, 0 } };
  struct strbuf plain = STRBUF_INIT;
  char diff_id[DIGEST_STRLEN + 1];
  struct store_image img;
  char *config, *path;

  make_tar (&plain, inner, 1, false);
  make_tar (&gz, inner, 1, true);
  assert_ok (digest_buffer (plain.buf, plain.len, diff_id, &err), &err);
  config = config_for (diff_id);
  {
    const struct tar_member m[] = {
      { "manifest.json", "[{\"Config\":\"c.json\",\"RepoTags\":[\"gz:1\"],\"Layers\":[\"l.tar.gz\"]}]",
        NULL, 0 },
      { "c.json", config, NULL, 0 },
      { "l.tar.gz", gz.buf, NULL, gz.len },
    };
    path = write_tar_file (f, "gz.tar", m, 3);
  }
  assert_ok (store_load (f->s, path, NULL, NULL, &err), &err);
  assert_ok (store_image_read (f->s, "gz:1", NULL, &img, &err), &err);
  assert_string_equal (img.layers[0].media_type, OCI_MT_LAYER_GZIP);
  assert_string_equal (img.diff_ids[0], diff_id);
  assert_string_not_equal (img.layers[0].digest, diff_id);
  store_image_release (&img);
  unlink (path);
  free (path);
  free (config);
  strbuf_release (&gz);
  strbuf_release (&plain);
}

/* Load path (which is then removed and freed), expecting an error containing msg. */
static void
assert_load_fails_take (struct fixture *f, char *path, const char *msg)
{
  bale_error_t err = NULL;
  struct store_ref *refs = NULL;
  size_t n = 0;

  assert_true (store_load (f->s, path, NULL, NULL, &err) < 0);
  unlink (path);
  free (path);
  assert_non_null (err);
  if (strstr (err->msg, msg) == NULL)
    test_fail ("error '%s' does not contain '%s'", err->msg, msg);
  bale_error_release (&err);
  /* Nothing is named, and nothing is left half-written. */
  assert_ok (store_ref_list (f->s, &refs, &n, &err), &err);
  assert_int_equal (n, 0);
  store_refs_free (refs, n);
  assert_int_equal (count_files (f->dir, "tmp"), 0);
}

static void
test_load_rejects_traversal (void **state)
{
  struct fixture *f = *state;
  const struct tar_member dotdot[] = { { "../evil", "x", NULL, 0 } };
  const struct tar_member abs[] = { { "/etc/evil", "x", NULL, 0 } };
  const struct tar_member inner[] = { { "a/../../evil", "x", NULL, 0 } };
  const struct tar_member link[] = { { "abc/layer.tar", NULL, "../../etc/passwd", 0 } };
  char *path;

  path = write_tar_file (f, "t1.tar", dotdot, 1);
  assert_load_fails_take (f, path, "unsafe path '../evil' in member name");
  path = write_tar_file (f, "t2.tar", abs, 1);
  assert_load_fails_take (f, path, "unsafe path '/etc/evil'");
  path = write_tar_file (f, "t3.tar", inner, 1);
  assert_load_fails_take (f, path, "unsafe path 'a/../../evil'");
  path = write_tar_file (f, "t4.tar", link, 1);
  assert_load_fails_take (f, path, "unsafe path '../../etc/passwd' in a symlink target");
  /* A manifest.json that points outside the archive. */
  path = legacy_archive (f, "t5.tar", "../abc/layer.tar");
  assert_load_fails_take (f, path, "unsafe path '../abc/layer.tar' in manifest.json");
}

static void
test_load_rejects_corruption (void **state)
{
  struct fixture *f = *state;
  char hex[65], *path, *blob_name;
  const struct tar_member nothing[] = { { "hello", "x", NULL, 0 } };
  char diff_id[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  FILE *fp;

  /* Not an archive at all. */
  path = xasprintf ("%s.garbage", f->dir);
  fp = fopen (path, "wb");
  fputs ("this is not a tar archive, not even close; it goes on for a while..........", fp);
  fclose (fp);
  assert_load_fails_take (f, path, "cannot read archive");

  /* An OCI blob whose bytes do not hash to its name. */
  memset (hex, 'a', 64);
  hex[64] = '\0';
  blob_name = xasprintf ("blobs/sha256/%s", hex);
  {
    const struct tar_member m[] = {
      { "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", NULL, 0 },
      { blob_name, "not what the name says", NULL, 0 },
      { "index.json", "{\"schemaVersion\":2,\"manifests\":[]}", NULL, 0 },
    };
    path = write_tar_file (f, "bad-oci.tar", m, 3);
  }
  assert_load_fails_take (f, path, "digest mismatch");
  assert_int_equal (count_files (f->dir, "blobs/sha256"), 0);
  free (blob_name);

  /* A layer that is not what the config's diff_ids say. */
  assert_ok (digest_buffer ("other", 5, diff_id, &err), &err);
  {
    char *config = config_for (diff_id);
    const struct tar_member m[] = {
      { "manifest.json", "[{\"Config\":\"c.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l/layer.tar\"]}]",
        NULL, 0 },
      { "c.json", config, NULL, 0 },
      { "l/layer.tar", LAYER, NULL, 0 },
    };
    path = write_tar_file (f, "bad-diff.tar", m, 3);
    free (config);
  }
  assert_load_fails_take (f, path, "invalid diffID for layer 0");

  /* A truncated archive. */
  path = legacy_archive (f, "trunc.tar", "abc/layer.tar");
  assert_int_equal (truncate (path, 1536), 0);
  assert_load_fails_take (f, path, "");

  /* Neither format. */
  path = write_tar_file (f, "neither.tar", nothing, 1);
  assert_load_fails_take (f, path, "is neither a docker-archive (no manifest.json) nor an OCI layout");
}

/* save two names of one image, load the archive into a second store: same image, both names. */
static void
test_save_load_roundtrip (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char *path = legacy_archive (f, "rt.tar", "abc/layer.tar");
  char *out = xasprintf ("%s.saved.tar", f->dir), *dir2 = xasprintf ("%s2", f->dir);
  const char *names[] = { "busybox", "example.com/other:1" };
  struct store_ref *loaded = NULL;
  struct store_image a, b;
  struct store *s2 = NULL;
  size_t n = 0;

  assert_ok (store_load (f->s, path, NULL, NULL, &err), &err);
  assert_ok (store_save (f->s, out, names, 2, NULL, NULL, &err), &err);
  assert_ok (store_open (dir2, &s2, &err), &err);
  assert_ok (store_load (s2, out, &loaded, &n, &err), &err);
  assert_int_equal (n, 2);
  assert_string_equal (loaded[0].name, "docker.io/library/busybox:latest");
  assert_string_equal (loaded[1].name, "example.com/other:1");
  store_refs_free (loaded, n);
  assert_ok (store_image_read (f->s, "busybox", NULL, &a, &err), &err);
  assert_ok (store_image_read (s2, "example.com/other:1", NULL, &b, &err), &err);
  /* The OCI layout of the archive keeps the manifest bytes, so even the digests agree. */
  assert_string_equal (a.manifest, b.manifest);
  assert_string_equal (a.config, b.config);
  store_image_release (&a);
  store_image_release (&b);
  assert_true (store_save (f->s, out, (const char *[]){ "nothere" }, 1, NULL, NULL, &err) < 0);
  assert_non_null (strstr (err->msg, "no such image: 'nothere'"));
  bale_error_release (&err);
  store_close (s2);
  nftw (dir2, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  unlink (path);
  unlink (out);
  free (path);
  free (out);
  free (dir2);
}

/* Hard-link every blob of f's store into dir/blobs/sha256: an OCI layout of the same blobs. */
static void
link_blobs (const struct fixture *f, const char *dir)
{
  char *src = xasprintf ("%s/blobs/sha256", f->dir), *dst = xasprintf ("%s/blobs", dir);
  DIR *d = opendir (src);
  struct dirent *e;

  assert_int_equal (mkdir (dir, 0755), 0);
  assert_int_equal (mkdir (dst, 0755), 0);
  free (dst);
  dst = xasprintf ("%s/blobs/sha256", dir);
  assert_int_equal (mkdir (dst, 0755), 0);
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      {
        char *a = xasprintf ("%s/%s", src, e->d_name), *b = xasprintf ("%s/%s", dst, e->d_name);
        assert_int_equal (link (a, b), 0);
        free (a);
        free (b);
      }
  closedir (d);
  free (src);
  free (dst);
}


/* An OCI layout directory whose index.json names a multi-platform index. */
static void
test_load_oci_dir_with_index (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char ma[DIGEST_STRLEN + 1], mb[DIGEST_STRLEN + 1], idx[DIGEST_STRLEN + 1];
  struct bale_platform pa = { .os = "linux", .arch = "arm", .variant = "v7" }, pb = { .os = "linux", .arch = "arm64", .variant = NULL };
  struct bale_platform want_amd64 = { .os = "linux", .arch = "amd64", .variant = NULL };
  char *layout = xasprintf ("%s.layout", f->dir), *dir2 = xasprintf ("%s2", f->dir), *text;
  json_t *index = oci_index_new ();
  struct store *s2 = NULL;
  struct store_image img;

  put_image (f->s, "arm layer", "linux", "arm", "v7", ma);
  put_image (f->s, "arm64 layer", "linux", "arm64", NULL, mb);
  index_add (f->s, index, ma, &pa);
  index_add (f->s, index, mb, &pb);
  put_json (f->s, index, idx);
  link_blobs (f, layout);
  write_text (layout, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
  /* No mediaType in the entry: it is optional, and the index must still be followed. */
  text = xasprintf ("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\","
                    "\"size\":%lld,\"annotations\":{\"org.opencontainers.image.ref.name\":"
                    "\"example.com/multi:1\"}}]}",
                    idx, (long long) store_blob_size (f->s, idx, &err));
  write_text (layout, "index.json", text);
  free (text);

  assert_ok (store_open (dir2, &s2, &err), &err);
  assert_ok (store_load (s2, layout, NULL, NULL, &err), &err);
  assert_ok (store_image_read (s2, "example.com/multi:1", &pb, &img, &err), &err);
  assert_string_equal (img.target, idx);
  assert_string_equal (img.manifest, mb);
  store_image_release (&img);
  /* Straight from a manifest, the platform is checked rather than chosen. */
  assert_ok (store_image_read (s2, ma, &pa, &img, &err), &err);
  store_image_release (&img);
  assert_true (store_image_read (s2, ma, &want_amd64, &img, &err) < 0);
  assert_non_null (strstr (err->msg, "is for platform 'linux/arm/v7', not 'linux/amd64'"));
  bale_error_release (&err);
  store_close (s2);
  nftw (dir2, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  nftw (layout, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free (dir2);
  free (layout);
}

/* layout_blob_open opens DIR/blobs/sha256/HEX through no symlink after DIR, and only a regular
   file: a path layout_blob_path checked and bale diff or explain --dir opens later cannot
   be led elsewhere or made to wait by a swap in between. A store's blob path opens too. */
static void
test_layout_blob_open (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *top = xstrndup (f->dir, strlen (f->dir) - strlen ("/store"));
  cleanup_free char *lay = xasprintf ("%s/lay", top), *other = xasprintf ("%s/other/sha256", top);
  cleanup_free char *hex = xstrdup (SHA_ABC_HEX), *path = xasprintf ("%s/blobs/sha256/%s", lay, hex);
  cleanup_free char *store_path = NULL, *blobs = xasprintf ("%s/blobs", lay);
  char digest[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  int fd;

  assert_int_equal (test_mk (top, "other", NULL), 0);
  assert_int_equal (test_mk (top, "other/sha256", NULL), 0);
  assert_int_equal (test_mk (top, "lay", NULL), 0);
  assert_int_equal (test_mk (other, hex, "abc"), 0);
  /* blobs -> a directory outside the layout: refused, although the file there is regular */
  assert_int_equal (test_ln (lay, "../other", "blobs"), 0);
  assert_true (layout_blob_open (path, &err) < 0);
  assert_non_null (strstr (err->msg, "cannot open directory 'blobs' (a symlink is refused)"));
  bale_error_release (&err);
  /* the blob a FIFO: refused, not waited on */
  assert_int_equal (unlinkat (AT_FDCWD, blobs, 0), 0);
  assert_int_equal (test_mk (lay, "blobs", NULL), 0);
  assert_int_equal (test_mk (lay, "blobs/sha256", NULL), 0);
  assert_int_equal (mkfifo (path, 0600), 0);
  assert_true (layout_blob_open (path, &err) < 0);
  assert_non_null (strstr (err->msg, "is not a regular file"));
  bale_error_release (&err);
  assert_int_equal (unlink (path), 0);
  assert_int_equal (test_mk (lay, "blobs/sha256/" SHA_ABC_HEX, "abc"), 0);
  fd = layout_blob_open (path, &err);
  assert_true (fd >= 0);
  close (fd);
  assert_true (layout_blob_open ("/etc/passwd", &err) < 0);
  bale_error_release (&err);
  /* a store blob */
  assert_int_equal (store_blob_put (f->s, "abc", 3, digest, &err), 0);
  store_path = store_blob_path (f->s, digest);
  fd = layout_blob_open (store_path, &err);
  assert_true (fd >= 0);
  close (fd);
}

#define T(fn) cmocka_unit_test_setup_teardown (fn, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    T (test_blob_put_and_read),
    T (test_blob_writer_verifies_digest),
    T (test_blob_writer_hashed_by_caller),
    T (test_blob_corruption_detected),
    T (test_killed_writer_leaves_no_blob),
    T (test_refs_normalized),
    T (test_resolve),
    T (test_resolve_ambiguous),
    cmocka_unit_test (test_platmatch),
    T (test_image_read_from_index),
    T (test_gc),
    T (test_gc_keeps_compressed),
    T (test_gc_snapshots),
    T (test_concurrent_writers),
    T (test_gc_waits_for_writers),
    cmocka_unit_test (test_default_path),
    T (test_load_docker_legacy),
    T (test_load_gzip_layer),
    T (test_load_rejects_traversal),
    T (test_load_rejects_corruption),
    T (test_save_load_roundtrip),
    T (test_load_oci_dir_with_index),
    T (test_layout_blob_open),
  };

  return cmocka_run_group_tests_name ("store", tests, NULL, NULL);
}
