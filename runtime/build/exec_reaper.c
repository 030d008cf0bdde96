/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The build's reaper (see exec_reaper.h). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dirwalk.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/exec_reaper.h"
#include "common/trace.h"
#include "common/banned.h"

/* Remove name in dir_fd (best effort: the executor removes what is left). */
static void
remove_entry (int dir_fd, const char *name)
{
  bale_error_t e = NULL;

  dirwalk_remove (dir_fd, name, name, &e);
  bale_error_release (&e);
}

/* A message is a name of the directory to remove, or NS_MESSAGE with two descriptors: a
   mount namespace to close, then the write end of the pipe its sender waits on. */
#define NS_MESSAGE "!"

static _Noreturn void
reaper_main (int sock, int dir_fd)
{
  char name[NAME_MAX + 1];
  union
  {
    struct cmsghdr h;
    char buf[CMSG_SPACE (2 * sizeof (int))];
  } control;
  ssize_t n;

  for (;;)
    {
      struct iovec iov = { name, sizeof name - 1 };
      struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                            .msg_controllen = sizeof control.buf };
      struct cmsghdr *c;
      int fds[2] = { -1, -1 };

      n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; /* every sender is gone */
      name[n] = '\0';
      for (c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
            && c->cmsg_len == CMSG_LEN (2 * sizeof (int)))
          memcpy (fds, CMSG_DATA (c), sizeof fds);
      if (fds[0] >= 0)
        {
          /* The namespace's last reference: its mounts are unmounted in this close. */
          close (fds[0]);
          close (fds[1]);
          continue;
        }
      /* Only names of the directory itself, as exec_reaper_remove sends them. */
      if (strchr (name, '/') == NULL && strcmp (name, ".") != 0 && strcmp (name, "..") != 0
          && strcmp (name, NS_MESSAGE) != 0)
        remove_entry (dir_fd, name);
    }
  _exit (0);
}

void
exec_reaper_start (struct exec_reaper *r, const char *dir)
{
  int sv[2];

  r->fd = r->dir_fd = r->ns_wait_fd = -1;
  r->pid = -1;
  r->seq = 0;
  r->owner = getpid ();
  r->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (r->dir_fd < 0)
    return;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return;
  r->pid = fork ();
  if (r->pid == 0)
    {
      close (sv[0]);
      reaper_main (sv[1], r->dir_fd);
    }
  close (sv[1]);
  if (r->pid < 0)
    {
      close (sv[0]);
      return;
    }
  r->fd = sv[0];
}

/* Send name; false when the reaper cannot take it. */
static bool
send_name (struct exec_reaper *r, const char *name)
{
  ssize_t n;

  if (r->fd < 0)
    return false;
  do
    n = send (r->fd, name, strlen (name), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) strlen (name);
}

void
exec_reaper_remove (struct exec_reaper *r, const char *path)
{
  char name[64];
  const char *base = strrchr (path, '/');

  if (r->dir_fd >= 0)
    {
      /* The pid keeps the names of stage processes apart. */
      snprintf (name, sizeof name, "reap.%ld.%lu", (long) getpid (), r->seq++);
      if (renameat (AT_FDCWD, path, r->dir_fd, name) == 0)
        {
          if (!send_name (r, name))
            remove_entry (r->dir_fd, name);
          return;
        }
      if (errno == ENOENT)
        return;
    }
  {
    cleanup_free char *parent = xstrndup (path, base ? (size_t) (base - path) : 0);
    cleanup_close int fd = open (base ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
      remove_entry (fd, base ? base + 1 : path);
  }
}

void
exec_reaper_keep (struct exec_reaper *r, const char *path)
{
  char name[64];

  if (r->fd < 0)
    return;
  snprintf (name, sizeof name, "reap.%ld.%lu", (long) getpid (), r->seq++);
  if (linkat (AT_FDCWD, path, r->dir_fd, name, 0) == 0 && !send_name (r, name))
    remove_entry (r->dir_fd, name);
}

void
exec_reaper_wait_ns (struct exec_reaper *r)
{
  char c;

  if (r->ns_wait_fd < 0)
    return;
  /* EOF: the reaper closed the namespace and then the pipe (or it died, which closes both). */
  while (read (r->ns_wait_fd, &c, 1) < 0 && errno == EINTR)
    ;
  close (r->ns_wait_fd);
  r->ns_wait_fd = -1;
  trace_mark ("reaper: namespace gone");
}

void
exec_reaper_release_ns (struct exec_reaper *r, int ns_fd)
{
  union
  {
    struct cmsghdr h;
    char buf[CMSG_SPACE (2 * sizeof (int))];
  } control;
  struct iovec iov = { (char *) NS_MESSAGE, 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof control.buf };
  struct cmsghdr *c;
  int p[2];
  ssize_t n;

  exec_reaper_wait_ns (r);
  if (r->fd < 0 || pipe2 (p, O_CLOEXEC) < 0)
    {
      close (ns_fd);
      return;
    }
  memset (&control, 0, sizeof control);
  c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (2 * sizeof (int));
  memcpy (CMSG_DATA (c), (int[2]){ ns_fd, p[1] }, 2 * sizeof (int));
  do
    n = sendmsg (r->fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  close (p[1]);
  close (ns_fd); /* the reaper's copy, when it took one, is the last */
  if (n == 1)
    r->ns_wait_fd = p[0];
  else
    close (p[0]);
}

void
exec_reaper_keep_cb (void *ctx, const char *path)
{
  exec_reaper_keep (ctx, path);
}

void
exec_reaper_remove_all (struct exec_reaper *r)
{
  DIR *d;
  struct dirent *de;
  int fd;

  if (r->dir_fd < 0 || (fd = dup (r->dir_fd)) < 0)
    return;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return;
    }
  rewinddir (d);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0
        && !send_name (r, de->d_name))
      remove_entry (r->dir_fd, de->d_name);
  closedir (d);
}

void
exec_reaper_finish (struct exec_reaper *r)
{
  int status;
  bool owner = r->owner == getpid ();

  exec_reaper_wait_ns (r);
  if (r->fd >= 0)
    {
      if (owner)
        shutdown (r->fd, SHUT_WR);
      close (r->fd);
    }
  r->fd = -1;
  if (owner && r->pid > 0)
    while (waitpid (r->pid, &status, 0) < 0 && errno == EINTR)
      ;
  r->pid = -1;
  if (r->dir_fd >= 0)
    close (r->dir_fd);
  r->dir_fd = -1;
  trace_mark ("executor: reaper done");
}
