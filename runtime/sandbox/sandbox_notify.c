/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rootless RUN steps: chown and mknod of devices answered by bale, which records the wish. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
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
 * CONTINUE: what bale read could have changed since; subordinate ids' chown below is the
 * exception, where the kernel checks the call itself), and bale acts only on what it resolved
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

bool
rt_sbx_as_user (uid_t uid, gid_t gid)
{
  return rootless_mode () == ROOTLESS_ONE_ID && (uid != 0 || gid != 0);
}

/* The syscall number of name on this architecture, or -1 (arm64 has no chown nor mknod). */
static int
nr_of (const char *name)
{
  int nr = seccomp_syscall_resolve_name (name);
  return nr == __NR_SCMP_ERROR ? -1 : nr;
}

static int
build_filter (scmp_filter_ctx ctx)
{
  static const char *const chowns[] = { "chown", "fchown", "lchown", "fchownat" };
  int r = 0, nr;

  /* Keep no_new_privs off (BuildKit does), which needs CAP_SYS_ADMIN, still ours here; a
     binary of another architecture is let through rather than killed (it is not intercepted:
     docs/rootless.md). */
  r |= seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  r |= seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  /* Subordinate ids too: an owner outside the ranges, or a file with a record (below). */
  for (size_t i = 0; i < sizeof chowns / sizeof *chowns; i++)
    if ((nr = nr_of (chowns[i])) >= 0)
      r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, nr, 0);
  if ((nr = nr_of ("mknod")) >= 0)
    {
      r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, nr, 1,
                             SCMP_A1_32 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR));
      r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, nr, 1,
                             SCMP_A1_32 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK));
    }
  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (mknodat), 1,
                         SCMP_A2_32 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR));
  r |= seccomp_rule_add (ctx, SCMP_ACT_NOTIFY, SCMP_SYS (mknodat), 1,
                         SCMP_A2_32 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK));
  /* One id: every step, root's too, since a root process may become another user (apt's
     drop to _apt) and then creates as that user. */
  if (rootless_mode () == ROOTLESS_ONE_ID)
    r |= rt_sbx_asuser_rules (ctx);
  return r;
}

/* What the command sends with its listener: the user the step runs as. */
struct hello
{
  uint32_t uid, gid, n_groups;
  uint32_t groups[RT_SBX_MAX_GROUPS];
};

/* The hello and room for one descriptor (SCM_RIGHTS). */
struct fd_msg
{
  struct hello hello;
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
  m->iov = (struct iovec){ &m->hello, sizeof m->hello };
  m->msg = (struct msghdr){ .msg_iov = &m->iov, .msg_iovlen = 1, .msg_control = m->u.buf,
                            .msg_controllen = sizeof m->u.buf };
}

static int
send_fd (int sock, int fd, uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups)
{
  struct fd_msg m;
  struct cmsghdr *c;

  fd_msg_init (&m);
  m.hello.uid = uid;
  m.hello.gid = gid;
  for (size_t i = 0; i < n_groups && i < RT_SBX_MAX_GROUPS; i++)
    m.hello.groups[m.hello.n_groups++] = groups[i];
  c = CMSG_FIRSTHDR (&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof fd);
  return sendmsg (sock, &m.msg, MSG_NOSIGNAL) == (ssize_t) sizeof m.hello ? 0 : -1;
}

