/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rootless RUN steps: chown and mknod of devices answered by bale, which records the wish. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/fs/owners.h"
#include "runtime/fs/rootless.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/*
 * In a user namespace a RUN step cannot give a file an owner the namespace does not map (one
 * id: every owner but root), nor create a device node. A seccomp filter of the step's
 * command sends those calls (chown, fchown, lchown, fchownat; mknod and mknodat of char and
 * block devices) to bale (SECCOMP_RET_USER_NOTIF), which records the wish in the override
 * xattr of runtime/fs/owners.h on the step's own overlay and answers success; the layer writer
 * turns the record into the tar header. The kernel never runs the original call (no
 * CONTINUE: what bale read could have changed since), and bale acts only on what it resolved
 * inside the step's root, on the step's overlay (the same st_dev), never on a host file.
 *
 * The filter is a second one beside the default seccomp profile; the profile allows these
 * calls, so the notification wins (seccomp(2): the most restrictive action applies, and
 * USER_NOTIF ranks above ALLOW).
 */

bool
rt_sbx_notify_wanted (void)
{
  return owners_active ();
}

/* ---- child side --------------------------------------------------------------------------- */

static int
build_filter (scmp_filter_ctx ctx)
{
  static const char *const chowns[] = { "chown", "fchown", "lchown", "fchownat" };
  int r = 0;

  /* Keep no_new_privs off (BuildKit does), which needs CAP_SYS_ADMIN, still ours here; a
     binary of another architecture is let through rather than killed (it is not intercepted:
     docs/rootless.md). */
  r |= seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  r |= seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  if (rootless_mode () == ROOTLESS_ONE_ID)
    for (size_t i = 0; i < sizeof chowns / sizeof *chowns; i++)
      r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name (chowns[i]), 0);
  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (mknod), 1,
                         SCMP_A1_32 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR));
  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (mknod), 1,
                         SCMP_A1_32 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK));
  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (mknodat), 1,
                         SCMP_A2_32 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR));
  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (mknodat), 1,
                         SCMP_A2_32 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK));
  return r;
}

/* One byte and room for one descriptor (SCM_RIGHTS). */
struct fd_msg
{
  char byte;
  struct iovec iov;
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    size_t align; /* a cmsghdr's alignment (its first field is a size_t); the struct itself
                     ends in a flexible array, which clang refuses inside a union */
  } u;
  struct msghdr msg;
};

static void
fd_msg_init (struct fd_msg *m)
{
  memset (m, 0, sizeof *m);
  m->byte = 'N';
  m->iov = (struct iovec){ &m->byte, 1 };
  m->msg = (struct msghdr){ .msg_iov = &m->iov, .msg_iovlen = 1, .msg_control = m->u.buf,
                            .msg_controllen = sizeof m->u.buf };
}

