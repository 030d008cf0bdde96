/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sandbox's scratch directory: the generated /etc files, the stub layer, overlay data. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/fs/rootless.h"
#include "runtime/layer/rootview.h"
#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

/* Write text to path, created or rewritten in place: a kept scratch directory's /etc files
   are the same files from step to step (see keep_scratch). */
static int
write_file (const char *path, const char *text, bale_error_t *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  size_t len = strlen (text);

  if (fd < 0 || fileio_write_all (fd, text, len) < 0 || ftruncate (fd, (off_t) len) < 0)
    return bale_make_error (err, errno, "cannot write '%s'", path);
  return 0;
}

static int
write_etc_files (const struct rt_sbx_plan *plan, bale_error_t *err)
{
  const char *host = sandbox_hostname (plan->spec);
  /* BuildKit's RUN step names its host on the localhost line (executor/oci/hosts.go). */
  cleanup_free char *hosts
      = plan->spec->build_step
            ? xasprintf ("127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", host)
            : xasprintf ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                         "ip6-loopback\n127.0.1.1\t%s\n", host);
  cleanup_free char *hostname = xasprintf ("%s\n", host);
  struct strbuf all_hosts = STRBUF_INIT;
  cleanup_free char *p1 = xasprintf ("%s/hosts", plan->etc_dir);
  cleanup_free char *p2 = xasprintf ("%s/hostname", plan->etc_dir);
  cleanup_free char *p3 = xasprintf ("%s/resolv.conf", plan->etc_dir);
  struct strbuf resolv = STRBUF_INIT;
  cleanup_close int fd = open ("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
  bale_error_t ignored = NULL;
  int ret;

  /* The host's resolvers, as Docker and buildah do with host networking. */
  if (fd >= 0 && fileio_read_fd (fd, "/etc/resolv.conf", &resolv, &ignored) < 0)
    bale_error_release (&ignored);
  if (mkdir (plan->etc_dir, 0755) < 0 && !(plan->kept && errno == EEXIST))
    return bale_make_error (err, errno, "cannot create '%s'", plan->etc_dir);
  /* --add-host entries after the defaults, one "IP<TAB>NAME" line each (BuildKit). */
  strbuf_addstr (&all_hosts, hosts);
  for (size_t i = 0; i < plan->spec->n_hosts; i++)
    strbuf_addf (&all_hosts, "%s\t%s\n", plan->spec->hosts[i].ip, plan->spec->hosts[i].name);
  ret = write_file (p1, all_hosts.buf, err);
  strbuf_release (&all_hosts);
  if (ret == 0 && !plan->spec->build_step)
    ret = write_file (p2, hostname, err);
  if (ret == 0)
    ret = write_file (p3, resolv.buf, err);
  strbuf_release (&resolv);
  return ret;
}

/* The stub layer's directory takes the metadata of the image's own (the topmost lower that
   has the name): a merged directory shows the topmost lower's mode and times, and a copy-up
   into the upper directory would record ours in the layer. A kept stub layer (reset) whose
   image has no such directory gets back what mkdir gave it in the first step. */
