/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An image's flattened filesystem as a root directory descriptor, for code that reads it
 * without running anything: the layer snapshots stacked read-only (rootview_mount) in a child
 * process with a private mount namespace, so nothing stays mounted and the host never sees
 * the view. Paths under the descriptor must be resolved inside it (runtime/fs/inroot.h).
 */
#ifndef BALE_IMGROOT_H
#define BALE_IMGROOT_H

#include <stddef.h>

#include <jansson.h>

#include "bale.h"

/* Called in the child with the view's root (O_PATH); *out is its result. */
typedef int (*imgroot_fn) (int rootfd, void *arg, json_t **out, bale_error_t *err);

/*
 * Mount lowerdirs (top layer first; none for an empty image) at dir/root, an empty directory
 * created here (dir must exist; the caller removes dir and what is below it afterwards: without
 * overlayfs the view is a merged copy), call fn in the child and hand its JSON result back in
 * *out. Needs CAP_SYS_ADMIN for the mount namespace. fn's error comes back as the error.
 */
int imgroot_with (const char *const *lowerdirs, size_t n, const char *dir, imgroot_fn fn, void *arg,
                  json_t **out, bale_error_t *err);

#endif
