/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the OCI output model: digests, Go-compatible JSON, platforms, builders, layouts.
 */
#include <config.h>

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
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "common/oci/canonjson.h"
#include "common/oci/digest.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/oci/platform.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/store/layout.h"
#include "tests/testutil.h"
#include "common/banned.h"

#define SHA_EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define PATH_ENV "\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\""

/* Serialise v with canonjson and compare with the expected bytes; consumes v. */
static void
assert_dump (json_t *v, const char *expected, size_t expected_len)
{
  bale_error_t err = NULL;
  size_t len = 0;
  char *got = canonjson_dumps (v, &len, &err);

  assert_non_null (got);
  assert_null (err);
  if (len != expected_len || memcmp (got, expected, len) != 0)
    fail_msg ("got      %s\nexpected %s", got, expected);
  free (got);
  json_decref (v);
}
#define ASSERT_DUMP(v, lit) assert_dump ((v), (lit), sizeof (lit) - 1)

/* ---- digests ---------------------------------------------------------------------------- */

static void
test_digest_vectors (void **state)
{
  char d[DIGEST_STRLEN + 1];
  struct digester st;
  bale_error_t err = NULL;

  assert_int_equal (digest_buffer ("", 0, d, &err), 0);
  assert_string_equal (d, SHA_EMPTY);
  assert_int_equal (digest_buffer ("abc", 3, d, &err), 0);
  assert_string_equal (d, SHA_ABC);
  /* Streaming in pieces gives the same result and counts the bytes. */
  assert_int_equal (digester_init (&st, &err), 0);
  digester_update (&st, "a", 1);
  digester_update (&st, "bc", 2);
  assert_int_equal (st.size, 3);
  assert_int_equal (digester_final (&st, d, &err), 0);
  assert_string_equal (d, SHA_ABC);
  assert_null (err);
}

static void
test_digest_file (void **state)
{
  char path[] = "/tmp/bale-digest-XXXXXX";
  char d[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  int64_t size = -1;
  int fd = mkstemp (path);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, "abc", 3), 3);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  assert_int_equal (digest_file (fd, d, &size, &err), 0);
  assert_string_equal (d, SHA_ABC);
  assert_int_equal (size, 3);
  close (fd);
  unlink (path);
  /* A bad descriptor is an error, not a digest of nothing. */
  assert_true (digest_file (-1, d, NULL, &err) < 0);
  assert_non_null (err);
  bale_error_release (&err);
}

