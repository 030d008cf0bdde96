/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The start checks of `bale explain` over a real directory tree used as an image root. */
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
#include "runtime/sandbox/startcheck.h"
#include "tests/testutil.h"

static char root[] = "/tmp/bale-startcheck.XXXXXX";
static int root_fd = -1;

static void
put (const char *rel, const char *content, mode_t mode)
{
  char *p = xasprintf ("%s/%s", root, rel);
  FILE *f = fopen (p, "w");

  assert_non_null (f);
  fputs (content, f);
  fclose (f);
  assert_int_equal (chmod (p, mode), 0);
  free (p);
}

static void
dir (const char *rel, mode_t mode)
{
  char *p = xasprintf ("%s/%s", root, rel);
  assert_int_equal (mkdir (p, mode), 0);
  assert_int_equal (chmod (p, mode), 0);
  free (p);
}

static void
copy_host (const char *from, const char *rel)
{
  char *cmd = xasprintf ("cp %s %s/%s", from, root, rel);
  assert_int_equal (system (cmd), 0);
  free (cmd);
}

static void
ln (const char *target, const char *rel)
{
  assert_int_equal (test_ln (root, target, rel), 0);
}

static int
setup (void **state)
{
  (void) state;
  assert_non_null (mkdtemp (root));
  assert_int_equal (chmod (root, 0755), 0); /* an image's / */
  dir ("bin", 0755);
  dir ("etc", 0755);
  dir ("app", 0755);
  dir ("secret", 0700);
  copy_host ("/bin/busybox", "bin/busybox");
  ln ("busybox", "bin/sh");
  ln ("/bin/busybox", "bin/echo");
  copy_host ("/usr/bin/true", "bin/dyn");
  /* The host has /usr/bin/true; the image has no /usr: the link must not reach the host's. */
  ln ("/usr/bin/true", "bin/hosttrue");
  put ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n", 0644);
  put ("etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\n", 0644);
  put ("app/tool", "#!/bin/sh\necho \"$@\"\n", 0755);
  put ("app/entry", "#!/bin/sh\nexec \"$@\"\n", 0755);
  put ("app/noexec", "#!/bin/sh\n", 0644);
  put ("app/owner-only", "#!/bin/sh\n", 0744);
  put ("app/staff", "#!/bin/sh\n", 0750);
  {
    char *staff = xasprintf ("%s/app/staff", root);
    assert_int_equal (chown (staff, 0, 50), 0);
    free (staff);
  }
  put ("app/bad", "#!/nope/sh\n", 0755);
  put ("app/crlf", "#!/bin/sh\r\necho\r\n", 0755);
  put ("app/blank", "#!   \n", 0755);
  put ("app/plain", "echo no shebang\n", 0755);
  put ("app/relinterp", "#!bin/sh\n", 0755);
  put ("secret/tool", "#!/bin/sh\n", 0755);
  for (int i = 0; i < 7; i++)
    {
      char rel[32], text[32];
      snprintf (rel, sizeof rel, "app/c%d", i);
      if (i < 6)
        snprintf (text, sizeof text, "#!/app/c%d\n", i + 1);
      else
        snprintf (text, sizeof text, "#!/bin/sh\n");
      put (rel, text, 0755);
    }
  root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true (root_fd >= 0);
  return 0;
}

static int
teardown (void **state)
{
  char *cmd = xasprintf ("rm -rf %s", root);

  (void) state;
  close (root_fd);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  return 0;
}

/* Check argv (NULL-terminated) and compare "outcome status error". */
static void
expect (const char *user, const char *workdir, const char *path, const char *want, ...)
{
  const char *argv[8];
  size_t n = 0;
  struct startcheck_in in = { argv, 0, path, workdir, user };
  json_t *out = NULL;
  bale_error_t err = NULL;
  char *got;
  va_list ap;

  va_start (ap, want);
  while (n < 7 && (argv[n] = va_arg (ap, const char *)))
    n++;
  va_end (ap);
  in.n_argv = n;
  assert_int_equal (startcheck_run (root_fd, &in, &out, &err), 0);
  got = xasprintf ("%s %lld %s", json_string_value (json_object_get (out, "outcome")),
                   json_integer_value (json_object_get (out, "exit_status")),
                   json_string_value (json_object_get (out, "error")) ?: "-");
  if (strcmp (got, want) != 0)
    {
      char *dump = json_dumps (out, JSON_INDENT (1));
      print_error ("%s\n", dump);
      free (dump);
    }
  assert_string_equal (got, want);
  free (got);
  json_decref (out);
}