void
rt_sbx_notify_install (int sync, int sock, uid_t uid, gid_t gid, const gid_t *groups,
                       size_t n_groups)
{
  scmp_filter_ctx ctx;
  int fd;
  /* Asked before the filter, which sends geteuid (rootless_mode's) to a bale that has no
     listener yet. */
  const bool one_id = rootless_mode () == ROOTLESS_ONE_ID;

  if (sock < 0)
    return;
  if (one_id && n_groups > RT_SBX_MAX_GROUPS)
    rt_sbx_die (sync, 0,
                "the user is in %zu supplementary groups; one-id mode (no subordinate ids) "
                "emulates at most %d (add a range for the user to /etc/subuid and "
                "/etc/subgid, or build as root)",
                n_groups, RT_SBX_MAX_GROUPS);
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL || build_filter (ctx) != 0)
    rt_sbx_die (sync, EINVAL, "cannot build the ownership filter");
  if (seccomp_load (ctx) < 0 || (fd = seccomp_notify_fd (ctx)) < 0)
    rt_sbx_die (sync, errno, "cannot load the ownership filter (seccomp user notification "
                             "needs Linux 5.0)");
  /* The calls this process still makes before its execve (the working directory's mkdir
     and chown, setgroups, setuid) go to bale, which must open its /proc/PID/mem and root:
     the sandbox's PR_SET_DUMPABLE 0 would refuse them. Its capabilities are those of the
     user's own one-id namespace, where the user's processes have them all anyway; and no
     process of the step exists yet to trace it. */
  if (one_id)
    prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
  if (send_fd (sock, fd, uid, gid, groups, n_groups) < 0)
    rt_sbx_die (sync, errno, "cannot pass the ownership filter to bale");
  close (fd);
  close (sock);
  seccomp_release (ctx);
}

/* ---- parent side -------------------------------------------------------------------------- */