static void
test_digest_validate (void **state)
{
  assert_true (digest_is_valid (SHA_ABC));
  assert_string_equal (digest_hex (SHA_ABC), SHA_ABC + 7);
  assert_false (digest_is_valid (NULL));
  assert_false (digest_is_valid (""));
  assert_false (digest_is_valid ("sha256:"));
  /* Uppercase MUST NOT be used for sha256. */
  assert_false (
      digest_is_valid ("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  assert_false (digest_is_valid (SHA_ABC "0"));
  assert_false (
      digest_is_valid ("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  assert_false (
      digest_is_valid ("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"));
  assert_false (
      digest_is_valid ("sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  assert_null (digest_hex ("sha256:abc"));
}

/* ---- canonical JSON --------------------------------------------------------------------- */

static void
test_canon_html_escapes (void **state)
{
  ASSERT_DUMP (json_string ("a && b <c> >"), "\"a \\u0026\\u0026 b \\u003cc\\u003e \\u003e\"");
  ASSERT_DUMP (json_pack ("{s:i}", "<&>", 1), "{\"\\u003c\\u0026\\u003e\":1}");
  /* U+2028 and U+2029 (E2 80 A8/A9); other non-ASCII stays raw, including a literal U+FFFD. */
  ASSERT_DUMP (json_string ("x\xe2\x80\xa8y\xe2\x80\xa9z"), "\"x\\u2028y\\u2029z\"");
  ASSERT_DUMP (json_string ("caf\xc3\xa9 \xef\xbf\xbd \xf0\x9f\x90\xb3"),
               "\"caf\xc3\xa9 \xef\xbf\xbd \xf0\x9f\x90\xb3\"");
}

static void
test_canon_control_escapes (void **state)
{
  ASSERT_DUMP (json_string ("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
  ASSERT_DUMP (json_string ("\n\r\t"), "\"\\n\\r\\t\"");
  /* Go >= 1.22 writes \b and \f short; the rest of C0 as \u00xx with lowercase hex. */
  ASSERT_DUMP (json_string ("\b\f"), "\"\\b\\f\"");
  ASSERT_DUMP (json_string ("\x01\x0b\x1b\x1f\x7f"), "\"\\u0001\\u000b\\u001b\\u001f\x7f\"");
  ASSERT_DUMP (json_stringn ("a\0b", 3), "\"a\\u0000b\"");
}

static void
test_canon_invalid_utf8 (void **state)
{
  ASSERT_DUMP (json_stringn_nocheck ("a\xff"
                                     "b",
                                     3),
               "\"a\\ufffdb\"");
  /* A truncated sequence is replaced one byte at a time, like Go's DecodeRuneInString. */
  ASSERT_DUMP (json_stringn_nocheck ("\xe2\x82", 2), "\"\\ufffd\\ufffd\"");
  /* UTF-8-encoded surrogates and overlong forms are invalid too. */
  ASSERT_DUMP (json_stringn_nocheck ("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");
  ASSERT_DUMP (json_stringn_nocheck ("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");
}

static void
test_canon_structure (void **state)
{
  json_t *o = json_object ();

  /* Insertion order, not sorted; compact; nested empties. */
  json_object_set_new (o, "z", json_integer (1));
  json_object_set_new (o, "a", json_array ());
  json_object_set_new (o, "m", json_object ());
  json_object_set_new (o, "n", json_pack ("[b,b,n,i]", 1, 0, -42));
  ASSERT_DUMP (o, "{\"z\":1,\"a\":[],\"m\":{},\"n\":[true,false,null,-42]}");
  ASSERT_DUMP (json_integer (9007199254740993LL), "9007199254740993");
  ASSERT_DUMP (json_integer (INT64_MIN), "-9223372036854775808");
}

static void
test_canon_reals (void **state)
{
  ASSERT_DUMP (json_real (1.0), "1");
  ASSERT_DUMP (json_real (0.5), "0.5");
  ASSERT_DUMP (json_real (3.14), "3.14");
  ASSERT_DUMP (json_real (-2.5e-3), "-0.0025");
  ASSERT_DUMP (json_real (0.000001), "0.000001");
  ASSERT_DUMP (json_real (1e-7), "1e-7");
  ASSERT_DUMP (json_real (1.5e-10), "1.5e-10");
  ASSERT_DUMP (json_real (1e20), "100000000000000000000");
  ASSERT_DUMP (json_real (1e21), "1e+21");
  ASSERT_DUMP (json_real (123456789.125), "123456789.125");
  ASSERT_DUMP (json_real (0.1 + 0.2), "0.30000000000000004");
  ASSERT_DUMP (json_real (-0.0), "-0");
}

static void
test_canon_sort_keys (void **state)
{
  json_t *o = json_pack ("{s:i,s:i,s:i,s:i}", "b", 1, "a-b", 2, "a", 3, "a/c", 4);

  canonjson_sort_keys (o);
  ASSERT_DUMP (o, "{\"a\":3,\"a-b\":2,\"a/c\":4,\"b\":1}");
}

/* ---- platforms -------------------------------------------------------------------------- */

/* tests/data/platform/parse.txt: "INPUT -> FORMATTED" or "INPUT !! ERROR" a line. */
#define PLATFORM_ROWS 98

static void
check_platform_row (const char *in, const char *want, bool fails, const char *host)
{
  struct bale_platform p = { 0 };
  bale_error_t err = NULL;
  struct strbuf expect = STRBUF_INIT;
  const char *h;

  /* {host} stands for the host's architecture and variant. */
  for (; (h = strstr (want, "{host}")) != NULL; want = h + 6)
    {
      strbuf_add (&expect, want, (size_t) (h - want));
      strbuf_addstr (&expect, host);
    }
  strbuf_addstr (&expect, want);
  if (platform_parse (in, &p, &err) < 0)
    {
      if (!fails)
        test_fail ("'%s' failed: %s", in, err->msg);
      else if (strcmp (err->msg, expect.buf) != 0)
        test_fail ("'%s' failed with\n  %s\nexpected\n  %s", in, err->msg, expect.buf);
      bale_error_release (&err);
    }
  else
    {
      char *s = platform_format (&p);

      if (fails)
        test_fail ("'%s' was accepted as '%s'", in, s);
      else if (strcmp (s, expect.buf) != 0)
        test_fail ("'%s' normalised to '%s', expected '%s'", in, s, expect.buf);
      free (s);
      platform_release (&p);
    }
  strbuf_release (&expect);
}

static void
test_platform_table (void **state)
{
  struct bale_platform host_p = { 0 };
  bale_error_t err = NULL;
  char *path = test_path ("tests/data/platform/parse.txt");
  char *data = test_read_file (path, NULL), *line, *save = NULL;
  char *host;
  int rows = 0;

  assert_int_equal (platform_host (&host_p, &err), 0);
  host = host_p.variant ? xasprintf ("%s/%s", host_p.arch, host_p.variant) : xstrdup (host_p.arch);
  for (line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *arrow = strstr (line, " -> "), *bang = strstr (line, " !! ");
      char *sep = arrow ? arrow : bang;

      if (*line == '#')
        continue;
      if (sep == NULL)
        test_fail ("bad row: %s", line);
      *sep = '\0';
      check_platform_row (strcmp (line, "<empty>") == 0 ? "" : line, sep + 4, sep == bang, host);
      rows++;
    }
  assert_int_equal (rows, PLATFORM_ROWS);
  free (host);
  free (data);
  free (path);
  platform_release (&host_p);
}

static void
test_platform_host (void **state)
{
  struct bale_platform p = { 0 };
  bale_error_t err = NULL;

  assert_int_equal (platform_host (&p, &err), 0);
  assert_string_equal (p.os, "linux");
#if defined(__x86_64__)
  assert_string_equal (p.arch, "amd64");
  assert_null (p.variant);
#elif defined(__aarch64__)
  assert_string_equal (p.arch, "arm64");
  assert_null (p.variant);
#endif
  platform_release (&p);
}

/* ---- builders --------------------------------------------------------------------------- */

static struct bale_platform amd64 = { .os = (char *) "linux", .arch = (char *) "amd64", .variant = NULL };
static struct bale_platform armv7 = { .os = (char *) "linux", .arch = (char *) "arm", .variant = (char *) "v7" };

static void
test_descriptor (void **state)
{
  bale_error_t err = NULL;
  json_t *ann = json_pack ("{s:s,s:s}", "z.last", "1", "a.first", "<2>");
  json_t *d = oci_descriptor_new (OCI_MT_LAYER_GZIP, SHA_ABC, 3, ann, &armv7, &err);

  json_decref (ann);
  ASSERT_DUMP (d, "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                  "\"digest\":\"" SHA_ABC "\",\"size\":3,"
                  "\"annotations\":{\"a.first\":\"\\u003c2\\u003e\",\"z.last\":\"1\"},"
                  "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}}");

  assert_null (oci_descriptor_new (OCI_MT_CONFIG, "sha256:ABC", 3, NULL, NULL, &err));
  assert_non_null (err);
  bale_error_release (&err);
  assert_null (oci_descriptor_new (OCI_MT_CONFIG, SHA_ABC, -1, NULL, NULL, &err));
  assert_non_null (err);
  bale_error_release (&err);
  ann = json_pack ("{s:i}", "k", 1);
  assert_null (oci_descriptor_new (OCI_MT_CONFIG, SHA_ABC, 3, ann, NULL, &err));
  json_decref (ann);
  assert_non_null (err);
  bale_error_release (&err);
}

static void
test_manifest_and_index (void **state)
{
  bale_error_t err = NULL;
  json_t *cfg = oci_descriptor_new (OCI_MT_CONFIG, SHA_ABC, 3, NULL, NULL, &err);
  json_t *layer = oci_descriptor_new (OCI_MT_LAYER_GZIP, SHA_EMPTY, 0, NULL, NULL, &err);
  json_t *m = oci_manifest_new (cfg);
  json_t *idx = oci_index_new ();
  json_t *entry = oci_descriptor_new (OCI_MT_MANIFEST, SHA_ABC, 10, NULL, &amd64, &err);

  oci_manifest_add_layer (m, layer);
  json_decref (cfg);
  json_decref (layer);
  ASSERT_DUMP (m,
               "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
               "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
               "\"digest\":\"" SHA_ABC "\",\"size\":3},"
               "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
               "\"digest\":\"" SHA_EMPTY "\",\"size\":0}]}");
  ASSERT_DUMP (json_incref (idx), "{\"schemaVersion\":2,\"mediaType\":"
                                  "\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");
  oci_index_add (idx, entry);
  json_decref (entry);
  ASSERT_DUMP (idx,
               "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
               "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
               "\"digest\":\"" SHA_ABC "\",\"size\":10,"
               "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}");
  assert_null (err);
}

static void
test_config_scratch (void **state)
{
  ASSERT_DUMP (oci_config_new_scratch (&amd64),
               "{\"architecture\":\"amd64\",\"config\":{\"Env\":[" PATH_ENV
               "],\"WorkingDir\":\"/\"},"
               "\"history\":[],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
  ASSERT_DUMP (oci_config_new_scratch (&armv7),
               "{\"architecture\":\"arm\",\"config\":{\"Env\":[" PATH_ENV "],\"WorkingDir\":\"/\"},"
               "\"history\":[],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
               "\"variant\":\"v7\"}");
}

static void
test_config_normalize (void **state)
{
  bale_error_t err = NULL;
  json_error_t jerr;
  /* Every field out of order, plus nulls and empties that Go's omitempty would drop. */
  json_t *in = json_loads (
      "{\"rootfs\":{\"diff_ids\":[\"" SHA_ABC "\"],\"type\":\"layers\"},"
      "\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\","
      "\"history\":[{\"empty_layer\":true,\"comment\":\"buildkit.dockerfile.v0\","
      "\"created_by\":\"CMD [\\\"/hello\\\"]\",\"created\":\"1970-01-01T00:00:00Z\"}],"
      "\"config\":{\"Shell\":[\"/bin/bash\",\"-c\"],\"OnBuild\":null,\"Cmd\":[\"/hello\"],"
      "\"Labels\":{\"z\":\"1\",\"a\":\"2\"},\"WorkingDir\":\"/\",\"User\":\"\","
      "\"Healthcheck\":{\"Retries\":3,\"Test\":[\"CMD-SHELL\",\"true\"],\"Interval\":1000000000,"
      "\"Timeout\":0},\"Volumes\":{},\"ArgsEscaped\":true,\"Entrypoint\":[],"
      "\"ExposedPorts\":{\"8080/tcp\":{},\"443/tcp\":{}},\"StopSignal\":\"SIGTERM\","
      "\"Env\":[\"A=1\"],\"X-Unknown\":1},"
      "\"author\":null,\"architecture\":\"amd64\"}",
      0, &jerr);
  json_t *out;

  assert_non_null (in);
  out = oci_config_normalize (in, &err);
  json_decref (in);
  assert_non_null (out);
  ASSERT_DUMP (out,
               "{\"architecture\":\"amd64\","
               "\"config\":{\"ExposedPorts\":{\"443/tcp\":{},\"8080/tcp\":{}},\"Env\":[\"A=1\"],"
               "\"Cmd\":[\"/hello\"],\"WorkingDir\":\"/\",\"Labels\":{\"a\":\"2\",\"z\":\"1\"},"
               "\"StopSignal\":\"SIGTERM\",\"ArgsEscaped\":true,"
               "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"true\"],\"Interval\":1000000000,"
               "\"Retries\":3},\"Shell\":[\"/bin/bash\",\"-c\"],\"X-Unknown\":1},"
               "\"created\":\"1970-01-01T00:00:00Z\","
               "\"history\":[{\"created\":\"1970-01-01T00:00:00Z\","
               "\"created_by\":\"CMD [\\\"/hello\\\"]\",\"comment\":\"buildkit.dockerfile.v0\","
               "\"empty_layer\":true}],"
               "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" SHA_ABC "\"]}}");

  in = json_array ();
  assert_null (oci_config_normalize (in, &err));
  json_decref (in);
  assert_non_null (err);
  bale_error_release (&err);
}

static void
test_config_normalize_is_a_copy (void **state)
{
  bale_error_t err = NULL;
  json_t *in = oci_config_new_scratch (&amd64);
  json_t *out = oci_config_normalize (in, &err);

  /* Changing the copy must not touch the input. */
  json_array_append_new (json_object_get (json_object_get (out, "config"), "Env"),
                         json_string ("B=2"));
  assert_int_equal (json_array_size (json_object_get (json_object_get (in, "config"), "Env")), 1);
  json_decref (out);
  ASSERT_DUMP (in, "{\"architecture\":\"amd64\",\"config\":{\"Env\":[" PATH_ENV "],"
                   "\"WorkingDir\":\"/\"},\"history\":[],\"os\":\"linux\","
                   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
}

static void
test_refs (void **state)
{
  static const struct
  {
    const char *in, *full, *familiar;
  } cases[] = {
    { "foo", "docker.io/library/foo:latest", "foo:latest" },
    { "foo:1.0", "docker.io/library/foo:1.0", "foo:1.0" },
    { "user/foo:v_1", "docker.io/user/foo:v_1", "user/foo:v_1" },
    { "docker.io/library/foo:x", "docker.io/library/foo:x", "foo:x" },
    { "index.docker.io/foo", "docker.io/library/foo:latest", "foo:latest" },
    { "localhost/foo", "localhost/foo:latest", "localhost/foo:latest" },
    { "localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t" },
    { "ghcr.io/o/img__x-y.z:1", "ghcr.io/o/img__x-y.z:1", "ghcr.io/o/img__x-y.z:1" },
    { "[::1]:5000/foo", "[::1]:5000/foo:latest", "[::1]:5000/foo:latest" },
  };
  static const char *const bad[]
      = { "Foo",  "foo@sha256:abc", "foo:",    "foo:-x", "foo/", "foo//bar",
          "foo_", "a/.b",           "foo:a/b", "[::1/x", "h:/x", "x y/z" };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct oci_ref r;
      bale_error_t err = NULL;
      char *full, *fam;

      if (oci_ref_parse (cases[i].in, 0, &r, &err) < 0)
        fail_msg ("'%s' rejected: %s", cases[i].in, err->msg);
      full = oci_ref_full (&r);
      fam = oci_ref_familiar (&r);
      assert_string_equal (full, cases[i].full);
      assert_string_equal (fam, cases[i].familiar);
      free (full);
      free (fam);
      oci_ref_release (&r);
    }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct oci_ref r;
      bale_error_t err = NULL;

      if (oci_ref_parse (bad[i], 0, &r, &err) >= 0)
        fail_msg ("'%s' accepted", bad[i]);
      bale_error_release (&err);
    }
}

/* ---- layouts and archives --------------------------------------------------------------- */

/* A small but complete image: one layer, a config, a manifest, all canonical bytes. */
struct fixture
{
  char dir[64];
  char *layer, *config, *manifest;
  size_t layer_len, config_len, manifest_len;
  char layer_digest[DIGEST_STRLEN + 1], config_digest[DIGEST_STRLEN + 1],
      manifest_digest[DIGEST_STRLEN + 1];
  struct layout_blob layers[1];
  struct layout_image img;
};

static char *
dump_and_digest (json_t *doc, size_t *len, char *digest)
{
  bale_error_t err = NULL;
  char *bytes = canonjson_dumps (doc, len, &err);

  assert_non_null (bytes);
  assert_int_equal (digest_buffer (bytes, *len, digest, &err), 0);
  json_decref (doc);
  return bytes;
}

static int
fixture_setup (void **state)
{
  struct fixture *f = xzalloc (sizeof *f);
  bale_error_t err = NULL;
  json_t *cfg = oci_config_new_scratch (&amd64);
  json_t *cdesc, *ldesc, *m;

  /* Layer content need not be a real tar for the writers; the clients test covers that. */
  f->layer = xstrdup ("not really a tar, but bytes with a digest");
  f->layer_len = strlen (f->layer);
  assert_int_equal (digest_buffer (f->layer, f->layer_len, f->layer_digest, &err), 0);
  json_array_append_new (json_object_get (json_object_get (cfg, "rootfs"), "diff_ids"),
                         json_string (f->layer_digest));
  f->config = dump_and_digest (cfg, &f->config_len, f->config_digest);
  cdesc = oci_descriptor_new (OCI_MT_CONFIG, f->config_digest, (int64_t) f->config_len, NULL, NULL,
                              &err);
  ldesc = oci_descriptor_new (OCI_MT_LAYER_TAR, f->layer_digest, (int64_t) f->layer_len, NULL, NULL,
                              &err);
  m = oci_manifest_new (cdesc);
  oci_manifest_add_layer (m, ldesc);
  json_decref (cdesc);
  json_decref (ldesc);
  f->manifest = dump_and_digest (m, &f->manifest_len, f->manifest_digest);

  f->layers[0] = (struct layout_blob){ OCI_MT_LAYER_TAR, f->layer_digest, (int64_t) f->layer_len,
                                       f->layer, NULL };
  f->img.manifest = (struct layout_blob){ OCI_MT_MANIFEST, f->manifest_digest,
                                          (int64_t) f->manifest_len, f->manifest, NULL };
  f->img.config = (struct layout_blob){ OCI_MT_CONFIG, f->config_digest, (int64_t) f->config_len,
                                        f->config, NULL };
  f->img.layers = f->layers;
  f->img.n_layers = 1;
  f->img.platform = &amd64;
  memcpy (f->dir, "/tmp/bale-oci-XXXXXX", sizeof "/tmp/bale-oci-XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  *state = f;
  return 0;
}

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static int
fixture_teardown (void **state)
{
  struct fixture *f = *state;

  nftw (f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free (f->layer);
  free (f->config);
  free (f->manifest);
  free (f);
  return 0;
}

static char *
read_file (const char *dir, const char *name, size_t *len)
{
  char *path = xasprintf ("%s/%s", dir, name);
  struct strbuf sb = STRBUF_INIT;
  char buf[4096];
  ssize_t n;
  int fd = open (path, O_RDONLY);

  if (fd < 0)
    fail_msg ("cannot open '%s'", path);
  while ((n = read (fd, buf, sizeof buf)) > 0)
    strbuf_add (&sb, buf, (size_t) n);
  close (fd);
  free (path);
  return strbuf_detach (&sb, len);
}

/* The blob at blobs/sha256/<hex of digest> exists and hashes to digest. */
static void
assert_blob (const char *dir, const char *digest)
{
  char *name = xasprintf ("blobs/sha256/%s", digest_hex (digest));
  char got[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  size_t len;
  char *data = read_file (dir, name, &len);

  assert_int_equal (digest_buffer (data, len, got, &err), 0);
  assert_string_equal (got, digest);
  free (data);
  free (name);
}

static void
test_layout_dir (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char *first, *second, *layout;
  size_t len1, len2, len;
  json_t *idx, *entry;

  if (layout_write_dir (f->dir, &f->img, "bale-test:v1", &err) < 0)
    fail_msg ("%s", err->msg);
  layout = read_file (f->dir, "oci-layout", &len);
  assert_string_equal (layout, "{\"imageLayoutVersion\":\"1.0.0\"}");
  free (layout);
  assert_blob (f->dir, f->layer_digest);
  assert_blob (f->dir, f->config_digest);
  assert_blob (f->dir, f->manifest_digest);

  first = read_file (f->dir, "index.json", &len1);
  idx = json_loads (first, 0, NULL);
  assert_non_null (idx);
  assert_int_equal (json_array_size (json_object_get (idx, "manifests")), 1);
  entry = json_array_get (json_object_get (idx, "manifests"), 0);
  assert_string_equal (json_string_value (json_object_get (entry, "digest")), f->manifest_digest);
  json_decref (idx);
  {
    char *expected = xasprintf (
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{"
        "\"io.containerd.image.name\":\"docker.io/library/bale-test:v1\","
        "\"org.opencontainers.image.ref.name\":\"v1\"},"
        "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
        f->manifest_digest, f->manifest_len);
    assert_string_equal (first, expected);
    free (expected);
  }

  /* Writing again changes nothing. */
  assert_int_equal (layout_write_dir (f->dir, &f->img, "bale-test:v1", &err), 0);
  second = read_file (f->dir, "index.json", &len2);
  assert_int_equal (len1, len2);
  assert_memory_equal (first, second, len1);
  free (second);
  free (first);
  assert_null (err);
}

static void
test_layout_dir_tags (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  char *text;
  size_t len;
  json_t *idx;

  assert_int_equal (layout_write_dir (f->dir, &f->img, "bale-test:v1", &err), 0);
  assert_int_equal (layout_write_dir (f->dir, &f->img, "bale-test:v2", &err), 0);
  assert_int_equal (layout_write_dir (f->dir, &f->img, NULL, &err), 0);
  assert_int_equal (layout_write_dir (f->dir, &f->img, NULL, &err), 0);
  text = read_file (f->dir, "index.json", &len);
  idx = json_loads (text, 0, NULL);
  /* Two tags plus one untagged entry; the repeated untagged write replaced itself. */
  assert_int_equal (json_array_size (json_object_get (idx, "manifests")), 3);
  json_decref (idx);
  free (text);
  /* No temporary files left behind. */
  text = xasprintf ("%s/blobs/sha256", f->dir);
  {
    cleanup_dir DIR *d = opendir (text);
    struct dirent *de;

    assert_non_null (d);
    while ((de = readdir (d)))
      assert_false (strncmp (de->d_name, ".tmp-", 5) == 0);
  }
  free (text);
  assert_null (err);
}

static void
test_layout_bad_blob (void **state)
{
  struct fixture *f = *state;
  bale_error_t err = NULL;
  struct layout_image img = f->img;
  struct layout_blob bad = f->layers[0];
  char *path;
  struct stat st;

  /* Content that does not hash to the declared digest must not land under that name. */
  bad.data = "tampered content with the same length as the real layer!!";
  bad.size = (int64_t) strlen (bad.data);
  img.layers = &bad;
  assert_true (layout_write_dir (f->dir, &img, NULL, &err) < 0);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, "has digest"));
  bale_error_release (&err);
  path = xasprintf ("%s/blobs/sha256/%s", f->dir, digest_hex (bad.digest));
  assert_true (stat (path, &st) < 0);
  free (path);
  path = xasprintf ("%s/index.json", f->dir);
  assert_true (stat (path, &st) < 0);
  free (path);
  assert_true (layout_write_dir (f->dir, &f->img, "UPPER", &err) < 0);
  bale_error_release (&err);
}

/* The member names of a tar, in archive order, joined by '\n'. */
static char *
tar_listing (const char *path)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  struct strbuf sb = STRBUF_INIT;

  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_filename (a, path, 10240), ARCHIVE_OK);
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      assert_int_equal (archive_entry_mtime (e), 0);
      assert_int_equal (archive_entry_uid (e), 0);
      assert_int_equal (archive_entry_gid (e), 0);
      /* No user or group names: only numeric ids, as containerd and umoci write. */
      assert_true (archive_entry_uname (e) == NULL || *archive_entry_uname (e) == '\0');
      assert_true (archive_entry_gname (e) == NULL || *archive_entry_gname (e) == '\0');
      strbuf_addf (&sb, "%s\n", archive_entry_pathname (e));
    }
  archive_read_free (a);
  return strbuf_detach (&sb, NULL);
}

static void
assert_sorted_lines (const char *listing)
{
  char *copy = xstrdup (listing), *prev = NULL, *line, *save = NULL;

  for (line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      if (prev && strcmp (prev, line) >= 0)
        fail_msg ("'%s' listed after '%s'", line, prev);
      prev = line;
    }
  free (copy);
}

typedef int (*archive_writer) (const char *, const struct layout_image *, const char *,
                               bale_error_t *);

/* Write an archive twice and check the bytes are identical and the listing sorted. */
static char *
write_twice (struct fixture *f, archive_writer w, const char *name)
{
  char *p1 = xasprintf ("%s/one.tar", f->dir), *p2 = xasprintf ("%s/two.tar", f->dir);
  bale_error_t err = NULL;
  char *b1, *b2, *listing;
  size_t l1, l2;

  if (w (p1, &f->img, name, &err) < 0 || w (p2, &f->img, name, &err) < 0)
    fail_msg ("%s", err->msg);
  b1 = read_file (f->dir, "one.tar", &l1);
  b2 = read_file (f->dir, "two.tar", &l2);
  assert_int_equal (l1, l2);
  assert_memory_equal (b1, b2, l1);
  /* Go-style framing: the data ends with exactly the two zero blocks. */
  assert_int_equal (l1 % 512, 0);
  listing = tar_listing (p1);
  assert_sorted_lines (listing);
  free (b1);
  free (b2);
  free (p1);
  free (p2);
  return listing;
}

static void
test_oci_archive (void **state)
{
  struct fixture *f = *state;
  char *listing = write_twice (f, layout_write_oci_archive, "bale-test:v1");
  char *expected;
  const char *hexes[3] = { digest_hex (f->layer_digest), digest_hex (f->config_digest),
                           digest_hex (f->manifest_digest) };

  assert_non_null (strstr (listing, "blobs/\nblobs/sha256/\n"));
  assert_non_null (strstr (listing, "index.json\noci-layout\n"));
  for (size_t i = 0; i < 3; i++)
    {
      expected = xasprintf ("blobs/sha256/%s\n", hexes[i]);
      assert_non_null (strstr (listing, expected));
      free (expected);
    }
  assert_null (strstr (listing, "manifest.json"));
  free (listing);
}

/* The content of one member of a tar. */
static char *
tar_member (const char *path, const char *name)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  char *out = NULL;

  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_filename (a, path, 10240), ARCHIVE_OK);
  while (out == NULL && archive_read_next_header (a, &e) == ARCHIVE_OK)
    if (strcmp (archive_entry_pathname (e), name) == 0)
      {
        size_t n = (size_t) archive_entry_size (e);

        out = xzalloc (n + 1);
        assert_int_equal (archive_read_data (a, out, n), (la_ssize_t) n);
      }
  archive_read_free (a);
  if (out == NULL)
    fail_msg ("no '%s' in '%s'", name, path);
  return out;
}

static void
test_docker_archive (void **state)
{
  struct fixture *f = *state;
  char *listing = write_twice (f, layout_write_docker_archive, "bale-test:v1");
  char *path = xasprintf ("%s/one.tar", f->dir);
  char *manifest = tar_member (path, "manifest.json");
  char *repos = tar_member (path, "repositories");
  char *expected;

  assert_non_null (strstr (listing, "index.json\nmanifest.json\noci-layout\nrepositories\n"));
  expected = xasprintf ("[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[\"bale-test:v1\"],"
                        "\"Layers\":[\"blobs/sha256/%s\"]}]\n",
                        digest_hex (f->config_digest), digest_hex (f->layer_digest));
  assert_string_equal (manifest, expected);
  free (expected);
  expected = xasprintf ("{\"bale-test\":{\"v1\":\"%s\"}}\n", digest_hex (f->layer_digest));
  assert_string_equal (repos, expected);
  free (expected);
  free (manifest);
  free (repos);
  free (listing);

  /* Untagged: RepoTags is null and there is no repositories file. */
  listing = write_twice (f, layout_write_docker_archive, NULL);
  assert_null (strstr (listing, "repositories"));
  manifest = tar_member (path, "manifest.json");
  assert_non_null (strstr (manifest, "\"RepoTags\":null"));
  free (manifest);
  free (listing);
  free (path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_digest_vectors),
    cmocka_unit_test (test_digest_file),
    cmocka_unit_test (test_digest_validate),
    cmocka_unit_test (test_canon_html_escapes),
    cmocka_unit_test (test_canon_control_escapes),
    cmocka_unit_test (test_canon_invalid_utf8),
    cmocka_unit_test (test_canon_structure),
    cmocka_unit_test (test_canon_reals),
    cmocka_unit_test (test_canon_sort_keys),
    cmocka_unit_test (test_platform_table),
    cmocka_unit_test (test_platform_host),
    cmocka_unit_test (test_descriptor),
    cmocka_unit_test (test_manifest_and_index),
    cmocka_unit_test (test_config_scratch),
    cmocka_unit_test (test_config_normalize),
    cmocka_unit_test (test_config_normalize_is_a_copy),
    cmocka_unit_test (test_refs),
    cmocka_unit_test_setup_teardown (test_layout_dir, fixture_setup, fixture_teardown),
    cmocka_unit_test_setup_teardown (test_layout_dir_tags, fixture_setup, fixture_teardown),
    cmocka_unit_test_setup_teardown (test_layout_bad_blob, fixture_setup, fixture_teardown),
    cmocka_unit_test_setup_teardown (test_oci_archive, fixture_setup, fixture_teardown),
    cmocka_unit_test_setup_teardown (test_docker_archive, fixture_setup, fixture_teardown),
  };

  return cmocka_run_group_tests_name ("oci", tests, NULL, NULL);
}
