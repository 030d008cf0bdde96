/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One id: the user and group ids of each process of a RUN step, which bale answers for. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/*
 * A one-id namespace maps root alone: no process of a step can really become another id.
 * bale keeps, for each process, the ids it would have (real, effective, saved, fs, and its
 * groups), and answers the getuid and setuid families, getgroups and setgroups from them by
 * the kernel's rules (credentials(7)), with "privileged" meaning an effective uid 0 (the
 * capabilities CAP_SETUID and CAP_SETGID follow it in a root build). So apt, as root, drops
 * to _apt with setgroups, setresgid and setresuid, and then fails to get root back, as its
 * check wants; what the process creates is recorded as its fs ids (sandbox_asuser.c).
 *
 * bale sees no fork. A process has the ids of the nearest of itself and its ancestors that
 * has an entry (by thread-group id and start time: a reused pid is not the same process),
 * else the step's USER's. When a process changes its ids, its children of the moment get
 * an entry with the ids they were forked with first. Limit: a process whose parent exits
 * before it (an orphan, reparented to the step's init) and that had not been pinned falls
 * back to the step's USER's ids.
 */

/* ---- the kernel's rules ------------------------------------------------------------------- */

static bool
is_one_of (uint32_t id, const uint32_t ids[4])
{
  return id == ids[RT_SBX_REAL] || id == ids[RT_SBX_EFFECTIVE] || id == ids[RT_SBX_SAVED];
}

/* setuid/setgid: privileged sets all four, others the effective (and fs) id to the real or
   saved one. */
static int
set_one (uint32_t ids[4], uint32_t id, bool priv)
{
  if (priv)
    ids[RT_SBX_REAL] = ids[RT_SBX_SAVED] = id;
  else if (id != ids[RT_SBX_REAL] && id != ids[RT_SBX_SAVED])
    return -EPERM;
  ids[RT_SBX_EFFECTIVE] = ids[RT_SBX_FS] = id;
  return 0;
}

/* setreuid/setregid: -1 keeps; the saved id follows the new effective one when the real
   one is set, or the effective one becomes other than the old real one. */
static int
set_re (uint32_t ids[4], uint32_t r, uint32_t e, bool priv)
{
  const uint32_t keep = (uint32_t) -1;
  uint32_t old_r = ids[RT_SBX_REAL];

  if (!priv
      && ((r != keep && r != ids[RT_SBX_REAL] && r != ids[RT_SBX_EFFECTIVE])
          || (e != keep && !is_one_of (e, ids))))
    return -EPERM;
  if (r != keep)
    ids[RT_SBX_REAL] = r;
  if (e != keep)
    ids[RT_SBX_EFFECTIVE] = e;
  if (r != keep || (e != keep && e != old_r))
    ids[RT_SBX_SAVED] = ids[RT_SBX_EFFECTIVE];
  ids[RT_SBX_FS] = ids[RT_SBX_EFFECTIVE];
  return 0;
}

/* setresuid/setresgid: privileged any, others each one of their three. */
static int
set_res (uint32_t ids[4], const uint32_t want[3], bool priv)
{
  const uint32_t keep = (uint32_t) -1;

  for (int i = 0; i < 3; i++)
    if (!priv && want[i] != keep && !is_one_of (want[i], ids))
      return -EPERM;
  for (int i = 0; i < 3; i++)
    if (want[i] != keep)
      ids[i] = want[i];
  ids[RT_SBX_FS] = ids[RT_SBX_EFFECTIVE];
  return 0;
}

/* setfsuid/setfsgid: never fail, answer the old fs id, change it when allowed. */
static int64_t
set_fs (uint32_t ids[4], uint32_t id, bool priv)
{
  uint32_t old = ids[RT_SBX_FS];

  if (id != (uint32_t) -1 && (priv || is_one_of (id, ids) || id == old))
    ids[RT_SBX_FS] = id;
  return old;
}

static bool
any_root (const uint32_t ids[4])
{
  return ids[RT_SBX_REAL] == 0 || ids[RT_SBX_EFFECTIVE] == 0 || ids[RT_SBX_SAVED] == 0;
}

