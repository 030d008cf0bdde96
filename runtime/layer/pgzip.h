/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gzip compression on several cores: one gzip member per block, or pigz's single member. */
#ifndef BALE_PGZIP_H
#define BALE_PGZIP_H

#include <stddef.h>

#include "bale.h"

/* Receives the compressed bytes in order; <0 (with an error) stops. */
typedef int (*pgzip_write_fn) (void *ctx, const void *buf, size_t len, bale_error_t *err);

enum pgzip_format
{
  /* The default: libdeflate level 2, one gzip member per 1 MiB of input (RFC 1952 allows
     members one after another; a few readers stop after the first: see the README). */
  PGZIP_MEMBERS = 0,
  /* One member: zlib level 6, 128 KiB blocks each deflated with the 32 KiB before it as
     dictionary and ended with a sync flush (pigz's method); about 3x slower. */
  PGZIP_SINGLE,
};

struct pgzip_opts
{
  enum pgzip_format format;
  int threads; /* compressing threads; clamped to 1..8 */
  /* When set, sees every input byte, in order (e.g. to hash the tar), from the calling thread. */
  pgzip_write_fn input;
  void *input_ctx;
};

/*
 * Compress everything in_fd holds from its offset on as gzip, written through w in order
 * from the calling thread. The input is cut into fixed blocks compressed on up to
 * o->threads threads. The output depends on the format only, never on the number of
 * threads, and headers have no time or name in them: the same layer always gives the same
 * digest (for a given libdeflate or zlib). name describes in_fd in errors.
 */
/* The threads to use: $BALE_COMPRESS_THREADS when set (a share of a busy machine; tests
   compare counts), else the online CPUs; 1 to 8. */
int pgzip_default_threads (void);

int pgzip_compress (int in_fd, const char *name, const struct pgzip_opts *o, pgzip_write_fn w,
                    void *ctx, bale_error_t *err);

#endif
