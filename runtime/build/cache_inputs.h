/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why a step missed the cache: with each entry the store keeps the inputs its key was computed
 * from, so that a later miss (or `bale cache why A B`) can name the inputs that differ.
 *
 * On disk, next to the entries (runtime/build/cache.h):
 *   <store>/buildcache/inputs/<hex of key>  the key's JSON object (runtime/build/exec_cache.c)
 *        plus, outside the key, "ctxfiles": {context path: "MODE CONTENT"} (MODE the st_mode in
 *        octal, CONTENT a file's digest or a symlink's target) for the context entries a COPY
 *        or a bind mount read, "base" (the stage's FROM digest or parent stage) and "step"
 *        (the instruction's text);
 *   <store>/buildcache/steps/<hex of a step's identity>  the key last used or recorded by that
 *        Dockerfile step (context and Dockerfile name, stage, index), what a miss compares with;
 *   <store>/buildcache/chains/<hex of sha256 of a layer stack's diff_ids>  the key of the step
 *        that made the stack's top layer, for `bale cache why`.
 * All three are written to tmp/ and renamed into place, as entries are; a missing or damaged
 * one only makes an explanation say less.
 */
#ifndef BALE_CACHE_INPUTS_H
#define BALE_CACHE_INPUTS_H

#include <jansson.h>

#include "bale.h"
#include "common/oci/digest.h"

struct store;

enum cache_pointer
{
  CACHE_PTR_STEP,  /* steps/ */
  CACHE_PTR_CHAIN, /* chains/ */
};

int cache_inputs_write (struct store *s, const char *key, json_t *inputs, bale_error_t *err);
/* The inputs recorded with key, or NULL. */
json_t *cache_inputs_read (struct store *s, const char *key);
/* Drop the inputs of key (its entry went). */
void cache_inputs_remove (struct store *s, const char *key);

/* id (a digest) → key. set leaves an equal pointer untouched (a cached rebuild writes nothing);
   get returns 1 with key filled, or 0. */
int cache_pointer_set (struct store *s, enum cache_pointer kind, const char *id, const char *key,
                       bale_error_t *err);
int cache_pointer_get (struct store *s, enum cache_pointer kind, const char *id,
                       char key[DIGEST_STRLEN + 1]);

/* The identity of the layer stack diff_ids[0..n): the sha256 of their canonical JSON array.
   CACHE_PTR_CHAIN pointers are kept by it. */
int cache_chain_id (const char *const *diff_ids, size_t n, char out[DIGEST_STRLEN + 1],
                    bale_error_t *err);

struct cache_keyed;
/*
 * For the fleet cache: the inputs of entries[0..n) (sorted by key) and the step pointers that
 * name one of them, as an uncompressed tar blob of the store (inputs/<hex>, steps/<hex>);
 * digest is left empty when no entry has inputs. unpack takes such a tar (compressed or not,
 * checked against digest and bounded by size) and keeps the files the store lacks.
 */
int cache_inputs_pack (struct store *s, const struct cache_keyed *entries, size_t n,
                       char digest[DIGEST_STRLEN + 1], int64_t *size, bale_error_t *err);
int cache_inputs_unpack (struct store *s, int fd, const char *digest, int64_t size,
                         bale_error_t *err);

/*
 * What differs between the inputs before (an earlier build of the step) and now, as one line:
 * "context file src/main.c changed (content); 2 more files; build arg or ENV VERSION changed".
 * An empty string when no keyed input differs. made (may be NULL) names the step of this build
 * that made a diff_id ("COPY src /src"), for a parent that changed. The caller frees the result.
 */
typedef const char *(*cache_made_fn) (void *ctx, const char *diff_id);
char *cache_inputs_explain (json_t *before, json_t *now, cache_made_fn made, void *made_ctx);

/* How many changed files an explanation names before it only counts them. */
#define CACHE_EXPLAIN_FILES 3

#endif
