/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's rules for setuid and its family as one-id mode emulates them (sandbox_ids.c). */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <seccomp.h>

#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

#define KEEP ((uint64_t) (uint32_t) -1)

static struct rt_sbx_cred
cred_of (uint32_t uid, uint32_t gid)
{
  struct rt_sbx_cred c = { .caps = uid == 0 ? RT_SBX_CAP_EFFECTIVE | RT_SBX_CAP_PERMITTED : 0 };
  for (int i = 0; i < 4; i++)
    {
      c.uid[i] = uid;
      c.gid[i] = gid;
    }
  return c;
}

static int
apply (const char *name, struct rt_sbx_cred *c, uint64_t a, uint64_t b, uint64_t d)
{
  uint64_t args[3] = { a, b, d };
  int64_t val;
  return rt_sbx_ids_apply (seccomp_syscall_resolve_name (name), args, c, &val);
}

/* apt's DropPrivileges: setresgid, setresuid to _apt, then root must be out of reach. */
static void
test_apt_drop (void **state)
{
  struct rt_sbx_cred c = cred_of (0, 0);

  (void) state;
  assert_int_equal (apply ("setresgid", &c, 65534, 65534, 65534), 0);
  assert_int_equal (apply ("setresuid", &c, 42, 42, 42), 0);
  assert_int_equal (c.uid[RT_SBX_FS], 42);
  assert_int_equal (c.gid[RT_SBX_FS], 65534);
  assert_int_equal (c.caps, 0);
  assert_int_equal (apply ("setgid", &c, 0, 0, 0), -EPERM);
  assert_int_equal (apply ("setuid", &c, 0, 0, 0), -EPERM);
  assert_int_equal (apply ("setresuid", &c, KEEP, 0, KEEP), -EPERM);
  assert_int_equal (apply ("setuid", &c, 42, 0, 0), 0); /* its own id */
}

/* seteuid keeps the saved root: back to root, capabilities included. */
static void
test_saved_root (void **state)
{
  struct rt_sbx_cred c = cred_of (0, 0);

  (void) state;
  assert_int_equal (apply ("setresuid", &c, KEEP, 1000, KEEP), 0);
  assert_int_equal (c.uid[RT_SBX_SAVED], 0);
  assert_int_equal (c.caps, RT_SBX_CAP_PERMITTED);
  assert_int_equal (apply ("setgid", &c, 5, 0, 0), -EPERM); /* no CAP_SETGID now */
  assert_int_equal (apply ("setresuid", &c, KEEP, 0, KEEP), 0);
  assert_int_equal (c.caps, RT_SBX_CAP_EFFECTIVE | RT_SBX_CAP_PERMITTED);
  /* setreuid with a real id sets the saved one to the new effective id. */
  assert_int_equal (apply ("setreuid", &c, 7, 8, 0), 0);
  assert_int_equal (c.uid[RT_SBX_REAL], 7);
  assert_int_equal (c.uid[RT_SBX_SAVED], 8);
  assert_int_equal (c.caps, 0);
}

/* An ordinary user: only among its own ids; setfsuid answers the old one. */
static void
test_ordinary (void **state)
{
  struct rt_sbx_cred c = cred_of (1000, 1000);
  uint64_t args[3] = { 0, 0, 0 };
  int64_t val = -1;

  (void) state;
  assert_int_equal (apply ("setuid", &c, 0, 0, 0), -EPERM);
  assert_int_equal (apply ("setresgid", &c, KEEP, 5, KEEP), -EPERM);
  assert_int_equal (apply ("setuid", &c, 1000, 0, 0), 0);
  assert_int_equal (rt_sbx_ids_apply (seccomp_syscall_resolve_name ("setfsuid"), args, &c, &val), 0);
  assert_int_equal (val, 1000);
  assert_int_equal (c.uid[RT_SBX_FS], 1000); /* 0 refused */
  assert_int_equal (apply ("getpid", &c, 0, 0, 0), -ENOSYS);
}

/* PR_SET_KEEPCAPS keeps the permitted set when the three uids leave 0 (setpriv). */
static void
test_keepcaps (void **state)
{
  struct rt_sbx_cred c = cred_of (0, 0);

  (void) state;
  c.caps |= RT_SBX_CAP_KEEP;
  assert_int_equal (apply ("setresuid", &c, 42, 42, 42), 0);
  assert_int_equal (c.caps & (RT_SBX_CAP_PERMITTED | RT_SBX_CAP_EFFECTIVE), RT_SBX_CAP_PERMITTED);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_apt_drop),
    cmocka_unit_test (test_saved_root),
    cmocka_unit_test (test_ordinary),
    cmocka_unit_test (test_keepcaps),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
