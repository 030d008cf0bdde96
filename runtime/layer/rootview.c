/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Read-only views of layer stacks, mounted in a private mount namespace. */
#include <config.h>

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
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

/*
 * Whether to mount overlays with the legacy data string. "lowerdir+" exists from Linux 6.8;
 * before 6.5 overlayfs took fsconfig parameters through the legacy shim, which accepts any key
 * and fails only when the mount is created, so probing would mistake that for a real
 * failure: the kernel version decides. BALE_OVERLAY_LEGACY=1 forces the legacy way (tests).
 */
bool
rootview_overlay_legacy (void)
{
  const char *force = getenv ("BALE_OVERLAY_LEGACY");
  struct utsname u;
  int major = 0, minor = 0;

  if (force && strcmp (force, "1") == 0)
    return true;
  if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &major, &minor) != 2)
    return true;
  return major < 6 || (major == 6 && minor < 8);
}

/* One "lowerdir+" per layer through the new mount API: no escaping, no one-page limit. */
static int
overlay_fsconfig (const char *const *lowerdirs, size_t n, const char *upper, const char *work,
                  const char *mountpoint)
{
  cleanup_close int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  cleanup_close int mnt = -1;
  int ret = fs < 0 ? -1 : 0;
  size_t i;

  for (i = 0; i < n && ret == 0; i++)
    ret = fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir+", lowerdirs[i], 0);
  if (ret == 0 && upper)
    ret = fsconfig (fs, FSCONFIG_SET_STRING, "upperdir", upper, 0);
  if (ret == 0 && upper)
    ret = fsconfig (fs, FSCONFIG_SET_STRING, "workdir", work, 0);
  if (ret == 0 && rootless_userns ())
    ret = fsconfig (fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0);
  if (ret == 0)
    ret = fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
  if (ret == 0 && (mnt = fsmount (fs, FSMOUNT_CLOEXEC, upper ? 0 : MOUNT_ATTR_RDONLY)) < 0)
    ret = -1;
  if (ret == 0)
    ret = move_mount (mnt, "", AT_FDCWD, mountpoint, MOVE_MOUNT_F_EMPTY_PATH);
  return ret;
}

int
rootview_overlay (const char *const *lowerdirs, size_t n, const char *upper, const char *work,
                  const char *mountpoint)
{
  struct strbuf opts = STRBUF_INIT;
  size_t i;
  int ret;

  if (!rootview_overlay_legacy ())
    return overlay_fsconfig (lowerdirs, n, upper, work, mountpoint);
  strbuf_addstr (&opts, "lowerdir=");
  for (i = 0; i < n; i++)
    strbuf_addf (&opts, "%s%s", i ? ":" : "", lowerdirs[i]);
  if (upper)
    strbuf_addf (&opts, ",upperdir=%s,workdir=%s", upper, work);
  if (rootless_userns ())
    strbuf_addstr (&opts, ",userxattr");
  /* The kernel reads one page of options and cuts the rest: a long stack of long paths
     would name a directory that does not exist. */
  if (opts.len >= (size_t) sysconf (_SC_PAGESIZE))
    {
      errno = EINVAL;
      ret = -1;
    }
  else
    ret = mount ("overlay", mountpoint, "overlay", upper ? 0 : MS_RDONLY, opts.buf);
  strbuf_release (&opts);
  return ret;
}

int
rootview_mount (const char *const *lowerdirs, size_t n, const char *mountpoint, bale_error_t *err)
{
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
  /* overlayfs splits lowerdir on ':' and the options on ','. */
  for (i = 0; i < n; i++)
    if (strpbrk (lowerdirs[i], ":,\\"))
      return bale_make_error (err, 0, "snapshot path %s holds ':', ',' or '\\', which overlayfs options cannot carry", lowerdirs[i]);
  if (rootview_force_copy ())
    ret = rootview_merge (lowerdirs, n, mountpoint, true, err);
  else if (rootview_overlay (lowerdirs, n, NULL, NULL, mountpoint) < 0)
    {
      /* No overlayfs in this kernel, or not for us, or more layers than it stacks (500): the
         same view, merged by hand. */
      if (errno == ENODEV || errno == EPERM || errno == EINVAL)
        ret = rootview_merge (lowerdirs, n, mountpoint, true, err);
      else
        ret = bale_make_error (err, errno, "cannot mount an overlay of %zu layers at %s", n,
                               mountpoint);
    }
  return ret;
}
