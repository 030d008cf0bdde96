/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An image's layers as snapshot directories, and the start checks run on its filesystem. */
#ifndef BALE_API_IMGFS_H
#define BALE_API_IMGFS_H

#include <stddef.h>

#include <jansson.h>

#include "bale.h"
#include "runtime/sandbox/startcheck.h"

struct store;

/* The layers of an image: blob paths and their diff_ids, bottom layer first. */
struct imgfs_layers
{
  char **blobs;
  char **diff_ids;
  size_t n;
};

/* The snapshot directory of every layer, unpacked into the store's snapshot cache when
   missing, top layer first (as rootview_mount and the sandbox take them); *lowers holds
   layers->n strings, each to free, the first *n_unique of them each layer once at its topmost
   place (snapshot_stack_unique: overlayfs refuses a lower directory twice). The caller holds
   a store transaction. */
int imgfs_lowers (struct store *s, const struct imgfs_layers *layers, char ***lowers, size_t *n_unique,
                  bale_error_t *err);
void imgfs_lowers_free (char **lowers, size_t n);

/* startcheck_run of in on the image's flattened filesystem, mounted read-only in a child
   process (runtime/sandbox/imgroot.h) below the store's tmp directory. Needs root. The caller holds a
   store transaction. */
int imgfs_startcheck (struct store *s, const struct imgfs_layers *layers, const struct startcheck_in *in,
                      json_t **out, bale_error_t *err);

#endif
