/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parent side of the sandbox: scratch files, the namespaced child, output, signals, cleanup. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/trace.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/fs/inroot.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "runtime/sandbox/seccomp.h"
#include "common/banned.h"

void
sandbox_spec_init (struct sandbox_spec *spec)
{
  memset (spec, 0, sizeof *spec);
  spec->stdin_fd = -1;
  spec->stdout_fd = 1;
  spec->stderr_fd = 2;
  spec->watch_fd = -1;
}

int
sandbox_prepare (bale_error_t *err)
{
  const struct sock_fprog *prog;

  return rt_seccomp_default (&prog, err);
}

void
sandbox_result_release (struct sandbox_result *res)
{
  free (res->tail);
  if (res->has_mnt_ns)
    close (res->mnt_ns);
  memset (res, 0, sizeof *res);
}

int
sandbox_result_check (const struct sandbox_result *res, bale_error_t *err)
{
  struct strbuf msg = STRBUF_INIT;
  int ret;

  if (res->exited && res->exit_code == 0 && !res->interrupted)
    return 0;
  if (res->interrupted)
    strbuf_addf (&msg, "RUN interrupted by signal %d (%s)", res->interrupt_signal,
                 strsignal (res->interrupt_signal));
  else if (res->exited)
    strbuf_addf (&msg, "RUN returned exit code %d", res->exit_code);
  else
    strbuf_addf (&msg, "RUN was killed by signal %d (%s)", res->term_signal,
                 strsignal (res->term_signal));
  if (res->tail)
    {
      strbuf_addstr (&msg, "; the last lines of its output:\n");
      strbuf_add (&msg, res->tail, strlen (res->tail) - 1);
    }
  ret = bale_make_error (err, 0, "%s", msg.buf);
  strbuf_release (&msg);
  return ret;
}

/* ---- signals ------------------------------------------------------------------------------ */

static const int caught[] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t interrupt_sig;
static volatile pid_t init_pid;
static volatile sig_atomic_t kill_group;

/* Killing PID 1 of the step kills every process of its PID namespace, and with the last of
   them its mount namespace goes away with every mount in it. Without namespaces (chroot
   isolation), init leads a process group: the group goes (what left it stays, said in
   docs/rootless.md). */
static void
on_interrupt (int sig)
{
  interrupt_sig = sig;
  if (init_pid > 0)
    kill (kill_group ? -init_pid : init_pid, SIGKILL);
}

static void
catch_signals (struct sigaction old[3], sigset_t *saved_mask)
{
  struct sigaction sa;
  sigset_t block;

  sigemptyset (&block);
  for (size_t i = 0; i < 3; i++)
    sigaddset (&block, caught[i]);
  sigprocmask (SIG_BLOCK, &block, saved_mask);
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigfillset (&sa.sa_mask);
  for (size_t i = 0; i < 3; i++)
    sigaction (caught[i], &sa, &old[i]);
  interrupt_sig = 0;
}

static void
restore_signals (const struct sigaction old[3], const sigset_t *saved_mask)
{
  sigset_t block;

  sigfillset (&block);
  sigprocmask (SIG_BLOCK, &block, NULL);
  init_pid = 0;
  for (size_t i = 0; i < 3; i++)
    sigaction (caught[i], &old[i], NULL);
  sigprocmask (SIG_SETMASK, saved_mask, NULL);
}

