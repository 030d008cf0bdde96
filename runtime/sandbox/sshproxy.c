/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A relay in front of an ssh-agent socket, for RUN --mount=type=ssh with uid, gid or mode:
 * the agent's own socket keeps its owner and mode, so the step gets a socket of ours that
 * has the ones it asked for (BuildKit serves such a socket too). One process accepts; each
 * connection gets a process that copies bytes both ways. Both die with their parent.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/sandbox/sshproxy.h"
#include "common/banned.h"

static int
unix_addr (const char *path, struct sockaddr_un *a)
{
  memset (a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (strlen (path) >= sizeof a->sun_path)
    return -1;
  memcpy (a->sun_path, path, strlen (path) + 1);
  return 0;
}

/* Copy what one side sends to the other until either closes. */
static void
relay (int client, const char *agent)
{
  struct sockaddr_un a;
  struct pollfd p[2];
  int up = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char buf[16384];

  if (up < 0 || unix_addr (agent, &a) < 0 || connect (up, (struct sockaddr *) &a, sizeof a) < 0)
    return;
  p[0] = (struct pollfd){ .fd = client, .events = POLLIN };
  p[1] = (struct pollfd){ .fd = up, .events = POLLIN };
  for (;;)
    {
      int i;
      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return;
        }
      for (i = 0; i < 2; i++)
        if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
          {
            ssize_t n = read (p[i].fd, buf, sizeof buf);
            if (n <= 0 || fileio_write_all (p[1 - i].fd, buf, (size_t) n) < 0)
              return;
          }
    }
}

static void __attribute__ ((noreturn))
serve (int listener, const char *agent)
{
  for (;;)
    {
      int c = accept4 (listener, NULL, NULL, SOCK_CLOEXEC);
      pid_t pid;

      while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
      if (c < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          _exit (1);
        }
      pid = fork ();
      if (pid == 0)
        {
          prctl (PR_SET_PDEATHSIG, SIGKILL);
          close (listener);
          relay (c, agent);
          _exit (0);
        }
      close (c);
    }
}

int
sshproxy_start (const char *agent, const char *path, uid_t uid, gid_t gid, mode_t mode,
                pid_t *out, bale_error_t *err)
{
  struct sockaddr_un a;
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  pid_t parent = getpid (), pid;

  if (fd < 0)
    return bale_make_error (err, errno, "cannot create a socket");
  if (unix_addr (path, &a) < 0)
    return bale_make_error (err, ENAMETOOLONG, "ssh socket path %s", path);
  /* Nobody may connect before it has the owner and mode asked for: 0700 of umask first. */
  {
    mode_t old = umask (0177);
    int r = bind (fd, (struct sockaddr *) &a, sizeof a);
    umask (old);
    if (r < 0)
      return bale_make_error (err, errno, "cannot bind %s", path);
  }
  if (chown (path, uid, gid) < 0 || chmod (path, mode) < 0 || listen (fd, 16) < 0)
    return bale_make_error (err, errno, "cannot set up the ssh socket %s", path);
  pid = fork ();
  if (pid < 0)
    return bale_make_error (err, errno, "cannot start the ssh agent relay");
  if (pid == 0)
    {
      /* Its own process group, with the children that serve connections: sshproxy_stop ends
         them all, so no child left holding the listening socket answers after the stop. */
      setpgid (0, 0);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (0);
      signal (SIGCHLD, SIG_DFL);
      serve (fd, agent);
    }
  setpgid (pid, pid); /* as the child does: whichever runs first */
  *out = pid;
  return 0;
}

void
sshproxy_stop (pid_t pid)
{
  if (pid <= 0)
    return;
  kill (-pid, SIGKILL);
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  /* The connection children are not ours to reap, but they must be gone (their files closed)
     before the caller goes on: wait up to a second for the group to empty. A zombie has
     closed its files already, so one that nobody reaps only costs the wait. */
  for (int i = 0; i < 1000 && kill (-pid, 0) == 0; i++)
    {
      struct timespec ms = { 0, 1000000 };
      nanosleep (&ms, NULL);
    }
}
