/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Build contexts from stdin, git and http(s), made into a scratch directory (runtime/build/ctxsource.c). */
#ifndef BALE_RT_CTXSOURCE_H
#define BALE_RT_CTXSOURCE_H

#include <stdbool.h>

#include "bale.h"

struct ctxsource
{
  char *dir;        /* the scratch directory, removed by ctxsource_release; NULL: local */
  char *context;    /* the context directory to build, when dir is set */
  char *dockerfile; /* the Dockerfile when the source was one (stdin, a URL), else NULL */
  char *file;       /* the downloaded or piped bytes */
};

/* Whether s is a git URL as BuildKit tells them (http(s) ending in .git, git://, ssh://,
   user@host:path). */
bool ctxsource_is_git (const char *s);
/* Make the context spec ready: nothing for a local directory (cs->dir stays NULL); "-",
   git URLs (#ref:subdir, through the git program) and http(s) URLs are fetched into a
   scratch directory. keep_git_dir keeps .git (BUILDKIT_CONTEXT_KEEP_GIT_DIR). m (a meter
   named by the caller, or NULL) counts the bytes of an http(s) download: begun with its
   Content-Length, ended with its size. */
struct meter;
int ctxsource_prepare (const char *spec, bool keep_git_dir, struct meter *m, struct ctxsource *cs,
                       bale_error_t *err);
void ctxsource_release (struct ctxsource *cs);

#endif
