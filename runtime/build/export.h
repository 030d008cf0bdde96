/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Images leaving the store: bale keeps layers uncompressed while it builds (as Docker's
 * image store does) and compresses them on export, on every core, caching each compressed
 * blob so a second export of the same layer costs nothing.
 */
#ifndef BALE_EXPORT_H
#define BALE_EXPORT_H

#include "runtime/build/executor.h"
#include "runtime/layer/layer.h"

struct store;

/* Replace the uncompressed layers of img by blobs compressed with c (stored in s), and
   rebuild its manifest. Layers already compressed, and c == NONE, are left as they are. */
int export_compress (struct store *s, struct exec_image *img, enum layer_compression c,
                     bale_error_t *err);

/* "gzip", "zstd" or "none". */
int export_parse_compression (const char *name, enum layer_compression *c, bale_error_t *err);

#endif