static void
copy_dir_meta (const struct sandbox_spec *spec, const char *stub, const char *name, bool reset)
{
  if (reset)
    {
      cleanup_free char *p = xasprintf ("%s/%s", stub, name);
      if (lchown (p, geteuid (), getegid ()) == 0 && chmod (p, 0755) == 0)
        utimensat (AT_FDCWD, p, NULL, AT_SYMLINK_NOFOLLOW);
    }

  for (size_t i = 0; i < spec->n_lowerdirs; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", spec->lowerdirs[i], name);
      struct stat st;
      struct timespec ts[2];

      if (lstat (p, &st) < 0)
        continue;
      if (!S_ISDIR (st.st_mode)) /* a whiteout or a non-directory hides the name below */
        return;
      free (p);
      p = xasprintf ("%s/%s", stub, name);
      ts[0] = st.st_atim;
      ts[1] = st.st_mtim;
      if (lchown (p, st.st_uid, st.st_gid) == 0 && chmod (p, st.st_mode & 07777) == 0)
        utimensat (AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
      return;
    }
}

/* The topmost lower layer of the overlay: the mount points of /proc, /dev, /sys and the /etc
   files, so that mounting them creates nothing in the upper directory. */
static int
make_stub_layer (const struct rt_sbx_plan *plan, bale_error_t *err)
{
  static const char *const dirs[] = { "proc", "dev", "sys", "etc" };
  const char *files[3];
  size_t n_files = rt_sbx_etc_files (plan->spec, files);

  if (mkdir (plan->stubs, 0755) < 0)
    return bale_make_error (err, errno, "cannot create '%s'", plan->stubs);
  for (size_t i = 0; i < 4; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", plan->stubs, dirs[i]);
      if (mkdir (p, 0755) < 0)
        return bale_make_error (err, errno, "cannot create '%s'", p);
    }
  for (size_t i = 0; i < n_files; i++)
    {
      cleanup_free char *p = xasprintf ("%s/etc/%s", plan->stubs, files[i]);
      if (write_file (p, "", err) < 0)
        return -1;
    }
  for (size_t i = 0; i < 4; i++)
    copy_dir_meta (plan->spec, plan->stubs, dirs[i], false);
  return 0;
}

/* This process's kept scratch directory (spec->keep_dir): per process, as parallel stages
   are processes whose steps must not share a stub layer whose metadata each one sets. */
static struct
{
  pid_t pid;
  char *keep_dir;
  char *scratch;
} kept;

/* Reuse the kept scratch directory: 1 when it was there, 0 when a new one was made. */
static int
keep_scratch (struct rt_sbx_plan *plan, bale_error_t *err)
{
  const struct sandbox_spec *spec = plan->spec;
  static const char *const dirs[] = { "proc", "dev", "sys", "etc" };
  struct stat st;

  plan->kept = true;
  if (kept.pid == getpid () && strcmp (kept.keep_dir, spec->keep_dir) == 0
      && stat (kept.scratch, &st) == 0)
    {
      plan->scratch = xstrdup (kept.scratch);
      plan->root = xasprintf ("%s/root", plan->scratch);
      plan->stubs = xasprintf ("%s/stub", plan->scratch);
      plan->etc_dir = xasprintf ("%s/etc", plan->scratch);
      for (size_t i = 0; i < 4; i++)
        copy_dir_meta (spec, plan->stubs, dirs[i], true);
      return 1;
    }
  plan->scratch = xasprintf ("%s/sandbox.XXXXXX", spec->keep_dir);
  if (mkdtemp (plan->scratch) == NULL)
    {
      int e = errno;
      free (steal_pointer (&plan->scratch));
      return bale_make_error (err, e, "cannot create a directory in '%s'", spec->keep_dir);
    }
  plan->root = xasprintf ("%s/root", plan->scratch);
  plan->stubs = xasprintf ("%s/stub", plan->scratch);
  plan->etc_dir = xasprintf ("%s/etc", plan->scratch);
  if (mkdir (plan->root, 0755) < 0)
    return bale_make_error (err, errno, "cannot create '%s'", plan->root);
  if (make_stub_layer (plan, err) < 0)
    return -1;
  free (kept.keep_dir);
  free (kept.scratch);
  kept.pid = getpid ();
  kept.keep_dir = xstrdup (spec->keep_dir);
  kept.scratch = xstrdup (plan->scratch);
  return 0;
}

/* The mount data for kernels without "lowerdir+", where ',' and ':' separate options and
   layers; NULL when a path holds one of them. */
static void
overlay_options (struct rt_sbx_plan *plan)
{
  const struct sandbox_spec *spec = plan->spec;
  struct strbuf sb = STRBUF_INIT;
  const char *all[3] = { plan->stubs, spec->upperdir, spec->workdir };

  for (size_t i = 0; i < 3 + spec->n_lowerdirs; i++)
    if (strpbrk (i < 3 ? all[i] : spec->lowerdirs[i - 3], ",:\\") != NULL)
      return;
  strbuf_addf (&sb, "lowerdir=%s", plan->stubs);
  for (size_t i = 0; i < spec->n_lowerdirs; i++)
    strbuf_addf (&sb, ":%s", spec->lowerdirs[i]);
  strbuf_addf (&sb, ",upperdir=%s,workdir=%s,%s,metacopy=off", spec->upperdir, spec->workdir,
               rootless_userns () ? "userxattr,redirect_dir=nofollow" : "redirect_dir=off");
  if (spec->volatile_upper)
    strbuf_addstr (&sb, ",volatile"); /* last: mount_overlay drops it where it is unknown */
  plan->overlay_opts = strbuf_detach (&sb, NULL);
}

static int
remove_fn (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  return remove (path) < 0 && errno != ENOENT ? -1 : 0;
}

void
rt_sbx_plan_release (struct rt_sbx_plan *plan)
{
  /* A kept scratch directory stays whole, its /etc files included: they are rewritten in
     place for the next step, as removing a file costs a synchronous discard request on a
     file system mounted with `discard` (docs/perf.md). */
  if (!plan->kept && plan->scratch)
    nftw (plan->scratch, remove_fn, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  free (plan->scratch);
  free (plan->root);
  free (plan->stubs);
  free (plan->etc_dir);
  free (plan->overlay_opts);
  rt_sbx_chroot_release (plan);
}

int
rt_sbx_plan_init (struct rt_sbx_plan *plan, const struct sandbox_spec *spec, bale_error_t *err)
{
  const char *tmp = spec->tmpdir ? spec->tmpdir : getenv ("TMPDIR");
  bool overlay = spec->upperdir && spec->workdir && !spec->force_copy;

  plan->spec = spec;
  if (overlay && spec->keep_dir && spec->tmpdir)
    {
      if (keep_scratch (plan, err) < 0)
        return -1;
      overlay_options (plan);
      plan->legacy_overlay = rootview_overlay_legacy ();
      return write_etc_files (plan, err);
    }
  plan->scratch = xasprintf ("%s/bale-sandbox.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp (plan->scratch) == NULL)
    {
      int e = errno;
      free (steal_pointer (&plan->scratch));
      return bale_make_error (err, e, "cannot create a directory in '%s'", tmp ? tmp : "/tmp");
    }
  plan->root = xasprintf ("%s/root", plan->scratch);
  plan->stubs = xasprintf ("%s/stub", plan->scratch);
  plan->etc_dir = xasprintf ("%s/etc", plan->scratch);
  if (mkdir (plan->root, 0755) < 0)
    return bale_make_error (err, errno, "cannot create '%s'", plan->root);
  if (write_etc_files (plan, err) < 0)
    return -1;
  if (overlay)
    {
      overlay_options (plan);
      plan->legacy_overlay = rootview_overlay_legacy ();
    }
  if (overlay && make_stub_layer (plan, err) < 0)
    return -1;
  return 0;
}
