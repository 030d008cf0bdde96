/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bale_build: a build in a child process. The executor enters a mount namespace of its own
 * and catches SIGINT/SIGTERM/SIGHUP to stop its stages cleanly; in a library those would be
 * the embedder's namespace and signal dispositions, so the whole build runs in one forked
 * child. Its progress comes back as rawjson lines (the events of --progress=rawjson) and is
 * handed to the embedder's callback in the calling thread; its result (or its errors, with
 * their locations) comes back as one JSON object on a second pipe.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/ignore.h"
#include "common/oci/digest.h"
#include "common/oci/platform.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "codegen/plan.h"
#include "runtime/build/executor.h"
#include "runtime/build/progress.h"
#include "runtime/layer/rootview.h"
#include "runtime/registry/registry.h"
#include "runtime/store/store.h"
#include "common/banned.h"

struct bale_cancel
{
  int fd[2]; /* a byte written to fd[1] cancels */
};

int
bale_cancel_new (bale_cancel **out, bale_error_t *err)
{
  bale_cancel *c = xcalloc (1, sizeof *c);

  if (pipe2 (c->fd, O_CLOEXEC | O_NONBLOCK) < 0)
    {
      free (c);
      return bale_make_error (err, errno, "cannot make a cancellation pipe");
    }
  *out = c;
  return 0;
}

void
bale_cancel_trigger (bale_cancel *c)
{
  char b = 1;

  /* Async-signal-safe; a full pipe already says "cancelled". */
  if (c)
    (void) !write (c->fd[1], &b, 1);
}

void
bale_cancel_free (bale_cancel *c)
{
  if (!c)
    return;
  close (c->fd[0]);
  close (c->fd[1]);
  free (c);
}

/* ---- the options ------------------------------------------------------------------------- */

/* Refuse what this version cannot do, each with the option's name: never ignore one. */
static int
check_options (const struct bale_build_options *o, struct bale_platform *host, bale_error_t *err)
{
  if (o->struct_size < offsetof (struct bale_build_options, cancel) + sizeof o->cancel)
    return bale_make_error (err, EINVAL, "bale_build: struct_size %zu is not that of this "
                            "library's struct bale_build_options (%zu): set it with "
                            "BALE_BUILD_OPTIONS_INIT", o->struct_size, sizeof *o);
  if (!o->context)
    return bale_make_error (err, EINVAL, "bale_build: no context directory");
  if (o->n_cache_from || o->n_cache_to)
    return bale_make_error (err, ENOTSUP, "bale_build: cache_from/cache_to (--cache-from, "
                            "--cache-to) are not supported by libbale " PACKAGE_VERSION);
  if (o->n_outputs)
    return bale_make_error (err, ENOTSUP, "bale_build: outputs (--output) are not supported by "
                            "libbale " PACKAGE_VERSION ": the image is kept in the store; "
                            "bale_image_save or bale_image_push write it out");
  if (o->isolation && strcmp (o->isolation, "default") != 0)
    return bale_make_error (err, ENOTSUP, "bale_build: isolation '%s' is not supported (only "
                            "\"default\")", o->isolation);
  if (o->network && strcmp (o->network, "default") != 0 && strcmp (o->network, "none") != 0
      && strcmp (o->network, "host") != 0)
    return bale_make_error (err, EINVAL, "bale_build: network '%s': not default, none or host",
                            o->network);
  if (platform_host (host, err) < 0)
    return -1;
  if (o->n_platforms > 1)
    return bale_make_error (err, ENOTSUP, "bale_build: %zu platforms: libbale " PACKAGE_VERSION
                            " builds for one platform, the host's", o->n_platforms);
  if (o->n_platforms == 1)
    {
      struct bale_platform want = { 0 };
      cleanup_free char *w = NULL, *h = platform_format (host);
      if (platform_parse (o->platforms[0], &want, err) < 0)
        return -1;
      w = platform_format (&want);
      platform_release (&want);
      if (strcmp (w, h) != 0)
        return bale_make_error (err, ENOTSUP, "bale_build: platform %s: libbale "
                                PACKAGE_VERSION " builds for the host's platform (%s) only", w, h);
    }
  for (size_t i = 0; i < o->n_build_args; i++)
    if (!strchr (o->build_args[i], '='))
      return bale_make_error (err, EINVAL, "bale_build: build arg '%s' is not KEY=VALUE",
                              o->build_args[i]);
  for (size_t i = 0; i < o->n_tags; i++)
    if (digest_is_valid (o->tags[i]))
      return bale_make_error (err, EINVAL, "bale_build: tag '%s' is a digest", o->tags[i]);
  return 0;
}

/* ---- the child --------------------------------------------------------------------------- */

