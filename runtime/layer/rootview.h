/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A read-only view of a stage's filesystem: its layer snapshots (overlay-format directories,
 * see snapshot_ensure) stacked with overlayfs. Used by the steps that read a filesystem
 * without running anything in it: COPY's destination and --from source, WORKDIR.
 */
#ifndef BALE_ROOTVIEW_H
#define BALE_ROOTVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "bale.h"

/* Enter a private mount namespace: mounts made afterwards vanish with the process. For a
   child process about to mount views; never for bale's main process. */
int rootview_unshare (bale_error_t *err);

/* Mount lowerdirs (top layer first) read-only at mountpoint: nothing for none (the
   mountpoint stays an empty directory), a bind mount for one, overlayfs for more. Where
   overlayfs cannot be mounted (or BALE_FORCE_COPY=1), the layers are merged into the
   mountpoint directory instead (rootview_merge): the caller removes what is below it, and
   nothing may write there, since its files are the snapshots' own (hard links). */
int rootview_mount (const char *const *lowerdirs, size_t n, const char *mountpoint,
                    bale_error_t *err);

/* Mount an overlay of lowerdirs (top first) at mountpoint: read-only, or writable with upper
   and work when upper is not NULL. One "lowerdir+" per layer where the kernel has it (6.8),
   else the option string, which must fit in a page. 0, or -1 with errno (EINVAL when the
   options are too long, or the stack deeper than overlayfs allows). */
int rootview_overlay (const char *const *lowerdirs, size_t n, const char *upper, const char *work,
                      const char *mountpoint);

/* Whether this kernel needs the overlay's options as one string (no "lowerdir+"); also
   BALE_OVERLAY_LEGACY=1. */
bool rootview_overlay_legacy (void);

/* Merge lowerdirs (top layer first; overlay-format snapshot directories) into the empty
   directory dir as overlayfs would show them: whiteouts and opaque directories applied,
   regular files hard-linked from the snapshots when link (copied across filesystems), else
   copied, for a view the caller may write to. */
int rootview_merge (const char *const *lowerdirs, size_t n, const char *dir, bool link,
                    bale_error_t *err);

/* BALE_FORCE_COPY=1: behave as where overlayfs cannot be mounted. */
bool rootview_force_copy (void);

#endif
