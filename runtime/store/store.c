/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image store: atomic blob and name writes under flock(2), image lookup, garbage collection. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/aio_abi.h>

#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/oci/platmatch.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "common/trace.h"
#include "runtime/layer/layer.h"
#include "runtime/fs/rootless.h"
#include "runtime/store/store.h"
#include "common/banned.h"

#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_INDEX "application/vnd.docker.distribution.manifest.list.v2+json"
/* Manifests, indexes and configs are small; this bounds what a corrupt store makes us read. */
#define JSON_MAX (16u << 20)

struct store
{
  char *path;
  char *snapshots_path;
  int root_fd;
  int blobs_fd; /* blobs/sha256 */
  int tmp_fd;
  int snapshots_fd;
  int lock_fd;    /* exclusive while refs.json or pins.json is rewritten */
  int gc_lock_fd; /* shared by writers, exclusive for store_gc */
  int txn_depth;
  store_defer_fn defer; /* store_set_deferred_free */
  void *defer_ctx;
};

/* ---- opening ------------------------------------------------------------------------------ */

/* Create (if needed) and open a directory of the store. O_NOFOLLOW: a symlink planted in
   place of blobs/ or tmp/ must not send our writes elsewhere. */
/* Who reclaims each area: tmp/ store_gc (what dead processes left); cache/
   cache_mounts_prune; buildcache/ cache_prune; compressed/ store_gc (entries of dead layers);
   provenance/ and push-cache.json are small records kept with the store. */
static const char *const area_names[] = {
  [STORE_AREA_TMP] = "tmp",
  [STORE_AREA_RUN_CACHE] = "cache",
  [STORE_AREA_BUILDCACHE] = "buildcache",
  [STORE_AREA_COMPRESSED] = "compressed",
  [STORE_AREA_PROVENANCE] = "provenance",
  [STORE_AREA_PUSH_CACHE] = "push-cache.json",
};

static int
mkdir_open (int dirfd, const char *name, const char *what, bale_error_t *err)
{
  int fd;

  if (mkdirat (dirfd, name, 0755) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create directory '%s/%s'", what, name);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open directory '%s/%s'", what, name);
  return fd;
}

/* Lock files are never replaced, only opened: flock(2) locks the open file description, so
   two processes must open the same inode for their locks to exclude each other. */
