/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * RUN steps: the command runs in the sandbox on an overlay of the stage's layer snapshots;
 * the overlay's upper directory, and only it, becomes the layer.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/dispatch.h"
#include "common/kv.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "common/trace.h"
#include "runtime/build/ctxview.h"
#include "runtime/build/executor_internal.h"
#include "runtime/layer/fsindex.h"
#include "runtime/fs/inroot.h"
#include "runtime/fs/isolation.h"
#include "runtime/fs/rootless.h"
#include "runtime/layer/rootview.h"
#include "runtime/sandbox/sshproxy.h"
#include "runtime/layer/layer.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/sandbox/binfmt.h"
#include "runtime/store/store.h"
#include "common/banned.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct run_ctx
{
  const char *upper;
  struct layer_write_opts wopts;
  struct fsindex *index; /* copied-rootfs mode: the tree before the step */
};

static int
diff_upper (void *ctx, int out_fd, struct child_report *rep, bale_error_t *err)
{
  struct run_ctx *r = ctx;
  cleanup_close int fd = open (r->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct layer_result res;

  if (fd < 0)
    return bale_make_error (err, errno, "cannot open %s", r->upper);
  if (r->index)
    {
      /* Copied rootfs: what changed since the index is the layer. */
      struct layer_writer *w = layer_writer_new (&r->wopts, out_fd, err);
      int ret = w ? fsindex_diff (r->index, fd, w, err) : -1;
      if (ret == 0)
        ret = layer_writer_finish (w, &res, err);
      layer_writer_free (w);
      if (ret < 0)
        return -1;
    }
  else if (layer_write_dir (fd, &r->wopts, out_fd, &res, err) < 0)
    return -1;
  memcpy (rep->diff_id, res.diff_id, sizeof rep->diff_id);
  memcpy (rep->digest, res.digest, sizeof rep->digest);
  rep->size = res.size;
  return 0;
}

/* Everything a step's mounts need, released after the step. */
struct run_mounts
{
  struct sandbox_mount *v;
  size_t n;
  char **strings; /* paths the mounts point at */
  size_t n_strings;
  int *locks; /* flock'ed cache directories (sharing=locked) */
  size_t n_locks;
  char **mounted; /* stage views mounted for bind mounts from= */
  size_t n_mounted;
  const char **env; /* NAME=VALUE of secrets given as environment variables */
  size_t n_env;
  const char *ssh_sock; /* SSH_AUTH_SOCK=PATH of the first ssh mount, or NULL */
  pid_t *proxies;       /* ssh agent relays */
  size_t n_proxies;
  const char **ssh_dirs; /* their directories */
  size_t n_ssh_dirs;
  int *fds; /* resolved sources held open while their views are mounted */
  size_t n_fds;
  const char *ctx_view; /* the context without its ignored entries (ctxview.h), or NULL */
};

static const char *
keep (struct run_mounts *rm, char *s)
{
  rm->strings = xrealloc (rm->strings, (rm->n_strings + 1) * sizeof *rm->strings);
  rm->strings[rm->n_strings++] = s;
  return s;
}

static struct sandbox_mount *
add_mount (struct run_mounts *rm)
{
  rm->v = xrealloc (rm->v, (rm->n + 1) * sizeof *rm->v);
  memset (&rm->v[rm->n], 0, sizeof rm->v[rm->n]);
  return &rm->v[rm->n++];
}

/* The O_PATH descriptor of source inside the directory root (runtime/fs/inroot.h), or a located
   error at once. The sandbox resolves it again, by the same rules, in the step's own mount
   namespace and mounts what it found there; this one serves the checks and the copies. */
static int
resolve_source (const char *root, const char *source, unsigned how, const char *spec,
                const char *root_name, bale_error_t *err)
{
  cleanup_close int rfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd;

  if (rfd < 0)
    return bale_make_error (err, errno, "cannot open %s", root);
  fd = inroot_open (rfd, source, O_PATH, how);
  if (fd < 0)
    {
      inroot_error (err, errno, source, root_name);
      return bale_error_wrap (err, "--mount=%s", spec);
    }
  return fd;
}

static const char *
keep_fd_path (struct run_mounts *rm, int fd)
{
  rm->fds = xrealloc (rm->fds, (rm->n_fds + 1) * sizeof *rm->fds);
  rm->fds[rm->n_fds++] = fd;
  return keep (rm, xasprintf ("/proc/self/fd/%d", fd));
}

static void
run_mounts_release (struct run_mounts *rm)
{
  size_t i;

  /* The mount points and the secrets are among the strings: free those last. */
  for (i = 0; i < rm->n_proxies; i++)
    sshproxy_stop (rm->proxies[i]);
  for (i = 0; i < rm->n_ssh_dirs; i++)
    {
      cleanup_free char *sock = xasprintf ("%s/agent", rm->ssh_dirs[i]);
      unlink (sock);
      rmdir (rm->ssh_dirs[i]);
    }
  free (rm->proxies);
  free (rm->ssh_dirs);
  for (i = 0; i < rm->n_mounted; i++)
    umount2 (rm->mounted[i], MNT_DETACH);
  for (i = 0; i < rm->n_env; i++)
    explicit_bzero ((char *) rm->env[i], strlen (rm->env[i]));
  for (i = 0; i < rm->n_strings; i++)
    free (rm->strings[i]);
  for (i = 0; i < rm->n_locks; i++)
    close (rm->locks[i]);
  for (i = 0; i < rm->n_fds; i++)
    close (rm->fds[i]);
  free (rm->fds);
  free (rm->env);
  free (rm->mounted);
  free (rm->strings);
  free (rm->locks);
  free (rm->v);
}

/* A cache mount's directory: <store>/cache/<id>, created with mode/uid/gid on first use. */
static int
cache_mount (struct executor *x, const struct plan_mount *m, const char *target,
             struct run_mounts *rm, bale_error_t *err)
{
  const char *id = m->id && *m->id ? m->id : target;
  cleanup_free char *root = store_area_path (x->o->store, STORE_AREA_RUN_CACHE, NULL);
  struct strbuf name = STRBUF_INIT;
  struct sandbox_mount *sm;
  const char *p;
  char *dir;

  /* The id may hold '/': keep it one path component, and never one that names the cache
     directory itself or the store (id=.., CVE-2024-9675). */
  for (p = id; *p; p++)
    strbuf_addch (&name, *p == '/' ? '_' : *p);
  if (strcmp (name.buf, ".") == 0 || strcmp (name.buf, "..") == 0)
    {
      strbuf_release (&name);
      return bale_make_error (err, 0, "cache id '%s' names no directory of its own", id);
    }
  if (m->from)
    {
      strbuf_release (&name);
      return bale_make_error (err, 0, "a cache mount from a stage or an image (from=%s) is not "
                                      "supported", m->from);
    }
  if (mkdir (root, 0700) < 0 && errno != EEXIST)
    {
      strbuf_release (&name);
      return bale_make_error (err, errno, "cannot create %s", root);
    }
  dir = xasprintf ("%s/%s", root, name.buf);
  strbuf_release (&name);
  keep (rm, dir);
  if (mkdir (dir, m->mode >= 0 ? (mode_t) m->mode : 0755) == 0)
    {
      if ((m->uid >= 0 || m->gid >= 0)
          && chown (dir, m->uid >= 0 ? (uid_t) m->uid : 0, m->gid >= 0 ? (gid_t) m->gid : 0) < 0)
        return bale_make_error (err, errno, "cannot chown %s", dir);
      if (m->mode >= 0 && chmod (dir, (mode_t) m->mode) < 0)
        return bale_make_error (err, errno, "cannot chmod %s", dir);
    }
  else if (errno != EEXIST)
    return bale_make_error (err, errno, "cannot create %s", dir);
  /* Its last use: --cache-to exports the cache mounts this build used (cache_mounts.h). */
  utimensat (AT_FDCWD, dir, NULL, 0);
  if (m->sharing == PLAN_SHARING_LOCKED)
    {
      int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || flock (fd, LOCK_EX) < 0)
        return bale_make_error (err, errno, "cannot lock cache %s", dir);
      rm->locks = xrealloc (rm->locks, (rm->n_locks + 1) * sizeof *rm->locks);
      rm->locks[rm->n_locks++] = fd;
    }
  sm = add_mount (rm);
  sm->type = SANDBOX_MOUNT_BIND;
  sm->source = dir;
  sm->target = target;
  if (m->source && *m->source)
    {
      /* A directory of the cache, which earlier steps filled: a symlink they left there
         resolves inside the cache, never on the host. */
      cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      cleanup_close int sub = dfd < 0 ? -1 : inroot_mkpath (dfd, m->source, 0, true, NULL, NULL);
      if (sub < 0)
        return inroot_error (err, errno, m->source, "the cache");
      sm->source_root = dir;
      sm->source = keep (rm, xstrdup (m->source));
    }
  return 0;
}

