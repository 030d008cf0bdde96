/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ssh-agent relay: its socket has the owner and mode asked for, it passes only a
   read-only agent's requests, and stopping it ends the connections. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
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

/* len bytes of fd, or -1. */
static int
read_full (int fd, unsigned char *buf, size_t len)
{
  for (size_t got = 0; got < len;)
    {
      ssize_t n = read (fd, buf + got, len - got);
      if (n <= 0)
        return -1;
      got += (size_t) n;
    }
  return 0;
}

/* An "agent": each message it gets is answered SSH_AGENT_SUCCESS (6) followed by the
   request's type, and the type is written to seen (what reached the agent). */
static pid_t
start_agent (int listener, int seen)
{
  pid_t pid = fork ();

  assert_true (pid >= 0);
  if (pid == 0)
    prctl (PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion must not leave it behind */
  if (pid == 0)
    for (;;)
      {
        int c = accept (listener, NULL, NULL);
        unsigned char h[4], body[4096];
        uint32_t len;

        while (c >= 0 && read_full (c, h, 4) == 0
               && (len = (uint32_t) h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3]) > 0
               && len <= sizeof body && read_full (c, body, len) == 0)
          {
            unsigned char out[6] = { 0, 0, 0, 2, 6, body[0] };
            if (write (seen, body, 1) != 1 || write (c, out, sizeof out) != (ssize_t) sizeof out)
              _exit (1);
          }
        close (c);
      }
  return pid;
}

/* Send a request of type with n bytes of data; the answer's length and first two bytes. */
static uint32_t
ask (int fd, unsigned char type, size_t n, unsigned char answer[2])
{
  unsigned char *m = xcalloc (n + 5, 1), h[4];
  uint32_t len = (uint32_t) n + 1;

  m[0] = (unsigned char) (len >> 24);
  m[1] = (unsigned char) (len >> 16);
  m[2] = (unsigned char) (len >> 8);
  m[3] = (unsigned char) len;
  m[4] = type;
  assert_int_equal (write (fd, m, n + 5), (ssize_t) (n + 5));
  free (m);
  assert_int_equal (read_full (fd, h, 4), 0);
  len = (uint32_t) h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
  assert_true (len >= 1 && len <= 2);
  assert_int_equal (read_full (fd, answer, len), 0);
  return len;
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
  int fd, l, seen[2];

  (void) state;
  assert_int_equal (pipe2 (seen, O_NONBLOCK), 0);
  assert_non_null (mkdtemp (dir));
  agent = xasprintf ("%s/agent", dir);
  relay = xasprintf ("%s/relay", dir);
  l = unix_socket (agent, true);
  agent_pid = start_agent (l, seen[1]);
  close (l);

  assert_int_equal (sshproxy_start (agent, relay, getuid (), getgid (), 0640, &relay_pid, &err), 0);
  assert_int_equal (stat (relay, &st), 0);
  assert_true (S_ISSOCK (st.st_mode));
  assert_int_equal (st.st_mode & 0777, 0640);
  assert_int_equal (st.st_uid, getuid ());

  /* Two connections, one after the other: each is relayed on its own. The identities and a
     signature reach the agent; adding a key (17, 25) or a smartcard key (20), removing (18)
     or every key (19), locking (22), unlocking (23), extensions (27) and the old protocol's
     requests (1) are answered SSH_AGENT_FAILURE by the relay and never reach it. */
  for (int round = 0; round < 2; round++)
    {
      static const unsigned char refused[] = { 17, 18, 19, 20, 25, 22, 23, 27, 1 };
      unsigned char ans[2];

      fd = unix_socket (relay, false);
      assert_int_equal (ask (fd, 11, 0, ans), 2);
      assert_int_equal (ans[0], 6);
      assert_int_equal (ans[1], 11);
      for (size_t i = 0; i < sizeof refused; i++)
        {
          assert_int_equal (ask (fd, refused[i], 40, ans), 1);
          assert_int_equal (ans[0], 5);
        }
      assert_int_equal (ask (fd, 13, 300, ans), 2);
      assert_int_equal (ans[1], 13);
      close (fd);
    }
  {
    char types[8];
    assert_int_equal (read (seen[0], types, sizeof types), 4);
    assert_memory_equal (types, "\x0b\x0d\x0b\x0d", 4);
  }
  /* A message past OpenSSH's 256 KiB bound ends the connection. */
  fd = unix_socket (relay, false);
  assert_int_equal (write (fd, "\x00\x04\x00\x01\x0b", 5), 5);
  assert_true (read (fd, buf, sizeof buf) <= 0);
  close (fd);

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
  close (seen[0]);
  close (seen[1]);
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
