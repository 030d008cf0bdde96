/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Enter a user namespace as an ordinary user: subordinate ids through newuidmap, or one id. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/fs/rootless.h"
#include "common/banned.h"

#define ENV_NAME "_BALE_ROOTLESS"

/* The text of a small file; false when it cannot be read. */
static bool
read_small (const char *path, struct strbuf *sb)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  bale_error_t e = NULL;
  bool ok = fd >= 0 && fileio_read_fd (fd, path, sb, &e) == 0;

  bale_error_release (&e);
  return ok;
}

size_t
rootless_parse_subids (const char *text, const char *user, uid_t uid, struct rootless_range *out,
                       size_t max)
{
  char uidstr[16];
  unsigned long next = 1;
  size_t n = 0;

  snprintf (uidstr, sizeof uidstr, "%lu", (unsigned long) uid);
  while (*text && n < max)
    {
      size_t len = strcspn (text, "\n");
      cleanup_free char *line = xstrndup (text, len);
      char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL, *end;
      unsigned long start, count;

      text += len + (text[len] == '\n');
      if (c2 == NULL || line[0] == '#')
        continue;
      *c1 = *c2 = '\0';
      if (!(user && strcmp (line, user) == 0) && strcmp (line, uidstr) != 0)
        continue;
      errno = 0;
      start = strtoul (c1 + 1, &end, 10);
      if (errno || *end || end == c1 + 1)
        continue;
      count = strtoul (c2 + 1, &end, 10);
      if (errno || *end || end == c2 + 1 || count == 0 || start + count < start
          || next + count > 0xffffffffUL)
        continue;
      out[n++] = (struct rootless_range){ next, start, count };
      next += count;
    }
  return n;
}

/* ---- mode --------------------------------------------------------------------------------- */

enum rootless_mode
rootless_mode (void)
{
  const char *v = getenv (ENV_NAME);

  /* The variable alone proves nothing: real root that inherited it is still real root. */
  if (v == NULL || geteuid () != 0 || !rootless_userns ())
    return ROOTLESS_NONE;
  return strncmp (v, "subids ", 7) == 0 ? ROOTLESS_SUBIDS : ROOTLESS_ONE_ID;
}

const char *
rootless_user (void)
{
  const char *v = getenv (ENV_NAME "_USER");

  return v && *v ? v : "USER";
}

const char *
rootless_describe (void)
{
  static char line[512];
  const char *v = getenv (ENV_NAME);

  if (rootless_mode () == ROOTLESS_NONE)
    return NULL;
  if (strncmp (v, "subids ", 7) == 0)
    snprintf (line, sizeof line, "rootless: subordinate ids %s", v + 7);
  else
    snprintf (line, sizeof line, "rootless: one id, ownership recorded%s", v + strlen ("one-id"));
  return line;
}

bool
rootless_userns (void)
{
  static int cached = -1;

  if (cached < 0)
    {
      struct strbuf sb = STRBUF_INIT;
      unsigned long in, out, count;

      /* The initial namespace maps every id to itself in one line. */
      cached = read_small ("/proc/self/uid_map", &sb)
               && !(sscanf (sb.buf, "%lu %lu %lu", &in, &out, &count) == 3 && in == 0
                    && out == 0 && count == 4294967295UL);
      strbuf_release (&sb);
    }
  return cached;
}

bool
rootless_map_covers (const char *map, uint32_t id)
{
  unsigned long in, out, count;
  int n;

  for (const char *p = map; sscanf (p, "%lu %lu %lu%n", &in, &out, &count, &n) == 3; p += n)
    if (id >= in && id - in < count)
      return true;
  return false;
}

/* A namespace's maps are written once, before anything runs in it, and never change: read
   once per process (a fork inherits the namespace, hence the same maps). Each RUN step's
   chown asks twice, and reading both files per chown cost more than the rest of its round
   trip to bale (docs/rootless.md). */