int
rt_sbx_notify_open (struct rt_sbx_notifier *n, const struct sandbox_spec *spec, int *child_end,
                    bale_error_t *err)
{
  int sv[2];

  n->sock = n->fd = n->upper = -1;
  n->emulate = false;
  n->procs = NULL;
  n->n_procs = n->cap_procs = 0;
  *child_end = -1;
  if (!rt_sbx_notify_wanted ())
    return 0;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return bale_make_error (err, errno, "cannot create the sandbox's notification socket");
  n->sock = sv[0];
  *child_end = sv[1];
  /* Symlinks and FIFOs are recorded on their inode in the upper directory, which the layer
     writer reads (the overlay shows other inode numbers); absent in copy and chroot modes,
     where the step's root is the real one. */
  if (spec->upperdir && !spec->chroot)
    n->upper = open (spec->upperdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return 0;
}

void
rt_sbx_notify_release (struct rt_sbx_notifier *n)
{
  if (n->sock >= 0)
    close (n->sock);
  if (n->fd >= 0)
    close (n->fd);
  if (n->upper >= 0)
    close (n->upper);
  n->sock = n->fd = n->upper = -1;
  free (n->fatal);
  n->fatal = NULL;
  rt_sbx_ids_reset (n);
}

/* The listener fd the command sent, once, with its user; the socket is done after it. */
static void
take_fd (struct rt_sbx_notifier *n)
{
  struct fd_msg m;
  struct cmsghdr *c;

  fd_msg_init (&m);
  if (recvmsg (n->sock, &m.msg, MSG_CMSG_CLOEXEC) == (ssize_t) sizeof m.hello
      && (c = CMSG_FIRSTHDR (&m.msg)) && c->cmsg_type == SCM_RIGHTS
      && c->cmsg_len == CMSG_LEN (sizeof (int)) && n->fd < 0)
    {
      memcpy (&n->fd, CMSG_DATA (c), sizeof n->fd);
      n->uid = (uid_t) m.hello.uid;
      n->gid = (gid_t) m.hello.gid;
      n->emulate = rootless_mode () == ROOTLESS_ONE_ID;
      for (int i = 0; i < 4; i++)
        {
          n->dflt.uid[i] = m.hello.uid;
          n->dflt.gid[i] = m.hello.gid;
        }
      n->dflt.caps = m.hello.uid == 0 ? RT_SBX_CAP_EFFECTIVE | RT_SBX_CAP_PERMITTED : 0;
      n->dflt.n_groups = m.hello.n_groups < RT_SBX_MAX_GROUPS ? m.hello.n_groups : RT_SBX_MAX_GROUPS;
      memcpy (n->dflt.groups, m.hello.groups, sizeof n->dflt.groups);
      rt_sbx_ids_reset (n); /* a new command: nobody has changed ids yet */
    }
  close (n->sock);
  n->sock = -1;
}

/* mknod of a device: an empty file stands in, with the device recorded (as unpacking does),
   owned by the step's user. */
static int
make_device (const struct rt_sbx_call *c, int dirfd, const char *path, mode_t mode, dev_t dev)
{
  char name[NAME_MAX + 1];
  cleanup_close int parent = -1, fd = -1;
  struct stat st;
  int r;

  if (c->cred && !(c->cred->caps & RT_SBX_CAP_EFFECTIVE))
    return -EPERM; /* CAP_MKNOD: only root */
  if ((r = rt_sbx_call_parent (c, dirfd, path, &parent, name)) < 0)
    return r;
  fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  st.st_uid = 0;
  st.st_gid = 0;
  st.st_mode = (mode & S_IFMT) | (mode & 07777 & ~rt_sbx_call_umask (c));
  st.st_rdev = dev;
  if (fchmod (fd, st.st_mode & 07777) < 0 || owners_record (fd, &st) < 0)
    return -errno;
  return 0;
}

static bool
is_chown (int nr)
{
  return nr == nr_of ("fchown") || nr == nr_of ("chown") || nr == nr_of ("lchown")
         || nr == nr_of ("fchownat");
}

/* The file a chown-family call d names, an O_PATH handle on the step's own mount, and the
   ids it asks for. 0 or -errno. */
static int
chown_target (const struct rt_sbx_call *c, const struct seccomp_data *d, int *h, uid_t *uid,
              gid_t *gid)
{
  char path[PATH_MAX];
  int nr = (int) d->nr, r;

  *uid = (uid_t) d->args[1];
  *gid = (gid_t) d->args[2];
  if (nr == nr_of ("fchown"))
    return rt_sbx_call_target_fd (c, (int) d->args[0], h);
  if (nr == nr_of ("chown") || nr == nr_of ("lchown"))
    return rt_sbx_call_string (c, d->args[0], path) < 0
               ? -EFAULT
               : rt_sbx_call_resolve (c, AT_FDCWD, path, nr == nr_of ("lchown"), h);
  *uid = (uid_t) d->args[2];
  *gid = (gid_t) d->args[3];
  if ((r = rt_sbx_call_string (c, d->args[1], path)) < 0)
    return r;
  if (path[0] == '\0' && ((int) d->args[4] & AT_EMPTY_PATH))
    return (int) d->args[0] == AT_FDCWD ? rt_sbx_call_resolve (c, AT_FDCWD, ".", false, h)
                                         : rt_sbx_call_target_fd (c, (int) d->args[0], h);
  return rt_sbx_call_resolve (c, (int) d->args[0], path, (int) d->args[4] & AT_SYMLINK_NOFOLLOW, h);
}

static int
handle_chown (const struct rt_sbx_call *c, const struct seccomp_data *d)
{
  cleanup_close int h = -1;
  uid_t uid;
  gid_t gid;
  int r;

  if ((r = chown_target (c, d, &h, &uid, &gid)) < 0)
    return r;
  if (c->cred && (r = rt_sbx_asuser_may_chown (c, h, uid, gid)) < 0)
    return r;
  return rt_sbx_record (c, h, uid, gid);
}

/* Whether the caller's effective capabilities hold CAP_CHOWN (/proc/PID/status). */
static bool
caller_may_chown (const struct rt_sbx_call *c)
{
  char path[64], line[256];
  cleanup_file FILE *f = NULL;
  unsigned long long eff;

  snprintf (path, sizeof path, "/proc/%d/status", (int) c->pid);
  f = fopen (path, "re");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "CapEff: %llx", &eff) == 1)
      return (eff & (1ULL << CAP_CHOWN)) != 0;
  return false;
}

