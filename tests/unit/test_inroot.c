/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The in-root resolver: one table of symlink shapes, answered alike by openat2 and the walk. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/fs/inroot.h"
#include "tests/testutil.h"

static char top[] = "/tmp/bale-inroot.XXXXXX";
static char *root;    /* top/root: the root every path resolves in */
static char *outside; /* top/outside: what an escape would reach (the canary) */
static int root_fd = -1;

static void
mk (const char *rel, const char *content)
{
  assert_int_equal (test_mk (root, rel, content), 0);
}

static void
ln (const char *target, const char *rel)
{
  assert_int_equal (test_ln (root, target, rel), 0);
}

static int
setup (void **state)
{
  FILE *f;
  char *p;
  (void) state;
  assert_non_null (mkdtemp (top));
  root = xasprintf ("%s/root", top);
  outside = xasprintf ("%s/outside", top);
  assert_int_equal (mkdir (root, 0755), 0);
  assert_int_equal (mkdir (outside, 0755), 0);
  p = xasprintf ("%s/secret", outside);
  f = fopen (p, "w");
  assert_non_null (f);
  fputs ("CANARY", f);
  fclose (f);
  free (p);
  mk ("etc", NULL);
  mk ("etc/passwd", "in-root");
  mk ("dir", NULL);
  mk ("dir/file", "file");
  mk ("dir/sub", NULL);
  mk ("swap", NULL);
  mk ("swap/secret", "inside");
  ln ("/", "link-root");
  ln ("../../..", "link-up");
  ln ("../../../../../../etc", "link-up-etc");
  ln ("chain2", "chain1");
  ln ("/link-up", "chain2");
  ln ("/dir", "abs-mid");
  ln ("../../../../dir", "dir/deep");
  ln ("/dir/sub", "to-sub");
  ln ("../outside", "outside-rel");
  p = xasprintf ("%s", outside);
  ln (p, "outside-abs");
  free (p);
  ln ("/nonexistent", "dangling");
  ln ("loop", "loop");
  ln ("etc/passwd", "file-link");
  ln ("dir/file", "in-rel");
  /* c0 -> c1 -> ... -> c40 -> /dir: 41 links from c0, 40 from c1. */
  for (int i = 0; i <= 40; i++)
    {
      char name[16], target[16];
      snprintf (name, sizeof name, "c%d", i);
      snprintf (target, sizeof target, "c%d", i + 1);
      ln (i == 40 ? "/dir" : target, name);
    }
  {
    char *x = xasprintf ("%s/swap-link", root);
    assert_int_equal (symlink ("../outside", x), 0);
    free (x);
  }
  root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return root_fd < 0;
}

static int
teardown (void **state)
{
  char *cmd = xasprintf ("rm -rf %s", top);
  (void) state;
  close (root_fd);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  free (root);
  free (outside);
  inroot_force_walk (false);
  return 0;
}

struct shape
{
  const char *path;
  int flags;
  unsigned how;
  const char *want; /* the in-root path it must be (lstat), or NULL for an error */
  int err;          /* the errno when want is NULL */
};

