/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale build --build-context NAME=DIR|docker-image://REF|oci-layout://DIR[:TAG]` (runtime/build/namedctx.c). */
#ifndef BALE_RT_NAMEDCTX_H
#define BALE_RT_NAMEDCTX_H

#include <stdbool.h>
#include <stddef.h>

#include "bale.h"
#include "codegen/plan.h"

struct namedctx_entry
{
  char *name;  /* the NAME as a full reference (docker.io/library/name:latest) */
  char *value;
  char *ref;   /* what FROM/COPY --from read instead, once prepared */
  bool private_ref; /* ref is a store name of ours, removed at the end */
};

struct namedctx
{
  struct namedctx_entry *v;
  size_t n, alloc;
};

struct store;
int namedctx_add (struct namedctx *n, const char *arg, bale_error_t *err);
/* Turn every value into an image reference the store or a registry resolves (pl: the
   platform a directory's image is for). */
int namedctx_prepare (struct namedctx *n, struct store *s, const struct bale_platform *pl,
                      bale_error_t *err);
/* The reference that replaces image, or NULL. */
const char *namedctx_lookup (const struct namedctx *n, const char *image);
/* COPY --from and RUN --mount from= images of the plan that a named context replaces. */
void namedctx_rewrite_plan (const struct namedctx *n, struct plan *p);
/* Remove the private store names (s may be NULL) and free. */
void namedctx_release (struct namedctx *n, struct store *s);

#endif
