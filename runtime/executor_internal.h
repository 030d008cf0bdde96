/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The executor's state, shared by the files that run the different kinds of steps. */
#ifndef BALE_EXECUTOR_INTERNAL_H
#define BALE_EXECUTOR_INTERNAL_H

#include "runtime/executor.h"

/* What a stage has built so far: every layer of its image (base first), and the diff_ids
   of those above the root base image. */
struct stage_state
{
  struct exec_layer *layers;
  size_t n_layers, alloc_layers;
  char **new_diff_ids;
  size_t n_new, alloc_new;
};

struct executor
{
  struct plan *p;
  const struct exec_opts *o;
  struct stage_state *states; /* one per plan stage */
};

void exec_state_add_layer (struct stage_state *s, const struct exec_layer *l, bool is_new);

/* COPY, ADD and WORKDIR (runtime/exec_copy.c). */
int exec_fs_step (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                  bale_error_t *err);
/* The snapshot directories of a stage's layers, top layer first, unpacked on first use. The
   array is the caller's; the strings belong to the state. */
int exec_state_snapshots (struct executor *x, struct stage_state *s, const char ***out, size_t *n,
                          bale_error_t *err);

#endif
