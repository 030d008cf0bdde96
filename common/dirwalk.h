/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A sorted, descriptor-relative directory walk that never re-resolves a path. */
#ifndef BALE_DIRWALK_H
#define BALE_DIRWALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/error.h"

/* One directory entry with its lstat (fstatat with AT_SYMLINK_NOFOLLOW). */
struct dirwalk_ent
{
  char *name;
  struct stat st;
};

/* The entries of one directory, "." and ".." left out. */
struct dirwalk_list
{
  struct dirwalk_ent *v;
  size_t n, alloc;
};

/*
 * Read every entry of the directory open at fd and lstat it relative to fd, then sort the
 * entries by byte-wise name (strcmp, never the locale's collation). Entries that vanish
 * between readdir and fstatat are left out. fd itself is not consumed or moved: the
 * stream reads a duplicate. relpath names the directory in errors ("" for the root).
 */
int dirwalk_list_read (int fd, const char *relpath, struct dirwalk_list *list, bale_error_t *err);
void dirwalk_list_release (struct dirwalk_list *list);

/* What the callback is told about one entry; valid only during the call. */
struct dirwalk_entry
{
  const char *relpath; /* slash-separated, relative to the root: "usr/bin/sh" */
  const char *name;    /* the last component */
  int dirfd;           /* an open descriptor of the directory that holds it */
  const struct stat *st;
  int depth; /* 0 for the root's children */
};

/* What a pre-order callback returns besides a negative error. */
enum dirwalk_action
{
  DIRWALK_CONTINUE = 0,
  DIRWALK_SKIP = 1, /* do not descend into this directory */
};

typedef int (*dirwalk_fn) (void *ctx, const struct dirwalk_entry *e, bale_error_t *err);

/*
 * Walk the tree below the directory open at root_fd, depth first; within a directory the
 * children come in byte-wise name order, so two walks of the same tree report the same
 * sequence whatever order readdir returns. The root itself is not reported.
 *
 * pre is called for every entry, a directory before its contents; it returns
 * DIRWALK_CONTINUE, DIRWALK_SKIP (directories only) or a negative value with an error
 * in *err, which stops the walk and is returned. post, when not NULL, is called for each
 * directory after its contents (with the same entry), e.g. to restore times.
 *
 * Symbolic links are reported, never followed. Each directory is opened relative to its
 * parent's descriptor with O_NOFOLLOW and checked to be the inode that was lstat'ed, so
 * a rename or symlink swapped in during the walk cannot lead it out of the tree: that is
 * an error naming the path. One descriptor is held per level of depth.
 */
int dirwalk (int root_fd, dirwalk_fn pre, dirwalk_fn post, void *ctx, bale_error_t *err);

/* Remove name in the directory dirfd, with everything below it when it is a directory,
   never following a symlink: each directory is opened with O_NOFOLLOW relative to its
   parent's descriptor, so a symlink swapped in makes the removal fail, not escape. A
   missing name is not an error. path names it in errors. */
int dirwalk_remove (int dirfd, const char *name, const char *path, bale_error_t *err);

/* The apparent size of the files below name in dirfd (a hard link counts once per name), for
   reports of space reclaimed: a tree that cannot be walked counts what was seen. */
int64_t dirwalk_size (int dirfd, const char *name);

#endif
