/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI distribution API (v2): pull images into the store, push them, authenticate. */
#ifndef BALE_REGISTRY_H
#define BALE_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bale.h"
#include "common/meter.h"
#include "common/oci/digest.h"
#include "common/oci/platform.h"
#include "runtime/registry/http.h"
#include "runtime/store/store.h"
#include "common/oci/ref.h"

/* Manifests and indexes larger than this are refused (image-spec's 4 MiB guidance; containerd
   uses the same limit against CVE-2023-25153-style memory exhaustion). */
#define REGISTRY_MAX_MANIFEST (4 * 1024 * 1024)
/* An image config, as the store reads one (JSON of at most 16 MiB): a descriptor naming a
   larger one is refused before a byte is downloaded. */
#define REGISTRY_MAX_CONFIG (16 * 1024 * 1024)

enum registry_compression
{
  REGISTRY_COMPRESS_GZIP = 0, /* the default: every registry and client reads it */
  REGISTRY_COMPRESS_ZSTD,
  REGISTRY_COMPRESS_NONE,
  REGISTRY_COMPRESS_GZIP_SINGLE, /* gzip in one member, for readers that stop after the first */
};

/* "gzip", "gzip-single", "zstd" or "none"; false for anything else (*out untouched). */
bool registry_compression_parse (const char *name, enum registry_compression *out);

/* Progress lines ("sha256:…: exists") for the CLI; the library never prints. */
typedef void (*registry_log_fn) (void *ctx, const char *msg);

struct registry_opts
{
  /* host[:port] names reached over plain http, besides localhost, 127.0.0.1 and ::1. */
  const char *const *insecure; /* NULL-terminated, or NULL */
  const char *ca_file;         /* --tls-ca: extra CA bundle for https */
  const char *docker_config;   /* config.json path; NULL: $DOCKER_CONFIG or ~/.docker */
  int parallel;                /* concurrent blob transfers; 0: 3 */
  enum registry_compression compression;
  int64_t chunk_size; /* push blobs larger than this in PATCH chunks of this size; 0: 64 MiB */
  int retries;        /* http_client_opts.retries; -1 for its default */
  registry_log_fn log;
  void *log_ctx;
  /* The byte counts of each blob transfer (common/meter.h), id the blob's digest (a layer
     compressed while it is pushed: the stored digest, its total unknown until the end).
     Called from the transfer threads, one call at a time (as log is). NULL: none. */
  meter_fn progress;
  void *progress_ctx;
};

/* The host serving domain: docker.io is served by registry-1.docker.io. The caller frees it. */
char *registry_host (const char *domain);
/* True when host[:port] is reached over plain http: localhost, 127.0.0.1, ::1 on any port, or
   an entry of insecure (matched with or without the port). */
bool registry_is_insecure (const char *host, const char *const *insecure);
/* "https://registry-1.docker.io/v2/library/busybox/manifests/latest" for kind "manifests"
   (or "blobs") and a tag or digest; http:// for insecure hosts. The caller frees it. */
char *registry_url (const struct oci_ref *r, const char *kind, const char *what,
                    const char *const *insecure);

/* ---- authentication (registry_auth.c) ---------------------------------------------------- */

/* One parsed WWW-Authenticate challenge. */
struct registry_challenge
{
  char *scheme; /* "Bearer", "Basic" (as sent) */
  char *realm, *service, *scope, *error;
};

/*
 * Parse a WWW-Authenticate value per RFC 7235: auth-params with quoted strings (which may hold
 * commas and \-escapes). Only the first challenge is kept, Bearer preferred when several are
 * offered. Fails on a syntax error. Release with registry_challenge_release.
 */
int registry_challenge_parse (const char *value, struct registry_challenge *out,
                              bale_error_t *err);
void registry_challenge_release (struct registry_challenge *c);

/* Credentials for one registry. A username of "<token>" means secret is an identity token. */
struct registry_creds
{
  char *username;
  char *secret;
};
void registry_creds_release (struct registry_creds *c);

/*
 * Look up credentials for the registry domain ("docker.io", "ghcr.io", "127.0.0.1:5000") in a
 * docker config.json, in docker's order: credHelpers[domain], credsStore, then auths[domain]
 * (keys may be "host", "https://host", "http://host" or with a path; Docker Hub's key is
 * "https://index.docker.io/v1/"). Helpers run as `docker-credential-NAME get` from $PATH. 1
 * with *out filled, 0 when there are none (anonymous), -1 on an error (unreadable or invalid
 * file, failing helper).
 */
int registry_creds_lookup (const char *config_path, const char *domain,
                           struct registry_creds *out, bale_error_t *err);

/* $DOCKER_CONFIG/config.json or ~/.docker/config.json; the caller frees it. */
char *registry_docker_config_path (void);

/* Record (or, with creds NULL, remove) the credentials of domain as docker login (logout)
   does: through `docker-credential-NAME store` (erase) when config_path names a helper for
   domain (credHelpers, credsStore), else in config_path as auths[key].auth =
   base64(user:secret). The file is replaced atomically, mode 0600, everything else in it
   kept. Removing credentials that are not there fails. */
int registry_creds_store (const char *config_path, const char *domain,
                          const struct registry_creds *creds, bale_error_t *err);

/* A connection to one registry: http client, credentials, token cache. Thread-safe. */
struct registry_conn;

struct registry_conn *registry_conn_new (const char *domain, const struct registry_opts *opts,
                                         bale_error_t *err);
void registry_conn_free (struct registry_conn *c);
/* Use these credentials instead of the docker config's (bale login). Copies them. */
void registry_conn_set_creds (struct registry_conn *c, const struct registry_creds *creds);
/* "https://host" or "http://host": where the connection's requests go. Borrowed. */
const char *registry_conn_base (const struct registry_conn *c);
/* GET /v2/ and authenticate as the challenge asks: succeeds when the credentials work. */
int registry_check_login (struct registry_conn *c, bale_error_t *err);

