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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/oci/digest.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/buildrun.h"
#include "runtime/build/progress.h"
#include "runtime/fs/isolation.h"
#include "runtime/layer/rootview.h"
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

/* Whether the caller's struct (of size o->struct_size) has the field. */
#define HAS(o, field) ((o)->struct_size >= offsetof (struct bale_build_options, field) + sizeof (o)->field)

/* What only the caller's process can tell: the struct's version, the context, the network and
   isolation names. Every other option is parsed by build_request_option in the child, as the
   CLI's are. */
static int
check_options (const struct bale_build_options *o, bale_error_t *err)
{
  enum isolation iso;

  if (!HAS (o, cancel))
    return bale_make_error (err, EINVAL, "bale_build: struct_size %zu is not that of this "
                            "library's struct bale_build_options (%zu): set it with "
                            "BALE_BUILD_OPTIONS_INIT", o->struct_size, sizeof *o);
  if (!o->context)
    return bale_make_error (err, EINVAL, "bale_build: no context directory");
  if (o->isolation && strcmp (o->isolation, "default") != 0 && isolation_parse (o->isolation, &iso, err) < 0)
    return bale_error_wrap (err, "bale_build: isolation");
  if (HAS (o, details) && o->details && o->details->struct_size < sizeof *o->details)
    return bale_make_error (err, EINVAL, "bale_build: details->struct_size %zu: set it with "
                            "BALE_BUILD_DETAILS_INIT", o->details->struct_size);
  for (size_t i = 0; i < o->n_tags; i++)
    if (digest_is_valid (o->tags[i]))
      return bale_make_error (err, EINVAL, "bale_build: tag '%s' is a digest", o->tags[i]);
  /* The generic options' names are known here already (buildrun.c's table): an unknown one
     fails before a process is forked for it. */
  for (size_t i = 0; HAS (o, n_options) && i < o->n_options; i++)
    {
      bool takes_value;
      if (!build_option_known (o->option_names[i], &takes_value))
        return bale_make_error (err, EINVAL, "bale_build: unknown option '%s'", o->option_names[i]);
      if (takes_value && !(o->option_values && o->option_values[i]))
        return bale_make_error (err, EINVAL, "--%s: a value is needed", o->option_names[i]);
    }
  return 0;
}

static int
opt (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  int ret = build_request_option (r, name, value, err);

  if (ret == 0)
    return bale_make_error (err, EINVAL, "bale_build: unknown option '%s'", name);
  /* The error names the option already, as the command line spells it (`--allow: ...`). */
  return ret < 0 ? -1 : 0;
}

static int
opts (struct build_request *r, const char *name, const char *const *v, size_t n, bale_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    if (opt (r, name, v[i], err) < 0)
      return -1;
  return 0;
}

