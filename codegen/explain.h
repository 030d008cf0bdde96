/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bale explain`: what `docker run IMAGE ARGS` executes, computed from the image config with
 * the Docker daemon's rules (daemon/create.go merge), where each part came from (the build
 * provenance bale keeps, codegen/provenance.h), and the traps a Dockerfile author falls into.
 */
#ifndef BALE_EXPLAIN_H
#define BALE_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct explain_opts
{
  const char *image;      /* the name shown */
  const char *entrypoint; /* --entrypoint, NULL when not given ("" clears it) */
  char *const *args;      /* run arguments */
  size_t n_args;
};

/* The explanation as JSON: { image, entrypoint: {value, origin, form}, cmd: {...}, argv,
   warnings: [..] }. provenance may be NULL (an image bale did not build). */
json_t *explain_image (const json_t *config, const json_t *provenance, const struct explain_opts *o);
/* The same for people. */
char *explain_to_text (const json_t *explanation);

#endif