/*
 * Perform req against the registry with authentication: a 401 with a Bearer challenge fetches
 * a token for scopes (space-separated, "repository:a/b:pull,push"; the challenge's own scope
 * is added), cached per scope set; a Basic challenge sends the credentials. Then the request
 * is repeated once. A 401 without a challenge is an error. Requests to another origin than the
 * registry's (an upload Location on a storage service) never carry credentials.
 */
int registry_do (struct registry_conn *c, const char *scopes, const struct http_request *req,
                 struct http_response *resp, bale_error_t *err);

/* Base64 (standard alphabet, padded) of len bytes; the caller frees it. */
char *registry_base64 (const void *data, size_t len);

/* ---- pull and push ------------------------------------------------------------------------ */

/*
 * Fetch ref (a tag or a digest) into the store: the manifest (and the index it came from,
 * when a platform was chosen from one: platform NULL means the host's), the config and every
 * layer the store lacks, each verified against its digest and size while it streams, so
 * nothing unverified is ever visible in the store. Then ref names the index or manifest (an
 * untagged pull by digest is kept under its digest). out_manifest_digest receives what ref
 * names. Errors name the registry, the repository and the digest.
 */
int registry_pull (struct store *s, const char *ref, const struct bale_platform *platform,
                   const struct registry_opts *opts, char out_manifest_digest[DIGEST_STRLEN + 1],
                   bale_error_t *err);

/*
 * Push the image the store calls name (anything store_resolve takes) to dest (NULL: name
 * itself, which must then be a reference; dest needs a tag). An index whose images are all in
 * the store is pushed whole (images by digest, then the index to the tag); otherwise, as after
 * a pull of one platform, only the host's image is. Uncompressed layers
 * are compressed on the way as opts->compression says and the manifest is rewritten with their
 * digests, sizes and media types (diff_ids stay). Blobs the registry has are skipped; blobs
 * another repository of the same registry has (known from the store's names) are mounted.
 * out_digest receives the digest of the manifest pushed.
 */
int registry_push (struct store *s, const char *name, const char *dest,
                   const struct registry_opts *opts, char out_digest[DIGEST_STRLEN + 1],
                   bale_error_t *err);

/*
 * Push an OCI artifact (image-spec 1.1: an image manifest with artifactType) whose config and
 * layers are store blobs, to dest's tag. Layers of an uncompressed tar type are compressed as
 * for images and their descriptors rewritten; blobs the registry has are skipped, and
 * mount_from (a reference of the same registry, or NULL) is where to mount them from.
 */
int registry_push_artifact (struct store *s, const char *dest, const char *artifact_type,
                            const char *config_type, const char *config,
                            const struct store_layer *layers, size_t n_layers,
                            const char *mount_from, const struct registry_opts *opts,
                            char out_digest[DIGEST_STRLEN + 1], bale_error_t *err);

/*
 * Stream the blob digest (of size bytes) of ref's repository to out_fd, without keeping it:
 * for content that is unpacked on the way (a cache mount). The bytes must be size and hash to
 * digest, else the call fails; they have been written by then, so the reader must verify what
 * it makes of them too (or throw it away on a failure). One attempt: no retry once bytes
 * went out.
 */
int registry_blob_stream (const char *ref, const char *digest, int64_t size,
                          const struct registry_opts *opts, int out_fd, bale_error_t *err);

/* A store blob's compressed form that a registry holds. */
struct registry_known
{
  const char *stored; /* the store's blob */
  enum registry_compression compression;
  const char *digest; /* compressed */
  int64_t size;
};
/* Remember these (what a cache import learnt, in one write of push-cache.json), so that a push
   of those blobs asks the registry instead of compressing them. */
void registry_push_remember (struct store *s, const struct registry_known *known, size_t n);

/*
 * Which layers of an artifact to download: called with the manifest and the config's digest
 * (in the store by then); sets wanted[i] for layer i. A failure ends the pull.
 */
typedef int (*registry_choose_fn) (void *ctx, json_t *manifest, const char *config, bool *wanted,
                                   bale_error_t *err);

/*
 * Fetch the OCI artifact ref names: a manifest whose artifactType (or, for an older writer,
 * config mediaType) is artifact_type. Its config, then the layers choose wants, are streamed
 * into the store verified as in registry_pull; the manifest is not kept, and nothing is named.
 * *manifest receives the manifest (the caller drops it). A manifest that is not there fails
 * with a message holding MANIFEST_UNKNOWN or HTTP status 404.
 */
int registry_pull_artifact (struct store *s, const char *ref, const char *artifact_type,
                            registry_choose_fn choose, void *ctx, const struct registry_opts *opts,
                            json_t **manifest, bale_error_t *err);

/* ---- shared helpers (registry.c) ---------------------------------------------------------- */

/* Run fn(i) for i in [0, n) on up to threads threads; the first failure is reported (the
   others still finish the item they are on, and start no new one). */
typedef int (*registry_job_fn) (void *ctx, size_t i, bale_error_t *err);
int registry_parallel (size_t n, int threads, registry_job_fn fn, void *ctx, bale_error_t *err);

/* A message for a non-2xx answer: the status and the registry's error codes from the body. */
int registry_http_error (const char *what, const struct http_response *resp, bale_error_t *err);

/* Start m on a blob transfer whose reports go to opts->progress, one at a time. */
void registry_meter_start (struct meter *m, const struct registry_opts *opts, const char *id,
                           int64_t total);

/* Call opts->log with a formatted line when set. */
void registry_log (const struct registry_opts *opts, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
