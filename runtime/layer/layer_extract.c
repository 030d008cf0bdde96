/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Apply a layer tarball onto a root directory without ever leaving it, verifying its diff_id. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/fs/inroot.h"
#include "runtime/layer/layer.h"
#include "runtime/fs/owners.h"
#include "runtime/fs/rootless.h"
#include "common/units.h"
#include "common/banned.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define OPAQUE_NAME ".wh..wh..opq"
#define BUF_SIZE 65536

/*
 * Reading: two libarchive read handles in a chain, the mirror image of layer_write.c.
 *
 *   fd -> read_blob -> [raw format + gzip/zstd/none] -> read_tar -> [tar format] -> entries
 *            | sha256 (digest)                            | sha256 (diff_id)
 *
 * A tar handle with a decompression filter gives no access to the uncompressed bytes, and
 * the diff_id is defined over exactly those (including anything after the end-of-archive
 * blocks, which the tar reader never asks for: it is drained at the end). So the first
 * handle only decompresses, exposing the stream as the data of one "raw" entry, and the
 * tar handle reads that through a callback that hashes it.
 *
 * Writing: libarchive's archive_write_disk resolves paths with lstat checks that race, and
 * its SECURE_SYMLINKS semantics are wrong for layers, whose parents may legitimately be
 * symlinks inside the root. So every filesystem change is ours: the parent of each entry is
 * opened in the root (runtime/fs/inroot.h: symlinks and ".." resolve as if the root were "/"),
 * the last component is never followed, and metadata goes through the new file's own
 * descriptor (CVE-2021-32760, CVE-2025-47290).
 */

/* Sets of strings. Hard links may only name paths of earlier entries of the layer, so the
   names are kept. Whiteouts and opaque markers apply only to the layers below ("files that
   are present in the same layer as a whiteout file can only be hidden by whiteout files in
   subsequent layers"): what this layer created is recognised by inode, not by name, since
   one file has many names once symlinks are in the path ("link/x" and "x" when link -> /). */
struct pathset
{
  char **slots;
  size_t n, cap;
};

/* The inodes an export's layers created in its destination (layer_extract_opts.export). */
struct layer_export
{
  struct pathset inodes;
};

struct dirtime
{
  char *path;
  struct timespec mtime;
};

struct extractor
{
  int root;
  enum layer_extract_mode mode;
  int64_t max_tar_bytes, max_entries, tar_bytes, blob_bytes;
  int64_t hole_bytes; /* the real sizes of the sparse files written (an ADDed archive's) */
  bool max_from_env; /* max_tar_bytes is BALE_MAX_LAYER_SIZE's */
  struct layer_export *export; /* opts->export */
  bool caller_owns;
  int fd;
  struct meter *meter;
  void (*listed_dir) (void *arg, const char *path);
  void (*listed_nondir) (void *arg, const char *path);
  void *listed_arg;
  struct archive *raw, *tar;
  struct digester blob, diff;
  bale_error_t cb_err;
  struct pathset created;        /* names (cleaned) of this layer's entries */
  struct pathset created_inodes; /* "dev:ino" of what this layer put on disk */
  struct pathset stripped;       /* device nodes left out (opts->strip) */
  void (*strip) (void *ctx, const char *msg);
  void *strip_ctx;
  struct dirtime *dirs;
  size_t n_dirs, dirs_alloc;
  int64_t entries;
  char buf[BUF_SIZE];    /* compressed bytes, read_blob's */
  char tarbuf[BUF_SIZE]; /* uncompressed bytes, read_tar's */
  char data[BUF_SIZE];   /* file contents on their way to disk */
};

/* ---- the path set ------------------------------------------------------------------------- */

static size_t
hash_str (const char *s)
{
  size_t h = 14695981039346656037ULL; /* FNV-1a */

  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return h;
}

static char **
pathset_slot (const struct pathset *set, const char *path)
{
  size_t i = hash_str (path) & (set->cap - 1);

  while (set->slots[i] && strcmp (set->slots[i], path) != 0)
    i = (i + 1) & (set->cap - 1);
  return &set->slots[i];
}

static bool
pathset_has (const struct pathset *set, const char *path)
{
  return set->cap > 0 && *pathset_slot (set, path) != NULL;
}

static void
pathset_add (struct pathset *set, const char *path)
{
  char **slot;

  if (set->n * 2 >= set->cap)
    {
      struct pathset bigger = { xcalloc (set->cap ? set->cap * 2 : 256, sizeof (char *)), 0,
                                set->cap ? set->cap * 2 : 256 };
      size_t i;

      for (i = 0; i < set->cap; i++)
        if (set->slots[i])
          *pathset_slot (&bigger, set->slots[i]) = set->slots[i];
      bigger.n = set->n;
      free (set->slots);
      *set = bigger;
    }
  slot = pathset_slot (set, path);
  if (*slot == NULL)
    {
      *slot = xstrdup (path);
      set->n++;
    }
}

static void
pathset_release (struct pathset *set)
{
  size_t i;

  for (i = 0; i < set->cap; i++)
    free (set->slots[i]);
  free (set->slots);
}

static char *
inode_key (const struct stat *st)
{
  return xasprintf ("%jx:%jx", (uintmax_t) st->st_dev, (uintmax_t) st->st_ino);
}

static bool
inode_created (const struct extractor *x, const struct stat *st)
{
  cleanup_free char *key = inode_key (st);

  return pathset_has (&x->created_inodes, key);
}

static void
mark_created (struct extractor *x, const char *path, const struct stat *st)
{
  cleanup_free char *key = inode_key (st);

  pathset_add (&x->created, path);
  pathset_add (&x->created_inodes, key);
  if (x->export)
    pathset_add (&x->export->inodes, key);
}

struct layer_export *
layer_export_new (void)
{
  return xzalloc (sizeof (struct layer_export));
}

void
layer_export_free (struct layer_export *e)
{
  if (e)
    pathset_release (&e->inodes);
  free (e);
}

