/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Owners, modes and device numbers a rootless build could not give a file, kept on the file. */
#ifndef BALE_OWNERS_H
#define BALE_OWNERS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "bale.h"

/*
 * In a user namespace some metadata cannot be real: a device node cannot be created, and an
 * owner outside the mapping cannot be given. bale then keeps the wanted metadata in the
 * xattr containers/storage and fuse-overlayfs use, in their format,
 * "UID:GID:MODE:TYPE" (MODE four octal digits; TYPE file, dir, char-MAJ-MIN, block-MAJ-MIN),
 * on a regular file or directory standing in for the entry, and the layer writer emits the
 * wanted entry. Only a rootless build reads it (owners_active ()), and it
 * strips the xattr from every base layer it unpacks, so an image cannot forge it: a root
 * build keeps the xattr as BuildKit does, as an ordinary user.* attribute.
 */
#define OWNERS_XATTR "user.containers.override_stat"

/* Whether this process records and honours overrides: a rootless build, or one in a user
   namespace that is not the initial one (bale started as root of a rootless container). */
bool owners_active (void);

/* Record on fd (a regular file or directory opened for reading) that it stands for an entry
   with st's owner, permission bits and, for devices, type and st_rdev. 0 or -1 with errno. */
int owners_record (int fd, const struct stat *st);

/* When fd carries an override (and owners_active ()), apply it to *st (owner, type, rdev;
   the permission bits stay the inode's, which chmod keeps current) and return true. */
bool owners_apply (int fd, struct stat *st);

/*
 * Symbolic links and FIFOs cannot hold a user.* xattr (xattr(7)), so their wanted owners are
 * kept in a table of this process instead, keyed by the inode that holds the entry (the
 * upper directory's, where the layer writer will read it), identified by its file handle
 * (inode number and generation: a removed inode's number handed to a new entry does not
 * match) or, on a filesystem without handles, by a descriptor kept open on it (an inode in
 * use keeps its number). The RUN step's layer is written by the same process, so the table
 * lives as long as the records are needed.
 */
/* Record that the symlink or FIFO fd (O_PATH, not followed) stands for owner uid:gid.
   0 or -1 with errno. */
int owners_record_special (int fd, uid_t uid, gid_t gid);
/* When the entry name in dirfd (not followed; name "" with dirfd itself) has a recorded
   owner, set st's owner to it and return true. */
bool owners_apply_special (int dirfd, const char *name, struct stat *st);

/* Parse an override value; false when it is not one. Exposed for the unit test. */
bool owners_parse (const char *value, size_t len, struct stat *st);

#endif
