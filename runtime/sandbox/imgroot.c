/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Read an image's filesystem through a read-only view mounted in a throw-away child process. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/sandbox/imgroot.h"
#include "runtime/layer/rootview.h"
#include "common/banned.h"

/* The child: {"result": ...} or {"error": message, "status": errno} on fd, then exit. */
static void __attribute__ ((noreturn))
child (const char *const *lowerdirs, size_t n, const char *mp, imgroot_fn fn, void *arg, int fd)
{
  bale_error_t err = NULL;
  json_t *result = NULL, *msg = json_object ();
  int rootfd = -1, status;

  if (rootview_unshare (&err) == 0 && rootview_mount (lowerdirs, n, mp, &err) == 0)
    {
      rootfd = open (mp, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (rootfd < 0)
        bale_make_error (&err, errno, "cannot open the image view %s", mp);
      else if (fn (rootfd, arg, &result, &err) == 0)
        json_object_set_new (msg, "result", result);
    }
  if (err)
    {
      json_object_set_new (msg, "error", json_string (err->msg));
      json_object_set_new (msg, "status", json_integer (err->status));
    }
  status = json_dumpfd (msg, fd, JSON_COMPACT) == 0 ? 0 : 1;
  json_decref (msg);
  bale_error_release (&err);
  _exit (status);
}

int
imgroot_with (const char *const *lowerdirs, size_t n, const char *dir, imgroot_fn fn, void *arg,
              json_t **out, bale_error_t *err)
{
  cleanup_free char *mp = xasprintf ("%s/root", dir);
  struct strbuf sb = STRBUF_INIT;
  json_t *msg;
  int p[2], status, ret = -1;
  pid_t pid;

  if (mkdir (mp, 0700) < 0)
    return bale_make_error (err, errno, "cannot create %s", mp);
  if (pipe2 (p, O_CLOEXEC) < 0)
    return bale_make_error (err, errno, "cannot create a pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      return bale_make_error (err, errno, "cannot fork");
    }
  if (pid == 0)
    {
      close (p[0]);
      child (lowerdirs, n, mp, fn, arg, p[1]);
    }
  close (p[1]);
  ret = fileio_read_fd (p[0], "the image view's pipe", &sb, err);
  close (p[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (ret < 0)
    goto out;
  ret = -1;
  msg = json_loads (sb.buf ? sb.buf : "", 0, NULL);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || !json_is_object (msg))
    bale_make_error (err, 0, "the process reading the image's filesystem failed");
  else if (json_object_get (msg, "error"))
    bale_make_error (err, (int) json_integer_value (json_object_get (msg, "status")), "%s",
                     json_string_value (json_object_get (msg, "error")));
  else
    {
      *out = json_incref (json_object_get (msg, "result"));
      ret = 0;
    }
  json_decref (msg);
out:
  strbuf_release (&sb);
  return ret;
}