static int
send_fd (int sock, int fd)
{
  struct fd_msg m;
  struct cmsghdr *c;

  fd_msg_init (&m);
  c = CMSG_FIRSTHDR (&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof fd);
  return sendmsg (sock, &m.msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

void
rt_sbx_notify_install (int sync, int sock)
{
  scmp_filter_ctx ctx;
  int fd;

  if (sock < 0)
    return;
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL || build_filter (ctx) != 0)
    rt_sbx_die (sync, EINVAL, "cannot build the ownership filter");
  if (seccomp_load (ctx) < 0 || (fd = seccomp_notify_fd (ctx)) < 0)
    rt_sbx_die (sync, errno, "cannot load the ownership filter (seccomp user notification "
                             "needs Linux 5.0)");
  if (send_fd (sock, fd) < 0)
    rt_sbx_die (sync, errno, "cannot pass the ownership filter to bale");
  close (fd);
  close (sock);
  seccomp_release (ctx);
}

/* ---- parent side -------------------------------------------------------------------------- */

int
rt_sbx_notify_open (struct rt_sbx_notifier *n, int *child_end, bale_error_t *err)
{
  int sv[2];

  n->sock = n->fd = -1;
  *child_end = -1;
  if (!rt_sbx_notify_wanted ())
    return 0;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return bale_make_error (err, errno, "cannot create the sandbox's notification socket");
  n->sock = sv[0];
  *child_end = sv[1];
  return 0;
}

void
rt_sbx_notify_release (struct rt_sbx_notifier *n)
{
  if (n->sock >= 0)
    close (n->sock);
  if (n->fd >= 0)
    close (n->fd);
  n->sock = n->fd = -1;
}

/* The listener fd the command sent, once; the socket is done after it. */
static void
take_fd (struct rt_sbx_notifier *n)
{
  struct fd_msg m;
  struct cmsghdr *c;

  fd_msg_init (&m);
  if (recvmsg (n->sock, &m.msg, MSG_CMSG_CLOEXEC) > 0 && (c = CMSG_FIRSTHDR (&m.msg))
      && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN (sizeof (int)) && n->fd < 0)
    memcpy (&n->fd, CMSG_DATA (c), sizeof n->fd);
  close (n->sock);
  n->sock = -1;
}

/* What the target asked for, with handles opened on its behalf. */
struct call
{
  pid_t pid;
  int mem;  /* /proc/PID/mem */
  int root; /* /proc/PID/root: the step's root */
  struct stat root_st;
};

/* The NUL-terminated string at addr of the target, copied once (seccomp_unotify(2): never
   read it twice). */
static int
read_path (const struct call *c, uint64_t addr, char out[PATH_MAX])
{
  ssize_t n = pread (c->mem, out, PATH_MAX, (off_t) addr);

  if (n <= 0)
    return -EFAULT;
  if (memchr (out, '\0', (size_t) n) == NULL)
    return -ENAMETOOLONG;
  return 0;
}

/* The in-root path of the target's directory fd (or cwd for AT_FDCWD): the kernel prints it
   relative to the step's root, where the target lives. */
static int
dir_path (const struct call *c, int dirfd, char out[PATH_MAX])
{
  char link[64];
  ssize_t n;

  if (dirfd == AT_FDCWD)
    snprintf (link, sizeof link, "/proc/%d/cwd", (int) c->pid);
  else
    snprintf (link, sizeof link, "/proc/%d/fd/%d", (int) c->pid, dirfd);
  n = readlink (link, out, PATH_MAX - 1);
  if (n <= 0 || out[0] != '/')
    return n < 0 ? -errno : -ENOENT;
  out[n] = '\0';
  /* A chrooted step (chroot isolation) shares bale's mount namespace: there the kernel
     prints the path from bale's root, through the step's root, which comes off. What is
     left is resolved in the step's root all the same, whatever it says. */
  {
    char root[PATH_MAX];
    ssize_t m;
    snprintf (link, sizeof link, "/proc/%d/root", (int) c->pid);
    m = readlink (link, root, sizeof root - 1);
    if (m > 1 && m < n && strncmp (out, root, (size_t) m) == 0 && out[m] == '/')
      memmove (out, out + m, (size_t) (n - m) + 1);
    else if (m > 1 && m == n && strncmp (out, root, (size_t) m) == 0)
      out[1] = '\0'; /* out[0] is already '/' */
  }
  return 0;
}

/* Resolve dirfd + path of the target inside its root into an O_PATH handle on the step's
   own overlay; nofollow for the last component. */
static int
resolve (const struct call *c, int dirfd, const char *path, bool nofollow, int *out)
{
  char base[PATH_MAX];
  cleanup_free char *full = NULL;
  struct open_how how = { .flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  struct stat st;
  int fd, r;

  if (path[0] == '/')
    full = xstrdup (path);
  else
    {
      if ((r = dir_path (c, dirfd, base)) < 0)
        return r;
      full = xasprintf ("%s/%s", base, path);
    }
  fd = (int) syscall (SYS_openat2, c->root, full, &how, sizeof how);
  if (fd < 0)
    return -errno;
  /* Only the step's overlay: not /dev, /proc or a bind mount of the host. */
  if (fstat (fd, &st) < 0 || st.st_dev != c->root_st.st_dev)
    {
      close (fd);
      return -EPERM;
    }
  *out = fd;
  return 0;
}

/* The target's own descriptor fd, when it is a file of the step's overlay. */
static int
target_fd (const struct call *c, int fd, int *out)
{
  char link[64];
  struct stat st;
  int r;

  snprintf (link, sizeof link, "/proc/%d/fd/%d", (int) c->pid, fd);
  r = open (link, O_PATH | O_CLOEXEC);
  if (r < 0)
    return errno == ENOENT ? -EBADF : -errno;
  if (fstat (r, &st) < 0 || st.st_dev != c->root_st.st_dev)
    {
      close (r);
      return -EPERM;
    }
  *out = r;
  return 0;
}

/* Record owner uid:gid ((uid_t) -1 keeps the current one) on the inode of handle. */
static int
record_owner (int handle, uid_t uid, gid_t gid)
{
  char self[64];
  cleanup_close int fd = -1;
  struct stat st, now;

  if (fstat (handle, &st) < 0)
    return -errno;
  /* Symlinks, FIFOs and sockets cannot hold a user.* xattr: their owner stays root
     (docs/rootless.md); the call still succeeds, as it would for root. */
  if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode))
    return 0;
  snprintf (self, sizeof self, "/proc/self/fd/%d", handle);
  fd = open (self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (S_ISDIR (st.st_mode) ? O_DIRECTORY : 0));
  if (fd < 0 || fstat (fd, &st) < 0)
    return -errno;
  now = st;
  owners_apply (fd, &now); /* the owner recorded before, for the ids left unchanged */
  st.st_uid = uid == (uid_t) -1 ? now.st_uid : uid;
  st.st_gid = gid == (gid_t) -1 ? now.st_gid : gid;
  st.st_mode = (now.st_mode & S_IFMT) | (st.st_mode & 07777);
  if (owners_record (fd, &st) < 0)
    return -errno;
  /* chown clears setuid, and setgid of group-executables, even for root (chown(2)). */
  if (S_ISREG (st.st_mode) && (uid != (uid_t) -1 || gid != (gid_t) -1)
      && (st.st_mode & (S_ISUID | S_ISGID)))
    {
      mode_t m = st.st_mode & 07777 & ~(mode_t) S_ISUID;
      if (m & S_IXGRP)
        m &= ~(mode_t) S_ISGID;
      if (fchmod (fd, m) < 0)
        return -errno;
    }
  return 0;
}

