/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the registry client: challenges, credentials, references, URLs, redirect rules. */
#include <config.h>

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

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/registry/http.h"
#include "runtime/registry/registry.h"
#include "tests/testutil.h"
#include "common/banned.h"

#define D64 "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static char tmpdir[] = "/tmp/bale-test-registry.XXXXXX";

static int
setup (void **state)
{
  return mkdtemp (tmpdir) ? 0 : -1;
}

static int
teardown (void **state)
{
  cleanup_free char *cmd = xasprintf ("rm -rf '%s'", tmpdir);
  return system (cmd) == 0 ? 0 : -1;
}

static void
write_file (const char *path, const char *text, mode_t mode)
{
  FILE *f = fopen (path, "w");

  assert_non_null (f);
  fputs (text, f);
  fclose (f);
  chmod (path, mode);
}

/* ---- challenges --------------------------------------------------------------------------- */

static void
test_challenge_bearer (void **state)
{
  struct registry_challenge c;
  bale_error_t err = NULL;

  assert_int_equal (registry_challenge_parse (
                        "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                        "scope=\"repository:samalba/my-app:pull,push\"",
                        &c, &err),
                    0);
  assert_string_equal (c.scheme, "Bearer");
  assert_string_equal (c.realm, "https://auth.docker.io/token");
  assert_string_equal (c.service, "registry.docker.io");
  assert_string_equal (c.scope, "repository:samalba/my-app:pull,push");
  assert_null (c.error);
  registry_challenge_release (&c);
}

static void
test_challenge_quoting (void **state)
{
  struct registry_challenge c;
  bale_error_t err = NULL;

  /* Commas inside quotes, \-escapes, spaces around '=', a token value, any case. */
  assert_int_equal (registry_challenge_parse ("bearer  realm = \"https://t/x?a=1,2\" , "
                                              "service=\"s\\\"q\",error=insufficient_scope",
                                              &c, &err),
                    0);
  assert_string_equal (c.scheme, "bearer");
  assert_string_equal (c.realm, "https://t/x?a=1,2");
  assert_string_equal (c.service, "s\"q");
  assert_string_equal (c.error, "insufficient_scope");
  assert_null (c.scope);
  registry_challenge_release (&c);
}

static void
test_challenge_several (void **state)
{
  struct registry_challenge c;
  bale_error_t err = NULL;

  assert_int_equal (registry_challenge_parse ("Basic realm=\"r\", Bearer realm=\"https://t\","
                                              "service=\"s\"",
                                              &c, &err),
                    0);
  assert_string_equal (c.scheme, "Bearer");
  assert_string_equal (c.realm, "https://t");
  registry_challenge_release (&c);
  assert_int_equal (registry_challenge_parse ("Basic realm=\"Registry Realm\"", &c, &err), 0);
  assert_string_equal (c.scheme, "Basic");
  assert_string_equal (c.realm, "Registry Realm");
  registry_challenge_release (&c);
}

static void
test_challenge_invalid (void **state)
{
  static const char *const bad[] = { "", "   ", "Bearer realm=\"unterminated", "Bearer realm=",
                                     "\"quoted\"" };
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct registry_challenge c;
      bale_error_t err = NULL;

      if (registry_challenge_parse (bad[i], &c, &err) == 0)
        {
          registry_challenge_release (&c);
          test_fail ("'%s' parsed", bad[i]);
        }
      assert_non_null (err);
      bale_error_release (&err);
    }
}

/* ---- references and URLs ------------------------------------------------------------------ */

static void
check_ref (const char *in, const char *want_string, const char *want_url, const char *const *insecure)
{
  struct oci_ref r;
  bale_error_t err = NULL;
  cleanup_free char *s = NULL, *url = NULL;

  if (oci_ref_parse (in, OCI_REF_DIGEST, &r, &err) < 0)
    {
      cleanup_free char *text = test_format_errors (err);
      bale_error_release (&err);
      test_fail ("'%s': %s", in, text);
    }
  s = oci_ref_full (&r);
  url = registry_url (&r, "manifests", r.digest ? r.digest : r.tag, insecure);
  oci_ref_release (&r);
  if (strcmp (s, want_string) != 0 || strcmp (url, want_url) != 0)
    test_fail ("'%s': got '%s' and '%s'", in, s, url);
}

