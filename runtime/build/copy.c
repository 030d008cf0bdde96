/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COPY and ADD into a layer (docs/semantics.md D1-D7). The copy is planned first: every
 * entry it produces is collected with its destination path, then sorted the way a layer is
 * written (depth first, children in byte order) and de-duplicated (a later source wins,
 * directories merge). Only then are files opened and streamed into the writer, so each
 * source file is read once, and never written to disk in between.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "codegen/dispatch.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/trace.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/copy.h"
#include "runtime/build/copy_mode.h"
#include "common/dirwalk.h"
#include "runtime/fs/inroot.h"
#include "runtime/fs/owners.h"
#include "runtime/layer/layer.h"
#include "common/banned.h"

enum centry_kind
{
  CE_DIR,
  CE_FILE,
  CE_SYMLINK,
  CE_SPECIAL,
  CE_MEM, /* a heredoc: bytes in memory */
};

struct centry
{
  char *path; /* in the image, relative: "app/bin/x" */
  enum centry_kind kind;
  struct stat st;
  int root_fd;      /* the file is src_rel under root_fd (CE_FILE, CE_DIR with xattrs) */
  char *src_rel;
  char *target;     /* CE_SYMLINK */
  const char *data; /* CE_MEM */
  size_t len;
  bool top;         /* a source named by the instruction: its symlink was followed */
  bool existed;     /* CE_DIR: a directory of the destination, as it is there */
  bool opaque;      /* CE_DIR: an ADDed archive's, over what the destination had there:
                       nothing below it in the layers under it shows (FINDINGS F66) */
  size_t seq;       /* order of discovery: the later one wins */
};

struct copier
{
  const struct copy_spec *spec;
  struct centry *v;
  size_t n, alloc;
  size_t seq;
  int staging_fd; /* ADD: where archives are unpacked */
  char *staging;
  int n_staged;
  int *fds; /* directories entries are read from, open until the layer is written */
  size_t n_fds, alloc_fds;
  const char *ex_base; /* the directory being copied as --exclude sees it: NULL for "" */
  /* ADD of an archive (add_archive): where it is unpacked, the directories it names (sorted),
     and its directories that lead elsewhere through a symlink of the destination. */
  const char *archive_root;
  char **listed;
  size_t n_listed, alloc_listed;
  char **nondir; /* the paths where the archive has entries that are no directory (sorted) */
  size_t n_nondir, alloc_nondir;
  struct archive_redirect *redir;
  size_t n_redir, alloc_redir;
};

struct archive_redirect
{
  char *from; /* a directory of the archive, relative to it */
  char *to;   /* where its entries go, relative to the image root */
};

static void
keep_fd (struct copier *c, int fd)
{
  XGROW (c->fds, c->alloc_fds, c->n_fds + 1);
  c->fds[c->n_fds++] = fd;
}

/* ---- entries --------------------------------------------------------------------------- */

static struct centry *
add (struct copier *c, const char *path, enum centry_kind kind, const struct stat *st)
{
  struct centry *e;

  XGROW (c->v, c->alloc, c->n + 1);
  e = &c->v[c->n++];
  memset (e, 0, sizeof *e);
  e->path = xstrdup (path);
  e->kind = kind;
  if (st)
    e->st = *st;
  e->root_fd = -1;
  e->seq = c->seq++;
  return e;
}

/* One id: a symbolic link's or FIFO's owner is recorded for the inode in its layer's
   snapshot, which a view shows under another (an overlay's, or a merged copy's): the entry
   at the same path in the topmost snapshot that has one is the one the view shows. */
