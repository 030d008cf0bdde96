/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Read-only views of layer stacks, mounted in a private mount namespace. */
#include <config.h>

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "runtime/fs/rootless.h"
#include "runtime/layer/rootview.h"
#include "common/banned.h"

int
rootview_unshare (bale_error_t *err)
{
  if (unshare (CLONE_NEWNS) < 0)
    return bale_make_error (err, errno, "cannot create a mount namespace (bale needs root, or "
                                        "CAP_SYS_ADMIN, to read image filesystems)");
  /* Nothing mounted here may propagate back to the host. */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return bale_make_error (err, errno, "cannot make the mount namespace private");
  return 0;
}

bool
rootview_force_copy (void)
{
  const char *v = getenv ("BALE_FORCE_COPY");

  return v && strcmp (v, "1") == 0;
}

int
rootview_mount (const char *const *lowerdirs, size_t n, const char *mountpoint, bale_error_t *err)
{
  struct strbuf opts = STRBUF_INIT;
  size_t i;
  int ret = 0;

  if (n == 0)
    return 0;
  if (n == 1 && !rootview_force_copy ())
    {
      if (mount (lowerdirs[0], mountpoint, NULL, MS_BIND, NULL) < 0
          || mount (NULL, mountpoint, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
        return bale_make_error (err, errno, "cannot bind-mount %s", lowerdirs[0]);
      return 0;
    }
  strbuf_addstr (&opts, "lowerdir=");
  for (i = 0; i < n; i++)
    {
      /* overlayfs splits lowerdir on ':' and the options on ','. */
      if (strpbrk (lowerdirs[i], ":,\\"))
        {
          strbuf_release (&opts);
          return bale_make_error (err, 0, "snapshot path %s holds ':', ',' or '\\', which overlayfs options cannot carry", lowerdirs[i]);
        }
      strbuf_addf (&opts, "%s%s", i ? ":" : "", lowerdirs[i]);
    }
  if (rootless_userns ())
    strbuf_addstr (&opts, ",userxattr");
  if (rootview_force_copy ())
    ret = rootview_merge (lowerdirs, n, mountpoint, true, err);
  else if (mount ("overlay", mountpoint, "overlay", MS_RDONLY, opts.buf) < 0)
    {
      /* No overlayfs in this kernel, or not for us: the same view, merged by hand. */
      if (errno == ENODEV || errno == EPERM || errno == EINVAL)
        ret = rootview_merge (lowerdirs, n, mountpoint, true, err);
      else
        ret = bale_make_error (err, errno, "cannot mount an overlay of %zu layers at %s", n,
                               mountpoint);
    }
  strbuf_release (&opts);
  return ret;
}