static void
test_refs_and_urls (void **state)
{
  static const char *const insecure[] = { "reg.example.com:5000", "plain.example", NULL };

  check_ref ("busybox", "docker.io/library/busybox:latest",
             "https://registry-1.docker.io/v2/library/busybox/manifests/latest", NULL);
  check_ref ("docker.io/tianon/true:1", "docker.io/tianon/true:1",
             "https://registry-1.docker.io/v2/tianon/true/manifests/1", NULL);
  check_ref ("index.docker.io/library/debian:12", "docker.io/library/debian:12",
             "https://registry-1.docker.io/v2/library/debian/manifests/12", NULL);
  check_ref ("ghcr.io/a/b/c:v2", "ghcr.io/a/b/c:v2", "https://ghcr.io/v2/a/b/c/manifests/v2", NULL);
  check_ref ("localhost:5000/x", "localhost:5000/x:latest",
             "http://localhost:5000/v2/x/manifests/latest", NULL);
  check_ref ("127.0.0.1:5000/x@" D64, "127.0.0.1:5000/x@" D64,
             "http://127.0.0.1:5000/v2/x/manifests/" D64, NULL);
  check_ref ("reg.example.com:5000/x:1@" D64, "reg.example.com:5000/x:1",
             "http://reg.example.com:5000/v2/x/manifests/" D64, insecure);
  check_ref ("reg.example.com:5001/x:1", "reg.example.com:5001/x:1",
             "https://reg.example.com:5001/v2/x/manifests/1", insecure);
  check_ref ("plain.example:8080/x:1", "plain.example:8080/x:1",
             "http://plain.example:8080/v2/x/manifests/1", insecure);
}

static void
test_refs_invalid (void **state)
{
  static const char *const bad[] = { "busybox@sha256:abc", "busybox@md5:0123", "x/UPPER",
                                     "x:bad tag", "" };
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct oci_ref r;
      bale_error_t err = NULL;

      if (oci_ref_parse (bad[i], OCI_REF_DIGEST, &r, &err) == 0)
        {
          oci_ref_release (&r);
          test_fail ("'%s' parsed", bad[i]);
        }
      bale_error_release (&err);
    }
}

static void
test_insecure_rule (void **state)
{
  static const char *const list[] = { "my.reg", NULL };

  assert_true (registry_is_insecure ("localhost", NULL));
  assert_true (registry_is_insecure ("localhost:5000", NULL));
  assert_true (registry_is_insecure ("127.0.0.1:1234", NULL));
  assert_true (registry_is_insecure ("[::1]:5000", NULL));
  assert_false (registry_is_insecure ("127.0.0.2:5000", NULL));
  assert_false (registry_is_insecure ("localhost.evil.com", NULL));
  assert_true (registry_is_insecure ("my.reg:443", list));
  assert_false (registry_is_insecure ("my.reg.evil", list));
  {
    cleanup_free char *h = registry_host ("docker.io");
    assert_string_equal (h, "registry-1.docker.io");
  }
}

/* ---- redirects ---------------------------------------------------------------------------- */

static void
test_same_origin (void **state)
{
  assert_true (http_same_origin ("https://r.io/v2/x", "https://r.io:443/other?q=1"));
  assert_true (http_same_origin ("http://R.io:5000/a", "http://r.io:5000/b"));
  assert_false (http_same_origin ("https://r.io/v2/x", "http://r.io/v2/x"));
  assert_false (http_same_origin ("https://r.io/v2/x", "https://s3.amazonaws.com/bucket/x"));
  assert_false (http_same_origin ("https://r.io/v2/x", "https://r.io:444/v2/x"));
  assert_false (http_same_origin ("http://127.0.0.1:5000/x", "http://localhost:5000/x"));
  assert_false (http_same_origin ("https://r.io/", "not a url"));
}