/* A writable view for RUN --mount=type=bind,rw: an overlay whose upper directory is thrown
   away with the step, as BuildKit discards what a step writes to a bind mount. */
static int
writable_view (struct executor *x, const char *const *lowers, size_t n, const char *dir, size_t i,
               struct run_mounts *rm, const char **out, bale_error_t *err)
{
  char *base = xasprintf ("%s/rw.%zu", dir, i);
  char *u = xasprintf ("%s/u", base), *w = xasprintf ("%s/w", base), *m = xasprintf ("%s/m", base);
  char *e = xasprintf ("%s/e", base);
  const char *empty[1] = { e };
  int ret = -1;

  keep (rm, base);
  keep (rm, u);
  keep (rm, w);
  keep (rm, e);
  keep (rm, m);
  /* Chroot isolation mounts nothing, in no namespace of its own: a copy. */
  bool copy = rootview_force_copy () || !x->o->private_mounts;

  if (!x->o->private_mounts && !isolation_chroot ())
    return bale_make_error (err, 0, "read-write bind mounts need the build to run in its own mount namespace");
  if (mkdir (base, 0700) < 0 || mkdir (u, 0755) < 0 || mkdir (w, 0700) < 0 || mkdir (m, 0755) < 0
      || mkdir (e, 0755) < 0)
    return bale_make_error (err, errno, "cannot create %s", base);
  /* A stage without layers: an empty lower directory. */
  if (copy || rootview_overlay (n ? lowers : empty, n ? n : 1, u, w, m) < 0)
    {
      /* Without overlayfs: a copy of the view, thrown away with the step all the same. */
      if (copy || errno == ENODEV || errno == EPERM || errno == EINVAL)
        {
          if (rootview_merge (lowers, n, m, false, err) == 0)
            {
              *out = m;
              ret = 0;
            }
        }
      else
        bale_make_error (err, errno, "cannot mount a writable view at %s", m);
    }
  else
    {
      rm->mounted = xrealloc (rm->mounted, (rm->n_mounted + 1) * sizeof *rm->mounted);
      rm->mounted[rm->n_mounted++] = m;
      *out = m;
      ret = 0;
    }
  return ret;
}

/* RUN --mount=type=bind,from=STAGE|IMAGE: a read-only view of that filesystem, mounted in
   bale's own private mount namespace (the caller entered it before opening the store, so
   nothing leaks to the host even if bale is killed) for the sandbox to bind from. *root is
   the view: the source is a path inside it, resolved there as in a chroot (CVE-2024-1753). */
static int
bind_from (struct executor *x, const struct plan_stage *st, const struct plan_step *s, size_t i,
           const struct plan_mount *m, const char *dir, struct run_mounts *rm, const char **root,
           bale_error_t *err)
{
  struct stage_state tmp = { 0 }, *src = NULL;
  const char **lowers = NULL;
  size_t n = 0;
  char *mp;
  int ret = -1;

  if (!x->o->private_mounts && !isolation_chroot ())
    return bale_make_error (err, 0, "--mount=%s: bind mounts from a stage need the build to run "
                                    "in its own mount namespace (exec_opts.private_mounts)", s->mounts[i].spec);
  if (exec_source_layers (x, st, s, &s->mount_from[i], "RUN --mount from", &tmp, &src, err) < 0
      || exec_state_snapshots (x, src, &lowers, &n, err) < 0)
    goto out;
  mp = xasprintf ("%s/from.%zu", dir, i);
  keep (rm, mp);
  if (mkdir (mp, 0700) < 0)
    {
      bale_make_error (err, errno, "cannot create %s", mp);
      goto out;
    }
  if (m->rw)
    {
      const char *view = NULL;
      if (writable_view (x, lowers, n, dir, i, rm, &view, err) < 0)
        goto out;
      mp = (char *) view;
    }
  else if (!x->o->private_mounts)
    {
      /* Chroot isolation, without a mount namespace: the view merged by hand (hard links
         of the snapshots; the sandbox copies it into the step's root). */
      if (rootview_merge (lowers, n, mp, true, err) < 0)
        goto out;
    }
  else
    {
      if (rootview_mount (lowers, n, mp, err) < 0)
        goto out;
      if (n > 0)
        {
          rm->mounted = xrealloc (rm->mounted, (rm->n_mounted + 1) * sizeof *rm->mounted);
          rm->mounted[rm->n_mounted++] = mp;
        }
    }
  {
    cleanup_free char *name = xasprintf ("'%s'", m->from);
    cleanup_close int fd = resolve_source (mp, m->source ? m->source : "/", 0, s->mounts[i].spec, name, err);
    if (fd < 0)
      goto out;
    *root = mp;
  }
  ret = 0;
out:
  free (lowers);
  exec_state_release (&tmp);
  return ret;
}

