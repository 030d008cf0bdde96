/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A walking differ, for where overlayfs is unavailable: index a directory tree's metadata,
 * let a step change the tree, then write what changed as a layer (new and changed entries,
 * whiteouts for the removed ones). Content changes are found by metadata alone (size, mtime,
 * ctime, inode): every write or chmod after the index moves ctime.
 */
#ifndef BALE_FSINDEX_H
#define BALE_FSINDEX_H

#include <stdbool.h>

#include "bale.h"
#include "runtime/layer/layer.h"

struct fsindex;

int fsindex_build (int root_fd, struct fsindex **out, bale_error_t *err);

/* Give each name of every hard-linked regular file under root_fd its own copy (data, owner,
   mode, xattrs, times), before the index is built. A step on overlayfs that changes one name
   of a file linked in a lower layer copies up that name alone, and its layer holds that name
   alone; on a copied root the shared inode would change every name and the layer hold them
   all. Links the step itself makes are kept (they are in its layer on overlayfs too). */
int fsindex_break_hardlinks (int root_fd, bale_error_t *err);
void fsindex_free (struct fsindex *ix);

/* Every xattr of in, set on out (user.*, trusted.*, security.*: the layer keeps them all);
   with skip_overlay, not overlayfs's own (trusted.overlay.*, user.overlay.*). */
int fsindex_copy_xattrs (int in, int out, bool skip_overlay);

/* Watch the directories of the index at root (its path) with inotify while a step runs:
   overlayfs copies up a file opened for writing even when nothing is written (apt's and
   dpkg's lock files, debconf's databases), and the layer then holds it; its metadata alone
   does not show it. Drain the events with fsindex_watch_read (ix) whenever fsindex_watch_fd
   is readable (the queue holds fs.inotify.max_queued_events); fsindex_diff reads the rest. */
int fsindex_watch (struct fsindex *ix, const char *root, bale_error_t *err);
int fsindex_watch_fd (const struct fsindex *ix);
void fsindex_watch_read (void *ix);
/* The entry path of the index (st: its stat now) was set aside while the step ran and is back
   unchanged but for its ctime (chroot isolation's emulated mounts, sandbox.h on_unmounted):
   neither that nor what the step wrote to the copy over it is a change. */
void fsindex_unmounted (void *ix, const char *path, const struct stat *st);

/* Write the differences between the index and the tree at root_fd now into w. */
int fsindex_diff (struct fsindex *ix, int root_fd, struct layer_writer *w, bale_error_t *err);

#endif