static void
view_special_owner (const struct copy_spec *s, int dirfd, const char *name, struct stat *st)
{
  char p[64], full[PATH_MAX], root[PATH_MAX];
  ssize_t n, m;
  size_t rl;

  if (s->n_src_layers == 0 || !s->src_path || !*name)
    return;
  snprintf (p, sizeof p, "/proc/self/fd/%d", dirfd);
  n = readlink (p, full, sizeof full - 1);
  snprintf (p, sizeof p, "/proc/self/fd/%d", s->src_fd);
  m = readlink (p, root, sizeof root - 1);
  if (n < 0 || m < 0)
    return;
  full[n] = root[m] = '\0';
  rl = (size_t) m;
  if (strncmp (full, root, rl) != 0 || (full[rl] != '/' && full[rl] != '\0'))
    return;
  for (size_t i = 0; i < s->n_src_layers; i++)
    {
      cleanup_close int lfd = open (s->src_layers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      cleanup_close int dfd = -1;
      struct stat lst;

      if (lfd < 0)
        return;
      dfd = inroot_open (lfd, full[rl] ? full + rl + 1 : "", O_PATH | O_DIRECTORY,
                         INROOT_BENEATH | INROOT_NO_SYMLINKS);
      if (dfd < 0 || fstatat (dfd, name, &lst, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if ((lst.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
        return;
      /* This process's record of the snapshot's inode (made by this build), else the one
         the snapshot keeps (made by an earlier build or another process). */
      if (owners_apply_special (dfd, name, &lst))
        {
          st->st_uid = lst.st_uid;
          st->st_gid = lst.st_gid;
        }
      else
        {
          cleanup_free char *rel = full[rl] ? xasprintf ("%s/%s", full + rl + 1, name) : xstrdup (name);
          snapshot_special_owner (s->src_layers[i], rel, &st->st_uid, &st->st_gid);
        }
      return; /* the topmost entry is the one shown, recorded or not */
    }
}

/* A rootless build's stage view or unpacked archive keeps the owners and devices it could
   not make real in overrides (runtime/fs/owners.h): the copy writes what they stand for, as
   the layer writer does for a RUN step. Never for the context, whose xattrs are the user's. */
static void
source_overrides (const struct copy_spec *s, int dirfd, const char *name, struct stat *st)
{
  cleanup_close int fd = -1;

  if (!s->keep_owner || !owners_active ())
    return;
  if (S_ISLNK (st->st_mode) || S_ISFIFO (st->st_mode))
    {
      if (!owners_apply_special (dirfd, name, st))
        view_special_owner (s, dirfd, name, st);
      return;
    }
  if (!S_ISREG (st->st_mode) && !S_ISDIR (st->st_mode))
    return;
  /* name "": dirfd is the source file itself, open for reading */
  fd = *name ? openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (S_ISDIR (st->st_mode) ? O_DIRECTORY : 0))
             : fcntl (dirfd, F_DUPFD_CLOEXEC, 0);
  if (fd >= 0)
    owners_apply (fd, st);
}

/* Metadata of what the copy writes: owners and mode rules of D3-D5. */
static void
apply_meta (const struct copy_spec *s, struct stat *st, bool from_source)
{
  if (s->chown_set)
    {
      st->st_uid = s->uid;
      st->st_gid = s->gid;
    }
  else if (!(from_source && s->keep_owner))
    st->st_uid = st->st_gid = 0;
  if (s->chmod_set && !S_ISLNK (st->st_mode))
    st->st_mode = (st->st_mode & S_IFMT)
                  | (s->chmod_sym ? copy_mode_apply (s->chmod_sym, st->st_mode, S_ISDIR (st->st_mode)) : s->mode);
}

/* A directory the copy creates for its destination (the destination of a directory's
   contents, or a missing parent): MkdirAll(0755, chown) as docker 20.10's BuildKit makes it,
   so --chown applies and --chmod does not; the mode is for what is copied (`COPY --chmod=600
   dir /new/` gives a /new of 0755: issue 16, fuzzer finding F3; today's fsutil, since 183e7fb,
   gives it an octal --chmod's bits: F38). Made with mkdir(2) in the root, it inherits a setgid
   parent's bit and group as Linux gives them (fuzzer finding F8; --chown still sets the
   group). parent: its parent directory's stat. */
static void
created_dir_stat (const struct copy_spec *s, const struct stat *parent, struct stat *st)
{
  memset (st, 0, sizeof *st);
  st->st_mode = S_IFDIR | 0755;
  st->st_mtim.tv_sec = s->now;
  st->st_nlink = 1;
  if (parent && (parent->st_mode & S_ISGID))
    {
      st->st_mode |= S_ISGID;
      st->st_gid = parent->st_gid;
    }
  if (s->chown_set)
    {
      st->st_uid = s->uid;
      st->st_gid = s->gid;
    }
}

static char *
join (const char *a, const char *b)
{
  if (!*a)
    return xstrdup (b);
  if (!*b)
    return xstrdup (a);
  return xasprintf ("%s/%s", a, b);
}

/* ---- the destination --------------------------------------------------------------------- */

/* lstat of rel in the destination view; false when it does not exist (or there is none). */
static bool
dest_stat (const struct copy_spec *s, const char *rel, struct stat *st, bool follow)
{
  int fd;
  bool ok;

  if (s->dest_fd < 0)
    return false;
  if (!*rel)
    return fstat (s->dest_fd, st) == 0;
  fd = copy_open (s->dest_fd, COPY_ROOT_IMAGE, rel, O_PATH | (follow ? 0 : O_NOFOLLOW), NULL);
  if (fd < 0)
    return false;
  ok = fstat (fd, st) == 0;
  close (fd);
  return ok;
}

/*
 * A dangling symlink at prefix (its parent exists): the path through its target, as it is
 * read inside the root (an absolute target from the root, ".." stopping there), with the
 * rest of rel after prefix; NULL when prefix is no symlink.
 */
static char *
dest_through_dangling (const struct copy_spec *s, const char *prefix, const char *rest)
{
  cleanup_close int fd = copy_open (s->dest_fd, COPY_ROOT_IMAGE, prefix, O_PATH | O_NOFOLLOW, NULL);
  cleanup_free char *joined = NULL, *clean = NULL;
  char target[PATH_MAX + 1];
  const char *slash = strrchr (prefix, '/');
  struct stat st;
  ssize_t n;

  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISLNK (st.st_mode)
      || (n = readlinkat (fd, "", target, PATH_MAX)) <= 0)
    return NULL;
  target[n] = '\0';
  if (target[0] == '/')
    joined = xasprintf ("%s/%s", target, rest);
  else
    joined = xasprintf ("/%.*s/%s/%s", slash ? (int) (slash - prefix) : 0, prefix, target, rest);
  clean = dispatch_clean_path (joined);
  return xstrdup (clean + 1);
}

/*
 * The destination path with symlinks of the destination filesystem resolved, as the copy
 * into a mounted root would follow them (COPY x /bin/ on a merged-/usr image writes
 * usr/bin/x). The longest existing prefix is resolved through the kernel; a dangling symlink
 * after it is followed too (BuildKit's copy creates /w/nowhere/x for `COPY a /w/d/x/` when
 * /w/d -> nowhere: issue 16, fuzzer finding F6), up to 40 links as the kernel allows; the
 * rest is kept.
 */
static char *
dest_resolve_hops (const struct copy_spec *s, const char *rel, int hops)
{
  cleanup_free char *prefix = xstrdup (rel);
  char *cut;

  if (s->dest_fd < 0 || !*rel)
    return xstrdup (rel);
  for (;;)
    {
      int fd = copy_open (s->dest_fd, COPY_ROOT_IMAGE, prefix, O_PATH, NULL);
      if (fd >= 0)
        {
          cleanup_free char *inside = copy_context_rel (s->dest_fd, fd);
          close (fd);
          if (inside)
            return join (inside, rel + strlen (prefix) + (rel[strlen (prefix)] == '/'));
          return xstrdup (rel);
        }
      if (hops < 40 && (errno == ENOENT || errno == ELOOP))
        {
          const char *rest = rel + strlen (prefix) + (rel[strlen (prefix)] == '/');
          cleanup_free char *through = dest_through_dangling (s, prefix, rest);
          if (through)
            return dest_resolve_hops (s, through, hops + 1);
        }
      cut = strrchr (prefix, '/');
      if (!cut)
        return xstrdup (rel);
      *cut = '\0';
    }
}

static char *
dest_resolve (const struct copy_spec *s, const char *rel)
{
  return dest_resolve_hops (s, rel, 0);
}

/* The directories above path (and path itself when self), outermost first: as they are in
   the destination when they exist there, created otherwise. A parent that exists as another
   type (a file, or a symlink dest_resolve could not follow) is an error, as BuildKit's
   MkdirAll fails on it (fuzzer finding F7): the copy never replaces it by a directory. */
static int
add_parents (struct copier *c, const char *path, bool self, bale_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  size_t len = strlen (p), i;
  struct stat parent;

  if (!dest_stat (c->spec, "", &parent, false))
    parent.st_mode = S_IFDIR | 0755;
  for (i = 1; i <= len; i++)
    {
      struct stat st;
      bool have;
      if (p[i] != '/' && p[i] != '\0')
        continue;
      if (p[i] == '\0' && !self)
        break;
      p[i] = '\0';
      have = dest_stat (c->spec, p, &st, false);
      if (have && S_ISDIR (st.st_mode))
        {
          struct centry *e = add (c, p, CE_DIR, &st);
          e->seq = 0; /* an existing directory never overrides a copied one */
          e->existed = true;
        }
      else if (have && i < len)
        return bale_make_error (err, S_ISLNK (st.st_mode) ? ELOOP : ENOTDIR,
                                "cannot copy to /%s: /%s is not a directory%s", path, p,
                                S_ISLNK (st.st_mode) ? " (a symlink loop)" : "");
      else
        {
          created_dir_stat (c->spec, &parent, &st);
          add (c, p, CE_DIR, &st)->seq = 0;
        }
      parent = st;
      if (i < len)
        p[i] = '/';
    }
  return 0;
}

/* The directory above path as the copy leaves it: the last entry add_parents made for it. */
static const struct stat *
parent_stat (const struct copier *c, const char *path)
{
  const char *slash = strrchr (path, '/');
  size_t plen = slash ? (size_t) (slash - path) : 0, i;

  for (i = c->n; i > 0; i--)
    if (c->v[i - 1].kind == CE_DIR && strlen (c->v[i - 1].path) == plen
        && strncmp (c->v[i - 1].path, path, plen) == 0)
      return &c->v[i - 1].st;
  return NULL;
}

/* ---- sources ----------------------------------------------------------------------------- */

struct walk_ctx
{
  struct copier *c;
  int root_fd;        /* the directory being copied, as an fd for dirwalk */
  const char *src_rel; /* that directory relative to the source root */
  const char *dest;    /* where its contents go */
  char *fresh;         /* a directory of dest found missing: nothing under it to clash with */
  const char *ex_base; /* that directory as --exclude patterns see it ("" for each source) */
};

/* ---- archives unpacked through the destination's symlinks ---------------------------------- */

/*
 * BuildKit unpacks an ADDed archive with moby's chrootarchive.Untar, chrooted into the
 * destination directory: an entry's parent that the archive does not name itself and that
 * exists there as a symlink is followed (not replaced), with the destination as "/" (an
 * absolute target, and ".." at the top, stay inside it), and a parent found missing that
 * way fails the ADD ("open /top/f: no such file or directory"). A directory the archive
 * names replaces the symlink (os.RemoveAll, then mkdir). FINDINGS F60.
 *
 * The one resolver does the following (runtime/fs/inroot.h), with the destination's
 * descriptor as the root: a chain of symlinks, ".." at the top, absolute targets and /proc
 * magic links are its rules, not a second walker's. What comes back is the directory's path
 * in the image, read from the descriptor it opened.
 */
static int
archive_follow (const struct copy_spec *s, const char *root, const char *link, char **out,
                bale_error_t *err)
{
  size_t rl = strlen (root);
  const char *rel;
  cleanup_close int root_fd = -1;
  cleanup_close int fd = -1;
  char *inside;

  /* link is a path of the archive under root, or one a redirect made from a directory
     this function returned, which is under root's real path: root is itself resolved
     (dest_resolve), so both start with it. Anything else is a bug to report, not an offset
     to read past. */
  if (strncmp (link, root, rl) != 0 || (rl && link[rl] != '/' && link[rl] != '\0'))
    return bale_make_error (err, 0, "open /%s: not under the destination /%s", link, root);
  rel = link + rl + (rl && link[rl] == '/');
  root_fd = copy_open (s->dest_fd, COPY_ROOT_IMAGE, root, O_PATH | O_DIRECTORY, NULL);
  if (root_fd < 0)
    return bale_make_error (err, errno, "open /%s", root);
  fd = inroot_open (root_fd, rel, O_PATH | O_DIRECTORY, 0);
  if (fd < 0)
    switch (errno)
      {
      case ENOENT:
      case ENOTDIR:
        return bale_make_error (err, 0, "open /%s: %s (the symlink is read with /%s as the root)", link,
                                errno == ENOENT ? "no such directory" : "not a directory", root);
      case ELOOP:
        return bale_make_error (err, 0, "open /%s: too many levels of symbolic links (more than 40, or a "
                                            "/proc magic link, read with /%s as the root)", link, root);
      default:
        return bale_make_error (err, errno, "open /%s (read with /%s as the root)", link, root);
      }
  inside = copy_context_rel (s->dest_fd, fd);
  if (!inside)
    return bale_make_error (err, 0, "open /%s: cannot tell where its directory is in the image", link);
  *out = inside;
  return 0;
}

static void
archive_listed_add (void *arg, const char *path)
{
  struct copier *c = arg;

  XGROW (c->listed, c->alloc_listed, c->n_listed + 1);
  c->listed[c->n_listed++] = xstrdup (path);
}

static void
archive_nondir_add (void *arg, const char *path)
{
  struct copier *c = arg;

  XGROW (c->nondir, c->alloc_nondir, c->n_nondir + 1);
  c->nondir[c->n_nondir++] = xstrdup (path);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Whether an ADDed archive's directory relpath (going to dst) replaces what the destination
   has there: moby's unpack removes any entry a non-directory of the archive lands on, or a
   directory lands on (RemoveAll), then makes the directory afresh, and overlayfs marks such
   a directory opaque (FINDINGS F66: a lower directory's files stay hidden). */
static bool
archive_replaces (const struct copier *c, const char *relpath, const char *dst)
{
  struct stat have;

  if (!dest_stat (c->spec, dst, &have, false))
    return false;
  return !S_ISDIR (have.st_mode)
         || (c->n_nondir > 0 && bsearch (&relpath, c->nondir, c->n_nondir, sizeof *c->nondir, cmp_str));
}

/* Where an archive's entry goes: through the redirects of its parents, if any. */
static char *
archive_dst (const struct copier *c, const char *dest, const char *relpath)
{
  const struct archive_redirect *best = NULL;
  size_t i, bl = 0;

  for (i = 0; i < c->n_redir; i++)
    {
      size_t l = strlen (c->redir[i].from);
      if (l > bl && strncmp (relpath, c->redir[i].from, l) == 0 && (relpath[l] == '/' || relpath[l] == '\0'))
        best = &c->redir[i], bl = l;
    }
  if (!best)
    return join (dest, relpath);
  return join (best->to, relpath[bl] ? relpath + bl + 1 : "");
}

/* An archive's directory it did not name, found as a symlink (or another non-directory) in
   the destination: followed, its entries redirected (1); 0 when it is no such case. */
static int
archive_through_link (struct copier *c, const char *relpath, const char *dst, bale_error_t *err)
{
  const char *key = relpath;
  struct stat have;
  char *to = NULL;

  if ((c->n_listed > 0 && bsearch (&key, c->listed, c->n_listed, sizeof *c->listed, cmp_str))
      || !dest_stat (c->spec, dst, &have, false) || S_ISDIR (have.st_mode))
    return 0;
  if (!S_ISLNK (have.st_mode))
    return bale_make_error (err, ENOTDIR, "mkdir /%s: not a directory", dst);
  if (archive_follow (c->spec, c->archive_root, dst, &to, err) < 0)
    return -1;
  /* The directory it leads to, and those above it, are the parents of the entries written
     there: in the layer as they are (moby's unpack writes into them; FINDINGS F69). */
  if (add_parents (c, to, true, err) < 0)
    {
      free (to);
      return -1;
    }
  XGROW (c->redir, c->alloc_redir, c->n_redir + 1);
  c->redir[c->n_redir].from = xstrdup (relpath);
  c->redir[c->n_redir++].to = to;
  return 1;
}

static int
walk_entry (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct walk_ctx *w = ctx;
  const struct copy_spec *s = w->c->spec;
  cleanup_free char *ctx_rel = join (w->src_rel, e->relpath);
  cleanup_free char *dst = w->c->archive_root ? archive_dst (w->c, w->dest, e->relpath) : join (w->dest, e->relpath);
  struct stat st = *e->st;
  struct centry *ce;

  (void) err;
  if (s->src_kind == COPY_ROOT_CONTEXT)
    switch (copy_walk_check (s->ignore, ctx_rel, st.st_mode))
      {
      case COPY_WALK_PRUNE: return DIRWALK_SKIP;
      case COPY_WALK_OMIT: return DIRWALK_CONTINUE;
      case COPY_WALK_KEEP: break;
      }
  /* --exclude: fsutil's copier matches the patterns against the path below the source it
     copies (never the source itself); an excluded directory is walked only when an
     exception ('!') might keep something inside, and then written only as the parent of
     what is kept (add_missing_parents). */
  if (s->exclude)
    {
      cleanup_free char *ex_rel = join (w->ex_base, e->relpath);
      switch (copy_exclude_check (s->exclude, ex_rel, st.st_mode))
        {
        case COPY_WALK_PRUNE: return DIRWALK_SKIP;
        case COPY_WALK_OMIT: return DIRWALK_CONTINUE;
        case COPY_WALK_KEEP: break;
        }
    }
  if (w->c->archive_root && S_ISDIR (st.st_mode))
    {
      int r = archive_through_link (w->c, e->relpath, dst, err);
      if (r != 0)
        return r < 0 ? -1 : DIRWALK_CONTINUE;
    }
  /* A directory's entry over another type in the destination fails as fsutil's copy fails
     (copyDirectoryOnly, ensureEmptyFileTarget: lstat, a symlink is no directory); an ADDed
     archive's replaces it, as moby's archive does (fuzzer finding F29). */
  if (!s->fifos && s->dest_fd >= 0
      && !(w->fresh && strncmp (dst, w->fresh, strlen (w->fresh)) == 0 && dst[strlen (w->fresh)] == '/'))
    {
      struct stat have;
      if (!dest_stat (s, dst, &have, false))
        {
          if (S_ISDIR (st.st_mode))
            {
              free (w->fresh);
              w->fresh = xstrdup (dst);
            }
        }
      else if (S_ISDIR (st.st_mode) != S_ISDIR (have.st_mode))
        return S_ISDIR (st.st_mode) ? bale_make_error (err, 0, "cannot copy to non-directory: /%s", dst)
                                    : bale_make_error (err, 0, "cannot replace to directory /%s with file", dst);
    }
  source_overrides (s, e->dirfd, e->name, &st);
  apply_meta (s, &st, true);
  if (S_ISDIR (st.st_mode))
    {
      ce = add (w->c, dst, CE_DIR, &st);
      ce->opaque = w->c->archive_root && archive_replaces (w->c, e->relpath, dst);
    }
  else if (S_ISREG (st.st_mode))
    ce = add (w->c, dst, CE_FILE, &st);
  else if (S_ISLNK (st.st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (e->dirfd, e->name, target, PATH_MAX);
      if (n < 0)
        return bale_make_error (err, errno, "cannot read symlink \"%s\"", ctx_rel);
      target[n] = '\0';
      ce = add (w->c, dst, CE_SYMLINK, &st);
      ce->target = xstrdup (target);
      return DIRWALK_CONTINUE;
    }
  else if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode) || (S_ISFIFO (st.st_mode) && s->fifos))
    ce = add (w->c, dst, CE_SPECIAL, &st);
  else
    return DIRWALK_CONTINUE; /* sockets, and FIFOs but an archive's, are not copied */
  ce->root_fd = w->root_fd;
  ce->src_rel = xstrdup (e->relpath);
  return DIRWALK_CONTINUE;
}

/* The parents of entries of an excluded directory that exceptions re-included. */
static void
add_missing_parents (struct copier *c, size_t from, int root_fd, const char *dest)
{
  size_t i, end = c->n;

  for (i = from; i < end; i++)
    {
      cleanup_free char *p = xstrdup (c->v[i].path);
      char *slash;
      while ((slash = strrchr (p, '/')) != NULL)
        {
          size_t k;
          bool found = false;
          *slash = '\0';
          /* dest itself is not a parent to add: its name ends where p does, and the source
             path below it would be read past p's end (the mode of a child directory went on
             dest, diff-fuzz F23) */
          if (strlen (p) <= strlen (dest))
            break;
          for (k = from; k < c->n && !found; k++)
            found = c->v[k].kind == CE_DIR && strcmp (c->v[k].path, p) == 0;
          if (found)
            continue;
          {
            struct stat st;
            const char *rel = p + strlen (dest) + (*dest ? 1 : 0);
            if (*rel && fstatat (root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
              {
                struct centry *ce;
                apply_meta (c->spec, &st, true);
                ce = add (c, p, CE_DIR, &st);
                ce->root_fd = root_fd;
                ce->src_rel = xstrdup (rel);
              }
          }
        }
    }
}

/* A directory's contents into dest (CopyDirContentsOnly). */
static int
copy_dir (struct copier *c, int dir_fd, const char *src_rel, const char *dest, bale_error_t *err)
{
  struct walk_ctx w = { c, dir_fd, src_rel, dest, NULL, c->ex_base ? c->ex_base : "" };
  size_t from = c->n;
  struct stat have;
  int r;

  if (*dest && !dest_stat (c->spec, dest, &have, false))
    w.fresh = xstrdup (dest);
  r = dirwalk (dir_fd, walk_entry, NULL, &w, err);
  free (w.fresh);
  if (r < 0)
    return bale_error_wrap (err, "copying \"%s\"", *src_rel ? src_rel : ".");
  if ((c->spec->ignore && ignore_has_exceptions (c->spec->ignore))
      || (c->spec->exclude && ignore_has_exceptions (c->spec->exclude)))
    add_missing_parents (c, from, dir_fd, dest);
  return 0;
}

/* ---- ADD archives ------------------------------------------------------------------------ */

static int
ensure_staging (struct copier *c, bale_error_t *err)
{
  if (c->staging_fd >= 0)
    return 0;
  c->staging = xasprintf ("%s/bale-add.XXXXXX", c->spec->tmpdir ? c->spec->tmpdir : "/tmp");
  if (!mkdtemp (c->staging))
    return bale_make_error (err, errno, "cannot create a directory in %s", c->spec->tmpdir);
  c->staging_fd = open (c->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->staging_fd < 0)
    return bale_make_error (err, errno, "cannot open %s", c->staging);
  return 0;
}

/* Unpack the archive at fd into a fresh staging directory and copy its contents to dest. */
static int
add_archive (struct copier *c, int fd, const char *src, const char *dest, bale_error_t *err)
{
  struct layer_extract_opts opts = { .mode = LAYER_EXTRACT_ARCHIVE, .max_tar_bytes = 0,
                                     .listed_dir = archive_listed_add,
                                     .listed_nondir = archive_nondir_add, .listed_arg = c };
  cleanup_free char *name = NULL;
  size_t i;
  int sub, r;

  if (ensure_staging (c, err) < 0)
    return -1;
  name = xasprintf ("%d", c->n_staged++);
  if (mkdirat (c->staging_fd, name, 0755) < 0)
    return bale_make_error (err, errno, "cannot create a staging directory");
  sub = openat (c->staging_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sub < 0)
    return bale_make_error (err, errno, "cannot open a staging directory");
  keep_fd (c, sub);
  r = lseek (fd, 0, SEEK_SET) < 0 || layer_extract (fd, sub, &opts, NULL, err) < 0 ? -1 : 0;
  if (r < 0)
    bale_error_wrap (err, "ADD \"%s\": cannot unpack", src);
  else
    {
      struct copy_spec keep = *c->spec;
      const struct copy_spec *saved = c->spec;
      keep.keep_owner = true; /* archive entries keep their owners unless --chown */
      keep.ignore = NULL;
      keep.exclude = NULL; /* BuildKit unpacks before its copier, which has the patterns */
      keep.fifos = true; /* moby's archive makes them; fsutil's copy does not */
      c->spec = &keep;
      c->archive_root = dest;
      if (c->n_listed > 1) /* none listed leaves c->listed NULL, which qsort may not get */
        qsort (c->listed, c->n_listed, sizeof *c->listed, cmp_str);
      if (c->n_nondir > 1)
        qsort (c->nondir, c->n_nondir, sizeof *c->nondir, cmp_str);
      r = copy_dir (c, sub, "", dest, err);
      c->spec = saved;
      c->archive_root = NULL;
    }
  for (i = 0; i < c->n_listed; i++)
    free (c->listed[i]);
  for (i = 0; i < c->n_nondir; i++)
    free (c->nondir[i]);
  free (c->nondir);
  c->nondir = NULL;
  c->n_nondir = c->alloc_nondir = 0;
  for (i = 0; i < c->n_redir; i++)
    {
      free (c->redir[i].from);
      free (c->redir[i].to);
    }
  free (c->listed);
  free (c->redir);
  c->listed = NULL;
  c->redir = NULL;
  c->n_listed = c->alloc_listed = c->n_redir = c->alloc_redir = 0;
  return r;
}

/* ---- one source -------------------------------------------------------------------------- */

static int
copy_source (struct copier *c, const struct copy_source *src, const char *word, const char *dest,
             bool dest_is_dir, bale_error_t *err)
{
  const struct copy_spec *s = c->spec;
  cleanup_free char *target = copy_target (dest, dest_is_dir, src);
  const char *rel = target + 1; /* absolute → relative */

  if (S_ISDIR (src->st.st_mode))
    {
      int fd = copy_open (s->src_fd, s->src_kind, src->rel, O_RDONLY | O_DIRECTORY, err);
      cleanup_free char *real = NULL, *walk_rel = NULL;
      struct stat st = src->st;
      if (fd < 0)
        return -1;
      keep_fd (c, fd);
      if (s->src_kind == COPY_ROOT_CONTEXT && s->ignore)
        walk_rel = copy_context_rel (s->src_fd, fd);
      real = dest_resolve (s, rel);
      if (add_parents (c, real, false, err) < 0)
        return -1;
      if (*real)
        {
          struct stat have;
          /* The destination directory itself: as it exists, or made the way fsutil's
             prepareTargetDir makes it (MkdirAll, created_dir_stat): never with the source
             directory's metadata, since only the contents are copied. Its time is the step's,
             as docker 20.10's copier leaves it (today's fsutil, since 766d471, sets the
             source directory's: fuzzer finding F42). */
          bool exists = dest_stat (s, real, &have, false);
          if (exists && S_ISDIR (have.st_mode))
            {
              struct centry *e = add (c, real, CE_DIR, &have);
              e->seq = 0;
              e->existed = true;
            }
          else if (exists && !S_ISLNK (have.st_mode))
            /* fsutil's MkdirAll on a file (fuzzer finding F31) */
            return bale_make_error (err, 0, "mkdir /%s: not a directory", real);
          else
            {
              struct stat root;
              const struct stat *parent = parent_stat (c, real);
              if (!parent && !strchr (real, '/') && dest_stat (s, "", &root, false))
                parent = &root;
              created_dir_stat (s, parent, &st);
              add (c, real, CE_DIR, &st);
            }
        }
      return copy_dir (c, fd, walk_rel ? walk_rel : src->rel, real, err);
    }
  {
    /* Only a regular file is read (for ADD's archive check): a FIFO, opened for reading,
       would wait for a writer forever, and O_NONBLOCK keeps one swapped in meanwhile from
       doing so. */
    cleanup_close int fd = copy_open (s->src_fd, s->src_kind, src->rel,
                                      S_ISREG (src->st.st_mode) ? O_RDONLY | O_NONBLOCK : O_PATH, err);
    cleanup_free char *real = NULL;
    struct stat st = src->st;
    struct centry *ce;
    int tar = 0;
    if (fd < 0)
      return -1;
    /* A file named through a link to an excluded one was refused by copy_resolve. */
    if (s->unpack && S_ISREG (st.st_mode) && (tar = layer_is_tar (fd, err)) < 0)
      return bale_error_wrap (err, "ADD \"%s\"", word);
    if (tar)
      {
        /* BuildKit's unpack makes the destination with MkdirAll(0755, chown) and untars
           with ChownOpts only: --chmod changes neither (fuzzer finding F40). */
        cleanup_free char *clean = dispatch_clean_path (dest);
        cleanup_free char *into = dest_resolve (s, clean + 1);
        struct copy_spec plain = *s;
        int r;
        plain.chmod_set = false;
        plain.chmod_sym = NULL;
        c->spec = &plain;
        r = add_parents (c, into, true, err) < 0 ? -1 : add_archive (c, fd, word, into, err);
        c->spec = s;
        return r;
      }
    {
      /* A name the copy gives (the destination directory and the source's base name) is
         not followed when it is a symlink there: fsutil's ensureEmptyFileTarget lstats and
         removes it (fuzzer finding F33); a destination named in full is (RootPath). */
      size_t len = strlen (dest);
      const char *slash = strrchr (rel, '/');
      if ((dest_is_dir || (len && dest[len - 1] == '/')) && !slash)
        real = xstrdup (rel);
      else if (dest_is_dir || (len && dest[len - 1] == '/'))
        {
          cleanup_free char *dir = xstrndup (rel, (size_t) (slash - rel));
          cleanup_free char *rdir = dest_resolve (s, dir);
          real = *rdir ? xasprintf ("%s/%s", rdir, slash + 1) : xstrdup (slash + 1);
        }
      else
        real = dest_resolve (s, rel);
    }
    if (!*real)
      return bale_make_error (err, 0, "\"%s\": cannot copy a file onto the root directory", word);
    if (add_parents (c, real, false, err) < 0)
      return -1;
    {
      struct stat have;
      if (dest_stat (s, real, &have, false) && S_ISDIR (have.st_mode))
        return bale_make_error (err, 0, "\"%s\": cannot copy a file onto the directory %s", word, target);
    }
    /* BuildKit's copy (fsutil) has no case for FIFOs and sockets: it leaves them out, named
       or in a directory, and goes on (fuzzer finding F28). */
    if ((S_ISFIFO (st.st_mode) && !s->fifos) || S_ISSOCK (st.st_mode))
      return 0;
    if (S_ISREG (st.st_mode))
      source_overrides (s, fd, "", &st);
    apply_meta (s, &st, true);
    if (S_ISREG (st.st_mode))
      ce = add (c, real, CE_FILE, &st);
    else
      ce = add (c, real, CE_SPECIAL, &st);
    ce->root_fd = s->src_fd;
    ce->src_rel = xstrdup (src->rel);
    ce->top = true;
    return 0;
  }
}

/* ---- COPY --parents ------------------------------------------------------------------------ */

/* One directory on the way to a --parents match, at dest (relative) from the source's rel: a
   new one with the source directory's metadata (fsutil's createParentDirs: copyDirectoryOnly,
   then copyFileInfo); an existing one keeps its own but takes the source's mode (chmod). */
static int
parents_dir (struct copier *c, const char *rel, const char *dest, bale_error_t *err)
{
  const struct copy_spec *s = c->spec;
  cleanup_close int fd = copy_open (s->src_fd, s->src_kind, rel, O_PATH | O_NOFOLLOW, err);
  struct stat st, have;
  struct centry *e;

  if (fd < 0 || fstat (fd, &st) < 0)
    return fd < 0 ? -1 : bale_make_error (err, errno, "cannot stat \"%s\"", rel);
  if (!S_ISDIR (st.st_mode))
    return bale_make_error (err, ENOTDIR, "\"%s\" is not a directory", rel);
  if (dest_stat (s, dest, &have, false))
    {
      if (!S_ISDIR (have.st_mode))
        return bale_make_error (err, 0, "cannot copy to non-directory: /%s", dest);
      have.st_mode = (have.st_mode & ~(mode_t) 07777) | (st.st_mode & 07777);
      add (c, dest, CE_DIR, &have)->existed = true;
      return 0;
    }
  apply_meta (s, &st, true);
  e = add (c, dest, CE_DIR, &st);
  e->root_fd = s->src_fd;
  e->src_rel = xstrdup (rel);
  return 0;
}

/* Whether an entry from index `from` on lies below dir. */
static bool
kept_below (const struct copier *c, size_t from, const char *dir)
{
  size_t i, len = strlen (dir);

  for (i = from; i < c->n; i++)
    if (strncmp (c->v[i].path, dir, len) == 0 && c->v[i].path[len] == '/')
      return true;
  return false;
}

/* Forget the entries from index `from` on. */
static void
drop_from (struct copier *c, size_t from)
{
  for (; c->n > from; c->n--)
    {
      free (c->v[c->n - 1].path);
      free (c->v[c->n - 1].src_rel);
      free (c->v[c->n - 1].target);
    }
}

/* A source of COPY --parents: the context root (or the part before "/./") is the copy's root,
   the rest a pattern whose matches keep their path under the destination directory, their
   directories made from the source's (dockerfile2llb: IncludePatterns, CopyDirContentsOnly). */
static int
copy_parents_source (struct copier *c, const char *word, bale_error_t *err)
{
  const struct copy_spec *s = c->spec;
  cleanup_free char *dest = dispatch_clean_path (s->dest);
  cleanup_free char *real = dest_resolve (s, dest + 1);
  struct copy_sources found = { 0 };
  size_t j, n0;
  bool ex_dir;
  int ret = 0;

  if (add_parents (c, real, true, err) < 0 || copy_resolve (s->src_fd, s->src_kind, word, s->ignore, &found, err) < 0)
    return -1;
  for (j = 0; j < found.n && ret == 0; j++)
    {
      const struct copy_source *src = &found.v[j];
      const char *in = copy_parents_below (word, src->rel); /* relative to the copy's root */
      cleanup_free char *target = NULL;
      const char *slash;
      /* --exclude sees the match from the copy's root: an excluded one is left out, a
         directory with exceptions kept only for what they keep inside (see walk_entry) */
      ex_dir = false;
      if (s->exclude && *in && ignore_matches (s->exclude, in))
        {
          if (!S_ISDIR (src->st.st_mode) || !ignore_has_exceptions (s->exclude))
            continue;
          ex_dir = true;
        }
      n0 = c->n;
      /* the directories between the root and the match */
      for (slash = strchr (in, '/'); slash && ret == 0; slash = strchr (slash + 1, '/'))
        {
          cleanup_free char *part = xstrndup (in, (size_t) (slash - in));
          cleanup_free char *srel = xstrndup (src->rel, (size_t) (slash - src->rel));
          cleanup_free char *d = *real ? xasprintf ("%s/%s", real, part) : xstrdup (part);
          ret = parents_dir (c, srel, d, err);
        }
      if (ret < 0)
        break;
      if (!*in)
        {
          /* the root itself ("dir/./"): its contents */
          target = xasprintf ("/%s", real);
          ret = copy_source (c, src, word, target, false, err);
          continue;
        }
      target = *real ? xasprintf ("/%s/%s", real, in) : xasprintf ("/%s", in);
      c->ex_base = in;
      ret = copy_source (c, src, word, target, false, err);
      c->ex_base = NULL;
      if (ret == 0 && ex_dir && !kept_below (c, n0, target + 1))
        drop_from (c, n0);
      else if (ret == 0 && S_ISDIR (src->st.st_mode))
        ret = parents_dir (c, src->rel, target + 1, err); /* the match itself, as copied */
    }
  copy_sources_release (&found);
  return ret;
}

/* ---- writing ----------------------------------------------------------------------------- */

static int
open_beneath (int root_fd, const char *rel, int flags)
{
  return inroot_open (root_fd, rel, flags | O_NOFOLLOW, INROOT_BENEATH | INROOT_NO_SYMLINKS);
}

/* Depth-first order with children by byte: compare as if '/' sorted before every byte. */
static int
path_cmp (const char *a, const char *b)
{
  for (; *a && *a == *b; a++, b++)
    ;
  if (*a == *b)
    return 0;
  if (*a == '/')
    return *b ? -1 : 1;
  if (*b == '/')
    return *a ? 1 : -1;
  return (unsigned char) *a - (unsigned char) *b;
}

static int
entry_cmp (const void *x, const void *y)
{
  const struct centry *a = x, *b = y;
  int r = path_cmp (a->path, b->path);

  if (r)
    return r;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
path_key_cmp (const void *key, const void *x)
{
  return path_cmp (key, ((const struct centry *) x)->path);
}

/* A directory of the destination the copy writes an entry into gets the copy's time, as the
   kernel gives it when fsutil creates (or removes and creates) that entry: BuildKit's layer
   has /tmp with the build's time after `COPY f /tmp/` (fuzzer finding F32). v: sorted by
   entry_cmp, the last of each path the one written. */
static void
touch_existing_parents (struct centry *v, size_t n, time_t now)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      struct centry *p;
      const char *slash;
      size_t k;
      if ((i + 1 < n && strcmp (v[i + 1].path, v[i].path) == 0) || v[i].existed
          || !(slash = strrchr (v[i].path, '/')))
        continue;
      {
        cleanup_free char *parent = xstrndup (v[i].path, (size_t) (slash - v[i].path));
        p = bsearch (parent, v, n, sizeof *v, path_key_cmp);
      }
      if (!p)
        continue;
      k = (size_t) (p - v);
      while (k + 1 < n && strcmp (v[k + 1].path, p->path) == 0)
        k++;
      if (v[k].existed)
        {
          v[k].st.st_mtim.tv_sec = now;
          v[k].st.st_mtim.tv_nsec = 0;
        }
    }
}

static int
write_entry (struct copier *c, struct layer_writer *w, const struct centry *e, bale_error_t *err)
{
  switch (e->kind)
    {
    case CE_DIR:
      {
        int fd = -1, r;
        if (e->root_fd >= 0 && e->src_rel)
          fd = *e->src_rel ? open_beneath (e->root_fd, e->src_rel, O_RDONLY | O_DIRECTORY)
                           : fcntl (e->root_fd, F_DUPFD_CLOEXEC, 0);
        r = layer_writer_add_dir (w, e->path, &e->st, fd, err);
        if (fd >= 0)
          close (fd);
        if (r == 0 && e->opaque)
          r = layer_writer_add_opaque (w, e->path, err);
        return r;
      }
    case CE_FILE:
      {
        /* A named source follows its symlink as it was resolved; a file found by the walk is
           opened without following any symlink, so a tree changed under the build cannot
           lead the copy elsewhere. */
        cleanup_close int fd = e->top ? copy_open (e->root_fd, c->spec->src_kind, e->src_rel, O_RDONLY | O_NONBLOCK, err)
                                      : open_beneath (e->root_fd, e->src_rel, O_RDONLY | O_NONBLOCK);
        struct stat now;
        if (fd < 0)
          return e->top ? -1 : bale_make_error (err, errno, "cannot open \"%s\"", e->src_rel);
        /* (O_NONBLOCK: a FIFO put in the file's place since the walk must not hang the copy) */
        if (fstat (fd, &now) < 0 || !S_ISREG (now.st_mode))
          return bale_make_error (err, 0, "\"%s\" is no longer a regular file", e->src_rel);
        /* The file may have changed since it was listed: copy what is there now. */
        {
          struct stat st = e->st;
          const struct copy_spec *s = c->spec;
          st.st_size = now.st_size;
          if (layer_writer_add_file (w, e->path, &st, fd, NULL, err) < 0)
            return -1;
          if (s->written && !*s->written && fstat (fd, &now) == 0
              && copy_written_since (&now, &s->written_since))
            snprintf (s->written, s->written_size, "%s", e->src_rel);
          return 0;
        }
      }
    case CE_SYMLINK:
      return layer_writer_add_symlink (w, e->path, &e->st, e->target, err);
    case CE_SPECIAL:
      return layer_writer_add_special (w, e->path, &e->st, err);
    case CE_MEM:
      {
        cleanup_close int fd = memfd_create ("heredoc", MFD_CLOEXEC);
        if (fd < 0 || fileio_write_all (fd, e->data, e->len) < 0 || lseek (fd, 0, SEEK_SET) < 0)
          return bale_make_error (err, errno, "cannot stage heredoc %s", e->path);
        return layer_writer_add_file (w, e->path, &e->st, fd, NULL, err);
      }
    }
  (void) c;
  return 0;
}

static const struct copy_heredoc *
find_heredoc (const struct copy_spec *s, const char *word)
{
  size_t i;

  if (strncmp (word, "<<", 2) != 0)
    return NULL;
  for (i = 0; i < s->n_heredocs; i++)
    if (strcmp (s->heredocs[i].name, word + 2) == 0)
      return &s->heredocs[i];
  return NULL;
}

/* One source word of the instruction: a heredoc, a --parents pattern, or a path (with
   wildcards) of the source root. */
static int
copy_one_source (struct copier *c, const char *word, bool *dest_is_dir, bale_error_t *err)
{
  const struct copy_spec *s = c->spec;
  const struct copy_heredoc *h = find_heredoc (s, word);
  struct copy_sources found = { 0 };
  size_t j;

  if (h)
    {
      /* Made as llb.Mkfile(NAME) in an empty scratch: NAME cleaned against "/", so "../x" is
         x; a name with a directory left in it fails there (the plan says so, located). */
      cleanup_free char *abs = xasprintf ("/%s", h->name);
      cleanup_free char *clean = dispatch_clean_path (abs);
      struct copy_source src = { clean + 1, clean + 1, { 0 } };
      cleanup_free char *target = NULL, *real = NULL;
      struct centry *e;
      if (!*src.base || strchr (src.base, '/'))
        return bale_make_error (err, EINVAL, "heredoc <<%s: a heredoc's name must be a file name", h->name);
      src.st.st_mode = S_IFREG | 0644;
      src.st.st_size = (off_t) h->len;
      src.st.st_mtim.tv_sec = s->now;
      src.st.st_nlink = 1;
      target = copy_target (s->dest, *dest_is_dir, &src);
      real = dest_resolve (s, target + 1);
      if (add_parents (c, real, false, err) < 0)
        return -1;
      apply_meta (s, &src.st, false);
      e = add (c, real, CE_MEM, &src.st);
      e->data = h->data;
      e->len = h->len;
      return 0;
    }
  if (s->parents)
    return copy_parents_source (c, word, err);
  if (copy_resolve (s->src_fd, s->src_kind, word, s->ignore, &found, err) < 0)
    return -1;
  for (j = 0; j < found.n; j++)
    {
      if (copy_source (c, &found.v[j], word, s->dest, *dest_is_dir, err) < 0)
        {
          copy_sources_release (&found);
          return -1;
        }
      /* BuildKit copies a wildcard's matches one after the other: once a directory's
         contents went to the destination, it is a directory that takes the files after it
         (FINDINGS F72: `COPY --from=0 /x/s* /srv/sub16` of sub/ and sub13). */
      if (S_ISDIR (found.v[j].st.st_mode))
        *dest_is_dir = true;
    }
  copy_sources_release (&found);
  return 0;
}

int
copy_to_layer (const struct copy_spec *s, struct layer_writer *w, bale_error_t *err)
{
  struct copier c = { .spec = s, .staging_fd = -1 };
  bool dest_is_dir;
  struct stat st;
  size_t i, j;
  int ret = -1;

  /* D2: an existing directory (symlinks followed) takes file sources inside it. */
  dest_is_dir = dest_stat (s, s->dest + 1, &st, true) && S_ISDIR (st.st_mode);
  for (i = 0; i < s->n_sources; i++)
    {
      size_t from = c.n;
      if (copy_one_source (&c, s->sources[i], &dest_is_dir, err) < 0)
        goto out;
      /* Hard links are kept within one source word (a directory, or all a wildcard's
         matches): BuildKit copies each source with a copier of its own, whose inode map
         (fsutil copier.inodes) starts empty (fuzzer finding F43). The layer writer links
         files by (st_dev, st_ino): the source's number goes into st_dev. */
      for (j = from; j < c.n; j++)
        if (!S_ISDIR (c.v[j].st.st_mode))
          c.v[j].st.st_dev = (dev_t) ((uint64_t) c.v[j].st.st_dev ^ ((uint64_t) (i + 1) << 44));
    }
  trace_mark ("copy: sources listed");
  /* Sort, then keep the last of each path; a directory met again only merges. No source at
     all (an empty directory before a wildcard) leaves c.v NULL, which qsort may not get. */
  if (c.n > 1)
    qsort (c.v, c.n, sizeof *c.v, entry_cmp);
  touch_existing_parents (c.v, c.n, s->now);
  /* Nothing but directories that exist (an empty directory's contents copied onto one):
     BuildKit's copy changes nothing and its layer is empty (FINDINGS F74), as WORKDIR's. */
  for (i = 0; i < c.n && c.v[i].existed; i++)
    ;
  for (i = i == c.n ? c.n : 0; i < c.n; i = j)
    {
      const struct centry *last;
      for (j = i + 1; j < c.n && strcmp (c.v[j].path, c.v[i].path) == 0; j++)
        ;
      last = &c.v[j - 1];
      if (write_entry (&c, w, last, err) < 0)
        goto out;
    }
  ret = 0;
out:
  for (i = 0; i < c.n; i++)
    {
      free (c.v[i].path);
      free (c.v[i].src_rel);
      free (c.v[i].target);
    }
  free (c.v);
  for (i = 0; i < c.n_fds; i++)
    close (c.fds[i]);
  free (c.fds);
  if (c.staging_fd >= 0)
    {
      bale_error_t ignore = NULL;
      close (c.staging_fd);
      {
        cleanup_close int parent = open (s->tmpdir ? s->tmpdir : "/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent >= 0)
          dirwalk_remove (parent, strrchr (c.staging, '/') + 1, c.staging, &ignore);
      }
      bale_error_release (&ignore);
    }
  free (c.staging);
  return ret;
}

/* ---- --chown and --chmod ----------------------------------------------------------------- */

static bool
all_digits (const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* Images never need more; a bigger database is an attack on the builder (CVE-2024-9676). */
#define DB_MAX (4 << 20)

/* Field 2 (the id) and field 3 (passwd: primary gid) of the line of file whose first field
   is name. 1 found, 0 not; -1 when the file is no regular file of the image (a FIFO would
   block the build forever), leads nowhere inside it or is too big (runtime/fs/inroot.h). */
static int
lookup (int dest_fd, const char *file, const char *name, long *id, long *gid, bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  char *line, *save = NULL;
  bool found = false;

  if (dest_fd < 0)
    return 0;
  if (inroot_read_file (dest_fd, file, DB_MAX, &sb, &found, err) < 0)
    return -1;
  /* BuildKit's readUser opens the file to look a name up: without it the step fails
     (FINDINGS F75), where a name the file lacks is only not found (F36). */
  if (!found)
    return bale_make_error (err, 0, "open %s: no such file or directory", file);
  for (line = strtok_r (sb.buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[4] = { 0 };
      char *p = line;
      int k;
      for (k = 0; k < 4 && p; k++)
        {
          f[k] = p;
          p = strchr (p, ':');
          if (p)
            *p++ = '\0';
        }
      if (f[0] && f[2] && strcmp (f[0], name) == 0)
        {
          *id = strtol (f[2], NULL, 10);
          if (gid)
            *gid = f[3] ? strtol (f[3], NULL, 10) : 0;
          return 1;
        }
    }
  return 0;
}

int
copy_resolve_chown (int dest_fd, const char *spec, uid_t *uid, gid_t *gid, bale_error_t *err)
{
  cleanup_free char *user = xstrdup (spec);
  char *group = strchr (user, ':');
  long u = 0, g = 0;
  int r;

  if (group)
    *group++ = '\0';
  if (all_digits (user))
    g = u = strtol (user, NULL, 10);
  else if (strcmp (user, "root") == 0)
    u = g = 0;
  else if ((r = lookup (dest_fd, "/etc/passwd", user, &u, &g, err)) < 0)
    return bale_error_wrap (err, "--chown=%s", spec);
  else if (r == 0)
    u = g = 0; /* BuildKit's readUser: a name not found (or no /etc/passwd) is 0:0 (F36) */
  if (group)
    {
      if (!*group)
        g = 0; /* "user:" means group 0, as BuildKit does */
      else if (all_digits (group))
        g = strtol (group, NULL, 10);
      else if (strcmp (group, "root") == 0)
        g = 0;
      else if ((r = lookup (dest_fd, "/etc/group", group, &g, NULL, err)) < 0)
        return bale_error_wrap (err, "--chown=%s", spec);
      /* a group not found leaves the user's (F36) */
    }
  if (u < 0 || g < 0 || u > (long) UINT32_MAX - 1 || g > (long) UINT32_MAX - 1)
    return bale_make_error (err, 0, "--chown=%s: id out of range", spec);
  *uid = (uid_t) u;
  *gid = (gid_t) g;
  return 0;
}

int
copy_parse_chmod (const char *spec, mode_t *mode, bale_error_t *err)
{
  char *end;
  unsigned long m;

  errno = 0;
  m = strtoul (spec, &end, 8);
  if (!*spec || *end || errno || m > 07777)
    return bale_make_error (err, 0, "--chmod=%s: bale supports octal modes (0 to 07777) only", spec);
  *mode = (mode_t) m;
  return 0;
}

int
copy_mkdir_layer (int dest_fd, const char *path, bool chown, uid_t uid, gid_t gid, time_t now,
                  struct layer_writer *w, bale_error_t *err)
{
  /* BuildKit 20.10's dispatchWorkdir gives its mkdir a user only when the image has one */
  struct copy_spec spec = { .dest_fd = dest_fd, .chown_set = chown, .uid = uid, .gid = gid, .now = now };
  struct copier c = { .spec = &spec, .staging_fd = -1 };
  cleanup_free char *real = dest_resolve (&spec, path + (*path == '/'));
  size_t i;
  int ret = 0;
  bool made = false;

  ret = add_parents (&c, real, true, err);
  touch_existing_parents (c.v, c.n, now); /* a chain of parents: sorted already */
  /* A directory that exists already leaves the layer empty, as BuildKit's mkdir (MkdirAll)
     changes nothing there (FINDINGS F68); otherwise the layer has every directory of the
     path, the existing ones as they are (the one holding the first new one with the step's
     time), as overlayfs copies them up. */
  for (i = 0; i < c.n; i++)
    made = made || !c.v[i].existed;
  for (i = 0; i < c.n && ret == 0 && made; i++)
    ret = write_entry (&c, w, &c.v[i], err);
  for (i = 0; i < c.n; i++)
    free (c.v[i].path);
  free (c.v);
  return ret;
}
