/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pieces of rootless builds that need no namespace: /etc/subuid parsing, the override
   xattr's format and which ids an id map covers. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <cmocka.h>

#include "runtime/fs/owners.h"
#include "runtime/fs/rootless.h"

static void
subids_by_name_and_uid (void **state)
{
  struct rootless_range r[4];
  const char *text = "# comment\nother:100000:65536\nalice:165536:65536\n"
                     "1001:300000:10\nalice:bad:1\nalice:400000:0\nalice:500000:5";
  size_t n = rootless_parse_subids (text, "alice", 1001, r, 4);

  (void) state;
  assert_int_equal (n, 3);
  assert_int_equal (r[0].inside, 1);
  assert_int_equal (r[0].outside, 165536);
  assert_int_equal (r[0].count, 65536);
  /* The numeric entry counts as the user's too; inside ids follow each other. */
  assert_int_equal (r[1].inside, 65537);
  assert_int_equal (r[1].outside, 300000);
  assert_int_equal (r[1].count, 10);
  assert_int_equal (r[2].inside, 65547);
  assert_int_equal (r[2].outside, 500000);
  assert_int_equal (rootless_parse_subids (text, "bob", 7, r, 4), 0);
  assert_int_equal (rootless_parse_subids (text, "alice", 1001, r, 1), 1);
}

static void
override_format (void **state)
{
  struct stat st;

  (void) state;
  memset (&st, 0, sizeof st);
  assert_true (owners_parse ("0:5:0620:char-4-1", 17, &st));
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0620);
  assert_int_equal (st.st_gid, 5);
  assert_int_equal (major (st.st_rdev), 4);
  assert_int_equal (minor (st.st_rdev), 1);
  assert_true (owners_parse ("70000:70001:4755:file", 21, &st));
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (st.st_uid, 70000);
  assert_int_equal (st.st_mode & 07777, 04755);
  assert_true (owners_parse ("1:2:0755:dir", 12, &st));
  assert_true (S_ISDIR (st.st_mode));
  assert_true (owners_parse ("0:0:0600:block-7-0", 18, &st));
  assert_true (S_ISBLK (st.st_mode));
  /* Not ours: other types, bad numbers, trailing junk, modes beyond 07777. */
  assert_false (owners_parse ("0:0:0644:symlink", 16, &st));
  assert_false (owners_parse ("0:0:0644:file ", 14, &st));
  assert_false (owners_parse ("-1:0:0644:file", 14, &st));
  assert_false (owners_parse ("0:0:17777:file", 14, &st));
  assert_false (owners_parse ("0:0:0644:char-1", 15, &st));
  assert_false (owners_parse ("", 0, &st));
}

static void
map_coverage (void **state)
{
  /* bale's namespace for a user with two ranges: 0 is the user, then the ranges. */
  const char *map = "         0       1000          1\n         1     100000      65536\n"
                    "     65537     300000         10\n";

  (void) state;
  assert_true (rootless_map_covers (map, 0));
  assert_true (rootless_map_covers (map, 1));
  assert_true (rootless_map_covers (map, 65536));
  assert_true (rootless_map_covers (map, 65537));
  assert_true (rootless_map_covers (map, 65546));
  assert_false (rootless_map_covers (map, 65547));
  assert_false (rootless_map_covers (map, 70000));
  assert_false (rootless_map_covers ("0 1000 1\n", 1));
  assert_false (rootless_map_covers ("", 0));
  assert_true (rootless_map_covers ("0 0 4294967295\n", 4294967294u));
  assert_false (rootless_map_covers ("0 0 4294967295\n", 4294967295u));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (subids_by_name_and_uid),
    cmocka_unit_test (override_format),
    cmocka_unit_test (map_coverage),
  };
  return cmocka_run_group_tests_name ("rootless", tests, NULL, NULL);
}
