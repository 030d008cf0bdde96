/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COPY/ADD --chmod in chmod(1)'s symbolic form ("u+x,go-w", "a=rX", "go=u-w"), as today's
 * Dockerfile frontend takes it: BSD setmode(3) semantics (BuildKit passes the string to fsutil,
 * which applies tonistiigi/dchapes-mode's port of it to each copied entry's own mode), with
 * the daemon's umask 022 for the clauses that name nobody ("+w" is "u+w").
 */
#ifndef BALE_COPY_MODE_H
#define BALE_COPY_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "common/error.h"

struct copy_mode_cmd
{
  char cmd;      /* '+', '-', 'X', or 'u' 'g' 'o' (copy that class's bits) */
  unsigned char flags; /* for u/g/o: CM_CLEAR, CM_SET, CM_UBITS, CM_GBITS, CM_OBITS */
  mode_t bits;
};

struct copy_mode
{
  struct copy_mode_cmd *cmds;
  size_t n;
};

/* Parse a symbolic mode (an octal one is for copy_parse_chmod); errors name spec. */
int copy_mode_parse (const char *spec, struct copy_mode *out, bale_error_t *err);

/* The permission bits (07777) the mode gives an entry whose own are perm. */
mode_t copy_mode_apply (const struct copy_mode *m, mode_t perm, bool is_dir);

void copy_mode_release (struct copy_mode *m);

#endif