/* Whether env[0..n) sets the variable that kv ("NAME=VALUE") sets. */
static bool
env_has (const char *const *env, size_t n, const char *kv)
{
  size_t len = strcspn (kv, "="), i;

  for (i = 0; i < n; i++)
    if (strncmp (env[i], kv, len) == 0 && env[i][len] == '=')
      return true;
  return false;
}

/* A read-write bind mount of a context file: the step writes to a copy thrown away with it. */
static int
writable_copy (const char *path, const struct stat *sb, const char *dir, size_t i,
               struct run_mounts *rm, const char **out, bale_error_t *err)
{
  char *copy = xasprintf ("%s/rwfile.%zu", dir, i);
  cleanup_close int in = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_close int fd = -1;

  keep (rm, copy);
  if (in < 0)
    return bale_make_error (err, errno, "cannot open %s", path);
  fd = open (copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, sb->st_mode & 07777);
  if (fd < 0 || fileio_copy_fd (in, fd) < 0 || fchown (fd, sb->st_uid, sb->st_gid) < 0
      || fchmod (fd, sb->st_mode & 07777) < 0)
    return bale_make_error (err, errno, "cannot copy %s for a read-write bind mount", path);
  *out = copy;
  return 0;
}

/* BuildKit's limit on a secret (secrets/secretsprovider): larger ones are a mistake. */
#define MAX_SECRET (500 * 1024)

/* A directory for the step's secret files: a tmpfs when the build has a mount namespace of
   its own, so that secrets never reach the disk; else a 0700 directory in the step's own. */
static int
secret_dir (struct executor *x, const char *dir, struct run_mounts *rm, char **out,
            bale_error_t *err)
{
  char *path = xasprintf ("%s/secrets", dir);

  keep (rm, path);
  *out = path;
  if (mkdir (path, 0700) < 0)
    return errno == EEXIST ? 0 : bale_make_error (err, errno, "cannot create %s", path);
  if (x->o->private_mounts && mount ("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=16m") == 0)
    {
      rm->mounted = xrealloc (rm->mounted, (rm->n_mounted + 1) * sizeof *rm->mounted);
      rm->mounted[rm->n_mounted++] = path;
    }
  return 0;
}

/* One id (no subordinate ids): only id 0 exists, so a secret or ssh socket cannot be chowned
   to another (EINVAL), and the step's stat shows recorded owners only on its own root mount,
   never on a file bound over it. A uid= or gid= other than 0 is refused by name instead. */
static int
one_id_mount_owner (const char *spec, const struct plan_mount *m, bale_error_t *err)
{
  if (rootless_mode () != ROOTLESS_ONE_ID || (m->uid <= 0 && m->gid <= 0))
    return 0;
  return bale_make_error (err, 0, "--mount=%s: one-id mode (no subordinate ids) cannot give the "
                          "mount to uid %ld, gid %ld: only id 0 exists (add a range for the user "
                          "to /etc/subuid and /etc/subgid, build as root, or leave uid and gid "
                          "at 0)", spec, (long) (m->uid >= 0 ? m->uid : 0), (long) (m->gid >= 0 ? m->gid : 0));
}

/*
 * RUN --mount=type=secret: the secret's id is source=, else id=, else the target's base name
 * (BuildKit's dispatchSecret). It is a file at target (default /run/secrets/ID unless env= is
 * given), mode 0400 owned by 0:0 unless mode/uid/gid say otherwise, and with env=NAME also
 * the variable NAME. A secret that was not given is skipped, or an error with required=true.
 */
static int
secret_mount (struct executor *x, const char *spec, const struct plan_mount *m, const char *target,
              const char *dir, size_t i, struct run_mounts *rm, bale_error_t *err)
{
  const char *id = m->source ? m->source : m->id ? m->id : target ? strrchr (target, '/') + 1 : NULL;
  const char *src = NULL, *value = NULL;
  struct strbuf content = STRBUF_INIT;
  cleanup_close int fd = -1;
  char *sdir = NULL; /* kept by rm */
  size_t k;
  int ret = 0;

  for (k = 0; id && k < x->o->n_secrets; k++)
    if (strcmp (x->o->secrets[k].id, id) == 0)
      {
        src = x->o->secrets[k].path;
        value = x->o->secrets[k].value;
      }
  if (!id || !*id)
    return bale_make_error (err, 0, "--mount=%s: a secret needs an id or a target", spec);
  if (m->env && (!*m->env || strchr (m->env, '=')))
    return bale_make_error (err, 0, "--mount=%s: env=%s is not a variable name", spec, m->env);
  if (!src && !value)
    return m->required ? bale_make_error (err, 0, "--mount=%s: secret \"%s\" is required but was "
                                          "not given (bale build --secret id=%s,src=FILE)", spec, id, id)
                       : 0;
  if (value)
    strbuf_addstr (&content, value);
  else if ((fd = open (src, O_RDONLY | O_CLOEXEC)) < 0)
    return bale_make_error (err, errno, "secret \"%s\": cannot open %s", id, src);
  else if (fileio_read_fd (fd, src, &content, err) < 0)
    return -1;
  if (content.len > MAX_SECRET)
    ret = bale_make_error (err, 0, "secret \"%s\" is larger than %d bytes", id, MAX_SECRET);
  if (ret == 0 && m->env)
    {
      if (memchr (content.buf, '\0', content.len))
        ret = bale_make_error (err, 0, "--mount=%s: secret \"%s\" holds a NUL byte and cannot be a "
                               "variable", spec, id);
      else
        {
          rm->env = xrealloc (rm->env, (rm->n_env + 1) * sizeof *rm->env);
          rm->env[rm->n_env++] = keep (rm, xasprintf ("%s=%s", m->env, content.buf));
        }
    }
  if (ret == 0 && (target || !m->env) && one_id_mount_owner (spec, m, err) < 0)
    ret = -1;
  if (ret == 0 && (target || !m->env))
    {
      mode_t mode = m->mode >= 0 ? (mode_t) m->mode & 07777 : 0400;
      uid_t uid = m->uid >= 0 ? (uid_t) m->uid : 0;
      gid_t gid = m->gid >= 0 ? (gid_t) m->gid : 0;
      char *file;
      cleanup_close int out = -1;

      if (secret_dir (x, dir, rm, &sdir, err) < 0)
        ret = -1;
      else
        {
          file = xasprintf ("%s/%zu", sdir, i);
          keep (rm, file);
          out = open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
          if (out < 0 || fileio_write_all (out, content.buf, content.len) < 0 || fchown (out, uid, gid) < 0
              || fchmod (out, mode) < 0)
            ret = bale_make_error (err, errno, "cannot write secret \"%s\" for the step", id);
          else
            {
              struct sandbox_mount *sm = add_mount (rm);
              sm->type = SANDBOX_MOUNT_BIND;
              sm->source = file;
              sm->target = target ? target : keep (rm, xasprintf ("/run/secrets/%s", id));
              sm->readonly = true;
            }
        }
    }
  explicit_bzero (content.buf, content.len);
  strbuf_release (&content);
  return ret;
}

