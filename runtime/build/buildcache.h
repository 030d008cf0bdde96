/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bale build's --cache-to and --cache-from: the build cache shared through a directory or a
   registry. */
#ifndef BALE_RT_BUILDCACHE_H
#define BALE_RT_BUILDCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bale.h"
#include "runtime/registry/registry.h"
#include "runtime/store/store.h"

struct build_say;

enum cache_type
{
  CACHE_LOCAL,
  CACHE_REGISTRY,
};

struct cache_spec
{
  enum cache_type type;
  char *where;              /* the directory, or the reference */
  bool max;                 /* --cache-to mode=max: every step's entry, not the image's only */
  bool ignore_error;        /* --cache-to ignore-error=true: a failed export only warns */
  const char *compression;  /* --cache-to type=registry compression=, or NULL */
  int mounts;               /* cache-mounts=true|false: export RUN cache mounts (-1: as max) */
  int64_t mounts_max;       /* cache-mounts-max-size=SIZE: larger cache mounts stay home */
};

struct build_caches
{
  struct cache_spec *to, *from;
  size_t n_to, n_from, alloc_to, alloc_from;
};

/*
 * Add a --cache-to (to) or --cache-from spec, BuildKit's syntax: type=local,dest=DIR or
 * src=DIR; type=registry,ref=REF; a bare REF means type=registry,ref=REF. mode=min|max,
 * ignore-error=true|false, compression=gzip|zstd|uncompressed, cache-mounts=true|false (the
 * RUN --mount=type=cache directories this build used; default: with mode=max) and
 * cache-mounts-max-size=SIZE (default 1g) are --cache-to's.
 */
int buildcache_add (struct build_caches *c, const char *spec, bool to, bale_error_t *err);
void buildcache_release (struct build_caches *c);

/*
 * Take every --cache-from's entries. A source that cannot be read (no cache there yet, a
 * registry down, a damaged or tampered blob) only warns, as in BuildKit: the steps run
 * instead, and nothing unverified enters the store.
 */
void buildcache_import (struct store *s, const struct build_caches *c,
                        const struct registry_opts *ro, bool quiet, const struct build_say *say);

/*
 * Write every --cache-to: the entries used or recorded since the build began (since), all of
 * them with mode=max, else those of the image's layers[0..n_layers). mount_from (NULL, or a
 * reference the image was pushed to) lets a registry mount layers it has. Each export is a
 * vertex v of events ("exporting cache to registry", "exporting cache to client directory",
 * as BuildKit names them), each blob's bytes a transfer of it: ro's progress must report to
 * v (runtime/build/buildrun.c).
 */
struct progress_vertex;
int buildcache_export (struct store *s, const struct build_caches *c, const struct timespec *since,
                       const char *const *layers, size_t n_layers, const char *mount_from,
                       const struct registry_opts *ro, bool quiet, const struct build_say *say,
                       const struct bale_progress *events, struct progress_vertex *v,
                       bale_error_t *err);

#endif