#define ROOT "."
static const struct shape shapes[] = {
  { "etc/passwd", O_RDONLY, 0, "etc/passwd", 0 },
  { "/etc/passwd", O_RDONLY, 0, "etc/passwd", 0 },
  { "../../../etc/passwd", O_RDONLY, 0, "etc/passwd", 0 },
  { "link-root/etc/passwd", O_RDONLY, 0, "etc/passwd", 0 },
  { "link-root", O_PATH, 0, ROOT, 0 },
  { "link-root/", O_PATH | O_NOFOLLOW, 0, ROOT, 0 },
  { "link-root", O_PATH | O_NOFOLLOW, 0, "link-root", 0 },
  { "link-root", O_RDONLY | O_NOFOLLOW, 0, NULL, ELOOP },
  { "link-root/..", O_PATH, 0, ROOT, 0 },
  { "link-up/etc/passwd", O_RDONLY, 0, "etc/passwd", 0 },
  { "link-up-etc/passwd", O_RDONLY, 0, "etc/passwd", 0 },
  { "chain1/etc/passwd", O_RDONLY, 0, "etc/passwd", 0 },
  { "abs-mid/file", O_RDONLY, 0, "dir/file", 0 },
  { "dir/deep/file", O_RDONLY, 0, "dir/file", 0 },
  { "to-sub/..", O_PATH, 0, "dir", 0 },
  { "to-sub/../file", O_RDONLY, 0, "dir/file", 0 },
  { "outside-rel/secret", O_RDONLY, 0, NULL, ENOENT },
  { "outside-abs/secret", O_RDONLY, 0, NULL, ENOENT },
  { "dangling", O_RDONLY, 0, NULL, ENOENT },
  { "dangling", O_PATH | O_NOFOLLOW, 0, "dangling", 0 },
  { "loop", O_RDONLY, 0, NULL, ELOOP },
  { "c1", O_PATH, 0, "dir", 0 },
  { "c0", O_PATH, 0, NULL, ELOOP },
  { "file-link/", O_RDONLY, 0, NULL, ENOTDIR },
  { "etc/passwd/", O_RDONLY, 0, NULL, ENOTDIR },
  { "dir/file/x", O_RDONLY, 0, NULL, ENOTDIR },
  { "dir/file", O_RDONLY | O_DIRECTORY, 0, NULL, ENOTDIR },
  { "dir//sub/./", O_RDONLY | O_DIRECTORY, 0, "dir/sub", 0 },
  { "", O_PATH, 0, ROOT, 0 },
  { "/", O_RDONLY | O_DIRECTORY, 0, ROOT, 0 },
  { "..", O_PATH, 0, ROOT, 0 },
  { "dir/..", O_PATH, 0, ROOT, 0 },
  { "missing/x", O_PATH, 0, NULL, ENOENT },
  /* The build context: leaving it is an error, not clamped. */
  { "../x", O_PATH, INROOT_BENEATH, NULL, EXDEV },
  { "/etc/passwd", O_PATH, INROOT_BENEATH, "etc/passwd", 0 },
  { "/../etc/passwd", O_PATH, INROOT_BENEATH, NULL, EXDEV },
  { "link-root/etc/passwd", O_RDONLY, INROOT_BENEATH, NULL, EXDEV },
  { "link-up/x", O_RDONLY, INROOT_BENEATH, NULL, EXDEV },
  { "dir/deep/file", O_RDONLY, INROOT_BENEATH, NULL, EXDEV },
  { "outside-rel/secret", O_RDONLY, INROOT_BENEATH, NULL, EXDEV },
  { "etc/../etc/passwd", O_RDONLY, INROOT_BENEATH, "etc/passwd", 0 },
  { "in-rel", O_RDONLY, INROOT_BENEATH, "dir/file", 0 },
  { "to-sub/../file", O_RDONLY, INROOT_BENEATH, NULL, EXDEV },
  /* A tree bale listed itself: no symlink at all. */
  { "dir/file", O_RDONLY, INROOT_BENEATH | INROOT_NO_SYMLINKS, "dir/file", 0 },
  { "in-rel", O_RDONLY, INROOT_BENEATH | INROOT_NO_SYMLINKS, NULL, ELOOP },
  { "abs-mid/file", O_RDONLY, INROOT_NO_SYMLINKS, NULL, ELOOP },
  { "in-rel", O_PATH | O_NOFOLLOW, INROOT_BENEATH | INROOT_NO_SYMLINKS, "in-rel", 0 },
};

