/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The platforms of one build (bale build --platform a,b) in parallel: each platform's plan is
 * built by executor_build in a child process, up to one per CPU, as exec_parallel.c runs
 * stages; the child reports its image as JSON in an unlinked file and its progress events on
 * a pipe. Steps two platforms share (a stage that does not depend on the target) run once:
 * o->shared_dir locks a step's key while it runs (exec_cache.c), so the other platform waits
 * for it and takes its layer. The images are the same whatever the order the children ran
 * in: a layer is the same bytes whoever built it, and the index lists the platforms in the
 * order given.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cleanup.h"
#include "common/dirwalk.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/oci/platform.h"
#include "common/xalloc.h"
#include "runtime/build/executor_internal.h"
#include "runtime/store/store.h"
#include "common/banned.h"

static json_t *
image_to_json (const struct exec_image *img)
{
  json_t *o = json_object (), *layers = json_array ();
  cleanup_free char *pl = platform_format (&img->platform);
  size_t i;

  for (i = 0; i < img->n_layers; i++)
    {
      const struct exec_layer *l = &img->layers[i];
      json_array_append_new (layers, json_pack ("{s:s, s:s, s:s, s:I, s:s?, s:s?}", "media_type", l->media_type,
                                                "digest", l->digest, "diff_id", l->diff_id, "size",
                                                (json_int_t) l->size, "path", l->path, "snapshot", l->snapshot));
    }
  json_object_set_new (o, "config", json_stringn (img->config, img->config_len));
  json_object_set_new (o, "manifest", json_stringn (img->manifest, img->manifest_len));
  json_object_set_new (o, "config_digest", json_string (img->config_digest));
  json_object_set_new (o, "manifest_digest", json_string (img->manifest_digest));
  json_object_set_new (o, "platform", json_string (pl));
  json_object_set_new (o, "layers", layers);
  return o;
}

static char *
dup_or_null (const json_t *j)
{
  return json_is_string (j) ? xstrdup (json_string_value (j)) : NULL;
}

static int
image_from_json (const json_t *o, struct exec_image *img, bale_error_t *err)
{
  const json_t *layers = json_object_get (o, "layers");
  size_t i;

  img->config_len = json_string_length (json_object_get (o, "config"));
  img->config = xmemdup0 (json_string_value (json_object_get (o, "config")), img->config_len);
  img->manifest_len = json_string_length (json_object_get (o, "manifest"));
  img->manifest = xmemdup0 (json_string_value (json_object_get (o, "manifest")), img->manifest_len);
  snprintf (img->config_digest, sizeof img->config_digest, "%s",
            json_string_value (json_object_get (o, "config_digest")));
  snprintf (img->manifest_digest, sizeof img->manifest_digest, "%s",
            json_string_value (json_object_get (o, "manifest_digest")));
  img->n_layers = json_array_size (layers);
  img->layers = xcalloc (img->n_layers + 1, sizeof *img->layers);
  for (i = 0; i < img->n_layers; i++)
    {
      const json_t *j = json_array_get (layers, i);
      struct exec_layer *l = &img->layers[i];
      l->media_type = dup_or_null (json_object_get (j, "media_type"));
      snprintf (l->digest, sizeof l->digest, "%s", json_string_value (json_object_get (j, "digest")));
      snprintf (l->diff_id, sizeof l->diff_id, "%s", json_string_value (json_object_get (j, "diff_id")));
      l->size = json_integer_value (json_object_get (j, "size"));
      l->path = dup_or_null (json_object_get (j, "path"));
      l->snapshot = dup_or_null (json_object_get (j, "snapshot"));
    }
  return platform_parse (json_string_value (json_object_get (o, "platform")), &img->platform, err);
}

static int
start (struct plan *p, int i, const struct exec_opts *o, struct exec_job *j, bale_error_t *err)
{
  struct exec_opts co;
  struct bale_progress sink;
  int pipe_w;
  pid_t pid = exec_job_fork (o, i, j, &co, &sink, &pipe_w, err);

  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      bale_error_t e = NULL;
      struct exec_image img = { 0 };
      json_t *r = json_object ();
      if (executor_build (p, &co, &img, &e) < 0)
        json_object_set_new (r, "errors", progress_errors_to_json (e));
      else
        json_object_set_new (r, "image", image_to_json (&img));
      exec_job_exit (j->fd, r, &e);
    }
  return 0;
}

