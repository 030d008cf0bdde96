/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/fsmeta and runtime/imgdiff: layer rules and difference lines. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/error.h"
#include "runtime/layer/fsmeta.h"
#include "runtime/layer/imgdiff.h"
#include "tests/layerutil.h"
#include "tests/testutil.h"
#include "common/banned.h"

#define SHA_1 "sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"
#define SHA_2 "sha256:d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35"

/* Finish t and apply it as the next layer of fs. */
static void
apply (struct fsmeta *fs, struct lt_tar *t)
{
  bale_error_t err = NULL;
  int fd = lt_tar_finish (t, NULL);

  if (fsmeta_apply_layer (fs, fd, "test layer", &err) < 0)
    test_fail ("%s", err->msg);
  close (fd);
}

/* The text `bale diff` prints for d is want; d is released. */
static void
assert_diff_text (struct imgdiff *d, const char *want)
{
  char *text = imgdiff_to_text (d);

  if (strcmp (text, want) != 0)
    test_fail ("got:\n%swant:\n%s", text, want);
  free (text);
  imgdiff_release (d);
}

static void
assert_files_diff (const struct fsmeta *a, const struct fsmeta *b, const char *want)
{
  struct imgdiff d = { 0 };

  imgdiff_files (&d, a, b);
  assert_diff_text (&d, want);
}

static void
base_layer (struct fsmeta *fs)
{
  struct lt_tar *t = lt_tar_new ("gzip");

  lt_tar_dir (t, "d", 0755);
  lt_tar_file (t, "d/a", "1", 0644);
  lt_tar_file (t, "d/b", "1", 0644);
  lt_tar_dir (t, "e", 0755);
  lt_tar_file (t, "e/x", "1", 0644);
  lt_tar_dir (t, "f", 0755);
  lt_tar_file (t, "f/x", "1", 0644);
  apply (fs, t);
}

static void
test_whiteouts (void **state)
{
  struct fsmeta *a = fsmeta_new (), *b = fsmeta_new ();
  struct lt_tar *t = lt_tar_new ("none");

  (void) state;
  base_layer (a);
  base_layer (b);
  lt_tar_file (t, "d/.wh.a", "", 0644);
  lt_tar_file (t, ".wh.e", "", 0644);
  lt_tar_dir (t, ".wh..wh.plnk", 0700); /* aufs bookkeeping: neither a file nor a whiteout */
  /* A whiteout hides only lower layers: d/b of this very layer stays, whatever the order. */
  lt_tar_file (t, "d/b", "2", 0644);
  lt_tar_file (t, "./d/.wh.b", "", 0644);
  apply (b, t);
  assert_files_diff (a, b,
                     "file /d/a: removed (file)\n"
                     "file /d/b: content " SHA_1 " -> " SHA_2 "\n"
                     "file /e: removed (directory)\n"
                     "file /e/x: removed (file)\n");
  assert_files_diff (a, a, "");
  fsmeta_free (a);
  fsmeta_free (b);
}

static void
test_opaque_and_replaced_dir (void **state)
{
  struct fsmeta *a = fsmeta_new (), *b = fsmeta_new ();
  struct lt_tar *t = lt_tar_new ("zstd");

  (void) state;
  base_layer (a);
  base_layer (b);
  lt_tar_dir (t, "d/", 0700);
  lt_tar_file (t, "d/.wh..wh..opq", "", 0644);
  lt_tar_file (t, "d/c", "1", 0644);
  /* A file where a directory was: what the directory held goes too. */
  lt_tar_file (t, "f", "2", 0644);
  lt_tar_file (t, "new\nline\\", "", 0644);
  apply (b, t);
  assert_files_diff (a, b,
                     "file /d: mode 0755 -> 0700\n"
                     "file /d/a: removed (file)\n"
                     "file /d/b: removed (file)\n"
                     "file /d/c: added (file)\n"
                     "file /f: type directory -> file\n"
                     "file /f: mode 0755 -> 0644\n"
                     "file /f/x: removed (file)\n"
                     "file /new\\x0aline\\x5c: added (file)\n");
  fsmeta_free (a);
  fsmeta_free (b);
}

static void
test_hardlinks (void **state)
{
  struct fsmeta *a = fsmeta_new (), *b = fsmeta_new (), *c = fsmeta_new ();
  struct lt_tar *t;
  int i;

  (void) state;
  for (i = 0; i < 2; i++)
    {
      t = lt_tar_new ("none");
      lt_tar_file (t, "a", "1", 0644);
      lt_tar_hardlink (t, "h", "a", NULL);
      apply (i == 0 ? a : b, t);
    }
  /* Rewriting the target in a later layer gives it a new inode: the link keeps the old data. */
  t = lt_tar_new ("none");
  lt_tar_file (t, "a", "2", 0644);
  apply (b, t);
  assert_files_diff (a, b, "file /a: content " SHA_1 " -> " SHA_2 "\n");
  t = lt_tar_new ("none");
  lt_tar_file (t, "a", "1", 0644);
  lt_tar_file (t, "h", "1", 0644);
  apply (c, t);
  assert_files_diff (a, c, "file /h: hardlink /a -> (none)\n");
  fsmeta_free (a);
  fsmeta_free (b);
  fsmeta_free (c);
}

/* One layer with what lt_tar cannot write: owners, nanosecond mtimes, xattrs. `second`
   picks the other value of each attribute. */