static void
check_shapes (bool walk)
{
  inroot_force_walk (walk);
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
    {
      const struct shape *s = &shapes[i];
      int fd = inroot_open (root_fd, s->path, s->flags, s->how);
      int saved = errno;

      if (s->want == NULL)
        {
          if (fd >= 0 || saved != s->err)
            test_fail ("%s '%s' (how %u): want errno %d, got fd %d errno %d", walk ? "walk" : "openat2",
                       s->path, s->how, s->err, fd, saved);
          continue;
        }
      if (fd < 0)
        test_fail ("%s '%s': want %s, got errno %d (%s)", walk ? "walk" : "openat2", s->path,
                   s->want, saved, strerror (saved));
      {
        struct stat got, want;
        char *p = xasprintf ("%s/%s", root, s->want);
        assert_int_equal (fstat (fd, &got), 0);
        assert_int_equal (lstat (p, &want), 0);
        if (got.st_ino != want.st_ino || got.st_dev != want.st_dev)
          test_fail ("%s '%s': not %s", walk ? "walk" : "openat2", s->path, s->want);
        assert_true ((fcntl (fd, F_GETFD) & FD_CLOEXEC) != 0);
        free (p);
      }
      close (fd);
    }
  inroot_force_walk (false);
}

static void
shapes_openat2 (void **state)
{
  (void) state;
  check_shapes (false);
}

static void
shapes_walk (void **state)
{
  (void) state;
  check_shapes (true);
}

/* What is read through a clamped symlink is the root's file, never the host's. */
static void
read_through_links (void **state)
{
  (void) state;
  for (int walk = 0; walk < 2; walk++)
    {
      char buf[32] = { 0 };
      int fd;
      inroot_force_walk (walk);
      fd = inroot_open (root_fd, "chain1/etc/passwd", O_RDONLY, 0);
      assert_true (fd >= 0);
      assert_true (read (fd, buf, sizeof buf - 1) > 0);
      assert_string_equal (buf, "in-root");
      close (fd);
    }
  inroot_force_walk (false);
}

/* /proc magic links are refused; /proc/self (an ordinary symlink) is not. */
static void
magic_links (void **state)
{
  int slash = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int probe = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  char path[64];
  (void) state;
  snprintf (path, sizeof path, "proc/self/fd/%d", probe);
  for (int walk = 0; walk < 2; walk++)
    {
      int fd;
      inroot_force_walk (walk);
      fd = inroot_open (slash, path, O_RDONLY, 0);
      if (fd >= 0 || errno != ELOOP)
        test_fail ("%s: %s opened (errno %d)", walk ? "walk" : "openat2", path, errno);
      fd = inroot_open (slash, "proc/self/status", O_RDONLY, 0);
      assert_true (fd >= 0);
      close (fd);
    }
  inroot_force_walk (false);
  close (probe);
  close (slash);
}

static int n_created;

static int
count_created (void *data, int parent, const struct stat *before, const char *name, int fd)
{
  struct stat st;
  (void) data;
  assert_true (S_ISDIR (before->st_mode));
  (void) parent;
  (void) name;
  assert_int_equal (fstat (fd, &st), 0);
  n_created++;
  return 0;
}

static void
expect_type (const char *rel, mode_t type)
{
  char *p = xasprintf ("%s/%s", root, rel);
  struct stat st;
  if (lstat (p, &st) < 0 || (st.st_mode & S_IFMT) != type)
    test_fail ("%s: not created as type %o", rel, type);
  free (p);
}

static void
outside_untouched (void)
{
  char *cmd = xasprintf ("test \"$(ls -A %s)\" = secret && test \"$(cat %s/secret)\" = CANARY",
                         outside, outside);
  assert_int_equal (system (cmd), 0);
  free (cmd);
}