static int
check_spec (const struct sandbox_spec *spec, bale_error_t *err)
{
  /* An empty argv[0] is left to the exec, which reports it as runc does ("" is not found). */
  if (spec->argv == NULL || spec->argv[0] == NULL)
    return bale_make_error (err, 0, "%s: no command to run", spec->name ? spec->name : "RUN");
  if ((spec->upperdir == NULL || spec->workdir == NULL || spec->force_copy)
      && spec->copy_root == NULL)
    return bale_make_error (err, 0, "sandbox needs an upper and a work directory or a root");
  if (spec->cwd && spec->cwd[0] != '/')
    return bale_make_error (err, 0, "working directory '%s' is not absolute", spec->cwd);
  if (spec->chroot && spec->copy_root == NULL)
    return bale_make_error (err, 0, "chroot isolation needs a copied root");
  if (spec->chroot && spec->network == SANDBOX_NET_NONE)
    return bale_make_error (err, 0, "--network=none needs a network namespace, which chroot "
                                    "isolation does not create (docs/rootless.md)");
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const struct sandbox_mount *m = &spec->mounts[i];
      /* "/" itself would cover the whole root, including /proc and /dev. */
      if (m->target == NULL || m->target[0] != '/' || m->target[strspn (m->target, "/")] == '\0')
        return bale_make_error (err, 0, "mount target '%s' is not an absolute path below '/'",
                                m->target ? m->target : "");
      if (m->type == SANDBOX_MOUNT_BIND && m->source == NULL)
        return bale_make_error (err, 0, "bind mount on '%s' has no source", m->target);
    }
  return 0;
}

/* ---- supervision -------------------------------------------------------------------------- */

struct stub
{
  char *path; /* in-root path */
  bool dir;
};

/* What the child reported and what the pump collected. */
struct supervisor
{
  struct strbuf records; /* bytes of the sync pipe not parsed yet */
  int error_errno;
  char *error;           /* the first failure the child reported */
  bool copy_mode;
  bool have_status;
  int status;
  struct stub *stubs;
  size_t n_stubs, alloc_stubs;
  struct rt_sbx_stream streams[2];
  struct rt_sbx_tail tail;
  struct rt_sbx_notifier notify; /* rootless: chown and mknod of the step (sandbox_notify.c) */
};

static void
handle_record (struct supervisor *sv, const struct sandbox_spec *spec, char type, int errnum,
               const char *msg)
{
  static bool told;

  switch (type)
    {
    case RT_SBX_ERROR:
      if (sv->error == NULL)
        {
          sv->error = xstrdup (msg);
          sv->error_errno = errnum;
        }
      break;
    case RT_SBX_COPY:
      sv->copy_mode = true;
      if (!told)
        {
          static const char note[] = "bale: overlayfs is unavailable: RUN steps use a copied "
                                     "root filesystem (slower)\n";
          told = true;
          (void) fileio_write_all (spec->stderr_fd, note, sizeof note - 1);
        }
      break;
    case RT_SBX_STUB:
      XGROW (sv->stubs, sv->alloc_stubs, sv->n_stubs + 1);
      sv->stubs[sv->n_stubs].path = xstrdup (msg);
      sv->stubs[sv->n_stubs++].dir = errnum != 0;
      break;
    case RT_SBX_STATUS:
      trace_mark ("sandbox: status received");
      sv->have_status = true;
      sv->status = errnum;
      break;
    }
}

/* Parse the complete records in sv->records: a header then a NUL-terminated message. */
static void
read_records (struct supervisor *sv, const struct sandbox_spec *spec, int *fd)
{
  const size_t hdr = offsetof (struct rt_sbx_record, msg);
  char buf[8192];
  ssize_t n = read (*fd, buf, sizeof buf);
  size_t used = 0;

  if (n < 0 && errno == EINTR)
    return;
  if (n <= 0)
    {
      close (*fd);
      *fd = -1;
      return;
    }
  strbuf_add (&sv->records, buf, (size_t) n);
  for (;;)
    {
      struct rt_sbx_record rec;
      const char *end;

      if (sv->records.len - used <= hdr)
        break;
      end = memchr (sv->records.buf + used + hdr, '\0', sv->records.len - used - hdr);
      if (end == NULL)
        break;
      memcpy (&rec, sv->records.buf + used, hdr);
      handle_record (sv, spec, rec.type, rec.errnum, sv->records.buf + used + hdr);
      used = (size_t) (end - sv->records.buf) + 1;
    }
  /* A record never exceeds its struct: anything longer is garbage (the step can reach the
     pipe through /proc/1/fd as root), dropped rather than buffered without bound. */
  if (sv->records.len - used > sizeof (struct rt_sbx_record))
    used = sv->records.len;
  memmove (sv->records.buf, sv->records.buf + used, sv->records.len - used);
  strbuf_setlen (&sv->records, sv->records.len - used);
}

