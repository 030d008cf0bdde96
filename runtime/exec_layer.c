/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A layer made by a child process: the child writes the layer tar into a pipe and reports
 * its digests; the parent streams the pipe into a store blob and checks it against the
 * report. Used by COPY/ADD/WORKDIR (the child mounts views in its own mount namespace) and
 * RUN (the child diffs the sandbox's upper directory).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fileio.h"
#include "runtime/executor_internal.h"
#include "runtime/store.h"
#include "common/banned.h"

#define LAYER_MT_TAR "application/vnd.oci.image.layer.v1.tar"

/* Read the layer from fd into a new blob of the store; the child's report says what it must
   hash to. */
static int
receive (struct executor *x, int fd, struct store_blob_writer **wp, bale_error_t *err)
{
  char buf[1 << 16];

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return bale_make_error (err, errno, "reading the layer");
      if (n == 0)
        return 0;
      if (store_blob_writer_write (*wp, buf, (size_t) n, err) < 0)
        return -1;
    }
  (void) x;
}

int
exec_child_layer (struct executor *x, const struct plan_step *s, exec_layer_fn fn, void *ctx,
                  struct exec_layer *out, bale_error_t *err)
{
  struct child_report rep = { 0 };
  struct store_blob_writer *bw = NULL;
  int data[2] = { -1, -1 }, report[2] = { -1, -1 }, status = 0, ret = -1, i;
  pid_t pid;

  if (pipe2 (data, O_CLOEXEC) < 0 || pipe2 (report, O_CLOEXEC) < 0)
    {
      bale_make_error (err, errno, "pipe");
      goto out;
    }
  bw = store_blob_writer_new (x->o->store, err);
  if (!bw)
    goto out;
  pid = fork ();
  if (pid < 0)
    {
      bale_make_error (err, errno, "fork");
      goto out;
    }
  if (pid == 0)
    {
      bale_error_t e = NULL;
      close (data[0]);
      close (report[0]);
      signal (SIGPIPE, SIG_DFL);
      rep.ok = fn (ctx, data[1], &rep, &e) == 0;
      if (!rep.ok)
        snprintf (rep.msg, sizeof rep.msg, "%s", e ? e->msg : "failed");
      close (data[1]);
      bale_write_all (report[1], &rep, sizeof rep);
      _exit (rep.ok ? 0 : 1);
    }
  close (data[1]);
  data[1] = -1;
  close (report[1]);
  report[1] = -1;
  if (receive (x, data[0], &bw, err) < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      goto out;
    }
  {
    ssize_t n;
    size_t got = 0;
    while (got < sizeof rep && (n = read (report[0], (char *) &rep + got, sizeof rep - got)) != 0)
      {
        if (n < 0 && errno == EINTR)
          continue;
        if (n < 0)
          break;
        got += (size_t) n;
      }
    if (got != sizeof rep)
      rep.ok = 0, snprintf (rep.msg, sizeof rep.msg, "the layer process died");
  }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!rep.ok || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      plan_error_at (x->p, &s->node->span, err, "%s: %s", bale_instr_name (s->instr),
                     rep.ok ? "the layer process failed" : rep.msg);
      goto out;
    }
  {
    char digest[DIGEST_STRLEN + 1];
    int r = store_blob_writer_commit (bw, rep.digest, digest, err);
    bw = NULL;
    if (r < 0)
      goto out;
    memset (out, 0, sizeof *out);
    out->media_type = (char *) LAYER_MT_TAR;
    memcpy (out->digest, digest, sizeof out->digest);
    memcpy (out->diff_id, rep.diff_id, sizeof out->diff_id);
    out->size = rep.size;
    out->path = store_blob_path (x->o->store, digest);
  }
  ret = 0;
out:
  store_blob_writer_abort (bw);
  for (i = 0; i < 2; i++)
    {
      if (data[i] >= 0)
        close (data[i]);
      if (report[i] >= 0)
        close (report[i]);
    }
  return ret;
}
