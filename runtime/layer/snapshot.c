/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The snapshot cache: each layer unpacked once, atomically, as an overlayfs lower directory. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/fs/owners.h"
#include "runtime/layer/layer.h"
#include "common/banned.h"

#define TMP_SUFFIX ".tmp"
#define ADOPT_SUFFIX ".adopt"
#define LOCK_SUFFIX ".lock"
#define HEX_LEN 64
/* <hex>/boot.<boot id>: an empty file beside fs/ in a snapshot whose files were never
   synced, made in the boot it names (see unsynced_ok). */
#define BOOT_PREFIX "boot."
#define BOOT_ID_LEN 36

/*
 * Snapshots are not synced. A snapshot is published by a rename after its files are
 * written; within one boot the page cache makes it whole for every process, whether or not
 * the disk has it yet. So an unpack or an unsynced adoption marks the snapshot with the boot
 * it was made in (an empty file, created before the rename), and a snapshot marked with an
 * earlier boot is unpacked again from its blob, which the store did sync: a crash may have
 * left it with empty or missing files under its complete name. A RUN step's overlayfs upper
 * directory, adopted as its layer's snapshot, is such a tree too: the overlay is mounted
 * "volatile", so that its unmount does not sync the file system. A snapshot with no mark
 * was synced when it was made (by an older bale). Where the boot id cannot be read, the
 * snapshot is synced (syncfs) as before.
 */

/* This boot's id (36 characters and a NUL) into id; false when it cannot be read. */
static bool
boot_id (char id[BOOT_ID_LEN + 1])
{
  static char cached[BOOT_ID_LEN + 1];
  if (!*cached)
    {
      cleanup_close int fd = open ("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
      char buf[BOOT_ID_LEN + 2];
      ssize_t n = fd < 0 ? -1 : read (fd, buf, sizeof buf);
      size_t i;

      if (n < BOOT_ID_LEN)
        return false;
      for (i = 0; i < BOOT_ID_LEN; i++)
        if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'f') || buf[i] == '-'))
          return false;
      memcpy (cached, buf, BOOT_ID_LEN);
      cached[BOOT_ID_LEN] = '\0';
    }
  memcpy (id, cached, sizeof cached);
  return true;
}

/* Mark the snapshot being made in dir (open on <hex>.tmp or <hex>.adopt) as made in this
   boot and not synced; or, without a boot id, sync it. */