/* The options as the request the CLI makes too: every string through one parser. */
static int
make_request (const struct bale_build_options *o, struct build_request *r, bale_error_t *err)
{
  r->context = o->context;
  r->file = o->dockerfile;
  if ((o->target && opt (r, "target", o->target, err) < 0) || opts (r, "tag", o->tags, o->n_tags, err) < 0
      || opts (r, "build-arg", o->build_args, o->n_build_args, err) < 0
      || opts (r, "platform", o->platforms, o->n_platforms, err) < 0
      || opts (r, "cache-from", o->cache_from, o->n_cache_from, err) < 0
      || opts (r, "cache-to", o->cache_to, o->n_cache_to, err) < 0
      || opts (r, "output", o->outputs, o->n_outputs, err) < 0
      || (o->network && strcmp (o->network, "default") != 0 && opt (r, "network", o->network, err) < 0)
      || (o->no_cache && opt (r, "no-cache", NULL, err) < 0) || (o->pull && opt (r, "pull", NULL, err) < 0))
    return -1;
  for (size_t i = 0; i < o->n_secrets; i++)
    {
      /* A secret given as a value goes to the build as one (never through the environment). */
      struct exec_secret sec = { .id = o->secrets[i].id, .path = o->secrets[i].path,
                                 .value = o->secrets[i].value };
      if (!sec.id || (!sec.path && !sec.value))
        return bale_make_error (err, EINVAL, "bale_build: secret %zu: want an id and a path or a value", i);
      buildsecrets_add (&r->secrets, &sec);
    }
  if (HAS (o, details))
    {
      if (opts (r, "build-context", o->named_contexts, o->n_named_contexts, err) < 0
          || opts (r, "label", o->labels, o->n_labels, err) < 0
          || opts (r, "annotation", o->annotations, o->n_annotations, err) < 0
          || opts (r, "ssh", o->ssh, o->n_ssh, err) < 0
          || opts (r, "no-cache-filter", o->no_cache_filter, o->n_no_cache_filter, err) < 0
          || (o->source_date_epoch && opt (r, "source-date-epoch", o->source_date_epoch, err) < 0)
          || (o->compression && opt (r, "compression", o->compression, err) < 0)
          || (o->push && opt (r, "push", NULL, err) < 0)
          || (o->explain_cache && opt (r, "explain-cache", NULL, err) < 0))
        return -1;
      for (size_t i = 0; i < o->n_options; i++)
        if (opt (r, o->option_names[i], o->option_values ? o->option_values[i] : NULL, err) < 0)
          return -1;
      r->metadata = o->details != NULL;
    }
  return build_request_finish (r, err);
}

/* ---- the child --------------------------------------------------------------------------- */

/* What the build says outside its vertices: a MESSAGE event. */
static void
say_event (void *ctx, const char *line)
{
  struct bale_progress_event ev = { .kind = BALE_PROGRESS_MESSAGE, .data = line, .len = strlen (line) };

  ev.time = progress_now ();
  progress_pipe_event (ctx, &ev);
}

static int
child_build (const struct bale_build_options *o, const char *store_dir, int *events_fd,
             const struct bale_progress *events, struct build_outcome *out, bool *to_stdout,
             bale_error_t *err)
{
  struct build_request r = { 0 };
  struct store *st = NULL;
  bale_error_t e = NULL;
  enum isolation iso = ISOLATION_AUTO;
  int ret = -1;

  if (make_request (o, &r, err) < 0)
    goto out;
  r.events = events;
  if (events)
    r.say = (struct build_say){ say_event, events_fd };
  /* Isolation first, while this process has one thread and nothing of the store open. */
  if (o->isolation && strcmp (o->isolation, "default") != 0
      && (isolation_parse (o->isolation, &iso, err) < 0 || isolation_enter (iso, err) < 0))
    goto out;
  /* Views mounted for RUN --mount from= vanish with this process, whatever ends it. */
  r.private_mounts = rootview_unshare (&e) == 0;
  bale_error_release (&e);
  /* The line that heads a build's output: the rootless mode, or chroot and why. */
  if (!r.quiet && isolation_describe ())
    build_say (&r.say, "%s", isolation_describe ());
  if (store_open (store_dir, &st, err) < 0)
    goto out;
  ret = build_run (st, &r, out, err);
  *to_stdout = build_request_stdout (&r);
out:
  build_request_release (&r);
  store_close (st);
  return ret;
}