/* What a change of uids does to root's capabilities (capabilities(7), "Effect of user ID
   changes on capabilities"): an effective uid leaving 0 clears the effective set, all
   three leaving 0 the permitted one too (unless PR_SET_KEEPCAPS), an effective uid back to
   0 restores the effective set from the permitted one. */
static void
fix_caps (struct rt_sbx_cred *cred, const uint32_t old[4])
{
  const uint32_t *now = cred->uid;

  if (any_root (old) && !any_root (now) && !(cred->caps & RT_SBX_CAP_KEEP))
    cred->caps &= ~(RT_SBX_CAP_PERMITTED | RT_SBX_CAP_EFFECTIVE);
  if (old[RT_SBX_EFFECTIVE] == 0 && now[RT_SBX_EFFECTIVE] != 0)
    cred->caps &= ~RT_SBX_CAP_EFFECTIVE;
  else if (old[RT_SBX_EFFECTIVE] != 0 && now[RT_SBX_EFFECTIVE] == 0
           && (cred->caps & RT_SBX_CAP_PERMITTED))
    cred->caps |= RT_SBX_CAP_EFFECTIVE;
}

/* Privileged is holding root's capabilities (CAP_SETUID, CAP_SETGID) in the effective set. */
int
rt_sbx_ids_apply (int nr, const uint64_t *args, struct rt_sbx_cred *cred, int64_t *val)
{
  const bool priv = cred->caps & RT_SBX_CAP_EFFECTIVE;
  uint32_t a[3] = { (uint32_t) args[0], (uint32_t) args[1], (uint32_t) args[2] };
  uint32_t old[4];
  int r;

  memcpy (old, cred->uid, sizeof old);
  *val = 0;
  if (nr == SCMP_SYS (setuid))
    r = set_one (cred->uid, a[0], priv);
  else if (nr == SCMP_SYS (setgid))
    return set_one (cred->gid, a[0], priv);
  else if (nr == SCMP_SYS (setreuid))
    r = set_re (cred->uid, a[0], a[1], priv);
  else if (nr == SCMP_SYS (setregid))
    return set_re (cred->gid, a[0], a[1], priv);
  else if (nr == SCMP_SYS (setresuid))
    r = set_res (cred->uid, a, priv);
  else if (nr == SCMP_SYS (setresgid))
    return set_res (cred->gid, a, priv);
  else if (nr == SCMP_SYS (setfsuid))
    {
      *val = set_fs (cred->uid, a[0], priv);
      return 0;
    }
  else if (nr == SCMP_SYS (setfsgid))
    {
      *val = set_fs (cred->gid, a[0], priv);
      return 0;
    }
  else
    return -ENOSYS;
  if (r == 0)
    fix_caps (cred, old);
  return r;
}

/* ---- which process has which ids ---------------------------------------------------------- */

/* The parent and start time of pid (/proc/PID/stat: fields 4 and 22). 0 or -1. */
static int
proc_stat (pid_t pid, pid_t *ppid, unsigned long long *start)
{
  char path[64], buf[1024], *p;
  cleanup_close int fd = -1;
  ssize_t n;
  int parent;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if ((fd = open (path, O_RDONLY | O_CLOEXEC)) < 0 || (n = read (fd, buf, sizeof buf - 1)) <= 0)
    return -1;
  buf[n] = '\0';
  /* The command name may hold anything, ')' included: the last one ends it. */
  if ((p = strrchr (buf, ')')) == NULL
      || sscanf (p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                        "%*d %*d %llu", &parent, start) != 2)
    return -1;
  *ppid = parent;
  return 0;
}

/* The thread-group id of tid (/proc/TID/status), or tid itself. */
static pid_t
tgid_of (pid_t tid)
{
  char path[64], line[256];
  cleanup_file FILE *f = NULL;
  int tgid;

  snprintf (path, sizeof path, "/proc/%d/status", (int) tid);
  f = fopen (path, "re");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "Tgid: %d", &tgid) == 1)
      return tgid;
  return tid;
}

static struct rt_sbx_proc *
find (struct rt_sbx_notifier *n, pid_t pid, unsigned long long start)
{
  for (size_t i = 0; i < n->n_procs; i++)
    if (n->procs[i].pid == pid && n->procs[i].start == start)
      return &n->procs[i];
  return NULL;
}

