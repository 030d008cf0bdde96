/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The build context as BuildKit's RUN --mount=type=bind sees it: without what .dockerignore
   excludes. */
#ifndef BALE_CTXVIEW_H
#define BALE_CTXVIEW_H

#include "common/error.h"
#include "common/ignore.h"

/*
 * Make dest (which must not exist) a copy of the context directory that holds only what the
 * matcher m keeps (context_walk's entries): BuildKit bind-mounts its own transfer of the
 * context, from which .dockerignore removed those entries, so a RUN step never sees an ignored
 * file (a secret listed there, say). Regular files are hard links to the context's where both
 * are on one filesystem (read-only mounts and throwaway overlays never write through them),
 * copies otherwise; directories, symlinks, FIFOs and devices are made again. Owners, modes and
 * times are those of the context. Nothing in the context is followed or changed.
 */
int ctxview_make (const char *context, const struct ignore_matcher *m, const char *dest,
                  bale_error_t *err);

#endif