static void
attribute_layer (struct fsmeta *fs, bool second)
{
  struct lt_tar *t = lt_tar_new ("none");
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();
  bale_error_t err = NULL;
  int fd = lt_memfd ();

  lt_tar_char (t, "c", 1, second ? 5 : 3);
  lt_tar_symlink (t, "l", second ? "b" : "a");
  assert_int_equal (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
  assert_int_equal (archive_write_open_fd (a, fd), ARCHIVE_OK);
  archive_entry_set_pathname (e, "x");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_uid (e, second ? 1 : 0);
  archive_entry_set_gid (e, second ? 2 : 0);
  archive_entry_set_mtime (e, 5, second ? 5 : 0);
  archive_entry_xattr_add_entry (e, "user.k", second ? "w" : "v", 1);
  if (second)
    archive_entry_xattr_add_entry (e, "user.n", "z", 1);
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  archive_entry_free (e);
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  apply (fs, t);
  if (fsmeta_apply_layer (fs, fd, "attributes", &err) < 0)
    test_fail ("%s", err->msg);
  close (fd);
}

static void
test_attributes (void **state)
{
  struct fsmeta *a = fsmeta_new (), *b = fsmeta_new ();
  struct imgdiff d = { 0 };

  (void) state;
  attribute_layer (a, false);
  attribute_layer (b, true);
  assert_files_diff (a, b,
                     "file /c: device 1,3 -> 1,5\n"
                     "file /l: symlink a -> b\n"
                     "file /x: owner 0:0 -> 1:2\n"
                     "file /x: mtime 5 -> 5.000000005\n"
                     "file /x: xattr user.k 76 -> 77\n"
                     "file /x: xattr user.n (none) -> 7a\n");
  d.flags = IMGDIFF_IGNORE_TIMESTAMPS;
  imgdiff_files (&d, a, b);
  assert_int_equal (d.n, 5);
  imgdiff_release (&d);
  fsmeta_free (a);
  fsmeta_free (b);
}

static json_t *
config (const char *env_a, const char *label, const char *created)
{
  json_t *c = json_pack ("{s:s, s:s, s:s, s:{s:[s, s], s:{s:s}, s:n}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}",
                         "architecture", "amd64", "os", "linux", "created", created, "config",
                         "Env", "PATH=/bin", env_a, "Labels", "l", label, "Cmd", "rootfs",
                         "type", "layers", "diff_ids", SHA_1, "history", "created", created,
                         "created_by", "RUN x");

  assert_non_null (c);
  return c;
}

static void
assert_config_diff (const json_t *a, const json_t *b, unsigned flags, const char *want)
{
  struct imgdiff d = { 0 };

  d.flags = flags;
  imgdiff_configs (&d, a, b);
  assert_diff_text (&d, want);
}

static void
test_configs (void **state)
{
  json_t *a = config ("A=1", "x", "2023-01-01T00:00:00Z");
  json_t *b = config ("A=2", "x y", "2024-01-01T00:00:00Z");
  json_t *c = config ("A=1", "x", "2024-01-01T00:00:00Z");
  struct imgdiff d = { 0 };
  json_t *j, *want;

  (void) state;
  assert_config_diff (a, b, 0,
                      "config created: 2023-01-01T00:00:00Z -> 2024-01-01T00:00:00Z\n"
                      "config Env A: 1 -> 2\n"
                      "config Labels l: x -> \"x y\"\n"
                      "history[0] created: 2023-01-01T00:00:00Z -> 2024-01-01T00:00:00Z\n");
  assert_config_diff (a, b, IMGDIFF_IGNORE_TIMESTAMPS,
                      "config Env A: 1 -> 2\n"
                      "config Labels l: x -> \"x y\"\n");
  assert_config_diff (a, c, IMGDIFF_IGNORE_TIMESTAMPS, "");
  /* A field only one side has, a null that means absent, and a longer history. */
  json_object_set_new (json_object_get (c, "config"), "User", json_string ("app"));
  json_object_set_new (json_object_get (a, "config"), "Shell", json_null ());
  json_array_append_new (json_object_get (c, "history"),
                         json_pack ("{s:s, s:b}", "created_by", "ENV a=b", "empty_layer", 1));
  json_object_set_new (c, "os.version", json_string ("10"));
  assert_config_diff (a, c, IMGDIFF_IGNORE_TIMESTAMPS,
                      "config os.version: (none) -> 10\n"
                      "config User: (none) -> app\n"
                      "history[1] created_by: (none) -> \"ENV a=b\"\n"
                      "history[1] empty_layer: (none) -> true\n");
  d.flags = IMGDIFF_IGNORE_TIMESTAMPS;
  imgdiff_configs (&d, a, c);
  j = imgdiff_to_json (&d);
  assert_int_equal (json_array_size (j), 4);
  want = json_pack ("{s:s, s:i, s:s, s:n, s:s}", "kind", "history", "index", 1, "field",
                    "created_by", "a", "b", "ENV a=b");
  assert_true (json_equal (json_array_get (j, 2), want));
  json_decref (want);
  json_decref (j);
  imgdiff_release (&d);
  json_decref (a);
  json_decref (b);
  json_decref (c);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_whiteouts),
    cmocka_unit_test (test_opaque_and_replaced_dir),
    cmocka_unit_test (test_hardlinks),
    cmocka_unit_test (test_attributes),
    cmocka_unit_test (test_configs),
  };

  return cmocka_run_group_tests_name ("imgdiff", tests, NULL, NULL);
}
