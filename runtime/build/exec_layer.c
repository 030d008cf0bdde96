/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A layer made by a child process (COPY, ADD, WORKDIR: the child mounts views in its own
 * mount namespace): the child writes the layer tar straight into the store's temporary file
 * and reports the digest it computed of those bytes; the parent checks the size and
 * publishes the blob. When a later step needs the layer as a snapshot, the child writes into
 * a pipe instead, and the parent stores the stream (without hashing it again) while a thread
 * unpacks it. A RUN step's layer is written in bale's own process (exec_inline_layer).
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fileio.h"
#include "common/trace.h"
#include "runtime/build/executor_internal.h"
#include "runtime/layer/layer.h"
#include "runtime/store/store.h"
#include "common/banned.h"

#define LAYER_MT_TAR "application/vnd.oci.image.layer.v1.tar"

/* ---- unpacking while the layer streams in ------------------------------------------------- */

/* A thread that unpacks the layer (overlay form) from a pipe as the parent stores it, so a
   step after this one finds its snapshot made rather than unpacking it then. A failure only
   means that step unpacks it from the blob: the thread drains the pipe and says so. */
struct unpacker
{
  pthread_t tid;
  int rfd, wfd;    /* the pipe; wfd is the parent's, -1 when there is no unpacker */
  int root_fd;     /* the tree being made */
  int ret;
};

static void *
unpack_thread (void *arg)
{
  struct unpacker *u = arg;
  struct layer_extract_opts opts = { .mode = LAYER_EXTRACT_OVERLAY };
  bale_error_t e = NULL;
  char buf[1 << 16];

  u->ret = layer_extract (u->rfd, u->root_fd, &opts, NULL, &e);
  bale_error_release (&e);
  /* Whatever is left (a failure, or the tar's padding): the writer must never block. */
  for (;;)
    {
      ssize_t n = read (u->rfd, buf, sizeof buf);
      if (n > 0 || (n < 0 && errno == EINTR))
        continue;
      break;
    }
  return NULL;
}