struct child
{
  const struct bale_build_options *o;
  struct store *st;
};

/* The plan's resolver (plan_resolve_fn, a look-up: 1 found, 0 not available, -1 with *err):
   base images from the store, pulled first when o->pull allows it. */
static int
resolve (void *ctx, const char *ref, const struct bale_platform *platform, json_t **config,
         char **digest, bale_error_t *err)
{
  struct child *c = ctx;
  const char *at = strchr (ref, '@');
  char target[DIGEST_STRLEN + 1];
  struct store_image img = { 0 };

  if (at)
    {
      if (!store_blob_exists (c->st, at + 1))
        return 0;
      snprintf (target, sizeof target, "%s", at + 1);
    }
  else
    {
      struct registry_opts ro = { .retries = -1 };
      int r = store_ref_lookup (c->st, ref, target, err);
      if (r < 0)
        return -1;
      if (r == 0 && !c->o->pull)
        return 0;
      if (r == 0 && registry_pull (c->st, ref, platform, &ro, target, err) < 0)
        return -1;
    }
  if (store_image_read (c->st, target, platform, &img, err) < 0)
    return -1;
  *config = json_incref (img.config_json);
  if (digest)
    *digest = xstrdup (img.manifest);
  store_image_release (&img);
  return 1;
}

/* Config and manifest into the store, then the names (the digest itself when untagged, as
   `docker build` keeps a dangling image). */
static int
keep_image (struct store *st, const struct bale_build_options *o, const struct exec_image *img,
            bale_error_t *err)
{
  char got[DIGEST_STRLEN + 1];

  if (store_blob_put (st, img->config, img->config_len, got, err) < 0
      || store_blob_put (st, img->manifest, img->manifest_len, got, err) < 0)
    return -1;
  if (o->n_tags == 0)
    return store_ref_set (st, img->manifest_digest, img->manifest_digest, err);
  for (size_t i = 0; i < o->n_tags; i++)
    if (store_ref_set (st, o->tags[i], img->manifest_digest, err) < 0)
      return -1;
  return 0;
}

static int
child_build (struct child *c, const char *store_dir, const struct bale_progress *events,
             struct exec_image *img, bale_error_t *err)
{
  const struct bale_build_options *o = c->o;
  cleanup_free char *dockerfile = o->dockerfile ? xstrdup (o->dockerfile)
                                                : xasprintf ("%s/Dockerfile", o->context);
  struct bale_dockerfile *df = NULL;
  struct plan *plan = NULL;
  struct ignore_matcher *ignore = NULL;
  struct plan_opts po = { 0 };
  struct exec_opts eo = { 0 };
  struct exec_secret *secrets = xcalloc (o->n_secrets + 1, sizeof *secrets);
  bale_error_t e = NULL;
  bool in_txn = false;
  int ret = -1;

  /* Views mounted for RUN --mount from= vanish with this process, whatever ends it. */
  eo.private_mounts = rootview_unshare (&e) == 0;
  bale_error_release (&e);
  if (store_open (store_dir, &c->st, err) < 0)
    goto out;
  if (bale_parse_file_checked (dockerfile, &df, err) < 0)
    goto out;
  if (ignore_matcher_load (o->context, dockerfile, &ignore, err) < 0)
    goto out;
  po.target = o->target;
  po.build_args = o->build_args;
  po.n_build_args = o->n_build_args;
  po.resolve = resolve;
  po.resolve_ctx = c;
  po.ignore = ignore;
  if (plan_build (df, &po, &plan, err) < 0)
    goto out;
  /* Layers are nameless until the image is stored: a concurrent prune must not take them. */
  if (store_txn_begin (c->st, err) < 0)
    goto out;
  in_txn = true;
  for (size_t i = 0; i < o->n_secrets; i++)
    {
      secrets[i].id = o->secrets[i].id;
      secrets[i].path = o->secrets[i].path;
      secrets[i].value = o->secrets[i].value;
    }
  eo.store = c->st;
  eo.context = o->context;
  eo.ignore = ignore;
  eo.events = events;
  eo.secrets = secrets;
  eo.n_secrets = o->n_secrets;
  eo.no_cache = o->no_cache;
  eo.network = o->network;
  if (executor_build (plan, &eo, img, err) < 0 || keep_image (c->st, o, img, err) < 0)
    goto out;
  ret = 0;
out:
  if (in_txn)
    store_txn_end (c->st);
  free (secrets);
  ignore_matcher_free (ignore);
  plan_free (plan);
  bale_dockerfile_free (df);
  store_close (c->st);
  return ret;
}