/* May a whiteout or an opaque marker remove st? Always in a root of layers; in an export's
   destination only what an earlier layer of the export created there, never a file that was
   there before it (BuildKit's local exporter writes the final tree and deletes nothing). */
static bool
removable (const struct extractor *x, const struct stat *st)
{
  cleanup_free char *key = NULL;

  if (!x->export)
    return true;
  key = inode_key (st);
  return pathset_has (&x->export->inodes, key);
}

/* ---- reading the stream ------------------------------------------------------------------- */

static la_ssize_t
read_blob (struct archive *a, void *ctx, const void **out)
{
  struct extractor *x = ctx;
  ssize_t n;

  (void) a;
  do
    n = read (x->fd, x->buf, sizeof x->buf);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      bale_make_error (&x->cb_err, errno, "cannot read the layer");
      return -1;
    }
  digester_update (&x->blob, x->buf, (size_t) n);
  x->blob_bytes += n;
  meter_add_opt (x->meter, n);
  *out = x->buf;
  return n;
}

static la_ssize_t
read_tar (struct archive *a, void *ctx, const void **out)
{
  struct extractor *x = ctx;
  la_ssize_t n = archive_read_data (x->raw, x->tarbuf, sizeof x->tarbuf);

  (void) a;
  if (n < 0)
    {
      if (x->cb_err == NULL)
        bale_make_error (&x->cb_err, 0, "cannot decompress the layer: %s",
                         archive_error_string (x->raw));
      return -1;
    }
  x->tar_bytes += n;
  if (x->max_tar_bytes > 0 && x->tar_bytes > x->max_tar_bytes)
    {
      bale_make_error (&x->cb_err, EFBIG, "the %s is larger than %" PRId64 " bytes uncompressed%s",
                       x->mode == LAYER_EXTRACT_ARCHIVE && x->root >= 0 ? "archive" : "layer",
                       x->max_tar_bytes, x->max_from_env ? " (BALE_MAX_LAYER_SIZE)" : "");
      return -1;
    }
  digester_update (&x->diff, x->tarbuf, (size_t) n);
  *out = x->tarbuf;
  return n;
}

/* Report a failed libarchive call: the callback's error when it has one. */
static int
archive_fail (struct extractor *x, struct archive *a, bale_error_t *err, const char *what)
{
  if (x->cb_err != NULL)
    {
      bale_error_join (err, &x->cb_err);
      return -1;
    }
  return bale_make_error (err, 0, "%s: %s", what, archive_error_string (a));
}

/* Only gzip and zstd for layers (xz and bzip2 too for ADD archives), decompressed
   in-process: ARCHIVE_WARN from a support call means libarchive would run an external
   program, which a layer must never make us do (CVE-2014-9357, CVE-2026-41567). Anything
   else is read as an uncompressed tar and fails as one. */
static int
open_stream (struct extractor *x, bale_error_t *err)
{
  struct archive_entry *e;

  x->raw = layer_reader_new (x->mode == LAYER_EXTRACT_ARCHIVE ? LAYER_READER_XZ_BZIP2 : 0, err);
  x->tar = archive_read_new ();
  if (x->raw == NULL)
    return -1;
  if (archive_read_support_format_raw (x->raw) != ARCHIVE_OK)
    return bale_make_error (err, 0, "cannot set up the layer reader: %s",
                            archive_error_string (x->raw));
  if (archive_read_support_format_tar (x->tar) != ARCHIVE_OK)
    return bale_make_error (err, 0, "cannot set up the layer reader: %s",
                            archive_error_string (x->tar));
  if (archive_read_open (x->raw, x, NULL, read_blob, NULL) != ARCHIVE_OK)
    return archive_fail (x, x->raw, err, "cannot read the layer");
  if (archive_read_next_header (x->raw, &e) != ARCHIVE_OK)
    return archive_fail (x, x->raw, err, "cannot read the layer");
  if (archive_read_open (x->tar, x, NULL, read_tar, NULL) != ARCHIVE_OK)
    return archive_fail (x, x->tar, err, "cannot read the layer as a tar archive");
  return 0;
}

/* ---- names -------------------------------------------------------------------------------- */

/*
 * The name of an entry as a path relative to the root, like Go's path.Clean ("/" + name)
 * without the leading slash: empty and "." components go, ".." removes the previous one
 * and stops at the root. So "../../x", "/x" and "./a/../x" all mean "x", inside the root
 * whatever the name says; "" is the root itself. NULL when the name is too long.
 */
static char *
clean_name (const char *name)
{
  size_t len = strlen (name), n = 0;
  char *out;
  const char *p = name;

  if (len >= PATH_MAX)
    return NULL;
  out = xmalloc (len + 1);
  while (*p)
    {
      const char *end = strchr (p, '/');
      size_t clen = end ? (size_t) (end - p) : strlen (p);

      if (clen == 2 && p[0] == '.' && p[1] == '.')
        {
          while (n > 0 && out[n - 1] != '/')
            n--;
          if (n > 0)
            n--;
        }
      else if (clen > 0 && !(clen == 1 && p[0] == '.'))
        {
          if (n > 0)
            out[n++] = '/';
          memcpy (out + n, p, clen);
          n += clen;
        }
      p += clen;
      if (*p == '/')
        p++;
    }
  out[n] = '\0';
  return out;
}

/* Split a cleaned, non-empty path into its directory ("" for the root) and last name. */
static void
split_path (char *path, const char **dir, const char **base)
{
  char *slash = strrchr (path, '/');

  if (slash == NULL)
    {
      *dir = "";
      *base = path;
      return;
    }
  *slash = '\0';
  *dir = path;
  *base = slash + 1;
}

/* ---- resolving inside the root ------------------------------------------------------------ */