/* The target's umask and fsuid/fsgid, from /proc/PID/status. */
static void
target_creds (const struct call *c, mode_t *umask_out, uid_t *uid, gid_t *gid)
{
  char path[64], line[256];
  cleanup_file FILE *f = NULL;
  unsigned long a, b, cc, d;
  unsigned int m;

  *umask_out = 022;
  *uid = 0;
  *gid = 0;
  snprintf (path, sizeof path, "/proc/%d/status", (int) c->pid);
  f = fopen (path, "re");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "Umask: %o", &m) == 1)
      *umask_out = (mode_t) m;
    else if (sscanf (line, "Uid: %lu %lu %lu %lu", &a, &b, &cc, &d) == 4)
      *uid = (uid_t) d;
    else if (sscanf (line, "Gid: %lu %lu %lu %lu", &a, &b, &cc, &d) == 4)
      *gid = (gid_t) d;
}

/* mknod of a device: an empty file stands in, with the device recorded (as unpacking does). */
static int
make_device (const struct call *c, int dirfd, const char *path, mode_t mode, dev_t dev)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  const char *name = slash ? slash + 1 : dir;
  cleanup_close int parent = -1, fd = -1;
  struct stat st;
  mode_t mask;
  int r;

  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return -EEXIST;
  if (slash)
    *slash = '\0';
  r = resolve (c, dirfd, slash ? (*dir ? dir : "/") : ".", false, &parent);
  if (r < 0)
    return r;
  target_creds (c, &mask, &st.st_uid, &st.st_gid);
  fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  st.st_mode = (mode & S_IFMT) | (mode & 07777 & ~mask);
  st.st_rdev = dev;
  if (fchmod (fd, st.st_mode & 07777) < 0 || owners_record (fd, &st) < 0)
    return -errno;
  return 0;
}

