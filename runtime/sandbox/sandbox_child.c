/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Child side of the sandbox: the set-up of the step's namespaces and root, then its command,
   which is PID 1 of the PID namespace (chroot isolation, without one: a tiny init and the
   command it forks). */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/trace.h"
#include "common/xalloc.h"
#include "runtime/fs/inroot.h"
#include "runtime/fs/rootless.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A working directory created for the step belongs to its user (Docker's WORKDIR under USER). */
static int
cwd_created (void *data, int parent, const struct stat *before, const char *name, int fd)
{
  const struct sandbox_user *u = data;

  (void) parent;
  (void) before;
  (void) name;
  return fchownat (fd, "", u->uid, u->gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

/* mkdir -p of the working directory and chdir into it, resolved in the root like every path
   of the image (runtime/fs/inroot.h): a /proc magic link (WORKDIR /proc/self/fd/N) is refused. */
static void
enter_cwd (int sync, const char *cwd, const char *cwd_raw, const struct sandbox_user *u)
{
  int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = root < 0 ? -1 : inroot_mkpath (root, cwd, 0, true, cwd_created, (void *) u);

  if (fd < 0)
    rt_sbx_die (sync, errno, "cannot create working directory '%s'", cwd);
  /* BuildKit makes the clean path (the user's), then runc's os.MkdirAll(cwd) walks the path as
     written, as root: `WORKDIR /x/..` then RUN creates /x (FINDINGS F62). */
  if (cwd_raw)
    {
      int raw = inroot_mkpath (root, cwd_raw, 0, true, NULL, NULL);
      if (raw < 0)
        rt_sbx_die (sync, errno, "cannot create working directory '%s'", cwd_raw);
      close (raw);
    }
  if (fchdir (fd) < 0)
    rt_sbx_die (sync, errno, "cannot enter working directory '%s'", cwd);
  close (fd);
  close (root);
}

static bool
has_env (const char *const *env, const char *key)
{
  size_t n = strlen (key);

  for (; env && *env; env++)
    if (strncmp (*env, key, n) == 0 && (*env)[n] == '=')
      return true;
  return false;
}

/* The spec's environment plus Docker's defaults for PATH, HOSTNAME and HOME. */
static char **
build_env (const struct sandbox_spec *spec, const struct sandbox_user *u)
{
  size_t n = 0, alloc = 0;
  char **envp = NULL;

  for (const char *const *e = spec->env; e && *e; e++)
    {
      XGROW (envp, alloc, n + 1);
      envp[n++] = xstrdup (*e);
    }
  XGROW (envp, alloc, n + 4);
  if (!has_env (spec->env, "PATH"))
    envp[n++] = xstrdup ("PATH=" DEFAULT_PATH);
  /* docker run sets HOSTNAME; BuildKit's RUN step does not. */
  if (!spec->build_step && !has_env (spec->env, "HOSTNAME"))
    envp[n++] = xasprintf ("HOSTNAME=%s", sandbox_hostname (spec));
  if (!has_env (spec->env, "HOME"))
    envp[n++] = xasprintf ("HOME=%s", u->home ? u->home : "/");
  envp[n] = NULL;
  return envp;
}

/* As runc 1.1 starts a process (libcontainer/standard_init_linux.go), in its words: Go 1.19's
   exec.LookPath finds argv[0] with the step's PATH (stat, any execute bit; a name found through
   a PATH entry that is not absolute is refused), then faccessat(X_OK, AT_EACCESS). Those
   failures mean the process never started: docker run exits 127, 126 or 125 by the message.
   execve fails after the start: runc init prints "exec NAME: ERR" where the command's stderr
   goes and exits 1, which is what the step or `bale run` then reports. */
static void __attribute__ ((noreturn))
exec_command (int sync, const char *const *argv, char **envp)
{
  const char *path = DEFAULT_PATH;
  char *file = NULL;
  struct stat st;

  if (strchr (argv[0], '/'))
    {
      if (stat (argv[0], &st) < 0)
        rt_sbx_die (sync, errno, "exec: \"%s\": stat %s: %s", argv[0], argv[0], error_go_text (errno));
      if (S_ISDIR (st.st_mode) || !(st.st_mode & 0111))
        rt_sbx_die (sync, EACCES, "exec: \"%s\": permission denied", argv[0]);
      file = xstrdup (argv[0]);
    }
  for (char **e = envp; !file && *e; e++)
    if (strncmp (*e, "PATH=", 5) == 0)
      path = *e + 5;
  /* filepath.SplitList: no entry at all in an empty PATH; an empty entry is "." */
  for (const char *p = path; !file && *path && p;)
    {
      size_t n = strcspn (p, ":");
      char *dir = n ? xstrndup (p, n) : xstrdup (".");
      char *cand = xasprintf ("%s%s%s", dir, dir[strlen (dir) - 1] == '/' ? "" : "/", argv[0]);

      if (stat (cand, &st) == 0 && !S_ISDIR (st.st_mode) && (st.st_mode & 0111))
        {
          if (dir[0] != '/')
            rt_sbx_die (sync, 0, "exec: \"%s\": cannot run executable found relative to current directory", argv[0]);
          file = cand;
        }
      else
        free (cand);
      free (dir);
      p = p[n] ? p + n + 1 : NULL;
    }
  if (!file)
    rt_sbx_die (sync, ENOENT, "exec: \"%s\": executable file not found in $PATH", argv[0]);
  if (faccessat (AT_FDCWD, file, X_OK, AT_EACCESS) < 0)
    rt_sbx_die (sync, errno, "exec %s: %s", file, error_go_text (errno));
  execve (file, (char *const *) argv, envp);
  dprintf (2, "exec %s: %s\n", file, error_go_text (errno));
  _exit (1);
}

/* Close every fd from 3 up but those in keep. Neither the command nor, through /proc/1/fd,
   anything else in the step may reach a file of bale's (CVE-2024-21626). */
static void
close_fds_except (int sync, const int *keep, size_t n)
{
  unsigned int lo = 3;

  for (;;)
    {
      unsigned int next = ~0U; /* the lowest fd to keep from lo up */

      for (size_t i = 0; i < n; i++)
        if (keep[i] >= 0 && (unsigned int) keep[i] >= lo && (unsigned int) keep[i] < next)
          next = (unsigned int) keep[i];
      if (next > lo && syscall (SYS_close_range, lo, next == ~0U ? ~0U : next - 1, 0U) < 0)
        rt_sbx_die (sync, errno, "cannot close inherited file descriptors");
      if (next == ~0U)
        return;
      lo = next + 1;
    }
}

/* Put fd at target; fds are first moved above 2 so that none overwrites another. */
static void
setup_stdio (int sync, const int stdio[3])
{
  for (int i = 0; i < 3; i++)
    if (dup2 (stdio[i], i) < 0)
      rt_sbx_die (sync, errno, "cannot set up standard fd %d", i);
}

/* Keep the command's stdio ends above 2 (close-on-exec) and point init's own 0, 1 and 2 at
   /dev/null: they are bale's stdio, which the step could reach through /proc/1/fd. */
static void
park_stdio (const struct rt_sbx_plan *plan, int stdio[3])
{
  int fds[3] = { plan->in_fd, plan->out_fd, plan->err_fd };
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (null < 0)
    rt_sbx_die (plan->sync_fd, errno, "cannot open '/dev/null'");
  for (int i = 0; i < 3; i++)
    if ((stdio[i] = fcntl (fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
      rt_sbx_die (plan->sync_fd, errno, "cannot duplicate standard fd %d", i);
  for (int i = 0; i < 3; i++)
    if (dup2 (null, i) < 0)
      rt_sbx_die (plan->sync_fd, errno, "cannot set up standard fd %d", i);
  close (null);
}

static void __attribute__ ((noreturn))
run_command (const struct rt_sbx_plan *plan, const int stdio[3], const struct sandbox_user *u)
{
  const struct sandbox_spec *spec = plan->spec;
  const char *cwd = spec->cwd ? spec->cwd : "/";
  int sync = plan->sync_fd;
  sigset_t none;

  /* Decided before the filter: from its installation on, geteuid answers USER's id. */
  const bool one_id = rootless_mode () == ROOTLESS_ONE_ID;
  const bool as_user = rt_sbx_as_user (u->uid, u->gid);

  /* With primary_group_in_groups, the primary gid first, then the others once each. */
  gid_t groups[NGROUPS_MAX];
  size_t n_groups = 0;

  if (spec->primary_group_in_groups)
    groups[n_groups++] = u->gid;
  for (size_t i = 0; i < u->n_groups && n_groups < NGROUPS_MAX; i++)
    if (!(spec->primary_group_in_groups && u->groups[i] == u->gid))
      groups[n_groups++] = u->groups[i];
  setup_stdio (sync, stdio);
  /* Rootless: chown and mknod go to bale from here on, the working directory's too. */
  rt_sbx_notify_install (sync, plan->notify_sock, u->uid, u->gid, groups, n_groups);
  /* 0022 as runc and Docker give every container, never the umask bale was started with:
     the host's umask must not decide the modes of what the step writes into its layer. */
  umask (022);
  trace_mark ("sandbox: command confined and started");
  /* Before chdir: a cwd such as /proc/self/fd/N must find no directory of bale's. The sync
     pipe is close-on-exec and reports exec errors until then. */
  close_fds_except (sync, &sync, 1);
  /* Chroot isolation: the command alone is chrooted, init stays outside to kill what the
     step leaves; if bale dies, the command dies too (it has no PID namespace to go with). */
  if (spec->chroot)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      rt_sbx_chroot_enter (plan);
    }
  enter_cwd (sync, cwd, spec->cwd ? spec->cwd_raw : NULL, u);
  rt_sbx_confine_early (plan);
  /* With one id, setgroups is denied for good (there are no groups to set). */
  if (setgroups (n_groups, groups) < 0 && !one_id)
    rt_sbx_die (sync, errno, "cannot set the supplementary groups of user %u", (unsigned) u->uid);
  /* One id and another USER: the step stays the namespace's root, without capabilities, and
     bale answers for its ids (sandbox_asuser.c). */
  if (!as_user && (setgid (u->gid) < 0 || setuid (u->uid) < 0))
    rt_sbx_die (sync, errno, "cannot switch to user %u:%u", (unsigned) u->uid,
                (unsigned) u->gid);
  /* A change of credentials clears the parent-death signal: set it again, so that the
     command dies with bale (and with it the PID namespace whose PID 1 it is). */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  rt_sbx_confine_late (plan, as_user);
  /* bale's ignored signals (SIGPIPE) would stay ignored across exec. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  exec_command (sync, spec->argv, build_env (spec, u));
}

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };

/* Chroot isolation's init (no PID namespace): forward signals to the command, reap every
   zombie, and report the command's status when it exits; then kill whatever is left. */
static void __attribute__ ((noreturn))
init_loop (int sync, pid_t cmd, bool chroot_mode)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaddset (&set, forwarded[i]);
  for (;;)
    {
      siginfo_t si;
      int status;
      pid_t p;

      if (sigwaitinfo (&set, &si) < 0)
        continue;
      if (si.si_signo != SIGCHLD)
        {
          kill (cmd, si.si_signo);
          continue;
        }
      while ((p = waitpid (-1, &status, WNOHANG)) > 0)
        if (p == cmd)
          {
            if (chroot_mode)
              rt_sbx_chroot_kill_rest ();
            rt_sbx_send (sync, RT_SBX_STATUS, status, "status");
            _exit (0);
          }
    }
}

void
rt_sbx_child_main (const struct rt_sbx_plan *plan)
{
  int stdio[3], keep[6];
  struct sandbox_user user;
  bale_error_t err = NULL;
  sigset_t set;
  pid_t cmd;
  int root;

  park_stdio (plan, stdio);
  keep[0] = plan->sync_fd;
  memcpy (keep + 1, stdio, sizeof stdio);
  keep[4] = plan->notify_sock;
  keep[5] = trace_fd ();
  trace_mark ("sandbox: child started");
  close_fds_except (plan->sync_fd, keep, 6);
  /* If bale dies, so does the step: killing PID 1 takes down the whole namespace. Had bale
     died before the prctl, the pipe has no reader any more and the write fails. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* Until the command drops them, this process has every capability: nothing may inspect or
     trace it. The execve of the command makes it dumpable again. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (rt_sbx_send (plan->sync_fd, RT_SBX_HELLO, 0, "%s", "") < 0)
    _exit (127);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    signal (forwarded[i], SIG_DFL);
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaddset (&set, forwarded[i]);
  sigprocmask (SIG_BLOCK, &set, NULL);

  if (plan->spec->chroot)
    {
      /* No PID namespace: init leads a process group (what bale kills on SIGINT) and adopts
         the step's orphans, which it kills when the command exits. */
      setpgid (0, 0);
      prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
      root = open (plan->spec->copy_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  else
    {
      rt_sbx_setup_rootfs (plan);
      root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  if (root < 0 || sandbox_resolve_user (root, plan->spec->user, &user, &err) < 0)
    rt_sbx_die (plan->sync_fd, err ? err->status : errno, "%s",
                err ? err->msg : "cannot open the new root");
  close (root);
  trace_mark ("sandbox: root and user ready");
  /* With a PID namespace the command itself is PID 1, as runc starts a container's process
     and BuildKit a RUN step's: `echo $$` prints 1, `ps` shows the step's processes only, PID
     1 ignores the signals it has no handler for, and its exit ends every other process of the
     namespace. bale learns its status from waitpid, and no process of the step holds the
     report pipe (close-on-exec) or more privilege than the command. */
  if (!plan->spec->chroot)
    run_command (plan, stdio, &user);
  cmd = fork ();
  if (cmd < 0)
    rt_sbx_die (plan->sync_fd, errno, "cannot fork the command");
  if (cmd == 0)
    run_command (plan, stdio, &user);
  /* The command holds the stdio ends now: the pump sees EOF when the step is done. */
  for (int i = 0; i < 3; i++)
    close (stdio[i]);
  if (plan->notify_sock >= 0)
    close (plan->notify_sock);
  init_loop (plan->sync_fd, cmd, plan->spec->chroot);
}
