/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP transfers over libcurl with our own redirect, retry and body-size rules. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>


#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/registry/curl_dl.h"
#include "runtime/registry/http.h"
#include "common/banned.h"

#define MAX_REDIRECTS 10
#define DEFAULT_MAX_BODY (1024 * 1024)
/* A Retry-After longer than this is not worth waiting for in a build. */
#define MAX_RETRY_AFTER_S 30

/* Idle easy handles kept for reuse: each keeps its own connections open. */
#define POOL_MAX 16

struct http_client
{
  CURLSH *share;
  pthread_mutex_t pool_lock;
  CURL *pool[POOL_MAX];
  size_t n_pool;
  /* One lock per curl_lock_data, as the share interface requires for use from threads. */
  pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
  char *ca_file;
  char *user_agent;
  int retries;
  unsigned retry_ms;
};

/* libcurl's functions. Every use below comes after http_client_new or curl_dl loaded them. */
#define CF (curl_dl (NULL))

static void
share_lock (CURL *h, curl_lock_data data, curl_lock_access access, void *ctx)
{
  struct http_client *c = ctx;

  pthread_mutex_lock (&c->locks[data]);
}

static void
share_unlock (CURL *h, curl_lock_data data, void *ctx)
{
  struct http_client *c = ctx;

  pthread_mutex_unlock (&c->locks[data]);
}