/* Until the child and every holder of the output pipes are gone. */
static void
supervise (struct supervisor *sv, const struct sandbox_spec *spec, int sync_fd, int pidfd)
{
  for (;;)
    {
      struct pollfd pfd[7] = { { sync_fd, POLLIN, 0 },
                               { sv->streams[0].fd, POLLIN, 0 },
                               { sv->streams[1].fd, POLLIN, 0 },
                               { pidfd, POLLIN, 0 },
                               { spec->on_watch ? spec->watch_fd : -1, POLLIN, 0 } };
      nfds_t n = 5 + rt_sbx_notify_pollfds (&sv->notify, pfd + 5);

      /* The report pipe closes when the command starts (it is close-on-exec), and a step
         may close its output early: until the child is gone, its chown and mknod calls
         (rootless, sandbox_notify.c) still wait for an answer. */
      if (sync_fd < 0 && sv->streams[0].fd < 0 && sv->streams[1].fd < 0 && pidfd < 0)
        return;
      if (poll (pfd, n, -1) < 0)
        continue; /* EINTR: the handler has already killed the step if needed */
      if (pfd[3].revents)
        pidfd = -1; /* the child exited; sandbox_run closes the descriptor */
      if (pfd[4].revents)
        spec->on_watch (spec->watch_ctx);
      rt_sbx_notify_ready (&sv->notify, pfd + 5);
      if (sv->notify.fatal && sv->error == NULL)
        {
          sv->error = steal_pointer (&sv->notify.fatal);
          if (init_pid > 0)
            kill (kill_group ? -init_pid : init_pid, SIGKILL);
        }
      if (pfd[0].revents)
        read_records (sv, spec, &sync_fd);
      for (int i = 0; i < 2; i++)
        if (pfd[i + 1].revents)
          rt_sbx_pump (&sv->streams[i], spec->prefix, &sv->tail);
    }
}

/* Remove the mount points created for the step from its upper directory (or copy root):
   deepest first, without following symlinks, and only while still empty, so that nothing the
   step itself wrote is lost. */