static int
mark_unsynced (int dir_fd, const char *name, bale_error_t *err)
{
  char id[BOOT_ID_LEN + 1], mark[sizeof BOOT_PREFIX + BOOT_ID_LEN];
  int fd;

  if (!boot_id (id))
    return syncfs (dir_fd) < 0 ? bale_make_error (err, errno, "cannot sync snapshot '%s'", name) : 0;
  snprintf (mark, sizeof mark, BOOT_PREFIX "%s", id);
  fd = openat (dir_fd, mark, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot mark snapshot '%s'", name);
  close (fd);
  return 0;
}

/* Whether the complete snapshot <hex> may be used: it has no boot mark (it was synced), or
   the mark of this boot. */
static bool
unsynced_ok (int snapdir_fd, const char *hex)
{
  char id[BOOT_ID_LEN + 1], mark[HEX_LEN + 1 + sizeof BOOT_PREFIX + BOOT_ID_LEN];
  struct dirwalk_list list = { NULL, 0, 0 };
  bale_error_t e = NULL;
  cleanup_close int fd = -1;
  bool ok = true;
  size_t i;

  if (boot_id (id))
    {
      struct stat st;
      snprintf (mark, sizeof mark, "%s/" BOOT_PREFIX "%s", hex, id);
      if (fstatat (snapdir_fd, mark, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return true;
    }
  fd = openat (snapdir_fd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || dirwalk_list_read (fd, hex, &list, &e) < 0)
    ok = false; /* unreadable: unpacked again, which says why if it fails too */
  for (i = 0; ok && i < list.n; i++)
    if (strncmp (list.v[i].name, BOOT_PREFIX, strlen (BOOT_PREFIX)) == 0)
      ok = false; /* an earlier boot's (or, without a boot id now, any) */
  dirwalk_list_release (&list);
  bale_error_release (&e);
  return ok;
}

static int remove_snapshot (int snapdir_fd, const char *name, const char *path, bale_error_t *err);

/* The absolute path of snapdir/hex/fs, from the descriptor: the caller gave no path, and
   overlayfs options need one. */
static char *
fs_path (int snapdir_fd, const char *hex, bale_error_t *err)
{
  char proc[64], target[PATH_MAX];
  ssize_t n;

  snprintf (proc, sizeof proc, "/proc/self/fd/%d", snapdir_fd);
  n = readlink (proc, target, sizeof target - 1);
  if (n < 0)
    {
      bale_make_error (err, errno, "cannot find the path of the snapshot directory");
      return NULL;
    }
  target[n] = '\0';
  return xasprintf ("%s/%s/fs", target, hex);
}

/* Unpack into hex.tmp/fs, then rename hex.tmp to hex: a snapshot is either complete or
   absent, even when the process is killed half way. The caller holds the lock. */
/* ---- one id: owners of symbolic links and FIFOs ----------------------------------------- */

/* A symbolic link or FIFO cannot hold the override xattr, and the table of runtime/fs/owners.h
   that stands in for it names inodes of this process's making: a snapshot made by an earlier
   build (or by another process of this one) has none there. So each snapshot keeps the
   recorded owners of its symbolic links and FIFOs in SPECIAL_OWNERS next to fs, as records
   "UID GID PATH\0" (PATH relative to fs), written before the snapshot is published. */
#define SPECIAL_OWNERS "special-owners"

static int
collect_special (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct stat st = *e->st;

  (void) err;
  if ((S_ISLNK (st.st_mode) || S_ISFIFO (st.st_mode)) && owners_apply_special (e->dirfd, e->name, &st))
    {
      strbuf_addf (ctx, "%u %u %s", (unsigned) st.st_uid, (unsigned) st.st_gid, e->relpath);
      strbuf_addch (ctx, '\0');
    }
  return DIRWALK_CONTINUE;
}

static int
write_special_owners (int snap_fd, const char *name, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;
  cleanup_close int fs = -1, out = -1;
  int ret = 0;

  if (!owners_active ())
    return 0;
  fs = openat (snap_fd, "fs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fs < 0)
    return bale_make_error (err, errno, "cannot open snapshot '%s/fs'", name);
  if (dirwalk (fs, collect_special, NULL, &sb, err) < 0)
    ret = -1;
  else if (sb.len > 0
           && ((out = openat (snap_fd, SPECIAL_OWNERS, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0
               || fileio_write_all (out, sb.buf, sb.len) < 0))
    ret = bale_make_error (err, errno, "cannot write the owners of snapshot '%s'", name);
  strbuf_release (&sb);
  return ret;
}

bool
snapshot_special_owner (const char *fs_path, const char *relpath, uid_t *uid, gid_t *gid)
{
  cleanup_free char *path = xasprintf ("%s/../" SPECIAL_OWNERS, fs_path);
  cleanup_close int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct strbuf sb = STRBUF_INIT;
  bale_error_t e = NULL;
  bool found = false;

  if (fd >= 0 && fileio_read_fd (fd, path, &sb, &e) == 0)
    for (const char *p = sb.buf, *end = sb.buf + sb.len; p < end && !found;)
      {
        const char *z = memchr (p, '\0', (size_t) (end - p));
        unsigned u, g;
        int n = 0;
        if (z == NULL)
          break;
        if (sscanf (p, "%u %u %n", &u, &g, &n) == 2 && n > 0 && strcmp (p + n, relpath) == 0)
          {
            *uid = u;
            *gid = g;
            found = true;
          }
        p = z + 1;
      }
  bale_error_release (&e);
  strbuf_release (&sb);
  return found;
}

static int
unpack (int snapdir_fd, const char *diff_id, const char *hex, int blob_fd, bale_error_t *err)
{
  cleanup_free char *tmp = xasprintf ("%s" TMP_SUFFIX, hex);
  cleanup_close int tmp_fd = -1;
  cleanup_close int fs_fd = -1;
  struct layer_extract_opts opts = { .mode = LAYER_EXTRACT_OVERLAY, .expected_diff_id = diff_id };
  int ret;

  /* A leftover of a killed unpack: nobody else can be using it, we hold the lock. */
  if (dirwalk_remove (snapdir_fd, tmp, tmp, err) < 0)
    return -1;
  /* 0700: the snapshot holds setuid files that other host users must not reach. */
  if (mkdirat (snapdir_fd, tmp, 0700) < 0)
    return bale_make_error (err, errno, "cannot create snapshot directory '%s'", tmp);
  tmp_fd = openat (snapdir_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmp_fd < 0 || mkdirat (tmp_fd, "fs", 0755) < 0)
    ret = bale_make_error (err, errno, "cannot create snapshot directory '%s/fs'", tmp);
  else if ((fs_fd = openat (tmp_fd, "fs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    ret = bale_make_error (err, errno, "cannot open snapshot directory '%s/fs'", tmp);
  else if (lseek (blob_fd, 0, SEEK_SET) < 0)
    ret = bale_make_error (err, errno, "cannot rewind the blob of layer '%s'", diff_id);
  else if (layer_extract (blob_fd, fs_fd, &opts, NULL, err) < 0)
    ret = bale_error_wrap (err, "cannot unpack layer '%s'", diff_id);
  else if (write_special_owners (tmp_fd, tmp, err) < 0)
    ret = -1;
  else if (mark_unsynced (tmp_fd, hex, err) < 0)
    ret = -1;
  else if (renameat (snapdir_fd, tmp, snapdir_fd, hex) < 0)
    ret = bale_make_error (err, errno, "cannot move snapshot '%s' into place", hex);
  else
    return 0;
  {
    bale_error_t ignored = NULL;
    dirwalk_remove (snapdir_fd, tmp, tmp, &ignored);
    bale_error_release (&ignored);
  }
  return ret;
}

/* Take the layer's lock (<hex>.lock, flock): one per layer, so unpacks of different layers
   run in parallel and a second process wanting the same layer waits and then finds it done.
   The kernel releases it when a holder dies. *hex points into diff_id. */
static int
lock_layer (int snapdir_fd, const char *diff_id, const char **hex, int *lock_fd, bale_error_t *err)
{
  cleanup_free char *lock = NULL;

  *hex = digest_hex (diff_id);
  if (*hex == NULL)
    return bale_make_error (err, EINVAL, "invalid diff_id '%s'", diff_id);
  lock = xasprintf ("%s" LOCK_SUFFIX, *hex);
  *lock_fd = openat (snapdir_fd, lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (*lock_fd < 0)
    return bale_make_error (err, errno, "cannot open snapshot lock '%s'", lock);
  while (flock (*lock_fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return bale_make_error (err, errno, "cannot lock snapshot '%s'", *hex);
  return 0;
}

int
snapshot_ensure (int snapdir_fd, const char *diff_id, int blob_fd, char **out_path,
                 bale_error_t *err)
{
  const char *hex = NULL;
  cleanup_close int lock_fd = -1;
  struct stat st;
  bool found;

  if (lock_layer (snapdir_fd, diff_id, &hex, &lock_fd, err) < 0)
    return -1;
  found = fstatat (snapdir_fd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!found && errno != ENOENT)
    return bale_make_error (err, errno, "cannot stat snapshot '%s'", hex);
  if (found && !S_ISDIR (st.st_mode))
    return bale_make_error (err, ENOTDIR, "snapshot '%s' is not a directory", hex);
  if (found && !unsynced_ok (snapdir_fd, hex))
    {
      /* Unsynced, from an earlier boot: unpacked again. */
      cleanup_free char *path = xasprintf ("snapshots/%s", hex);
      if (remove_snapshot (snapdir_fd, hex, path, err) < 0)
        return -1;
      found = false;
    }
  if (!found && unpack (snapdir_fd, diff_id, hex, blob_fd, err) < 0)
    return -1;
  *out_path = fs_path (snapdir_fd, hex, err);
  return *out_path ? 0 : -1;
}

int
snapshot_adopt_unsynced (int snapdir_fd, const char *diff_id, const char *tree, char **out_path,
                         bale_error_t *err)
{
  const char *hex = NULL;
  cleanup_free char *tmp = NULL, *fs = NULL;
  cleanup_close int lock_fd = -1, tmp_fd = -1;
  struct stat st;

  if (lock_layer (snapdir_fd, diff_id, &hex, &lock_fd, err) < 0)
    return -1;
  if (fstatat (snapdir_fd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (unsynced_ok (snapdir_fd, hex))
        {
          *out_path = fs_path (snapdir_fd, hex, err);
          return *out_path ? 1 : -1;
        }
      /* Unsynced, from an earlier boot: this tree replaces it. */
      tmp = xasprintf ("snapshots/%s", hex);
      if (remove_snapshot (snapdir_fd, hex, tmp, err) < 0)
        return -1;
      free (tmp);
    }
  /* <hex>.adopt/fs, then <hex>: the snapshot appears complete or not at all. */
  tmp = xasprintf ("%s" ADOPT_SUFFIX, hex);
  fs = xasprintf ("%s/fs", tmp);
  if (mkdirat (snapdir_fd, tmp, 0700) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create snapshot '%s'", tmp);
  if (renameat (AT_FDCWD, tree, snapdir_fd, fs) < 0)
    return bale_make_error (err, errno, "cannot move %s into the snapshot cache", tree);
  tmp_fd = openat (snapdir_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmp_fd < 0)
    return bale_make_error (err, errno, "cannot open snapshot '%s'", tmp);
  if (write_special_owners (tmp_fd, tmp, err) < 0 || mark_unsynced (tmp_fd, tmp, err) < 0)
    return -1;
  if (renameat (snapdir_fd, tmp, snapdir_fd, hex) < 0)
    return bale_make_error (err, errno, "cannot publish snapshot '%s'", hex);
  *out_path = fs_path (snapdir_fd, hex, err);
  return *out_path ? 0 : -1;
}


/* ---- garbage collection ------------------------------------------------------------------- */

/* What an entry of the snapshot directory is, judged by its name alone. */
enum snap_kind
{
  SNAP_OTHER,    /* not ours: left alone */
  SNAP_DONE,     /* <hex>: a complete snapshot */
  SNAP_LEFTOVER, /* <hex>.tmp, <hex>.adopt: an unpack or adoption that never finished */
  SNAP_LOCK,     /* <hex>.lock */
};

/* Classify name; for every kind but SNAP_OTHER, diff_id receives "sha256:<hex>". */
static enum snap_kind
classify (const char *name, char diff_id[DIGEST_STRLEN + 1])
{
  const char *suffix = name + strnlen (name, HEX_LEN);

  snprintf (diff_id, DIGEST_STRLEN + 1, "sha256:%.64s", name);
  if (suffix - name != HEX_LEN || !digest_is_valid (diff_id))
    return SNAP_OTHER;
  if (*suffix == '\0')
    return SNAP_DONE;
  if (strcmp (suffix, TMP_SUFFIX) == 0 || strcmp (suffix, ADOPT_SUFFIX) == 0)
    return SNAP_LEFTOVER;
  return strcmp (suffix, LOCK_SUFFIX) == 0 ? SNAP_LOCK : SNAP_OTHER;
}

/* Move a complete snapshot to <hex>.tmp before emptying it: were the removal to stop half
   way, snapshot_ensure would take what is left of <hex> for a whole layer, while a
   <hex>.tmp is a leftover that the next unpack (or gc) clears away. */
static int
remove_snapshot (int snapdir_fd, const char *name, const char *path, bale_error_t *err)
{
  cleanup_free char *tmp = xasprintf ("%s" TMP_SUFFIX, name);
  cleanup_free char *tmp_path = xasprintf ("%s" TMP_SUFFIX, path);

  if (dirwalk_remove (snapdir_fd, tmp, tmp_path, err) < 0)
    return -1;
  if (renameat (snapdir_fd, name, snapdir_fd, tmp) < 0)
    return bale_make_error (err, errno, "cannot move snapshot '%s' aside", path);
  return dirwalk_remove (snapdir_fd, tmp, tmp_path, err);
}

static int
collect_entry (int snapdir_fd, const char *name, snapshot_live_fn live, void *ctx,
               int64_t *freed, bale_error_t *err)
{
  char diff_id[DIGEST_STRLEN + 1];
  enum snap_kind kind = classify (name, diff_id);
  cleanup_free char *path = NULL;

  /* Leftovers go whatever their layer: no unpack or adoption is running (see layer.h). */
  if (kind == SNAP_OTHER || (kind != SNAP_LEFTOVER && live (diff_id, ctx)))
    return 0;
  path = xasprintf ("snapshots/%s", name);
  *freed += dirwalk_size (snapdir_fd, name);
  if (kind == SNAP_DONE)
    return remove_snapshot (snapdir_fd, name, path, err);
  return dirwalk_remove (snapdir_fd, name, path, err);
}

int
snapshot_gc (int snapdir_fd, snapshot_live_fn live, void *ctx, int64_t *freed,
             bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  size_t i;
  int ret = dirwalk_list_read (snapdir_fd, "snapshots", &list, err);

  for (i = 0; ret >= 0 && i < list.n; i++)
    ret = collect_entry (snapdir_fd, list.v[i].name, live, ctx, freed, err);
  dirwalk_list_release (&list);
  return ret < 0 ? ret : 0;
}

size_t
snapshot_stack_unique (const char **top_first, size_t n)
{
  cleanup_free const char **repeats = xcalloc (n + 1, sizeof *repeats);
  size_t kept = 0, n_repeats = 0;

  for (size_t i = 0; i < n; i++)
    {
      const char *p = top_first[i];
      bool seen = false;
      for (size_t j = 0; j < kept && !seen; j++)
        seen = strcmp (top_first[j], p) == 0;
      if (seen)
        repeats[n_repeats++] = p;
      else
        top_first[kept++] = p;
    }
  memcpy (top_first + kept, repeats, n_repeats * sizeof *repeats);
  return kept;
}
