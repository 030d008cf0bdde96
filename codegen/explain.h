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
  const char *user;       /* --user, NULL when not given */
  const char *workdir;    /* --workdir, NULL when not given */
  char *const *env;       /* --env "K=V" entries, applied over the image's Env */
  size_t n_env;
};

/* The explanation as JSON: { image, entrypoint: {value, origin, form}, cmd: {...}, argv,
   user, workdir, path (the PATH the command is looked up in, docker's default when the
   environment has none), warnings: [..], advice: [..] }. provenance may be NULL (an image
   bale did not build). See docs/explain.md. */
json_t *explain_image (const json_t *config, const json_t *provenance, const struct explain_opts *o);

/* Add what the start checks found (runtime/sandbox/startcheck.h: checks, outcome, stage, error,
   exit_status, resolved, script) to explanation, and the advice that follows from them.
   cmd_check is the check of the image's own CMD when run arguments replaced it, else NULL.
   Both are borrowed. */
void explain_add_checks (json_t *explanation, const json_t *check, const json_t *cmd_check,
                         const json_t *config, const json_t *provenance);
/* The checks could not be made (why): outcome "unknown". */
void explain_checks_unavailable (json_t *explanation, const char *why);

/* The same for people. */
char *explain_to_text (const json_t *explanation);

#endif
