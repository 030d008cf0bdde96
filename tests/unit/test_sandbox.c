/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the RUN sandbox on a busybox rootfs built by the test (needs root and busybox-static).
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/layer.h"
#include "runtime/sandbox/sandbox.h"
#include "tests/testutil.h"
#include "common/banned.h"

#define BUSYBOX "/bin/busybox"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                             "bob:x:1001:1001::/home/bob:/bin/sh\n";
static const char group[] = "root:x:0:\nalice:x:1000:\nbob:x:1001:\nwheel:x:10:alice\n"
                            "audio:x:29:alice,bob\nstaff:x:50:\n";

struct fixture
{
  char *dir;   /* everything of one test lives below this */
  char *lower; /* the busybox rootfs */
  char *upper, *work, *tmp;
  int out;     /* the step's stdout and stderr, a file */
};

static void
sh (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static void
sh (const char *fmt, ...)
{
  struct strbuf cmd = STRBUF_INIT;
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&cmd, fmt, ap);
  va_end (ap);
  if (system (cmd.buf) != 0)
    test_fail ("command failed: %s", cmd.buf);
  strbuf_release (&cmd);
}

static void
put (const char *dir, const char *name, const char *text)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  FILE *f = fopen (p, "w");

  assert_non_null (f);
  fputs (text, f);
  fclose (f);
}

