/* SPDX-License-Identifier: GPL-2.0-or-later */
/* binfmt_lookup against a fake binfmt_misc directory: native platforms, a matching handler,
   one without the F flag, a disabled one, another architecture's, none mounted at all. */
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

#include "common/error.h"
#include "common/xalloc.h"
#include "common/oci/platform.h"
#include "runtime/sandbox/binfmt.h"
#include "tests/testutil.h"

/* Debian's qemu-aarch64 registration as the kernel shows it (flags: POF). */
static const char aarch64_entry[] = "enabled\n"
                                    "interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
                                    "flags: POF\n"
                                    "offset 0\n"
                                    "magic 7f454c460201010000000000000000000200b700\n"
                                    "mask ffffffffffffff00fffffffffffffffffeffffff\n";
static const char riscv_entry[] = "enabled\n"
                                  "interpreter /usr/libexec/qemu-binfmt/riscv64-binfmt-P\n"
                                  "flags: POF\n"
                                  "offset 0\n"
                                  "magic 7f454c460201010000000000000000000200f300\n"
                                  "mask ffffffffffffff00fffffffffffffffffeffffff\n";

static char *
fake_dir (const char *status, const char *name, const char *entry)
{
  char *d = xstrdup ("/tmp/bale-binfmt.XXXXXX");
  FILE *f;

  assert_non_null (mkdtemp (d));
  if (status)
    {
      char *p = xasprintf ("%s/status", d);
      assert_non_null (f = fopen (p, "w"));
      fputs (status, f);
      fclose (f);
      free (p);
    }
  if (name)
    {
      char *p = xasprintf ("%s/%s", d, name);
      assert_non_null (f = fopen (p, "w"));
      fputs (entry, f);
      fclose (f);
      free (p);
    }
  return d;
}

static void
rm_dir (char *d)
{
  char *cmd = xasprintf ("rm -rf '%s'", d);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  free (d);
}

/* binfmt_lookup of spec on an amd64 host with dir; *msg (may be NULL) gets the error. */
static int
lookup (const char *dir, const char *spec, char **msg, struct binfmt_handler *h)
{
  struct bale_platform host = { 0 }, pl = { 0 };
  bale_error_t e = NULL;
  int how;

  assert_int_equal (platform_parse ("linux/amd64", &host, &e), 0);
  assert_int_equal (platform_parse (spec, &pl, &e), 0);
  how = binfmt_lookup (dir, &host, &pl, h, &e);
  if (msg)
    *msg = e ? xstrdup (e->msg) : NULL;
  bale_error_release (&e);
  platform_release (&host);
  platform_release (&pl);
  return how;
}

static void
test_native (void **state)
{
  struct binfmt_handler h;
  (void) state;
  assert_int_equal (lookup ("/nonexistent", "linux/amd64", NULL, &h), BINFMT_NATIVE);
  assert_int_equal (lookup ("/nonexistent", "linux/386", NULL, &h), BINFMT_NATIVE);
}

static void
test_emulated (void **state)
{
  char *d = fake_dir ("enabled\n", "qemu-aarch64", aarch64_entry), *msg = NULL;
  struct binfmt_handler h;
  (void) state;
  assert_int_equal (lookup (d, "linux/arm64", &msg, &h), BINFMT_EMULATED);
  assert_null (msg);
  assert_string_equal (h.name, "qemu-aarch64");
  assert_string_equal (h.interpreter, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P");
  assert_string_equal (h.flags, "POF");
  binfmt_handler_release (&h);
  /* The aarch64 handler does not run riscv64 or 32-bit arm binaries. */
  assert_int_equal (lookup (d, "linux/riscv64", &msg, &h), BINFMT_NONE);
  assert_non_null (strstr (msg, "cannot run linux/riscv64 binaries"));
  assert_non_null (strstr (msg, "no binfmt_misc handler for riscv64"));
  assert_non_null (strstr (msg, "qemu-user-static"));
  free (msg);
  assert_int_equal (lookup (d, "linux/arm/v7", &msg, &h), BINFMT_NONE);
  free (msg);
  rm_dir (d);
}

static void
test_other_handler (void **state)
{
  char *d = fake_dir ("enabled\n", "qemu-riscv64", riscv_entry), *msg = NULL;
  struct binfmt_handler h;
  (void) state;
  assert_int_equal (lookup (d, "linux/riscv64", NULL, &h), BINFMT_EMULATED);
  binfmt_handler_release (&h);
  assert_int_equal (lookup (d, "linux/arm64", &msg, &h), BINFMT_NONE);
  assert_non_null (strstr (msg, "linux/arm64"));
  free (msg);
  rm_dir (d);
}

static void
test_no_fix_binary (void **state)
{
  char *entry = xstrdup (aarch64_entry), *d, *msg = NULL;
  struct binfmt_handler h;
  (void) state;
  memcpy (strstr (entry, "flags: POF"), "flags: PO ", 10);
  d = fake_dir ("enabled\n", "qemu-aarch64", entry);
  assert_int_equal (lookup (d, "linux/arm64", &msg, &h), BINFMT_NONE);
  assert_non_null (strstr (msg, "lacks the F (fix binary) flag"));
  free (msg);
  free (entry);
  rm_dir (d);
}

static void
test_disabled (void **state)
{
  char *entry = xstrdup (aarch64_entry), *d, *msg = NULL;
  struct binfmt_handler h;
  (void) state;
  memcpy (entry, "disabled", 8);
  d = fake_dir ("enabled\n", "qemu-aarch64", entry);
  assert_int_equal (lookup (d, "linux/arm64", &msg, &h), BINFMT_NONE);
  free (msg);
  rm_dir (d);
  /* binfmt_misc itself turned off. */
  d = fake_dir ("disabled\n", "qemu-aarch64", aarch64_entry);
  assert_int_equal (lookup (d, "linux/arm64", &msg, &h), BINFMT_NONE);
  assert_non_null (strstr (msg, "binfmt_misc is disabled"));
  free (msg);
  free (entry);
  rm_dir (d);
}

static void
test_not_mounted (void **state)
{
  char *d = fake_dir (NULL, NULL, NULL), *msg = NULL;
  struct binfmt_handler h;
  (void) state;
  assert_int_equal (lookup (d, "linux/arm64", &msg, &h), BINFMT_NONE);
  assert_non_null (strstr (msg, "binfmt_misc is not mounted"));
  assert_non_null (strstr (msg, "bale binfmt --install"));
  free (msg);
  rm_dir (d);
}

static void
test_qemu_names (void **state)
{
  (void) state;
  assert_string_equal (binfmt_qemu_arch ("arm64"), "aarch64");
  assert_string_equal (binfmt_qemu_arch ("amd64"), "x86_64");
  assert_string_equal (binfmt_qemu_arch ("mips64le"), "mips64el");
  assert_null (binfmt_qemu_arch ("wasm"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_native),        cmocka_unit_test (test_emulated),
    cmocka_unit_test (test_other_handler), cmocka_unit_test (test_no_fix_binary),
    cmocka_unit_test (test_disabled),      cmocka_unit_test (test_not_mounted),
    cmocka_unit_test (test_qemu_names),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
