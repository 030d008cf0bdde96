/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for runtime/seccomp (Docker's default profile compiled with libseccomp) and the
 * sandbox options' parsers (--ulimit, --add-host, --shm-size). The filters are loaded in
 * forked children (as root: without no_new_privs the kernel wants CAP_SYS_ADMIN).
 */
#include <config.h>

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/error.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/sandbox/seccomp.h"

/* In a child that loaded prog: the errno of syscall nr (0 when it succeeded). */
static int
errno_under (const struct sock_fprog *prog, long nr, long a0, long a1)
{
  int status;
  pid_t pid = fork ();

  if (pid == 0)
    {
      long r;
      if (rt_seccomp_load (prog) < 0)
        _exit (255);
      r = syscall (nr, a0, a1, 0, 0, 0);
      _exit (r < 0 ? errno : 0);
    }
  assert_true (pid > 0);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_not_equal (WEXITSTATUS (status), 255);
  return WEXITSTATUS (status);
}

static void
test_default_caps (void **state)
{
  (void) state;
  /* CapEff of a root RUN step under docker build. */
  assert_int_equal (rt_default_caps, UINT64_C (0xa80425fb));
}

static void
test_default_filter (void **state)
{
  const struct sock_fprog *prog, *again;
  bale_error_t err = NULL;

  (void) state;
  assert_int_equal (rt_seccomp_default (&prog, &err), 0);
  assert_true (prog->len > 100);
  /* Compiled once: the same program every time. */
  assert_int_equal (rt_seccomp_default (&again, &err), 0);
  assert_ptr_equal (prog, again);
  assert_int_equal (errno_under (prog, SYS_getpid, 0, 0), 0);
  assert_int_equal (errno_under (prog, SYS_unshare, CLONE_NEWNS, 0), EPERM);
  assert_int_equal (errno_under (prog, SYS_keyctl, 0, -3), EPERM);
  assert_int_equal (errno_under (prog, SYS_clone3, 0, 0), ENOSYS);
  assert_int_equal (errno_under (prog, SYS_socket, 38 /* AF_ALG */, SOCK_SEQPACKET), EPERM);
  assert_int_equal (errno_under (prog, SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM), EPERM);
  assert_int_not_equal (errno_under (prog, SYS_socket, 39 /* AF_NFC */, SOCK_STREAM), EPERM);
  assert_int_equal (errno_under (prog, SYS_personality, 0xffffffffL, 0), 0);
  assert_int_equal (errno_under (prog, SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */, 0), EPERM);
  /* Above every number the profile names: ENOSYS (runc's stub); a newer call of the profile
     that libseccomp may not know (statmount, 457) is allowed. */
  assert_int_equal (errno_under (prog, 468, -1, 0), ENOSYS);
  assert_int_equal (errno_under (prog, 1000, 0, 0), ENOSYS);
  assert_int_equal (errno_under (prog, 457, 0, 0), EFAULT);
}

/* The capability conditions, as Docker applies them to the bounding set of the spec: with
   CAP_SYS_ADMIN, unshare and clone3 are allowed; with CAP_SYS_PTRACE, kcmp. */
static void
test_capability_rules (void **state)
{
  struct sock_fprog prog;
  bale_error_t err = NULL;

  (void) state;
  assert_int_equal (rt_seccomp_compile (rt_default_caps | CAPBIT (21 /* SYS_ADMIN */)
                                            | CAPBIT (19 /* SYS_PTRACE */),
                                        &prog, &err),
                    0);
  assert_int_equal (errno_under (&prog, SYS_unshare, 0, 0), 0);
  assert_int_not_equal (errno_under (&prog, SYS_clone3, 0, 0), ENOSYS);
  assert_int_not_equal (errno_under (&prog, SYS_kcmp, 0, 0), EPERM);
  free (prog.filter);
  assert_int_equal (rt_seccomp_compile (rt_default_caps, &prog, &err), 0);
  assert_int_equal (errno_under (&prog, SYS_kcmp, 0, 0), EPERM);
  /* CAP_SYS_CHROOT is a default capability: chroot is allowed. */
  assert_int_equal (errno_under (&prog, SYS_chroot, (long) "/", 0), 0);
  free (prog.filter);
}

static bool
same_program (const struct sock_fprog *a, const struct sock_fprog *b)
{
  return a->len == b->len && memcmp (a->filter, b->filter, a->len * sizeof *a->filter) == 0;
}

/* The program compiled when bale was built (seccomp_bpf.h) is, instruction for instruction,
   what libseccomp compiles here at run time for the same profile and capabilities, and it is
   the one every sandbox loads; other capability sets are still compiled at run time. */
static void
test_embedded_program (void **state)
{
  const struct sock_fprog *emb, *def;
  struct sock_fprog prog;
  const char *why = NULL;
  bale_error_t err = NULL;
  int kmajor, kminor;

  (void) state;
  if (!rt_seccomp_embedded (&emb, &why))
    fail_msg ("the program compiled with bale is not used on this machine: %s", why);
  assert_true (emb->len > 100);
  assert_int_equal (rt_seccomp_compile (rt_default_caps, &prog, &err), 0);
  assert_true (same_program (emb, &prog));
  free (prog.filter);
  assert_int_equal (rt_seccomp_default (&def, &err), 0);
  assert_ptr_equal (def, emb);
  /* What the generator compiles: for the profile's newest minKernel (ptrace's 4.8), which
     is older than this kernel; a kernel before it gets another program, which is why an
     older kernel compiles at run time instead. */
  rt_seccomp_profile_kernel (&kmajor, &kminor);
  assert_int_equal (kmajor, 4);
  assert_int_equal (kminor, 8);
  assert_int_equal (rt_seccomp_compile_for_kernel (rt_default_caps, 4, 8, &prog, &err), 0);
  assert_true (same_program (emb, &prog));
  free (prog.filter);
  assert_int_equal (rt_seccomp_compile_for_kernel (rt_default_caps, 4, 7, &prog, &err), 0);
  assert_false (same_program (emb, &prog));
  free (prog.filter);
  /* Another capability set is compiled at run time, and differs. */
  assert_int_equal (rt_seccomp_compile (rt_default_caps | CAPBIT (21 /* SYS_ADMIN */), &prog, &err), 0);
  assert_false (same_program (emb, &prog));
  assert_int_equal (errno_under (&prog, SYS_unshare, 0, 0), 0);
  free (prog.filter);
}

static void
test_parse_ulimit (void **state)
{
  struct sandbox_rlimit rl;
  bale_error_t err = NULL;

  (void) state;
  assert_int_equal (sandbox_parse_ulimit ("nofile=1024:2048", &rl, &err), 0);
  assert_int_equal (rl.resource, RLIMIT_NOFILE);
  assert_int_equal (rl.soft, 1024);
  assert_int_equal (rl.hard, 2048);
  assert_int_equal (sandbox_parse_ulimit ("nproc=-1", &rl, &err), 0);
  assert_true (rl.soft == RLIM_INFINITY && rl.hard == RLIM_INFINITY);
  assert_int_equal (sandbox_parse_ulimit ("core=0", &rl, &err), 0);
  assert_int_equal (rl.hard, 0);
  static const char *const bad[] = { "nofile", "as=1", "nofile=", "nofile=x", "nofile=2:1",
                                     "nofile=1:", "nofile=-2", "=1" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      assert_int_equal (sandbox_parse_ulimit (bad[i], &rl, &err), -1);
      bale_error_release (&err);
    }
}

static void
test_parse_host_and_size (void **state)
{
  char *name, *ip;
  uint64_t size;
  bale_error_t err = NULL;

  (void) state;
  assert_int_equal (sandbox_parse_host ("db:10.0.0.2", &name, &ip, &err), 0);
  assert_string_equal (name, "db");
  assert_string_equal (ip, "10.0.0.2");
  free (name);
  free (ip);
  assert_int_equal (sandbox_parse_host ("v6:::1", &name, &ip, &err), 0);
  assert_string_equal (ip, "::1");
  free (name);
  free (ip);
  assert_int_equal (sandbox_parse_host ("v6=[fe80::1]", &name, &ip, &err), 0);
  assert_string_equal (name, "v6");
  assert_string_equal (ip, "fe80::1");
  free (name);
  free (ip);
  static const char *const bad_hosts[] = { "db", ":1.2.3.4", "db:", "db:1.2.3",
                                           "db:host-gateway", "a b:1.2.3.4" };
  for (size_t i = 0; i < sizeof bad_hosts / sizeof *bad_hosts; i++)
    {
      assert_int_equal (sandbox_parse_host (bad_hosts[i], &name, &ip, &err), -1);
      bale_error_release (&err);
    }
  assert_int_equal (sandbox_parse_size ("64m", &size, &err), 0);
  assert_int_equal (size, 64 << 20);
  assert_int_equal (sandbox_parse_size ("1.5g", &size, &err), 0);
  assert_int_equal (size, 3ULL << 29);
  assert_int_equal (sandbox_parse_size ("512MiB", &size, &err), 0);
  assert_int_equal (size, 512 << 20);
  assert_int_equal (sandbox_parse_size ("1000", &size, &err), 0);
  assert_int_equal (size, 1000);
  static const char *const bad_sizes[] = { "", "m", "-1", "12q", "1mm", "0" };
  for (size_t i = 0; i < sizeof bad_sizes / sizeof *bad_sizes; i++)
    {
      assert_int_equal (sandbox_parse_size (bad_sizes[i], &size, &err), -1);
      bale_error_release (&err);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_caps),
    cmocka_unit_test (test_default_filter),
    cmocka_unit_test (test_capability_rules),
    cmocka_unit_test (test_embedded_program),
    cmocka_unit_test (test_parse_ulimit),
    cmocka_unit_test (test_parse_host_and_size),
  };
  return cmocka_run_group_tests_name ("seccomp", tests, NULL, NULL);
}