/* The owner is real again: the record on the file or directory handle goes. */
static int
forget_record (int handle, const struct stat *st)
{
  char self[64];
  cleanup_close int fd = -1;

  snprintf (self, sizeof self, "/proc/self/fd/%d", handle);
  fd = open (self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (S_ISDIR (st->st_mode) ? O_DIRECTORY : 0));
  if (fd < 0 || (fremovexattr (fd, OWNERS_XATTR) < 0 && errno != ENODATA))
    return -errno;
  return 0;
}

/*
 * Subordinate ids (and root of another's user namespace, a rootless container): the kernel
 * gives every owner the ranges map, and bale steps in only where
 * it cannot (an id outside them: chown fails with EINVAL) or where a record stands for the
 * file (an owner outside the ranges from a base layer or an earlier chown, which the layer
 * writer would otherwise write over the new owner). The kernel runs everything else, and
 * whatever bale cannot resolve on the step's own mount, or a caller without CAP_CHOWN asks
 * (CONTINUE: it checks the call again itself, so a path swapped in between fools only the
 * record of the step's own file).
 */
static void
chown_subids (const struct rt_sbx_call *c, const struct seccomp_data *d, struct rt_sbx_reply *out)
{
  cleanup_close int h = -1;
  struct stat real, shown;
  uid_t uid, u;
  gid_t gid, g;
  bool recorded, mapped;

  out->cont = true;
  if (chown_target (c, d, &h, &uid, &gid) < 0 || fstat (h, &real) < 0 || rt_sbx_owner (c, h, &shown) < 0)
    return;
  recorded = shown.st_uid != real.st_uid || shown.st_gid != real.st_gid
             || (shown.st_mode & S_IFMT) != (real.st_mode & S_IFMT);
  u = uid == (uid_t) -1 ? shown.st_uid : uid;
  g = gid == (gid_t) -1 ? shown.st_gid : gid;
  mapped = rootless_id_mapped (false, u) && rootless_id_mapped (true, g);
  if ((!recorded && mapped) || !caller_may_chown (c))
    return;
  out->cont = false;
  /* A file or directory given an owner the ranges map gets it for real (a later USER step's
     permissions are the kernel's) and loses its record; a device stand-in, a symlink or a
     FIFO keeps a record. */
  if (mapped && (S_ISREG (shown.st_mode) || S_ISDIR (shown.st_mode)))
    out->error = fchownat (h, "", u, g, AT_EMPTY_PATH) < 0 ? -errno : forget_record (h, &real);
  else
    out->error = rt_sbx_record (c, h, uid, gid);
}

static void
handle (const struct rt_sbx_call *c, const struct seccomp_data *d, struct rt_sbx_reply *out)
{
  char path[PATH_MAX];
  int nr = (int) d->nr;

  if (is_chown (nr) && rootless_mode () != ROOTLESS_ONE_ID)
    chown_subids (c, d, out);
  else if (is_chown (nr))
    out->error = handle_chown (c, d);
  else if (nr == nr_of ("mknod") && (S_ISCHR (d->args[1]) || S_ISBLK (d->args[1])))
    out->error = rt_sbx_call_string (c, d->args[0], path) < 0
                     ? -EFAULT
                     : make_device (c, AT_FDCWD, path, (mode_t) d->args[1], (dev_t) d->args[2]);
  else if (nr == SCMP_SYS (mknodat) && (S_ISCHR (d->args[2]) || S_ISBLK (d->args[2])))
    out->error = rt_sbx_call_string (c, d->args[1], path) < 0
                     ? -EFAULT
                     : make_device (c, (int) d->args[0], path, (mode_t) d->args[2],
                                    (dev_t) d->args[3]);
  else if (!(c->cred && rt_sbx_asuser_handle (c, d, out)))
    out->error = -ENOSYS;
}