static void
test_url_resolve (void **state)
{
  static const char *const cases[][3] = {
    { "http://h:5/v2/x/blobs/uploads/", "/v2/x/blobs/uploads/u?_state=1",
      "http://h:5/v2/x/blobs/uploads/u?_state=1" },
    { "https://h/v2/x/blobs/d", "https://cdn.example/p?sig=a%2Fb", "https://cdn.example/p?sig=a%2Fb" },
    { "https://h/v2/x/blobs/uploads/", "u2", "https://h/v2/x/blobs/uploads/u2" },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      bale_error_t err = NULL;
      cleanup_free char *got = http_url_resolve (cases[i][0], cases[i][1], &err);

      assert_non_null (got);
      assert_string_equal (got, cases[i][2]);
    }
}

/* ---- credentials -------------------------------------------------------------------------- */

static int
lookup (const char *config, const char *domain, struct registry_creds *c)
{
  bale_error_t err = NULL;
  int ret = registry_creds_lookup (config, domain, c, &err);

  bale_error_release (&err);
  return ret;
}

static void
expect_creds (const char *config, const char *domain, const char *user, const char *secret)
{
  struct registry_creds c;
  int ret = lookup (config, domain, &c);

  if (ret != 1 || strcmp (c.username, user) != 0 || strcmp (c.secret, secret) != 0)
    test_fail ("%s: got %d '%s' '%s'", domain, ret, ret == 1 ? c.username : "",
               ret == 1 ? c.secret : "");
  registry_creds_release (&c);
}

static void
test_config_auths (void **state)
{
  cleanup_free char *cfg = xasprintf ("%s/auths.json", tmpdir);
  struct registry_creds c;

  write_file (cfg,
              "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnB3\"},"
              "\"http://reg.local:5000\":{\"auth\":\"dTpwOndpdGg6Y29sb25z\"},"
              "\"tok.example\":{\"identitytoken\":\"idt\"},"
              "\"empty.example\":{},"
              "\"bad.example\":{\"auth\":\"!!!\"}}}",
              0600);
  expect_creds (cfg, "docker.io", "hub", "pw");
  expect_creds (cfg, "reg.local:5000", "u", "p:with:colons");
  expect_creds (cfg, "tok.example", "<token>", "idt");
  assert_int_equal (lookup (cfg, "empty.example", &c), 0);
  assert_int_equal (lookup (cfg, "reg.local", &c), 0);
  assert_int_equal (lookup (cfg, "bad.example", &c), -1);
  assert_int_equal (lookup ("/nonexistent/config.json", "docker.io", &c), 0);
  write_file (cfg, "[1]", 0600);
  assert_int_equal (lookup (cfg, "docker.io", &c), -1);
}

static void
test_config_helpers (void **state)
{
  cleanup_free char *cfg = xasprintf ("%s/helpers.json", tmpdir);
  cleanup_free char *bin = xasprintf ("%s/bin", tmpdir);
  cleanup_free char *fake = xasprintf ("%s/docker-credential-fake", bin);
  cleanup_free char *none = xasprintf ("%s/docker-credential-none", bin);
  cleanup_free char *broken = xasprintf ("%s/docker-credential-broken", bin);
  cleanup_free char *old = xstrdup (getenv ("PATH"));
  cleanup_free char *path = xasprintf ("%s:%s", bin, old);
  struct registry_creds c;

  assert_int_equal (mkdir (bin, 0700), 0);
  /* The helper echoes the server it was asked about, to check what went to its stdin. */
  write_file (fake,
              "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r s\n"
              "printf '{\"ServerURL\":\"%s\",\"Username\":\"u-%s\",\"Secret\":\"pw\"}' \"$s\" \"$s\"\n",
              0700);
  write_file (none, "#!/bin/sh\necho 'credentials not found in native keychain'\nexit 1\n", 0700);
  write_file (broken, "#!/bin/sh\necho boom\nexit 7\n", 0700);
  write_file (cfg,
              "{\"credsStore\":\"fake\",\"credHelpers\":{\"none.io\":\"none\",\"broken.io\":\"broken\"},"
              "\"auths\":{\"none.io\":{\"auth\":\"aHViOnB3\"}}}",
              0600);
  setenv ("PATH", path, 1);
  expect_creds (cfg, "docker.io", "u-https://index.docker.io/v1/", "pw");
  expect_creds (cfg, "ghcr.io", "u-ghcr.io", "pw");
  assert_int_equal (lookup (cfg, "none.io", &c), 0);
  assert_int_equal (lookup (cfg, "broken.io", &c), -1);
  write_file (cfg, "{\"credsStore\":\"missing-helper\"}", 0600);
  assert_int_equal (lookup (cfg, "ghcr.io", &c), -1);
  setenv ("PATH", old, 1);
}

