/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Independent stages in parallel. Each stage whose dependencies (its FROM stage, and the
 * stages it copies or mounts from) are built runs in a child process, up to one per CPU;
 * the child reports the stage's layers as JSON in an unlinked file, and the parent records
 * them before starting the stages that wait for it. Processes, not threads: a RUN step's
 * sandbox wants a single-threaded caller, and a crashing stage cannot take the others down.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/executor_internal.h"
#include "runtime/store/store.h"
#include "common/banned.h"

static json_t *
str_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

static json_t *
state_to_json (const struct stage_state *s)
{
  json_t *o = json_object (), *layers = json_array (), *ids = json_array ();
  size_t i;

  for (i = 0; i < s->n_layers; i++)
    {
      const struct exec_layer *l = &s->layers[i];
      json_t *j = json_object ();
      json_object_set_new (j, "media_type", json_string (l->media_type));
      json_object_set_new (j, "digest", json_string (l->digest));
      json_object_set_new (j, "diff_id", json_string (l->diff_id));
      json_object_set_new (j, "size", json_integer (l->size));
      json_object_set_new (j, "path", str_or_null (l->path));
      json_object_set_new (j, "snapshot", str_or_null (l->snapshot));
      json_object_set_new (j, "created_ns", json_integer ((json_int_t) l->created_ns));
      json_array_append_new (layers, j);
    }
  for (i = 0; i < s->n_new; i++)
    json_array_append_new (ids, json_string (s->new_diff_ids[i]));
  json_object_set_new (o, "layers", layers);
  json_object_set_new (o, "new_diff_ids", ids);
  return o;
}

static void
state_from_json (struct stage_state *s, const json_t *o)
{
  const json_t *layers = json_object_get (o, "layers"), *ids = json_object_get (o, "new_diff_ids");
  size_t i;

  for (i = 0; i < json_array_size (layers); i++)
    {
      const json_t *j = json_array_get (layers, i);
      struct exec_layer l = { 0 };
      l.media_type = (char *) json_string_value (json_object_get (j, "media_type"));
      snprintf (l.digest, sizeof l.digest, "%s", json_string_value (json_object_get (j, "digest")));
      snprintf (l.diff_id, sizeof l.diff_id, "%s", json_string_value (json_object_get (j, "diff_id")));
      l.size = json_integer_value (json_object_get (j, "size"));
      l.path = (char *) json_string_value (json_object_get (j, "path"));
      l.snapshot = (char *) json_string_value (json_object_get (j, "snapshot"));
      l.created_ns = json_integer_value (json_object_get (j, "created_ns"));
      exec_state_add_layer (s, &l, false);
    }
  for (i = 0; i < json_array_size (ids); i++)
    {
      XGROW (s->new_diff_ids, s->alloc_new, s->n_new + 1);
      s->new_diff_ids[s->n_new++] = xstrdup (json_string_value (json_array_get (ids, i)));
    }
}

/* The stages st must wait for. */
static bool
ready (const struct plan *p, const struct plan_stage *st, const bool *done)
{
  size_t k;

  if (st->base_stage >= 0 && !done[st->base_stage])
    return false;
  for (k = 0; k < st->n_deps; k++)
    if (!done[st->deps[k]])
      return false;
  (void) p;
  return true;
}

/* Pass the complete lines the child sent on to the build's sink; at EOF, close the pipe. */
void
exec_job_read_events (const struct bale_progress *events, struct exec_job *j)
{
  char buf[16384];
  ssize_t n = read (j->events, buf, sizeof buf);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      close (j->events);
      j->events = -1;
      return;
    }
  strbuf_add (&j->pending, buf, (size_t) n);
  progress_feed (&j->pending, events);
}

/* Wait for one of the jobs to end, relaying their events meanwhile: its pid, or -1 with
   errno (EINTR when a signal came). */
pid_t
exec_job_wait (const struct bale_progress *events, struct exec_job *jobs, size_t n, int *status)
{
  struct pollfd *pfd = xcalloc (n + 1, sizeof *pfd);
  struct exec_job **who = xcalloc (n + 1, sizeof *who);
  pid_t ret;

  for (;;)
    {
      size_t i, k = 0;
      bool closed = false;
      int r;
      for (i = 0; i < n; i++)
        if (jobs[i].events < 0)
          {
            closed = true;
            if ((ret = waitpid (jobs[i].pid, status, WNOHANG)) != 0)
              goto out;
          }
      if (!events)
        {
          ret = waitpid (-1, status, 0);
          goto out;
        }
      for (i = 0; i < n; i++)
        if (jobs[i].events >= 0)
          {
            pfd[k].fd = jobs[i].events;
            pfd[k].events = POLLIN;
            who[k++] = &jobs[i];
          }
      /* A child whose pipe is closed is about to exit: look again soon. */
      r = poll (pfd, k, closed ? 10 : -1);
      if (r < 0 && errno == EINTR)
        {
          ret = -1;
          goto out;
        }
      for (i = 0; r > 0 && i < k; i++)
        if (pfd[i].revents)
          exec_job_read_events (events, who[i]);
    }
out:
  free (pfd);
  free (who);
  return ret;
}

