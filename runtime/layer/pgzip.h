/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gzip compression on several cores, pigz's way: independent blocks in one gzip member. */
#ifndef BALE_PGZIP_H
#define BALE_PGZIP_H

#include <stddef.h>

#include "bale.h"

/* Receives the compressed bytes in order; <0 (with an error) stops. */
typedef int (*pgzip_write_fn) (void *ctx, const void *buf, size_t len, bale_error_t *err);

/*
 * Compress everything in_fd holds from its offset on into one gzip member (RFC 1952), written
 * through w. The input is cut into fixed blocks, each deflated with the 32 KiB before it as
 * dictionary and ended with a sync flush, on up to threads threads. The output depends on the
 * level only, not on the number of threads, and the header has no time or name in it: the same
 * layer always gives the same digest. name describes in_fd in errors.
 */
int pgzip_compress (int in_fd, const char *name, int level, int threads, pgzip_write_fn w,
                    void *ctx, bale_error_t *err);

#endif