/* Missing components are created inside the root, behind symlinks where they point. */
static void
mkpath (void **state)
{
  (void) state;
  for (int walk = 0; walk < 2; walk++)
    {
      const char *dirs[] = { "link-root/mk", "link-up/mk", "outside-rel/mk" };
      const char *tails[] = { "/a/b", "/c", "" };
      char path[64], want[64];
      int fd;

      inroot_force_walk (walk);
      for (size_t i = 0; i < 3; i++)
        {
          n_created = 0;
          snprintf (path, sizeof path, "%s%d%s", dirs[i], walk, tails[i]);
          fd = inroot_mkpath (root_fd, path, 0, true, count_created, NULL);
          assert_true (fd >= 0);
          close (fd);
          assert_true (n_created >= 1);
        }
      snprintf (want, sizeof want, "mk%d/a/b", walk);
      expect_type (want, S_IFDIR);
      snprintf (want, sizeof want, "outside/mk%d", walk);
      expect_type (want, S_IFDIR);
      /* A dangling absolute symlink: its target is made, in the root. */
      snprintf (path, sizeof path, "dangling/f%d", walk);
      fd = inroot_mkpath (root_fd, path, 0, false, NULL, NULL);
      assert_true (fd >= 0);
      close (fd);
      snprintf (want, sizeof want, "nonexistent/f%d", walk);
      expect_type (want, S_IFREG);
      /* An existing symlink with INROOT_NOFOLLOW comes back as itself. */
      fd = inroot_mkpath (root_fd, "link-root", INROOT_NOFOLLOW, true, NULL, NULL);
      assert_true (fd >= 0);
      {
        struct stat st;
        assert_int_equal (fstat (fd, &st), 0);
        assert_true (S_ISLNK (st.st_mode));
      }
      close (fd);
      /* In the context, a path through an escaping symlink is an error, and creates nothing. */
      snprintf (path, sizeof path, "link-up/ctx%d", walk);
      errno = 0;
      assert_true (inroot_mkpath (root_fd, path, INROOT_BENEATH, true, NULL, NULL) < 0);
      assert_int_equal (errno, EXDEV);
    }
  inroot_force_walk (false);
  outside_untouched ();
}

/* Image databases: regular files only, bounded, never opened when they are a FIFO. */
static void
read_file (void **state)
{
  char *fifo = xasprintf ("%s/etc/group", root);
  struct strbuf sb = STRBUF_INIT;
  bale_error_t err = NULL;
  bool found = true;
  (void) state;

  assert_int_equal (inroot_read_file (root_fd, "/etc/passwd", 4096, &sb, &found, &err), 0);
  assert_true (found);
  assert_string_equal (sb.buf, "in-root");
  strbuf_release (&sb);
  assert_true (inroot_read_file (root_fd, "/etc/passwd", 3, &sb, &found, &err) < 0);
  assert_non_null (strstr (err->msg, "larger than 3 bytes"));
  bale_error_release (&err);
  strbuf_release (&sb);
  assert_int_equal (inroot_read_file (root_fd, "/etc/shadow", 4096, &sb, &found, &err), 0);
  assert_false (found);
  assert_int_equal (mkfifo (fifo, 0644), 0);
  assert_true (inroot_read_file (root_fd, "/etc/group", 4096, &sb, &found, &err) < 0);
  assert_non_null (strstr (err->msg, "not a regular file"));
  bale_error_release (&err);
  unlink (fifo);
  /* A symlink to a host file is a symlink to nothing inside the image. */
  assert_int_equal (symlink ("/dev/zero", fifo), 0);
  assert_true (inroot_read_file (root_fd, "/etc/group", 4096, &sb, &found, &err) < 0);
  assert_non_null (strstr (err->msg, "symlink to nothing"));
  bale_error_release (&err);
  unlink (fifo);
  assert_int_equal (symlink ("/proc/self/environ", fifo), 0);
  assert_true (inroot_read_file (root_fd, "/etc/group", 4096, &sb, &found, &err) < 0);
  bale_error_release (&err);
  unlink (fifo);
  strbuf_release (&sb);
  free (fifo);
}

/* A process swaps "swap" (a directory) with a symlink that would lead out on the host while
   the resolver opens swap/secret: it reads the inside file or nothing, never the canary. */