/*
 * A non-directory met where an entry needs a parent directory. A symlink of this very layer is
 * followed, inside the root (CVE-2026-42574: `d -> /tmp/host`, then `d/x`, lands in
 * root/tmp/host/x), as it is in the layer's own snapshot. Anything a layer below left there is
 * replaced by a directory: overlayfs shows an upper directory over a lower symlink or file, so
 * a merged root must too, or the two modes part (issue 16: `link -> /` below and
 * `link/.wh..wh..opq` above emptied the whole root instead of making an empty `link`).
 */
static int
parent_nondir (void *data, int parent, const char *name, const struct stat *st)
{
  struct extractor *x = data;

  (void) parent;
  (void) name;
  if (!inode_created (x, st))
    return INROOT_REPLACE;
  if (S_ISLNK (st->st_mode))
    return INROOT_FOLLOW;
  errno = ENOTDIR;
  return -1;
}

/* An O_PATH descriptor of the directory dir (relative to the root), created with what is
   missing (mode 0755, as containerd does), by the rules of parent_nondir. Whiteouts create
   their parents too, as they do in the layer's own snapshot, where overlayfs then shows them
   as empty directories: the merged root must show the same. */
static int
open_dir_in_root (struct extractor *x, const char *dir, bale_error_t *err)
{
  int fd = inroot_mkdirs (x->root, dir, parent_nondir, x);

  if (fd < 0)
    return bale_make_error (err, errno, "cannot open directory '%s' inside the root", dir);
  return fd;
}

/* ---- removing ----------------------------------------------------------------------------- */

/* Empty the directory fd (at path) of everything this layer did not create; directories
   it created are kept but emptied of what lower layers had in them. In an export's
   destination, what the export did not create is kept too, a directory emptied of what it
   did (removable). */
