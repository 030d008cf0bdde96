/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The build-context walk: every entry the ignore file keeps, in a fixed order. */
#ifndef BALE_CONTEXT_H
#define BALE_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/ignore.h"

/*
 * Called once for each entry the walk keeps. relpath is relative to the root and
 * slash-separated ("src/main.c"); st is its lstat; dirfd is an open descriptor of the
 * directory that holds it and name its name there, so the callback can openat (dirfd,
 * name, O_NOFOLLOW) without resolving the path again. All four are valid only during the
 * call. A directory is reported before anything below it. Return a negative value, with
 * an error in *err, to stop the walk: context_walk then returns that value.
 */
typedef int (*context_walk_fn) (void *ctx, const char *relpath, const struct stat *st, int dirfd,
                                const char *name, bale_error_t *err);

/* What a walk did, for tests and progress messages. */
struct context_walk_stats
{
  size_t dirs_opened;  /* directories read, the root included */
  size_t entries_seen; /* entries looked at (lstat'ed) */
  size_t reported;     /* entries passed to the callback */
};

/*
 * Walk the build context under root and report what the matcher m keeps (NULL keeps
 * everything). The root itself is not reported.
 *
 *  - Order: depth first, and within a directory by byte-wise name (strcmp), so two walks
 *    of the same tree report the same sequence.
 *  - Symbolic links are reported as links and never followed. Every directory is opened
 *    with openat relative to its parent's descriptor and O_NOFOLLOW, and checked to be the
 *    entry that was lstat'ed, so a path swapped during the walk cannot lead outside root.
 *  - An excluded directory is not even opened when no exception could re-include anything
 *    below it, which keeps an ignored node_modules cheap. Otherwise it is entered and
 *    reported as fsutil does (see ignore_check_dir): at once when an exception names a path
 *    below it, or else just before the first entry kept inside it, so every kept entry has
 *    its parent directories reported before it.
 *  - Entries that vanish during the walk are skipped.
 *
 * The Dockerfile and the ignore file are reported only if the patterns keep them; the
 * build reads them directly. stats, when not NULL, is filled in, on failure too.
 */
int context_walk (const char *root, const struct ignore_matcher *m, context_walk_fn fn, void *ctx,
                  struct context_walk_stats *stats, bale_error_t *err);

/*
 * The files the build reads by name from the context before anything else: its .dockerignore
 * and, when it lies in the context, the Dockerfile with its own DOCKERFILE.dockerignore. Each
 * that exists must be a regular file reached without leaving the context: a Dockerfile that
 * is a symlink to /etc/shadow would otherwise show the host's file in a parse error. A
 * Dockerfile named outside the context (-f /elsewhere) is the caller's own choice.
 */
int context_check_files (const char *context, const char *dockerfile, bale_error_t *err);

#endif
