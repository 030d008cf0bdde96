/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ssh-agent relay: its socket has the owner and mode asked for, bytes go both ways, and
   stopping it ends the connections. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/sandbox/sshproxy.h"
#include "tests/testutil.h"

/* A unix socket listening at path (listen), or connected to it. */
static int
unix_socket (const char *path, bool listen_there)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);

  snprintf (a.sun_path, sizeof a.sun_path, "%s", path);
  assert_true (fd >= 0);
  if (listen_there)
    {
      assert_int_equal (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
      assert_int_equal (listen (fd, 4), 0);
    }
  else
    assert_int_equal (connect (fd, (struct sockaddr *) &a, sizeof a), 0);
  return fd;
}

/* An "agent" that answers each message with its bytes reversed, once per connection. */
static pid_t
start_agent (int listener)
{
  pid_t pid = fork ();

  assert_true (pid >= 0);
  if (pid == 0)
    prctl (PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion must not leave it behind */
  if (pid == 0)
    for (;;)
      {
        char buf[64], out[64];
        int c = accept (listener, NULL, NULL);
        ssize_t n = c < 0 ? -1 : read (c, buf, sizeof buf);
        for (ssize_t i = 0; i < n; i++)
          out[i] = buf[n - 1 - i];
        if (n > 0 && write (c, out, (size_t) n) != n)
          _exit (1);
        close (c);
      }
  return pid;
}

static void
test_relay (void **state)
{
  char dir[] = "/tmp/bale-sshproxy.XXXXXX";
  char *agent, *relay;
  bale_error_t err = NULL;
  struct stat st;
  pid_t agent_pid, relay_pid = 0;
  char buf[16] = { 0 };
  int fd, l;

  (void) state;
  assert_non_null (mkdtemp (dir));
  agent = xasprintf ("%s/agent", dir);
  relay = xasprintf ("%s/relay", dir);
  l = unix_socket (agent, true);
  agent_pid = start_agent (l);
  close (l);

  assert_int_equal (sshproxy_start (agent, relay, getuid (), getgid (), 0640, &relay_pid, &err), 0);
  assert_int_equal (stat (relay, &st), 0);
  assert_true (S_ISSOCK (st.st_mode));
  assert_int_equal (st.st_mode & 0777, 0640);
  assert_int_equal (st.st_uid, getuid ());

  /* Two connections, one after the other: each is relayed on its own. */
  for (int round = 0; round < 2; round++)
    {
      fd = unix_socket (relay, false);
      assert_int_equal (write (fd, "ping", 4), 4);
      assert_int_equal (read (fd, buf, sizeof buf - 1), 4);
      assert_string_equal (buf, "gnip");
      close (fd);
    }

  /* Once stopped, nothing listens any more. */
  fd = unix_socket (relay, false);
  sshproxy_stop (relay_pid);
  {
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int again = socket (AF_UNIX, SOCK_STREAM, 0);
    snprintf (a.sun_path, sizeof a.sun_path, "%s", relay);
    assert_int_equal (connect (again, (struct sockaddr *) &a, sizeof a), -1);
    assert_int_equal (errno, ECONNREFUSED);
    close (again);
  }
  /* The open connection went with it: reset, or closed. */
  if (write (fd, "x", 1) == 1)
    assert_true (read (fd, buf, sizeof buf) <= 0);
  close (fd);

  /* A path longer than a socket address can hold is an error, not a truncation. */
  {
    char *lng = xasprintf ("%s/%0200d", dir, 0);
    assert_true (sshproxy_start (agent, lng, getuid (), getgid (), 0600, &relay_pid, &err) < 0);
    assert_non_null (strstr (err->msg, "ssh socket path"));
    bale_error_release (&err);
    free (lng);
  }

  kill (agent_pid, SIGKILL);
  waitpid (agent_pid, NULL, 0);
  unlink (agent);
  unlink (relay);
  rmdir (dir);
  free (agent);
  free (relay);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_relay),
  };

  signal (SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests_name ("sshproxy", tests, NULL, NULL);
}
