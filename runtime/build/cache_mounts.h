/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * RUN --mount=type=cache directories (<store>/cache/<id>, runtime/build/exec_run.c) in the
 * shared build cache: packed as content-addressed tar blobs by --cache-to (mode=max, or
 * cache-mounts=true), unpacked by --cache-from on a runner whose store lacks them, so a fresh
 * CI runner starts with a warm apt/npm/go cache. Only cache mounts are packed: secrets and
 * ssh sockets are never in <store>/cache, so no export can hold them.
 */
#ifndef BALE_CACHE_MOUNTS_H
#define BALE_CACHE_MOUNTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bale.h"
#include "common/oci/digest.h"

struct store;

/* One packed cache mount: its directory name under <store>/cache (the mount's id, '/' made
   '_') and the store blob holding it as an uncompressed tar. */
struct cache_mount_blob
{
  char *id;
  char digest[DIGEST_STRLEN + 1];
  int64_t size;
};

/* Whether name can be a directory of <store>/cache: one path component, not . or .. */
bool cache_mount_id_valid (const char *name);

/*
 * Pack every cache mount used at or after since (NULL: all; a step that mounts one touches
 * its directory) whose files take at most max_bytes (< 0: no limit); larger ones are skipped
 * with a warning through warn. The blobs are nameless store blobs: the caller holds the
 * store's transaction. *out is sorted by id; free it with cache_mount_blobs_free.
 */
int cache_mounts_pack (struct store *s, const struct timespec *since, int64_t max_bytes,
                       void (*warn) (const char *msg), struct cache_mount_blob **out, size_t *n,
                       bale_error_t *err);
void cache_mount_blobs_free (struct cache_mount_blob *v, size_t n);

/* Whether the store has the cache mount id (an import never replaces a local one). */
bool cache_mount_exists (struct store *s, const char *id);

/*
 * Unpack the blob (gzip, zstd or plain tar) open at fd as the cache mount id, when the store
 * lacks it: into a temporary directory, every path resolved inside it, the uncompressed
 * stream checked against tar_digest and bounded by max_bytes, then renamed into place.
 */
int cache_mount_unpack (struct store *s, const char *id, int fd, const char *tar_digest,
                        int64_t max_bytes, bale_error_t *err);

/* The tree below parent_fd/name as an uncompressed tar blob of the store (nameless: the caller
   holds the store's transaction): its digest and size. */
int cache_pack_dir (struct store *s, int parent_fd, const char *name,
                    char digest[DIGEST_STRLEN + 1], int64_t *size, bale_error_t *err);
/* Unpack the tar (gzip, zstd or plain) at fd into a new directory parent/.import.XXXXXX
   (*out, the caller frees it), every path resolved inside it, the uncompressed stream checked
   against tar_digest and bounded by max_bytes. */
int cache_unpack_temp (const char *parent, int fd, const char *tar_digest, int64_t max_bytes,
                       char **out, bale_error_t *err);
/* Remove such a directory with everything in it, if it is there. */
void cache_remove_temp (const char *path);

#endif