static void
race (void **state)
{
  pid_t pid;
  int inside = 0;
  (void) state;

  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int fd = open (root, O_PATH | O_DIRECTORY);
      for (;;)
        syscall (SYS_renameat2, fd, "swap", fd, "swap-link", 2 /* RENAME_EXCHANGE */);
    }
  for (int walk = 0; walk < 2; walk++)
    {
      inroot_force_walk (walk);
      for (int i = 0; i < 2000; i++)
        {
          char buf[16] = { 0 };
          int fd = inroot_open (root_fd, "swap/secret", O_RDONLY, 0);
          if (fd < 0)
            continue;
          assert_true (read (fd, buf, sizeof buf - 1) >= 0);
          close (fd);
          if (strcmp (buf, "CANARY") == 0)
            {
              kill (pid, SIGKILL);
              test_fail ("%s: the canary outside the root was read", walk ? "walk" : "openat2");
            }
          inside += strcmp (buf, "inside") == 0;
        }
    }
  inroot_force_walk (false);
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  test_diag ("race: %d of 4000 opens saw the directory", inside);
  outside_untouched ();
}

/* common/fileio's reads of an input's files (OCI layouts, cache directories): no symlink on
   any component, not only the last (the last alone was refused before, "out/secret" with
   out -> the canary's directory was read). */
static void
beneath (void **state)
{
  static const char *refused[][2] = {
    { "dirlink/file", "cannot open directory 'dirlink' (a symlink is refused)" },
    { "out/secret", "cannot open directory 'out' (a symlink is refused)" },
    { "dir/../../outside/secret", "leads out of its directory" },
    { "../outside/secret", "leads out of its directory" },
    { "outfile", "'outfile' is a symlink" },
    { "dir", "'dir' is not a regular file" },
    { "dir/fifo", "'dir/fifo' is not a regular file" },
    { "", "names none" },
  };
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  cleanup_free char *secret = xasprintf ("%s/secret", outside);
  bale_error_t e = NULL;
  (void) state;

  ln ("dir", "dirlink");
  ln (outside, "out");
  ln (secret, "outfile");
  assert_int_equal (mkfifoat (root_fd, "dir/fifo", 0600), 0);
  assert_int_equal (fileio_read_regular (root_fd, "dir/file", 64, &sb, &e), 0);
  assert_string_equal (sb.buf, "file");
  strbuf_reset (&sb);
  assert_int_equal (fileio_read_regular (root_fd, "./dir//file", 64, &sb, &e), 0);
  assert_string_equal (sb.buf, "file");
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    {
      strbuf_reset (&sb);
      if (fileio_read_regular (root_fd, refused[i][0], 64, &sb, &e) == 0)
        test_fail ("'%s' was read: '%s'", refused[i][0], sb.buf);
      if (!strstr (e->msg, refused[i][1]))
        test_fail ("'%s': '%s', not '%s'", refused[i][0], e->msg, refused[i][1]);
      bale_error_release (&e);
    }
  assert_int_equal (fileio_read_regular (AT_FDCWD, secret, 64, &sb, &e), -1);
  assert_non_null (strstr (e->msg, "is an absolute path"));
  bale_error_release (&e);
  assert_int_equal (fileio_read_regular (root_fd, "dir/file", 2, &sb, &e), -1);
  assert_non_null (strstr (e->msg, "larger than 2 bytes"));
  bale_error_release (&e);
  outside_untouched ();
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (shapes_openat2), cmocka_unit_test (shapes_walk),
    cmocka_unit_test (read_through_links), cmocka_unit_test (magic_links),
    cmocka_unit_test (mkpath), cmocka_unit_test (read_file), cmocka_unit_test (race),
    cmocka_unit_test (beneath),
  };
  return cmocka_run_group_tests_name ("inroot", tests, setup, teardown);
}
