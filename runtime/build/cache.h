/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The build cache's entries: a step's cache key (a digest, see runtime/build/exec_cache.c) to the
 * layer the step produced, kept in the store so that a rebuild reuses the layer blob.
 */
#ifndef BALE_CACHE_H
#define BALE_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bale.h"
#include "common/oci/digest.h"

struct store;

/*
 * On disk: <store>/buildcache/keys/<hex of the key>, one small JSON file per entry,
 * {"digest","diff_id","size","media_type","created"}, written to tmp/ and renamed into place, so
 * concurrent builds (parallel stages are separate processes) never see half an entry and
 * the last writer of one key wins with an equally good layer. The file's mtime is the
 * entry's last use, for `bale prune --keep-storage`. The blobs entries name are kept by
 * store_gc through cache_keep below rather than pins, so adding an entry takes no lock.
 */
struct cache_entry
{
  char digest[DIGEST_STRLEN + 1];  /* the layer blob */
  char diff_id[DIGEST_STRLEN + 1];
  int64_t size;
  char media_type[96];
  /* When the layer was made, in nanoseconds since the epoch (0: unknown, an entry of an older
     bale). A hit gives the step's history entry this time, as BuildKit gives a cached layer
     its snapshot's creation time, so a fully cached rebuild writes the same config. */
  int64_t created_ns;
};

/* The entry's fields as JSON ({"digest","diff_id","size","media_type"} and "created" when
   known), the form of the entry files, of a local cache's keys/ and of a registry cache. */
json_t *cache_entry_to_json (const struct cache_entry *e);
/* The reverse: 0 with *out filled, -1 when a field is missing or invalid. */
int cache_entry_from_json (const json_t *j, struct cache_entry *out);

/* A look-up (common/error.h) that cannot fail: 1 with *out filled when key has an entry whose
   blob is in the store (its last use is updated), 0 when not. A damaged entry or one whose
   blob is gone is a miss. */
int cache_lookup (struct store *s, const char *key, struct cache_entry *out);
/* Record key → e. */
int cache_record (struct store *s, const char *key, const struct cache_entry *e,
                  bale_error_t *err);

/* Write <store>/buildcache/dir/name (dir created): a temporary file renamed into place, so
   readers never see half of one and concurrent writers need no lock. */
int cache_file_write (struct store *s, const char *dir, const char *name, const char *text,
                      size_t len, bale_error_t *err);

/* The layer blobs of every entry, for store_gc's keep callback (cache_keep with it as ctx). */
struct cache_blobs;
int cache_blobs_load (struct store *s, struct cache_blobs **out, bale_error_t *err);
bool cache_keep (const char *digest, void *ctx);
void cache_blobs_free (struct cache_blobs *b);

/*
 * Drop entries: all of them when keep_bytes < 0, else the least recently used ones beyond
 * keep_bytes of layers (counted per entry). *dropped (may be NULL) receives the count. The
 * blobs go with the next store_gc.
 */
int cache_prune (struct store *s, int64_t keep_bytes, size_t *dropped, bale_error_t *err);

/* Remove every RUN --mount=type=cache directory (<store>/cache/<id>, runtime/build/exec_run.c),
   waiting for running builds to end. *freed receives the bytes of their files. */
int cache_mounts_prune (struct store *s, int64_t *freed, bale_error_t *err);

/* An entry with its key ("sha256:…"). */
struct cache_keyed
{
  char key[DIGEST_STRLEN + 1];
  struct cache_entry e;
};

/*
 * The entries to share with other machines, sorted by key: those used or recorded at or after
 * since (NULL: any time; a build passes its start, taken with CLOCK_REALTIME_COARSE, the clock
 * of file timestamps) whose layer is in layers[0..n_layers) (NULL: any layer) and in the
 * store. The caller frees *out.
 */
int cache_select (struct store *s, const struct timespec *since, const char *const *layers,
                  size_t n_layers, struct cache_keyed **out, size_t *n, bale_error_t *err);

/*
 * A cache directory another machine can use (--cache-to/--cache-from type=local): keys/<hex>
 * entries as above, blobs/sha256/<hex> layers and mounts/<id> cache mounts ({"digest","size"}
 * of their tar blob, runtime/build/cache_mounts.h). Export writes the given entries and their
 * layers; import takes the entries the store lacks, each blob verified against its digest as
 * it is stored.
 */
struct cache_mount_blob;
struct meter;
/* m (NULL: none) counts each blob copied as a transfer named by its digest. */
int cache_export_local (struct store *s, const char *dir, const struct cache_keyed *entries,
                        size_t n, const struct cache_mount_blob *mounts, size_t n_mounts,
                        struct meter *m, bale_error_t *err);
int cache_import_local (struct store *s, const char *dir, size_t *imported,
                        size_t *mounts_imported, bale_error_t *err);

#endif
