/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The build cache as an OCI artifact in a registry (--cache-to/--cache-from type=registry),
 * so that CI runners with empty stores share one cache through any registry.
 */
#ifndef BALE_CACHE_REGISTRY_H
#define BALE_CACHE_REGISTRY_H

#include <stddef.h>

#include "bale.h"
#include "runtime/build/cache.h"
#include "runtime/build/cache_mounts.h"
#include "runtime/registry/registry.h"

/* The artifact: an image manifest of this artifactType whose config (of the config type) lists
   the entries and whose layers are their layer blobs, compressed for the transfer. */
#define CACHE_ARTIFACT_TYPE "application/vnd.bale.buildcache.v1"
#define CACHE_CONFIG_TYPE "application/vnd.bale.buildcache.config.v1+json"

/*
 * Push entries[0..n) to ref (it needs a tag) as the artifact; out_digest receives the
 * manifest's digest. mount_from (NULL, or a reference of the same registry holding the layers,
 * as after --push) lets the registry mount layers instead of receiving them again.
 */
int cache_export_registry (struct store *s, const char *ref, const struct cache_keyed *entries,
                           size_t n, const struct cache_mount_blob *mounts, size_t n_mounts,
                           const char *mount_from, const struct registry_opts *opts,
                           char out_digest[DIGEST_STRLEN + 1], bale_error_t *err);

/*
 * Take the entries of the artifact at ref that the store lacks: each layer is downloaded
 * verified against the manifest's digest, decompressed when it was compressed for the transfer
 * and stored only when its bytes hash to the entry's digest. *imported receives the count.
 */
int cache_import_registry (struct store *s, const char *ref, const struct registry_opts *opts,
                           size_t *imported, size_t *mounts_imported, bale_error_t *err);

/*
 * Parse an artifact config: its entries, each with the index of its layer in the manifest (of
 * n_layers). Entries with an invalid key, digest or layer index make the whole config invalid:
 * it was not written by bale.
 */
struct cache_artifact_entry
{
  struct cache_keyed k;
  size_t layer;
};
int cache_artifact_parse (const char *json, size_t len, size_t n_layers,
                          struct cache_artifact_entry **out, size_t *n, bale_error_t *err);

/* The config's "mounts" (cache mounts, --cache-to cache-mounts=true): each an id valid as a
   cache mount directory, the index of its layer, the digest and size of its plain tar. A
   config without "mounts" has none. */
struct cache_artifact_mount
{
  char id[256];
  char digest[DIGEST_STRLEN + 1];
  int64_t size;
  size_t layer;
};
int cache_artifact_mounts (const char *json, size_t len, size_t n_layers,
                           struct cache_artifact_mount **out, size_t *n, bale_error_t *err);

#endif