/* The answers that need nothing of the caller (no path, no memory, no pid check) while no
   process of the step has changed its ids: every process has the step's own, so what root
   creates, links, renames and binds is the kernel's, and getuid answers USER's. Most calls
   of one-id steps are these; they skip the /proc handles of serve. execve is not: a setuid
   or setgid file changes the ids (sandbox_ids.c). */
static bool
quick (const struct rt_sbx_notifier *n, const struct seccomp_data *d, struct rt_sbx_reply *out)
{
  const struct rt_sbx_cred *cr = &n->dflt;
  int nr = (int) d->nr;
  bool root = cr->uid[RT_SBX_FS] == 0 && cr->gid[RT_SBX_FS] == 0;

  if (!n->emulate || n->n_procs != 0)
    return false;
  if (nr == SCMP_SYS (getuid) || nr == SCMP_SYS (geteuid))
    out->val = cr->uid[RT_SBX_REAL];
  else if (nr == SCMP_SYS (getgid) || nr == SCMP_SYS (getegid))
    out->val = cr->gid[RT_SBX_REAL];
  else if (root
           && (nr == nr_of ("open") || nr == SCMP_SYS (openat) || nr == SCMP_SYS (openat2)
                   || nr == nr_of ("creat") || nr == nr_of ("mkdir") || nr == SCMP_SYS (mkdirat)
                   || nr == nr_of ("symlink") || nr == SCMP_SYS (symlinkat)
                   || nr == nr_of ("link") || nr == SCMP_SYS (linkat) || nr == nr_of ("rename")
                   || nr == SCMP_SYS (renameat) || nr == SCMP_SYS (renameat2)
                   || nr == SCMP_SYS (bind)))
    out->cont = true;
  else
    return false;
  return true;
}

static void
respond (struct rt_sbx_notifier *n, struct seccomp_notif_resp *resp, uint64_t id,
         const struct rt_sbx_reply *out)
{
  resp->id = id;
  resp->flags = out->cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
  resp->val = out->cont ? 0 : out->error < 0 ? -1 : out->val;
  resp->error = out->cont ? 0 : out->error < 0 ? out->error : 0;
  (void) seccomp_notify_respond (n->fd, resp);
}

static void
serve (struct rt_sbx_notifier *n)
{
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  struct rt_sbx_call c = { .n = n, .mem = -1, .root = -1 };
  struct rt_sbx_reply out = { 0 };
  char p[64];
  bool got;

  if (seccomp_notify_alloc (&req, &resp) < 0)
    return;
  got = seccomp_notify_receive (n->fd, req) == 0;
  if (got && quick (n, &req->data, &out))
    respond (n, resp, req->id, &out);
  else if (got)
    {
      c.pid = (pid_t) req->pid;
      c.id = req->id;
      out.error = -ENOENT;
      /* With subordinate ids the kernel can run a chown bale cannot look at (the step's
         command before its execve, not dumpable yet, in a container that restricts it). */
      out.cont = rootless_mode () != ROOTLESS_ONE_ID && is_chown ((int) req->data.nr);
      snprintf (p, sizeof p, "/proc/%d/mem", (int) c.pid);
      /* Written only to answer getresuid, getresgid and getgroups of emulated ids. */
      c.mem = open (p, (n->emulate ? O_RDWR : O_RDONLY) | O_CLOEXEC);
      snprintf (p, sizeof p, "/proc/%d/root", (int) c.pid);
      c.root = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);
      /* The handles belong to the caller only if its request is still pending (pid reuse). */
      if (c.mem >= 0 && c.root >= 0 && fstat (c.root, &c.root_st) == 0
          && (c.root_mnt = rt_sbx_mount_id (c.root)) != 0
          && seccomp_notify_id_valid (n->fd, req->id) == 0)
        {
          out.error = 0;
          out.cont = false;
          c.cred = n->emulate ? rt_sbx_ids_of (n, c.pid) : NULL;
          handle (&c, &req->data, &out);
        }
      if (!out.sent)
        respond (n, resp, req->id, &out);
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
