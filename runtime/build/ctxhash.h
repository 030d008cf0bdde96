/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Content digests of build-context files for the build cache, with a stat index so that a
 * rebuild reads only the files that changed.
 */
#ifndef BALE_CTXHASH_H
#define BALE_CTXHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bale.h"
#include "common/oci/digest.h"
#include "common/ignore.h"

/*
 * The index lives in <store>/buildcache/context-index/<hex of sha256(realpath(context))>, a
 * binary file (format in ctxhash.c) mapping a context-relative path to (size, mtime ns,
 * ctime ns, inode, mode) and the sha256 of the file's bytes. A file whose stat matches its
 * record is not read again. The file is replaced by rename(2), so readers never see half of
 * one; concurrent builds of one context may lose each other's updates, which only costs a
 * re-read next time.
 */
struct ctxhash;

/* Open the context directory and load its index (a missing or unreadable index is empty). */
struct ctxhash *ctxhash_open (const char *store_dir, const char *context, bale_error_t *err);

/*
 * Feed d a description of what COPY/ADD sources[0..n) select in the context, with exactly
 * the rules the copy uses (copy_resolve, then copy_walk_check below directories): for each
 * entry its path, type and mode, and a file's content digest, a symlink's target or a
 * device's numbers. Owners are left out: a context file is copied as 0:0 or --chown. Words
 * starting with "<<" (heredocs) are skipped. What COPY --exclude patterns (exclude, may be
 * NULL) leave out is not described, so it cannot change the key; parents: COPY --parents,
 * whose patterns see paths from the copy's root. Fails as copy_resolve does.
 */
int ctxhash_sources (struct ctxhash *h, const struct ignore_matcher *ignore,
                     const struct ignore_matcher *exclude, bool parents, char *const *sources,
                     size_t n, struct digester *d, bale_error_t *err);

/* The same for everything below rel ("" for the root; a file is itself), nothing ignored:
   what a RUN --mount=type=bind of the context shows. */
int ctxhash_tree (struct ctxhash *h, const char *rel, struct digester *d, bale_error_t *err);

/*
 * While set (fn NULL unsets), fn is also told every entry the descriptions above feed to their
 * digester: its context path, st_mode and content (a file's digest, with " = PATH" when it is
 * a hard link of an earlier one; a symlink's target). The cache records them so that a miss
 * can name the files that changed (runtime/build/cache_inputs.c). An entry may be told twice.
 */
typedef void (*ctxhash_list_fn) (void *ctx, const char *path, uint32_t mode, const char *content);
void ctxhash_set_list (struct ctxhash *h, ctxhash_list_fn fn, void *ctx);

/* cold: the files are likely not in the page cache (a first build), so ctxhash_sources also
   reads the source trees' directories ahead of its walk, on threads. */
void ctxhash_set_cold (struct ctxhash *h, bool cold);

/* While since is set (NULL unsets; the time is the caller's and may move on, a
   CLOCK_REALTIME_COARSE time), every file read is checked once read: the first one written at
   or after that time (copy_written_since) is kept, for ctxhash_take_changed (the caller frees;
   NULL when none). */
void ctxhash_set_since (struct ctxhash *h, const struct timespec *since);
char *ctxhash_take_changed (struct ctxhash *h);

/* Whether the context entry rel ("" for the root) is gone or was written at or after since
   (copy_written_since): a directory's entries added or removed. */
bool ctxhash_changed_since (struct ctxhash *h, const char *rel, const struct timespec *since);

/* How many files were read (not found unchanged in the index) so far, for tests. */
size_t ctxhash_files_read (const struct ctxhash *h);

/* Write the index back if it changed. */
int ctxhash_save (struct ctxhash *h, bale_error_t *err);
/* Accepts NULL. */
void ctxhash_free (struct ctxhash *h);

#endif