/*
 * RUN --mount=type=ssh: the agent socket `bale build --ssh ID=SOCKET` gave for the id (default
 * "default"), bound at target (default /run/buildkit/ssh_agent.N, N counting the step's ssh
 * mounts, as BuildKit numbers them); the first one is SSH_AUTH_SOCK unless the step sets it.
 * The step gets a relay socket of bale's with the uid, gid and mode it asks for (0, 0 and 0600
 * by default, as BuildKit), never the agent's own: the relay passes only the requests of a
 * read-only agent (runtime/sandbox/sshproxy.c), as BuildKit's readOnlyAgent.
 */
static int
ssh_mount (struct executor *x, const char *spec, const struct plan_mount *m, const char *target,
           const char *rundir, size_t *n_ssh, struct run_mounts *rm, bale_error_t *err)
{
  const char *id = m->id && *m->id ? m->id : "default";
  const char *sock = NULL, *path, *tmp = getenv ("TMPDIR");
  struct sandbox_mount *sm;
  char *dir;
  pid_t pid;
  size_t k;

  for (k = 0; k < x->o->n_ssh; k++)
    if (strcmp (x->o->ssh[k].id, id) == 0)
      sock = x->o->ssh[k].socket;
  if (!sock)
    return m->required ? bale_make_error (err, 0, "--mount=%s: no ssh agent \"%s\" was given "
                                          "(bale build --ssh %s=SOCKET)", spec, id, id)
                       : 0;
  if (one_id_mount_owner (spec, m, err) < 0)
    return -1;
  /* A short directory of its own, as a socket path must fit in sun_path. Chroot isolation
     links the socket into the step's root: there, next to it when the path fits. */
  if (isolation_chroot () && strlen (rundir) < 80)
    dir = xasprintf ("%s/ssh.XXXXXX", rundir);
  else
    dir = xasprintf ("%s/bale-ssh.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  keep (rm, dir);
  if (!mkdtemp (dir))
    return bale_make_error (err, errno, "cannot create %s", dir);
  rm->ssh_dirs = xrealloc (rm->ssh_dirs, (rm->n_ssh_dirs + 1) * sizeof *rm->ssh_dirs);
  rm->ssh_dirs[rm->n_ssh_dirs++] = dir;
  path = keep (rm, xasprintf ("%s/agent", dir));
  if (sshproxy_start (sock, path, m->uid >= 0 ? (uid_t) m->uid : 0, m->gid >= 0 ? (gid_t) m->gid : 0,
                      m->mode >= 0 ? (mode_t) m->mode & 0777 : 0600, &pid, err) < 0)
    return bale_error_wrap (err, "--mount=%s", spec);
  rm->proxies = xrealloc (rm->proxies, (rm->n_proxies + 1) * sizeof *rm->proxies);
  rm->proxies[rm->n_proxies++] = pid;
  sm = add_mount (rm);
  sm->type = SANDBOX_MOUNT_BIND;
  sm->source = path;
  sm->target = target ? target : keep (rm, xasprintf ("/run/buildkit/ssh_agent.%zu", *n_ssh));
  if ((*n_ssh)++ == 0)
    rm->ssh_sock = keep (rm, xasprintf ("SSH_AUTH_SOCK=%s", sm->target));
  return 0;
}

/* RUN --mount=type=bind from the build context: source is resolved inside the context and may
   not leave it (INROOT_BENEATH). A read-write one gets a throwaway overlay of the directory, or
   a throwaway copy of the file, made from the resolved descriptor. */
static int
bind_context (struct executor *x, const char *spec, const struct plan_mount *m, const char *target,
              const char *dir, size_t i, struct run_mounts *rm, bale_error_t *err)
{
  const char *src = m->source ? m->source : "/";
  const char *root = x->o->context;
  struct sandbox_mount *sm;
  const char *view = NULL;
  struct stat sb;
  int fd;

  /* BuildKit mounts its transfer of the context, from which .dockerignore removed entries:
     one copy without them for the step's context mounts. */
  if (x->o->ignore && ignore_matcher_source (x->o->ignore))
    {
      if (!rm->ctx_view)
        {
          const char *path = keep (rm, xasprintf ("%s/ctx", dir));
          if (ctxview_make (x->o->context, x->o->ignore, path, err) < 0)
            return bale_error_wrap (err, "--mount=%s", spec);
          rm->ctx_view = path;
        }
      root = rm->ctx_view;
    }
  fd = resolve_source (root, src, INROOT_BENEATH, spec, "the build context", err);
  if (fd < 0)
    return -1;
  if (!m->rw)
    close (fd);
  else
    {
      const char *path = keep_fd_path (rm, fd);
      int r;
      if (fstat (fd, &sb) < 0)
        return bale_make_error (err, errno, "--mount=%s: cannot stat '%s'", spec, src);
      if (S_ISDIR (sb.st_mode))
        r = writable_view (x, &path, 1, dir, i, rm, &view, err);
      else if (!S_ISREG (sb.st_mode))
        r = bale_make_error (err, 0, "--mount=%s: a read-write bind mount of a special file is not "
                                     "supported", spec);
      else
        r = writable_copy (path, &sb, dir, i, rm, &view, err);
      if (r < 0)
        return -1;
    }
  sm = add_mount (rm);
  sm->type = SANDBOX_MOUNT_BIND;
  if (view)
    sm->source = view;
  else
    {
      sm->source_root = root;
      sm->source_beneath = true;
      sm->source = keep (rm, xstrdup (src));
    }
  sm->target = target;
  sm->readonly = !m->rw;
  return 0;
}

static int
setup_mounts (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
              const char *dir, struct run_mounts *rm, bale_error_t *err)
{
  size_t i, n_ssh = 0;

  for (i = 0; i < s->n_mounts; i++)
    {
      const struct plan_mount *m = &s->mounts[i];
      const char *target = m->target ? keep (rm, dispatch_normalize_workdir (s->workdir, m->target)) : NULL;
      int r = 0;

      switch (m->type)
        {
        case PLAN_MOUNT_CACHE:
          r = cache_mount (x, m, target, rm, err);
          break;
        case PLAN_MOUNT_TMPFS:
          {
            struct sandbox_mount *sm = add_mount (rm);
            sm->type = SANDBOX_MOUNT_TMPFS;
            sm->target = target;
            if (m->size)
              sm->options = keep (rm, xasprintf ("size=%s", m->size));
          }
          break;
        case PLAN_MOUNT_BIND:
          if (m->from && s->mount_from)
            {
              const char *root = NULL;
              r = bind_from (x, st, s, i, m, dir, rm, &root, err);
              if (r == 0)
                {
                  struct sandbox_mount *sm = add_mount (rm);
                  sm->type = SANDBOX_MOUNT_BIND;
                  sm->source_root = root;
                  sm->source = keep (rm, xstrdup (m->source ? m->source : "/"));
                  sm->target = target;
                  sm->readonly = !m->rw;
                }
            }
          else
            r = bind_context (x, m->spec, m, target, dir, i, rm, err);
          break;
        case PLAN_MOUNT_SECRET:
          r = secret_mount (x, m->spec, m, target, dir, i, rm, err);
          break;
        case PLAN_MOUNT_SSH:
          r = ssh_mount (x, m->spec, m, target, dir, &n_ssh, rm, err);
          break;
        }
      if (r < 0)
        return -1;
    }
  return 0;
}

/* RUN heredoc scripts (#!) are files at /dev/pipes/NAME in the step. */
static int
setup_files (const struct plan_step *s, const char *dir, struct run_mounts *rm, bale_error_t *err)
{
  size_t i;

  for (i = 0; i < s->n_files; i++)
    {
      char *path = xasprintf ("%s/file.%zu", dir, i);
      cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
      struct sandbox_mount *sm;
      keep (rm, path);
      if (fd < 0 || fileio_write_all (fd, s->files[i].data, s->files[i].len) < 0)
        return bale_make_error (err, errno, "cannot write the heredoc %s", s->files[i].name);
      sm = add_mount (rm);
      sm->type = SANDBOX_MOUNT_BIND;
      sm->source = path;
      sm->target = keep (rm, xasprintf ("/dev/pipes/%s", s->files[i].name));
      sm->readonly = true;
    }
  return 0;
}

/* Why the probe failed, for the one line that says RUN steps are copying. */
static const char *overlay_why = "BALE_FORCE_COPY=1";

/* The probe child's exit status when it gets no mount namespace. */
#define PROBE_NO_MOUNT_NS 125

static const char *
probe_failure (int status)
{
  int code = WIFEXITED (status) ? WEXITSTATUS (status) : -1;

  if (code == PROBE_NO_MOUNT_NS)
    return "bale may not create a mount namespace (it needs root, or a user namespace)";
  if (code == ENODEV)
    return "this kernel has no overlayfs";
  if (code == EPERM && rootless_userns ())
    return "mounting it in a user namespace needs Linux 5.11, and no seccomp or AppArmor "
           "rule against mount";
  if (code == EPERM)
    return "mounting is not permitted (seccomp, AppArmor or a missing CAP_SYS_ADMIN)";
  if (code == EINVAL)
    return "the store's file system cannot hold an overlay upper directory (an overlay "
           "itself, or no d_type); --store elsewhere avoids it";
  return "the test mount failed";
}

/* Remove dir, a directory of the store's tmp/, with everything in it (best effort). */
static void
remove_tmp_dir (struct executor *x, const char *dir)
{
  cleanup_free char *tmp = store_area_path (x->o->store, STORE_AREA_TMP, NULL);
  cleanup_close int parent = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bale_error_t e = NULL;

  if (parent >= 0)
    dirwalk_remove (parent, strrchr (dir, '/') + 1, dir, &e);
  bale_error_release (&e);
}

/* Whether overlayfs mounts work here (with an upper directory on the store's filesystem),
   tried once per build process in a throwaway mount namespace. The test mount uses the
   step's own upper and work directories (in dir, its run directory, both still empty) over
   one more directory, the lower and the mount point: one directory made and removed where a
   probe directory of its own made four and removed six (each removal a synchronous discard
   on this disk); the step's mount clears what overlayfs leaves in work/ as it would anyway.
   BALE_FORCE_COPY=1 says no. */
static bool
overlay_usable (struct executor *x, const char *dir)
{
  cleanup_free char *l = NULL, *opts = NULL;
  pid_t pid;
  int status = 1;

  if (x->overlay >= 0)
    return x->overlay;
  x->overlay = 0;
  if (isolation_chroot ())
    overlay_why = "chroot isolation mounts nothing";
  if (rootview_force_copy ())
    return false;
  l = xasprintf ("%s/probe", dir);
  opts = xasprintf ("lowerdir=%s,upperdir=%s/upper,workdir=%s/work%s", l, dir, dir,
                    rootless_userns () ? ",userxattr" : "");
  overlay_why = "bale cannot create its test directories in the store";
  if (mkdir (l, 0700) < 0)
    pid = -1;
  else
    pid = fork ();
  if (pid == 0)
    {
      bale_error_t e = NULL;
      int code = rootview_unshare (&e) < 0 ? PROBE_NO_MOUNT_NS
                 : mount ("overlay", l, "overlay", MS_RDONLY, opts) < 0 ? (errno & 0x7f ? errno & 0x7f : 1)
                                                                 : 0;
      bale_error_release (&e);
      _exit (code);
    }
  if (pid > 0)
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
      ;
  rmdir (l);
  x->overlay = pid > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0;
  if (pid > 0 && !x->overlay)
    overlay_why = probe_failure (status);
  return x->overlay;
}

/* Copied-rootfs mode: the stage's layers applied in order into root. */
static int
copy_root (struct executor *x, struct stage_state *state, const char *root, bale_error_t *err)
{
  cleanup_free const char **digests = xcalloc (state->n_layers + 1, sizeof *digests);
  cleanup_free const char **diff_ids = xcalloc (state->n_layers + 1, sizeof *diff_ids);

  for (size_t i = 0; i < state->n_layers; i++)
    {
      digests[i] = state->layers[i].digest;
      diff_ids[i] = state->layers[i].diff_id;
    }
  return store_unpack_root (x->o->store, state->n_layers, digests, diff_ids, root, err);
}

/* RUN --network=none|host wins; default (or none given) is bale build --network, whose own
   default is the host's network (docs: README "Security"). */
enum sandbox_network
exec_run_network (const struct executor *x, const struct plan_step *s)
{
  const char *mode = s->network && strcmp (s->network, "default") != 0 ? s->network
                                                                         : x->o->network;

  return mode && strcmp (mode, "none") == 0 ? SANDBOX_NET_NONE : SANDBOX_NET_HOST;
}

/* Remove every entry of the directory at path but keep (NULL: none), and the directory stays. */
static void
empty_dir (const char *path, const char *keep)
{
  cleanup_close int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct dirwalk_list list = { NULL, 0, 0 };
  bale_error_t e = NULL;

  if (fd >= 0 && dirwalk_list_read (fd, path, &list, &e) == 0)
    for (size_t i = 0; i < list.n; i++)
      if (keep == NULL || strcmp (list.v[i].name, keep) != 0)
        {
          cleanup_free char *p = xasprintf ("%s/%s", path, list.v[i].name);
          dirwalk_remove (fd, list.v[i].name, p, &e);
          bale_error_release (&e);
        }
  bale_error_release (&e);
  dirwalk_list_release (&list);
}

/*
 * The volatile mount's work/work/incompat/volatile (which holds only the file "dirty") is an
 * empty directory on the upper directory's file system that overlayfs made at the mount and
 * that must go before the next one: the next step takes it as its upper directory, with the
 * mode, owner and times mkdir would give, rather than removing it and making another. Each
 * removal frees a block, a synchronous discard on this project's disks, and each new inode
 * walks past the ones freed in the last minutes on ext4 without a journal (docs/perf.md).
 * Where it is not there (a failed mount), the next step makes its upper directory.
 */
static void
recycle_upper (const char *dir, const char *work)
{
  cleanup_free char *vol = xasprintf ("%s/work/incompat/volatile", work);
  cleanup_free char *dirty = xasprintf ("%s/dirty", vol);
  cleanup_free char *upper = xasprintf ("%s/upper", dir);

  if (unlink (dirty) < 0 || rename (vol, upper) < 0)
    return;
  if (chown (upper, geteuid (), getegid ()) < 0 || chmod (upper, 0755) < 0
      || utimensat (AT_FDCWD, upper, NULL, 0) < 0)
    rmdir (upper);
}

/*
 * The step's run directory (its upper and work directories, the files of its mounts): with
 * the executor's sandbox directory, one per process, emptied after each step but kept with
 * its overlay work directory, so that a step removes only what it made. Every directory or
 * file removed frees a block, and on a file system mounted with `discard` (this project's
 * machines) each freed block is a synchronous discard request of a few milliseconds: a new
 * run.XXXXXX each step cost three of them (docs/perf.md). The executor removes the sandbox
 * directory at the end of the build and store gc a killed build's. *kept says which.
 */
static char *
run_dir (struct executor *x, bool *kept, bale_error_t *err)
{
  static pid_t made_by; /* the process that made the run directory, which it keeps */
  char *dir;

  *kept = x->sandbox_dir != NULL;
  if (!*kept)
    {
      dir = store_area_path (x->o->store, STORE_AREA_TMP, "run.XXXXXX");
      if (!mkdtemp (dir))
        {
          bale_make_error (err, errno, "cannot create %s", dir);
          free (dir);
          return NULL;
        }
      return dir;
    }
  dir = xasprintf ("%s/run.%ld", x->sandbox_dir, (long) getpid ());
  if (mkdir (dir, 0700) == 0)
    made_by = getpid ();
  else if (errno != EEXIST)
    {
      bale_make_error (err, errno, "cannot create %s", dir);
      free (dir);
      return NULL;
    }
  else if (made_by != getpid ())
    {
      /* A leftover of a process of the same id, killed: its overlay's work directory too
         (a volatile mount's work/incompat would make the next mount fail). */
      made_by = getpid ();
      empty_dir (dir, "work");
      {
        cleanup_free char *work = xasprintf ("%s/work", dir);
        empty_dir (work, NULL);
      }
    }
  return dir;
}

/*
 * F25: BuildKit's RUN makes the mount points of /etc/hosts and /etc/resolv.conf in the rootfs
 * when the image lacks them (os.Lstat: not-exist or ENOTDIR) and removes those empty mount
 * points after the step, restoring /etc's times as they were once they had been made
 * (executor/stubs.go MountStubsCleaner): /etc, with the step's time, is in the step's layer.
 * bale's mount points live in a lower layer of their own, so /etc is put in the step's
 * writable layer before the step, as a copy-up would (mode, owner, xattrs of the image's),
 * with the time of now; a missing /etc is made 0755, as runc's mkdir leaves it. The step then
 * changes it as it will, as in BuildKit.
 */
static bool
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == 0;
}