static int
setup (void **state)
{
  struct fixture *f = xzalloc (sizeof *f);
  const char *tmp = getenv ("TMPDIR");

  f->dir = xasprintf ("%s/bale-sbxtest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null (mkdtemp (f->dir));
  f->lower = xasprintf ("%s/lower", f->dir);
  f->upper = xasprintf ("%s/upper", f->dir);
  f->work = xasprintf ("%s/work", f->dir);
  f->tmp = xasprintf ("%s/tmp", f->dir);
  /* A Debian busybox-static rootfs: /bin/busybox plus its applet symlinks. */
  sh ("mkdir -p %s/bin %s/etc %s/home/alice %s/data %s %s %s", f->lower, f->lower, f->lower,
      f->lower, f->upper, f->work, f->tmp);
  /* `busybox --install -s` would link to the absolute host path: relative links instead. */
  sh ("cp " BUSYBOX " %s/bin/busybox && cd %s/bin && for a in $(./busybox --list); do "
      "[ \"$a\" = busybox ] || ln -s busybox \"$a\"; done", f->lower, f->lower);
  put (f->lower, "etc/passwd", passwd);
  put (f->lower, "etc/group", group);
  put (f->lower, "victim", "delete me\n");
  put (f->lower, "data/kept", "kept\n");
  f->out = open (f->dir, O_TMPFILE | O_RDWR, 0600);
  assert_true (f->out >= 0);
  *state = f;
  return 0;
}

static int
remove_fn (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  return remove (path);
}

static int
teardown (void **state)
{
  struct fixture *f = *state;

  unsetenv ("BALE_OVERLAY_LEGACY");
  nftw (f->dir, remove_fn, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  close (f->out);
  free (f->dir);
  free (f->lower);
  free (f->upper);
  free (f->work);
  free (f->tmp);
  free (f);
  return 0;
}

static void
spec_for (struct fixture *f, struct sandbox_spec *spec, const char *const *argv)
{
  static const char *lowers[1];

  lowers[0] = f->lower;
  sandbox_spec_init (spec);
  spec->name = "RUN";
  spec->lowerdirs = lowers;
  spec->n_lowerdirs = 1;
  spec->upperdir = f->upper;
  spec->workdir = f->work;
  spec->argv = argv;
  spec->stdout_fd = spec->stderr_fd = f->out;
  spec->tmpdir = f->tmp;
}

/* What the step wrote to f->out since the last call. Caller frees. */
static char *
output (struct fixture *f)
{
  struct strbuf sb = STRBUF_INIT;
  char buf[4096];
  ssize_t n;

  lseek (f->out, 0, SEEK_SET);
  while ((n = read (f->out, buf, sizeof buf)) > 0)
    strbuf_add (&sb, buf, (size_t) n);
  assert_int_equal (ftruncate (f->out, 0), 0);
  lseek (f->out, 0, SEEK_SET);
  return strbuf_detach (&sb, NULL);
}

/* Run the spec, expect it to run, and return its output. */
static char *
run_spec (struct fixture *f, const struct sandbox_spec *spec, struct sandbox_result *res)
{
  bale_error_t err = NULL;

  if (sandbox_run (spec, res, &err) < 0)
    {
      cleanup_free char *out = output (f);
      test_fail ("sandbox_run: %s (%s)\n%s", err->msg, strerror (err->status), out);
    }
  return output (f);
}

/* Run spec expecting a failure whose message starts with msg; returns its errno. */
static int
run_fails (const struct sandbox_spec *spec, const char *msg)
{
  struct sandbox_result res;
  bale_error_t err = NULL;
  int status;

  if (sandbox_run (spec, &res, &err) == 0)
    test_fail ("the step ran; expected the error '%s'", msg);
  if (strncmp (err->msg, msg, strlen (msg)) != 0)
    test_fail ("got the error '%s', expected '%s'", err->msg, msg);
  status = err->status;
  bale_error_release (&err);
  sandbox_result_release (&res);
  return status;
}

/* `sh -c script` in the default spec, expecting exit code 0; returns the output. */
static char *
run_ok (struct fixture *f, struct sandbox_spec *spec, const char *script)
{
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  struct sandbox_result res;
  char *out;

  spec->argv = argv;
  out = run_spec (f, spec, &res);
  if (!res.exited || res.exit_code != 0)
    test_fail ("'%s' exited %d (signal %d):\n%s", script, res.exit_code, res.term_signal, out);
  sandbox_result_release (&res);
  spec->argv = NULL;
  return out;
}

#define ASSERT_RUN(f, spec, script, expected)                                                 \
  do                                                                                          \
    {                                                                                         \
      char *out_ = run_ok ((f), (spec), (script));                                            \
      if (strcmp (out_, (expected)) != 0)                                                     \
        test_fail ("'%s':\ngot      [%s]\nexpected [%s]", (script), out_, (expected));        \
      free (out_);                                                                            \
    }                                                                                         \
  while (0)

/* ---- exit status -------------------------------------------------------------------------- */

static void
test_exit_code (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/sh", "-c", "echo failing; exit 3", NULL };
  struct sandbox_spec spec;
  struct sandbox_result res;
  bale_error_t err = NULL;
  char *out;

  spec_for (f, &spec, argv);
  out = run_spec (f, &spec, &res);
  assert_string_equal (out, "failing\n");
  assert_true (res.exited);
  assert_int_equal (res.exit_code, 3);
  assert_false (res.interrupted);
  assert_true (sandbox_result_check (&res, &err) < 0);
  assert_string_equal (err->msg, "RUN returned exit code 3");
  bale_error_release (&err);
  sandbox_result_release (&res);
  free (out);
}

static void
test_signal (void **state)
{
  struct fixture *f = *state;
  /* The command is PID 1, which no signal sent from inside its namespace kills; a fault does
     (the shell's recursion overflows a small stack). */
  const char *argv[] = { "/bin/sh", "-c", "ulimit -s 256; f() { f; }; f", NULL };
  struct sandbox_spec spec;
  struct sandbox_result res;
  bale_error_t err = NULL;

  spec_for (f, &spec, argv);
  free (run_spec (f, &spec, &res));
  assert_false (res.exited);
  assert_int_equal (res.term_signal, SIGSEGV);
  assert_true (sandbox_result_check (&res, &err) < 0);
  assert_non_null (strstr (err->msg, "RUN was killed by signal 11"));
  bale_error_release (&err);
  sandbox_result_release (&res);
}

/* The command is PID 1 of the step, as runc makes a container's process and BuildKit a RUN
   step's: a signal it has no handler for, sent from inside, is ignored (kill -TERM 1 does
   nothing), one it handles is delivered. */
static void
test_init (void **state)
{
  struct fixture *f = *state;
  struct sandbox_spec spec;

  spec_for (f, &spec, NULL);
  ASSERT_RUN (f, &spec, "kill -TERM 1; echo survived", "survived\n");
  ASSERT_RUN (f, &spec, "trap 'echo caught; exit 0' TERM; kill -TERM 1; sleep 5 & wait", "caught\n");
  /* Not even SIGKILL, from inside. */
  ASSERT_RUN (f, &spec, "kill -KILL $$; echo survived", "survived\n");
}

/* When the command exits, the step is over: a background process that still holds the output
   pipe is killed with the PID namespace instead of keeping the build waiting. */
static void
test_background_killed (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/sh", "-c", "sleep 100 & echo started", NULL };
  struct sandbox_spec spec;
  struct sandbox_result res;
  struct timespec t0, t1;
  cleanup_free char *out = NULL;

  spec_for (f, &spec, argv);
  spec.prefix = "#2 ";
  clock_gettime (CLOCK_MONOTONIC, &t0);
  out = run_spec (f, &spec, &res);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  assert_string_equal (out, "#2 started\n");
  assert_true (res.exited && res.exit_code == 0);
  assert_true (t1.tv_sec - t0.tv_sec < 20);
  sandbox_result_release (&res);
}

static void
test_exec_failure (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "no-such-command", NULL };
  struct sandbox_spec spec;

  spec_for (f, &spec, argv);
  assert_int_equal (run_fails (&spec, "RUN: exec: \"no-such-command\": executable file not found in $PATH"),
                    ENOENT);
}

/* ---- environment -------------------------------------------------------------------------- */

static void
test_env_cwd (void **state)
{
  struct fixture *f = *state;
  const char *env[] = { "FOO=bar baz", NULL };
  struct sandbox_spec spec;
  struct stat st;
  cleanup_free char *made = xasprintf ("%s/work/dir", f->upper);

  spec_for (f, &spec, NULL);
  spec.env = env;
  spec.cwd = "/work/dir";
  ASSERT_RUN (f, &spec, "echo \"$FOO|$(pwd)|$PATH|$HOME|$HOSTNAME\"",
              "bar baz|/work/dir|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
              "|/root|bale\n");
  assert_int_equal (stat (made, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
}

static void
test_user_in_step (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/true", NULL };
  struct sandbox_spec spec;
  struct stat st;
  cleanup_free char *made = xasprintf ("%s/home/alice/proj", f->upper);

  spec_for (f, &spec, NULL);
  spec.user = "alice";
  spec.cwd = "/home/alice/proj";
  ASSERT_RUN (f, &spec, "id -u; id -g; id -G; echo $HOME; pwd",
              "1000\n1000\n1000 10 29\n/home/alice\n/home/alice/proj\n");
  assert_int_equal (stat (made, &st), 0);
  assert_int_equal (st.st_uid, 1000);
  assert_int_equal (st.st_gid, 1000);
  spec.user = "bob:staff";
  ASSERT_RUN (f, &spec, "id -u; id -G", "1001\n50\n");
  spec.user = "nobody";
  spec.argv = argv;
  run_fails (&spec, "RUN: unable to find user 'nobody' in /etc/passwd");
}

/* One sandbox_resolve_user case: expected "uid:gid:g1,g2" or NULL for an error. */
static void
check_user (int rootfd, const char *spec, const char *expected)
{
  struct sandbox_user u;
  bale_error_t err = NULL;
  struct strbuf got = STRBUF_INIT;

  if (sandbox_resolve_user (rootfd, spec, &u, &err) < 0)
    strbuf_addf (&got, "error: %s", err->msg);
  else
    {
      strbuf_addf (&got, "%u:%u:", (unsigned) u.uid, (unsigned) u.gid);
      for (size_t i = 0; i < u.n_groups; i++)
        strbuf_addf (&got, "%s%u", i ? "," : "", (unsigned) u.groups[i]);
    }
  if (strcmp (got.buf, expected) != 0)
    test_fail ("user '%s': got '%s', expected '%s'", spec, got.buf, expected);
  bale_error_release (&err);
  sandbox_user_release (&u);
  strbuf_release (&got);
}

static void
test_resolve_user (void **state)
{
  struct fixture *f = *state;
  cleanup_close int rootfd = open (f->lower, O_PATH | O_DIRECTORY);

  check_user (rootfd, NULL, "0:0:");
  check_user (rootfd, "root", "0:0:");
  check_user (rootfd, "alice", "1000:1000:10,29");
  check_user (rootfd, "1001", "1001:1001:29");
  check_user (rootfd, "alice:audio", "1000:29:");
  check_user (rootfd, "alice:7", "1000:7:");
  check_user (rootfd, "4242", "4242:0:");
  check_user (rootfd, "4242:50", "4242:50:");
  check_user (rootfd, "4242:staff", "4242:50:");
  /* GetExecUser: an empty group is none, an empty user the default 0 (diff-fuzz F41) */
  check_user (rootfd, "alice:", "1000:1000:10,29");
  check_user (rootfd, ":audio", "0:29:");
  check_user (rootfd, ":", "0:0:");
  check_user (rootfd, "nobody", "error: unable to find user 'nobody' in /etc/passwd");
  check_user (rootfd, "alice:nogroup", "error: unable to find group 'nogroup' in /etc/group");
  check_user (rootfd, "2147483648", "error: unable to find user '2147483648' in /etc/passwd");
  check_user (rootfd, "4294967296:0", "error: unable to find user '4294967296' in /etc/passwd");
  /* /etc/group must be a regular file inside the root: a link out is resolved inside. */
  sh ("mv %s/etc/group %s/etc/group.real && ln -s /../../../../etc/group.real %s/etc/group",
      f->lower, f->lower, f->lower);
  check_user (rootfd, "alice", "1000:1000:10,29");
  sh ("rm %s/etc/group && mkfifo %s/etc/group", f->lower, f->lower);
  check_user (rootfd, "alice", "error: '/etc/group' in the image is not a regular file");
}

static void
test_hostname (void **state)
{
  struct fixture *f = *state;
  struct sandbox_spec spec;

  spec_for (f, &spec, NULL);
  spec.hostname = "builder";
  ASSERT_RUN (f, &spec, "hostname; cat /etc/hostname; grep -c builder /etc/hosts; echo $HOSTNAME",
              "builder\nbuilder\n1\nbuilder\n");
}

static void
test_network_none (void **state)
{
  struct fixture *f = *state;
  struct sandbox_spec spec;

  spec_for (f, &spec, NULL);
  spec.network = SANDBOX_NET_NONE;
  ASSERT_RUN (f, &spec, "ls /sys/class/net; cat /sys/class/net/lo/flags", "lo\n0x9\n");
}

/* ---- the root filesystem ------------------------------------------------------------------ */

static void
test_proc_pidns (void **state)
{
  struct fixture *f = *state;
  struct sandbox_spec spec;

  spec_for (f, &spec, NULL);
  /* The shell is PID 1, alone in its PID namespace (BuildKit's RUN prints 1 for $$ too). The
     shell expands the glob itself, with no other child running. */
  ASSERT_RUN (f, &spec, "echo $$; grep PPid /proc/1/status; set -- /proc/[0-9]*; echo $# $@",
              "1\nPPid:\t0\n1 /proc/1\n");
}

static void
test_dev (void **state)
{
  struct fixture *f = *state;
  struct sandbox_spec spec;
  /* /dev/core only where the kernel has /proc/kcore, as runc. */
  cleanup_free char *want = xasprintf (
      "%sfd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\n"
      "urandom\nzero\n3\npts/ptmx\n/proc/self/fd\n1\n1\n",
      access ("/proc/kcore", F_OK) == 0 ? "core\n" : "");

  spec_for (f, &spec, NULL);
  ASSERT_RUN (f, &spec, "ls /dev; echo x > /dev/null; head -c 3 /dev/zero | wc -c; "
                        "readlink /dev/ptmx; readlink /dev/fd; "
                        "grep -c ' /dev/pts devpts ' /proc/mounts; "
                        "grep -c ' /dev/shm tmpfs ' /proc/mounts",
              want);
}

static void
test_sys_readonly (void **state)
{
  struct fixture *f = *state;
  struct sandbox_spec spec;

  spec_for (f, &spec, NULL);
  ASSERT_RUN (f, &spec,
              "grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; "
              "if mkdir /sys/x 2>/dev/null; then echo writable; fi",
              "ro\n");
}

static bool
exists (const char *dir, const char *name)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  struct stat st;

  return lstat (p, &st) == 0;
}

static void
test_etc_files_not_in_upper (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *etc = xasprintf ("%s/etc", f->upper);
  struct stat st;
  struct sandbox_spec spec;
  DIR *d;
  struct dirent *e;

  spec_for (f, &spec, NULL);
  ASSERT_RUN (f, &spec, "grep -c localhost /etc/hosts; cat /etc/hostname; test -f /etc/resolv.conf "
                        "&& echo resolv",
              "2\nbale\nresolv\n");
  /* Nothing at all: no /etc, /proc, /dev, /sys copied up or created. */
  d = opendir (f->upper);
  assert_non_null (d);
  while ((e = readdir (d)))
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      test_fail ("upper directory holds '%s'", e->d_name);
  closedir (d);
  /* A step that writes into /etc gets it copied up with the image's metadata, but still
     without the generated files. */
  sh ("chmod 0750 %s/etc && chown 12:34 %s/etc", f->lower, f->lower);
  ASSERT_RUN (f, &spec, "echo x > /etc/new", "");
  assert_true (exists (f->upper, "etc/new"));
  assert_int_equal (stat (etc, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0750);
  assert_int_equal (st.st_uid, 12);
  assert_int_equal (st.st_gid, 34);
  assert_false (exists (f->upper, "etc/hosts"));
  assert_false (exists (f->upper, "etc/hostname"));
  assert_false (exists (f->upper, "etc/resolv.conf"));
}

static void
test_upper_writes_whiteouts (void **state)
{
  struct fixture *f = *state;
  struct sandbox_spec spec;
  cleanup_free char *wh = xasprintf ("%s/victim", f->upper);
  cleanup_free char *created = xasprintf ("%s/new", f->upper);
  cleanup_free char *text = NULL;
  struct stat st;

  spec_for (f, &spec, NULL);
  ASSERT_RUN (f, &spec, "echo hi > /new; rm /victim; cat /data/kept", "kept\n");
  text = test_read_file (created, NULL);
  assert_string_equal (text, "hi\n");
  assert_int_equal (lstat (wh, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (0, 0));
  assert_true (exists (f->lower, "victim"));
}

/* A directory replaced by the step is opaque in the upper directory; a renamed one is copied
   whole (redirect_dir=off), so that the upper directory is a plain layer diff. */
static void
test_opaque_and_rename (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *data = xasprintf ("%s/data", f->upper);
  cleanup_free char *moved = xasprintf ("%s/moved", f->upper);
  struct sandbox_spec spec;
  char val[8];
  struct stat st;

  sh ("mkdir -p %s/dir/sub && echo x > %s/dir/sub/f", f->lower, f->lower);
  spec_for (f, &spec, NULL);
  ASSERT_RUN (f, &spec, "rm -rf /data && mkdir /data && echo n > /data/new && mv /dir /moved",
              "");
  assert_int_equal (getxattr (data, "trusted.overlay.opaque", val, sizeof val), 1);
  assert_int_equal (val[0], 'y');
  assert_false (exists (f->upper, "data/kept"));
  assert_int_equal (getxattr (moved, "trusted.overlay.redirect", val, sizeof val), -1);
  assert_int_equal (errno, ENODATA);
  assert_true (exists (f->upper, "moved/sub/f"));
  assert_int_equal (stat (data, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_true (exists (f->upper, "dir")); /* the whiteout of the old name */
}

/* The upper directory a step leaves is what the layer writer expects: its tar holds the
   step's changes as OCI whiteouts and nothing of the sandbox's own mount points. */
static void
test_upper_as_layer (void **state)
{
  struct fixture *f = *state;
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE, .overlay_upper = true };
  struct sandbox_mount mounts[] = { { SANDBOX_MOUNT_TMPFS, NULL, "/run/cache", false, NULL, NULL, false } };
  struct layer_result lr;
  struct sandbox_spec spec;
  struct strbuf names = STRBUF_INIT;
  struct archive_entry *e;
  struct archive *a;
  bale_error_t err = NULL;
  cleanup_close int upper = open (f->upper, O_RDONLY | O_DIRECTORY);
  cleanup_close int tar = open (f->dir, O_TMPFILE | O_RDWR, 0600);

  spec_for (f, &spec, NULL);
  spec.mounts = mounts;
  spec.n_mounts = 1;
  spec.hostname = "h";
  ASSERT_RUN (f, &spec, "rm /victim; rm -rf /data; mkdir /data; echo n > /data/new; "
                        "echo x > /etc/x; echo c > /run/cache/c",
              "");
  if (layer_write_dir (upper, &opts, tar, &lr, &err) < 0)
    test_fail ("layer_write_dir: %s", err->msg);
  lseek (tar, 0, SEEK_SET);
  a = archive_read_new ();
  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_fd (a, tar, 65536), ARCHIVE_OK);
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    strbuf_addf (&names, "%s\n", archive_entry_pathname (e));
  archive_read_free (a);
  /* run/cache: the mount point of the step's tmpfs, which stays as BuildKit leaves it. */
  assert_string_equal (names.buf, ".wh.victim\ndata/\ndata/.wh..wh..opq\ndata/new\netc/\n"
                                  "etc/x\nrun/\nrun/cache/\n");
  strbuf_release (&names);
}

static void
test_no_fd_leak (void **state)
{
  struct fixture *f = *state;
  struct sandbox_spec spec;
  int leaky = open ("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
  cleanup_free char *pid1_check
      = xasprintf ("if test -e /proc/1/fd/%d; then echo PID 1 leaks; fi", leaky);

  assert_true (leaky > 2);
  spec_for (f, &spec, NULL);
  /* "; exit": busybox sh would exec a last command itself, and list the directory's fd. */
  ASSERT_RUN (f, &spec, "ls /proc/$$/fd; exit 0", "0\n1\n2\n");
  ASSERT_RUN (f, &spec, pid1_check, "");
  /* With every capability, nothing of bale is in the step to reach: no init or other process
     beside the command (whose report pipe closed at its execve), and no fd but its stdio. */
  spec.insecure = true;
  ASSERT_RUN (f, &spec, "ls /proc/$$/fd; set -- /proc/[0-9]*; echo $#; exit 0", "0\n1\n2\n1\n");
  ASSERT_RUN (f, &spec, pid1_check, "");
  close (leaky);
}

/* Many layers with long paths, one with ':' and ',' in its name: beyond the one-page limit and
   the separators of the legacy mount data. The first lower is the top one. */
static void
test_many_layers (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/sh", "-c", "cat /order; ls /layers | wc -l", NULL };
  enum { N = 40 };
  char *paths[N];
  const char *lowers[N + 1];
  struct sandbox_spec spec;
  struct sandbox_result res;
  bale_error_t err = NULL;

  for (int i = 0; i < N; i++)
    {
      paths[i] = xasprintf ("%s/%s-layer-%02d%s%0100d", f->dir, i == 7 ? "odd:name,x" : "l", i,
                            "-", 0);
      sh ("mkdir -p '%s/layers' && echo %d > '%s/order' && touch '%s/layers/%d'", paths[i], i,
          paths[i], paths[i], i);
      lowers[i] = paths[i];
    }
  lowers[N] = f->lower;
  spec_for (f, &spec, argv);
  spec.lowerdirs = lowers;
  spec.n_lowerdirs = N + 1;
  if (sandbox_run (&spec, &res, &err) == 0)
    {
      cleanup_free char *out = output (f);
      assert_string_equal (out, "0\n40\n");
    }
  else /* before Linux 6.8 only the legacy mount data exists: the error must say so */
    assert_non_null (strstr (err->msg, "the kernel has no lowerdir+"));
  bale_error_release (&err);
  sandbox_result_release (&res);
  for (int i = 0; i < N; i++)
    free (paths[i]);
}

/* An image whose /dev, /proc and /etc files point elsewhere (security notes, case 37): in
   overlay mode the stub layer hides them; in copy mode setup refuses to follow them. */
static void
test_hostile_image (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/sh", "-c", "cat /etc/shadow; grep -c localhost /etc/hosts; "
                                          "test -c /dev/null && test -d /proc/1 && echo ok",
                         NULL };
  cleanup_free char *host = xasprintf ("%s/h", f->dir);
  cleanup_free char *copy = xasprintf ("%s/copy", f->dir);
  cleanup_free char *out = NULL;
  struct sandbox_spec spec;
  struct sandbox_result res;

  sh ("cd %s && ln -s %s dev && ln -s / proc && echo secret > etc/shadow && "
      "ln -s /etc/shadow etc/resolv.conf && mkfifo etc/hosts", f->lower, host);
  spec_for (f, &spec, argv);
  out = run_spec (f, &spec, &res);
  assert_string_equal (out, "secret\n2\nok\n");
  assert_false (exists (f->dir, "h"));
  sandbox_result_release (&res);
  /* copy mode: the rootfs is used as is */
  sh ("cp -a %s %s", f->lower, copy);
  spec.copy_root = copy;
  spec.force_copy = true;
  run_fails (&spec, "RUN: '/proc' in the rootfs is not a directory");
  sh ("rm %s/proc && mkdir %s/proc", copy, copy);
  run_fails (&spec, "RUN: '/dev' in the rootfs is not a directory");
  assert_false (exists (f->dir, "h"));
}

/* The legacy overlay mount data, as used before Linux 6.8. */
static void
test_legacy_overlay (void **state)
{
  setenv ("BALE_OVERLAY_LEGACY", "1", 1); /* teardown unsets it */
  test_etc_files_not_in_upper (state);
  test_upper_writes_whiteouts (state);
  test_many_layers (state); /* takes its error branch */
}


/* ---- extra mounts and the copy_root fallback ---------------------------------------------- */

static void
test_extra_mounts (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *src = xasprintf ("%s/src", f->dir);
  cleanup_free char *file = xasprintf ("%s/src/file", f->dir);
  struct sandbox_mount mounts[] = {
    { SANDBOX_MOUNT_BIND, src, "/mnt/ro", true, NULL, NULL, false },
    { SANDBOX_MOUNT_TMPFS, NULL, "/cache/deep", false, "size=1m", NULL, false },
    { SANDBOX_MOUNT_BIND, src, "/data/rw", false, NULL, NULL, false },
    { SANDBOX_MOUNT_BIND, file, "/f/deep/file", true, NULL, NULL, false },
  };
  struct sandbox_spec spec;
  struct stat st;

  sh ("mkdir -p %s && echo secret > %s/file", src, src);
  spec_for (f, &spec, NULL);
  spec.mounts = mounts;
  spec.n_mounts = 4;
  ASSERT_RUN (f, &spec, "cat /mnt/ro/file; touch /mnt/ro/x 2>/dev/null || echo ro; "
                        "echo c > /cache/deep/c && cat /cache/deep/c; echo w > /data/rw/w; "
                        "cat /f/deep/file",
              "secret\nro\nc\nsecret\n");
  assert_true (exists (src, "w"));
  /* As BuildKit leaves them: the directories made for the mounts stay, empty, 0755 root; the
     empty file made for a file mount goes. */
  assert_true (exists (f->upper, "mnt/ro"));
  assert_true (exists (f->upper, "cache/deep"));
  assert_true (exists (f->upper, "data/rw"));
  assert_true (exists (f->upper, "f/deep"));
  assert_false (exists (f->upper, "f/deep/file"));
  assert_false (exists (f->upper, "cache/deep/c"));
  {
    cleanup_free char *p = xasprintf ("%s/cache/deep", f->upper);
    assert_int_equal (stat (p, &st), 0);
    assert_int_equal (st.st_mode & 07777, 0755);
    assert_int_equal (st.st_uid, 0);
  }
  /* The sandbox's own mount points never stay. */
  assert_false (exists (f->upper, "proc"));
  assert_false (exists (f->upper, "etc/hosts"));
}

static void
test_copy_root (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *copy = xasprintf ("%s/copy", f->dir);
  struct sandbox_mount mounts[] = { { SANDBOX_MOUNT_TMPFS, NULL, "/cache/x", false, NULL, NULL, false } };
  const char *argv[] = { "/bin/sh", "-c", "echo c > /made; cat /etc/hostname; ls /cache", NULL };
  struct sandbox_spec spec;
  struct sandbox_result res;
  cleanup_free char *out = NULL;

  sh ("cp -a %s %s", f->lower, copy);
  spec_for (f, &spec, argv);
  spec.copy_root = copy;
  spec.force_copy = true;
  spec.mounts = mounts;
  spec.n_mounts = 1;
  out = run_spec (f, &spec, &res);
  assert_string_equal (out, "bale\nx\n");
  assert_true (res.used_copy_root);
  assert_true (exists (copy, "made"));
  assert_false (exists (copy, "etc/hostname"));
  assert_false (exists (copy, "etc/hosts"));
  assert_false (exists (copy, "etc/resolv.conf"));
  assert_false (exists (copy, "proc"));
  assert_false (exists (copy, "dev"));
  assert_false (exists (copy, "sys"));
  assert_true (exists (copy, "cache/x")); /* a step's mount point stays, as in overlay mode */
  assert_false (exists (f->upper, "made"));
  sandbox_result_release (&res);
}

/* An overlay the kernel refuses (upper and work directories on different filesystems) falls
   back to copy_root and says so once per process; without copy_root it is an error. */
static void
test_overlay_unavailable (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *copy = xasprintf ("%s/copy", f->dir);
  char shm_work[] = "/dev/shm/bale-sbxtest.XXXXXX";
  const char *argv[] = { "/bin/sh", "-c", "echo in copy > /made", NULL };
  struct sandbox_spec spec;
  struct sandbox_result res;
  char *out;

  assert_non_null (mkdtemp (shm_work));
  sh ("cp -a %s %s", f->lower, copy);
  spec_for (f, &spec, argv);
  spec.workdir = shm_work;
  run_fails (&spec, "RUN: cannot mount overlay on '");
  spec.copy_root = copy;
  for (int i = 0; i < 2; i++)
    {
      out = run_spec (f, &spec, &res);
      assert_string_equal (out, i ? "" : "bale: overlayfs is unavailable: RUN steps use a copied "
                                         "root filesystem (slower)\n");
      assert_true (res.used_copy_root);
      sandbox_result_release (&res);
      free (out);
    }
  assert_true (exists (copy, "made"));
  assert_false (exists (f->upper, "made"));
  sh ("rm -rf %s", shm_work);
}

/* The command's stdin, and a rootfs of no layers at all (FROM scratch) with busybox mounted. */
static void
test_stdin_scratch (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/sh", "-c", "cat; ls /", NULL };
  cleanup_free char *bin = xasprintf ("%s/bin", f->lower);
  struct sandbox_mount mounts[] = { { SANDBOX_MOUNT_BIND, bin, "/bin", true, NULL, NULL, false } };
  struct sandbox_spec spec;
  struct sandbox_result res;
  cleanup_free char *out = NULL;
  int in[2];

  assert_int_equal (pipe (in), 0);
  assert_int_equal (write (in[1], "from stdin\n", 11), 11);
  close (in[1]);
  spec_for (f, &spec, argv);
  spec.n_lowerdirs = 0;
  spec.stdin_fd = in[0];
  spec.mounts = mounts;
  spec.n_mounts = 1;
  out = run_spec (f, &spec, &res);
  close (in[0]);
  assert_string_equal (out, "from stdin\nbin\ndev\netc\nproc\nsys\n");
  sandbox_result_release (&res);
  assert_true (exists (f->upper, "bin")); /* a step's mount point stays (BuildKit) */
  assert_false (exists (f->upper, "proc"));
}

/* WORKDIR through a /proc/self/fd link must not reach a directory of bale's (CVE-2024-21626). */
static void
test_cwd_proc_fd (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/sh", "-c", "ls ../../..", NULL };
  cleanup_close int dirfd = open (f->dir, O_RDONLY | O_DIRECTORY); /* inheritable on purpose */
  cleanup_free char *cwd = xasprintf ("/proc/self/fd/%d", dirfd);
  struct sandbox_spec spec;

  spec_for (f, &spec, argv);
  spec.cwd = cwd;
  run_fails (&spec, "RUN: cannot create working directory '/proc/self/fd/");
}

/* ---- output ------------------------------------------------------------------------------- */

static void
test_prefix_and_tail (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/sh", "-c",
                         "for i in $(seq 1 30); do echo line$i; done; printf 'no newline' >&2; "
                         "exit 1",
                         NULL };
  struct sandbox_spec spec;
  struct sandbox_result res;
  struct strbuf want = STRBUF_INIT, tail = STRBUF_INIT;
  bale_error_t err = NULL;
  cleanup_free char *out = NULL;
  cleanup_free char *msg = NULL;

  spec_for (f, &spec, argv);
  spec.prefix = "#3 ";
  out = run_spec (f, &spec, &res);
  for (int i = 1; i <= 30; i++)
    strbuf_addf (&want, "#3 line%d\n", i);
  strbuf_addstr (&want, "#3 no newline\n");
  assert_string_equal (out, want.buf);
  for (int i = 12; i <= 30; i++)
    strbuf_addf (&tail, "line%d\n", i);
  strbuf_addstr (&tail, "no newline\n");
  assert_string_equal (res.tail, tail.buf);
  assert_true (sandbox_result_check (&res, &err) < 0);
  msg = xasprintf ("RUN returned exit code 1; the last lines of its output:\n%.*s",
                   (int) tail.len - 1, tail.buf);
  assert_string_equal (err->msg, msg);
  bale_error_release (&err);
  sandbox_result_release (&res);
  strbuf_release (&want);
  strbuf_release (&tail);
}

/* A line without newlines is cut every 4096 bytes: progress output must still show. */
static void
test_prefix_long_line (void **state)
{
  struct fixture *f = *state;
  const char *argv[] = { "/bin/sh", "-c", "head -c 9000 /dev/zero | tr '\\0' a", NULL };
  struct sandbox_spec spec;
  struct sandbox_result res;
  struct strbuf want = STRBUF_INIT;
  cleanup_free char *out = NULL;

  spec_for (f, &spec, argv);
  spec.prefix = "> ";
  out = run_spec (f, &spec, &res);
  for (int len = 9000; len > 0; len -= 4096)
    {
      strbuf_addstr (&want, "> ");
      for (int i = 0; i < (len < 4096 ? len : 4096); i++)
        strbuf_addch (&want, 'a');
      strbuf_addch (&want, '\n');
    }
  assert_string_equal (out, want.buf);
  strbuf_release (&want);
  sandbox_result_release (&res);
}

/* ---- interrupts --------------------------------------------------------------------------- */

/* A pid whose command line is "sleep <secs>", or 0. secs is unique to this test process,
   so that concurrent runs of the tests do not see each other's sleepers. */
static pid_t
find_sleeper (const char *secs)
{
  cleanup_free char *want = xasprintf ("sleep%c%s", 0, secs);
  size_t want_len = 7 + strlen (secs);
  DIR *d = opendir ("/proc");
  struct dirent *e;
  pid_t found = 0;

  while (d && (e = readdir (d)) && !found)
    {
      cleanup_free char *p = xasprintf ("/proc/%s/cmdline", e->d_name);
      char buf[64] = { 0 };
      int fd = open (p, O_RDONLY);

      if (fd < 0)
        continue;
      if (read (fd, buf, sizeof buf - 1) == (ssize_t) want_len && memcmp (buf, want, want_len) == 0)
        found = atoi (e->d_name);
      close (fd);
    }
  if (d)
    closedir (d);
  return found;
}

/* Signal sig to a process running `sleep` in a sandbox, then check that everything of the
   step is gone. */
static void
check_interrupt (struct fixture *f, int sig)
{
  cleanup_free char *secs = xasprintf ("%d", 100000 + (int) getpid ());
  cleanup_free char *script = xasprintf ("sleep %s & sleep %s; echo not reached", secs, secs);
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  cleanup_free char *mountinfo = NULL;
  struct sandbox_spec spec;
  pid_t runner;
  int status;

  spec_for (f, &spec, argv);
  spec.prefix = "#1 ";
  runner = fork ();
  assert_true (runner >= 0);
  if (runner == 0)
    {
      struct sandbox_result res;
      bale_error_t err = NULL;
      int ret = sandbox_run (&spec, &res, &err);
      bool ok = ret == 0 && res.interrupted && res.interrupt_signal == sig
                && sandbox_result_check (&res, &err) < 0
                && strncmp (err->msg, "RUN interrupted by signal", 25) == 0;
      _exit (ok ? 42 : 1);
    }
  /* 60 s: a hang guard (a sandbox starts in tens of ms, more under ASan on a loaded machine). */
  for (int i = 0; i < 6000 && find_sleeper (secs) == 0; i++)
    usleep (10000);
  if (find_sleeper (secs) == 0)
    {
      kill (runner, SIGKILL); /* its step dies with it (PR_SET_PDEATHSIG) */
      waitpid (runner, &status, 0);
      test_fail ("the step never started");
    }
  kill (runner, sig);
  assert_int_equal (waitpid (runner, &status, 0), runner);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 42);
  /* Nothing left: no process, no mount, no temporary directory. */
  assert_int_equal (find_sleeper (secs), 0);
  mountinfo = test_read_file ("/proc/self/mountinfo", NULL);
  if (strstr (mountinfo, f->dir))
    test_fail ("mounts left:\n%s", mountinfo);
  assert_int_equal (rmdir (f->tmp), 0); /* fails unless empty */
}

static void
test_interrupt_term (void **state)
{
  check_interrupt (*state, SIGTERM);
}

static void
test_interrupt_int (void **state)
{
  check_interrupt (*state, SIGINT);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_exit_code, setup, teardown),
    cmocka_unit_test_setup_teardown (test_signal, setup, teardown),
    cmocka_unit_test_setup_teardown (test_init, setup, teardown),
    cmocka_unit_test_setup_teardown (test_background_killed, setup, teardown),
    cmocka_unit_test_setup_teardown (test_exec_failure, setup, teardown),
    cmocka_unit_test_setup_teardown (test_env_cwd, setup, teardown),
    cmocka_unit_test_setup_teardown (test_user_in_step, setup, teardown),
    cmocka_unit_test_setup_teardown (test_resolve_user, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hostname, setup, teardown),
    cmocka_unit_test_setup_teardown (test_network_none, setup, teardown),
    cmocka_unit_test_setup_teardown (test_proc_pidns, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dev, setup, teardown),
    cmocka_unit_test_setup_teardown (test_sys_readonly, setup, teardown),
    cmocka_unit_test_setup_teardown (test_etc_files_not_in_upper, setup, teardown),
    cmocka_unit_test_setup_teardown (test_upper_writes_whiteouts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_opaque_and_rename, setup, teardown),
    cmocka_unit_test_setup_teardown (test_upper_as_layer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_fd_leak, setup, teardown),
    cmocka_unit_test_setup_teardown (test_many_layers, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hostile_image, setup, teardown),
    cmocka_unit_test_setup_teardown (test_legacy_overlay, setup, teardown),
    cmocka_unit_test_setup_teardown (test_extra_mounts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_root, setup, teardown),
    cmocka_unit_test_setup_teardown (test_overlay_unavailable, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stdin_scratch, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cwd_proc_fd, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prefix_and_tail, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prefix_long_line, setup, teardown),
    cmocka_unit_test_setup_teardown (test_interrupt_term, setup, teardown),
    cmocka_unit_test_setup_teardown (test_interrupt_int, setup, teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