struct rt_sbx_cred *
rt_sbx_ids_of (struct rt_sbx_notifier *n, pid_t tid)
{
  pid_t pid, ppid;
  unsigned long long start;
  struct rt_sbx_proc *p;

  if (n->n_procs == 0)
    return &n->dflt; /* nobody changed: the common case costs nothing */
  pid = tgid_of (tid);
  /* Up the parents: the step is a few levels deep; 64 ends a loop bale cannot see. */
  for (int hop = 0; hop < 64 && pid > 0 && proc_stat (pid, &ppid, &start) == 0; hop++)
    {
      if ((p = find (n, pid, start)) != NULL)
        return &p->cred;
      pid = ppid;
    }
  return &n->dflt;
}

/* A place for pid's entry: entries of processes gone make room first. */
static struct rt_sbx_proc *
add (struct rt_sbx_notifier *n, pid_t pid, unsigned long long start)
{
  if (n->n_procs == n->cap_procs)
    {
      size_t kept = 0;
      for (size_t i = 0; i < n->n_procs; i++)
        {
          pid_t pp;
          unsigned long long s;
          if (proc_stat (n->procs[i].pid, &pp, &s) == 0 && s == n->procs[i].start)
            n->procs[kept++] = n->procs[i];
        }
      n->n_procs = kept;
    }
  if (n->n_procs == n->cap_procs)
    {
      n->cap_procs = n->cap_procs ? 2 * n->cap_procs : 16;
      n->procs = xrealloc (n->procs, n->cap_procs * sizeof *n->procs);
    }
  n->procs[n->n_procs] = (struct rt_sbx_proc){ .pid = pid, .start = start };
  return &n->procs[n->n_procs++];
}

/* The children pid has now keep the ids they were forked with (old): /proc has no list of
   children on every kernel (CONFIG_PROC_CHILDREN), so every process's parent is read. */
static void
pin_children (struct rt_sbx_notifier *n, pid_t pid, const struct rt_sbx_cred *old)
{
  cleanup_dir DIR *d = opendir ("/proc");
  struct dirent *e;

  while (d && (e = readdir (d)) != NULL)
    {
      char *end;
      long q = strtol (e->d_name, &end, 10);
      pid_t ppid;
      unsigned long long start;

      if (*end != '\0' || q <= 0 || proc_stat ((pid_t) q, &ppid, &start) < 0 || ppid != pid
          || find (n, (pid_t) q, start) != NULL)
        continue;
      add (n, (pid_t) q, start)->cred = *old;
    }
}

/* The caller's ids become now (a copy of *c->cred, changed). */
static int
change (const struct rt_sbx_call *c, const struct rt_sbx_cred *now)
{
  struct rt_sbx_notifier *n = c->n;
  struct rt_sbx_cred old = *c->cred;
  pid_t pid = tgid_of (c->pid), ppid;
  unsigned long long start;
  struct rt_sbx_proc *p;

  if (memcmp (&old, now, sizeof old) == 0)
    return 0;
  if (proc_stat (pid, &ppid, &start) < 0)
    return -ESRCH;
  pin_children (n, pid, &old);
  p = find (n, pid, start);
  (p ? p : add (n, pid, start))->cred = *now;
  return 0;
}

void
rt_sbx_ids_reset (struct rt_sbx_notifier *n)
{
  free (n->procs);
  n->procs = NULL;
  n->n_procs = n->cap_procs = 0;
}

/* ---- the calls ---------------------------------------------------------------------------- */

/* getresuid and getresgid: the three ids into the step's three places. */
static int
put_ids (const struct rt_sbx_call *c, const struct seccomp_data *d, const uint32_t ids[4])
{
  for (int i = 0; i < 3; i++)
    if (pwrite (c->mem, &ids[i], sizeof ids[i], (off_t) d->args[i]) != (ssize_t) sizeof ids[i])
      return -EFAULT;
  return 0;
}