static void
remove_stubs (struct supervisor *sv, const char *base)
{
  cleanup_close int basefd = open (base, O_PATH | O_DIRECTORY | O_CLOEXEC);

  for (size_t i = sv->n_stubs; i-- > 0 && basefd >= 0;)
    {
      char *path = sv->stubs[i].path, *slash = strrchr (path, '/');
      cleanup_close int dirfd = -1;
      struct stat st, parent;
      int r = -1;

      if (slash == NULL) /* not from us: the step can write to the pipe as root */
        continue;
      *slash = '\0';
      dirfd = inroot_open (basefd, path, O_RDONLY | O_DIRECTORY, INROOT_BENEATH | INROOT_NO_SYMLINKS);
      if (dirfd < 0 || fstat (dirfd, &parent) < 0
          || fstatat (dirfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (sv->stubs[i].dir && S_ISDIR (st.st_mode))
        r = unlinkat (dirfd, slash + 1, AT_REMOVEDIR); /* fails when not empty: kept */
      else if (!sv->stubs[i].dir && S_ISREG (st.st_mode) && st.st_size == 0)
        r = unlinkat (dirfd, slash + 1, 0);
      /* The parent's mtime as the step left it: removing a stub is no change of the step. */
      if (r == 0)
        futimens (dirfd, (struct timespec[]){ parent.st_atim, parent.st_mtim });
    }
}

static void
supervisor_release (struct supervisor *sv)
{
  for (size_t i = 0; i < sv->n_stubs; i++)
    free (sv->stubs[i].path);
  free (sv->stubs);
  free (sv->error);
  rt_sbx_notify_release (&sv->notify);
  strbuf_release (&sv->records);
  for (int i = 0; i < 2; i++)
    {
      if (sv->streams[i].fd >= 0)
        close (sv->streams[i].fd);
      strbuf_release (&sv->streams[i].partial);
    }
  free (rt_sbx_tail_take (&sv->tail));
}

/* ---- running ------------------------------------------------------------------------------ */

static void
close_pair (int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      close (p[i]);
  p[0] = p[1] = -1;
}

static int
steal_fd (int *fd)
{
  int ret = *fd;
  *fd = -1;
  return ret;
}

/* The pipes of prefix mode and /dev/null for a missing stdin; plan gets the child's ends.
   Two pipes rather than one: stdout and stderr keep their own destinations, as in BuildKit's
   progress output, at the price of lines of the two streams interleaving differently from
   the order they were written in. */
static int
make_stdio (struct rt_sbx_plan *plan, struct supervisor *sv, int pipes[2][2], bale_error_t *err)
{
  const struct sandbox_spec *spec = plan->spec;

  plan->in_fd = spec->stdin_fd;
  if (plan->in_fd < 0 && (plan->in_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
    return bale_make_error (err, errno, "cannot open '/dev/null'");
  plan->out_fd = spec->stdout_fd;
  plan->err_fd = spec->stderr_fd;
  if (spec->prefix == NULL)
    return 0;
  for (int i = 0; i < 2; i++)
    {
      if (pipe2 (pipes[i], O_CLOEXEC) < 0)
        return bale_make_error (err, errno, "cannot create the output pipe");
      sv->streams[i].fd = pipes[i][0];
      sv->streams[i].out = i == 0 ? spec->stdout_fd : spec->stderr_fd;
      sv->streams[i].on_line = spec->on_line;
      sv->streams[i].line_ctx = spec->line_ctx;
      sv->streams[i].stream = i + 1;
      pipes[i][0] = -1;
    }
  plan->out_fd = pipes[0][1];
  plan->err_fd = pipes[1][1];
  return 0;
}

static pid_t
spawn (const struct rt_sbx_plan *plan)
{
  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
  pid_t pid;

  if (plan->spec->network == SANDBOX_NET_NONE)
    flags |= CLONE_NEWNET;
  if (plan->spec->chroot)
    flags = SIGCHLD; /* the container refuses namespaces: none at all */
  /* clone without a new stack behaves like fork; glibc's fork() cannot create namespaces for
     the child only. */
  pid = (pid_t) syscall (SYS_clone, flags, NULL, NULL, NULL, NULL);
  if (pid == 0)
    rt_sbx_child_main (plan);
  return pid;
}

static int
finish (struct supervisor *sv, const struct sandbox_spec *spec, struct sandbox_result *res,
        bale_error_t *err)
{
  res->used_copy_root = sv->copy_mode || spec->force_copy;
  res->tail = rt_sbx_tail_take (&sv->tail);
  /* An interrupt wins over whatever the child reported: the step was killed on purpose, and
     a setup error or status from before the kill would only confuse the user. */
  if (interrupt_sig)
    {
      res->interrupted = true;
      res->interrupt_signal = interrupt_sig;
      return 0;
    }
  if (sv->error)
    return bale_make_error (err, sv->error_errno, "%s: %s", spec->name ? spec->name : "RUN",
                            sv->error);
  if (!sv->have_status)
    return bale_make_error (err, 0, "%s: the sandbox exited without a status",
                            spec->name ? spec->name : "RUN");
  res->exited = WIFEXITED (sv->status);
  res->exit_code = res->exited ? WEXITSTATUS (sv->status) : -1;
  res->term_signal = WIFSIGNALED (sv->status) ? WTERMSIG (sv->status) : 0;
  return 0;
}

int
sandbox_run (const struct sandbox_spec *spec, struct sandbox_result *res, bale_error_t *err)
{
  struct rt_sbx_plan plan = { .sync_fd = -1, .in_fd = -1, .notify_sock = -1 };
  struct supervisor sv = { .records = STRBUF_INIT, .streams = { { .fd = -1 }, { .fd = -1 } },
                           .notify = RT_SBX_NOTIFIER_INIT };
  int pipes[2][2] = { { -1, -1 }, { -1, -1 } }, sync[2] = { -1, -1 };
  struct sigaction old[3];
  sigset_t mask;
  pid_t pid = -1;
  int ret = -1, wstatus = 0, pidfd = -1, mnt_ns = -1;
  bale_error_t merr = NULL; /* chroot isolation: a mount's copy the step misused */

  memset (res, 0, sizeof *res);
  sv.streams[0].partial = sv.streams[1].partial = (struct strbuf) STRBUF_INIT;
  if (check_spec (spec, err) < 0)
    return -1;
  /* From here to the end, SIGINT and SIGTERM are ours: blocked until the step exists, then
     they kill it; the scratch directory is removed in every case. */
  if (!spec->insecure && rt_seccomp_default (&plan.seccomp, err) < 0)
    return -1;
  catch_signals (old, &mask);
  kill_group = spec->chroot;
  if (rt_sbx_plan_init (&plan, spec, err) < 0 || make_stdio (&plan, &sv, pipes, err) < 0
      || rt_sbx_notify_open (&sv.notify, spec, &plan.notify_sock, err) < 0
      || (spec->chroot && rt_sbx_chroot_prepare (&plan, err) < 0))
    goto out;
  if (pipe2 (sync, O_CLOEXEC) < 0)
    {
      ret = bale_make_error (err, errno, "cannot create the sandbox's pipe");
      goto out;
    }
  plan.sync_fd = sync[1];
  trace_mark ("sandbox: prepared");
  pid = spawn (&plan);
  if (pid < 0)
    {
      ret = bale_make_error (err, errno, "cannot create the namespaces of the sandbox");
      goto out;
    }
  init_pid = pid;
  /* The child is not reaped before waitpid below: its pid names it until then. */
  if (spec->keep_mnt_ns && !spec->chroot)
    {
      char ns[64];
      snprintf (ns, sizeof ns, "/proc/%ld/ns/mnt", (long) pid);
      mnt_ns = open (ns, O_RDONLY | O_CLOEXEC);
    }
  sigprocmask (SIG_SETMASK, &mask, NULL); /* a pending SIGINT now kills the step */
  close (steal_fd (&sync[1]));
  if (plan.notify_sock >= 0)
    close (steal_fd (&plan.notify_sock));
  close_pair (pipes[0]);
  close_pair (pipes[1]);
  /* pidfd_open is Linux 5.3's; without it the step ends with its output (as before 5.3). */
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  supervise (&sv, spec, steal_fd (&sync[0]), pidfd);
  if (pidfd >= 0)
    close (pidfd);
  while (waitpid (pid, &wstatus, 0) < 0 && errno == EINTR)
    ;
  /* With a PID namespace the child became the command (PID 1): its status is waitpid's.
     Chroot isolation's init reports it on the pipe. */
  if (!spec->chroot && !sv.error)
    {
      sv.have_status = true;
      sv.status = wstatus;
    }
  trace_mark ("sandbox: reaped");
  remove_stubs (&sv, sv.copy_mode || spec->force_copy ? spec->copy_root : spec->upperdir);
out:
  /* The mounts' copies go first: a secret must be out of the root before anything else. */
  rt_sbx_chroot_mounts_restore (&plan, &merr);
  rt_sbx_chroot_restore (&plan);
  if (spec->stdin_fd < 0 && plan.in_fd >= 0)
    close (plan.in_fd);
  close_pair (pipes[0]);
  close_pair (pipes[1]);
  close_pair (sync);
  if (plan.notify_sock >= 0)
    close (plan.notify_sock);
  rt_sbx_plan_release (&plan);
  if (pid > 0)
    ret = finish (&sv, spec, res, err);
  if (mnt_ns >= 0)
    {
      res->has_mnt_ns = true;
      res->mnt_ns = mnt_ns;
    }
  if (merr && ret == 0 && !res->interrupted)
    /* The step ran, but what it did with its mounts cannot be kept. */
    ret = bale_make_error (err, merr->status, "%s: %s", spec->name ? spec->name : "RUN", merr->msg);
  bale_error_release (&merr);
  supervisor_release (&sv);
  restore_signals (old, &mask);
  trace_mark ("sandbox: stubs and scratch removed");
  return ret;
}