/* In the child: the build, then its answer on fd. Never returns. */
static void __attribute__ ((noreturn))
child_main (const struct bale_build_options *o, const char *store_dir, int events_fd, int result_fd,
            pid_t parent)
{
  struct bale_progress sink = { progress_pipe_event, &events_fd };
  struct build_outcome out = { 0 };
  bale_error_t e = NULL;
  json_t *r = json_object ();
  sigset_t none;
  bool to_stdout = false;
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
  /* The build dies with the thread that waits for it (a caller killed with SIGKILL leaves
     no build running on), as its RUN sandboxes die with it. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    _exit (1);
  ok = child_build (o, store_dir, &events_fd, o->progress.fn ? &sink : NULL, &out, &to_stdout, &e) == 0;
  if (ok)
    {
      json_object_set_new (r, "id", json_string (out.id));
      json_object_set_new (r, "digest", json_string (out.stored));
      json_object_set_new (r, "config", json_string (out.config));
      json_object_set_new (r, "pushed", json_string (out.pushed));
      json_object_set_new (r, "index", json_boolean (out.index));
      json_object_set_new (r, "lint_warnings", json_integer (out.lint_warnings));
      if (out.metadata)
        json_object_set_new (r, "metadata", json_string (out.metadata));
      json_object_set_new (r, "written", json_array ());
      for (size_t i = 0; out.written && out.written[i]; i++)
        json_array_append_new (json_object_get (r, "written"), json_string (out.written[i]));
      json_object_set_new (r, "stdout", json_boolean (to_stdout));
    }
  else
    json_object_set_new (r, "errors", progress_errors_to_json (e));
  build_outcome_release (&out);
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
/* The rest of the result, for --metadata-file and -q --push. */
static void
fill_details (const json_t *r, const struct bale_build_options *o, struct bale_build_details *d)
{
  const char *metadata = json_string_value (json_object_get (r, "metadata"));
  size_t n = o->n_tags;

  snprintf (d->config, sizeof d->config, "%s", json_string_value (json_object_get (r, "config")));
  snprintf (d->pushed, sizeof d->pushed, "%s", json_string_value (json_object_get (r, "pushed")));
  d->index = json_is_true (json_object_get (r, "index"));
  d->lint_warnings = (int) json_integer_value (json_object_get (r, "lint_warnings"));
  d->metadata = metadata ? xstrdup (metadata) : NULL;
  d->to_stdout = json_is_true (json_object_get (r, "stdout"));
  d->written = xcalloc (json_array_size (json_object_get (r, "written")) + 1, sizeof *d->written);
  for (size_t i = 0; i < json_array_size (json_object_get (r, "written")); i++)
    d->written[i] = xstrdup (json_string_value (json_array_get (json_object_get (r, "written"), i)));
  for (size_t i = 0; i < o->n_options; i++)
    n += strcmp (o->option_names[i], "tag") == 0;
  d->names = xcalloc (n + 1, sizeof *d->names);
  n = 0;
  for (size_t i = 0; i < o->n_tags; i++)
    d->names[n++] = buildevents_name (o->tags[i]);
  for (size_t i = 0; i < o->n_options; i++)
    if (strcmp (o->option_names[i], "tag") == 0 && o->option_values && o->option_values[i])
      d->names[n++] = buildevents_name (o->option_values[i]);
}

char *
bale_progress_event_json (const struct bale_progress_event *ev)
{
  return progress_event_to_json (ev);
}

size_t
bale_progress_feed (const char *buf, size_t len, const struct bale_progress *p)
{
  return progress_feed_buf (buf, len, p);
}

void
bale_build_details_release (struct bale_build_details *d)
{
  size_t size;

  if (!d)
    return;
  size = d->struct_size;
  free (d->metadata);
  bale_strv_free (d->names);
  bale_strv_free (d->written);
  memset (d, 0, sizeof *d);
  d->struct_size = size;
}

static int
answer (int fd, bool cancelled, int status, const struct bale_build_options *o,
        struct bale_build_result *res, bale_error_t *err)
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
      if (HAS (o, details) && o->details)
        fill_details (r, o, o->details);
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
  int events[2] = { -1, -1 }, result[2] = { -1, -1 }, status = 0, ret = -1;
  bool cancelled;
  pid_t pid, parent = getpid ();

  memset (res, 0, sizeof *res);
  if (check_options (o, err) < 0)
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
      child_main (o, store_path (s->st), events[1], result[1], parent);
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
  ret = answer (result[0], cancelled, status, o, res, err);
out:
  for (int i = 0; i < 2; i++)
    {
      if (events[i] >= 0)
        close (events[i]);
      if (result[i] >= 0)
        close (result[i]);
    }
  return ret;
}
