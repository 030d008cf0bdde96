/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options `bale build` and `bale plan` share, parsed one way for both. */
#ifndef BALE_CLI_BUILDOPTS_H
#define BALE_CLI_BUILDOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "bale.h"
#include "cli/apicmd.h"
#include "codegen/plan.h"
#include "runtime/sandbox/sandbox.h"

struct buildopts
{
  const char *file;    /* -f; NULL: CONTEXT/Dockerfile */
  const char *context; /* the positional argument, "." by default */
  const char *target;
  const char *platform;  /* the platform being planned: platforms[0] until the caller moves on */
  char **platforms;      /* --platform P1,P2 and repeated --platform, in order, without repeats */
  size_t n_platforms, alloc_platforms;
  char **build_args; /* "K=V", bare K resolved from the environment or dropped */
  size_t n_build_args, alloc_build_args;
  char *dockerfile; /* the path actually read */
  bool check;       /* --check: run the build checks of every stage, build nothing */
  /* The RUN sandbox: --allow, --network, --add-host, --ulimit, --shm-size. */
  bool allow_insecure;   /* --allow security.insecure */
  const char *network;   /* default, none or host; NULL: not given */
  struct sandbox_host *hosts; /* names and addresses owned */
  size_t n_hosts, alloc_hosts;
  struct sandbox_rlimit *rlimits;
  size_t n_rlimits, alloc_rlimits;
  uint64_t shm_size;     /* 0: Docker's 64 MiB */
};

/* Handle option c if it is a shared one: 1 when handled, 0 when not, -1 on a bad value. */
int buildopts_option (struct buildopts *o, int c, const char *arg, bale_error_t *err);
/* After getopt: take the context from the remaining arguments and settle the Dockerfile path. */
int buildopts_finish (struct buildopts *o, const char *cmd, int argc, char **argv, bale_error_t *err);
/* Parse the Dockerfile and compile it; warnings of both are printed to stderr. */
int buildopts_plan (struct buildopts *o, plan_resolve_fn resolve, void *ctx, bool lenient,
                    struct bale_dockerfile **df, struct plan **plan, bale_error_t *err);
/* After buildopts_plan with --check: say how many check warnings were printed. */
int buildopts_check_report (const struct plan *plan);
void buildopts_release (struct buildopts *o);

#endif
