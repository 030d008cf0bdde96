/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every difference between two images: config fields, history and flattened files. */
#ifndef BALE_IMGDIFF_H
#define BALE_IMGDIFF_H

#include <stddef.h>

#include <jansson.h>

#include "runtime/layer/fsmeta.h"

enum imgdiff_flags
{
  /* Leave out config and history `created` and file mtimes: two builds at different times
     then compare equal when nothing else differs. */
  IMGDIFF_IGNORE_TIMESTAMPS = 1 << 0,
};

enum imgdiff_kind
{
  IMGDIFF_CONFIG,  /* field: "os", "Env PATH", "Labels a.b" */
  IMGDIFF_ROOTFS,  /* field: "diff_ids" (their count) */
  IMGDIFF_HISTORY, /* index and field: "created_by" */
  IMGDIFF_FILE,    /* path and field: "added", "removed", "type", "content", "mode", ... */
};

/* One difference: a and b are the two sides as JSON values, NULL where a side has none. */
struct imgdiff_item
{
  enum imgdiff_kind kind;
  char *field;
  char *path; /* IMGDIFF_FILE only */
  long index; /* IMGDIFF_HISTORY only */
  json_t *a, *b;
};

struct imgdiff
{
  struct imgdiff_item *items;
  size_t n, alloc;
  unsigned flags; /* enum imgdiff_flags */
};

/* Append the differences of two image configs (the whole config JSON documents): platform,
   created, author, every config.* field (Env, Labels, ExposedPorts, Volumes by key), any
   other top-level field, the number of rootfs.diff_ids and each history entry. */
void imgdiff_configs (struct imgdiff *d, const json_t *a, const json_t *b);

/* Append the differences of two flattened file systems, in path order. */
void imgdiff_files (struct imgdiff *d, const struct fsmeta *a, const struct fsmeta *b);

/* Append one difference; a and b are taken (either may be NULL). */
void imgdiff_add_take (struct imgdiff *d, enum imgdiff_kind kind, const char *field,
                       const char *path, long index, json_t *a, json_t *b);

/* One line per difference:
     config Env PATH: /a -> /b
     history[3] created_by: "RUN a" -> "RUN b"
     file /etc/passwd: content sha256:… -> sha256:…
   Simple strings are printed bare, anything else as JSON; a missing side as (none). The
   caller frees the text. */
char *imgdiff_to_text (const struct imgdiff *d);

/* [{"kind": "file", "path": "/etc/passwd", "field": "content", "a": …, "b": …}, …]; history
   items have "index", missing sides are null. */
json_t *imgdiff_to_json (const struct imgdiff *d);

void imgdiff_release (struct imgdiff *d);

#endif
