/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One case of a data-driven .test file (format: tests/data/parse/README.md). */
#ifndef BALE_TESTS_RUN_DATA_H
#define BALE_TESTS_RUN_DATA_H

#include <stdbool.h>

#include "common/strbuf.h"

struct data_image
{
  char *ref;
  struct strbuf config;
};

struct data_case
{
  char *name; /* file:line:name */
  char *mode; /* DUMP, CHECK, FAIL, ..., CONFIG, PLAN, PLANFAIL, PLANWARN */
  struct strbuf input;
  struct strbuf expect;
  char **opts; /* %%OPTS words: --build-arg K=V, --target S, --platform P */
  size_t n_opts;
  struct data_image *images; /* %%IMAGE blocks: base images the resolver knows */
  size_t n_images;
};

/* The plan modes (tests/run_data_plan.c): true when the case is one of them. */
bool data_is_plan_mode (const char *mode);
/* Run a plan-mode case, rendering what it compares into out. False on an unexpected
   success or failure (out says which). */
bool data_run_plan_case (const struct data_case *c, struct strbuf *out);
/* Expected and actual JSON are compared after both are re-rendered the same way, so the
   expected text may be laid out freely but must keep the key order. */
char *data_normalize_json (const char *text);

#endif