static int
open_lock_file (int dirfd, const char *name, const char *what, bale_error_t *err)
{
  int fd = openat (dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

  /* A store on a read-only file system can still be read (bale images, inspect, save, run):
     flock(2) works on a descriptor opened for reading, and writers fail with EROFS. */
  if (fd < 0 && errno == EROFS)
    fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open lock file '%s/%s'", what, name);
  return fd;
}

/* mkdir -p, for the store's own directory only. */
static int
mkdir_parents (const char *path, bale_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  char *slash;

  for (slash = strchr (p + 1, '/'); slash; slash = strchr (slash + 1, '/'))
    {
      *slash = '\0';
      if (mkdir (p, 0755) < 0 && errno != EEXIST)
        return bale_make_error (err, errno, "cannot create directory '%s'", p);
      *slash = '/';
    }
  if (mkdir (p, 0755) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create store directory '%s'", p);
  return 0;
}

/* Writes and renames go through these fds (openat/renameat), so the temporary file and its
   final name are always in the same store, whatever happens to the paths meanwhile. */
static int
open_dirs (struct store *s, bale_error_t *err)
{
  cleanup_close int blobs = -1;

  if ((s->root_fd = open (s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return bale_make_error (err, errno, "cannot open store '%s'", s->path);
  if ((blobs = mkdir_open (s->root_fd, "blobs", s->path, err)) < 0
      || (s->blobs_fd = mkdir_open (blobs, "sha256", s->path, err)) < 0
      || (s->tmp_fd = mkdir_open (s->root_fd, area_names[STORE_AREA_TMP], s->path, err)) < 0
      || (s->snapshots_fd = mkdir_open (s->root_fd, "snapshots", s->path, err)) < 0
      || (s->lock_fd = open_lock_file (s->root_fd, "lock", s->path, err)) < 0
      || (s->gc_lock_fd = open_lock_file (s->root_fd, "gc.lock", s->path, err)) < 0)
    return -1;
  return 0;
}

int
store_open (const char *path, struct store **out, bale_error_t *err)
{
  struct store *s;

  if (path == NULL || *path == '\0')
    return bale_make_error (err, 0, "no store directory given");
  if (mkdir_parents (path, err) < 0)
    return -1;
  s = xzalloc (sizeof *s);
  s->root_fd = s->blobs_fd = s->tmp_fd = s->snapshots_fd = s->lock_fd = s->gc_lock_fd = -1;
  s->path = xstrdup (path);
  s->snapshots_path = xasprintf ("%s/snapshots", path);
  if (open_dirs (s, err) < 0)
    {
      store_close (s);
      return -1;
    }
  *out = s;
  return 0;
}

void
store_close (struct store *s)
{
  size_t i;

  if (s == NULL)
    return;
  int *fds[] = { &s->root_fd, &s->blobs_fd, &s->tmp_fd, &s->snapshots_fd, &s->lock_fd,
                 &s->gc_lock_fd };
  /* Closing the lock files drops the flocks. */
  for (i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (*fds[i] >= 0)
      close (*fds[i]);
  free (s->path);
  free (s->snapshots_path);
  free (s);
}

char *
store_default_path (bale_error_t *err)
{
  const char *env = getenv ("BALE_STORE"), *xdg = getenv ("XDG_DATA_HOME"), *home;

  if (env && *env)
    return xstrdup (env);
  /* Root of bale's own user namespace is still the ordinary user who started it. */
  if (geteuid () == 0 && rootless_mode () == ROOTLESS_NONE)
    return xstrdup ("/var/lib/bale");
  /* The XDG base directory spec says relative values are invalid and must be ignored. */
  if (xdg && xdg[0] == '/')
    return xasprintf ("%s/bale", xdg);
  home = getenv ("HOME");
  if (home && home[0] == '/')
    return xasprintf ("%s/.local/share/bale", home);
  bale_make_error (err, 0, "cannot choose a store directory: set --store, $BALE_STORE or $HOME");
  return NULL;
}

const char *
store_path (const struct store *s)
{
  return s->path;
}

char *
store_area_path_at (const char *dir, enum store_area a, const char *name)
{
  if (name)
    return xasprintf ("%s/%s/%s", dir, area_names[a], name);
  return xasprintf ("%s/%s", dir, area_names[a]);
}

char *
store_area_path (const struct store *s, enum store_area a, const char *name)
{
  return store_area_path_at (s->path, a, name);
}

int
store_snapshots_fd (const struct store *s)
{
  return s->snapshots_fd;
}

const char *
store_snapshots_path (const struct store *s)
{
  return s->snapshots_path;
}

/* ---- locks -------------------------------------------------------------------------------- */

static int
lock_fd (int fd, int op, const char *what, bale_error_t *err)
{
  while (flock (fd, op) < 0)
    if (errno != EINTR)
      return bale_make_error (err, errno, "cannot lock '%s'", what);
  return 0;
}

/*
 * Why a shared lock rather than the mutation lock: a build writes layers for minutes, and
 * other builds and loads must go on meanwhile; only gc needs them all to stop. flock locks
 * are dropped by the kernel when a process dies, so a killed build cannot block gc forever.
 */
int
store_txn_begin (struct store *s, bale_error_t *err)
{
  if (s->txn_depth == 0 && lock_fd (s->gc_lock_fd, LOCK_SH, "gc.lock", err) < 0)
    return -1;
  s->txn_depth++;
  return 0;
}

void
store_txn_end (struct store *s)
{
  if (s->txn_depth > 0 && --s->txn_depth == 0)
    flock (s->gc_lock_fd, LOCK_UN);
}

/* ---- temporary files and atomic renames --------------------------------------------------- */

/* A new file in tmp/; *name receives its name. The pid in the name helps debugging only:
   O_EXCL is what makes it ours. */
static int
open_temp (struct store *s, char **name, bale_error_t *err)
{
  static unsigned counter;
  int i;

  for (i = 0; i < 100; i++)
    {
      char *tmp = xasprintf ("%ld-%u-%ld", (long) getpid (), counter++, (long) time (NULL));
      int fd = openat (s->tmp_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

      if (fd >= 0)
        {
          *name = tmp;
          return fd;
        }
      free (tmp);
      if (errno != EEXIST)
        break;
    }
  return bale_make_error (err, errno, "cannot create a temporary file in '%s/tmp'", s->path);
}

/*
 * fsync the temporary file, rename it to dirfd/final, and with sync_dir fsync dirfd; remove
 * it on failure. A blob's bytes are on disk before its name appears, but its name is made
 * durable only by the next fsync of blobs/, which write_file_atomic makes before it writes
 * refs.json or pins.json, the store's durable names of blobs: a RUN step used to pay that
 * fsync (a journal commit, 5-10 ms on this project's machines) for its layer's name alone.
 * What else names a blob (the build cache, the export's compressed/ index) checks that it
 * exists before using it, so a name lost in a crash costs a cache miss, never a corrupt image.
 */
static int
commit_temp (struct store *s, int fd, const char *tmp, int dirfd, const char *final,
             const char *what, bool sync_dir, bale_error_t *err)
{
  /* The umask must not decide: the snapshot code and other users read blobs. */
  if (fchmod (fd, 0644) < 0 || fsync (fd) < 0 || renameat (s->tmp_fd, tmp, dirfd, final) < 0)
    {
      int saved = errno;

      unlinkat (s->tmp_fd, tmp, 0);
      return bale_make_error (err, saved, "cannot write '%s' in store '%s'", what, s->path);
    }
  if (sync_dir && fsync (dirfd) < 0)
    return bale_make_error (err, errno, "cannot sync the directory of '%s'", what);
  return 0;
}

/* Replace root/name: readers (which take no lock) see the old file or the new one, whole. */
static int
write_file_atomic (struct store *s, const char *name, const void *data, size_t len,
                   bale_error_t *err)
{
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = open_temp (s, &tmp, err);

  if (fd < 0)
    return -1;
  if (fileio_write_all (fd, data, len) < 0)
    {
      int saved = errno;

      unlinkat (s->tmp_fd, tmp, 0);
      return bale_make_error (err, saved, "cannot write '%s/%s'", s->path, name);
    }
  /* The names of the blobs that this file may name are on disk before it is (see
     commit_temp). */
  if (fsync (s->blobs_fd) < 0)
    {
      int saved = errno;

      unlinkat (s->tmp_fd, tmp, 0);
      return bale_make_error (err, saved, "cannot sync '%s/blobs/sha256'", s->path);
    }
  return commit_temp (s, fd, tmp, s->root_fd, name, name, true, err);
}

/* ---- blob writers ------------------------------------------------------------------------- */

/* The temporary file lives in tmp/, not blobs/: a reader listing blobs/ (gc, other tools)
   never sees a partial blob, and gc can delete everything in tmp/ once writers are gone. */
struct store_blob_writer
{
  struct store *s;
  struct digester d;
  char *tmp;
  int fd;
  int64_t written; /* bytes written */
  int64_t flushed; /* bytes whose writeback has been started */
};

/* Start writeback every this many bytes, so the fsync at commit finds little left to write
   and a big layer costs one pass over the disk, overlapped with producing it. */
#define WRITEBACK_CHUNK (8 << 20)

struct store_blob_writer *
store_blob_writer_new (struct store *s, bale_error_t *err)
{
  struct store_blob_writer *w;

  if (store_txn_begin (s, err) < 0)
    return NULL;
  w = xzalloc (sizeof *w);
  w->s = s;
  if (digester_init (&w->d, err) < 0 || (w->fd = open_temp (s, &w->tmp, err)) < 0)
    {
      digester_release (&w->d);
      free (w);
      store_txn_end (s);
      return NULL;
    }
  return w;
}

static int
blob_write (struct store_blob_writer *w, const void *buf, size_t len, bool hash, bale_error_t *err)
{
  if (fileio_write_all (w->fd, buf, len) < 0)
    return bale_make_error (err, errno, "cannot write a blob in store '%s'", w->s->path);
  if (hash)
    digester_update (&w->d, buf, len);
  w->written += (int64_t) len;
  if (w->written - w->flushed >= WRITEBACK_CHUNK)
    {
      /* A hint: failure only means the fsync does all the work. */
      (void) sync_file_range (w->fd, w->flushed, w->written - w->flushed, SYNC_FILE_RANGE_WRITE);
      w->flushed = w->written;
    }
  return 0;
}

int
store_blob_writer_write (struct store_blob_writer *w, const void *buf, size_t len,
                         bale_error_t *err)
{
  return blob_write (w, buf, len, true, err);
}

int
store_blob_writer_write_hashed (struct store_blob_writer *w, const void *buf, size_t len,
                                bale_error_t *err)
{
  return blob_write (w, buf, len, false, err);
}

int64_t
store_blob_writer_size (const struct store_blob_writer *w)
{
  return w->written;
}

void
store_blob_writer_abort (struct store_blob_writer *w)
{
  if (w == NULL)
    return;
  digester_release (&w->d);
  if (w->fd >= 0)
    close (w->fd);
  if (w->tmp)
    unlinkat (w->s->tmp_fd, w->tmp, 0);
  store_txn_end (w->s);
  free (w->tmp);
  free (w);
}

/* Verify and publish the blob; fsync before rename so a crash cannot leave a complete name
   pointing at incomplete data. */
static int
finish_blob (struct store_blob_writer *w, const char *expected, char got[DIGEST_STRLEN + 1],
             bale_error_t *err)
{
  struct store *s = w->s;
  struct stat st;

  if (digester_final (&w->d, got, err) < 0)
    return -1;
  if (expected && strcmp (expected, got) != 0)
    return bale_make_error (err, 0, "digest mismatch: expected '%s', got '%s'", expected, got);
  /* Content-addressed: a blob already present under this name has these very bytes. */
  if (fstatat (s->blobs_fd, digest_hex (got), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode)
      && st.st_size == w->d.size)
    return 0;
  trace_mark ("store: blob hashed");
  if (commit_temp (s, w->fd, w->tmp, s->blobs_fd, digest_hex (got), got, false, err) < 0)
    return -1;
  trace_mark ("store: blob synced and renamed");
  free (w->tmp);
  w->tmp = NULL;
  return 0;
}

int
store_blob_writer_fd (struct store_blob_writer *w)
{
  return w->fd;
}

int
store_blob_writer_commit_hashed (struct store_blob_writer *w, const char *digest, int64_t size,
                                 bale_error_t *err)
{
  struct store *s = w->s;
  struct stat st;
  int ret = -1;

  if (!digest_is_valid (digest))
    bale_make_error (err, EINVAL, "invalid blob digest '%s'", digest);
  else if (fstat (w->fd, &st) < 0)
    bale_make_error (err, errno, "cannot stat a blob in store '%s'", s->path);
  else if (st.st_size != size)
    bale_make_error (err, 0, "blob '%s' has %lld bytes, its writer wrote %lld", digest,
                     (long long) st.st_size, (long long) size);
  else if (fstatat (s->blobs_fd, digest_hex (digest), &st, AT_SYMLINK_NOFOLLOW) == 0
           && S_ISREG (st.st_mode) && st.st_size == size)
    ret = 0; /* content-addressed: these very bytes are there already */
  else if (commit_temp (s, w->fd, w->tmp, s->blobs_fd, digest_hex (digest), digest, false, err) == 0)
    {
      free (w->tmp);
      w->tmp = NULL;
      ret = 0;
    }
  store_blob_writer_abort (w);
  return ret;
}

/* ---- a commit in the background ---------------------------------------------------------- */

/* The fsync goes to the kernel as an asynchronous I/O request (IOCB_CMD_FSYNC, Linux 4.18),
   which a kernel worker carries out; the wait collects it and renames. Not a thread: a RUN
   step's sandbox is cloned meanwhile with a raw clone, and glibc in that child would wait
   for every thread it knows of (setgroups and setuid signal them all), forever. */
struct store_commit
{
  struct store_blob_writer *w; /* NULL when there was nothing left to do */
  char digest[DIGEST_STRLEN + 1];
  struct iocb cb;
  bool submitted;              /* else the fsync is still to be made, by the wait */
};

/*
 * This process's context (a forked child has none of its parent's): 0 when there is none,
 * and for the first commit of a process. A context costs its process two RCU grace periods
 * when it exits (exit_aio waits for them): 20-35 ms on the project's machine, more than the
 * fsync of one blob whose writeback started at its commit (2-18 ms for W4's 67 MB layer). So
 * a process's first commit leaves its fsync to the wait, and only a second one, whose fsync
 * would otherwise make a step wait for the one before (W3: 30 steps), sets the context up.
 */
static aio_context_t
aio_ctx (bool create)
{
  static aio_context_t ctx;
  static pid_t owner, first;

  if (owner != getpid ())
    {
      ctx = 0;
      owner = 0;
      if (!create)
        return 0;
      if (first != getpid ())
        {
          first = getpid ();
          return 0;
        }
      owner = getpid ();
      if (syscall (SYS_io_setup, 4, &ctx) < 0)
        ctx = 0;
    }
  return ctx;
}

struct store_commit *
store_blob_writer_commit_async (struct store_blob_writer *w, const char *digest, int64_t size,
                                bale_error_t *err)
{
  struct store_commit *c;
  struct iocb *cbs[1];
  struct stat st;
  aio_context_t ctx;

  if (!digest_is_valid (digest) || fstat (w->fd, &st) < 0 || st.st_size != size
      || (fstatat (w->s->blobs_fd, digest_hex (digest), &st, AT_SYMLINK_NOFOLLOW) == 0
          && S_ISREG (st.st_mode) && st.st_size == size))
    {
      /* What the synchronous commit reports, or does when the blob is there already. */
      if (store_blob_writer_commit_hashed (w, digest, size, err) < 0)
        return NULL;
      return xzalloc (sizeof (struct store_commit));
    }
  /* The umask must not decide (as commit_temp). */
  if (fchmod (w->fd, 0644) < 0)
    {
      bale_make_error (err, errno, "cannot write '%s' in store '%s'", digest, w->s->path);
      store_blob_writer_abort (w);
      return NULL;
    }
  c = xzalloc (sizeof *c);
  c->w = w;
  memcpy (c->digest, digest, sizeof c->digest);
  c->cb.aio_fildes = (uint32_t) w->fd;
  c->cb.aio_lio_opcode = IOCB_CMD_FSYNC;
  c->cb.aio_data = (uint64_t) (uintptr_t) c;
  cbs[0] = &c->cb;
  ctx = aio_ctx (true);
  c->submitted = ctx != 0 && syscall (SYS_io_submit, ctx, 1L, cbs) == 1;
  /* Else the wait makes the fsync: the writeback starts now (a hint, as in the layer
     writer), so that it finds little left. */
  if (!c->submitted)
    (void) sync_file_range (w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  return c;
}

/* The result of c's fsync: 0 or an errno. */
static int
commit_fsync_result (struct store_commit *c)
{
  struct io_event ev;
  long n;

  if (!c->submitted)
    return fsync (c->w->fd) < 0 ? errno : 0;
  /* One request in flight per process (the executor waits for one before the next). */
  for (;;)
    {
      n = syscall (SYS_io_getevents, aio_ctx (false), 1L, 1L, &ev, NULL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n != 1)
        return n < 0 ? errno : EIO;
      if (ev.data == (uint64_t) (uintptr_t) c)
        return ev.res < 0 ? (int) -ev.res : 0;
    }
}

int
store_commit_wait (struct store_commit *c, bale_error_t *err)
{
  struct store_blob_writer *w;
  int ret = 0, e;

  if (c == NULL)
    return 0;
  w = c->w;
  if (w)
    {
      e = commit_fsync_result (c);
      if (e == 0 && renameat (w->s->tmp_fd, w->tmp, w->s->blobs_fd, digest_hex (c->digest)) < 0)
        e = errno;
      if (e)
        ret = bale_make_error (err, e, "cannot write '%s' in store '%s'", c->digest, w->s->path);
      else
        {
          free (w->tmp); /* renamed: abort must not remove it */
          w->tmp = NULL;
        }
      store_blob_writer_abort (w);
    }
  free (c);
  return ret;
}

int
store_blob_writer_commit (struct store_blob_writer *w, const char *expected,
                          char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  char got[DIGEST_STRLEN + 1];
  int ret = finish_blob (w, expected, got, err);

  if (ret == 0 && out)
    memcpy (out, got, sizeof got);
  /* abort removes the temporary file unless finish_blob renamed it into blobs/. */
  store_blob_writer_abort (w);
  return ret;
}

int
store_blob_put (struct store *s, const void *buf, size_t len, char out[DIGEST_STRLEN + 1],
                bale_error_t *err)
{
  struct store_blob_writer *w = store_blob_writer_new (s, err);

  if (w == NULL)
    return -1;
  if (store_blob_writer_write (w, buf, len, err) < 0)
    {
      store_blob_writer_abort (w);
      return -1;
    }
  return store_blob_writer_commit (w, NULL, out, err);
}

int
store_blob_put_fd (struct store *s, int fd, const char *name, const char *expected,
                   char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  struct store_blob_writer *w = store_blob_writer_new (s, err);
  char buf[65536];

  if (w == NULL)
    return -1;
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          store_blob_writer_abort (w);
          return bale_make_error (err, errno, "cannot read '%s'", name);
        }
      if (n == 0)
        break;
      if (store_blob_writer_write (w, buf, (size_t) n, err) < 0)
        {
          store_blob_writer_abort (w);
          return -1;
        }
    }
  if (store_blob_writer_commit (w, expected, out, err) < 0)
    return bale_error_wrap (err, "'%s'", name);
  return 0;
}

/* ---- reading blobs ------------------------------------------------------------------------ */

static const char *
checked_hex (const char *digest, bale_error_t *err)
{
  const char *hex = digest ? digest_hex (digest) : NULL;

  if (hex == NULL)
    bale_make_error (err, 0, "invalid digest '%s'", digest ? digest : "");
  return hex;
}

bool
store_blob_exists (struct store *s, const char *digest)
{
  const char *hex = digest ? digest_hex (digest) : NULL;
  struct stat st;

  return hex && fstatat (s->blobs_fd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
}

int64_t
store_blob_size (struct store *s, const char *digest, bale_error_t *err)
{
  const char *hex = checked_hex (digest, err);
  struct stat st;

  if (hex == NULL)
    return -1;
  if (fstatat (s->blobs_fd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return bale_make_error (err, errno, "blob '%s' is not in store '%s'", digest, s->path);
  return st.st_size;
}

char *
store_blob_path (struct store *s, const char *digest)
{
  const char *hex = digest ? digest_hex (digest) : NULL;

  return hex ? xasprintf ("%s/blobs/sha256/%s", s->path, hex) : NULL;
}

int
store_blob_open (struct store *s, const char *digest, bale_error_t *err)
{
  const char *hex = checked_hex (digest, err);
  int fd;

  if (hex == NULL)
    return -1;
  fd = openat (s->blobs_fd, hex, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open blob '%s' in store '%s'", digest, s->path);
  return fd;
}

int
store_unpack_root (struct store *s, size_t n, const char *const *digests,
                   const char *const *diff_ids, const char *root, bale_error_t *err)
{
  cleanup_close int root_fd = -1;

  if (mkdir (root, 0755) < 0)
    return bale_make_error (err, errno, "cannot create %s", root);
  root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return bale_make_error (err, errno, "cannot open %s", root);
  for (size_t i = 0; i < n; i++)
    {
      struct layer_extract_opts opts = { .mode = LAYER_EXTRACT_MERGED, .expected_diff_id = diff_ids[i] };
      cleanup_close int fd = store_blob_open (s, digests[i], err);
      if (fd < 0 || layer_extract (fd, root_fd, &opts, NULL, err) < 0)
        return bale_error_wrap (err, "copying layer %s", diff_ids[i]);
    }
  return 0;
}

int
store_blob_read (struct store *s, const char *digest, size_t max, char **out, size_t *len,
                 bale_error_t *err)
{
  cleanup_close int fd = store_blob_open (s, digest, err);
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  char got[DIGEST_STRLEN + 1];
  struct stat st;

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return bale_make_error (err, errno, "cannot stat blob '%s'", digest);
  if ((uint64_t) st.st_size > max)
    return bale_make_error (err, EFBIG, "blob '%s' is too large (%lld bytes, at most %zu)", digest,
                            (long long) st.st_size, max);
  if (fileio_read_fd (fd, digest, &sb, err) < 0 || digest_buffer (sb.buf, sb.len, got, err) < 0)
    return -1;
  /* A flipped bit on disk must not turn into a different image. */
  if (strcmp (got, digest) != 0)
    return bale_make_error (err, 0, "blob '%s' in store '%s' is corrupt (its digest is '%s')",
                            digest, s->path, got);
  if (len)
    *len = sb.len;
  strbuf_grow (&sb, 1);
  *out = strbuf_detach (&sb, NULL);
  return 0;
}

static json_t *
read_json_blob (struct store *s, const char *digest, bale_error_t *err)
{
  cleanup_free char *buf = NULL;
  json_error_t jerr;
  size_t len;
  json_t *v;

  if (store_blob_read (s, digest, JSON_MAX, &buf, &len, err) < 0)
    return NULL;
  v = json_loadb (buf, len, 0, &jerr);
  if (v == NULL || !json_is_object (v))
    {
      json_decref (v);
      bale_make_error (err, 0, "blob '%s' is not a JSON object%s%s", digest, v ? "" : ": ",
                       v ? "" : jerr.text);
      return NULL;
    }
  return v;
}

/* ---- refs.json and pins.json -------------------------------------------------------------- */

/* The object stored in root/name ({} when the file does not exist). */
static json_t *
load_state (struct store *s, const char *name, bale_error_t *err)
{
  cleanup_close int fd = openat (s->root_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  json_error_t jerr;
  json_t *v;

  if (fd < 0 && errno == ENOENT)
    return json_object ();
  if (fd < 0)
    {
      bale_make_error (err, errno, "cannot open '%s/%s'", s->path, name);
      return NULL;
    }
  if (fileio_read_fd (fd, name, &sb, err) < 0)
    return NULL;
  v = json_loadb (sb.buf, sb.len, 0, &jerr);
  if (v == NULL || !json_is_object (v))
    {
      json_decref (v);
      bale_make_error (err, 0, "cannot parse '%s/%s': %s", s->path, name,
                       v ? "not an object" : jerr.text);
      return NULL;
    }
  return v;
}

/* Only called under the mutation lock (edit_state), so no update is lost between writers. */
static int
save_state (struct store *s, const char *name, json_t *v, bale_error_t *err)
{
  cleanup_free char *text = NULL;

  /* Sorted and indented: the file is small, and people read it when debugging. */
  text = json_dumps (v, JSON_SORT_KEYS | JSON_INDENT (1));
  return write_file_atomic (s, name, text, strlen (text), err);
}

static json_t *
load_refs (struct store *s, bale_error_t *err)
{
  json_t *doc = load_state (s, "refs.json", err);

  if (doc && !json_is_object (json_object_get (doc, "refs")))
    json_object_set_new (doc, "refs", json_object ());
  return doc;
}

/* One read-modify-write of a state file under the store lock. */
typedef int (*state_edit_fn) (json_t *doc, void *ctx, bale_error_t *err);

/* fn returns 1 when it changed the document (it is then saved), 0 when not, <0 on error.
   The file is read again under the lock: a copy read before it may be stale. */
static int
edit_state (struct store *s, const char *name, state_edit_fn fn, void *ctx, bale_error_t *err)
{
  json_auto_t *doc = NULL;
  int ret;

  if (lock_fd (s->lock_fd, LOCK_EX, "lock", err) < 0)
    return -1;
  doc = strcmp (name, "refs.json") == 0 ? load_refs (s, err) : load_state (s, name, err);
  ret = doc ? fn (doc, ctx, err) : -1;
  if (ret > 0)
    ret = save_state (s, name, doc, err);
  flock (s->lock_fd, LOCK_UN);
  return ret < 0 ? -1 : 0;
}

char *
store_ref_normalize (const char *name, bale_error_t *err)
{
  struct oci_ref ref;
  char *full;

  if (digest_is_valid (name))
    return xstrdup (name);
  if (oci_ref_parse (name, 0, &ref, err) < 0)
    return NULL;
  full = oci_ref_full (&ref);
  oci_ref_release (&ref);
  return full;
}

struct ref_edit
{
  const char *name;
  const char *digest;
};

static int
do_ref_set (json_t *doc, void *ctx, bale_error_t *err)
{
  struct ref_edit *e = ctx;
  json_t *refs = json_object_get (doc, "refs");
  const char *key;
  json_t *value;
  const char *prev = json_string_value (json_object_get (refs, e->name));
  cleanup_free char *old = xstrdup (prev ? prev : "");

  json_object_set_new (refs, e->name, json_string (e->digest));
  if (!digest_is_valid (old) || strcmp (old, e->digest) == 0)
    return 1;
  json_object_foreach (refs, key, value)
    if (json_is_string (value) && strcmp (json_string_value (value), old) == 0)
      return 1;
  /* Docker keeps an image that loses its last name (`docker build -t x` again, `docker load`
     of a newer x) as a dangling <none> image, which prune removes later. */
  json_object_set_new (refs, old, json_string (old));
  return 1;
}

int
store_ref_set (struct store *s, const char *name, const char *digest, bale_error_t *err)
{
  cleanup_free char *full = store_ref_normalize (name, err);
  struct ref_edit e = { full, digest };

  if (full == NULL)
    return -1;
  if (!digest_is_valid (digest))
    return bale_make_error (err, 0, "invalid digest '%s'", digest ? digest : "");
  /* A digest as a name only keeps an untagged image: it can name nothing but itself. */
  if (digest_is_valid (name) && strcmp (name, digest) != 0)
    return bale_make_error (err, 0, "invalid image name '%s': a digest cannot name another image",
                            name);
  if (!store_blob_exists (s, digest))
    return bale_make_error (err, 0, "cannot name '%s': blob '%s' is not in the store", name,
                            digest);
  return edit_state (s, "refs.json", do_ref_set, &e, err);
}

static int
do_ref_delete (json_t *doc, void *ctx, bale_error_t *err)
{
  struct ref_edit *e = ctx;

  if (json_object_del (json_object_get (doc, "refs"), e->name) < 0)
    return bale_make_error (err, 0, "no such image: '%s'", e->digest);
  return 1;
}

int
store_ref_delete (struct store *s, const char *name, bale_error_t *err)
{
  cleanup_free char *full = store_ref_normalize (name, err);
  struct ref_edit e = { full, name };

  if (full == NULL)
    return -1;
  return edit_state (s, "refs.json", do_ref_delete, &e, err);
}

int
store_ref_lookup (struct store *s, const char *name, char out[DIGEST_STRLEN + 1],
                  bale_error_t *err)
{
  cleanup_free char *full = store_ref_normalize (name, err);
  json_auto_t *doc = NULL;
  const char *d;

  if (full == NULL || (doc = load_refs (s, err)) == NULL)
    return -1;
  d = json_string_value (json_object_get (json_object_get (doc, "refs"), full));
  if (d == NULL)
    return 0;
  if (!digest_is_valid (d))
    return bale_make_error (err, 0, "'%s/refs.json': '%s' names an invalid digest", s->path,
                            full);
  memcpy (out, d, DIGEST_STRLEN + 1);
  return 1;
}

int
store_ref_get (struct store *s, const char *name, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  int ret = store_ref_lookup (s, name, out, err);

  if (ret == 0)
    return bale_make_error (err, 0, "no such image: '%s'", name);
  return ret < 0 ? -1 : 0;
}

void
store_refs_free (struct store_ref *refs, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    {
      free (refs[i].name);
      free (refs[i].digest);
    }
  free (refs);
}

static int
compare_refs (const void *a, const void *b)
{
  return strcmp (((const struct store_ref *) a)->name, ((const struct store_ref *) b)->name);
}

int
store_ref_list (struct store *s, struct store_ref **out, size_t *n, bale_error_t *err)
{
  json_auto_t *doc = load_refs (s, err);
  const char *key;
  json_t *value;
  struct store_ref *v = NULL;
  size_t count = 0, alloc = 0;

  if (doc == NULL)
    return -1;
  json_object_foreach (json_object_get (doc, "refs"), key, value)
    {
      if (!digest_is_valid (json_string_value (value)))
        continue;
      XGROW (v, alloc, count + 1);
      v[count].name = xstrdup (key);
      v[count].digest = xstrdup (json_string_value (value));
      count++;
    }
  /* jansson keeps a hash table: sort here for stable output. */
  if (count > 0)
    qsort (v, count, sizeof *v, compare_refs);
  *out = v;
  *n = count;
  return 0;
}

/* ---- resolving names and IDs -------------------------------------------------------------- */

/* Docker accepts only lowercase hex in IDs; anything else must be a name. */
static bool
is_hex_prefix (const char *p)
{
  size_t i;

  for (i = 0; p[i]; i++)
    if (!isxdigit ((unsigned char) p[i]) || isupper ((unsigned char) p[i]))
      return false;
  return i > 0 && i <= 64;
}

/* The config digest of a manifest blob, into out; false when target is not a manifest. */
static bool
config_of (struct store *s, const char *target, char out[DIGEST_STRLEN + 1])
{
  bale_error_t ignored = NULL;
  json_auto_t *m = read_json_blob (s, target, &ignored);
  const char *c = json_string_value (json_object_get (json_object_get (m, "config"), "digest"));

  bale_error_release (&ignored);
  if (!digest_is_valid (c))
    return false;
  memcpy (out, c, DIGEST_STRLEN + 1);
  return true;
}

int
store_image_id (struct store *s, const char *target, char out[DIGEST_STRLEN + 1])
{
  if (!config_of (s, target, out))
    memcpy (out, target, DIGEST_STRLEN + 1);
  return 0;
}

/* Every name whose target or image ID starts with prefix must be the same image (two
   manifests of one config, gzipped and not, are one image to Docker). */
static int
resolve_prefix (struct store *s, const char *what, const char *prefix, char out[DIGEST_STRLEN + 1],
                bale_error_t *err)
{
  struct store_ref *refs = NULL;
  size_t n = 0, i, plen = strlen (prefix);
  char found_id[DIGEST_STRLEN + 1] = "";
  int ret = 0;

  if (store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  for (i = 0; i < n && ret == 0; i++)
    {
      char id[DIGEST_STRLEN + 1];

      store_image_id (s, refs[i].digest, id);
      if (strncmp (digest_hex (refs[i].digest), prefix, plen) != 0
          && strncmp (digest_hex (id), prefix, plen) != 0)
        continue;
      if (found_id[0] && strcmp (found_id, id) != 0)
        ret = bale_make_error (err, 0, "image ID prefix '%s' is ambiguous", what);
      else if (found_id[0] == '\0')
        {
          memcpy (found_id, id, sizeof id);
          memcpy (out, refs[i].digest, DIGEST_STRLEN + 1);
        }
    }
  if (ret == 0 && found_id[0] == '\0')
    ret = bale_make_error (err, 0, "no such image: '%s'", what);
  store_refs_free (refs, n);
  return ret;
}

int
store_resolve (struct store *s, const char *what, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  bale_error_t not_a_name = NULL;
  const char *prefix = strncmp (what, "sha256:", 7) == 0 ? what + 7 : what;
  int found;

  if (digest_is_valid (what))
    {
      /* An image ID (config digest) stands for its manifest; any other stored digest, such
         as a platform's manifest inside an index, stands for itself. */
      if (resolve_prefix (s, what, what + 7, out, &not_a_name) == 0)
        return 0;
      bale_error_release (&not_a_name);
      if (!store_blob_exists (s, what))
        return bale_make_error (err, 0, "no such image: '%s'", what);
      memcpy (out, what, DIGEST_STRLEN + 1);
      return 0;
    }
  /* Docker looks a name up before an ID: "abc123" may be a repository. */
  found = store_ref_lookup (s, what, out, &not_a_name);
  if (found > 0)
    return 0;
  if (!is_hex_prefix (prefix))
    {
      if (found == 0)
        return bale_make_error (err, 0, "no such image: '%s'", what);
      bale_error_join (err, &not_a_name);
      return -1;
    }
  /* "sha256:abc" does not parse as a name, and that is fine for an ID. */
  bale_error_release (&not_a_name);
  return resolve_prefix (s, what, prefix, out, err);
}

/* ---- images ------------------------------------------------------------------------------- */

void
store_image_release (struct store_image *img)
{
  size_t i;

  json_decref (img->manifest_json);
  json_decref (img->config_json);
  for (i = 0; i < img->n_layers; i++)
    {
      free (img->layers[i].digest);
      free (img->layers[i].media_type);
      free (img->diff_ids[i]);
    }
  free (img->layers);
  free (img->diff_ids);
  memset (img, 0, sizeof *img);
}

static bool
is_index (const json_t *doc)
{
  const char *mt = json_string_value (json_object_get (doc, "mediaType"));

  if (mt)
    return strcmp (mt, OCI_MT_INDEX) == 0 || strcmp (mt, DOCKER_MT_INDEX) == 0;
  /* mediaType is optional in an OCI index: tell them apart by their members. */
  return json_is_array (json_object_get (doc, "manifests"));
}

/* From an index, the digest of the manifest for the platform. */
static int
pick_manifest (struct store *s, const char *what, const json_t *index,
               const struct bale_platform *want, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  struct bale_platform host = { 0 };
  const char *d;
  int i;

  if (want == NULL)
    {
      if (platform_host (&host, err) < 0)
        return -1;
      want = &host;
    }
  i = platmatch_select (index, want);
  if (i < 0)
    {
      cleanup_free char *p = platform_format (want);

      platform_release (&host);
      return bale_make_error (err, 0, "image '%s' has no manifest for platform '%s'", what, p);
    }
  platform_release (&host);
  d = json_string_value (json_object_get (json_array_get (json_object_get (index, "manifests"),
                                                          (size_t) i),
                                          "digest"));
  if (!digest_is_valid (d))
    return bale_make_error (err, 0, "image '%s': index entry %d has an invalid digest", what, i);
  memcpy (out, d, DIGEST_STRLEN + 1);
  return 0;
}

/* docker load makes the same check ("len(Layers) == len(rootfs.diff_ids)"): a mismatch
   would make the snapshot code apply the wrong diff_id to a layer. */
static int
read_layers (const char *what, struct store_image *img, bale_error_t *err)
{
  const json_t *layers = json_object_get (img->manifest_json, "layers");
  const json_t *diff_ids = json_object_get (json_object_get (img->config_json, "rootfs"), "diff_ids");
  size_t i, n = json_array_size (layers);

  if (!json_is_array (layers) || json_array_size (diff_ids) != n)
    return bale_make_error (err, 0,
                            "image '%s': the manifest has %zu layers but the config %zu diff_ids",
                            what, n, json_array_size (diff_ids));
  img->layers = xcalloc (n ? n : 1, sizeof *img->layers);
  img->diff_ids = xcalloc (n ? n : 1, sizeof *img->diff_ids);
  for (i = 0; i < n; i++, img->n_layers++)
    {
      const json_t *l = json_array_get (layers, i);
      const char *d = json_string_value (json_object_get (l, "digest"));
      const char *mt = json_string_value (json_object_get (l, "mediaType"));
      const char *diff = json_string_value (json_array_get (diff_ids, i));

      if (!digest_is_valid (d) || !digest_is_valid (diff) || mt == NULL)
        return bale_make_error (err, 0, "image '%s': layer %zu is malformed", what, i);
      img->layers[i].digest = xstrdup (d);
      img->layers[i].media_type = xstrdup (mt);
      img->layers[i].size = json_integer_value (json_object_get (l, "size"));
      img->diff_ids[i] = xstrdup (diff);
    }
  return 0;
}

/* A single manifest is not chosen by platform: check its config against the one asked for. */
static int
check_platform (const char *what, const json_t *config, const struct bale_platform *want,
                bale_error_t *err)
{
  struct bale_platform have = {
    .os = (char *) json_string_value (json_object_get (config, "os")),
    .arch = (char *) json_string_value (json_object_get (config, "architecture")),
    .variant = (char *) json_string_value (json_object_get (config, "variant")),
  };
  cleanup_free char *w = NULL, *h = NULL;

  if (have.os == NULL || have.arch == NULL || platmatch_rank (want, &have) >= 0)
    return 0;
  w = platform_format (want);
  h = platform_format (&have);
  return bale_make_error (err, 0, "image '%s' is for platform '%s', not '%s'", what, h, w);
}

static int
read_image (struct store *s, const char *what, const struct bale_platform *platform,
            struct store_image *img, bale_error_t *err)
{
  json_t *doc = read_json_blob (s, img->target, err);
  const char *config;
  bool from_index = false;

  if (doc == NULL)
    return -1;
  memcpy (img->manifest, img->target, sizeof img->manifest);
  if (is_index (doc))
    {
      int ret = pick_manifest (s, what, doc, platform, img->manifest, err);

      from_index = true;
      json_decref (doc);
      if (ret < 0 || (doc = read_json_blob (s, img->manifest, err)) == NULL)
        return -1;
    }
  img->manifest_json = doc;
  config = json_string_value (json_object_get (json_object_get (doc, "config"), "digest"));
  if (!digest_is_valid (config))
    return bale_make_error (err, 0, "image '%s': manifest '%s' has no valid config", what,
                            img->manifest);
  memcpy (img->config, config, sizeof img->config);
  memcpy (img->id, from_index ? img->target : config, sizeof img->id);
  if ((img->config_json = read_json_blob (s, img->config, err)) == NULL)
    return -1;
  if (platform && !from_index && check_platform (what, img->config_json, platform, err) < 0)
    return -1;
  return read_layers (what, img, err);
}

int
store_image_read (struct store *s, const char *what, const struct bale_platform *platform,
                  struct store_image *out, bale_error_t *err)
{
  struct store_image img;

  memset (&img, 0, sizeof img);
  if (store_resolve (s, what, img.target, err) < 0)
    return -1;
  if (read_image (s, what, platform, &img, err) < 0)
    {
      store_image_release (&img);
      return -1;
    }
  *out = img;
  return 0;
}

/* ---- pins and garbage collection ---------------------------------------------------------- */

static int
do_pin_add (json_t *doc, void *ctx, bale_error_t *err)
{
  struct ref_edit *e = ctx;

  json_object_set_new (doc, e->digest, json_string (e->name ? e->name : ""));
  return 1;
}

static int
do_pin_remove (json_t *doc, void *ctx, bale_error_t *err)
{
  struct ref_edit *e = ctx;

  return json_object_del (doc, e->digest) == 0 ? 1 : 0;
}

int
store_pin_add (struct store *s, const char *digest, const char *why, bale_error_t *err)
{
  struct ref_edit e = { why, digest };

  if (!digest_is_valid (digest))
    return bale_make_error (err, 0, "invalid digest '%s'", digest ? digest : "");
  return edit_state (s, "pins.json", do_pin_add, &e, err);
}

int
store_pin_remove (struct store *s, const char *digest, bale_error_t *err)
{
  struct ref_edit e = { NULL, digest };

  return edit_state (s, "pins.json", do_pin_remove, &e, err);
}

/* What the mark phase finds: the live blobs, and the diff_ids of the live images' layers,
   which name their snapshots. */
struct marks
{
  struct store *s;
  json_t *live;
  json_t *diff_ids;
};

/* Record the rootfs.diff_ids of the image config digest. A config that cannot be read adds
   none: its image cannot be used anyway, and a snapshot removed wrongly costs only another
   unpack from its blob. */
static void
mark_diff_ids (struct marks *m, const char *digest)
{
  bale_error_t ignored = NULL;
  json_auto_t *config = NULL;
  const json_t *v;
  size_t i;

  if (!digest_is_valid (digest) || !store_blob_exists (m->s, digest)
      || (config = read_json_blob (m->s, digest, &ignored)) == NULL)
    {
      bale_error_release (&ignored);
      return;
    }
  json_array_foreach (json_object_get (json_object_get (config, "rootfs"), "diff_ids"), i, v)
    if (digest_is_valid (json_string_value (v)))
      json_object_set_new (m->diff_ids, json_string_value (v), json_true ());
}

/* Mark digest; when follow is set it is a manifest or an index: mark what it refers to. */
static void
mark (struct marks *m, const char *digest, bool follow, int depth)
{
  bale_error_t ignored = NULL;
  json_auto_t *doc = NULL;
  const char *config;
  const json_t *v;
  size_t i;

  if (!digest_is_valid (digest) || json_object_get (m->live, digest))
    return;
  json_object_set_new (m->live, digest, json_true ());
  /* A pin may name a layer, and a corrupt or missing document has no children to keep. */
  if (!follow || depth > 4 || !store_blob_exists (m->s, digest)
      || (doc = read_json_blob (m->s, digest, &ignored)) == NULL)
    {
      bale_error_release (&ignored);
      return;
    }
  json_array_foreach (json_object_get (doc, "manifests"), i, v)
    mark (m, json_string_value (json_object_get (v, "digest")), true, depth + 1);
  config = json_string_value (json_object_get (json_object_get (doc, "config"), "digest"));
  mark_diff_ids (m, config);
  mark (m, config, false, depth + 1);
  json_array_foreach (json_object_get (doc, "layers"), i, v)
    mark (m, json_string_value (json_object_get (v, "digest")), false, depth + 1);
}

/* Names and pins are the roots. A root that cannot be read keeps itself only: gc never
   removes more because something is broken. */
static int
mark_roots (struct marks *m, bale_error_t *err)
{
  json_auto_t *refs = load_refs (m->s, err);
  json_auto_t *pins = refs ? load_state (m->s, "pins.json", err) : NULL;
  const char *key;
  json_t *value;

  if (pins == NULL)
    return -1;
  json_object_foreach (json_object_get (refs, "refs"), key, value)
    mark (m, json_string_value (value), true, 0);
  json_object_foreach (pins, key, value)
    mark (m, key, true, 0);
  return 0;
}

/* Remove every entry of dirfd that filter does not keep; sum the sizes into *freed. */
static int
sweep (int dirfd, const char *what, bool (*keep) (const char *name, void *ctx), void *ctx,
       int64_t *freed, bale_error_t *err)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return bale_make_error (err, errno, "cannot list '%s'", what);
    }
  while ((e = readdir (d)) != NULL)
    {
      struct stat st;

      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0 || keep (e->d_name, ctx))
        continue;
      if (fstatat (dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        *freed += st.st_size;
      if (unlinkat (dirfd, e->d_name, 0) < 0 && errno != ENOENT)
        return bale_make_error (err, errno, "cannot remove '%s/%s'", what, e->d_name);
    }
  return 0;
}

/* Unmount whatever is still mounted at or below path in our mount namespace, deepest first
   (a build that died can leave none in its own namespace, but a view mounted by hand or by a
   tool can be there). */
static void
unmount_below (const char *path)
{
  cleanup_file FILE *f = fopen ("/proc/self/mountinfo", "re");
  size_t len = strlen (path), n = 0, i;
  char **v = NULL, *line = NULL;
  size_t cap = 0;

  while (f && getline (&line, &cap, f) > 0)
    {
      char mp[PATH_MAX], *w = mp;
      const char *r;
      /* The fifth field, with \040-style escapes. */
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mp) != 1)
        continue;
      for (r = mp; *r; r++)
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3])
          {
            *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
            r += 3;
          }
        else
          *w++ = *r;
      *w = '\0';
      if (strncmp (mp, path, len) == 0 && (mp[len] == '/' || mp[len] == '\0'))
        {
          v = xrealloc (v, (n + 1) * sizeof *v);
          v[n++] = xstrdup (mp);
        }
    }
  free (line);
  /* Later lines are mounted on top of earlier ones: undo them in reverse. */
  for (i = n; i-- > 0;)
    {
      umount2 (v[i], MNT_DETACH);
      free (v[i]);
    }
  free (v);
}

/*
 * Empty tmp/ of what dead processes left: files, and the directories of a killed COPY or RUN
 * (tmp/view.*, tmp/run.*, with the upper directory of the step, mode 0 overlay work
 * directories, read-only trees). Their mounts are undone first, and a failure is skipped,
 * not returned: a leftover must never make prune fail (the next one tries again).
 */
static void
sweep_tmp (struct store *s, const char *tmp, int64_t *freed)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  bale_error_t e = NULL;

  if (dirwalk_list_read (s->tmp_fd, tmp, &list, &e) < 0)
    {
      bale_error_release (&e);
      return;
    }
  for (size_t i = 0; i < list.n; i++)
    {
      cleanup_free char *path = xasprintf ("%s/%s", tmp, list.v[i].name);
      if (S_ISDIR (list.v[i].st.st_mode))
        {
          unmount_below (path);
          *freed += dirwalk_size (s->tmp_fd, list.v[i].name);
        }
      else
        *freed += list.v[i].st.st_size;
      if (dirwalk_remove (s->tmp_fd, list.v[i].name, path, &e) < 0)
        bale_error_release (&e);
    }
  dirwalk_list_release (&list);
}

struct gc_ctx
{
  const struct marks *m;
  store_keep_fn keep;
  void *keep_ctx;
};

static bool
keep_digest (const struct gc_ctx *c, const char *digest)
{
  return json_object_get (c->m->live, digest) != NULL || (c->keep && c->keep (digest, c->keep_ctx));
}

static bool
keep_blob (const char *hex, void *p)
{
  cleanup_free char *digest = xasprintf ("sha256:%s", hex);

  return keep_digest (p, digest);
}

/* A snapshot lives while a surviving image lists its diff_id, or while a blob of that
   digest survives: an uncompressed layer's digest is its diff_id, which covers the layers
   of build cache entries, known only to the keep callback. */
static bool
keep_snapshot (const char *diff_id, void *p)
{
  const struct gc_ctx *c = p;

  return json_object_get (c->m->diff_ids, diff_id) != NULL || keep_digest (c, diff_id);
}

/* The digest in a small file of dirfd (a compressed/ entry), into out; false if it has none. */
static bool
read_digest_file (int dirfd, const char *name, char out[DIGEST_STRLEN + 1])
{
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n = fd < 0 ? -1 : read (fd, out, DIGEST_STRLEN);

  if (n != DIGEST_STRLEN)
    return false;
  out[DIGEST_STRLEN] = '\0';
  return digest_is_valid (out);
}

/*
 * The export's cache of compressed layers (runtime/build/export.c) is an index in compressed/:
 * <diff_id hex>.<algorithm> holds the digest of the compressed blob, which no manifest in
 * the store names. Keep that blob while its uncompressed layer is live, so `bale rmi` of
 * one image does not cost every other image its compressed layers; drop entries whose layer
 * is gone, with their blobs.
 */
static int
mark_compressed (struct store *s, json_t *live, bale_error_t *err)
{
  int fd = openat (s->root_fd, area_names[STORE_AREA_COMPRESSED], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  cleanup_dir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;

  if (fd < 0 && errno == ENOENT)
    return 0;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return bale_make_error (err, errno, "cannot list '%s/compressed'", s->path);
    }
  while ((e = readdir (d)) != NULL)
    {
      char source[DIGEST_STRLEN + 1], target[DIGEST_STRLEN + 1];

      if (e->d_name[0] == '.' || strlen (e->d_name) < 66 || e->d_name[64] != '.')
        continue;
      snprintf (source, sizeof source, "sha256:%.64s", e->d_name);
      if (json_object_get (live, source) && read_digest_file (dirfd (d), e->d_name, target))
        json_object_set_new (live, target, json_true ());
      else
        unlinkat (dirfd (d), e->d_name, 0);
    }
  return 0;
}

/*
 * Mark and sweep, under both locks: no writer runs and no name changes meanwhile. Nor is
 * a snapshot in use: everything that unpacks, adopts or mounts one (a build, from before
 * its first step until its image is stored, see cmd_build.c and executor_build; `bale
 * run`, until its container exits) holds gc.lock shared all along.
 */
static int
collect (struct store *s, store_keep_fn keep, void *ctx, int64_t *freed, bale_error_t *err)
{
  json_auto_t *live = json_object ();
  json_auto_t *diff_ids = json_object ();
  struct marks m = { s, live, diff_ids };
  struct gc_ctx c = { &m, keep, ctx };
  cleanup_free char *blobs = xasprintf ("%s/blobs/sha256", s->path);
  cleanup_free char *tmp = store_area_path (s, STORE_AREA_TMP, NULL);

  if (mark_roots (&m, err) < 0 || mark_compressed (s, live, err) < 0)
    return -1;
  if (sweep (s->blobs_fd, blobs, keep_blob, &c, freed, err) < 0)
    return -1;
  /* Nobody holds gc.lock: everything in tmp/ belongs to a process that died. */
  sweep_tmp (s, tmp, freed);
  if (fsync (s->blobs_fd) < 0)
    return bale_make_error (err, errno, "cannot sync '%s'", blobs);
  return snapshot_gc (s->snapshots_fd, keep_snapshot, &c, freed, err);
}

int
store_exclusive (struct store *s, store_exclusive_fn fn, void *ctx, bale_error_t *err)
{
  int ret;

  if (s->txn_depth > 0)
    return bale_make_error (err, EBUSY, "cannot lock the store inside a store transaction");
  if (lock_fd (s->gc_lock_fd, LOCK_EX, "gc.lock", err) < 0)
    return -1;
  ret = fn (s, ctx, err);
  flock (s->gc_lock_fd, LOCK_UN);
  return ret;
}

int
store_gc (struct store *s, store_keep_fn keep, void *ctx, int64_t *freed, bale_error_t *err)
{
  int64_t total = 0;
  int ret;

  /* Converting our own shared lock to exclusive would deadlock with another converter. */
  if (s->txn_depth > 0)
    return bale_make_error (err, EBUSY, "cannot collect garbage inside a store transaction");
  if (lock_fd (s->gc_lock_fd, LOCK_EX, "gc.lock", err) < 0)
    return -1;
  if ((ret = lock_fd (s->lock_fd, LOCK_EX, "lock", err)) == 0)
    {
      ret = collect (s, keep, ctx, &total, err);
      flock (s->lock_fd, LOCK_UN);
    }
  flock (s->gc_lock_fd, LOCK_UN);
  if (freed)
    *freed = total;
  return ret;
}

void
store_set_deferred_free (struct store *s, store_defer_fn fn, void *ctx)
{
  s->defer = fn;
  s->defer_ctx = ctx;
}

void
store_defer_free (struct store *s, const char *path)
{
  if (s->defer)
    s->defer (s->defer_ctx, path);
}