static int
finish (struct plan **plans, const struct exec_opts *o, struct exec_job *j, int status, struct exec_image *imgs,
        bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;
  json_t *r = NULL;
  json_error_t je;
  int ret = -1;

  if (lseek (j->fd, 0, SEEK_SET) == 0 && fileio_read_fd (j->fd, "platform result", &sb, err) == 0)
    r = json_loadb (sb.buf, sb.len, 0, &je);
  close (j->fd);
  strbuf_release (&sb);
  if (r && json_object_get (r, "image") && WIFEXITED (status) && WEXITSTATUS (status) == 0)
    ret = image_from_json (json_object_get (r, "image"), &imgs[j->index], err);
  else if (r && json_object_get (r, "errors"))
    progress_errors_from_json (json_object_get (r, "errors"), err);
  else
    bale_make_error (err, 0, "the build process died (%s %d)", WIFSIGNALED (status) ? "signal" : "status",
                     WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status));
  if (ret < 0)
    {
      cleanup_free char *pl = platform_format (&plans[j->index]->target_platform);
      bale_error_wrap (err, "building for %s", pl);
    }
  json_decref (r);
  while (j->events >= 0)
    exec_job_read_events (o->events, j);
  strbuf_release (&j->pending);
  return ret;
}

int
executor_build_platforms (struct plan **plans, size_t n, const struct exec_opts *o, struct exec_image *imgs,
                          bale_error_t *err)
{
  cleanup_free char *shared = store_area_path (o->store, STORE_AREA_TMP, "platforms.XXXXXX");
  struct exec_opts so = *o;
  struct exec_job *jobs;
  size_t next = 0, n_running = 0, i;
  bale_error_t ignored = NULL;
  int ret = 0, tokens[2];
  long t;

  if (!mkdtemp (shared))
    return bale_make_error (err, errno, "cannot create %s", shared);
  /* One job limit for every process of the build, as make's jobserver: the platforms' children
     and the stages they fork take a token for each job beyond their first, so N platforms
     run at most exec_job_limit steps at once, not N times as many. */
  if (pipe2 (tokens, O_CLOEXEC | O_NONBLOCK) < 0)
    {
      ret = bale_make_error (err, errno, "cannot create the job limit's pipe");
      (void) dirwalk_remove (AT_FDCWD, shared, shared, &ignored);
      bale_error_release (&ignored);
      return ret;
    }
  for (t = 1; t < exec_job_limit (); t++)
    if (write (tokens[1], "+", 1) != 1)
      break;
  so.shared_dir = shared;
  so.jobserver = tokens;
  o = &so;
  jobs = xcalloc (n, sizeof *jobs);

  while ((ret == 0 && next < n) || n_running > 0)
    {
      pid_t pid;
      int status;

      while (ret == 0 && next < n && exec_job_may_start (o, jobs, n_running))
        {
          if (start (plans[next], (int) next, o, &jobs[n_running], err) < 0)
            {
              exec_job_ended (o, jobs, n_running + 1, n_running);
              ret = -1;
              break;
            }
          next++;
          n_running++;
        }
      if (n_running == 0)
        break;
      pid = exec_job_wait (o->events, jobs, n_running, &status);
      if (pid < 0 && errno == EINTR)
        continue;
      if (pid < 0)
        {
          ret = bale_make_error (err, errno, "waitpid");
          for (i = 0; i < n_running; i++)
            kill (jobs[i].pid, SIGTERM);
          break;
        }
      for (i = 0; i < n_running && jobs[i].pid != pid; i++)
        ;
      if (i == n_running)
        continue; /* not one of ours */
      if (finish (plans, o, &jobs[i], status, imgs, err) < 0 && ret == 0)
        {
          size_t k;
          ret = -1;
          /* The other platforms' work is wasted now. */
          for (k = 0; k < n_running; k++)
            if (k != i)
              kill (jobs[k].pid, SIGTERM);
        }
      exec_job_ended (o, jobs, n_running, i);
      jobs[i] = jobs[--n_running];
    }
  free (jobs);
  close (tokens[0]);
  close (tokens[1]);
  if (dirwalk_remove (AT_FDCWD, shared, shared, &ignored) < 0)
    bale_error_release (&ignored);
  if (ret < 0)
    for (i = 0; i < n; i++)
      exec_image_release (&imgs[i]);
  return ret < 0 ? -1 : 0;
}