/* In the child: the build, then its answer on fd. Never returns. */
static void __attribute__ ((noreturn))
child_main (const struct bale_build_options *o, const char *store_dir, int events_fd, int result_fd)
{
  struct child c = { .o = o };
  struct bale_progress sink = { progress_pipe_event, &events_fd };
  struct exec_image img = { 0 };
  bale_error_t e = NULL;
  json_t *r = json_object ();
  sigset_t none;
  char *text;
  int ok;

  /* The embedder's dispositions and mask are its own: the build starts from the defaults,
     so that a cancellation's SIGTERM reaches it. */
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
  signal (SIGPIPE, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  ok = child_build (&c, store_dir, o->progress.fn ? &sink : NULL, &img, &e) == 0;
  if (ok)
    {
      json_object_set_new (r, "id", json_string (img.config_digest));
      json_object_set_new (r, "digest", json_string (img.manifest_digest));
    }
  else
    json_object_set_new (r, "errors", progress_errors_to_json (e));
  text = json_dumps (r, JSON_COMPACT);
  (void) fileio_write_all (result_fd, text, strlen (text));
  _exit (ok ? 0 : 1);
}

/* ---- the parent -------------------------------------------------------------------------- */

/* Relay the child's events to the embedder until the child closes its end; a cancellation
   meanwhile sends it SIGTERM. */
static bool
relay (pid_t pid, int events_fd, const struct bale_build_options *o)
{
  struct strbuf pending = STRBUF_INIT;
  bool cancelled = false;
  char buf[16384];

  for (;;)
    {
      struct pollfd p[2] = { { events_fd, POLLIN, 0 }, { o->cancel ? o->cancel->fd[0] : -1, POLLIN, 0 } };
      ssize_t n;

      if (cancelled)
        p[1].fd = -1;
      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (p[1].revents & POLLIN)
        {
          cancelled = true;
          kill (pid, SIGTERM);
        }
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      n = read (events_fd, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        break;
      strbuf_add (&pending, buf, (size_t) n);
      progress_feed (&pending, &o->progress);
    }
  strbuf_release (&pending);
  return cancelled;
}

/* The child's answer: the result, or its errors appended to *err. */
static int
answer (int fd, bool cancelled, int status, struct bale_build_result *res, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;
  json_t *r;
  int ret = -1;

  if (cancelled)
    {
      strbuf_release (&sb);
      return bale_make_error (err, ECANCELED, "build cancelled");
    }
  if (fileio_read_fd (fd, "the build's result", &sb, err) < 0)
    return -1;
  r = json_loadb (sb.buf ? sb.buf : "", sb.len, 0, NULL);
  strbuf_release (&sb);
  if (json_is_array (json_object_get (r, "errors")))
    progress_errors_from_json (json_object_get (r, "errors"), err);
  else if (json_is_string (json_object_get (r, "id")) && json_is_string (json_object_get (r, "digest")))
    {
      snprintf (res->id, sizeof res->id, "%s", json_string_value (json_object_get (r, "id")));
      snprintf (res->digest, sizeof res->digest, "%s", json_string_value (json_object_get (r, "digest")));
      ret = 0;
    }
  else if (WIFSIGNALED (status))
    bale_make_error (err, EINTR, "the build process was killed by signal %d", WTERMSIG (status));
  else
    bale_make_error (err, EIO, "the build process ended without an answer (status %d)",
                     WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  json_decref (r);
  return ret;
}

int
bale_build (bale_store *s, const struct bale_build_options *o, struct bale_build_result *res,
            bale_error_t *err)
{
  struct bale_platform host = { 0 };
  int events[2] = { -1, -1 }, result[2] = { -1, -1 }, status = 0, ret = -1;
  bool cancelled;
  pid_t pid;

  memset (res, 0, sizeof *res);
  if (check_options (o, &host, err) < 0)
    goto out;
  if (pipe2 (events, O_CLOEXEC) < 0 || pipe2 (result, O_CLOEXEC) < 0)
    {
      bale_make_error (err, errno, "bale_build: pipe");
      goto out;
    }
  pid = fork ();
  if (pid < 0)
    {
      bale_make_error (err, errno, "bale_build: fork");
      goto out;
    }
  if (pid == 0)
    {
      close (events[0]);
      close (result[0]);
      child_main (o, store_path (s->st), events[1], result[1]);
    }
  close (events[1]);
  close (result[1]);
  events[1] = result[1] = -1;
  cancelled = relay (pid, events[0], o);
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        bale_make_error (err, errno, "bale_build: waitpid");
        goto out;
      }
  ret = answer (result[0], cancelled, status, res, err);
out:
  for (int i = 0; i < 2; i++)
    {
      if (events[i] >= 0)
        close (events[i]);
      if (result[i] >= 0)
        close (result[i]);
    }
  platform_release (&host);
  return ret;
}