static int
clear_dir (struct extractor *x, int fd, const char *path, bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  size_t i;
  int ret = dirwalk_list_read (fd, path, &list, err);

  for (i = 0; ret >= 0 && i < list.n; i++)
    {
      cleanup_free char *child
          = *path ? xasprintf ("%s/%s", path, list.v[i].name) : xstrdup (list.v[i].name);

      if (!inode_created (x, &list.v[i].st) && removable (x, &list.v[i].st))
        ret = dirwalk_remove (fd, list.v[i].name, child, err);
      else if (S_ISDIR (list.v[i].st.st_mode))
        {
          cleanup_close int sub
              = openat (fd, list.v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

          ret = sub < 0 ? bale_make_error (err, errno, "cannot open directory '%s'", child)
                        : clear_dir (x, sub, child, err);
        }
    }
  dirwalk_list_release (&list);
  return ret < 0 ? ret : 0;
}

/* ---- whiteouts ---------------------------------------------------------------------------- */

static int
apply_opaque (struct extractor *x, const char *dir, bale_error_t *err)
{
  cleanup_close int pfd = open_dir_in_root (x, dir, err);
  cleanup_close int fd = -1;

  if (pfd < 0)
    return -1;
  if (x->mode == LAYER_EXTRACT_OVERLAY)
    {
      /* fsetxattr needs a real descriptor; this reopens the very inode pfd holds. */
      fd = openat (pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || fsetxattr (fd, rootless_opaque_xattr (), "y", 1, 0) < 0)
        return bale_make_error (err, errno, "cannot mark '%s' opaque", *dir ? dir : "/");
      return 0;
    }
  fd = openat (pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open directory '%s'", *dir ? dir : "/");
  return clear_dir (x, fd, dir, err);
}

static int
apply_whiteout (struct extractor *x, const char *dir, const char *name, const char *entry,
                bale_error_t *err)
{
  cleanup_free char *path = *dir ? xasprintf ("%s/%s", dir, name) : xstrdup (name);
  cleanup_close int pfd = -1;
  struct stat st;

  /* ".wh." alone, ".wh..", ".wh..." would delete the directory itself or its parent. */
  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return bale_make_error (err, EINVAL, "invalid whiteout '%s' in the layer", entry);
  pfd = open_dir_in_root (x, dir, err);
  if (pfd < 0)
    return -1;
  if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        return bale_make_error (err, errno, "cannot stat '%s'", path);
    }
  else if (inode_created (x, &st))
    return 0;
  else if (!removable (x, &st))
    {
      /* a file of the export's destination from before it: kept; a directory: emptied of
         what the export's layers put there */
      cleanup_close int fd = -1;
      if (!S_ISDIR (st.st_mode))
        return 0;
      fd = openat (pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      return fd < 0 ? bale_make_error (err, errno, "cannot open directory '%s'", path)
                    : clear_dir (x, fd, path, err);
    }
  if (dirwalk_remove (pfd, name, path, err) < 0)
    return -1;
  if (x->mode == LAYER_EXTRACT_OVERLAY && mknodat (pfd, name, S_IFCHR | 0000, makedev (0, 0)) < 0)
    return bale_make_error (err, errno, "cannot create the whiteout for '%s'", path);
  return 0;
}

/* ---- metadata ----------------------------------------------------------------------------- */

static bool
is_overlay_xattr (const char *name)
{
  return strncmp (name, "trusted.overlay.", 16) == 0 || strncmp (name, "user.overlay.", 13) == 0;
}

/* ---- what a tree for the host leaves out (opts->strip) ------------------------------------ */

static void strip_say (struct extractor *x, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
strip_say (struct extractor *x, const char *fmt, ...)
{
  struct strbuf sb = STRBUF_INIT;
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  x->strip (x->strip_ctx, sb.buf);
  strbuf_release (&sb);
}

/* The permission bits of e for path: set-user-ID and set-group-ID cleared (and said) in a
   tree for the host, except on a directory, where set-group-ID only passes the group on. */
static mode_t
entry_perm (struct extractor *x, struct archive_entry *e, const char *path)
{
  mode_t perm = archive_entry_perm (e) & 07777;

  if (x->strip && (perm & (S_ISUID | S_ISGID)) && archive_entry_filetype (e) != AE_IFDIR)
    {
      strip_say (x, "'%s': set-user-ID and set-group-ID bits cleared (mode %04o, written %04o)",
                 path, (unsigned) perm, (unsigned) (perm & ~(mode_t) (S_ISUID | S_ISGID)));
      perm &= ~(mode_t) (S_ISUID | S_ISGID);
    }
  return perm;
}

/* Owners first, then the mode: chown clears setuid and setgid. Everything through fd, the
   inode just created, never through a path that could have been swapped since. */
/* Give name in dirfd (or, with AT_EMPTY_PATH and "", the inode dirfd holds) the owner of
   entry e, never following a symlink. */
static int
chown_entry (int dirfd, const char *name, int flags, struct archive_entry *e, const char *path,
             bale_error_t *err)
{
  la_int64_t uid = archive_entry_uid (e), gid = archive_entry_gid (e);

  /* (uid_t) -1 means "leave unchanged" to chown; larger ids cannot exist. */
  if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
    return bale_make_error (err, EINVAL, "invalid owner %" PRId64 ":%" PRId64 " of '%s'",
                            (int64_t) uid, (int64_t) gid, path);
  if (fchownat (dirfd, name, (uid_t) uid, (gid_t) gid, flags | AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  /* Rootless, an owner outside the mapping (EINVAL) is recorded on the inode itself when it
     is a file or directory we hold open (runtime/fs/owners.h); a symlink or FIFO (no user.*
     xattr) in the table of this process, which the layer writer of a step's copied root
     reads (chroot isolation extracts the layers of earlier steps). */
  if (errno == EINVAL && owners_active ())
    {
      cleanup_close int h = *name ? openat (dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
      int fd = *name ? h : dirfd;
      struct stat st = { .st_uid = (uid_t) uid, .st_gid = (gid_t) gid,
                         .st_mode = archive_entry_mode (e) };
      struct stat now;
      if (fd >= 0 && fstat (fd, &now) == 0 && (S_ISLNK (now.st_mode) || S_ISFIFO (now.st_mode)))
        {
          if (owners_record_special (fd, (uid_t) uid, (gid_t) gid) == 0)
            return 0;
        }
      else if (*name == '\0' && owners_record (dirfd, &st) == 0)
        return 0;
      errno = EINVAL;
    }
  if (errno == EINVAL && owners_active ())
    return bale_make_error (err, EINVAL,
                            "cannot give '%s' its owner %" PRId64 ":%" PRId64 ": the id is "
                            "outside this user's namespace (add a larger range for the user to "
                            "/etc/subuid and /etc/subgid, or build as root)",
                            path, (int64_t) uid, (int64_t) gid);
  return bale_make_error (err, errno, "cannot change the owner of '%s'", path);
}

static int
apply_owner_mode (struct extractor *x, int fd, struct archive_entry *e, const char *path,
                  bale_error_t *err)
{
  if (chown_entry (fd, "", AT_EMPTY_PATH, e, path, err) < 0)
    return -1;
  if (fchmod (fd, entry_perm (x, e, path)) < 0)
    return bale_make_error (err, errno, "cannot change the mode of '%s'", path);
  return 0;
}

static int
apply_xattrs (struct extractor *x, int fd, struct archive_entry *e, const char *path,
              bale_error_t *err)
{
  const char *name;
  const void *value;
  size_t size;

  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    {
      /* A layer must not forge overlayfs state (opaque, redirect, metacopy): in an overlay
         lower directory those would change what other paths show. */
      if (is_overlay_xattr (name))
        continue;
      /* Nor an override a rootless build would honour (runtime/fs/owners.h). */
      if (owners_active () && strcmp (name, OWNERS_XATTR) == 0)
        continue;
      /* File capabilities are privileges as a setuid bit is, and for anyone on the host who
         runs the file when root set them. */
      if (x->strip && strcmp (name, "security.capability") == 0)
        {
          strip_say (x, "'%s': file capabilities (security.capability) not set", path);
          continue;
        }
      if (fsetxattr (fd, name, value, size, 0) < 0 && errno != ENOTSUP)
        return bale_make_error (err, errno, "cannot set xattr '%s' on '%s'", name, path);
    }
  return 0;
}

static int
apply_mtime (int fd, struct archive_entry *e, const char *path, bale_error_t *err)
{
  struct timespec ts[2];

  ts[0].tv_sec = ts[1].tv_sec = (time_t) archive_entry_mtime (e);
  ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec (e);
  if (futimens (fd, ts) < 0)
    return bale_make_error (err, errno, "cannot set the times of '%s'", path);
  return 0;
}

static int
apply_meta (struct extractor *x, int fd, struct archive_entry *e, const char *path, bool times,
            bale_error_t *err)
{
  if (apply_owner_mode (x, fd, e, path, err) < 0 || apply_xattrs (x, fd, e, path, err) < 0)
    return -1;
  return times ? apply_mtime (fd, e, path, err) : 0;
}

/* Directory times are set at the very end: creating children changes them. */
static void
defer_dir_time (struct extractor *x, const char *path, struct archive_entry *e)
{
  XGROW (x->dirs, x->dirs_alloc, x->n_dirs + 1);
  x->dirs[x->n_dirs].path = xstrdup (path);
  x->dirs[x->n_dirs].mtime.tv_sec = (time_t) archive_entry_mtime (e);
  x->dirs[x->n_dirs].mtime.tv_nsec = archive_entry_mtime_nsec (e);
  x->n_dirs++;
}

static int
finish_dir_times (struct extractor *x, bale_error_t *err)
{
  size_t i;

  for (i = 0; i < x->n_dirs; i++)
    {
      /* O_NOFOLLOW: a later entry may have replaced the directory with a symlink. */
      cleanup_close int fd
          = inroot_open (x->root, x->dirs[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
      struct timespec ts[2] = { x->dirs[i].mtime, x->dirs[i].mtime };

      if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
        continue;
      if (fd < 0 || futimens (fd, ts) < 0)
        return bale_make_error (err, errno, "cannot set the times of '%s'", x->dirs[i].path);
    }
  return 0;
}

/* ---- entries ------------------------------------------------------------------------------ */

static int
write_data (struct extractor *x, int fd, const char *path, bale_error_t *err)
{
  la_ssize_t n;

  while ((n = archive_read_data (x->tar, x->data, sizeof x->data)) > 0)
    if (fileio_write_all (fd, x->data, (size_t) n) < 0)
      return bale_make_error (err, errno, "cannot write '%s'", path);
  if (n < 0)
    return archive_fail (x, x->tar, err, "cannot read the layer");
  return 0;
}

/* A sparse entry of an ADDed archive (GNU or PAX sparse; moby's archive, with which
   BuildKit unpacks an ADD, reads PAX ones with Go's tar reader): each data block at its offset,
   the holes left as holes, the file as long as the entry's real size (FINDINGS F59). */
static int
write_sparse (struct extractor *x, int fd, const char *path, struct archive_entry *e,
              bale_error_t *err)
{
  const void *buf;
  size_t size;
  la_int64_t off;
  int r;

  while ((r = archive_read_data_block (x->tar, &buf, &size, &off)) == ARCHIVE_OK)
    {
      const char *p = buf;
      while (size > 0)
        {
          ssize_t n = pwrite (fd, p, size, (off_t) off);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            return bale_make_error (err, n < 0 ? errno : EIO, "cannot write '%s'", path);
          p += n;
          size -= (size_t) n;
          off += n;
        }
    }
  if (r != ARCHIVE_EOF)
    return archive_fail (x, x->tar, err, "cannot read the layer");
  if (archive_entry_size (e) < 0)
    return bale_make_error (err, EINVAL, "entry '%s': a sparse file of negative size", path);
  /* The holes cost nothing here, but the layer that copies the file holds them as zeros: a
     10 KiB archive naming a 1 TiB file was a layer of 1 TiB to read and compress (BuildKit
     writes the zeros to disk). They count with what the stream unpacked to, against
     BALE_MAX_LAYER_SIZE when set; otherwise a sparse file may not expand more than a
     compressed stream can (gzip's ratio is about 1000): at most 1 GiB plus 1024 times the
     archive's bytes read so far. */
  x->hole_bytes += archive_entry_size (e);
  if (x->max_tar_bytes > 0 ? x->tar_bytes + x->hole_bytes > x->max_tar_bytes
                           : x->hole_bytes > ((int64_t) 1 << 30) + 1024 * x->tar_bytes)
    return bale_make_error (err, EFBIG, "entry '%s': sparse files of %" PRId64 " bytes from %" PRId64
                                        " bytes of archive: more than %s, refused as a size bomb%s",
                            path, x->hole_bytes, x->tar_bytes,
                            x->max_tar_bytes > 0 ? "the archive may unpack to"
                                                 : "1 GiB plus 1024 times the archive's bytes",
                            x->max_tar_bytes > 0 ? " (BALE_MAX_LAYER_SIZE)"
                                                 : " (BALE_MAX_LAYER_SIZE sets a limit instead)");
  if (ftruncate (fd, (off_t) archive_entry_size (e)) < 0)
    return bale_make_error (err, errno, "cannot write '%s'", path);
  return 0;
}

static int
make_file (struct extractor *x, int pfd, const char *base, const char *path,
           struct archive_entry *e, bale_error_t *err)
{
  cleanup_close int fd
      = openat (pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return bale_make_error (err, errno, "cannot create '%s'", path);
  if (archive_entry_sparse_count (e) > 0 ? write_sparse (x, fd, path, e, err) < 0
                                         : write_data (x, fd, path, err) < 0)
    return -1;
  return apply_meta (x, fd, e, path, true, err);
}

static int
make_dir (struct extractor *x, int pfd, const char *base, const char *path, bool exists,
          struct archive_entry *e, bale_error_t *err)
{
  cleanup_close int fd = -1;

  if (!exists && mkdirat (pfd, base, 0700) < 0)
    return bale_make_error (err, errno, "cannot create directory '%s'", path);
  fd = openat (pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open directory '%s'", path);
  if (apply_meta (x, fd, e, path, false, err) < 0)
    return -1;
  defer_dir_time (x, path, e);
  return 0;
}

static int
make_symlink (int pfd, const char *base, const char *path, struct archive_entry *e,
              bale_error_t *err)
{
  const char *target = archive_entry_symlink (e);
  struct timespec ts[2];

  /* Stored as it is, whatever it points at: it is never followed while extracting, and
     later resolution happens inside the root. */
  if (target == NULL || symlinkat (target, pfd, base) < 0)
    return bale_make_error (err, target ? errno : EINVAL, "cannot create symlink '%s'", path);
  if (chown_entry (pfd, base, 0, e, path, err) < 0)
    return -1;
  ts[0].tv_sec = ts[1].tv_sec = (time_t) archive_entry_mtime (e);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  if (utimensat (pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return bale_make_error (err, errno, "cannot set the times of '%s'", path);
  return 0;
}

/* A user namespace may not create devices: an empty file stands in for the device, and the
   override xattr says what it is, for the layers written from it (runtime/fs/owners.h). RUN
   steps see the empty file (their /dev is the sandbox's own). */
static int
make_device_standin (struct extractor *x, int pfd, const char *base, const char *path,
                     struct archive_entry *e, dev_t dev, bale_error_t *err)
{
  cleanup_close int fd
      = openat (pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  struct stat st;

  if (fd < 0)
    return bale_make_error (err, errno, "cannot create a stand-in for device '%s'", path);
  if (apply_meta (x, fd, e, path, true, err) < 0)
    return -1;
  st.st_uid = (uid_t) archive_entry_uid (e);
  st.st_gid = (gid_t) archive_entry_gid (e);
  st.st_mode = archive_entry_mode (e);
  st.st_rdev = dev;
  if (owners_record (fd, &st) < 0)
    return bale_make_error (err, errno, "cannot record device '%s'", path);
  return 0;
}

/* Devices and FIFOs cannot be opened for writing safely (opening a device has side
   effects, a FIFO blocks), so their metadata goes through /proc/self/fd of an O_PATH
   descriptor, which names the inode itself and follows nothing else. */
static int
make_special (struct extractor *x, int pfd, const char *base, const char *path,
              struct archive_entry *e, bale_error_t *err)
{
  mode_t type = archive_entry_filetype (e) == AE_IFIFO  ? S_IFIFO
                : archive_entry_filetype (e) == AE_IFBLK ? S_IFBLK
                                                         : S_IFCHR;
  dev_t dev = type == S_IFIFO
                  ? 0
                  : makedev (archive_entry_rdevmajor (e), archive_entry_rdevminor (e));
  cleanup_close int fd = -1;
  char proc[64];
  struct stat st;
  struct timespec ts[2];

  if (type != S_IFIFO && x->strip)
    {
      /* A node the host's kernel would honour in the user's directory: a world-writable
         disk, /dev/mem. Left out, as the path it names. */
      strip_say (x, "'%s': device node (%s %u:%u) not created", path, type == S_IFBLK ? "block" : "character",
                 major (dev), minor (dev));
      pathset_add (&x->stripped, path);
      return 0;
    }
  if (mknodat (pfd, base, type | 0600, dev) < 0)
    {
      if (errno == EPERM && type != S_IFIFO && owners_active ())
        return make_device_standin (x, pfd, base, path, e, dev, err);
      return bale_make_error (err, errno, "cannot create device or FIFO '%s'", path);
    }
  fd = openat (pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0 || (st.st_mode & S_IFMT) != type)
    return bale_make_error (err, errno, "cannot open '%s'", path);
  if (chown_entry (fd, "", AT_EMPTY_PATH, e, path, err) < 0)
    return -1;
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (chmod (proc, entry_perm (x, e, path)) < 0)
    return bale_make_error (err, errno, "cannot change the mode of '%s'", path);
  ts[0].tv_sec = ts[1].tv_sec = (time_t) archive_entry_mtime (e);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  if (utimensat (AT_FDCWD, proc, ts, 0) < 0)
    return bale_make_error (err, errno, "cannot set the times of '%s'", path);
  return 0;
}

/* A hard link names an earlier entry of this layer, resolved from the root of the layer
   (not the entry's directory) the same way as any entry, and links what is there as it is:
   linkat without AT_SYMLINK_FOLLOW links a symlink, not its target (CVE-2021-32760). Its
   data, if the header claims any, is never written (CVE-2016-5418). Its header's owner, mode,
   xattrs and mtime are applied to the shared inode when that is a regular file, as moby's
   archive package does (createTarFile: Lchown, then Chmod and Chtimes unless the target is a
   symlink), so that ADD of such a tar gives BuildKit's files; a symlink, device or FIFO target
   is left as it is (opening those could block or reach a device). */
static int
make_hardlink (struct extractor *x, int pfd, const char *base, const char *path,
               struct archive_entry *e, bale_error_t *err)
{
  cleanup_free char *target = clean_name (archive_entry_hardlink (e));
  const char *tdir, *tbase;
  cleanup_close int tfd = -1;
  struct stat st;

  if (target && x->strip && pathset_has (&x->stripped, target) && !pathset_has (&x->created, target))
    {
      strip_say (x, "'%s': hard link to device node '%s' not created", path, target);
      pathset_add (&x->stripped, path);
      return 0;
    }
  if (target == NULL || *target == '\0' || !pathset_has (&x->created, target))
    return bale_make_error (err, EINVAL,
                            "hard link '%s' to '%s': the target is not an earlier entry of "
                            "this layer",
                            path, archive_entry_hardlink (e));
  split_path (target, &tdir, &tbase);
  tfd = open_dir_in_root (x, tdir, err);
  if (tfd < 0)
    return -1;
  if (fstatat (tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return bale_make_error (err, errno, "hard link '%s': cannot stat its target", path);
  if (S_ISDIR (st.st_mode))
    return bale_make_error (err, EISDIR, "hard link '%s' to a directory", path);
  if (linkat (tfd, tbase, pfd, base, 0) < 0)
    return bale_make_error (err, errno, "cannot create hard link '%s'", path);
  if (S_ISREG (st.st_mode))
    {
      cleanup_close int fd = openat (pfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0)
        return bale_make_error (err, errno, "cannot open hard link '%s'", path);
      /* chown drops security.capability and set-id bits even to the same owner, and a link
         entry written by a tar writer that does not repeat xattrs on links (bale's own, GNU
         tar) would then lose them: change only what the header says differently. */
      if (((uid_t) archive_entry_uid (e) != st.st_uid || (gid_t) archive_entry_gid (e) != st.st_gid)
          && chown_entry (fd, "", AT_EMPTY_PATH, e, path, err) < 0)
        return -1;
      mode_t perm = entry_perm (x, e, path);
      if (perm != (st.st_mode & 07777) && fchmod (fd, perm) < 0)
        return bale_make_error (err, errno, "cannot change the mode of '%s'", path);
      if (apply_xattrs (x, fd, e, path, err) < 0)
        return -1;
      return apply_mtime (fd, e, path, err);
    }
  return 0;
}

static int
create_entry (struct extractor *x, int pfd, const char *base, const char *path,
              struct archive_entry *e, bool dir_exists, bale_error_t *err)
{
  if (archive_entry_hardlink (e))
    return make_hardlink (x, pfd, base, path, e, err);
  switch (archive_entry_filetype (e))
    {
    case AE_IFREG:
      return make_file (x, pfd, base, path, e, err);
    case AE_IFDIR:
      return make_dir (x, pfd, base, path, dir_exists, e, err);
    case AE_IFLNK:
      return make_symlink (pfd, base, path, e, err);
    case AE_IFCHR:
    case AE_IFBLK:
      /* Left out with a warning when the tree is for the host (strip); asked for there
         (privileged-files=true) by a user who cannot make one, refused. */
      if (x->caller_owns && !x->strip && rootless_userns ())
        return bale_make_error (err, EPERM,
                                "cannot create device '%s': an ordinary user cannot make device "
                                "nodes (export with -o type=tar, or build as root)",
                                path);
      return make_special (x, pfd, base, path, e, err);
    case AE_IFIFO:
      return make_special (x, pfd, base, path, e, err);
    default:
      /* Sockets and unknown types: nothing a layer can meaningfully carry. */
      return 0;
    }
}

/* Put entry e at path (cleaned, not the root): parent resolved inside the root, whatever
   is at the last component replaced unless both are directories. */
static int
apply_file_entry (struct extractor *x, char *path, struct archive_entry *e, bale_error_t *err)
{
  cleanup_free char *shown = xstrdup (path);
  const char *dir, *base;
  cleanup_close int pfd = -1;
  struct stat st;
  bool is_dir = archive_entry_filetype (e) == AE_IFDIR && !archive_entry_hardlink (e);
  bool dir_exists = false;

  split_path (path, &dir, &base);
  pfd = open_dir_in_root (x, dir, err);
  if (pfd < 0)
    return -1;
  if (fstatat (pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (S_ISDIR (st.st_mode) && is_dir)
        dir_exists = true;
      else if (dirwalk_remove (pfd, base, shown, err) < 0)
        return -1;
    }
  else if (errno != ENOENT)
    return bale_make_error (err, errno, "cannot stat '%s'", shown);
  if (create_entry (x, pfd, base, shown, e, dir_exists, err) < 0)
    return -1;
  if (fstatat (pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : bale_make_error (err, errno, "cannot stat '%s'", shown);
  mark_created (x, shown, &st);
  return 0;
}

static int
apply_entry (struct extractor *x, struct archive_entry *e, bale_error_t *err)
{
  const char *name = archive_entry_pathname (e);
  cleanup_free char *path = NULL;
  cleanup_free char *copy = NULL;
  const char *dir, *base;

  if (name == NULL)
    return bale_make_error (err, EINVAL, "layer entry without a name");
  path = clean_name (name);
  if (path == NULL)
    return bale_make_error (err, ENAMETOOLONG, "layer entry name too long (%zu bytes)",
                            strlen (name));
  /* An image layer's sparse entry is refused (a size bomb: a few bytes of tar for a file of
     terabytes that every later read of the layer expands); an ADDed archive's, from the
     build's own context, is unpacked as BuildKit does (FINDINGS F59). */
  if (archive_entry_sparse_count (e) > 0 && x->mode != LAYER_EXTRACT_ARCHIVE)
    return bale_make_error (err, EINVAL, "sparse layer entry '%s' is not supported", name);
  /* Go's tar reader turns PAX sparse entries into regular files but leaves the old GNU
     sparse header its type 'S', which moby's archive refuses. */
  if (archive_entry_sparse_count (e) > 0 && archive_format (x->tar) == ARCHIVE_FORMAT_TAR_GNUTAR)
    return bale_make_error (err, EINVAL,
                            "entry '%s': unhandled tar header type 83 (an old GNU sparse file)", name);
  if (*path == '\0')
    {
      /* The root's own attributes are unspecified (image-spec); a root that is anything
         but a directory would re-point everything after it (CVE-2021-29136). */
      if (archive_entry_filetype (e) == AE_IFDIR && !archive_entry_hardlink (e))
        return 0;
      return bale_make_error (err, EINVAL,
                              "layer entry '%s' replaces the root with a non-directory", name);
    }
  copy = xstrdup (path);
  split_path (copy, &dir, &base);
  if (x->mode == LAYER_EXTRACT_ARCHIVE)
    {
      /* moby's system.Chtimes gives a time before 1970 (or past 2262) the epoch's, except
         on a symlink (LUtimesNano): FINDINGS F63. */
      if (archive_entry_filetype (e) != AE_IFLNK
          && (archive_entry_mtime (e) < 0 || archive_entry_mtime (e) > INT64_MAX / 1000000000))
        archive_entry_set_mtime (e, 0, 0);
      if (x->listed_dir && archive_entry_filetype (e) == AE_IFDIR && !archive_entry_hardlink (e))
        x->listed_dir (x->listed_arg, path);
      else if (x->listed_nondir && (archive_entry_filetype (e) != AE_IFDIR || archive_entry_hardlink (e)))
        x->listed_nondir (x->listed_arg, path);
      return apply_file_entry (x, path, e, err);
    }
  if (strcmp (base, OPAQUE_NAME) == 0)
    return apply_opaque (x, dir, err);
  if (strncmp (base, WHITEOUT_META_PREFIX, strlen (WHITEOUT_META_PREFIX)) == 0)
    return 0; /* aufs bookkeeping (.wh..wh.plnk...): containerd skips it too */
  if (strncmp (base, WHITEOUT_PREFIX, strlen (WHITEOUT_PREFIX)) == 0)
    return apply_whiteout (x, dir, base + strlen (WHITEOUT_PREFIX), name, err);
  return apply_file_entry (x, path, e, err);
}

/* Hash what the readers left unread: padding and anything after the end blocks belong
   to the diff_id too, and anything after the compressed stream to the blob digest.
   What follows the end of the tar archive is refused past LAYER_MAX_TRAILER bytes when it is
   also more than the whole compressed blob: that is a decompression bomb (1 KiB of gzip
   inflates to 1 MiB of zeros, which a tar reader takes for the end of the archive and which
   only the diff_id would ever read: 15 s of CPU per MiB sent, and nothing else). A tar
   writer pads its end to a record (Go 1 KiB, libarchive and GNU tar 10 KiB); an uncompressed
   layer's trailer is never more than its blob, so only a compressed one can be refused. */
static int
drain (struct extractor *x, bale_error_t *err)
{
  const void *out;
  la_ssize_t n;
  int64_t end = x->tar_bytes, trailer;

  while ((n = read_tar (NULL, x, &out)) > 0)
    if ((trailer = x->tar_bytes - end) > LAYER_MAX_TRAILER && trailer > x->blob_bytes)
      return bale_make_error (err, EFBIG, "more than %" PRId64 " bytes after the end of the tar archive, "
                                          "from %" PRId64 " bytes of compressed layer: a decompression "
                                          "bomb, refused (BuildKit hashes them for the diff_id)",
                              trailer, x->blob_bytes);
  if (n == 0)
    while ((n = read_blob (NULL, x, &out)) > 0)
      ;
  if (n < 0)
    {
      bale_error_join (err, &x->cb_err);
      return -1;
    }
  return 0;
}

static int
extract_all (struct extractor *x, const struct layer_extract_opts *opts,
             struct layer_extract_stats *stats, bale_error_t *err)
{
  struct archive_entry *e;
  int ret;

  if (open_stream (x, err) < 0)
    return -1;
  /* ARCHIVE_WARN: a name that does not convert to the locale's charset, kept as bytes. */
  while ((ret = archive_read_next_header (x->tar, &e)) == ARCHIVE_OK || ret == ARCHIVE_WARN)
    {
      if (x->max_entries > 0 && x->entries >= x->max_entries)
        return bale_make_error (err, EFBIG, "the layer has more than %" PRId64 " entries",
                                x->max_entries);
      x->entries++;
      if (x->caller_owns)
        {
          archive_entry_set_uid (e, geteuid ());
          archive_entry_set_gid (e, getegid ());
        }
      if (apply_entry (x, e, err) < 0)
        return bale_error_wrap (err, "layer entry %" PRId64, x->entries);
    }
  if (ret != ARCHIVE_EOF)
    return archive_fail (x, x->tar, err, "cannot read the layer");
  memset (stats, 0, sizeof *stats);
  stats->entries = x->entries;
  /* An ADDed archive has no digests to check: what follows its end is not even read (moby's
     Untar stops there too), so no bomb after it costs anything. */
  if (x->mode == LAYER_EXTRACT_ARCHIVE)
    return finish_dir_times (x, err);
  if (drain (x, err) < 0)
    return -1;
  if (digester_final (&x->diff, stats->diff_id, err) < 0
      || digester_final (&x->blob, stats->digest, err) < 0)
    return -1;
  if (opts->expected_diff_id && strcmp (opts->expected_diff_id, stats->diff_id) != 0)
    return bale_make_error (err, 0, "layer diff_id mismatch: expected '%s', got '%s'",
                            opts->expected_diff_id, stats->diff_id);
  return finish_dir_times (x, err);
}

int
layer_diff_id (int fd, bool more_filters, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  struct extractor *x = xzalloc (sizeof *x);
  struct archive_entry *e;
  int ret = 0, r;

  x->fd = fd;
  x->root = -1;
  /* Only the reader's choice of filters follows from the mode: nothing is applied. */
  x->mode = more_filters ? LAYER_EXTRACT_ARCHIVE : LAYER_EXTRACT_MERGED;
  if (layer_max_size (&x->max_tar_bytes, err) < 0 || digester_init (&x->blob, err) < 0)
    ret = -1;
  else if (digester_init (&x->diff, err) < 0)
    {
      digester_release (&x->blob);
      ret = -1;
    }
  else
    {
      x->max_from_env = x->max_tar_bytes > 0;
      if (open_stream (x, err) < 0)
        ret = -1;
      else
        {
          while ((r = archive_read_next_header (x->tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
            if (archive_read_data_skip (x->tar) != ARCHIVE_OK)
              {
                r = ARCHIVE_FATAL;
                break;
              }
          if (r != ARCHIVE_EOF)
            ret = archive_fail (x, x->tar, err, "cannot read the layer");
          else if (drain (x, err) < 0 || digester_final (&x->diff, out, err) < 0)
            ret = -1;
        }
      digester_release (&x->blob);
      digester_release (&x->diff);
    }
  if (x->tar)
    archive_read_free (x->tar);
  if (x->raw)
    archive_read_free (x->raw);
  bale_error_release (&x->cb_err);
  free (x);
  return ret < 0 ? -1 : 0;
}

int
layer_extract (int fd, int root_fd, const struct layer_extract_opts *opts,
               struct layer_extract_stats *stats, bale_error_t *err)
{
  struct extractor *x = xzalloc (sizeof *x);
  struct layer_extract_stats local;
  size_t i;
  int ret;

  x->root = root_fd;
  x->mode = opts->mode;
  x->max_tar_bytes = opts->max_tar_bytes;
  if (x->max_tar_bytes == 0)
    {
      if (layer_max_size (&x->max_tar_bytes, err) < 0)
        {
          free (x);
          return -1;
        }
      x->max_from_env = x->max_tar_bytes > 0;
    }
  x->listed_dir = opts->listed_dir;
  x->listed_nondir = opts->listed_nondir;
  x->listed_arg = opts->listed_arg;
  x->max_entries = opts->max_entries;
  x->caller_owns = opts->caller_owns;
  x->export = opts->export;
  x->fd = fd;
  x->meter = opts->meter;
  x->strip = opts->strip;
  x->strip_ctx = opts->strip_ctx;
  if (digester_init (&x->blob, err) < 0 || digester_init (&x->diff, err) < 0)
    ret = -1;
  else
    ret = extract_all (x, opts, stats ? stats : &local, err);
  archive_read_free (x->tar);
  archive_read_free (x->raw);
  digester_release (&x->blob);
  digester_release (&x->diff);
  bale_error_release (&x->cb_err);
  pathset_release (&x->created);
  pathset_release (&x->created_inodes);
  pathset_release (&x->stripped);
  for (i = 0; i < x->n_dirs; i++)
    free (x->dirs[i].path);
  free (x->dirs);
  free (x);
  return ret < 0 ? -1 : 0;
}
