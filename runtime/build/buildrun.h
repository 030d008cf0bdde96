/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A whole `bale build`: the context fetched (stdin, git, http), the Dockerfile planned for
 * each platform, base images pulled, the build run, the image (or index) stored and named,
 * the outputs written, pushed, the build cache imported and exported. bale_build() runs it in
 * a child process (api/build.c); the options come as the strings the CLI takes, parsed here
 * once (build_request_option).
 */
#ifndef BALE_RT_BUILDRUN_H
#define BALE_RT_BUILDRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bale.h"
#include "common/oci/digest.h"
#include "runtime/build/buildcache.h"
#include "runtime/build/buildevents.h"
#include "runtime/build/buildoutput.h"
#include "runtime/build/buildsecrets.h"
#include "runtime/build/namedctx.h"
#include "runtime/registry/registry.h"
#include "runtime/sandbox/sandbox.h"

struct build_request
{
  const char *context; /* a directory, "-" (a tar or a Dockerfile on stdin), a git or http(s) URL */
  const char *file;    /* -f: NULL for <context>/Dockerfile */
  const char *target;
  char **platforms; /* normalised, without repeats; none: the host's */
  size_t n_platforms, alloc_platforms;
  char **build_args; /* "K=V" */
  size_t n_build_args, alloc_build_args;
  bool allow_insecure; /* --allow security.insecure */
  const char *network; /* default, none or host; NULL: default */
  struct sandbox_host *hosts;
  size_t n_hosts, alloc_hosts;
  struct sandbox_rlimit *rlimits;
  size_t n_rlimits, alloc_rlimits;
  uint64_t shm_size;
  const char **tags;
  size_t n_tags, alloc_tags;
  struct build_outputs outputs;
  const char **labels, **annotations;
  size_t n_labels, alloc_labels, n_annotations, alloc_annotations;
  struct namedctx named;
  const char *compression; /* of image outputs and pushes; NULL: gzip */
  bool no_cache, pull, push, explain_cache;
  bool check; /* run the build checks, build nothing (result: the warnings' count) */
  char **no_cache_stages; /* lowercased */
  size_t n_no_cache_stages, alloc_no_cache_stages;
  const char *epoch; /* --source-date-epoch: wins over the build arg and the environment */
  bool metadata;     /* make buildx's --metadata-file JSON */
  struct build_caches caches;
  struct build_secrets secrets;
  const char **insecure; /* registries reached over http, NULL-terminated */
  size_t n_insecure, alloc_insecure;
  const char *ca_file;
  bool private_mounts; /* the caller entered a mount namespace of its own (rootview_unshare) */
  bool quiet; /* say nothing but warnings (no import, export or push lines) */
  const struct bale_progress *events;
  struct build_say say;
};

/* The parsers of the options `bale plan` shares (build_request_option). --platform P1,P2 (repeatable)
   into v without repeats; --build-arg K=V or K (from the environment, dropped when unset). */
int build_platforms_add (char ***v, size_t *n, size_t *alloc, const char *arg, bale_error_t *err);
int build_args_add (char ***v, size_t *n, size_t *alloc, const char *arg, bale_error_t *err);
/* --allow, --network, --add-host, --ulimit, --shm-size (name without dashes): 1 taken, 0 not
   one of them, -1 a bad value. */
int build_sandbox_option (const char *name, const char *arg, bool *allow_insecure, const char **network,
                          struct sandbox_host **hosts, size_t *n_hosts, size_t *alloc_hosts,
                          struct sandbox_rlimit **rlimits, size_t *n_rlimits, size_t *alloc_rlimits,
                          uint64_t *shm_size, bale_error_t *err);

/*
 * One option as `bale build` spells it, without its dashes ("output", "cache-to", "tag",
 * "platform", ...) and its value (NULL for a flag), checked and added to r. Every string is
 * borrowed for r's lifetime. 1: taken; 0: not an option of build; -1: a bad value (*err).
 */
int build_request_option (struct build_request *r, const char *name, const char *value,
                          bale_error_t *err);
/* Whether name is such an option (the table in buildrun.c), and whether it takes a value. */
bool build_option_known (const char *name, bool *takes_value);
/* After the options: the checks that look at several of them (-q with outputs, --push...). */
int build_request_finish (struct build_request *r, bale_error_t *err);
void build_request_release (struct build_request *r);

struct build_outcome
{
  char id[DIGEST_STRLEN + 1];       /* the image ID: the config digest, or the index's digest */
  char config[DIGEST_STRLEN + 1];   /* the config digest; "" for an index */
  char stored[DIGEST_STRLEN + 1];   /* the manifest (index) digest the store names */
  char pushed[DIGEST_STRLEN + 1];   /* what the last push sent, or "" */
  bool index;                       /* several platforms */
  char *metadata;                   /* buildx's metadata JSON when asked (r->metadata) */
  int lint_warnings;                /* --check */
  char **written;                   /* the outputs' files and directories (not "-"), NULL-terminated */
};

/* The build, with the store s (opened by the caller). */
int build_run (struct store *s, struct build_request *r, struct build_outcome *out, bale_error_t *err);
void build_outcome_release (struct build_outcome *o);
/* Whether an output writes to stdout (the image ID is then not printed there). */
bool build_request_stdout (const struct build_request *r);

/* A base image the store has, or pulls (pull_opts NULL: never; pull_always: again): the
   plan's look-up (1 found, 0 not available, -1 with *err). */
int build_resolve_image (struct store *s, const char *ref, const struct bale_platform *platform,
                         const struct registry_opts *pull_opts, bool pull_always, json_t **config,
                         char **digest, bale_error_t *err);

#endif