static void
test_lookup (void **state)
{
  (void) state;
  expect (NULL, NULL, NULL, "starts 0 -", "echo", "hi", NULL);
  expect (NULL, NULL, NULL, "fails 127 exec: \"Welcome\": executable file not found in $PATH", "Welcome", NULL);
  expect (NULL, NULL, "", "fails 127 exec: \"echo\": executable file not found in $PATH", "echo", NULL);
  expect (NULL, NULL, NULL, "fails 127 exec: \"\": executable file not found in $PATH", "", NULL);
  expect (NULL, NULL, NULL, "fails 127 exec: \"/nope\": stat /nope: no such file or directory", "/nope", NULL);
  expect (NULL, NULL, NULL, "fails 126 exec: \"/etc\": permission denied", "/etc", NULL);
  expect (NULL, NULL, NULL, "fails 126 exec: \"/app/noexec\": permission denied", "/app/noexec", NULL);
  expect (NULL, "/app", NULL, "starts 0 -", "./tool", NULL);
  expect (NULL, NULL, NULL, "fails 127 exec: \"./tool\": stat ./tool: no such file or directory", "./tool", NULL);
  expect (NULL, "/app", ".:/bin", "fails 125 exec: \"tool\": cannot run executable found relative to current directory", "tool", NULL);
  expect (NULL, NULL, "/app", "starts 0 -", "tool", NULL);
  expect (NULL, NULL, NULL, "fails 125 exec: \"/etc/passwd/x\": stat /etc/passwd/x: not a directory", "/etc/passwd/x", NULL);
}

static void
test_in_root (void **state)
{
  (void) state;
  /* Absolute symlinks lead into the image, never to the host's file. */
  expect (NULL, NULL, NULL, "fails 127 exec: \"/bin/hosttrue\": stat /bin/hosttrue: no such file or directory", "/bin/hosttrue", NULL);
  expect (NULL, NULL, NULL, "starts 0 -", "/bin/echo", NULL);
  expect (NULL, "/../../..", NULL, "starts 0 -", "../bin/echo", NULL);
}

static void
test_users (void **state)
{
  (void) state;
  expect ("app", NULL, NULL, "starts 0 -", "/app/tool", NULL);
  expect ("nosuch", NULL, NULL, "fails 125 unable to find user nosuch: no matching entries in passwd file", "/app/tool", NULL);
  expect ("app:nosuch", NULL, NULL, "fails 125 unable to find group nosuch: no matching entries in group file", "/app/tool", NULL);
  expect ("4242:4242", NULL, NULL, "starts 0 -", "/app/tool", NULL);
  expect ("app", NULL, NULL, "fails 126 exec /app/owner-only: permission denied", "/app/owner-only", NULL);
  expect (NULL, NULL, NULL, "starts 0 -", "/app/owner-only", NULL);
  /* Supplementary groups only without an explicit group, as runc. */
  expect ("app", NULL, NULL, "starts 0 -", "/app/staff", NULL);
  expect ("app:app", NULL, NULL, "fails 126 exec /app/staff: permission denied", "/app/staff", NULL);
  expect ("app", NULL, NULL, "fails 126 exec: \"/secret/tool\": stat /secret/tool: permission denied", "/secret/tool", NULL);
  expect (NULL, "/etc/passwd", NULL, "fails 125 Cannot mkdir: /etc/passwd is not a directory", "echo", NULL);
  expect (NULL, "/new/dir", NULL, "starts 0 -", "echo", NULL);
  expect (NULL, "rel", NULL, "fails 125 the working directory 'rel' is invalid, it needs to be an absolute path", "echo", NULL);
}

static void
test_exec (void **state)
{
  (void) state;
  expect (NULL, NULL, NULL, "fails 1 exec /app/bad: no such file or directory", "/app/bad", NULL);
  expect (NULL, NULL, NULL, "fails 1 exec /app/crlf: no such file or directory", "/app/crlf", NULL);
  expect (NULL, NULL, NULL, "fails 1 exec /app/blank: exec format error", "/app/blank", NULL);
  expect (NULL, NULL, NULL, "fails 1 exec /app/plain: exec format error", "/app/plain", NULL);
  expect (NULL, NULL, NULL, "fails 1 exec /bin/dyn: no such file or directory", "/bin/dyn", NULL);
  expect (NULL, "/", NULL, "starts 0 -", "/app/relinterp", NULL);
  expect (NULL, "/app", NULL, "fails 1 exec /app/relinterp: no such file or directory", "/app/relinterp", NULL);
  /* Five scripts before the binary is the kernel's limit; six is ELOOP. */
  expect (NULL, NULL, NULL, "starts 0 -", "/app/c2", NULL);
  expect (NULL, NULL, NULL, "fails 1 exec /app/c1: too many levels of symbolic links", "/app/c1", NULL);
  expect (NULL, NULL, NULL, "fails 125 No command specified", NULL);
}

static void
test_docker_status (void **state)
{
  (void) state;
  assert_int_equal (startcheck_docker_status ("exec: \"x\": executable file not found in $PATH"), 127);
  assert_int_equal (startcheck_docker_status ("exec /x: permission denied"), 126);
  assert_int_equal (startcheck_docker_status ("unable to find user x: no matching entries in passwd file"), 125);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_lookup),
    cmocka_unit_test (test_in_root),
    cmocka_unit_test (test_users),
    cmocka_unit_test (test_exec),
    cmocka_unit_test (test_docker_status),
  };
  return cmocka_run_group_tests_name ("startcheck", tests, setup, teardown);
}
