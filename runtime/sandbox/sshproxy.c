/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A relay in front of an ssh-agent socket, for every RUN --mount=type=ssh: the step gets a
 * socket of ours with the owner and mode it asked for (the agent's own keeps its), which
 * passes only the requests of a read-only agent (BuildKit serves such a socket too). One
 * process accepts; each connection gets a process of its own. Both die with their parent.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <stdint.h>
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

/* OpenSSH's bound on an agent message (AGENT_MAX_LEN), and the messages a step may send. */
#define AGENT_MAX_LEN (256 * 1024)
enum
{
  AGENT_FAILURE = 5,
  AGENTC_REQUEST_IDENTITIES = 11,
  AGENTC_SIGN_REQUEST = 13,
};

/* len bytes of fd; -1 at an error or the end. */
static int
read_full (int fd, void *buf, size_t len)
{
  for (size_t got = 0; got < len;)
    {
      ssize_t n = read (fd, (char *) buf + got, len - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      got += (size_t) n;
    }
  return 0;
}

/* One message of the agent protocol (a 4-byte big-endian length, then a type and its data)
   into buf; its length with the header, or -1 at the end, an error or a size past the bound. */
static ssize_t
read_message (int fd, unsigned char *buf)
{
  uint32_t len;

  if (read_full (fd, buf, 4) < 0)
    return -1;
  len = (uint32_t) buf[0] << 24 | (uint32_t) buf[1] << 16 | (uint32_t) buf[2] << 8 | buf[3];
  if (len == 0 || len > AGENT_MAX_LEN || read_full (fd, buf + 4, len) < 0)
    return -1;
  return (ssize_t) len + 4;
}

/*
 * Serve one connection of the step as a read-only agent, as BuildKit's readOnlyAgent does: a
 * request for the identities or for a signature goes to the agent and its answer comes back;
 * anything else (adding or removing keys, removing them all, locking, unlocking, extensions)
 * is answered SSH_AGENT_FAILURE without reaching it. A raw relay let a RUN step empty the
 * user's agent, add keys to it or lock it with a password of its own.
 */
static void
relay (int client, const char *agent)
{
  static const unsigned char failure[5] = { 0, 0, 0, 1, AGENT_FAILURE };
  struct sockaddr_un a;
  int up = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unsigned char *buf = xmalloc (AGENT_MAX_LEN + 4);
  ssize_t n;

  if (up < 0 || unix_addr (agent, &a) < 0 || connect (up, (struct sockaddr *) &a, sizeof a) < 0)
    n = -1;
  else
    while ((n = read_message (client, buf)) > 0)
      {
        if (buf[4] != AGENTC_REQUEST_IDENTITIES && buf[4] != AGENTC_SIGN_REQUEST)
          n = fileio_write_all (client, failure, sizeof failure);
        else if (fileio_write_all (up, buf, (size_t) n) < 0 || (n = read_message (up, buf)) < 0)
          break;
        else
          n = fileio_write_all (client, buf, (size_t) n);
        if (n < 0)
          break;
      }
  free (buf);
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
