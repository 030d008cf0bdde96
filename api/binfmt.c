/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Foreign platforms (include/bale/image.h): how this machine runs a platform's RUN steps, and
   registering Debian's qemu-user-static handlers (`bale binfmt`). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/oci/platform.h"
#include "common/xalloc.h"
#include "runtime/sandbox/binfmt.h"
#include "common/banned.h"

/* binfmt_lookup of spec on this machine; *pl receives the parsed platform. */
static int
lookup (const char *spec, struct bale_platform *pl, struct binfmt_handler *h, bale_error_t *why,
        bale_error_t *err)
{
  struct bale_platform host = { 0 };
  int how;

  memset (h, 0, sizeof *h);
  if (platform_parse (spec, pl, err) < 0)
    return -1;
  if (platform_host (&host, err) < 0)
    return -1;
  how = binfmt_lookup (BINFMT_MISC_DIR, &host, pl, h, why);
  platform_release (&host);
  if (how < 0)
    bale_error_join (err, why);
  return how;
}

int
bale_binfmt_status (const char *platform, struct bale_binfmt_status *out, bale_error_t *err)
{
  struct bale_platform pl = { 0 };
  struct binfmt_handler h;
  bale_error_t why = NULL;
  int how = lookup (platform, &pl, &h, &why, err);

  memset (out, 0, sizeof *out);
  if (how >= 0)
    {
      out->platform = platform_format (&pl);
      out->how = how == BINFMT_NATIVE ? BALE_BINFMT_NATIVE
                 : how == BINFMT_EMULATED ? BALE_BINFMT_EMULATED
                                          : BALE_BINFMT_NONE;
      if (how == BINFMT_EMULATED)
        {
          out->handler = xstrdup (h.name);
          out->interpreter = xstrdup (h.interpreter);
          out->flags = xstrdup (h.flags);
        }
      else if (how == BINFMT_NONE)
        out->reason = xstrdup (why ? why->msg : "cannot run");
    }
  binfmt_handler_release (&h);
  bale_error_release (&why);
  platform_release (&pl);
  return how < 0 ? -1 : 0;
}

void
bale_binfmt_status_release (struct bale_binfmt_status *st)
{
  free (st->platform);
  free (st->handler);
  free (st->interpreter);
  free (st->flags);
  free (st->reason);
  memset (st, 0, sizeof *st);
}

int
bale_binfmt_install (const char *platform, bale_error_t *err)
{
  struct bale_platform pl = { 0 };
  struct binfmt_handler h;
  bale_error_t why = NULL;
  int how = lookup (platform, &pl, &h, &why, err), ret = how < 0 ? -1 : 0;

  binfmt_handler_release (&h);
  bale_error_release (&why);
  if (how == BINFMT_NONE)
    ret = geteuid () != 0
              ? bale_make_error (err, 0, "binfmt --install: registering a handler needs root")
              : binfmt_install (BINFMT_MISC_DIR, BINFMT_CONF_DIR, pl.arch, err);
  platform_release (&pl);
  return ret;
}
