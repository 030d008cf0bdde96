/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The build's reaper (runtime/build/exec_reaper.c): what it is given goes, in the background
   or at once when it cannot take it, and nothing else. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
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

#include "common/dirwalk.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/exec_reaper.h"
#include "runtime/store/store.h"
#include "tests/testutil.h"

struct fixture
{
  char top[64];
  char dir[96];  /* the reaper's directory (a build's sandbox directory) */
  char work[96]; /* where the executor's scratch comes from */
};

static int
setup (void **state)
{
  struct fixture *f = xzalloc (sizeof *f);

  snprintf (f->top, sizeof f->top, "/tmp/bale-reaper-test.XXXXXX");
  assert_non_null (mkdtemp (f->top));
  snprintf (f->dir, sizeof f->dir, "%s/sandbox", f->top);
  snprintf (f->work, sizeof f->work, "%s/work", f->top);
  assert_int_equal (mkdir (f->dir, 0700), 0);
  assert_int_equal (mkdir (f->work, 0700), 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  bale_error_t e = NULL;

  dirwalk_remove (AT_FDCWD, f->top, f->top, &e);
  bale_error_release (&e);
  free (f);
  return 0;
}

static void
write_file (const char *path, const char *text)
{
  FILE *fp = fopen (path, "w");

  assert_non_null (fp);
  assert_int_equal (fputs (text, fp) >= 0, 1);
  assert_int_equal (fclose (fp), 0);
}

/* A tree of a few levels at path. */
static void
make_tree (const char *path)
{
  char p[256];

  assert_int_equal (mkdir (path, 0700), 0);
  snprintf (p, sizeof p, "%s/a", path);
  assert_int_equal (mkdir (p, 0700), 0);
  snprintf (p, sizeof p, "%s/a/b", path);
  assert_int_equal (mkdir (p, 0700), 0);
  snprintf (p, sizeof p, "%s/a/b/file", path);
  write_file (p, "x");
  snprintf (p, sizeof p, "%s/a/link", path);
  assert_int_equal (symlink ("/etc", p), 0);
}

static size_t
entries (const char *dir)
{
  char cmd[256];
  FILE *p;
  size_t n = 0;

  snprintf (cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
  p = popen (cmd, "r");
  assert_non_null (p);
  assert_int_equal (fscanf (p, "%zu", &n), 1);
  pclose (p);
  return n;
}

static void
test_removes_in_background (void **state)
{
  struct fixture *f = *state;
  struct exec_reaper r;
  char path[256], kept[256];
  struct stat st;

  exec_reaper_start (&r, f->dir);
  assert_true (r.pid > 0);
  for (int i = 0; i < 20; i++)
    {
      snprintf (path, sizeof path, "%s/scratch%d", f->work, i);
      make_tree (path);
      exec_reaper_remove (&r, path);
      assert_int_equal (lstat (path, &st), -1); /* renamed away at once */
    }
  /* A file about to be replaced keeps its contents under its own name meanwhile. */
  snprintf (kept, sizeof kept, "%s/entry", f->work);
  write_file (kept, "old");
  exec_reaper_keep (&r, kept);
  snprintf (path, sizeof path, "%s/entry.new", f->work);
  write_file (path, "new");
  assert_int_equal (rename (path, kept), 0);
  exec_reaper_finish (&r);
  assert_int_equal (entries (f->dir), 0);
  assert_int_equal (entries (f->work), 1);
  assert_int_equal (lstat ("/etc", &st), 0); /* the symlink's target is untouched */
  {
    char *text = test_read_file (kept, NULL);
    assert_string_equal (text, "new");
    free (text);
  }
  assert_int_equal (waitpid (-1, NULL, WNOHANG), -1); /* no child is left */
  assert_int_equal (errno, ECHILD);
}

/* A reaper killed (a ^C reaches the whole process group): what it is given is removed at
   once, and finishing does not wait for anything. */
static void
test_dead_reaper (void **state)
{
  struct fixture *f = *state;
  struct exec_reaper r;
  char path[256];
  int status;

  exec_reaper_start (&r, f->dir);
  assert_true (r.pid > 0);
  assert_int_equal (kill (r.pid, SIGKILL), 0);
  assert_int_equal (waitpid (r.pid, &status, 0), r.pid);
  r.pid = -1; /* reaped here */
  snprintf (path, sizeof path, "%s/scratch", f->work);
  make_tree (path);
  exec_reaper_remove (&r, path);
  assert_int_equal (entries (f->dir), 0);
  {
    /* A namespace it cannot take is closed at once, and there is nothing to wait for. */
    int p[2];
    char c;
    assert_int_equal (pipe (p), 0);
    exec_reaper_release_ns (&r, p[1]);
    assert_int_equal (r.ns_wait_fd, -1);
    assert_int_equal (read (p[0], &c, 1), 0);
    close (p[0]);
  }
  exec_reaper_finish (&r);
  assert_int_equal (entries (f->work), 0);
}

/* A namespace given to the reaper is closed by it, and waiting for it returns once it has
   been: a pipe's write end stands for the namespace here (its reader sees EOF when the last
   copy is closed). */
static void
test_release_ns (void **state)
{
  struct fixture *f = *state;
  struct exec_reaper r;
  int p[2], q[2];
  char c;

  exec_reaper_start (&r, f->dir);
  assert_true (r.pid > 0);
  assert_int_equal (pipe (p), 0);
  exec_reaper_release_ns (&r, p[1]);
  assert_true (r.ns_wait_fd >= 0);
  exec_reaper_wait_ns (&r);
  assert_int_equal (r.ns_wait_fd, -1);
  assert_int_equal (read (p[0], &c, 1), 0); /* no copy is left anywhere */
  close (p[0]);
  /* A second one waits for the first itself; finishing waits for the last. */
  assert_int_equal (pipe (p), 0);
  assert_int_equal (pipe (q), 0);
  exec_reaper_release_ns (&r, p[1]);
  exec_reaper_release_ns (&r, q[1]);
  assert_int_equal (read (p[0], &c, 1), 0);
  exec_reaper_finish (&r);
  assert_int_equal (read (q[0], &c, 1), 0);
  close (p[0]);
  close (q[0]);
}

/* Without a directory of its own nothing is renamed: the path is removed where it is. */
static void
test_no_reaper (void **state)
{
  struct fixture *f = *state;
  struct exec_reaper r;
  char path[256], gone[128];

  snprintf (gone, sizeof gone, "%s/missing", f->top);
  exec_reaper_start (&r, gone);
  assert_int_equal (r.pid, -1);
  snprintf (path, sizeof path, "%s/scratch", f->work);
  make_tree (path);
  exec_reaper_remove (&r, path);
  assert_int_equal (entries (f->work), 0);
  exec_reaper_finish (&r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_removes_in_background, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dead_reaper, setup, teardown),
    cmocka_unit_test_setup_teardown (test_release_ns, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_reaper, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