static int
handle (const struct call *c, const struct seccomp_data *d)
{
  char path[PATH_MAX];
  cleanup_close int h = -1;
  int nr = d->nr, r;
  uid_t uid = (uid_t) d->args[1];
  gid_t gid = (gid_t) d->args[2];

  if (nr == SCMP_SYS (fchown))
    r = target_fd (c, (int) d->args[0], &h);
  else if (nr == SCMP_SYS (chown) || nr == SCMP_SYS (lchown))
    r = read_path (c, d->args[0], path) < 0
            ? -EFAULT
            : resolve (c, AT_FDCWD, path, nr == SCMP_SYS (lchown), &h);
  else if (nr == SCMP_SYS (fchownat))
    {
      int flags = (int) d->args[4];
      uid = (uid_t) d->args[2];
      gid = (gid_t) d->args[3];
      if ((r = read_path (c, d->args[1], path)) < 0)
        return r;
      if (path[0] == '\0' && (flags & AT_EMPTY_PATH))
        r = (int) d->args[0] == AT_FDCWD ? resolve (c, AT_FDCWD, ".", false, &h)
                                          : target_fd (c, (int) d->args[0], &h);
      else
        r = resolve (c, (int) d->args[0], path, flags & AT_SYMLINK_NOFOLLOW, &h);
    }
  else if (nr == SCMP_SYS (mknod))
    return read_path (c, d->args[0], path) < 0
               ? -EFAULT
               : make_device (c, AT_FDCWD, path, (mode_t) d->args[1], (dev_t) d->args[2]);
  else if (nr == SCMP_SYS (mknodat))
    return read_path (c, d->args[1], path) < 0
               ? -EFAULT
               : make_device (c, (int) d->args[0], path, (mode_t) d->args[2],
                              (dev_t) d->args[3]);
  else
    return -ENOSYS;
  return r < 0 ? r : record_owner (h, uid, gid);
}

static void
serve (struct rt_sbx_notifier *n)
{
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  struct call c = { .mem = -1, .root = -1 };
  char p[64];

  if (seccomp_notify_alloc (&req, &resp) < 0)
    return;
  if (seccomp_notify_receive (n->fd, req) == 0)
    {
      int r = -ENOENT;

      c.pid = (pid_t) req->pid;
      snprintf (p, sizeof p, "/proc/%d/mem", (int) c.pid);
      c.mem = open (p, O_RDONLY | O_CLOEXEC);
      snprintf (p, sizeof p, "/proc/%d/root", (int) c.pid);
      c.root = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
      /* The handles belong to the caller only if its request is still pending (pid reuse). */
      if (c.mem >= 0 && c.root >= 0 && fstat (c.root, &c.root_st) == 0
          && seccomp_notify_id_valid (n->fd, req->id) == 0)
        r = handle (&c, &req->data);
      resp->id = req->id;
      resp->flags = 0;
      resp->val = r < 0 ? -1 : 0;
      resp->error = r < 0 ? r : 0;
      (void) seccomp_notify_respond (n->fd, resp);
    }
  if (c.mem >= 0)
    close (c.mem);
  if (c.root >= 0)
    close (c.root);
  seccomp_notify_free (req, resp);
}

size_t
rt_sbx_notify_pollfds (const struct rt_sbx_notifier *n, struct pollfd *pfd)
{
  pfd[0] = (struct pollfd){ n->sock, POLLIN, 0 };
  pfd[1] = (struct pollfd){ n->fd, POLLIN, 0 };
  return 2;
}

void
rt_sbx_notify_ready (struct rt_sbx_notifier *n, const struct pollfd *pfd)
{
  if (pfd[0].revents && n->sock >= 0)
    take_fd (n);
  if (pfd[1].revents & POLLIN)
    serve (n);
  else if (pfd[1].revents && n->fd >= 0)
    {
      /* Every target is gone (POLLHUP): the next command of this step has none. */
      close (n->fd);
      n->fd = -1;
    }
}