long
exec_job_limit (void)
{
  const char *env = getenv ("BALE_JOBS");
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  char *end;

  if (env && *env)
    {
      long n = strtol (env, &end, 10);
      if (*end == '\0' && n > 0)
        return n;
    }
  return cpus > 0 ? cpus : 1;
}

bool
exec_job_may_start (const struct exec_opts *o, struct exec_job *jobs, size_t n_running)
{
  char token;
  ssize_t got;

  jobs[n_running].token = false; /* the slot may hold a job that ended */
  if (n_running == 0)
    return true;
  if ((long) n_running >= exec_job_limit ())
    return false;
  if (!o->jobserver)
    return true;
  /* The read end does not block: no token now means not now. */
  do
    got = read (o->jobserver[0], &token, 1);
  while (got < 0 && errno == EINTR);
  if (got != 1)
    return false;
  jobs[n_running].token = true;
  return true;
}

void
exec_job_ended (const struct exec_opts *o, struct exec_job *jobs, size_t n_running, size_t i)
{
  size_t k;
  ssize_t put;

  if (!o->jobserver)
    return;
  for (k = 0; !jobs[i].token && k < n_running; k++)
    if (k != i && jobs[k].token)
      {
        jobs[k].token = false;
        jobs[i].token = true;
      }
  if (!jobs[i].token)
    return;
  jobs[i].token = false;
  do
    put = write (o->jobserver[1], "+", 1);
  while (put < 0 && errno == EINTR);
}

pid_t
exec_job_fork (const struct exec_opts *o, int index, struct exec_job *j, struct exec_opts *child,
               struct bale_progress *sink, int *pipe_w, bale_error_t *err)
{
  cleanup_free char *tmp = store_area_path (o->store, STORE_AREA_TMP, NULL);
  int fd = open (tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  int events[2] = { -1, -1 };
  pid_t pid;

  if (fd < 0)
    return bale_make_error (err, errno, "cannot create a result file in %s", tmp);
  if (o->events && pipe2 (events, O_CLOEXEC) < 0)
    {
      close (fd);
      return bale_make_error (err, errno, "cannot create the progress pipe");
    }
  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    {
      close (fd);
      if (events[0] >= 0)
        close (events[0]), close (events[1]);
      return bale_make_error (err, errno, "fork");
    }
  j->pid = pid;
  j->index = index;
  j->fd = fd;
  if (pid == 0)
    {
      /* The child's events go to the parent, which hands them to the build's sink. */
      *child = *o;
      *pipe_w = events[1];
      *sink = (struct bale_progress){ progress_pipe_event, pipe_w };
      if (child->events)
        {
          close (events[0]);
          child->events = sink;
        }
      /* The stage keeps exec_catch_signals' handler: the parent passes SIGINT and SIGTERM on,
         and the stage stops at its next check, cleaning up after itself. */
      return 0;
    }
  j->events = events[0];
  strbuf_init (&j->pending);
  if (events[1] >= 0)
    close (events[1]);
  return pid;
}

_Noreturn void
exec_job_exit (int fd, json_t *result, bale_error_t *e)
{
  char *text = json_dumps (result, JSON_COMPACT);
  int code = *e ? 1 : 0;

  fileio_write_all (fd, text, strlen (text));
  fflush (NULL);
  free (text);
  json_decref (result);
  bale_error_release (e);
  _exit (code);
}

static int
start (struct executor *x, int i, size_t stepno, struct exec_job *j, bale_error_t *err)
{
  struct exec_opts co;
  struct bale_progress sink;
  int pipe_w;
  pid_t pid = exec_job_fork (x->o, i, j, &co, &sink, &pipe_w, err);

  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      bale_error_t e = NULL;
      json_t *r = json_object ();
      x->o = &co;
      x->stepno = stepno;
      if (exec_build_stage (x, &x->p->stages[i], &e) < 0)
        json_object_set_new (r, "errors", progress_errors_to_json (e));
      else
        json_object_set_new (r, "state", state_to_json (&x->states[i]));
      exec_cache_finish (x); /* this stage's context digests, for the next build */
      exec_job_exit (j->fd, r, &e);
    }
  return 0;
}

