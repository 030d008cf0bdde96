/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which files a COPY or ADD source names: the path rules of BuildKit's copy (docs/semantics.md
 * D1, D2) over a root directory, be it the build context or a stage's filesystem.
 */
#ifndef BALE_COPY_RESOLVE_H
#define BALE_COPY_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "bale.h"
#include "common/ignore.h"

enum copy_root_kind
{
  /* The build context: .dockerignore applies, and a path that leads outside it, through
     ".." or a symlink, is an error. */
  COPY_ROOT_CONTEXT,
  /* A stage or image filesystem: absolute symlinks resolve inside it, ".." stops at its
     root, as in a chroot. */
  COPY_ROOT_IMAGE,
};

struct copy_source
{
  char *rel;     /* relative to the root, clean, "" for the root itself */
  char *base;    /* the name a file source gets in a directory destination */
  struct stat st; /* of what rel leads to, symlinks followed */
};

struct copy_sources
{
  struct copy_source *v;
  size_t n, alloc;
};

/*
 * Append the sources that src names under root_fd. A literal path must exist (and, in the
 * context, not be excluded); a wildcard (Go filepath.Match per path component) may match
 * nothing. Matches come in the order BuildKit copies them: sorted per directory. ignore may
 * be NULL. Errors name src.
 */
int copy_resolve (int root_fd, enum copy_root_kind kind, const char *src,
                  const struct ignore_matcher *ignore, struct copy_sources *out, bale_error_t *err);
void copy_sources_release (struct copy_sources *s);

/* What a copy of a context directory does with an entry its walk meets, by .dockerignore. */
enum copy_walk_action
{
  COPY_WALK_KEEP,  /* copied */
  COPY_WALK_OMIT,  /* not copied; a directory is still walked for what exceptions keep */
  COPY_WALK_PRUNE, /* a directory nothing below which can be kept: not even opened */
};

/* The action for the entry at ctx_rel (relative to the context root) of type mode. COPY and
   the build cache's context hashing both ask here, so a key covers exactly what is copied. */
enum copy_walk_action copy_walk_check (const struct ignore_matcher *ignore, const char *ctx_rel,
                                       mode_t mode);

/* The same for COPY --exclude: ex_rel is the entry's path below the source being copied (below
   the copy's root with --parents), where fsutil's copier matches the patterns. exclude may be
   NULL. */
enum copy_walk_action copy_exclude_check (const struct ignore_matcher *exclude, const char *ex_rel,
                                          mode_t mode);

/* COPY --parents: the part of a match's rel below the copy's root, which is the context's root
   or the part of the source word before a "/./" (dockerfile2llb's pivot). Points into rel. */
const char *copy_parents_below (const char *word, const char *rel);

/* Open rel (as returned above) under root_fd with the same rules: symlinks followed inside
   the root only. flags are open(2) flags. err may be NULL: -1 with errno then. */
int copy_open (int root_fd, enum copy_root_kind kind, const char *rel, int flags, bale_error_t *err);

/* Whether st was written at or after since (a CLOCK_REALTIME_COARSE time; 0 seconds: never):
   its mtime and its ctime both then or later, a time in whole seconds (a file system without
   finer times) compared by its second. The ctime alone would also tell a new link (a RUN bind
   mount's view links the context's files), the mtime alone a file dated ahead. The kernel
   stamps inodes with its last tick's time, the coarse clock's: a write after since carries a
   stamp at or after it (with a CLOCK_REALTIME since, one in the same tick carried a stamp
   before it and was not seen), and one in the tick of since but before it is taken for a
   later one (the step is not cached: the safe side). The build cache asks it of the context
   files the key and the layer read. */
bool copy_written_since (const struct stat *st, const struct timespec *since);

/* Where fd (opened beneath the context's root_fd, symlinks followed) is in the context,
   relative to it ("" for the root), from the kernel's names of both; NULL if it is not
   beneath. .dockerignore is matched there too: BuildKit's context holds no ignored entry,
   whatever link leads to it (F35), so a link must not be a way around it. */
char *copy_context_rel (int root_fd, int fd);

/*
 * Where a source lands (D2): dest is absolute and keeps its trailing slash. A directory
 * source's contents go into dest; a file goes to dest/base when dest ends in '/' or is an
 * existing directory, else to dest itself. Returns a new clean absolute path.
 */
char *copy_target (const char *dest, bool dest_is_dir, const struct copy_source *src);

#endif
