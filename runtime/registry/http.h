/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small blocking HTTP client over libcurl: manual redirects, retries, size limits. */
#ifndef BALE_HTTP_H
#define BALE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "bale.h"
#include "common/meter.h"
#include "common/oci/digest.h"
#include "common/strbuf.h"

/*
 * One client is shared by every transfer of an operation, from several threads: it keeps DNS
 * answers and TLS sessions between them (a curl share handle), and idle easy handles whose
 * open connections the next transfers reuse. Each transfer has an easy handle to itself.
 *
 * Redirects are followed here, not by libcurl, so that the Authorization header is only ever
 * sent to the scheme, host and port of the original request (distribution-spec: clients MUST
 * NOT forward it across hosts; presigned S3 URLs also fail with it). A redirect from https to
 * plain http is refused.
 */
struct http_client;

struct http_client_opts
{
  const char *ca_file;  /* extra CA bundle (PEM) on top of the system CAs, or NULL */
  int retries;          /* further attempts after a 5xx or a connection error; -1: 3 */
  unsigned retry_ms;    /* first backoff delay, doubled each time; 0: 200 ms */
  const char *user_agent;
};

struct http_client *http_client_new (const struct http_client_opts *opts, bale_error_t *err);
/* Accepts NULL. */
void http_client_free (struct http_client *c);

/* Receives response body bytes of a 2xx answer; return <0 (with an error) to stop. */
typedef int (*http_sink_fn) (void *ctx, const void *buf, size_t len, bale_error_t *err);
/* Produces a request body of unknown size, sent with chunked transfer encoding: up to len
   bytes into buf, 0 at its end, <0 to abort the request (the source keeps why). */
typedef ssize_t (*http_source_fn) (void *ctx, void *buf, size_t len);

struct http_request
{
  const char *method; /* "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE" */
  const char *url;
  const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
  /* "Bearer …" or "Basic …": sent as Authorization to the original host only, never after a
     redirect to another one. */
  const char *authorization;
  /* The request body: len bytes at body, or body_size bytes of body_fd from body_offset
     (read with pread, so a retry can send it again). */
  const void *body;
  size_t body_len;
  int body_fd; /* -1 when the body is not in a file */
  int64_t body_offset, body_size;
  /* Or the body comes from source, once: a request whose source gave bytes is not sent
     again (no retry, no answer to an authentication challenge). */
  http_source_fn source;
  void *source_ctx;
  /* The body of a 2xx answer goes to sink when set; otherwise, like every non-2xx body, into
     the response (bodies over max_body fail the request). */
  http_sink_fn sink;
  void *sink_ctx;
  size_t max_body; /* 0: 1 MiB */
  /* Told body_offset + the bytes of the body sent so far, as they go (or NULL). */
  struct meter *meter;
  /* With sink: a meter named by the caller (METER_INIT), begun with the Content-Length of
     the 2xx answer (0 when unknown) when its body starts, then told the bytes of it that
     reach the sink; the caller ends it. NULL: none. */
  struct meter *recv_meter;
  bool no_redirect; /* return 3xx answers as they are */
};

/* Initialise with HTTP_REQUEST_INIT, then set what you need. */
#define HTTP_REQUEST_INIT { .method = "GET", .body_fd = -1 }

struct http_response
{
  long status;
  char *url;           /* the URL that answered, after redirects */
  struct strbuf body;  /* see http_request.sink */
  char **headers;      /* "Name: value" lines of the final answer, NULL-terminated */
};

/*
 * Perform req. A transport failure is an error; any HTTP status is a success, with the answer
 * in *resp, which the caller releases with http_response_release (also after a failure).
 * 5xx answers, 429 and connection errors are retried with backoff, as long as nothing was
 * handed to the sink yet; after that the caller must start over (a blob download restarts
 * its writer).
 */
int http_do (struct http_client *c, const struct http_request *req, struct http_response *resp,
             bale_error_t *err);
void http_response_release (struct http_response *resp);

/* The value of the first header called name (case-insensitive), or NULL; borrowed. */
const char *http_response_header (const struct http_response *resp, const char *name);

/* An absolute URL for ref (absolute, or relative like "/v2/x/blobs/uploads/u?s=1") resolved
   against base; the caller frees it. NULL with an error when either does not parse. */
char *http_url_resolve (const char *base, const char *ref, bale_error_t *err);

/* True when a and b have the same scheme, host and port: the only case where a redirect may
   carry credentials. */
bool http_same_origin (const char *a, const char *b);

/* ---- downloads for ADD ------------------------------------------------------------------- */

struct http_fetch_result
{
  time_t last_modified; /* from Last-Modified; 0 when absent or unparsable */
  int64_t size;
  char digest[DIGEST_STRLEN + 1]; /* sha256 of the bytes written */
};

/*
 * Download url (http or https, redirects followed) into out_fd from its current offset,
 * computing the SHA-256 on the way. expected_checksum ("sha256:<hex>", ADD --checksum), when
 * not NULL, must match; on a mismatch the bytes are in out_fd but the call fails, and the
 * caller must throw them away. Non-2xx answers fail with the status in the message.
 */
int http_fetch (const char *url, int out_fd, const char *expected_checksum,
                struct http_fetch_result *out, bale_error_t *err);
/* The same, the bytes counted by m as http_request.recv_meter does (m may be NULL); m is
   ended with the size on success. */
int http_fetch_metered (const char *url, int out_fd, const char *expected_checksum,
                        struct meter *m, struct http_fetch_result *out, bale_error_t *err);

#endif
