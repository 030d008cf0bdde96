/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registry references, URLs, error messages and the worker pool shared by pull and push. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/registry/registry.h"
#include "common/banned.h"

char *
registry_host (const char *domain)
{
  /* Docker Hub's API lives on another name than its references use (docker/distribution
     reference.go, containerd's docker resolver). */
  if (strcmp (domain, "docker.io") == 0)
    return xstrdup ("registry-1.docker.io");
  return xstrdup (domain);
}

/* host without its port; "[::1]:5000" → "::1". */
static char *
host_only (const char *host)
{
  const char *end;

  if (host[0] == '[' && (end = strchr (host, ']')) != NULL)
    return xstrndup (host + 1, (size_t) (end - host - 1));
  end = strrchr (host, ':');
  if (end && strchr (host, ':') == end)
    return xstrndup (host, (size_t) (end - host));
  return xstrdup (host);
}

bool
registry_is_insecure (const char *host, const char *const *insecure)
{
  cleanup_free char *bare = host_only (host);
  const char *const *p;

  /* What docker treats as insecure by default: the loopback registry of a developer. */
  if (strcmp (bare, "localhost") == 0 || strcmp (bare, "127.0.0.1") == 0
      || strcmp (bare, "::1") == 0)
    return true;
  for (p = insecure; p && *p; p++)
    if (strcmp (*p, host) == 0 || (strchr (*p, ':') == NULL && strcmp (*p, bare) == 0))
      return true;
  return false;
}

char *
registry_url (const struct oci_ref *r, const char *kind, const char *what,
              const char *const *insecure)
{
  cleanup_free char *host = registry_host (r->domain);

  return xasprintf ("%s://%s/v2/%s/%s/%s", registry_is_insecure (host, insecure) ? "http" : "https",
                    host, r->path, kind, what);
}

/* ---- errors and logs ---------------------------------------------------------------------- */

/* The registry's error codes from a {"errors":[{"code","message"}]} body, when it has one. */
static void
add_error_codes (struct strbuf *sb, const struct http_response *resp)
{
  json_auto_t *doc = json_loadb (resp->body.buf, resp->body.len, 0, NULL);
  json_t *errors = json_object_get (doc, "errors"), *e;
  size_t i;

  json_array_foreach (errors, i, e)
    {
      const char *code = json_string_value (json_object_get (e, "code"));
      const char *msg = json_string_value (json_object_get (e, "message"));

      strbuf_addf (sb, "%s%s%s%s", i ? "; " : ": ", code ? code : "", code && msg ? " " : "",
                   msg ? msg : "");
    }
}

int
registry_http_error (const char *what, const struct http_response *resp, bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  strbuf_addf (&sb, "%s: HTTP status %ld", what, resp->status);
  add_error_codes (&sb, resp);
  /* Status 0: an errno text would only mislead after an HTTP status. */
  return bale_make_error (err, 0, "%s", sb.buf);
}

/* The transfers of one operation run on several threads; their callers' sinks (a renderer,
   a pipe) take one report at a time. */
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

void
registry_log (const struct registry_opts *opts, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  struct strbuf sb = STRBUF_INIT;
  va_list ap;

  if (opts == NULL || opts->log == NULL)
    return;
  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  msg = strbuf_detach (&sb, NULL);
  pthread_mutex_lock (&report_lock);
  opts->log (opts->log_ctx, msg);
  pthread_mutex_unlock (&report_lock);
}

static void
report_progress (void *ctx, const char *id, int64_t current, int64_t total, bool completed)
{
  const struct registry_opts *opts = ctx;

  pthread_mutex_lock (&report_lock);
  opts->progress (opts->progress_ctx, id, current, total, completed);
  pthread_mutex_unlock (&report_lock);
}

void
registry_meter_start (struct meter *m, const struct registry_opts *opts, const char *id,
                      int64_t total)
{
  meter_start (m, opts && opts->progress ? report_progress : NULL, (void *) opts, id, total);
}

/* ---- worker pool ------------------------------------------------------------------------- */

struct pool
{
  pthread_mutex_t lock;
  size_t next, n;
  registry_job_fn fn;
  void *ctx;
  bale_error_t err; /* the first failure */
};

static void *
pool_worker (void *arg)
{
  struct pool *p = arg;

  for (;;)
    {
      bale_error_t e = NULL;
      size_t i;

      pthread_mutex_lock (&p->lock);
      i = p->err ? p->n : p->next++;
      pthread_mutex_unlock (&p->lock);
      if (i >= p->n)
        return NULL;
      if (p->fn (p->ctx, i, &e) < 0)
        {
          pthread_mutex_lock (&p->lock);
          if (p->err == NULL)
            p->err = steal_pointer (&e);
          pthread_mutex_unlock (&p->lock);
          bale_error_release (&e);
        }
    }
}

int
registry_parallel (size_t n, int threads, registry_job_fn fn, void *ctx, bale_error_t *err)
{
  struct pool p = { .n = n, .fn = fn, .ctx = ctx };
  pthread_t tids[16];
  size_t started = 0, i;

  if (threads < 1)
    threads = 1;
  if ((size_t) threads > n)
    threads = (int) n;
  if (threads > 16)
    threads = 16;
  pthread_mutex_init (&p.lock, NULL);
  /* The calling thread works too; a thread that cannot be created only means less speed. */
  for (i = 1; i < (size_t) threads; i++)
    if (pthread_create (&tids[started], NULL, pool_worker, &p) == 0)
      started++;
  pool_worker (&p);
  for (i = 0; i < started; i++)
    pthread_join (tids[i], NULL);
  pthread_mutex_destroy (&p.lock);
  if (p.err)
    {
      bale_error_join (err, &p.err);
      return -1;
    }
  return 0;
}
