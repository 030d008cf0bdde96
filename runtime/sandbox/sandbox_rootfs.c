/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Child side of the sandbox: mount the overlay, /proc, /dev, /sys, /etc files and extra mounts,
   then pivot_root into the new root. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime/fs/inroot.h"
#include "runtime/fs/rootless.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/* What setup needs besides the plan. */
struct rootfs
{
  const struct rt_sbx_plan *plan;
  int rootfd;      /* O_PATH fd of the new root, before pivot_root */
  bool step_mounts; /* creating the mount points of the step's own mounts (spec->mounts) */
};

/* "/proc/self/fd/N": mounting on an fd's magic link mounts exactly on what the resolver found
   inside the root, never on a path an image symlink redirects to the host (runc's approach). */
static const char *
fd_path (int fd, char buf[static 64])
{
  snprintf (buf, 64, "/proc/self/fd/%d", fd);
  return buf;
}

static void
mount_or_die (const struct rootfs *r, const char *src, int target_fd, const char *what,
              const char *fstype, unsigned long flags, const char *data)
{
  char p[64];

  if (mount (src, fd_path (target_fd, p), fstype, flags, data) < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot mount %s on '%s'", fstype ? fstype : src, what);
}

/* The in-root path of what fd refers to, for the parent's stub removal. */
static char *
in_root_path (const struct rootfs *r, int fd)
{
  char p[64], full[PATH_MAX], root[PATH_MAX];
  ssize_t n = readlink (fd_path (fd, p), full, sizeof full - 1);
  ssize_t m = readlink (fd_path (r->rootfd, p), root, sizeof root - 1);

  if (n < 0 || m < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot read the path of a mount point");
  full[n] = root[m] = '\0';
  if (strncmp (full, root, (size_t) m) != 0 || (full[m] != '/' && full[m] != '\0'))
    rt_sbx_die (r->plan->sync_fd, 0, "mount point '%s' is outside the root", full);
  return xstrdup (full[m] ? full + m : "/");
}

/*
 * A mount point inroot_mkpath created. The sandbox's own mount points (/proc, /dev, /sys, the
 * /etc files) are not the step's doing: the parent is told to remove them after the step, and
 * their parent directory gets its times back (remove_stubs does the same when the stub goes),
 * so they never reach its layer. For the step's own mounts (RUN --mount) BuildKit leaves what
 * runc made: the directories (the target of a directory mount and the missing parents of any
 * target) stay in the layer, 0755 root, and only the empty file it made for a file target (a
 * bind of a file, a secret, an ssh socket) is removed (executor/stubs.go MountStubsCleaner),
 * so only those are reported here.
 */
static int
stub_created (void *data, int parent, const struct stat *before, const char *name, int fd)
{
  const struct rootfs *r = data;
  char p[64], *path;
  struct stat st;

  (void) name;
  if (fstat (fd, &st) < 0)
    return -1;
  if (S_ISDIR (st.st_mode) && r->step_mounts)
    return 0; /* kept: a change of the step, parent's mtime included */
  utimensat (AT_FDCWD, fd_path (parent, p), (struct timespec[]){ before->st_atim, before->st_mtim }, 0);
  path = in_root_path (r, fd);
  rt_sbx_send (r->plan->sync_fd, RT_SBX_STUB, S_ISDIR (st.st_mode), "%s", path);
  free (path);
  return 0;
}

/*
 * An O_PATH fd of the absolute in-root path target, creating missing components (directories,
 * and the last one as a directory or a file) as stubs. Symlinks resolve inside the root. With
 * nofollow, a final symlink is returned as itself so that the caller can skip it.
 */
static int
mount_point (const struct rootfs *r, const char *target, bool dir, bool nofollow)
{
  int fd = inroot_mkpath (r->rootfd, target, nofollow ? INROOT_NOFOLLOW : 0, dir, stub_created,
                          (void *) r);

  if (fd < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot open mount point '%s'", target);
  return fd;
}

/* The kernel's own explanation of a failed fsconfig (e.g. "overlayfs: failed to resolve
   '/x': -2"), read from the fs context; "" when there is none. */
static void
fs_context_message (int fs, char *buf, size_t size)
{
  ssize_t n = read (fs, buf, size - 1);

  buf[n > 0 ? n : 0] = '\0';
  if (n > 0 && buf[n - 1] == '\n')
    buf[n - 1] = '\0';
}

/*
 * The overlay through the new mount API, one "lowerdir+" per layer (Linux 6.8): no escaping
 * and no one-page limit on the option string, which a build with many steps would exceed.
 * Returns 0, or -1 with errno, or -2 when the kernel does not know "lowerdir+".
 */
static int
mount_overlay_fsconfig (const struct rt_sbx_plan *plan, char *why, size_t why_size)
{
  const struct sandbox_spec *spec = plan->spec;
  cleanup_close int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  cleanup_close int mnt = -1;
  int ret = 0;

  why[0] = '\0';
  if (fs < 0)
    return -1;
  if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir+", plan->stubs, 0) < 0)
    return errno == EINVAL ? -2 : -1;
  for (size_t i = 0; i < spec->n_lowerdirs && ret == 0; i++)
    ret = fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir+", spec->lowerdirs[i], 0);
  if (ret == 0)
    ret = fsconfig (fs, FSCONFIG_SET_STRING, "upperdir", spec->upperdir, 0);
  if (ret == 0)
    ret = fsconfig (fs, FSCONFIG_SET_STRING, "workdir", spec->workdir, 0);
  /* redirect_dir and metacopy off: the layer is a plain diff of the upper directory, which
     must hold whole files and whole renamed directories (plus whiteouts), like Docker's. */
  /* In a user namespace overlayfs keeps its markers in user.overlay.* (Linux 5.11), and
     then refuses redirect_dir=off (which Debian's kernels read as "follow"): "nofollow"
     neither creates nor follows redirects either. */
  if (ret == 0 && rootless_userns ())
    ret = fsconfig (fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0);
  if (ret == 0)
    ret = fsconfig (fs, FSCONFIG_SET_STRING, "redirect_dir",
                    rootless_userns () ? "nofollow" : "off", 0);
  if (ret == 0)
    ret = fsconfig (fs, FSCONFIG_SET_STRING, "metacopy", "off", 0);
  /* Every kernel with "lowerdir+" has "volatile" (5.10). */
  if (ret == 0 && spec->volatile_upper)
    ret = fsconfig (fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0);
  if (ret == 0)
    ret = fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
  if (ret == 0 && (mnt = fsmount (fs, FSMOUNT_CLOEXEC, 0)) < 0)
    ret = -1;
  if (ret == 0)
    ret = move_mount (mnt, "", AT_FDCWD, plan->root, MOVE_MOUNT_F_EMPTY_PATH);
  if (ret < 0)
    {
      int saved = errno;
      fs_context_message (fs, why, why_size);
      errno = saved;
    }
  return ret;
}

/* 0, or -1 with errno and the kernel's explanation in why. */
static int
mount_overlay (const struct rt_sbx_plan *plan, char *why, size_t why_size)
{
  int ret = plan->legacy_overlay ? -2 : mount_overlay_fsconfig (plan, why, why_size);

  if (ret != -2)
    return ret;
  if (plan->overlay_opts == NULL)
    {
      snprintf (why, why_size, "a layer path holds ',', ':' or '\\' and the kernel has no "
                               "lowerdir+");
      errno = EINVAL;
      return -1;
    }
  /* The kernel reads one page of options and cuts the rest, which would name a directory
     that does not exist. */
  if (strlen (plan->overlay_opts) >= (size_t) sysconf (_SC_PAGESIZE))
    {
      snprintf (why, why_size, "%zu layers make the overlay's options longer than a page, and "
                               "the kernel has no lowerdir+ (Linux 6.8)", plan->spec->n_lowerdirs);
      errno = E2BIG;
      return -1;
    }
  snprintf (why, why_size, "%s", plan->overlay_opts);
  ret = mount ("overlay", plan->root, "overlay", 0, plan->overlay_opts);
  if (ret < 0 && errno == EINVAL && plan->spec->volatile_upper)
    {
      /* Before Linux 5.10 overlayfs knows no "volatile", the data's last option: the
         unmount then syncs, which the caller takes for unsynced all the same. */
      cleanup_free char *synced = xstrdup (plan->overlay_opts);
      synced[strlen (synced) - strlen (",volatile")] = '\0';
      ret = mount ("overlay", plan->root, "overlay", 0, synced);
    }
  return ret;
}

/* runc's device cgroup lets a container create any device node but open only null, zero,
   full, random, urandom, tty, the ptys and tun; bale has no cgroup, so the rootfs is nodev
   instead: a block device made by mknod in a step (which holds CAP_MKNOD) or shipped in a
   layer (b 8:0, the host's disk) cannot be opened. The step's own devices are bind mounts of
   the host's, which keep their own flags. Locked flags of a user namespace are kept. */
static void
root_nodev (const struct rootfs *r)
{
  static const struct { unsigned long st, ms; } keep[] = {
    { ST_RDONLY, MS_RDONLY },   { ST_NOSUID, MS_NOSUID },         { ST_NOEXEC, MS_NOEXEC },
    { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
  };
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_NODEV;
  struct statvfs sv;
  char p[64];

  if (fstatvfs (r->rootfd, &sv) < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot read the flags of the root mount");
  for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
    if (sv.f_flag & keep[i].st)
      flags |= keep[i].ms;
  if (mount (NULL, fd_path (r->rootfd, p), NULL, flags, NULL) < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot make the root mount nodev");
}

static void
mount_root (struct rootfs *r)
{
  const struct rt_sbx_plan *plan = r->plan;
  const struct sandbox_spec *spec = plan->spec;
  char why[512];

  /* Nothing mounted below may propagate back to the host. */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    rt_sbx_die (plan->sync_fd, errno, "cannot make the mount namespace private");
  if (spec->upperdir && spec->workdir && !spec->force_copy)
    {
      if (mount_overlay (plan, why, sizeof why) == 0)
        goto opened;
      /* ENODEV: no overlayfs; EINVAL: e.g. an upper directory on a filesystem overlayfs
         refuses; EPERM: not allowed here. Anything else is a real error. */
      if (spec->copy_root == NULL || (errno != ENODEV && errno != EINVAL && errno != EPERM))
        rt_sbx_die (plan->sync_fd, errno, "cannot mount overlay on '%s'%s%s%s", plan->root,
                    *why ? " (" : "", why, *why ? ")" : "");
      rt_sbx_send (plan->sync_fd, RT_SBX_COPY, errno, "overlay");
    }
  /* pivot_root needs a mount point: bind the directory onto itself. */
  if (mount (spec->copy_root, plan->root, NULL, MS_BIND | MS_REC, NULL) < 0)
    rt_sbx_die (plan->sync_fd, errno, "cannot bind-mount '%s'", spec->copy_root);
opened:
  r->rootfd = open (plan->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r->rootfd < 0)
    rt_sbx_die (plan->sync_fd, errno, "cannot open '%s'", plan->root);
  if (!spec->insecure)
    root_nodev (r);
}

/* The mount point of /proc, /dev or /sys: an image may not turn it into a symlink to another
   place (/proc -> /, /dev -> /tmp/h: runc's CVE-2025-31133 family). In overlay mode the stub
   layer already hides whatever the image has there. */
static int
system_mount_point (const struct rootfs *r, const char *target)
{
  int fd = mount_point (r, target, true, true);
  struct stat st;

  if (fstat (fd, &st) < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot stat '%s'", target);
  if (!S_ISDIR (st.st_mode))
    rt_sbx_die (r->plan->sync_fd, ENOTDIR, "'%s' in the rootfs is not a directory", target);
  return fd;
}

/* Bind the host device node onto an empty file of the new /dev (no mknod: bind mounts work
   the same in a user namespace, as in bubblewrap's --dev). */
static void
bind_device (const struct rootfs *r, int devfd, const char *name)
{
  cleanup_free char *host = xasprintf ("/dev/%s", name);
  cleanup_close int fd = openat (devfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);

  if (fd < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot create '/dev/%s'", name);
  mount_or_die (r, host, fd, host, NULL, MS_BIND, NULL);
}

static void
mount_dev (const struct rootfs *r)
{
  /* Docker's set of devices; /dev/tty is there so that programs probing for a terminal get
     ENXIO (no controlling terminal) rather than a missing file. */
  static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
  static const char *const links[][2] = {
    { "/proc/self/fd", "fd" },        { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" },  { "/proc/self/fd/2", "stderr" },
    { "/proc/kcore", "core" },        { "pts/ptmx", "ptmx" },
  };
  cleanup_close int at = system_mount_point (r, "/dev");
  cleanup_close int devfd = -1, pts = -1, shm = -1, mq = -1;
  int sync = r->plan->sync_fd;
  uint64_t shm_size = r->plan->spec->shm_size ? r->plan->spec->shm_size : 64 << 20;
  char shm_opts[64];

  /* containerd's /dev: nosuid, strictatime, mode=755, size=65536k (executable, as there). */
  /* nodev as the rootfs (root_nodev): a node made here by mknod cannot be opened. */
  mount_or_die (r, "tmpfs", at, "/dev", "tmpfs",
                MS_NOSUID | MS_STRICTATIME | (r->plan->spec->insecure ? 0 : MS_NODEV),
                "mode=755,size=65536k");
  devfd = inroot_open (r->rootfd, "/dev", O_PATH | O_DIRECTORY, 0);
  if (devfd < 0)
    rt_sbx_die (sync, errno, "cannot open the new '/dev'");
  for (size_t i = 0; i < sizeof devices / sizeof *devices; i++)
    bind_device (r, devfd, devices[i]);
  for (size_t i = 0; i < sizeof links / sizeof *links; i++)
    /* runc makes /dev/core only when the kernel has a /proc/kcore (runc's own /proc, the
       host's: ours too before pivot_root). */
    if ((strcmp (links[i][1], "core") != 0 || access ("/proc/kcore", F_OK) == 0)
        && symlinkat (links[i][0], devfd, links[i][1]) < 0)
      rt_sbx_die (sync, errno, "cannot create '/dev/%s'", links[i][1]);
  if (mkdirat (devfd, "pts", 0755) < 0 || mkdirat (devfd, "shm", 01777) < 0
      || mkdirat (devfd, "mqueue", 0755) < 0)
    rt_sbx_die (sync, errno, "cannot create '/dev/pts', '/dev/shm' or '/dev/mqueue'");
  pts = openat (devfd, "pts", O_PATH | O_DIRECTORY | O_CLOEXEC);
  shm = openat (devfd, "shm", O_PATH | O_DIRECTORY | O_CLOEXEC);
  mq = openat (devfd, "mqueue", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (pts < 0 || shm < 0 || mq < 0)
    rt_sbx_die (sync, errno, "cannot open '/dev/pts', '/dev/shm' or '/dev/mqueue'");
  /* newinstance: a private pty namespace, so the step sees none of the host's terminals. */
  /* With one id, group 5 (tty) does not exist in bale's user namespace. */
  mount_or_die (r, "devpts", pts, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                rootless_mode () == ROOTLESS_ONE_ID ? "newinstance,ptmxmode=0666,mode=0620"
                                                    : "newinstance,ptmxmode=0666,mode=0620,gid=5");
  /* 64 MiB unless --shm-size, as Docker. */
  snprintf (shm_opts, sizeof shm_opts, "mode=1777,size=%llu", (unsigned long long) shm_size);
  mount_or_die (r, "shm", shm, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm_opts);
  /* The step's own IPC namespace's message queues. */
  mount_or_die (r, "mqueue", mq, "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                NULL);
}

static void
mount_proc_sys (const struct rootfs *r)
{
  cleanup_close int proc = system_mount_point (r, "/proc");
  cleanup_close int sys = system_mount_point (r, "/sys");
  /* Read-only as in Docker's spec; RUN --security=insecure makes it writable (BuildKit). */
  unsigned long ro = r->plan->spec->insecure ? 0 : MS_RDONLY;
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC
                                         | (ro ? MOUNT_ATTR_RDONLY : 0) };
  char p[64];

  /* We are PID 1 of the new PID namespace: this procfs shows the step's processes only. */
  mount_or_die (r, "proc", proc, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  if (mount ("sysfs", fd_path (sys, p), "sysfs", ro | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)
      == 0)
    return;
  /* A new sysfs can be refused (e.g. a shared network namespace we do not own): bind the
     host's instead, read-only, nosuid, nodev and noexec down to every mount under it. A
     remount of the top alone left the host's /sys/fs/cgroup/... writable: a rootless step
     made cgroups in the user's delegated hierarchy and set their limits. */
  mount_or_die (r, "/sys", sys, "/sys", NULL, MS_BIND | MS_REC, NULL);
  close (sys);
  sys = inroot_open (r->rootfd, "/sys", O_PATH | O_DIRECTORY, 0);
  if (sys < 0 || mount_setattr (sys, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot make the bind mount of '/sys' read-only");
}

/* A bind mount made read-only, nosuid, nodev and noexec (BuildKit's /etc files), keeping the
   flags the kernel locks in a user namespace. A refusal leaves it writable: no worse than a
   step that may write it. */
static void
remount_ro (const struct rootfs *r, const char *target)
{
  static const struct { unsigned long st, ms; } keep[] = {
    { ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV }, { ST_NOEXEC, MS_NOEXEC },
    { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
  };
  cleanup_close int fd = inroot_open (r->rootfd, target, O_PATH, 0);
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  struct statvfs sv;
  char p[64];

  if (fd < 0 || fstatvfs (fd, &sv) < 0)
    return;
  for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
    if (sv.f_flag & keep[i].st)
      flags |= keep[i].ms;
  (void) mount (NULL, fd_path (fd, p), NULL, flags, NULL);
}

/* /etc/hosts, /etc/resolv.conf and (docker run) /etc/hostname: bind mounts of the generated
   files, read-only in a build step as BuildKit has them. In overlay mode their mount points
   come from the stub layer, so nothing is created in the upper directory; in copy mode
   missing ones are stubs, and an image symlink is left alone. */
static void
mount_etc_files (const struct rootfs *r)
{
  const char *names[3];
  size_t n = rt_sbx_etc_files (r->plan->spec, names);

  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *target = xasprintf ("/etc/%s", names[i]);
      cleanup_free char *src = xasprintf ("%s/%s", r->plan->etc_dir, names[i]);
      cleanup_close int fd = mount_point (r, target, false, true);
      struct stat st;

      if (fstat (fd, &st) < 0)
        rt_sbx_die (r->plan->sync_fd, errno, "cannot stat '%s'", target);
      if (S_ISLNK (st.st_mode))
        continue;
      mount_or_die (r, src, fd, target, NULL, MS_BIND, NULL);
      if (r->plan->spec->build_step)
        remount_ro (r, target);
    }
}

/* The descriptor a bind mount mounts: a path of bale's own (a secret, a socket, a heredoc), or
   one inside source_root resolved here, in the step's mount namespace, whose copies of the
   views are the ones a bind may take its source from. */
int
rt_sbx_mount_source (const struct sandbox_mount *m)
{
  cleanup_close int root = -1;

  if (m->source_root == NULL)
    return open (m->source, O_PATH | O_CLOEXEC);
  root = open (m->source_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return -1;
  return inroot_open (root, m->source, O_PATH, m->source_beneath ? INROOT_BENEATH : 0);
}

static int
mount_source (const struct rootfs *r, const struct sandbox_mount *m)
{
  int fd = rt_sbx_mount_source (m);

  if (fd < 0)
    rt_sbx_die (r->plan->sync_fd, errno, "cannot open mount source '%s'", m->source);
  return fd;
}

/* A detached copy of src (recursive, read-only when asked) moved onto target: both are
   descriptors, so neither the source nor the target is looked up by name again. */
static void
bind_fd (const struct rootfs *r, int src, int target, const struct sandbox_mount *m)
{
  cleanup_close int tree = open_tree (src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH
                                                   | AT_RECURSIVE);
  /* nodev as the rootfs (root_nodev): a cache or a context is no way to a device either. */
  struct mount_attr attr = { .attr_set = (m->readonly ? MOUNT_ATTR_RDONLY : 0)
                                         | (r->plan->spec->insecure ? 0 : MOUNT_ATTR_NODEV) };
  int sync = r->plan->sync_fd;

  if (tree < 0)
    rt_sbx_die (sync, errno, "cannot bind-mount '%s'", m->source);
  if (attr.attr_set && mount_setattr (tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    rt_sbx_die (sync, errno, "cannot set the flags of the bind mount of '%s'", m->source);
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    rt_sbx_die (sync, errno, "cannot mount '%s' on '%s'", m->source, m->target);
}

static void
mount_extra (const struct rootfs *r, const struct sandbox_mount *m)
{
  bool dir = true;
  struct stat st;
  cleanup_close int src = -1, fd = -1;

  if (m->type == SANDBOX_MOUNT_BIND)
    {
      src = mount_source (r, m);
      if (fstat (src, &st) < 0)
        rt_sbx_die (r->plan->sync_fd, errno, "cannot stat mount source '%s'", m->source);
      dir = S_ISDIR (st.st_mode);
    }
  fd = mount_point (r, m->target, dir, false);
  if (m->type == SANDBOX_MOUNT_TMPFS)
    mount_or_die (r, "tmpfs", fd, m->target, "tmpfs",
                  MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0), m->options);
  else
    bind_fd (r, src, fd, m);
}

/* A step without network still expects 127.0.0.1 to work (test servers, local daemons);
   Docker's "none" network brings lo up too. */
static void
loopback_up (int sync)
{
  struct ifreq ifr;
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  memset (&ifr, 0, sizeof ifr);
  memcpy (ifr.ifr_name, "lo", 3);
  if (s < 0 || ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    rt_sbx_die (sync, errno, "cannot query the loopback interface");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    rt_sbx_die (sync, errno, "cannot bring up the loopback interface");
}

/* pivot_root(".", ".") stacks the old root on the new one, and the detach removes it: no
   temporary directory inside the rootfs is needed (runc, LXC; bubblewrap.c:3426). */
static void
enter_root (const struct rootfs *r)
{
  int sync = r->plan->sync_fd;

  if (chdir (r->plan->root) < 0)
    rt_sbx_die (sync, errno, "cannot enter '%s'", r->plan->root);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    rt_sbx_die (sync, errno, "pivot_root into '%s'", r->plan->root);
  if (umount2 (".", MNT_DETACH) < 0)
    rt_sbx_die (sync, errno, "cannot detach the old root");
  if (chdir ("/") < 0)
    rt_sbx_die (sync, errno, "cannot enter the new root");
}

void
rt_sbx_setup_rootfs (const struct rt_sbx_plan *plan)
{
  const struct sandbox_spec *spec = plan->spec;
  struct rootfs r = { plan, -1, false };
  const char *host = sandbox_hostname (spec);

  mount_root (&r);
  mount_proc_sys (&r);
  mount_dev (&r);
  mount_etc_files (&r);
  r.step_mounts = true;
  for (size_t i = 0; i < spec->n_mounts; i++)
    mount_extra (&r, &spec->mounts[i]);
  r.step_mounts = false;
  if (!spec->insecure)
    rt_sbx_mask_paths (plan->sync_fd, r.rootfd);
  if (sethostname (host, strlen (host)) < 0)
    rt_sbx_die (plan->sync_fd, errno, "cannot set the hostname to '%s'", host);
  if (spec->network == SANDBOX_NET_NONE)
    loopback_up (plan->sync_fd);
  enter_root (&r);
  close (r.rootfd);
}
