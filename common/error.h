/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error values that carry a message and a Dockerfile location up to the CLI (crun's model). */
#ifndef BALE_ERROR_H
#define BALE_ERROR_H

#include <stdarg.h>

#include "bale.h"

/* The constructors of errors (bale_make_error and friends) are public: see include/bale.h. */

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