bool
rootless_id_mapped (bool group, uint32_t id)
{
  static struct strbuf maps[2] = { STRBUF_INIT, STRBUF_INIT };
  static pid_t read_by[2];
  struct strbuf *sb = &maps[group];

  if (read_by[group] != getpid () || sb->len == 0)
    {
      strbuf_reset (sb);
      if (!read_small (group ? "/proc/self/gid_map" : "/proc/self/uid_map", sb))
        return false;
      read_by[group] = getpid ();
    }
  return rootless_map_covers (sb->buf, id);
}

const char *
rootless_opaque_xattr (void)
{
  return rootless_userns () ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

/* ---- entering ----------------------------------------------------------------------------- */

struct idmaps
{
  struct rootless_range uids[ROOTLESS_MAX_RANGES], gids[ROOTLESS_MAX_RANGES];
  size_t n_uids, n_gids;
  char *user;
};

/* The user's ranges in path; 0 when the file or the entry is missing. */
static size_t
read_subids (const char *path, const char *user, uid_t id, struct rootless_range *out)
{
  struct strbuf sb = STRBUF_INIT;
  size_t n = 0;

  if (read_small (path, &sb))
    n = rootless_parse_subids (sb.buf, user, id, out, ROOTLESS_MAX_RANGES);
  strbuf_release (&sb);
  return n;
}

/* Whether execvp would find prog. */
static bool
in_path (const char *prog)
{
  const char *path = getenv ("PATH");

  if (path == NULL || *path == '\0')
    path = "/usr/bin:/bin";
  for (const char *dir = path; *dir;)
    {
      size_t len = strcspn (dir, ":");
      cleanup_free char *p = xasprintf ("%.*s/%s", (int) len, len ? dir : ".", prog);

      if (access (p, X_OK) == 0)
        return true;
      dir += len + (dir[len] == ':');
    }
  return false;
}


/* Run newuidmap or newgidmap on pid with the mapping 0 -> own id, 1.. -> ranges. */
static int
run_map_tool (const char *tool, pid_t pid, unsigned long own, const struct rootless_range *r,
              size_t n, int errfd)
{
  char *argv[4 + 3 * (ROOTLESS_MAX_RANGES + 1)];
  char buf[3 * (ROOTLESS_MAX_RANGES + 2)][24];
  size_t a = 0, b = 0;
  pid_t child;
  int status;

  argv[a++] = (char *) tool;
  snprintf (buf[b], sizeof buf[b], "%ld", (long) pid);
  argv[a++] = buf[b++];
  for (size_t i = 0; i <= n; i++)
    {
      unsigned long v[3] = { 0, own, 1 };
      if (i > 0)
        v[0] = r[i - 1].inside, v[1] = r[i - 1].outside, v[2] = r[i - 1].count;
      for (int k = 0; k < 3; k++)
        {
          snprintf (buf[b], sizeof buf[b], "%lu", v[k]);
          argv[a++] = buf[b++];
        }
    }
  argv[a] = NULL;
  child = fork ();
  if (child == 0)
    {
      /* A probe collects the tool's complaint for the mode line. */
      if (errfd >= 0 && dup2 (errfd, 2) < 0)
        _exit (127);
      execvp (tool, argv);
      fprintf (stderr, "bale: cannot run %s: %s\n", tool, strerror (errno));
      _exit (127);
    }
  if (child < 0)
    return -1;
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}

/* Forked before the parent leaves the initial namespace: waits until it has, then maps it
   (newuidmap checks that the caller owns the target process, which the helper does). */
static void __attribute__ ((noreturn))
helper_main (int go_fd, pid_t target, const struct idmaps *m)
{
  char c;

  if (read (go_fd, &c, 1) != 1)
    _exit (1);
  if (run_map_tool ("newuidmap", target, getuid (), m->uids, m->n_uids, -1) < 0
      || run_map_tool ("newgidmap", target, getgid (), m->gids, m->n_gids, -1) < 0)
    _exit (1);
  _exit (0);
}

/*
 * Whether newuidmap and newgidmap can map m here, tried on a throwaway child in a user
 * namespace of its own. In a container they often cannot although the ranges are there: a
 * setuid bit without effect (no_new_privs, Kubernetes' allowPrivilegeEscalation: false, a
 * nosuid mount), or ranges outside the ids the container maps: the kernel then refuses the
 * write with EPERM. Once this process has unshared, a failed map cannot be undone, hence the
 * probe. *why gets the tools' first line of complaint (or a reason of ours).
 */
static bool
probe_subids (const struct idmaps *m, char **why)
{
  int ready[2] = { -1, -1 }, hold[2] = { -1, -1 }, errp[2] = { -1, -1 };
  char c = 'x', buf[512];
  bool ok = false;
  pid_t child = -1;
  ssize_t n;

  *why = NULL;
  if (pipe2 (ready, O_CLOEXEC) < 0 || pipe2 (hold, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
    goto out;
  child = fork ();
  if (child == 0)
    {
      char r = unshare (CLONE_NEWUSER) == 0 ? 'g' : 'x';
      close (hold[1]); /* its own copy would keep the read below from ever seeing EOF */
      if (write (ready[1], &r, 1) != 1 || read (hold[0], &r, 1) < 0)
        _exit (1);
      _exit (0);
    }
  if (child < 0 || read (ready[0], &c, 1) != 1 || c != 'g')
    goto out;
  ok = run_map_tool ("newuidmap", child, getuid (), m->uids, m->n_uids, errp[1]) == 0
       && run_map_tool ("newgidmap", child, getgid (), m->gids, m->n_gids, errp[1]) == 0;
out:
  if (child > 0)
    {
      close (hold[1]);
      hold[1] = -1;
      while (waitpid (child, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  if (errp[1] >= 0)
    close (errp[1]);
  n = errp[0] >= 0 ? read (errp[0], buf, sizeof buf - 1) : -1;
  if (!ok)
    {
      buf[n > 0 ? n : 0] = '\0';
      buf[strcspn (buf, "\n")] = '\0';
      *why = xstrdup (n > 0 ? buf : c != 'g' ? "cannot create a user namespace" : "it failed");
    }
  for (int i = 0; i < 2; i++)
    {
      if (ready[i] >= 0)
        close (ready[i]);
      if (hold[i] >= 0)
        close (hold[i]);
      if (i == 0 && errp[0] >= 0)
        close (errp[0]);
    }
  return ok;
}

static int
unshare_user (bale_error_t *err)
{
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) == 0)
    return 0;
  return bale_make_error (err, errno,
                          "cannot create a user namespace, which bale needs to build without "
                          "root (check the sysctls user.max_user_namespaces and, on Ubuntu, "
                          "kernel.apparmor_restrict_unprivileged_userns; in a container, run "
                          "it with --security-opt seccomp=unconfined or build as root)");
}

static int
enter_subids (const struct idmaps *m, bale_error_t *err)
{
  int go[2];
  pid_t helper, self = getpid ();
  int status, ret;

  if (pipe2 (go, O_CLOEXEC) < 0)
    return bale_make_error (err, errno, "cannot create a pipe");
  helper = fork ();
  if (helper == 0)
    {
      close (go[1]);
      helper_main (go[0], self, m);
    }
  close (go[0]);
  if (helper < 0)
    {
      close (go[1]);
      return bale_make_error (err, errno, "cannot fork");
    }
  ret = unshare_user (err);
  /* The helper exits without mapping when the pipe closes before a byte arrives. */
  if (ret == 0 && write (go[1], "g", 1) != 1)
    ret = bale_make_error (err, errno, "cannot signal the id-map helper");
  close (go[1]);
  while (waitpid (helper, &status, 0) < 0 && errno == EINTR)
    ;
  if (ret == 0 && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
    ret = bale_make_error (err, 0,
                           "newuidmap/newgidmap could not map the subordinate ids of '%s' (see "
                           "their message above): check its ranges in /etc/subuid and "
                           "/etc/subgid, and that both tools are setuid root (package uidmap)",
                           m->user);
  return ret;
}

static int
write_proc (const char *file, const char *text, bale_error_t *err)
{
  cleanup_close int fd = open (file, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || fileio_write_all (fd, text, strlen (text)) < 0)
    return bale_make_error (err, errno, "cannot write '%s'", file);
  return 0;
}

/* An unprivileged process may map its own ids, one line each, once setgroups is denied. */
static int
enter_one_id (bale_error_t *err)
{
  char uidmap[64], gidmap[64];

  snprintf (uidmap, sizeof uidmap, "0 %lu 1\n", (unsigned long) getuid ());
  snprintf (gidmap, sizeof gidmap, "0 %lu 1\n", (unsigned long) getgid ());
  if (unshare_user (err) < 0 || write_proc ("/proc/self/setgroups", "deny", err) < 0
      || write_proc ("/proc/self/uid_map", uidmap, err) < 0
      || write_proc ("/proc/self/gid_map", gidmap, err) < 0)
    return -1;
  return 0;
}

static void
describe_ranges (struct strbuf *sb, const struct idmaps *m)
{
  strbuf_addstr (sb, "subids ");
  for (size_t i = 0; i < m->n_uids; i++)
    strbuf_addf (sb, "%s%lu-%lu", i ? "," : "", m->uids[i].outside,
                 m->uids[i].outside + m->uids[i].count - 1);
}

static void
find_ranges (struct idmaps *m, bool probe, char **why)
{
  struct passwd *pw = getpwuid (getuid ());
  struct group *gr = getgrgid (getgid ());
  const char *v = getenv ("BALE_ROOTLESS");

  m->user = xstrdup (pw ? pw->pw_name : "");
  if (v && strcmp (v, "one-id") == 0)
    return;
  if (!in_path ("newuidmap") || !in_path ("newgidmap"))
    return;
  m->n_uids = read_subids ("/etc/subuid", m->user, getuid (), m->uids);
  m->n_gids = read_subids ("/etc/subgid", gr ? gr->gr_name : m->user, getgid (), m->gids);
  /* subgid lists users by name, as useradd writes it; some list the group. */
  if (m->n_gids == 0 && gr)
    m->n_gids = read_subids ("/etc/subgid", m->user, getuid (), m->gids);
  if (m->n_uids == 0 || m->n_gids == 0)
    m->n_uids = m->n_gids = 0;
  if (probe && m->n_uids > 0 && !probe_subids (m, why))
    m->n_uids = m->n_gids = 0;
}

int
rootless_enter (bale_error_t *err)
{
  return rootless_enter_probing (false, err);
}

int
rootless_enter_probing (bool probe, bale_error_t *err)
{
  struct idmaps m = { .n_uids = 0 };
  struct strbuf desc = STRBUF_INIT;
  cleanup_free char *why = NULL;
  int ret;

  if (geteuid () == 0)
    return 0;
  find_ranges (&m, probe, &why);
  if (*m.user)
    setenv (ENV_NAME "_USER", m.user, 1);
  if (m.n_uids > 0)
    {
      ret = enter_subids (&m, err);
      describe_ranges (&desc, &m);
    }
  else
    {
      ret = enter_one_id (err);
      strbuf_addstr (&desc, "one-id");
      if (why)
        strbuf_addf (&desc, " (newuidmap could not map the subordinate ids: %s)", why);
    }
  free (m.user);
  if (ret == 0)
    {
      /* Full capabilities in the namespace came with unshare; the ids are 0 now that the
         maps exist. Host groups the map lacks would show as nobody: drop them. */
      if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        ret = bale_make_error (err, errno, "cannot become root of the user namespace");
      else
        {
          (void) setgroups (0, NULL); /* denied in one-id mode, where there are none mapped */
          /* Nothing mounted by bale may propagate out (the kernel already makes a less
             privileged copy a slave; private is simpler to reason about). */
          if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            ret = bale_make_error (err, errno, "cannot make the mount namespace private");
        }
    }
  if (ret == 0)
    setenv (ENV_NAME, desc.buf, 1);
  strbuf_release (&desc);
  return ret;
}