struct http_client *
http_client_new (const struct http_client_opts *opts, bale_error_t *err)
{
  struct http_client *c;
  int i;

  if (curl_dl (err) == NULL)
    return NULL;
  c = xzalloc (sizeof *c);
  for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init (&c->locks[i], NULL);
  c->share = CF->share_init ();
  CF->share_setopt (c->share, CURLSHOPT_LOCKFUNC, share_lock);
  CF->share_setopt (c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  CF->share_setopt (c->share, CURLSHOPT_USERDATA, c);
  CF->share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  CF->share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  /* Not CURL_LOCK_DATA_CONNECT: libcurl does not support sharing connections between
     concurrent threads. Reused easy handles (the pool) keep connections instead. */
  pthread_mutex_init (&c->pool_lock, NULL);
  c->ca_file = opts && opts->ca_file ? xstrdup (opts->ca_file) : NULL;
  c->user_agent = xstrdup (opts && opts->user_agent ? opts->user_agent : "bale");
  c->retries = opts && opts->retries >= 0 ? opts->retries : 3;
  c->retry_ms = opts && opts->retry_ms ? opts->retry_ms : 200;
  return c;
}

void
http_client_free (struct http_client *c)
{
  int i;

  if (c == NULL)
    return;
  while (c->n_pool > 0)
    CF->easy_cleanup (c->pool[--c->n_pool]);
  pthread_mutex_destroy (&c->pool_lock);
  CF->share_cleanup (c->share);
  for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy (&c->locks[i]);
  free (c->ca_file);
  free (c->user_agent);
  free (c);
}

void
http_response_release (struct http_response *resp)
{
  char **h;

  free (resp->url);
  resp->url = NULL;
  strbuf_release (&resp->body);
  for (h = resp->headers; h && *h; h++)
    free (*h);
  free (resp->headers);
  resp->headers = NULL;
  resp->status = 0;
}

const char *
http_response_header (const struct http_response *resp, const char *name)
{
  size_t n = strlen (name);
  char **h;

  for (h = resp->headers; h && *h; h++)
    if (strncasecmp (*h, name, n) == 0 && (*h)[n] == ':')
      return *h + n + 1 + strspn (*h + n + 1, " \t");
  return NULL;
}

/* ---- one attempt ------------------------------------------------------------------------- */

struct transfer
{
  const struct http_request *req;
  struct http_response *resp;
  CURL *h;
  size_t n_headers, headers_alloc;
  int64_t sent;
  bool delivered; /* bytes went to the sink: the request can no longer be retried */
  bale_error_t sink_err;
  bool too_big;
};

static size_t
on_header (char *data, size_t size, size_t n, void *ctx)
{
  struct transfer *t = ctx;
  size_t len = size * n;

  while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
    len--;
  /* A new status line (after a 100 Continue) starts a new set of headers. */
  if (len >= 5 && strncmp (data, "HTTP/", 5) == 0)
    {
      while (t->n_headers > 0)
        free (t->resp->headers[--t->n_headers]);
      if (t->resp->headers)
        t->resp->headers[0] = NULL;
      return size * n;
    }
  if (len == 0)
    return size * n;
  XGROW (t->resp->headers, t->headers_alloc, t->n_headers + 2);
  t->resp->headers[t->n_headers++] = xstrndup (data, len);
  t->resp->headers[t->n_headers] = NULL;
  return size * n;
}

static size_t
on_body (char *data, size_t size, size_t n, void *ctx)
{
  struct transfer *t = ctx;
  size_t len = size * n, max = t->req->max_body ? t->req->max_body : DEFAULT_MAX_BODY;
  long status = 0;

  CF->easy_getinfo (t->h, CURLINFO_RESPONSE_CODE, &status);
  if (t->req->sink && status >= 200 && status < 300)
    {
      if (t->req->recv_meter && !t->delivered)
        {
          curl_off_t cl = -1;
          CF->easy_getinfo (t->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
          meter_begin (t->req->recv_meter, cl > 0 ? (int64_t) cl : 0);
        }
      meter_add_opt (t->req->recv_meter, (int64_t) len);
      t->delivered = true;
      return t->req->sink (t->req->sink_ctx, data, len, &t->sink_err) < 0 ? 0 : len;
    }
  if (t->resp->body.len + len > max)
    {
      t->too_big = true;
      return 0;
    }
  strbuf_add (&t->resp->body, data, len);
  return len;
}

static size_t
on_read (char *buf, size_t size, size_t n, void *ctx)
{
  struct transfer *t = ctx;
  const struct http_request *req = t->req;
  size_t want = size * n;
  int64_t left = (req->body_fd >= 0 ? req->body_size : (int64_t) req->body_len) - t->sent;
  ssize_t got;

  if (req->source)
    {
      got = req->source (req->source_ctx, buf, want);
      if (got < 0)
        return CURL_READFUNC_ABORT;
      /* Consumed: the request cannot be sent again. */
      t->delivered = t->delivered || got > 0;
      t->sent += got;
      if (req->meter)
        meter_set (req->meter, req->body_offset + t->sent);
      return (size_t) got;
    }
  if ((int64_t) want > left)
    want = (size_t) left;
  if (want == 0)
    return 0;
  if (req->body_fd < 0)
    {
      memcpy (buf, (const char *) req->body + t->sent, want);
      t->sent += (int64_t) want;
      if (req->meter)
        meter_set (req->meter, req->body_offset + t->sent);
      return want;
    }
  do
    got = pread (req->body_fd, buf, want, req->body_offset + t->sent);
  while (got < 0 && errno == EINTR);
  if (got <= 0)
    return CURL_READFUNC_ABORT;
  t->sent += got;
  if (req->meter)
    meter_set (req->meter, req->body_offset + t->sent);
  return (size_t) got;
}

static struct curl_slist *
build_headers (const struct http_request *req, bool send_auth)
{
  struct curl_slist *list = NULL;
  const char *const *h;

  /* Registries answer uploads at once; waiting for 100 Continue only costs a round trip. */
  list = CF->slist_append (list, "Expect:");
  for (h = req->headers; h && *h; h++)
    list = CF->slist_append (list, *h);
  if (send_auth && req->authorization)
    {
      cleanup_free char *line = xasprintf ("Authorization: %s", req->authorization);
      list = CF->slist_append (list, line);
    }
  return list;
}

static void
set_method (CURL *h, const struct http_request *req, struct transfer *t)
{
  bool has_body = req->body_fd >= 0 || req->body || req->source;
  /* -1, an unknown size: libcurl sends it chunked. */
  int64_t size = req->source      ? -1
                 : req->body_fd >= 0 ? req->body_size
                                    : (int64_t) req->body_len;

  if (strcmp (req->method, "HEAD") == 0)
    CF->easy_setopt (h, CURLOPT_NOBODY, 1L);
  else if (strcmp (req->method, "POST") == 0 && !has_body)
    {
      CF->easy_setopt (h, CURLOPT_POSTFIELDS, "");
      CF->easy_setopt (h, CURLOPT_POSTFIELDSIZE, 0L);
    }
  else if (has_body || strcmp (req->method, "PUT") == 0 || strcmp (req->method, "PATCH") == 0)
    {
      CF->easy_setopt (h, CURLOPT_UPLOAD, 1L);
      CF->easy_setopt (h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) (has_body ? size : 0));
      /* A streamed body comes in large pieces: fewer callbacks, fewer chunk headers. */
      if (req->source)
        CF->easy_setopt (h, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
      CF->easy_setopt (h, CURLOPT_READFUNCTION, on_read);
      CF->easy_setopt (h, CURLOPT_READDATA, t);
      if (strcmp (req->method, "PUT") != 0)
        CF->easy_setopt (h, CURLOPT_CUSTOMREQUEST, req->method);
    }
  else if (strcmp (req->method, "GET") != 0)
    CF->easy_setopt (h, CURLOPT_CUSTOMREQUEST, req->method);
}

/* An easy handle from the pool (options reset, connections kept), or a new one. */
static CURL *
easy_get (struct http_client *c)
{
  CURL *h = NULL;

  pthread_mutex_lock (&c->pool_lock);
  if (c->n_pool > 0)
    h = c->pool[--c->n_pool];
  pthread_mutex_unlock (&c->pool_lock);
  if (h == NULL)
    return CF->easy_init ();
  CF->easy_reset (h);
  return h;
}

static void
easy_put (struct http_client *c, CURL *h)
{
  pthread_mutex_lock (&c->pool_lock);
  if (c->n_pool < POOL_MAX)
    {
      c->pool[c->n_pool++] = h;
      h = NULL;
    }
  pthread_mutex_unlock (&c->pool_lock);
  if (h)
    CF->easy_cleanup (h);
}

static CURL *
easy_new (struct http_client *c, const char *url, struct transfer *t, struct curl_slist *hdrs)
{
  CURL *h = easy_get (c);

  CF->easy_setopt (h, CURLOPT_URL, url);
  CF->easy_setopt (h, CURLOPT_SHARE, c->share);
  CF->easy_setopt (h, CURLOPT_PROTOCOLS_STR, "http,https");
  CF->easy_setopt (h, CURLOPT_FOLLOWLOCATION, 0L);
  CF->easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  CF->easy_setopt (h, CURLOPT_USERAGENT, c->user_agent);
  CF->easy_setopt (h, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled transfer (under 1 byte/s for a minute) counts as broken and is retried. */
  CF->easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  CF->easy_setopt (h, CURLOPT_LOW_SPEED_TIME, 60L);
  /* With CAINFO set, the system CA directory (CAPATH) stays in use beside it. */
  if (c->ca_file)
    CF->easy_setopt (h, CURLOPT_CAINFO, c->ca_file);
  CF->easy_setopt (h, CURLOPT_HTTPHEADER, hdrs);
  CF->easy_setopt (h, CURLOPT_HEADERFUNCTION, on_header);
  CF->easy_setopt (h, CURLOPT_HEADERDATA, t);
  CF->easy_setopt (h, CURLOPT_WRITEFUNCTION, on_body);
  CF->easy_setopt (h, CURLOPT_WRITEDATA, t);
  set_method (h, t->req, t);
  return h;
}

/* 1 when the failure may go away on its own. */
static bool
transient (CURLcode rc)
{
  switch (rc)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
    }
}

/* One request to url, no redirects. 0 on an answer, -1 with an error, -2 when it may be
   retried (with *retry_err holding why). */
static int
attempt (struct http_client *c, const struct http_request *req, const char *url, bool send_auth,
         struct http_response *resp, bool *delivered, bale_error_t *err)
{
  struct transfer t = { .req = req, .resp = resp };
  struct curl_slist *hdrs = build_headers (req, send_auth);
  CURLcode rc;
  int ret = 0;

  t.h = easy_new (c, url, &t, hdrs);
  rc = CF->easy_perform (t.h);
  CF->easy_getinfo (t.h, CURLINFO_RESPONSE_CODE, &resp->status);
  *delivered = t.delivered;
  if (t.sink_err)
    {
      bale_error_join (err, &t.sink_err);
      ret = -1;
    }
  else if (t.too_big)
    ret = bale_make_error (err, 0, "%s %s: answer larger than %zu bytes", req->method, url,
                           req->max_body ? req->max_body : (size_t) DEFAULT_MAX_BODY);
  else if (rc != CURLE_OK)
    {
      bale_make_error (err, 0, "%s %s: %s", req->method, url, CF->easy_strerror (rc));
      ret = transient (rc) && !t.delivered ? -2 : -1;
    }
  easy_put (c, t.h);
  CF->slist_free_all (hdrs);
  return ret;
}

static void
sleep_ms (unsigned ms)
{
  struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };

  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* How long to wait before the next attempt: Retry-After (seconds) when the server says. */
static unsigned
backoff (const struct http_response *resp, unsigned delay)
{
  const char *ra = resp->status == 429 || resp->status == 503
                       ? http_response_header (resp, "Retry-After") : NULL;
  long s = ra ? strtol (ra, NULL, 10) : 0;

  if (s > 0)
    return (unsigned) (s > MAX_RETRY_AFTER_S ? MAX_RETRY_AFTER_S : s) * 1000u;
  return delay;
}

/* url with retries: 0 with an answer, -1 with an error. */
static int
attempt_retrying (struct http_client *c, const struct http_request *req, const char *url,
                  bool send_auth, struct http_response *resp, bale_error_t *err)
{
  unsigned delay = c->retry_ms;
  int i, ret;

  for (i = 0;; i++)
    {
      bale_error_t e = NULL;
      bool delivered = false;

      http_response_release (resp);
      ret = attempt (c, req, url, send_auth, resp, &delivered, &e);
      if (ret == 0 && !(resp->status >= 500 || resp->status == 429))
        return 0;
      if (ret == -1 || delivered || i >= c->retries)
        {
          if (e && i > 0)
            bale_error_wrap (&e, "after %d attempts", i + 1);
          bale_error_join (err, &e);
          return ret == 0 ? 0 : -1;
        }
      bale_error_release (&e);
      sleep_ms (backoff (resp, delay));
      delay *= 2;
    }
}

bool
http_same_origin (const char *a, const char *b)
{
  static const CURLUPart parts[] = { CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT };
  CURLU *ua, *ub;
  bool same;
  size_t i;

  if (curl_dl (NULL) == NULL)
    return false; /* not the same as far as anyone can tell: no credentials go */
  ua = CF->url ();
  ub = CF->url ();
  same = CF->url_set (ua, CURLUPART_URL, a, 0) == CURLUE_OK
              && CF->url_set (ub, CURLUPART_URL, b, 0) == CURLUE_OK;

  for (i = 0; same && i < sizeof parts / sizeof parts[0]; i++)
    {
      char *pa = NULL, *pb = NULL;

      /* CURLU_DEFAULT_PORT makes "https://h" and "https://h:443" equal. */
      CF->url_get (ua, parts[i], &pa, CURLU_DEFAULT_PORT);
      CF->url_get (ub, parts[i], &pb, CURLU_DEFAULT_PORT);
      same = pa && pb && strcasecmp (pa, pb) == 0;
      CF->free (pa);
      CF->free (pb);
    }
  CF->url_cleanup (ua);
  CF->url_cleanup (ub);
  return same;
}

char *
http_url_resolve (const char *base, const char *ref, bale_error_t *err)
{
  CURLU *u;
  char *s = NULL, *ret = NULL;

  if (curl_dl (err) == NULL)
    return NULL;
  u = CF->url ();
  if (CF->url_set (u, CURLUPART_URL, base, 0) == CURLUE_OK
      && CF->url_set (u, CURLUPART_URL, ref, 0) == CURLUE_OK
      && CF->url_get (u, CURLUPART_URL, &s, 0) == CURLUE_OK)
    ret = xstrdup (s);
  else
    bale_make_error (err, 0, "invalid URL '%s' (relative to '%s')", ref, base);
  CF->free (s);
  CF->url_cleanup (u);
  return ret;
}

static bool
is_redirect (long status)
{
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The next URL of a redirect answer; NULL with an error when it may not be followed. */
static char *
redirect_target (const struct http_request *req, const char *url,
                 const struct http_response *resp, bale_error_t *err)
{
  const char *loc = http_response_header (resp, "Location");
  char *next;

  if (loc == NULL)
    {
      bale_make_error (err, 0, "%s %s: redirect (%ld) without a Location", req->method, url,
                       resp->status);
      return NULL;
    }
  if ((next = http_url_resolve (url, loc, err)) == NULL)
    return NULL;
  /* Never downgrade: a man in the middle could otherwise read what https protected. */
  if (strncmp (url, "https:", 6) == 0 && strncmp (next, "https:", 6) != 0)
    {
      bale_make_error (err, 0, "%s %s: refusing redirect from https to '%s'", req->method,
                       url, next);
      free (next);
      return NULL;
    }
  return next;
}

int
http_do (struct http_client *c, const struct http_request *req, struct http_response *resp,
         bale_error_t *err)
{
  cleanup_free char *url = xstrdup (req->url);
  struct http_request r = *req;
  bool send_auth = true;
  int hops;

  memset (resp, 0, sizeof *resp);
  strbuf_init (&resp->body);
  for (hops = 0;; hops++)
    {
      char *next;

      if (attempt_retrying (c, &r, url, send_auth, resp, err) < 0)
        return -1;
      /* Only reads are redirected: a body cannot be re-sent to a place we did not choose. */
      if (!is_redirect (resp->status) || req->no_redirect
          || !(strcmp (r.method, "GET") == 0 || strcmp (r.method, "HEAD") == 0))
        break;
      if (hops == MAX_REDIRECTS)
        return bale_make_error (err, 0, "%s %s: more than %d redirects", req->method,
                                req->url, MAX_REDIRECTS);
      if ((next = redirect_target (&r, url, resp, err)) == NULL)
        return -1;
      /* Once the request left the original host, it never carries credentials again. */
      send_auth = send_auth && http_same_origin (req->url, next);
      free (url);
      url = next;
    }
  resp->url = steal_pointer (&url);
  return 0;
}

/* ---- downloads for ADD ------------------------------------------------------------------- */

struct fetch_sink
{
  int fd;
  struct digester d;
  const char *url;
};

static int
fetch_write (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  struct fetch_sink *f = ctx;

  if (fileio_write_all (f->fd, buf, len) < 0)
    return bale_make_error (err, errno, "cannot write the download of '%s'", f->url);
  digester_update (&f->d, buf, len);
  return 0;
}

static int
fetch_check (const char *url, const struct http_response *resp, const char *expected,
             struct http_fetch_result *out, bale_error_t *err)
{
  const char *lm = http_response_header (resp, "Last-Modified");

  if (resp->status < 200 || resp->status >= 300)
    return bale_make_error (err, 0, "cannot download '%s': HTTP status %ld", url, resp->status);
  if (expected && strcmp (expected, out->digest) != 0)
    return bale_make_error (err, 0, "checksum of '%s' is %s, not %s", url, out->digest, expected);
  out->last_modified = 0;
  if (lm)
    {
      time_t t = CF->getdate (lm, NULL);
      out->last_modified = t > 0 ? t : 0;
    }
  return 0;
}

int
http_fetch (const char *url, int out_fd, const char *expected_checksum,
            struct http_fetch_result *out, bale_error_t *err)
{
  return http_fetch_metered (url, out_fd, expected_checksum, NULL, out, err);
}

int
http_fetch_metered (const char *url, int out_fd, const char *expected_checksum,
                    struct meter *m, struct http_fetch_result *out, bale_error_t *err)
{
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  struct fetch_sink f = { .fd = out_fd, .url = url };
  struct http_client *c;
  int ret;

  if (expected_checksum && !digest_is_valid (expected_checksum))
    return bale_make_error (err, 0, "invalid checksum '%s': expected sha256:<64 hex digits>",
                            expected_checksum);
  if ((c = http_client_new (NULL, err)) == NULL || digester_init (&f.d, err) < 0)
    {
      http_client_free (c);
      return -1;
    }
  req.url = url;
  req.sink = fetch_write;
  req.sink_ctx = &f;
  req.recv_meter = m;
  ret = http_do (c, &req, &resp, err);
  if (ret == 0)
    {
      out->size = f.d.size;
      ret = digester_final (&f.d, out->digest, err);
    }
  if (ret == 0)
    ret = fetch_check (url, &resp, expected_checksum, out, err);
  if (ret == 0)
    meter_end_opt (m, out->size);
  digester_release (&f.d);
  http_response_release (&resp);
  http_client_free (c);
  return ret;
}