static bool
dir_opaque (const char *path)
{
  char v[2];
  return getxattr (path, rootless_opaque_xattr (), v, sizeof v) == 1 && v[0] == 'y';
}

/* Whether /etc/NAME is missing from the overlay of lowers (topmost first). */
static bool
lowers_lack (const char *const *lowers, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *etc = xasprintf ("%s/etc", lowers[i]);
      cleanup_free char *p = xasprintf ("%s/%s", etc, name);
      struct stat st;

      if (lstat (etc, &st) < 0)
        continue;
      if (!S_ISDIR (st.st_mode))
        return true; /* a whiteout, or not a directory: ENOTDIR */
      if (lstat (p, &st) == 0)
        return is_whiteout (&st);
      if (dir_opaque (etc))
        return true;
    }
  return true;
}

/* Overlay mode: /etc in upper as the lowers show it, with the time of now. */
static int
stub_parent_overlay (const char *upper, const char *const *lowers, size_t n, bale_error_t *err)
{
  cleanup_free char *dst = xasprintf ("%s/etc", upper);
  cleanup_close int out = -1, in = -1;
  struct stat st = { .st_mode = S_IFDIR | 0755, .st_uid = geteuid (), .st_gid = getegid () };
  size_t i;

  if (!lowers_lack (lowers, n, "hosts") && !lowers_lack (lowers, n, "resolv.conf"))
    return 0;
  for (i = 0; i < n; i++)
    {
      cleanup_free char *etc = xasprintf ("%s/etc", lowers[i]);
      struct stat ls;
      if (lstat (etc, &ls) < 0)
        continue;
      if (S_ISDIR (ls.st_mode))
        {
          in = open (etc, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (in < 0)
            return bale_make_error (err, errno, "cannot open %s", etc);
          st = ls;
        }
      else if (!is_whiteout (&ls))
        return 0; /* /etc is a symlink or a file in the image: runc's mount fails there */
      break;
    }
  if (mkdir (dst, 0700) < 0 || (out = open (dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return bale_make_error (err, errno, "cannot create %s", dst);
  /* chown before chmod: chown clears the setuid and setgid bits */
  if ((in >= 0 && fsindex_copy_xattrs (in, out, true) < 0) || fchown (out, st.st_uid, st.st_gid) < 0
      || fchmod (out, st.st_mode & 07777) < 0)
    return bale_make_error (err, errno, "cannot copy the metadata of /etc to %s", dst);
  return 0;
}

/* Copied rootfs: /etc's time moved to now (made 0755 when missing). */
static int
stub_parent_copy (const char *root, bale_error_t *err)
{
  cleanup_close int rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC), etc = -1;
  static const char *const names[] = { "/etc/hosts", "/etc/resolv.conf" };
  bool lack = false;

  if (rootfd < 0)
    return bale_make_error (err, errno, "cannot open %s", root);
  for (size_t i = 0; i < 2; i++)
    {
      int fd = inroot_open (rootfd, names[i], O_PATH | O_NOFOLLOW, 0);
      if (fd >= 0)
        close (fd);
      else if (errno == ENOENT || errno == ENOTDIR)
        lack = true;
    }
  if (!lack)
    return 0;
  etc = inroot_open (rootfd, "/etc", O_RDONLY | O_DIRECTORY, 0);
  if (etc < 0 && errno == ENOENT)
    {
      cleanup_close int top = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (top < 0 || mkdirat (top, "etc", 0755) < 0 || fchmodat (top, "etc", 0755, 0) < 0)
        return bale_make_error (err, errno, "cannot create %s/etc", root);
      return 0;
    }
  if (etc < 0)
    return 0; /* not a directory: runc's mount fails there */
  if (futimens (etc, NULL) < 0)
    return bale_make_error (err, errno, "cannot set the times of %s/etc", root);
  return 0;
}

int
exec_run_step (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
               size_t stepno, bale_error_t *err)
{
  struct stage_state *state = &x->states[st->index];
  cleanup_free char *dir = NULL;
  cleanup_free char *upper = NULL, *work = NULL, *prefix = NULL, *root = NULL;
  struct fsindex *index = NULL;
  const char **lowers = NULL, **env = NULL, **argv = NULL;
  size_t n_lowers = 0, i, n_env = 0;
  struct run_mounts rm = { 0 };
  struct sandbox_spec spec;
  struct sandbox_result res = { 0 };
  bool have_path = false, kept = false;
  struct kvlist senv = KVLIST_INIT; /* the step's environment */
  int ret = -1;

  /* The plan refused it without the entitlement; a plan made elsewhere is checked again. */
  if (s->security && strcmp (s->security, "insecure") == 0 && !x->p->allow_insecure)
    return plan_error_at (x->p, &s->node->span, err,
                          "RUN --security=insecure needs `bale build --allow security.insecure`");
  /* Without an emulator a foreign binary fails with a bare "Exec format error": say why,
     naming the platform and what to install. A registered handler runs it (binfmt_misc). */
  {
    const struct bale_platform *pl = st->platform.os ? &st->platform : &x->p->target_platform;
    struct binfmt_handler h;
    bale_error_t e = NULL;
    if (binfmt_lookup (BINFMT_MISC_DIR, &x->p->build_platform, pl, &h, &e) == BINFMT_NONE)
      {
        plan_error_at (x->p, &s->node->span, err, "RUN: %s", e ? e->msg : "no emulator");
        bale_error_release (&e);
        return -1;
      }
    binfmt_handler_release (&h);
  }
  trace_mark ("run: start");
  if ((dir = run_dir (x, &kept, err)) == NULL)
    return -1;
  upper = xasprintf ("%s/upper", dir);
  work = xasprintf ("%s/work", dir);
  if ((mkdir (upper, 0755) < 0 && !(kept && errno == EEXIST))
      || (mkdir (work, 0700) < 0 && !(kept && errno == EEXIST)))
    {
      bale_make_error (err, errno, "cannot create the overlay directories in %s", dir);
      goto out;
    }
  trace_mark ("run: run dir made");
  if (overlay_usable (x, dir))
    {
      trace_mark ("run: overlay probed");
      if (exec_state_snapshots (x, state, &lowers, &n_lowers, err) < 0)
        goto out;
    }
  else
    {
      static bool said;
      cleanup_close int root_fd = -1;
      root = xasprintf ("%s/root", dir);
      if (!said)
        {
          cleanup_free char *msg = xasprintf ("RUN steps run on a copied root filesystem (slower): "
                                              "overlayfs cannot be used: %s", overlay_why);
          progress_vertex_warn (&x->vertex, msg);
        }
      said = true;
      bale_error_t e = NULL;
      if (copy_root (x, state, root, &e) < 0)
        {
          /* At the RUN's line, as every other error of the step. */
          exec_step_error (x, s, e->msg, e->status, err);
          bale_error_release (&e);
          goto out;
        }
      root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (root_fd < 0 || fsindex_break_hardlinks (root_fd, err) < 0
          || fsindex_build (root_fd, &index, err) < 0 || fsindex_watch (index, root, err) < 0)
        goto out;
    }
  if ((root ? stub_parent_copy (root, err) : stub_parent_overlay (upper, lowers, n_lowers, err)) < 0)
    goto out;
  trace_mark ("run: lowers ready");
  {
    bale_error_t e = NULL;
    if (setup_mounts (x, st, s, dir, &rm, &e) < 0 || setup_files (s, dir, &rm, &e) < 0)
      {
        /* At the RUN's line, as every other error of the step. */
        plan_error_at (x->p, &s->node->span, err, "RUN: %s%s%s", e->msg, e->status > 0 ? ": " : "",
                       e->status > 0 ? strerror (e->status) : "");
        bale_error_release (&e);
        goto out;
      }
  }

  /* The environment: secrets given as variables (they win over a variable of the same name),
     the stage's (image Env and ARG values), the proxy build args as both cases, and a default
     PATH when there is none. */
  kv_state_get (&s->env, &senv);
  env = xcalloc (rm.n_env + senv.n + x->p->proxy_env.n + 3, sizeof *env);
  for (i = 0; i < rm.n_env; i++)
    {
      env[n_env++] = rm.env[i];
      have_path |= strncmp (rm.env[i], "PATH=", 5) == 0;
    }
  for (i = 0; i < senv.n; i++)
    {
      if (env_has (env, rm.n_env, senv.kv[i]))
        continue;
      env[n_env++] = senv.kv[i];
      have_path |= strncmp (senv.kv[i], "PATH=", 5) == 0;
    }
  for (i = 0; i < x->p->proxy_env.n; i++)
    if (!kv_get (&senv, x->p->proxy_env.kv[i]))
      env[n_env++] = x->p->proxy_env.kv[i];
  if (!have_path)
    env[n_env++] = DEFAULT_PATH;
  if (rm.ssh_sock && !env_has (env, n_env, rm.ssh_sock))
    env[n_env++] = rm.ssh_sock;
  argv = xcalloc (s->argc + 1, sizeof *argv);
  for (i = 0; i < s->argc; i++)
    argv[i] = s->argv[i];

  sandbox_spec_init (&spec);
  spec.name = "RUN";
  spec.build_step = true;
  spec.lowerdirs = lowers;
  spec.n_lowerdirs = n_lowers;
  spec.upperdir = upper;
  spec.workdir = work;
  /* The upper directory becomes the layer's snapshot, adopted unsynced below: the unmount
     need not sync it (the whole file system, every other process's writes included). */
  spec.volatile_upper = true;
  if (root)
    {
      spec.copy_root = root;
      spec.force_copy = true;
      spec.chroot = isolation_chroot ();
      spec.lowerdirs = NULL;
      spec.n_lowerdirs = 0;
      spec.watch_fd = fsindex_watch_fd (index);
      spec.on_watch = fsindex_watch_read;
      spec.watch_ctx = index;
      spec.on_unmounted = fsindex_unmounted;
    }
  spec.argv = argv;
  spec.env = env;
  spec.cwd = s->workdir;
  spec.cwd_raw = s->workdir_raw;
  spec.user = s->user;
  /* BuildKit's oci.WithUIDGID adds the primary gid to the supplementary groups
     (ensureAdditionalGids, CVE-2023-25173); docker 20.10's did not (diff-fuzz F39). */
  spec.primary_group_in_groups = true;
  spec.network = exec_run_network (x, s);
  spec.insecure = s->security && strcmp (s->security, "insecure") == 0;
  spec.hosts = x->o->hosts;
  spec.n_hosts = x->o->n_hosts;
  spec.rlimits = x->o->rlimits;
  spec.n_rlimits = x->o->n_rlimits;
  spec.shm_size = x->o->shm_size;
  spec.mounts = rm.v;
  spec.n_mounts = rm.n;
  spec.tmpdir = dir;
  spec.keep_dir = x->sandbox_dir;
  /* The overlay's unmount (tens of ms after thousands of new files) goes to the reaper,
     while the layer is written. */
  spec.keep_mnt_ns = root == NULL && x->reaper.fd >= 0;
  spec.stdout_fd = spec.stderr_fd = -1;
  spec.on_line = x->o->events ? progress_log_line : NULL;
  spec.line_ctx = &x->vertex;
  prefix = xasprintf ("#%zu ", stepno);
  spec.prefix = prefix;
  if (spec.stdout_fd < 0)
    {
      /* Quiet builds still keep the output's tail for errors. */
      spec.stdout_fd = spec.stderr_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    }
  trace_mark ("run: mounts and environment ready");
  /* A signal that came since the step began (its key, its mounts) went to the build's handler,
     not to the sandbox's, which would run the command to its end: it is not started. */
  if (exec_interrupted)
    {
      plan_error_at (x->p, &s->node->span, err, "RUN: interrupted");
      goto out_fd;
    }
  if (sandbox_run (&spec, &res, err) < 0)
    {
      plan_error_at (x->p, &s->node->span, err, "RUN: the step could not run");
      goto out_fd;
    }
  if (res.has_mnt_ns)
    {
      exec_reaper_release_ns (&x->reaper, res.mnt_ns);
      res.has_mnt_ns = false;
    }
  if (res.interrupted)
    {
      plan_error_at (x->p, &s->node->span, err, "RUN: interrupted");
      goto out_fd;
    }
  {
    bale_error_t e = NULL;
    if (sandbox_result_check (&res, &e) < 0)
      {
        plan_error_at (x->p, &s->node->span, err, "%s", e->msg);
        bale_error_release (&e);
        goto out_fd;
      }
  }
  {
    struct run_ctx rc = { root ? root : upper, { 0 }, index };
    struct exec_layer l;
    rc.wopts.compression = LAYER_COMPRESSION_NONE;
    rc.wopts.overlay_upper = true;
    rc.wopts.epoch_set = x->o->epoch_set;
    rc.wopts.epoch = x->o->epoch;
    /* The blob is fsync'ed before the build ends: its writeback starts every 8 MiB while
       the tar is written, not at the commit (W4's 67 MB then made the stage's end wait). */
    rc.wopts.writeback = true;
    /* SHA-256 on an idle core while the tree is walked (joined before the next step's
       sandbox is cloned). */
    rc.wopts.hash_thread = LAYER_HASH_THREAD_IF_IDLE;
    /* On overlayfs the next steps read this layer's snapshot, adopted below, not its blob;
       a shared step's layer is taken by the other platforms' builds from its blob at once. */
    if ((root || x->o->shared_dir ? exec_inline_layer : exec_inline_layer_async) (x, s, diff_upper,
                                                                                 &rc, &l, err)
        < 0)
      goto out_fd;
    trace_mark ("run: layer stored");
    /* The upper directory is already the layer in overlay form: keep it as its snapshot,
       made in this boot and not synced (the overlay was volatile); in a later boot it is
       unpacked again from the blob, which the store syncs. */
    if (!root
        && snapshot_adopt_unsynced (store_snapshots_fd (x->o->store), l.diff_id, upper, &l.snapshot,
                                    err)
               < 0)
      {
        free (l.path);
        goto out_fd;
      }
    trace_mark ("run: snapshot adopted");
    exec_state_add_layer (state, &l, true);
    free (l.path);
    free (l.snapshot);
  }
  ret = 0;
out_fd:
  if (spec.stdout_fd >= 0)
    close (spec.stdout_fd);
out:
  fsindex_free (index);
  sandbox_result_release (&res);
  run_mounts_release (&rm);
  free (lowers);
  free (env);
  kv_release (&senv);
  free (argv);
  if (kept)
    {
      /* What overlayfs made in the work directory (work/work) goes too: the next mount
         would otherwise remove it itself, and refuse it for the volatile mount's
         work/work/incompat/volatile. */
      empty_dir (dir, "work");
      recycle_upper (dir, work);
      {
        /* What is left of it, work/work/incompat (all overlayfs makes in work/ with
           volatile), is removed by the reaper meanwhile. */
        cleanup_free char *ww = xasprintf ("%s/work", work);
        exec_reaper_remove (&x->reaper, ww);
      }
    }
  else
    remove_tmp_dir (x, dir);
  trace_mark ("run: scratch removed");
  return ret;
}