static void
test_config_store (void **state)
{
  cleanup_free char *cfg = xasprintf ("%s/new/dir/config.json", tmpdir);
  cleanup_free char *dir = xasprintf ("%s/new", tmpdir), *dir2 = xasprintf ("%s/new/dir", tmpdir);
  struct registry_creds in = { (char *) "me", (char *) "s3cret" }, c;
  bale_error_t err = NULL;
  struct stat st;

  assert_int_equal (mkdir (dir, 0700), 0);
  assert_int_equal (registry_creds_store (cfg, "reg.io:5000", &in, &err), 0);
  assert_int_equal (registry_creds_store (cfg, "docker.io", &in, &err), 0);
  assert_int_equal (stat (cfg, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  assert_int_equal (stat (dir2, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0700);
  expect_creds (cfg, "reg.io:5000", "me", "s3cret");
  expect_creds (cfg, "docker.io", "me", "s3cret");
  {
    cleanup_free char *text = test_read_file (cfg, NULL);
    assert_non_null (strstr (text, "\"https://index.docker.io/v1/\""));
    assert_non_null (strstr (text, "\"bWU6czNjcmV0\""));
  }
  assert_int_equal (registry_creds_store (cfg, "reg.io:5000", NULL, &err), 0);
  assert_int_equal (lookup (cfg, "reg.io:5000", &c), 0);
  expect_creds (cfg, "docker.io", "me", "s3cret");
  assert_int_equal (registry_creds_store (cfg, "reg.io:5000", NULL, &err), -1);
  assert_non_null (strstr (err->msg, "not logged in"));
  bale_error_release (&err);
}

static void
test_config_store_helper (void **state)
{
  cleanup_free char *cfg = xasprintf ("%s/store-helper.json", tmpdir);
  cleanup_free char *bin = xasprintf ("%s/bin2", tmpdir);
  cleanup_free char *helper = xasprintf ("%s/docker-credential-keep", bin);
  cleanup_free char *kept = xasprintf ("%s/kept", tmpdir);
  cleanup_free char *old = xstrdup (getenv ("PATH"));
  cleanup_free char *path = xasprintf ("%s:%s", bin, old);
  cleanup_free char *script = NULL;
  struct registry_creds in = { (char *) "me", (char *) "pw" }, c;
  bale_error_t err = NULL;

  assert_int_equal (mkdir (bin, 0700), 0);
  /* A keychain of one entry in a file: store keeps stdin, get prints it, erase drops it. */
  script = xasprintf ("#!/bin/sh\ncase \"$1\" in\n"
                      "store) cat > '%s' ;;\n"
                      "get) read -r s; [ -f '%s' ] && cat '%s' || { echo 'credentials not found in native keychain'; exit 1; } ;;\n"
                      "erase) read -r s; [ -f '%s' ] || { echo 'credentials not found in native keychain'; exit 1; }; rm '%s' ;;\n"
                      "esac\n",
                      kept, kept, kept, kept, kept);
  write_file (helper, script, 0700);
  write_file (cfg, "{\"credsStore\":\"keep\",\"auths\":{\"reg.io\":{\"auth\":\"aHViOnB3\"}}}", 0600);
  setenv ("PATH", path, 1);
  assert_int_equal (registry_creds_store (cfg, "reg.io", &in, &err), 0);
  expect_creds (cfg, "reg.io", "me", "pw");
  {
    /* The secret is in the helper only; the config lists the registry with no "auth". */
    cleanup_free char *text = test_read_file (cfg, NULL);
    assert_null (strstr (text, "aHViOnB3"));
    assert_non_null (strstr (text, "\"reg.io\": {}"));
  }
  assert_int_equal (registry_creds_store (cfg, "reg.io", NULL, &err), 0);
  assert_int_equal (lookup (cfg, "reg.io", &c), 0);
  assert_int_equal (registry_creds_store (cfg, "reg.io", NULL, &err), -1);
  assert_non_null (strstr (err->msg, "not logged in"));
  bale_error_release (&err);
  setenv ("PATH", old, 1);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void
test_base64 (void **state)
{
  cleanup_free char *a = registry_base64 ("user:secret", 11), *b = registry_base64 ("", 0);
  cleanup_free char *c = registry_base64 ("ab", 2);

  assert_string_equal (a, "dXNlcjpzZWNyZXQ=");
  assert_string_equal (b, "");
  assert_string_equal (c, "YWI=");
}

static int
job (void *ctx, size_t i, bale_error_t *err)
{
  int *seen = ctx;

  __atomic_add_fetch (&seen[i], 1, __ATOMIC_SEQ_CST);
  return i == 7 ? bale_make_error (err, 0, "job %zu failed", i) : 0;
}

static void
test_parallel (void **state)
{
  int seen[20] = { 0 };
  bale_error_t err = NULL;
  size_t i;

  assert_int_equal (registry_parallel (7, 3, job, seen, &err), 0);
  for (i = 0; i < 7; i++)
    assert_int_equal (seen[i], 1);
  assert_int_equal (registry_parallel (20, 4, job, seen, &err), -1);
  assert_string_equal (err->msg, "job 7 failed");
  assert_int_equal (bale_error_count (err), 1);
  bale_error_release (&err);
  assert_int_equal (registry_parallel (0, 4, job, seen, &err), 0);
}

static void
test_http_error (void **state)
{
  struct http_response resp = { .status = 404, .body = STRBUF_INIT };
  bale_error_t err = NULL;

  strbuf_addstr (&resp.body, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                             "unknown\"},{\"code\":\"NAME_UNKNOWN\"}]}");
  assert_true (registry_http_error ("manifest v1 of 'r.io/a/b'", &resp, &err) < 0);
  assert_string_equal (err->msg, "manifest v1 of 'r.io/a/b': HTTP status 404: MANIFEST_UNKNOWN "
                                 "manifest unknown; NAME_UNKNOWN");
  assert_int_equal (err->status, 0);
  bale_error_release (&err);
  http_response_release (&resp);
}

static void
test_fetch_bad_checksum (void **state)
{
  struct http_fetch_result r;
  bale_error_t err = NULL;

  /* Refused before any connection is attempted. */
  assert_int_equal (http_fetch ("http://127.0.0.1:1/x", 1, "sha256:short", &r, &err), -1);
  assert_non_null (strstr (err->msg, "invalid checksum"));
  bale_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_challenge_bearer),
    cmocka_unit_test (test_challenge_quoting),
    cmocka_unit_test (test_challenge_several),
    cmocka_unit_test (test_challenge_invalid),
    cmocka_unit_test (test_refs_and_urls),
    cmocka_unit_test (test_refs_invalid),
    cmocka_unit_test (test_insecure_rule),
    cmocka_unit_test (test_same_origin),
    cmocka_unit_test (test_url_resolve),
    cmocka_unit_test (test_config_auths),
    cmocka_unit_test (test_config_helpers),
    cmocka_unit_test (test_config_store),
    cmocka_unit_test (test_config_store_helper),
    cmocka_unit_test (test_base64),
    cmocka_unit_test (test_parallel),
    cmocka_unit_test (test_http_error),
    cmocka_unit_test (test_fetch_bad_checksum),
  };

  return cmocka_run_group_tests_name ("registry", tests, setup, teardown);
}
