/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error values that carry a message and a Dockerfile location up to the CLI (crun's model). */
#ifndef BALE_ERROR_H
#define BALE_ERROR_H

#include <stdarg.h>

#include "bale.h"

/* The constructors of errors (bale_make_error and friends) are public: see include/bale.h. */

/*
 * Every function that can fail takes `bale_error_t *err` last and returns a negative int (or
 * NULL). It reports the failure once, where it is detected, with bale_make_error*. On success
 * *err is left untouched.
 *
 * When *err already holds an error, a new one is appended to its chain: that is how the parser
 * reports several errors from one file. All of them return -status - 1, always negative.
 *
 * A look-up, whose miss is no failure (store_ref_lookup, cache_lookup, the plan's
 * plan_resolve_fn, snapshot_adopt_unsynced), returns 1 when it found what it looked for, 0
 * when not (with *err untouched) and -1 with *err set on a failure.
 */

/* An errno as Go's syscall.Errno prints it (glibc's text, lower-cased: "no such file or
   directory"), for messages that must read as runc's and docker's do. Newly allocated. */
char *error_go_text (int errnum);

static inline void
cleanup_error_fn (bale_error_t *err)
{
  bale_error_release (err);
}
#define cleanup_error __attribute__ ((cleanup (cleanup_error_fn)))

#endif