static int
get_groups (const struct rt_sbx_call *c, const struct seccomp_data *d, struct rt_sbx_reply *out)
{
  const struct rt_sbx_cred *cr = c->cred;
  size_t len = cr->n_groups * sizeof (uint32_t);

  out->val = cr->n_groups;
  if ((int) d->args[0] == 0)
    return 0;
  if ((int) d->args[0] < 0 || (uint64_t) (int) d->args[0] < cr->n_groups)
    return -EINVAL;
  if (len && pwrite (c->mem, cr->groups, len, (off_t) d->args[1]) != (ssize_t) len)
    return -EFAULT;
  return 0;
}

/* setgroups: CAP_SETGID; at most RT_SBX_MAX_GROUPS groups. */
static int
set_groups (const struct rt_sbx_call *c, const struct seccomp_data *d)
{
  struct rt_sbx_cred now = *c->cred;
  int count = (int) d->args[0];
  size_t len;

  if (!(c->cred->caps & RT_SBX_CAP_EFFECTIVE))
    return -EPERM;
  if (count < 0)
    return -EINVAL;
  /* The kernel takes up to NGROUPS_MAX (65536): a root build would go on, the image would
     differ. Not emulated: the step fails, saying why. */
  if (count > RT_SBX_MAX_GROUPS)
    {
      if (!c->n->fatal)
        c->n->fatal = xasprintf ("a process called setgroups with %d groups; one-id mode "
                                 "(no subordinate ids) emulates at most %d (add a range for "
                                 "the user to /etc/subuid and /etc/subgid, or build as root)",
                                 count, RT_SBX_MAX_GROUPS);
      return -EINVAL;
    }
  len = (size_t) count * sizeof (uint32_t);
  if (len && pread (c->mem, now.groups, len, (off_t) d->args[1]) != (ssize_t) len)
    return -EFAULT;
  memset (now.groups + count, 0, sizeof now.groups - len);
  now.n_groups = (uint32_t) count;
  return change (c, &now);
}

/* capset (the kernel runs it too): root's capabilities back in the effective set when it
   asks for CAP_SETUID and still has them permitted (setpriv raises them again after its
   setresuid, under PR_SET_KEEPCAPS), out of it when it does not. */
static void
set_caps (const struct rt_sbx_call *c, const struct seccomp_data *d)
{
  struct __user_cap_data_struct data;
  struct rt_sbx_cred now = *c->cred;

  if (d->args[1] == 0
      || pread (c->mem, &data, sizeof data, (off_t) d->args[1]) != (ssize_t) sizeof data)
    return;
  if (!(data.effective & (1u << CAP_SETUID)))
    now.caps &= ~RT_SBX_CAP_EFFECTIVE;
  else if (now.caps & RT_SBX_CAP_PERMITTED)
    now.caps |= RT_SBX_CAP_EFFECTIVE;
  (void) change (c, &now);
}

/* Whether the process runs under no_new_privs (setuid bits give nothing then). */
static bool
no_new_privs (pid_t pid)
{
  char path[64], line[256];
  cleanup_file FILE *f = NULL;
  int v = 0;

  snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  f = fopen (path, "re");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "NoNewPrivs: %d", &v) == 1)
      break;
  return v != 0;
}

/* The file execve or execveat runs, resolved in the step's root as the kernel will (a
   symbolic link followed unless AT_SYMLINK_NOFOLLOW), with its recorded owner and mode: 0,
   or -1 when bale cannot tell (then nothing is granted) or it is a script (the kernel
   ignores a script's setuid bit). */