static int
unpacker_start (struct unpacker *u, const char *tree)
{
  int p[2];

  u->wfd = -1;
  u->root_fd = open (tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (u->root_fd < 0 || pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  /* A deep pipe: the layer writer and the unpacker rarely wait on each other. */
  fcntl (p[1], F_SETPIPE_SZ, 1 << 20);
  u->rfd = p[0];
  u->wfd = p[1];
  if (pthread_create (&u->tid, NULL, unpack_thread, u) != 0)
    {
      close (p[0]);
      close (p[1]);
      u->wfd = -1;
      return -1;
    }
  return 0;
}

/* End the stream and wait: 0 when the tree is the whole layer. */
static int
unpacker_finish (struct unpacker *u)
{
  if (u->wfd < 0)
    {
      if (u->root_fd >= 0)
        close (u->root_fd);
      return -1;
    }
  close (u->wfd);
  u->wfd = -1;
  pthread_join (u->tid, NULL);
  close (u->rfd);
  close (u->root_fd);
  return u->ret;
}

/* Read the layer from fd into a new blob of the store (and the unpacker, when there is one);
   the child's report names the bytes (its layer writer hashed them). */
static int
receive (int fd, struct store_blob_writer **wp, struct unpacker *u, bale_error_t *err)
{
  char buf[1 << 16];

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (exec_interrupted)
        return bale_make_error (err, 0, "interrupted");
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return bale_make_error (err, errno, "reading the layer");
      if (n == 0)
        return 0;
      if (store_blob_writer_write_hashed (*wp, buf, (size_t) n, err) < 0)
        return -1;
      if (u->wfd >= 0 && fileio_write_all (u->wfd, buf, (size_t) n) < 0)
        {
          /* The unpacker is gone: the layer is still stored, its snapshot comes later. */
          close (u->wfd);
          u->wfd = -1;
          pthread_join (u->tid, NULL);
          close (u->rfd);
          u->ret = -1;
        }
    }
}

int
exec_child_layer (struct executor *x, const struct plan_step *s, exec_layer_fn fn, void *ctx,
                  struct exec_layer *out, bale_error_t *err)
{
  return exec_child_layer_unpacked (x, s, fn, ctx, NULL, out, err);
}

/* Fill out from a stored blob of media type tar. */
static void
set_layer (struct executor *x, const struct child_report *rep, const char *digest,
           struct exec_layer *out)
{
  memset (out, 0, sizeof *out);
  out->media_type = (char *) LAYER_MT_TAR;
  memcpy (out->digest, digest, sizeof out->digest);
  memcpy (out->diff_id, rep->diff_id, sizeof out->diff_id);
  out->size = rep->size;
  out->path = store_blob_path (x->o->store, digest);
}

int
exec_commit_wait (struct executor *x, bale_error_t *err)
{
  struct store_commit *c = x->pending_commit;

  x->pending_commit = NULL;
  return store_commit_wait (c, err);
}

static int
inline_layer (struct executor *x, const struct plan_step *s, exec_layer_fn fn, void *ctx,
              bool async, struct exec_layer *out, bale_error_t *err)
{
  struct child_report rep = { 0 };
  struct store_blob_writer *bw;
  bale_error_t e = NULL;

  /* One commit pending at a time: the previous step's is done by now, mostly. */
  if (exec_commit_wait (x, err) < 0)
    return -1;
  bw = store_blob_writer_new (x->o->store, err);
  if (!bw)
    return -1;
  trace_mark ("layer: writing");
  if (fn (ctx, store_blob_writer_fd (bw), &rep, &e) < 0)
    {
      store_blob_writer_abort (bw);
      exec_step_error (x, s, e->msg, e->status, err);
      bale_error_release (&e);
      return -1;
    }
  trace_mark ("layer: tar written and hashed");
  /* Uncompressed: the blob is the tar, its digest the diff_id the writer computed. */
  if (strcmp (rep.digest, rep.diff_id) != 0)
    {
      store_blob_writer_abort (bw);
      return bale_make_error (err, 0, "%s: the layer was compressed", bale_instr_name (s->instr));
    }
  if (async)
    {
      x->pending_commit = store_blob_writer_commit_async (bw, rep.digest, rep.size, err);
      if (x->pending_commit == NULL)
        return -1;
    }
  else if (store_blob_writer_commit_hashed (bw, rep.digest, rep.size, err) < 0)
    return -1;
  set_layer (x, &rep, rep.digest, out);
  return 0;
}

int
exec_inline_layer (struct executor *x, const struct plan_step *s, exec_layer_fn fn, void *ctx,
                   struct exec_layer *out, bale_error_t *err)
{
  return inline_layer (x, s, fn, ctx, false, out, err);
}

int
exec_inline_layer_async (struct executor *x, const struct plan_step *s, exec_layer_fn fn,
                         void *ctx, struct exec_layer *out, bale_error_t *err)
{
  return inline_layer (x, s, fn, ctx, true, out, err);
}

int
exec_child_layer_unpacked (struct executor *x, const struct plan_step *s, exec_layer_fn fn,
                           void *ctx, const char *tree, struct exec_layer *out, bale_error_t *err)
{
  struct unpacker u = { .wfd = -1, .root_fd = -1 };
  bool unpacked = false;
  struct child_report rep = { 0 };
  struct store_blob_writer *bw = NULL;
  int data[2] = { -1, -1 }, report[2] = { -1, -1 }, status = 0, ret = -1, i;
  pid_t pid;

  /* A deferred key (exec_cache_defer) is taken while the child writes, but a parent that
     unpacks the stream is busy: then first. */
  if (x->deferred.st && tree && x->deferred.lookup (x, s) == 1)
    return 1;
  /* Without a tree to unpack, the child writes the blob itself: no pipe, no second copy,
     no second SHA-256 of the layer (its report names the bytes, as exec_inline_layer's
     writer does in this process). */
  if ((tree && pipe2 (data, O_CLOEXEC) < 0) || pipe2 (report, O_CLOEXEC) < 0)
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
      if (data[0] >= 0)
        close (data[0]);
      close (report[0]);
      signal (SIGPIPE, SIG_DFL);
      /* The parent stops this process when a signal interrupts the build. */
      signal (SIGINT, SIG_DFL);
      signal (SIGTERM, SIG_DFL);
      signal (SIGHUP, SIG_DFL);
      trace_mark ("layer: child started");
      rep.ok = fn (ctx, tree ? data[1] : store_blob_writer_fd (bw), &rep, &e) == 0;
      trace_mark ("layer: child wrote the tar");
      if (!rep.ok)
        {
          snprintf (rep.msg, sizeof rep.msg, "%s", e ? e->msg : "failed");
          rep.status = e ? e->status : 0;
        }
      if (data[1] >= 0)
        close (data[1]);
      fileio_write_all (report[1], &rep, sizeof rep);
      _exit (rep.ok ? 0 : 1);
    }
  /* The parent's own mark: the child's may come late, whenever it is scheduled. */
  trace_mark ("layer: child forked");
  close (report[1]);
  report[1] = -1;
  if (x->deferred.st && x->deferred.lookup (x, s) == 1)
    {
      /* The cache had the layer after all: the child's is not needed. */
      kill (pid, SIGKILL);
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      ret = 1;
      goto out;
    }
  if (tree)
    {
      close (data[1]);
      data[1] = -1;
      unpacker_start (&u, tree);
      bale_error_t e = NULL;
      if (receive (data[0], &bw, &u, &e) < 0)
        {
          exec_step_error (x, s, e->msg, e->status, err);
          bale_error_release (&e);
          kill (pid, SIGKILL);
          while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
            ;
          unpacker_finish (&u);
          goto out;
        }
      trace_mark ("layer: parent received the tar");
      unpacked = unpacker_finish (&u) == 0;
    }
  {
    ssize_t n;
    size_t got = 0;
    /* A signal that came while this process took the deferred key or unpacked (not while it
       waited in read) would otherwise wait for the whole layer. */
    if (exec_interrupted)
      kill (pid, SIGKILL);
    while (got < sizeof rep && (n = read (report[0], (char *) &rep + got, sizeof rep - got)) != 0)
      {
        if (exec_interrupted)
          {
            kill (pid, SIGKILL);
            break;
          }
        if (n < 0 && errno == EINTR)
          continue;
        if (n < 0)
          break;
        got += (size_t) n;
      }
    if (got != sizeof rep)
      rep.ok = 0, rep.status = 0, snprintf (rep.msg, sizeof rep.msg, "%s",
                            exec_interrupted ? "interrupted" : "the layer process died");
  }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!rep.ok || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      exec_step_error (x, s, rep.ok ? "the layer process failed" : rep.msg, rep.ok ? 0 : rep.status, err);
      goto out;
    }
  {
    char digest[DIGEST_STRLEN + 1];
    int r;
    trace_mark ("layer: child reaped");
    if (strcmp (rep.digest, rep.diff_id) != 0)
      {
        store_blob_writer_abort (bw);
        r = bale_make_error (err, 0, "%s: the layer was compressed", bale_instr_name (s->instr));
      }
    else
      {
        /* The child's digest of the bytes it wrote, into the file or through the pipe;
           commit_hashed checks their size against the file's. */
        r = store_blob_writer_commit_hashed (bw, rep.digest, rep.size, err);
        memcpy (digest, rep.digest, sizeof digest);
      }
    bw = NULL;
    if (r < 0)
      goto out;
    set_layer (x, &rep, digest, out);
    memcpy (x->layer_written, rep.written, sizeof x->layer_written);
  }
  /* The tree is the very bytes the blob holds: the layer's snapshot. */
  if (unpacked)
    {
      bale_error_t e = NULL;
      if (snapshot_adopt_unsynced (store_snapshots_fd (x->o->store), out->diff_id, tree,
                                   &out->snapshot, &e) < 0)
        {
          free (out->snapshot);
          out->snapshot = NULL;
        }
      bale_error_release (&e);
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
