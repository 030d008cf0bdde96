/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The executor: runs the layer steps of a plan and assembles the target stage's image (config,
 * manifest, layer blobs). Everything about what the image config says was decided by the
 * plan; the executor adds the layers and the timestamps.
 */
#ifndef BALE_EXECUTOR_H
#define BALE_EXECUTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "bale.h"
#include "common/oci/digest.h"
#include "codegen/plan.h"
#include "runtime/sandbox/sandbox.h"

struct exec_layer
{
  char *media_type;
  char digest[DIGEST_STRLEN + 1];  /* of the blob as stored */
  char diff_id[DIGEST_STRLEN + 1]; /* of the uncompressed tar */
  int64_t size;
  char *path;     /* where the blob's bytes are */
  char *snapshot; /* the unpacked layer, once a step needed it */
  /* When a step of this build made the layer or its cache entry was made (nanoseconds since
     the epoch; 0 for a base image's layers): its history entry's `created`. */
  int64_t created_ns;
};

struct exec_image
{
  char *config;   /* canonical JSON */
  size_t config_len;
  char config_digest[DIGEST_STRLEN + 1];
  char *manifest; /* canonical JSON */
  size_t manifest_len;
  char manifest_digest[DIGEST_STRLEN + 1];
  struct exec_layer *layers;
  size_t n_layers;
  struct bale_platform platform;
  json_t *annotations; /* the manifest's annotations (--annotation), or NULL */
};

struct store;
struct ignore_matcher;
struct bale_progress;

/* `bale build --secret id=ID,src=PATH` (path) or `id=ID,env=VAR` (value). */
struct exec_secret
{
  const char *id;
  const char *path;
  const char *value;
};

/* `bale build --ssh ID=SOCKET`: an ssh-agent socket for RUN --mount=type=ssh. */
struct exec_ssh
{
  const char *id;
  const char *socket;
};

struct exec_opts
{
  struct store *store;    /* base image layers come from here, new layers go here */
  const char *context;    /* the build context directory */
  const struct ignore_matcher *ignore; /* its .dockerignore */
  bool epoch_set;         /* SOURCE_DATE_EPOCH given: every timestamp is this */
  int64_t epoch;
  /* Where the build's progress events go (runtime/build/progress.h); NULL: nowhere. */
  const struct bale_progress *events;
  const struct exec_secret *secrets;
  size_t n_secrets;
  const struct exec_ssh *ssh;
  size_t n_ssh;
  bool no_cache;                 /* run every step (their layers are still cached) */
  const char *const *no_cache_stages; /* run every step of these stages (name or stage-N) */
  size_t n_no_cache_stages;
  /* Say why each step that missed the cache missed (a MISS event, runtime/build/cache_inputs.h). */
  bool explain_cache;
  /* --cache-from was given: entries of other stores may match a step this store never built
     (runtime/build/exec_cache.c takes such a step's key before its layer is written). */
  bool cache_imported;
  /* The Dockerfile's path: with the context's name, a stage and an index, which step of which
     project a cache entry was made by, so a miss compares with that step's last build. */
  const char *dockerfile;
  /* The caller runs the build in a mount namespace of its own (rootview_unshare before the
     store was opened): RUN --mount from= may mount stage views there. */
  bool private_mounts;
  /* The RUN sandbox (bale build --network, --add-host, --ulimit, --shm-size). */
  const char *network; /* of steps without RUN --network (or =default): NULL or "default"
                          is the host's network, "none" or "host" */
  const struct sandbox_host *hosts;
  size_t n_hosts;
  const struct sandbox_rlimit *rlimits;
  size_t n_rlimits;
  uint64_t shm_size;
  /* The job limit the processes of one build share (exec_platforms.c): the ends of a pipe
     holding one byte per job that may start besides each process's first, as make's
     jobserver; NULL: this process's own limit (exec_job_limit). */
  const int *jobserver;
  /* One build of several platforms (bale build --platform a,b): vertex names start with the
     stage's platform, as BuildKit's do when several were requested. */
  bool platform_prefix;
  /* The same: a directory of this build's own where a step's key is locked while the step
     runs, and marked once it is recorded. A step that several platforms share (a stage that
     does not depend on the target) then runs once, whichever platform reaches it first, and
     the others take its layer, also with no_cache. NULL: steps are not shared. */
  const char *shared_dir;
};

/* Build every plan (one per platform) into imgs[i], in parallel child processes up to one per
   CPU, sharing steps through o->shared_dir. */
int executor_build_platforms (struct plan **plans, size_t n, const struct exec_opts *o,
                              struct exec_image *imgs, bale_error_t *err);

int executor_build (struct plan *p, const struct exec_opts *o, struct exec_image *out,
                    bale_error_t *err);
void exec_image_release (struct exec_image *img);
/* (Re)build img's manifest (canonical JSON and digest) from its config and layers. */
int exec_image_set_manifest (struct exec_image *img, bale_error_t *err);

/* Go's time.Time.MarshalJSON of a UTC time: RFC 3339 with nanoseconds, trailing zeros cut. */
void exec_format_time (int64_t sec, long nsec, char buf[40]);

#endif
