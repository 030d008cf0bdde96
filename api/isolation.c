/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bale_isolation_enter (include/bale.h): what a program does before it opens a store, as the
   bale command does at its start. */
#include <config.h>

#include "api/api.h"
#include "runtime/fs/isolation.h"
#include "common/banned.h"

int
bale_isolation_enter (const char *isolation, bale_error_t *err)
{
  enum isolation want = ISOLATION_AUTO;

  if (isolation && *isolation && isolation_parse (isolation, &want, err) < 0)
    return -1;
  return isolation_enter (want, err);
}
