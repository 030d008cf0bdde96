/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One RUN --mount value, typed when the instruction is dispatched (BuildKit's
   instructions.ParseMount): the runtime, the build cache and `bale plan` read these fields and
   never the text again, so a bad option is an error of the plan, at its line. */
#ifndef BALE_MOUNT_H
#define BALE_MOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "bale.h"

enum plan_mount_type
{
  PLAN_MOUNT_BIND, /* the default */
  PLAN_MOUNT_CACHE,
  PLAN_MOUNT_TMPFS,
  PLAN_MOUNT_SECRET,
  PLAN_MOUNT_SSH,
};

enum plan_mount_sharing
{
  PLAN_SHARING_SHARED, /* the default */
  PLAN_SHARING_PRIVATE,
  PLAN_SHARING_LOCKED,
};

struct plan_mount
{
  char *spec; /* the (expanded) value as written, for messages */
  enum plan_mount_type type;
  enum plan_mount_sharing sharing;
  /* NULL when not given; target is never NULL for bind, cache and tmpfs. */
  char *target, *source, *id, *from, *size, *env;
  int mode;         /* 0..07777, or -1 when not given */
  int64_t uid, gid; /* -1 when not given */
  bool rw, required;
};

/* Parse value into *m, which the caller releases (on failure too). Keys are case-insensitive
   as BuildKit's; an unknown key or type, a missing target, a bad sharing mode or a mode, uid
   or gid that is not a number is an error "--mount=VALUE: ..." without a location (the
   dispatch locates it at the instruction). */
int plan_mount_parse (const char *value, struct plan_mount *m, bale_error_t *err);
void plan_mount_release (struct plan_mount *m);
/* "bind", "cache", ... */
const char *plan_mount_type_name (enum plan_mount_type t);
/* The typed fields as a JSON object (the build cache hashes it): equal mounts, however they
   are spelled, give equal objects. */
json_t *plan_mount_json (const struct plan_mount *m);

#endif
