/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for the layer tests: scratch trees, hand-made tar streams, listings. */
#ifndef BALE_LAYERUTIL_H
#define BALE_LAYERUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/strbuf.h"

/* A fresh directory under $TMPDIR (or /tmp). Caller frees and removes it. */
char *lt_mkdtemp (void);
/* rm -rf without following symlinks. */
void lt_rmtree (const char *path);
/* Create root/rel with content and mode (parents 0755 as needed). */
void lt_write (const char *root, const char *rel, const char *content, mode_t mode);
void lt_mkdir (const char *root, const char *rel, mode_t mode);
void lt_symlink (const char *root, const char *rel, const char *target);
/* Set mtime (and atime) of root/rel, without following a symlink. */
void lt_mtime (const char *root, const char *rel, int64_t mtime, int64_t atime);
/* An anonymous file (memfd). */
int lt_memfd (void);
/* The content of root/rel, NUL-terminated; NULL if it cannot be read. Caller frees. */
char *lt_read (const char *root, const char *rel);
bool lt_exists (const char *root, const char *rel);

/* Hand-written tar streams, for inputs bale's writer would never produce. */
struct lt_tar;
struct lt_tar *lt_tar_new (const char *filter); /* "none", "gzip", "zstd" */
void lt_tar_file (struct lt_tar *t, const char *name, const char *data, int mode);
void lt_tar_dir (struct lt_tar *t, const char *name, int mode);
void lt_tar_symlink (struct lt_tar *t, const char *name, const char *target);
/* A hard link entry, with data (under 512 bytes) when data is not NULL (CVE-2016-5418). */
void lt_tar_hardlink (struct lt_tar *t, const char *name, const char *target, const char *data);
void lt_tar_char (struct lt_tar *t, const char *name, int major, int minor);
/* Finish and return an fd positioned at 0 holding the stream; *diff_id (if not NULL) gets
   the digest of the uncompressed tar. */
int lt_tar_finish (struct lt_tar *t, char *diff_id);

#endif
