/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Chroot isolation (runtime/fs/isolation.h): what the sandbox's namespaces and mounts give a
 * step, done with neither, for containers that refuse both. The parent makes Docker's device
 * nodes and the generated /etc files in the copied root before the step, where the image has
 * none, and removes them after it; the command's process chroots into the copy.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/fs/owners.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

enum made_kind
{
  MADE_FILE,
  MADE_DIR,
  MADE_DEVICE,
  MADE_BOUND, /* an empty file with the host's device bind-mounted on it */
  MADE_OVER,  /* the host's device bind-mounted on the image's stand-in for it (kept) */
};

struct rt_sbx_made
{
  char *dir; /* "" for the root itself, else "dev" or "etc" */
  char *name;
  enum made_kind kind;
};

static void
remember (struct rt_sbx_plan *plan, const char *dir, const char *name, enum made_kind kind)
{
  plan->made = xrealloc (plan->made, (plan->n_made + 1) * sizeof *plan->made);
  plan->made[plan->n_made++] = (struct rt_sbx_made){ xstrdup (dir), xstrdup (name), kind };
}

/* The directory name of the copy (the root itself for ""), never through a symlink. */
static int
open_dir (int rootfd, const char *name)
{
  return *name ? openat (rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
               : fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
}

/* dir itself, created when missing; -1 when it is something else (a symlink the image put
   there: then the step sees what the image has, and nothing of ours lands in it). The
   root's mtime is put back: making the directory is no change of the step. */
static int
ensure_dir (struct rt_sbx_plan *plan, int rootfd, const char *name)
{
  struct stat st;

  if (fstat (rootfd, &st) == 0 && mkdirat (rootfd, name, 0755) == 0)
    {
      remember (plan, "", name, MADE_DIR);
      futimens (rootfd, (struct timespec[]){ st.st_atim, st.st_mtim });
    }
  return open_dir (rootfd, name);
}

static const struct
{
  const char *name;
  unsigned maj, min;
} devices[] = {
  { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 }, { "urandom", 1, 9 },
  { "tty", 5, 0 },
};

/* In a user namespace mknod is refused, but bale's own mount namespace may bind the host's
   device onto an empty file (the step shares that namespace). Without either, the step has
   no such device. */
static void
bind_device (struct rt_sbx_plan *plan, int dev, const char *name)
{
  cleanup_free char *src = xasprintf ("/dev/%s", name);
  cleanup_free char *dst = xasprintf ("%s/dev/%s", plan->spec->copy_root, name);
  cleanup_close int fd = openat (dev, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  struct stat st;

  if (fd < 0)
    return;
  /* The source is checked to be the device it names (runc's CVE-2025-31133 lesson). */
  if (stat (src, &st) == 0 && S_ISCHR (st.st_mode) && mount (src, dst, NULL, MS_BIND, NULL) == 0)
    remember (plan, "dev", name, MADE_BOUND);
  else
    unlinkat (dev, name, 0);
}

/* One id: the image's device was unpacked as an empty file that records it (runtime/fs/owners.h).
   The step must write into the host's device, bound over that file, never into the file:
   its layer would hold the device (written to), and reading it would not give zeros. */
static void
bind_over_standin (struct rt_sbx_plan *plan, int dev, const char *name, const struct stat *st)
{
  cleanup_free char *src = xasprintf ("/dev/%s", name);
  cleanup_free char *dst = NULL;
  cleanup_close int fd = -1;
  struct stat rec = *st, host;

  if (!S_ISREG (st->st_mode) || st->st_size != 0)
    return;
  fd = openat (dev, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || !owners_apply (fd, &rec) || !S_ISCHR (rec.st_mode))
    return;
  dst = xasprintf ("/proc/self/fd/%d", fd);
  if (stat (src, &host) == 0 && S_ISCHR (host.st_mode) && host.st_rdev == rec.st_rdev
      && mount (src, dst, NULL, MS_BIND, NULL) == 0)
    remember (plan, "dev", name, MADE_OVER);
}

static void
make_devices (struct rt_sbx_plan *plan, int rootfd)
{
  cleanup_close int dev = ensure_dir (plan, rootfd, "dev");
  struct stat st, dir;

  if (dev < 0 || fstat (dev, &dir) < 0)
    return;
  for (size_t i = 0; i < sizeof devices / sizeof *devices; i++)
    {
      if (fstatat (dev, devices[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        {
          bind_over_standin (plan, dev, devices[i].name, &st); /* else the image's own */
          continue;
        }
      if (errno != ENOENT)
        continue;
      if (mknodat (dev, devices[i].name, S_IFCHR | 0666,
                   makedev (devices[i].maj, devices[i].min)) == 0)
        {
          fchmodat (dev, devices[i].name, 0666, 0); /* whatever the umask */
          remember (plan, "dev", devices[i].name, MADE_DEVICE);
        }
      else if (errno == EPERM)
        bind_device (plan, dev, devices[i].name);
    }
  futimens (dev, (struct timespec[]){ dir.st_atim, dir.st_mtim });
}

static int
make_etc_files (struct rt_sbx_plan *plan, int rootfd, bale_error_t *err)
{
  const char *files[3];
  size_t n = rt_sbx_etc_files (plan->spec, files);
  cleanup_close int etc = ensure_dir (plan, rootfd, "etc");
  struct stat st, dir;

  if (etc < 0 || fstat (etc, &dir) < 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *src = xasprintf ("%s/%s", plan->etc_dir, files[i]);
      cleanup_close int in = -1, out = -1;

      if (fstatat (etc, files[i], &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        continue; /* the image's own file is what the step sees (no bind mount over it) */
      in = open (src, O_RDONLY | O_CLOEXEC);
      out = openat (etc, files[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (out >= 0)
        remember (plan, "etc", files[i], MADE_FILE);
      if (in < 0 || out < 0 || fileio_copy_fd (in, out) < 0 || fchmod (out, 0644) < 0)
        return bale_make_error (err, errno, "cannot write /etc/%s into the root of the step",
                                files[i]);
    }
  futimens (etc, (struct timespec[]){ dir.st_atim, dir.st_mtim });
  return 0;
}

int
rt_sbx_chroot_prepare (struct rt_sbx_plan *plan, bale_error_t *err)
{
  cleanup_close int rootfd = open (plan->spec->copy_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (rootfd < 0)
    return bale_make_error (err, errno, "cannot open '%s'", plan->spec->copy_root);
  make_devices (plan, rootfd);
  if (make_etc_files (plan, rootfd, err) < 0)
    return -1;
  return rt_sbx_chroot_mounts_prepare (plan, rootfd, err);
}

/* Deepest first, each only while it is still what we made (a directory only while empty),
   and its directory keeps the mtime the step left it with. */
void
rt_sbx_chroot_restore (struct rt_sbx_plan *plan)
{
  cleanup_close int rootfd = -1;

  if (plan->n_made == 0)
    return;
  rootfd = open (plan->spec->copy_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (size_t i = plan->n_made; i-- > 0 && rootfd >= 0;)
    {
      const struct rt_sbx_made *m = &plan->made[i];
      cleanup_close int dirfd = open_dir (rootfd, m->dir);
      struct stat st, parent;
      bool ours;

      if (m->kind == MADE_BOUND || m->kind == MADE_OVER)
        {
          /* Through the directory's descriptor: a /dev the step turned into a symlink
             (open_dir refuses it) must not lead the unmount anywhere else. */
          cleanup_free char *p = xasprintf ("/proc/self/fd/%d/%s", dirfd, m->name);
          if (dirfd >= 0)
            umount2 (p, MNT_DETACH | UMOUNT_NOFOLLOW);
        }
      if (dirfd < 0 || fstat (dirfd, &parent) < 0
          || fstatat (dirfd, m->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      ours = m->kind == MADE_OVER    ? false
             : m->kind == MADE_DIR   ? S_ISDIR (st.st_mode)
             : m->kind == MADE_BOUND ? S_ISREG (st.st_mode) && st.st_size == 0
             : m->kind == MADE_DEVICE ? S_ISCHR (st.st_mode) : S_ISREG (st.st_mode);
      if (ours && unlinkat (dirfd, m->name, m->kind == MADE_DIR ? AT_REMOVEDIR : 0) == 0)
        futimens (dirfd, (struct timespec[]){ parent.st_atim, parent.st_mtim });
    }
}

void
rt_sbx_chroot_release (struct rt_sbx_plan *plan)
{
  rt_sbx_chroot_mounts_release (plan);
  for (size_t i = 0; i < plan->n_made; i++)
    {
      free (plan->made[i].dir);
      free (plan->made[i].name);
    }
  free (plan->made);
  plan->made = NULL;
  plan->n_made = 0;
}

void
rt_sbx_chroot_enter (const struct rt_sbx_plan *plan)
{
  /* The copy is bale's own directory: its path is no input of the image's. */
  if (chdir (plan->spec->copy_root) < 0 || chroot (".") < 0 || chdir ("/") < 0)
    rt_sbx_die (plan->sync_fd, errno, "cannot chroot into '%s'", plan->spec->copy_root);
}

/* Init is a subreaper: whatever the step left running comes to it and is killed here, the
   work a PID namespace does by itself. /proc/self/task/TID/children lists them. */
void
rt_sbx_chroot_kill_rest (void)
{
  char path[64];

  snprintf (path, sizeof path, "/proc/self/task/%d/children", (int) getpid ());
  for (int round = 0; round < 1000; round++)
    {
      struct strbuf sb = STRBUF_INIT;
      cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
      bale_error_t e = NULL;
      bool any = false;

      if (fd >= 0 && fileio_read_fd (fd, path, &sb, &e) == 0)
        for (char *p = sb.buf, *end; *p; p = end)
          {
            long pid = strtol (p, &end, 10);
            if (end == p)
              break;
            if (pid > 0)
              kill ((pid_t) pid, SIGKILL), any = true;
          }
      bale_error_release (&e);
      strbuf_release (&sb);
      if (!any && waitpid (-1, NULL, WNOHANG) < 0)
        return; /* no child left */
      while (waitpid (-1, NULL, any ? 0 : WNOHANG) > 0)
        any = false;
    }
}