static int
finish (struct executor *x, struct exec_job *j, int status, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;
  json_t *r = NULL;
  json_error_t je;
  int ret = -1;

  if (lseek (j->fd, 0, SEEK_SET) == 0 && fileio_read_fd (j->fd, "stage result", &sb, err) == 0)
    r = json_loadb (sb.buf, sb.len, 0, &je);
  close (j->fd);
  strbuf_release (&sb);
  if (r && json_object_get (r, "state") && WIFEXITED (status) && WEXITSTATUS (status) == 0)
    {
      state_from_json (&x->states[j->index], json_object_get (r, "state"));
      ret = 0;
    }
  else if (r && json_object_get (r, "errors"))
    progress_errors_from_json (json_object_get (r, "errors"), err);
  else
    bale_make_error (err, 0, "stage %s: the build process died (%s %d)", x->p->stages[j->index].display,
                     WIFSIGNALED (status) ? "signal" : "status",
                     WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status));
  json_decref (r);
  /* Whatever the child sent before it ended. */
  while (j->events >= 0)
    exec_job_read_events (x->o->events, j);
  strbuf_release (&j->pending);
  return ret;
}

/* The one stage that may start now, or n when none or several may. */
static size_t
only_ready (const struct plan *p, const bool *done, const bool *started)
{
  size_t i, found = p->n_stages;

  for (i = 0; i < p->n_stages; i++)
    if (!done[i] && !started[i] && ready (p, &p->stages[i], done))
      {
        if (found < p->n_stages)
          return p->n_stages;
        found = i;
      }
  return found;
}

int
exec_build_parallel (struct executor *x, bale_error_t *err)
{
  struct plan *p = x->p;
  size_t n = p->n_stages, i, n_running = 0, left = 0;
  bool *done = xcalloc (n, sizeof *done), *started = xcalloc (n, sizeof *started);
  size_t *stepno = xcalloc (n + 1, sizeof *stepno);
  struct exec_job *jobs = xcalloc (n, sizeof *jobs);
  int ret = 0, forwarded = 0;

  /* Step numbers as if the stages ran one after the other, so output is stable. */
  for (i = 0; i < n; i++)
    {
      stepno[i + 1] = stepno[i] + (p->stages[i].reachable ? p->stages[i].n_steps : 0);
      done[i] = !p->stages[i].reachable;
      left += p->stages[i].reachable;
    }

  while (left > 0 || n_running > 0)
    {
      pid_t pid;
      int status;

      /* One stage can start and none runs: no other can start before it ends, so it runs in
         this process. A process a stage costs a fork of this one, whose page tables grow
         with the stages done: a chain of 400 stages took 13 s, half of it in fork. */
      if (n_running == 0 && ret == 0 && !exec_interrupted && (i = only_ready (p, done, started)) < n)
        {
          started[i] = true;
          left--;
          x->stepno = stepno[i];
          if (exec_build_stage (x, &p->stages[i], err) < 0)
            {
              ret = -1;
              break;
            }
          done[i] = true;
          continue;
        }
      for (i = 0; ret == 0 && !exec_interrupted && i < n; i++)
        if (!done[i] && !started[i] && ready (p, &p->stages[i], done))
          {
            if (!exec_job_may_start (x->o, jobs, n_running))
              break;
            if (start (x, (int) i, stepno[i], &jobs[n_running], err) < 0)
              {
                exec_job_ended (x->o, jobs, n_running + 1, n_running);
                ret = -1;
                break;
              }
            started[i] = true;
            n_running++;
            left--;
          }
      if (n_running == 0)
        {
          if (left > 0 && ret == 0 && !exec_interrupted)
            ret = bale_make_error (err, 0, "stages left that can never start (a dependency cycle)");
          break;
        }
      pid = exec_job_wait (x->o->events, jobs, n_running, &status);
      if (pid < 0 && errno == EINTR)
        {
          /* SIGINT/SIGTERM: every running stage stops at its next check and cleans up (its
             sandbox on the same signal); a second signal kills the stages outright. */
          for (i = 0; i < n_running; i++)
            kill (jobs[i].pid, forwarded ? SIGKILL : exec_interrupted ? exec_interrupted : SIGTERM);
          forwarded += exec_interrupted != 0;
          continue;
        }
      if (pid < 0)
        {
          ret = bale_make_error (err, errno, "waitpid");
          break;
        }
      for (i = 0; i < n_running && jobs[i].pid != pid; i++)
        ;
      if (i == n_running)
        continue; /* not one of ours */
      if (finish (x, &jobs[i], status, err) < 0 && ret == 0)
        {
          size_t k;
          ret = -1;
          /* Stop the other stages: their work is wasted now. */
          for (k = 0; k < n_running; k++)
            if (k != i)
              kill (jobs[k].pid, SIGTERM);
        }
      else if (ret == 0)
        done[jobs[i].index] = true;
      exec_job_ended (x->o, jobs, n_running, i);
      jobs[i] = jobs[--n_running];
      if (ret < 0)
        left = 0;
    }
  if (exec_interrupted && ret == 0)
    ret = bale_make_error (err, EINTR, "interrupted");
  free (done);
  free (started);
  free (stepno);
  free (jobs);
  return ret < 0 ? -1 : 0;
}
