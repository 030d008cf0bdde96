/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A walking differ, for where overlayfs is unavailable: index a directory tree's metadata,
 * let a step change the tree, then write what changed as a layer (new and changed entries,
 * whiteouts for the removed ones). Content changes are found by metadata alone (size, mtime,
 * ctime, inode): every write or chmod after the index moves ctime.
 */
#ifndef BALE_FSINDEX_H
#define BALE_FSINDEX_H

#include "bale.h"
#include "runtime/layer.h"

struct fsindex;

int fsindex_build (int root_fd, struct fsindex **out, bale_error_t *err);
void fsindex_free (struct fsindex *ix);

/* Write the differences between the index and the tree at root_fd now into w. */
int fsindex_diff (struct fsindex *ix, int root_fd, struct layer_writer *w, bale_error_t *err);

#endif