static int
exec_file (const struct rt_sbx_call *c, const struct seccomp_data *d, struct stat *st)
{
  char path[PATH_MAX], self[64], magic[2];
  bool at = (int) d->nr == SCMP_SYS (execveat);
  int dirfd = at ? (int) d->args[0] : AT_FDCWD, flags = at ? (int) d->args[4] : 0;
  cleanup_close int h = -1, fd = -1;
  int r;

  if (rt_sbx_call_string (c, at ? d->args[1] : d->args[0], path) < 0)
    return -1;
  if (path[0] == '\0' && (flags & AT_EMPTY_PATH))
    r = rt_sbx_call_target_fd (c, dirfd, &h);
  else
    r = rt_sbx_call_resolve (c, dirfd, path, flags & AT_SYMLINK_NOFOLLOW, &h);
  if (r < 0 || rt_sbx_owner (c, h, st) < 0 || !S_ISREG (st->st_mode))
    return -1;
  snprintf (self, sizeof self, "/proc/self/fd/%d", h);
  fd = open (self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  return fd >= 0 && pread (fd, magic, 2, 0) == 2 && memcmp (magic, "#!", 2) != 0 ? 0 : -1;
}

/* What execve gives (credentials(7), capabilities(7)): a setuid file its recorded owner as
   effective uid, a setgid group-executable file its group as effective gid (not under
   no_new_privs); the saved and fs ids become the effective ones; root's capabilities are
   permitted to a real or effective root and effective to an effective root (no file
   capabilities are emulated); PR_SET_KEEPCAPS is cleared. Told before the kernel runs it:
   an execve that fails has made the same change. The kernel's process stays what it was
   (a USER step has no capability): bale's answers and checks follow these ids. */
static void
exec_ids (const struct rt_sbx_call *c, const struct seccomp_data *d, struct rt_sbx_cred *now)
{
  struct stat st;

  if (exec_file (c, d, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) && !no_new_privs (c->pid))
    {
      if (st.st_mode & S_ISUID)
        now->uid[RT_SBX_EFFECTIVE] = st.st_uid;
      if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
        now->gid[RT_SBX_EFFECTIVE] = st.st_gid;
    }
  now->uid[RT_SBX_SAVED] = now->uid[RT_SBX_FS] = now->uid[RT_SBX_EFFECTIVE];
  now->gid[RT_SBX_SAVED] = now->gid[RT_SBX_FS] = now->gid[RT_SBX_EFFECTIVE];
  now->caps = (now->uid[RT_SBX_EFFECTIVE] == 0 || now->uid[RT_SBX_REAL] == 0 ? RT_SBX_CAP_PERMITTED : 0)
              | (now->uid[RT_SBX_EFFECTIVE] == 0 ? RT_SBX_CAP_EFFECTIVE : 0);
}

bool
rt_sbx_ids_handle (const struct rt_sbx_call *c, const struct seccomp_data *d,
                   struct rt_sbx_reply *out)
{
  const struct rt_sbx_cred *cr = c->cred;
  int nr = (int) d->nr;
  struct rt_sbx_cred now;

  if (nr == SCMP_SYS (getuid))
    out->val = cr->uid[RT_SBX_REAL];
  else if (nr == SCMP_SYS (geteuid))
    out->val = cr->uid[RT_SBX_EFFECTIVE];
  else if (nr == SCMP_SYS (getgid))
    out->val = cr->gid[RT_SBX_REAL];
  else if (nr == SCMP_SYS (getegid))
    out->val = cr->gid[RT_SBX_EFFECTIVE];
  else if (nr == SCMP_SYS (getresuid))
    out->error = put_ids (c, d, cr->uid);
  else if (nr == SCMP_SYS (getresgid))
    out->error = put_ids (c, d, cr->gid);
  else if (nr == SCMP_SYS (getgroups))
    out->error = get_groups (c, d, out);
  else if (nr == SCMP_SYS (setgroups))
    out->error = set_groups (c, d);
  else if (nr == SCMP_SYS (capset) || nr == SCMP_SYS (prctl) || nr == SCMP_SYS (execve)
           || nr == SCMP_SYS (execveat))
    {
      /* Watched, and left to the kernel. */
      now = *cr;
      if (nr == SCMP_SYS (capset))
        set_caps (c, d);
      else if (nr == SCMP_SYS (execve) || nr == SCMP_SYS (execveat))
        {
          exec_ids (c, d, &now);
          (void) change (c, &now);
        }
      else if (d->args[0] == PR_SET_KEEPCAPS)
        {
          now.caps = d->args[1] ? now.caps | RT_SBX_CAP_KEEP : now.caps & ~RT_SBX_CAP_KEEP;
          (void) change (c, &now);
        }
      out->cont = true;
    }
  else
    {
      uint64_t args[3] = { d->args[0], d->args[1], d->args[2] };
      now = *cr;
      int64_t val = 0;
      int r = rt_sbx_ids_apply (nr, args, &now, &val);
      if (r == -ENOSYS)
        return false; /* not an id call: out is the next handler's */
      out->val = val;
      out->error = r == 0 ? change (c, &now) : r;
    }
  return true;
}
