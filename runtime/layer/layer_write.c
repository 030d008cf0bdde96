/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Write reproducible layer tarballs with libarchive, hashing diff_id and blob in one pass. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
#include "common/trace.h"
#include "runtime/layer/layer.h"
#include "runtime/layer/pgzip.h"
#include "runtime/fs/owners.h"
#include "common/banned.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_NAME ".wh..wh..opq"
/* Both archives buffer this much before calling their writer, instead of one call per
   512-byte tar block. */
#define BLOCK_SIZE 65536
/* The kernel caps both an inode's xattr name list and one value at 64 KiB (XATTR_LIST_MAX,
   XATTR_SIZE_MAX). */
#define XATTR_BUF_SIZE 65536
/* opts.writeback: the writeback of out_fd starts every this many bytes. */
#define WRITEBACK_CHUNK (8 << 20)
/* opts.hash_thread: the hashing thread is told of the tar every this many bytes. */
#define HASH_CHUNK (2 << 20)

/*
 * The design: two libarchive write handles in a chain, no temporary file, no threads.
 *
 *   entries -> [tar: pax, no filter] -> tee_write -> [raw format + gzip/zstd] -> out_write -> fd
 *                                         |  sha256 (diff_id)                     | sha256 (digest)
 *
 * libarchive hashes nothing itself and gives no access to the bytes between its format and
 * its compression filter, so the tar handle has no filter and its writer callback sees the
 * uncompressed stream: it hashes it and passes it on as the data of the single entry of a
 * second handle in "raw" format, which compresses and hands the result to the last
 * callback. Each stage holds one BLOCK_SIZE buffer, so memory does not depend on the size
 * of the layer. Without compression the tee writes to the fd directly and the blob digest
 * is the diff_id.
 */

/*
 * opts.hash_thread (an uncompressed layer written to a regular out_fd open for reading and
 * writing, as the store's temporary files are): the tar's SHA-256 runs on a thread of its
 * own, on an idle core, while this one walks the tree, reads the files and writes the tar.
 * Every HASH_CHUNK written, the writer tells the thread how far the file holds the tar; the
 * thread reads it back (pread, from the page cache) and hashes it, so the writing thread
 * copies nothing more than before and never waits for the hash until the end. The thread
 * starts with the first chunk (a layer under 2 MiB starts none) and is joined before the
 * writer is finished or freed: no thread outlives the writer (a RUN step's sandbox must be
 * cloned from a process without threads, sandbox.c). Only when a core is idle as the
 * writer starts (fewer runnable tasks than cores): on a busy machine each hand-off waits
 * for the other thread's turn, which cost more than the hash (docs/perf.md, fifth round).
 */
struct hash_thread
{
  pthread_t t;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct digester *d;
  int fd;
  off_t base;       /* where the tar starts in fd */
  int64_t avail;    /* bytes of the tar in fd, told to the thread */
  int64_t done;     /* bytes hashed: the thread's own */
  int64_t inline_done; /* no thread: bytes hashed by the writer */
  int error;        /* the thread's read failed: its errno */
  bool quit, running, tried;
  char buf[HASH_CHUNK];
};

struct inode_link
{
  dev_t dev;
  ino_t ino;
  mode_t type; /* S_IFMT: a group never mixes types (a caller's made-up stat cannot link a
                  symlink to a file) */
  char *path;
  char digest[DIGEST_STRLEN + 1]; /* of its data, "" unless a caller asked for it */
};

struct layer_writer
{
  struct layer_write_opts opts;
  int out_fd;
  layer_sink_fn sink; /* when set, gets the output instead of out_fd */
  void *sink_ctx;
  struct archive *tar;
  struct archive *z; /* NULL without compression */
  struct digester diff, blob;
  int64_t tar_size, size;
  int64_t flushed; /* opts.writeback: bytes of out_fd whose writeback has started */
  bale_error_t cb_err; /* a failure inside a callback, reported by the caller */
  struct inode_link *links;
  size_t n_links, links_alloc;
  bool failed, finished;
  /* The last directory written: an opaque marker in it takes its permissions and owner. */
  char *last_dir;
  struct stat last_dir_st;
  struct hash_thread *ht; /* opts.hash_thread: the thread's state (NULL without) */
  /* The entry whose xattr names are in names (list_xattrs), or -1; the listing's result. */
  int listed_fd;
  ssize_t listed_len;
  int listed_errno;
  /* On the heap, not the stack: writers may run on threads with small stacks. */
  char names[XATTR_BUF_SIZE];
  char value[XATTR_BUF_SIZE];
  char data[BLOCK_SIZE];
};

const char *
layer_media_type (enum layer_compression c)
{
  switch (c)
    {
    case LAYER_COMPRESSION_ZSTD:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
    case LAYER_COMPRESSION_NONE:
      return "application/vnd.oci.image.layer.v1.tar";
    case LAYER_COMPRESSION_GZIP:
    case LAYER_COMPRESSION_GZIP_SINGLE:
    default:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    }
}

/* ---- the output chain --------------------------------------------------------------------- */

static la_ssize_t
out_write (struct archive *a, void *ctx, const void *buf, size_t len)
{
  struct layer_writer *w = ctx;

  (void) a;
  if (w->sink ? w->sink (w->sink_ctx, buf, len, &w->cb_err) < 0
              : fileio_write_all (w->out_fd, buf, len) < 0)
    {
      if (w->cb_err == NULL)
        bale_make_error (&w->cb_err, errno, "cannot write the layer");
      return -1;
    }
  /* Without compression these are the tar's bytes, already hashed for the diff_id: hashing
     them twice would cost as much as reading them. */
  if (w->z != NULL)
    digester_update (&w->blob, buf, len);
  w->size += (int64_t) len;
  if (w->opts.writeback && w->sink == NULL && w->size - w->flushed >= WRITEBACK_CHUNK)
    {
      /* A hint: a failure (out_fd is not a file) only leaves the work to the fsync. */
      (void) sync_file_range (w->out_fd, w->flushed, w->size - w->flushed, SYNC_FILE_RANGE_WRITE);
      w->flushed = w->size;
    }
  meter_add_opt (w->opts.meter, (int64_t) len);
  return (la_ssize_t) len;
}

/* Hash [from, to) of the tar, read back from h->fd: 0 or an errno. */
static int
hash_range (struct hash_thread *h, int64_t from, int64_t to)
{
  while (from < to)
    {
      size_t want = to - from < HASH_CHUNK ? (size_t) (to - from) : HASH_CHUNK;
      ssize_t n = pread (h->fd, h->buf, want, h->base + from);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return n < 0 ? errno : EIO;
      digester_update (h->d, h->buf, (size_t) n);
      from += n;
    }
  return 0;
}

static void *
hash_main (void *arg)
{
  struct hash_thread *h = arg;

  pthread_mutex_lock (&h->mu);
  for (;;)
    {
      int64_t to;
      while (h->done == h->avail && !h->quit)
        pthread_cond_wait (&h->cv, &h->mu);
      if (h->done == h->avail || h->error)
        break; /* told to quit, and everything told of is hashed */
      to = h->avail;
      pthread_mutex_unlock (&h->mu);
      h->error = hash_range (h, h->done, to);
      pthread_mutex_lock (&h->mu);
      h->done = to;
    }
  pthread_mutex_unlock (&h->mu);
  return NULL;
}

/* Tell the thread that the file holds `size` bytes of the tar (starting it on the first
   call; where it cannot start, the writer hashes from then on, reading back the same way). */
static void
hash_tell (struct layer_writer *w, int64_t size)
{
  struct hash_thread *h = w->ht;

  if (!h->tried)
    {
      h->tried = true;
      h->running = pthread_create (&h->t, NULL, hash_main, h) == 0;
      if (h->running)
        trace_mark ("layer: hashing thread started");
    }
  if (!h->running)
    {
      if (h->error == 0)
        h->error = hash_range (h, h->inline_done, size);
      h->inline_done = size;
      return;
    }
  pthread_mutex_lock (&h->mu);
  h->avail = size;
  pthread_cond_signal (&h->cv);
  pthread_mutex_unlock (&h->mu);
}

/* The whole tar told, the thread joined: the digest is whole, or the error says why not. */
static int
hash_thread_stop (struct layer_writer *w, bool hash_rest, bale_error_t *err)
{
  struct hash_thread *h = w->ht;

  if (h == NULL)
    return 0;
  if (hash_rest)
    {
      if (!h->tried)
        h->tried = true; /* under one chunk: hashed here, no thread started */
      hash_tell (w, w->tar_size);
    }
  if (h->running)
    {
      pthread_mutex_lock (&h->mu);
      h->quit = true;
      pthread_cond_signal (&h->cv);
      pthread_mutex_unlock (&h->mu);
      pthread_join (h->t, NULL);
      h->running = false;
    }
  if (hash_rest && h->error)
    return bale_make_error (err, h->error, "cannot read the layer back to hash it");
  return 0;
}

static void
hash_thread_free (struct layer_writer *w)
{
  struct hash_thread *h = w->ht;

  if (h == NULL)
    return;
  hash_thread_stop (w, false, NULL);
  pthread_mutex_destroy (&h->mu);
  pthread_cond_destroy (&h->cv);
  free (h);
  w->ht = NULL;
}

static la_ssize_t
tee_write (struct archive *a, void *ctx, const void *buf, size_t len)
{
  struct layer_writer *w = ctx;

  (void) a;
  if (w->ht != NULL)
    {
      /* Hashed by the thread, read back from out_fd. */
      w->tar_size += (int64_t) len;
      if (out_write (NULL, w, buf, len) < 0)
        return -1;
      if (w->tar_size / HASH_CHUNK != (w->tar_size - (int64_t) len) / HASH_CHUNK)
        hash_tell (w, w->tar_size);
      return (la_ssize_t) len;
    }
  digester_update (&w->diff, buf, len);
  w->tar_size += (int64_t) len;
  if (w->z == NULL)
    return out_write (NULL, w, buf, len);
  if (archive_write_data (w->z, buf, len) != (la_ssize_t) len)
    {
      if (w->cb_err == NULL)
        bale_make_error (&w->cb_err, 0, "cannot compress the layer: %s",
                         archive_error_string (w->z));
      return -1;
    }
  return (la_ssize_t) len;
}

/* Report a failed libarchive call as "WHAT 'ARG': message": the callback's own error when
   it has one (it knows the errno), else libarchive's message. */
static int
archive_fail (struct layer_writer *w, struct archive *a, bale_error_t *err, const char *what,
              const char *arg)
{
  w->failed = true;
  if (w->cb_err != NULL)
    {
      bale_error_join (err, &w->cb_err);
      return -1;
    }
  return bale_make_error (err, 0, "%s '%s': %s", what, arg, archive_error_string (a));
}

static int
check (struct layer_writer *w, struct archive *a, int ret, const char *what, bale_error_t *err)
{
  /* ARCHIVE_WARN from a filter or option means libarchive would run an external program
     or ignored the option: both would make the output depend on the host. */
  if (ret == ARCHIVE_OK)
    return 0;
  w->failed = true;
  return bale_make_error (err, 0, "cannot set up the layer writer (%s): %s", what,
                          archive_error_string (a));
}

static int
setup_compressor (struct layer_writer *w, bale_error_t *err)
{
  struct archive *z = w->z = archive_write_new ();
  struct archive_entry *e;
  const char *filter = w->opts.compression == LAYER_COMPRESSION_ZSTD ? "zstd" : "gzip";
  int ret;

  if (check (w, z, archive_write_set_format_raw (z), "raw format", err) < 0)
    return -1;
  if (w->opts.compression == LAYER_COMPRESSION_ZSTD)
    ret = check (w, z, archive_write_add_filter_zstd (z), "zstd", err);
  else
    ret = check (w, z, archive_write_add_filter_gzip (z), "gzip", err);
  if (ret < 0)
    return ret;
  /* Fixed levels, so the blob digest does not follow libarchive's defaults; and no
     time(NULL) in the gzip header (libarchive writes one unless told "!timestamp"). */
  if (check (w, z, archive_write_set_filter_option (z, filter, "compression-level",
                                                    w->opts.compression == LAYER_COMPRESSION_ZSTD
                                                        ? "3"
                                                        : "6"),
             "compression-level", err)
      < 0)
    return -1;
  if (w->opts.compression != LAYER_COMPRESSION_ZSTD
      && check (w, z, archive_write_set_filter_option (z, "gzip", "timestamp", NULL), "timestamp",
                err)
             < 0)
    return -1;
  /* zstd's multi-threaded mode on every core: its output is the same for any number of
     workers (1 or more), though not the same as the single-threaded mode's. */
  if (w->opts.compression == LAYER_COMPRESSION_ZSTD)
    {
      char threads[16];

      snprintf (threads, sizeof threads, "%d", pgzip_default_threads ());
      if (check (w, z, archive_write_set_filter_option (z, "zstd", "threads", threads), "threads",
                 err)
          < 0)
        return -1;
    }
  if (check (w, z, archive_write_set_bytes_per_block (z, BLOCK_SIZE), "block size", err) < 0
      || check (w, z, archive_write_set_bytes_in_last_block (z, 1), "last block", err) < 0)
    return -1;
  if (archive_write_open2 (z, w, NULL, out_write, NULL, NULL) != ARCHIVE_OK)
    return archive_fail (w, z, err, "cannot start the compressor", filter);
  e = archive_entry_new ();
  archive_entry_set_pathname (e, "layer.tar");
  archive_entry_set_filetype (e, AE_IFREG);
  ret = archive_write_header (z, e);
  archive_entry_free (e);
  if (ret != ARCHIVE_OK)
    return archive_fail (w, z, err, "cannot start the compressor", filter);
  return 0;
}

static int
setup_tar (struct layer_writer *w, bale_error_t *err)
{
  struct archive *t = w->tar = archive_write_new ();

  /* "pax restricted" writes an extended header only for what USTAR cannot hold (long or
     non-ASCII names, big ids, xattrs), as Go's archive/tar does; SCHILY.xattr is the only
     xattr form Go-based tools read; no padding after the two 512-byte end blocks keeps the
     empty layer at the canonical sha256:5f70bf18…. */
  if (check (w, t, archive_write_set_format_pax_restricted (t), "pax", err) < 0
      || check (w, t, archive_write_set_format_option (t, "pax", "xattrheader", "SCHILY"),
                "xattrheader", err)
             < 0
      || check (w, t, archive_write_set_bytes_per_block (t, BLOCK_SIZE), "block size", err) < 0
      || check (w, t, archive_write_set_bytes_in_last_block (t, 1), "last block", err) < 0)
    return -1;
  if (archive_write_open2 (t, w, NULL, tee_write, NULL, NULL) != ARCHIVE_OK)
    return archive_fail (w, t, err, "cannot start the archive", "tar");
  return 0;
}

/* Whether a core is idle now: fewer runnable tasks (this one included) than online cores,
   by the kernel's count in /proc/stat. */
static bool
idle_core (void)
{
  long cores = sysconf (_SC_NPROCESSORS_ONLN);
  cleanup_file FILE *f = NULL;
  char line[128];
  long running = -1;

  if (cores < 2 || (f = fopen ("/proc/stat", "re")) == NULL)
    return false;
  while (fgets (line, sizeof line, f))
    if (sscanf (line, "procs_running %ld", &running) == 1)
      break;
  return running >= 1 && running < cores;
}

struct layer_writer *
layer_writer_new (const struct layer_write_opts *opts, int out_fd, bale_error_t *err)
{
  struct layer_writer *w = xzalloc (sizeof *w);

  w->opts = *opts;
  w->opts.prefix = NULL;
  w->opts.entries = NULL;
  w->out_fd = out_fd;
  w->listed_fd = -1;
  if (digester_init (&w->diff, err) < 0 || digester_init (&w->blob, err) < 0
      || (opts->compression != LAYER_COMPRESSION_NONE && setup_compressor (w, err) < 0)
      || setup_tar (w, err) < 0)
    {
      layer_writer_free (w);
      return NULL;
    }
  if (opts->compression == LAYER_COMPRESSION_NONE
      && (opts->hash_thread == LAYER_HASH_THREAD
          || (opts->hash_thread == LAYER_HASH_THREAD_IF_IDLE && idle_core ())))
    {
      struct stat st;
      int fl = fcntl (out_fd, F_GETFL);
      off_t base = lseek (out_fd, 0, SEEK_CUR);

      /* Read back from the file: a regular one, open for reading too. */
      if (fl >= 0 && (fl & O_ACCMODE) == O_RDWR && fstat (out_fd, &st) == 0 && S_ISREG (st.st_mode)
          && base >= 0)
        {
          struct hash_thread *h = w->ht = xzalloc (sizeof *h);
          h->d = &w->diff;
          h->fd = out_fd;
          h->base = base;
          pthread_mutex_init (&h->mu, NULL);
          pthread_cond_init (&h->cv, NULL);
        }
    }
  return w;
}

void
layer_writer_free (struct layer_writer *w)
{
  size_t i;

  if (w == NULL)
    return;
  /* archive_write_free closes an unfinished archive, end blocks and all, into out_fd.
     archive_write_fail would avoid that but makes libarchive 3.6 leak its output buffer;
     an abandoned layer is garbage either way, and the caller discards it. The tar goes
     first: it writes into the compressor. */
  archive_write_free (w->tar);
  archive_write_free (w->z);
  hash_thread_free (w);
  digester_release (&w->diff);
  digester_release (&w->blob);
  bale_error_release (&w->cb_err);
  for (i = 0; i < w->n_links; i++)
    free (w->links[i].path);
  free (w->links);
  free (w->last_dir);
  free (w);
}

/* ---- entries ------------------------------------------------------------------------------ */

static bool
keep_xattr (const char *name)
{
  /* security.capability is what Docker and containerd differs keep; user.* is the
     application's own. security.selinux, ACLs and trusted.* describe the build host, and
     *.overlay.* is overlayfs bookkeeping that must never reach a layer. */
  if (strcmp (name, "security.capability") == 0)
    return true;
  /* A rootless build's record of what the entry stands for becomes the header itself. */
  if (strcmp (name, OWNERS_XATTR) == 0 && owners_active ())
    return false;
  return strncmp (name, "user.", 5) == 0 && strncmp (name, "user.overlay.", 13) != 0;
}

/* The xattr names of the entry open as fd, listed into w->names once: the directory walk's
   overlay checks and add_xattrs both read them (two flistxattr calls for each file were 9%
   of W4's layer system calls). forget_xattrs ends the entry: its descriptor's number may
   name the next one. */
static ssize_t
list_xattrs (struct layer_writer *w, int fd)
{
  if (w->listed_fd != fd)
    {
      w->listed_len = flistxattr (fd, w->names, sizeof w->names);
      w->listed_errno = w->listed_len < 0 ? errno : 0;
      w->listed_fd = fd;
    }
  errno = w->listed_errno;
  return w->listed_len;
}

static void
forget_xattrs (struct layer_writer *w)
{
  w->listed_fd = -1;
}

/* Copy the kept xattrs of fd into e. listxattr returns names in inode order, so they are
   added in byte-wise order for a stable header. */
static int
add_xattrs (struct layer_writer *w, struct archive_entry *e, int fd, const char *path,
            bale_error_t *err)
{
  char *names = w->names;
  const char *sorted[256];
  size_t n = 0, i, j;
  ssize_t len = list_xattrs (w, fd);
  char *p;

  forget_xattrs (w);

  if (len < 0 && (errno == ENOTSUP || errno == EBADF))
    return 0;
  if (len < 0)
    return bale_make_error (err, errno, "cannot list the xattrs of '%s'", path);
  for (p = names; p < names + len; p += strlen (p) + 1)
    if (keep_xattr (p) && n < sizeof sorted / sizeof *sorted)
      {
        for (j = n; j > 0 && strcmp (sorted[j - 1], p) > 0; j--)
          sorted[j] = sorted[j - 1];
        sorted[j] = p;
        n++;
      }
  for (i = 0; i < n; i++)
    {
      char *value = w->value;
      ssize_t vlen = fgetxattr (fd, sorted[i], value, sizeof w->value);

      if (vlen < 0 && errno == ENODATA)
        continue;
      if (vlen < 0)
        return bale_make_error (err, errno, "cannot read xattr '%s' of '%s'", sorted[i], path);
      archive_entry_xattr_add_entry (e, sorted[i], value, (size_t) vlen);
    }
  return 0;
}

static int64_t
clamp_mtime (const struct layer_writer *w, int64_t t)
{
  return w->opts.epoch_set && t > w->opts.epoch ? w->opts.epoch : t;
}

/* A header with only what a layer records: no uname/gname (host NSS), no atime, ctime or
   birthtime, mtime in whole seconds, permission bits without the type bits. */
static struct archive_entry *
new_entry (struct layer_writer *w, const char *path, const struct stat *st, mode_t type)
{
  struct archive_entry *e = archive_entry_new ();

  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, st->st_mode & 07777);
  archive_entry_set_uid (e, w->opts.owner_set ? w->opts.uid : st->st_uid);
  archive_entry_set_gid (e, w->opts.owner_set ? w->opts.gid : st->st_gid);
  archive_entry_set_mtime (e, clamp_mtime (w, st->st_mtim.tv_sec), 0);
  archive_entry_set_size (e, 0);
  return e;
}

static int
write_header (struct layer_writer *w, struct archive_entry *e, bale_error_t *err)
{
  int ret = archive_write_header (w->tar, e);

  /* The pax writer returns ARCHIVE_WARN only when a name cannot be converted to UTF-8 in
     the current locale (any non-ASCII byte in the C locale); it then writes that entry's
     names as raw bytes with hdrcharset=BINARY, which is what a layer needs: names are
     bytes, and Go-based readers take PAX paths as they are. */
  if (ret == ARCHIVE_WARN)
    ret = ARCHIVE_OK;
  if (ret != ARCHIVE_OK)
    ret = archive_fail (w, w->tar, err, "cannot write the tar header of",
                        archive_entry_pathname (e));
  archive_entry_free (e);
  return ret;
}

static int
check_usable (struct layer_writer *w, const char *path, bale_error_t *err)
{
  const char *base = strrchr (path, '/');

  if (w->failed || w->finished)
    return bale_make_error (err, 0, "layer writer used after %s",
                            w->failed ? "a failure" : "finish");
  if (*path == '\0' || *path == '/' || path[strlen (path) - 1] == '/')
    return bale_make_error (err, EINVAL, "invalid layer path '%s'", path);
  /* .wh. names are reserved: in a layer they would delete files, not be one. */
  base = base ? base + 1 : path;
  if (strncmp (base, WHITEOUT_PREFIX, 4) == 0)
    return bale_make_error (err, EINVAL, "'%s': names starting with '.wh.' are reserved for "
                                         "whiteouts and cannot be stored in a layer",
                            path);
  return 0;
}

/* The earlier member of the hard link group of st, or NULL after remembering path as its
   first member. Directories cannot be hard linked; nlink 1 cannot have a peer. */
static struct inode_link *
link_peer (struct layer_writer *w, const char *path, const struct stat *st,
           struct inode_link **first)
{
  size_t i;

  *first = NULL;
  if (st->st_nlink < 2)
    return NULL;
  /* Linear: hard links are rare in layers; a hash would pay off only for thousands. */
  for (i = 0; i < w->n_links; i++)
    if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino
        && w->links[i].type == (st->st_mode & S_IFMT))
      return &w->links[i];
  XGROW (w->links, w->links_alloc, w->n_links + 1);
  *first = &w->links[w->n_links++];
  memset (*first, 0, sizeof **first);
  (*first)->dev = st->st_dev;
  (*first)->ino = st->st_ino;
  (*first)->type = st->st_mode & S_IFMT;
  (*first)->path = xstrdup (path);
  return NULL;
}

static int
add_hardlink (struct layer_writer *w, const char *path, const struct stat *st,
              const char *target, bale_error_t *err)
{
  struct archive_entry *e = new_entry (w, path, st, AE_IFREG);

  archive_entry_set_hardlink (e, target);
  return write_header (w, e, err);
}

/* Copy size bytes of fd into the tar (unless archive is false), feeding d too when not
   NULL. */
static int
copy_data (struct layer_writer *w, const char *path, int fd, int64_t size, bool archive,
           struct digester *d, bale_error_t *err)
{
  char *buf = w->data;

  while (size > 0)
    {
      size_t want = size < (int64_t) sizeof w->data ? (size_t) size : sizeof w->data;
      ssize_t r = read (fd, buf, want);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          w->failed = true;
          return bale_make_error (err, errno, "cannot read '%s'", path);
        }
      if (r == 0)
        {
          /* The header promised st_size bytes: a shorter tar would be corrupt. */
          w->failed = true;
          return bale_make_error (err, 0, "'%s' shrank while it was archived", path);
        }
      if (d)
        digester_update (d, buf, (size_t) r);
      if (archive && archive_write_data (w->tar, buf, (size_t) r) != r)
        return archive_fail (w, w->tar, err, "cannot write the data of", path);
      size -= r;
    }
  return 0;
}

/* The data of fd into the tar, and its digest into out when out is not NULL. */
static int
add_data (struct layer_writer *w, const char *path, const struct stat *st, int fd, bool archive,
          char *out, bale_error_t *err)
{
  struct digester d;

  if (out == NULL)
    return copy_data (w, path, fd, st->st_size, archive, NULL, err);
  if (digester_init (&d, err) < 0)
    return -1;
  if (copy_data (w, path, fd, st->st_size, archive, &d, err) < 0)
    {
      digester_release (&d);
      return -1;
    }
  return digester_final (&d, out, err);
}

int
layer_writer_add_file (struct layer_writer *w, const char *path, const struct stat *st, int fd,
                       char *data_digest, bale_error_t *err)
{
  struct archive_entry *e;
  struct inode_link *peer, *first;

  if (check_usable (w, path, err) < 0)
    return -1;
  peer = link_peer (w, path, st, &first);
  if (peer != NULL)
    {
      if (data_digest && peer->digest[0] == '\0'
          && add_data (w, path, st, fd, false, peer->digest, err) < 0)
        return -1;
      if (data_digest)
        memcpy (data_digest, peer->digest, DIGEST_STRLEN + 1);
      return add_hardlink (w, path, st, peer->path, err);
    }
  e = new_entry (w, path, st, AE_IFREG);
  archive_entry_set_size (e, st->st_size);
  if (add_xattrs (w, e, fd, path, err) < 0)
    {
      archive_entry_free (e);
      return -1;
    }
  if (write_header (w, e, err) < 0 || add_data (w, path, st, fd, true, data_digest, err) < 0)
    return -1;
  if (first && data_digest)
    memcpy (first->digest, data_digest, DIGEST_STRLEN + 1);
  return 0;
}

/* The directory header just written, for an opaque marker that may follow it. */
static void
remember_dir (struct layer_writer *w, const char *path, mode_t perm, la_int64_t uid, la_int64_t gid)
{
  free (w->last_dir);
  w->last_dir = xstrdup (path);
  memset (&w->last_dir_st, 0, sizeof w->last_dir_st);
  w->last_dir_st.st_mode = S_IFDIR | perm;
  w->last_dir_st.st_uid = (uid_t) uid;
  w->last_dir_st.st_gid = (gid_t) gid;
}

int
layer_writer_add_dir (struct layer_writer *w, const char *path, const struct stat *st, int fd,
                      bale_error_t *err)
{
  struct archive_entry *e;

  if (check_usable (w, path, err) < 0)
    return -1;
  e = new_entry (w, path, st, AE_IFDIR);
  if (fd >= 0 && add_xattrs (w, e, fd, path, err) < 0)
    {
      archive_entry_free (e);
      return -1;
    }
  remember_dir (w, path, archive_entry_perm (e), archive_entry_uid (e), archive_entry_gid (e));
  return write_header (w, e, err);
}

int
layer_writer_add_symlink (struct layer_writer *w, const char *path, const struct stat *st,
                          const char *target, bale_error_t *err)
{
  struct archive_entry *e;
  struct inode_link *peer, *first;

  if (check_usable (w, path, err) < 0)
    return -1;
  /* Hard-linked symlinks (`ln` of a symlink, an ADDed archive's link to one) stay linked,
     as moby's tar writer keeps any non-directory with links (FINDINGS F61). */
  peer = link_peer (w, path, st, &first);
  if (peer != NULL)
    return add_hardlink (w, path, st, peer->path, err);
  e = new_entry (w, path, st, AE_IFLNK);
  archive_entry_set_symlink (e, target);
  return write_header (w, e, err);
}

int
layer_writer_add_special (struct layer_writer *w, const char *path, const struct stat *st,
                          bale_error_t *err)
{
  struct archive_entry *e;
  struct inode_link *peer, *first;
  mode_t type = st->st_mode & S_IFMT;

  if (check_usable (w, path, err) < 0)
    return -1;
  if (type != S_IFCHR && type != S_IFBLK && type != S_IFIFO)
    return bale_make_error (err, EINVAL, "'%s' is not a device or a FIFO", path);
  peer = link_peer (w, path, st, &first);
  if (peer != NULL)
    return add_hardlink (w, path, st, peer->path, err);
  e = new_entry (w, path, st, type == S_IFCHR ? AE_IFCHR : type == S_IFBLK ? AE_IFBLK : AE_IFIFO);
  if (type != S_IFIFO)
    {
      archive_entry_set_rdevmajor (e, major (st->st_rdev));
      archive_entry_set_rdevminor (e, minor (st->st_rdev));
    }
  return write_header (w, e, err);
}

/* An empty regular file with mtime 0 (containerd >= 2.0): its time would otherwise be one
   more thing that differs between two builds (docker 20.10 gives a whiteout the time of the
   deletion). Its mode and owner are those of docker 20.10's layers (moby's overlay whiteout
   converter, FINDINGS F67): a whiteout is 0600 root's; an opaque marker has the permission
   bits (0777) and owner of its directory's header, which comes just before it, and 0755
   root's without one. */
static int
add_marker (struct layer_writer *w, const char *dirpath, const char *name, bool opaque,
            bale_error_t *err)
{
  struct stat st;
  cleanup_free char *path = *dirpath ? xasprintf ("%s/%s", dirpath, name) : xstrdup (name);
  struct archive_entry *e;
  bool dir = opaque && w->last_dir && strcmp (w->last_dir, dirpath) == 0;

  if (w->failed || w->finished)
    return bale_make_error (err, 0, "layer writer used after %s",
                            w->failed ? "a failure" : "finish");
  memset (&st, 0, sizeof st);
  st.st_mode = S_IFREG | (!opaque ? 0600 : dir ? w->last_dir_st.st_mode & 0777 : 0755);
  e = new_entry (w, path, &st, AE_IFREG);
  archive_entry_set_uid (e, dir ? w->last_dir_st.st_uid : 0);
  archive_entry_set_gid (e, dir ? w->last_dir_st.st_gid : 0);
  return write_header (w, e, err);
}

int
layer_writer_add_whiteout (struct layer_writer *w, const char *path, bale_error_t *err)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  cleanup_free char *dir = slash ? xstrndup (path, (size_t) (slash - path)) : xstrdup ("");
  cleanup_free char *name = NULL;

  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0 || *path == '/')
    return bale_make_error (err, EINVAL, "invalid whiteout path '%s'", path);
  name = xasprintf (WHITEOUT_PREFIX "%s", base);
  return add_marker (w, dir, name, false, err);
}

int
layer_writer_add_opaque (struct layer_writer *w, const char *dirpath, bale_error_t *err)
{
  return add_marker (w, dirpath, OPAQUE_NAME, true, err);
}

/* The two digests; without compression the blob is the tar. */
static int
finish_digests (struct layer_writer *w, struct layer_result *res, bale_error_t *err)
{
  if (digester_final (&w->diff, res->diff_id, err) < 0)
    return -1;
  if (w->z == NULL)
    {
      memcpy (res->digest, res->diff_id, sizeof res->digest);
      return 0;
    }
  return digester_final (&w->blob, res->digest, err);
}

int
layer_writer_finish (struct layer_writer *w, struct layer_result *res, bale_error_t *err)
{
  if (w->failed || w->finished)
    return bale_make_error (err, 0, "layer writer used after %s",
                            w->failed ? "a failure" : "finish");
  /* Closing the tar writes its end blocks through the tee; only then can the compressor
     be closed and flushed. */
  if (archive_write_close (w->tar) != ARCHIVE_OK)
    return archive_fail (w, w->tar, err, "cannot finish the archive", "tar");
  if (w->z && archive_write_close (w->z) != ARCHIVE_OK)
    return archive_fail (w, w->z, err, "cannot finish the compressor",
                         w->opts.compression == LAYER_COMPRESSION_ZSTD ? "zstd" : "gzip");
  if (hash_thread_stop (w, true, err) < 0)
    {
      w->failed = true;
      return -1;
    }
  w->finished = true;
  memset (res, 0, sizeof *res);
  if (finish_digests (w, res, err) < 0)
    return -1;
  res->size = w->size;
  res->tar_size = w->tar_size;
  res->media_type = layer_media_type (w->opts.compression);
  return 0;
}

/* ---- compressing a finished tar ----------------------------------------------------------- */

struct gzip_job
{
  struct digester diff, blob;
  int64_t tar_size, size;
  layer_sink_fn sink;
  void *sink_ctx;
};

static int
gzip_input (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  struct gzip_job *g = ctx;

  (void) err;
  digester_update (&g->diff, buf, len);
  g->tar_size += (int64_t) len;
  return 0;
}

static int
gzip_output (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  struct gzip_job *g = ctx;

  digester_update (&g->blob, buf, len);
  g->size += (int64_t) len;
  return g->sink (g->sink_ctx, buf, len, err);
}

/* gzip on every core (pgzip.c), both digests computed on the way. */
static int
compress_gzip (int in_fd, enum layer_compression c, bool diff_id, layer_sink_fn sink, void *ctx,
               struct layer_result *res, bale_error_t *err)
{
  struct gzip_job g = { .sink = sink, .sink_ctx = ctx };
  struct pgzip_opts o = { .format = c == LAYER_COMPRESSION_GZIP_SINGLE ? PGZIP_SINGLE : PGZIP_MEMBERS,
                          .threads = pgzip_default_threads (),
                          .input = diff_id ? gzip_input : NULL,
                          .input_ctx = &g };
  int ret = -1;

  if (digester_init (&g.diff, err) < 0 || digester_init (&g.blob, err) < 0
      || pgzip_compress (in_fd, "the layer to compress", &o, gzip_output, &g, err) < 0)
    goto out;
  memset (res, 0, sizeof *res);
  if ((diff_id && digester_final (&g.diff, res->diff_id, err) < 0)
      || digester_final (&g.blob, res->digest, err) < 0)
    goto out;
  res->size = g.size;
  res->tar_size = g.tar_size;
  res->media_type = layer_media_type (c);
  ret = 0;
out:
  digester_release (&g.diff);
  digester_release (&g.blob);
  return ret;
}

int
layer_compress_to (int in_fd, enum layer_compression c, bool diff_id, layer_sink_fn sink,
                   void *ctx, struct layer_result *res, bale_error_t *err)
{
  struct layer_writer *w;
  int ret = -1;

  if (c == LAYER_COMPRESSION_GZIP || c == LAYER_COMPRESSION_GZIP_SINGLE)
    return compress_gzip (in_fd, c, diff_id, sink, ctx, res, err);
  /* The writer's chain without the tar stage: the bytes of in_fd go through tee_write. */
  w = xzalloc (sizeof *w);
  w->opts.compression = c;
  w->sink = sink;
  w->sink_ctx = ctx;
  if (digester_init (&w->diff, err) < 0 || digester_init (&w->blob, err) < 0
      || (c != LAYER_COMPRESSION_NONE && setup_compressor (w, err) < 0))
    goto out;
  for (;;)
    {
      ssize_t n = read (in_fd, w->data, sizeof w->data);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          bale_make_error (err, errno, "cannot read the layer to compress");
          goto out;
        }
      if (n == 0)
        break;
      if (tee_write (NULL, w, w->data, (size_t) n) < 0)
        {
          bale_error_join (err, &w->cb_err);
          goto out;
        }
    }
  if (w->z && archive_write_close (w->z) != ARCHIVE_OK)
    {
      archive_fail (w, w->z, err, "cannot finish the compressor", "layer");
      goto out;
    }
  memset (res, 0, sizeof *res);
  if (finish_digests (w, res, err) < 0)
    goto out;
  res->size = w->size;
  res->tar_size = w->tar_size;
  res->media_type = layer_media_type (c);
  if (!diff_id)
    res->diff_id[0] = '\0';
  w->finished = true;
  ret = 0;
out:
  layer_writer_free (w);
  return ret;
}

static int
fd_sink (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  if (fileio_write_all (*(int *) ctx, buf, len) < 0)
    return bale_make_error (err, errno, "cannot write the layer");
  return 0;
}

int
layer_compress (int in_fd, enum layer_compression c, int out_fd, struct layer_result *res,
                bale_error_t *err)
{
  return layer_compress_to (in_fd, c, true, fd_sink, &out_fd, res, err);
}

/* ---- writing a directory tree ------------------------------------------------------------- */

struct tree
{
  struct layer_writer *w;
  const struct layer_write_opts *opts;
  bool overlay;
  struct strbuf path;
};

static bool
is_overlay_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static bool
xattr_is (int fd, const char *name, const char *want)
{
  char v[8];
  ssize_t n = fgetxattr (fd, name, v, sizeof v);

  return n == (ssize_t) strlen (want) && memcmp (v, want, (size_t) n) == 0;
}

/* overlayfs marks a directory that replaced a lower one with opaque=y, in the trusted
   namespace or, mounted with userxattr, in the user one. ("x" only says the directory holds
   whiteouts of the new xwhiteout kind.) */
/* True when fd has no xattr the caller can see: then none of the overlay xattrs below can be
   read either (trusted.* is listed exactly when it is readable), and one call answers for
   all of them. Most files of an upper directory have none. */
static bool
no_xattrs (struct layer_writer *w, int fd)
{
  return list_xattrs (w, fd) == 0;
}

static bool
is_opaque_dir (struct layer_writer *w, int fd)
{
  if (no_xattrs (w, fd))
    return false;
  return xattr_is (fd, "trusted.overlay.opaque", "y") || xattr_is (fd, "user.overlay.opaque", "y");
}

/* Since Linux 6.7 overlayfs can also write whiteouts as empty files with a whiteout xattr
   (for upper directories that are themselves on overlayfs). */
static bool
is_xwhiteout (int dirfd, const struct dirwalk_ent *ent)
{
  cleanup_close int fd = -1;

  if (!S_ISREG (ent->st.st_mode) || ent->st.st_size != 0)
    return false;
  fd = openat (dirfd, ent->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return false;
  return fgetxattr (fd, "trusted.overlay.whiteout", NULL, 0) >= 0
         || fgetxattr (fd, "user.overlay.whiteout", NULL, 0) >= 0;
}

/* With redirect_dir a renamed directory is only a pointer to its lower path, and with
   metacopy a file's data stays in the lower layer: the upper directory alone would then
   make a wrong layer, silently. The sandbox mounts with both off; refuse if it did not. */
static int
check_self_contained (struct layer_writer *w, int fd, const char *path, bale_error_t *err)
{
  static const char *const names[] = { "trusted.overlay.redirect", "user.overlay.redirect",
                                       "trusted.overlay.metacopy", "user.overlay.metacopy" };
  size_t i;

  if (no_xattrs (w, fd))
    return 0;
  for (i = 0; i < sizeof names / sizeof *names; i++)
    if (fgetxattr (fd, names[i], NULL, 0) >= 0)
      return bale_make_error (err, ENOTSUP,
                              "'%s' has the overlayfs xattr '%s': mount the overlay with "
                              "redirect_dir=off,metacopy=off to make layers from it",
                              path, names[i]);
  return 0;
}

static int write_tree (struct tree *t, int fd, bale_error_t *err);

/* Open what ent names for reading its data or xattrs; it must still be the entry that was
   lstat'ed. */
static int
open_entry (int dirfd, const struct dirwalk_ent *ent, const char *path, int flags,
            bale_error_t *err)
{
  int fd = openat (dirfd, ent->name, flags | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;

  if (fd < 0)
    return bale_make_error (err, errno, "cannot open '%s'", path);
  if (fstat (fd, &st) < 0 || st.st_dev != ent->st.st_dev || st.st_ino != ent->st.st_ino)
    {
      close (fd);
      return bale_make_error (err, 0, "'%s' changed while the layer was written", path);
    }
  return fd;
}

static int
write_one (struct tree *t, int dirfd, const struct dirwalk_ent *ent, bale_error_t *err)
{
  const char *path = t->path.buf;
  cleanup_close int fd = -1;
  cleanup_free char *target = NULL;
  struct stat st = ent->st;
  bool opaque;

  forget_xattrs (t->w);
  switch (ent->st.st_mode & S_IFMT)
    {
    case S_IFREG:
      fd = open_entry (dirfd, ent, path, O_NONBLOCK, err);
      if (fd < 0 || (t->overlay && check_self_contained (t->w, fd, path, err) < 0))
        return -1;
      if (owners_apply (fd, &st) && !S_ISREG (st.st_mode))
        return layer_writer_add_special (t->w, path, &st, err);
      return layer_writer_add_file (t->w, path, &st, fd, NULL, err);
    case S_IFDIR:
      fd = open_entry (dirfd, ent, path, O_DIRECTORY, err);
      owners_apply (fd, &st);
      if (fd < 0 || (t->overlay && check_self_contained (t->w, fd, path, err) < 0))
        return -1;
      /* Asked before add_dir, whose add_xattrs ends the entry's listing. */
      opaque = t->overlay && is_opaque_dir (t->w, fd);
      if (layer_writer_add_dir (t->w, path, &st, fd, err) < 0)
        return -1;
      if (opaque && layer_writer_add_opaque (t->w, path, err) < 0)
        return -1;
      return write_tree (t, fd, err);
    case S_IFLNK:
      target = xmalloc ((size_t) ent->st.st_size + 1);
      {
        ssize_t n = readlinkat (dirfd, ent->name, target, (size_t) ent->st.st_size + 1);

        if (n < 0 || n > ent->st.st_size)
          return bale_make_error (err, n < 0 ? errno : 0, "cannot read symlink '%s'", path);
        target[n] = '\0';
      }
      owners_apply_special (dirfd, ent->name, &st); /* one-id mode: chown -h recorded */
      return layer_writer_add_symlink (t->w, path, &st, target, err);
    case S_IFIFO:
      owners_apply_special (dirfd, ent->name, &st);
      return layer_writer_add_special (t->w, path, &st, err);
    case S_IFCHR:
    case S_IFBLK:
      return layer_writer_add_special (t->w, path, &ent->st, err);
    default:
      /* Sockets: containerd's differ skips them too; they mean nothing outside a process. */
      return 0;
    }
}

static bool
is_whiteout_ent (const struct tree *t, int dirfd, const struct dirwalk_ent *ent)
{
  return t->overlay && (is_overlay_whiteout (&ent->st) || is_xwhiteout (dirfd, ent));
}

/* Visit entry i of the directory fd, with t->path extended by its name. */
static int
visit (struct tree *t, int fd, const struct dirwalk_ent *ent, bool whiteout, bale_error_t *err)
{
  size_t len = t->path.len;
  int ret;

  if (len > 0)
    strbuf_addch (&t->path, '/');
  strbuf_addstr (&t->path, ent->name);
  if (t->opts->skip && t->opts->skip (t->opts->skip_ctx, t->path.buf, &ent->st))
    ret = 0;
  else if (whiteout)
    ret = layer_writer_add_whiteout (t->w, t->path.buf, err);
  else
    ret = write_one (t, fd, ent, err);
  strbuf_setlen (&t->path, len);
  return ret;
}

/* The children of the directory fd: whiteouts first, as the image spec asks ("whiteout
   files appear before sibling directory entries"), then the rest; each group in byte-wise
   name order. The directory itself and its opaque marker were written by the caller. */
static int
write_tree (struct tree *t, int fd, bale_error_t *err)
{
  struct dirwalk_list list = { NULL, 0, 0 };
  cleanup_free bool *wh = NULL;
  size_t i;
  int pass, ret = dirwalk_list_read (fd, t->path.buf, &list, err);

  /* Told apart once: an xwhiteout check opens the file. */
  wh = xcalloc (list.n + 1, sizeof *wh);
  for (i = 0; ret >= 0 && i < list.n; i++)
    wh[i] = is_whiteout_ent (t, fd, &list.v[i]);
  for (pass = 0; ret >= 0 && pass < 2; pass++)
    for (i = 0; ret >= 0 && i < list.n; i++)
      if (wh[i] == (pass == 0))
        ret = visit (t, fd, &list.v[i], wh[i], err);
  dirwalk_list_release (&list);
  return ret < 0 ? ret : 0;
}

/* The directories of opts->prefix, each with the attributes of the root. */
static int
write_prefix (struct tree *t, const char *prefix, const struct stat *root_st, bale_error_t *err)
{
  const char *p = prefix;

  while (*p == '/')
    p++;
  while (*p)
    {
      const char *end = strchr (p, '/');
      size_t n = end ? (size_t) (end - p) : strlen (p);

      if (n > 0)
        {
          if (t->path.len > 0)
            strbuf_addch (&t->path, '/');
          strbuf_add (&t->path, p, n);
          if (layer_writer_add_dir (t->w, t->path.buf, root_st, -1, err) < 0)
            return -1;
        }
      p += n;
      while (*p == '/')
        p++;
    }
  return 0;
}

static int
compare_strs (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Only the named children of the root, in byte-wise order whatever order they came in. */
static int
write_selected (struct tree *t, int fd, const struct layer_write_opts *opts, bale_error_t *err)
{
  cleanup_free const char **names = xcalloc (opts->n_entries + 1, sizeof *names);
  size_t i;

  memcpy (names, opts->entries, opts->n_entries * sizeof *names);
  qsort (names, opts->n_entries, sizeof *names, compare_strs);
  for (i = 0; i < opts->n_entries; i++)
    {
      struct dirwalk_ent ent = { (char *) names[i], { 0 } };

      if (strchr (names[i], '/') || strcmp (names[i], ".") == 0 || strcmp (names[i], "..") == 0)
        return bale_make_error (err, EINVAL, "invalid layer entry '%s'", names[i]);
      if (i > 0 && strcmp (names[i - 1], names[i]) == 0)
        continue;
      if (fstatat (fd, names[i], &ent.st, AT_SYMLINK_NOFOLLOW) < 0)
        return bale_make_error (err, errno, "cannot stat '%s'", names[i]);
      if (visit (t, fd, &ent, false, err) < 0)
        return -1;
    }
  return 0;
}

int
layer_write_dir (int dir_fd, const struct layer_write_opts *opts, int out_fd,
                 struct layer_result *res, bale_error_t *err)
{
  struct layer_writer *w = layer_writer_new (opts, out_fd, err);
  struct tree t = { w, opts, opts->overlay_upper, STRBUF_INIT };
  struct stat root_st;
  int ret;

  if (w == NULL)
    return -1;
  if (fstat (dir_fd, &root_st) < 0)
    ret = bale_make_error (err, errno, "cannot stat the layer directory");
  else if (opts->prefix && !opts->overlay_upper)
    ret = write_prefix (&t, opts->prefix, &root_st, err);
  else
    ret = 0;
  /* An opaque upper root means the whole filesystem below was replaced. */
  if (ret >= 0 && opts->overlay_upper && is_opaque_dir (w, dir_fd))
    {
      remember_dir (w, "", root_st.st_mode & 07777, opts->owner_set ? opts->uid : root_st.st_uid,
                    opts->owner_set ? opts->gid : root_st.st_gid);
      ret = layer_writer_add_opaque (w, "", err);
    }
  forget_xattrs (w);
  if (ret >= 0 && opts->entries)
    ret = write_selected (&t, dir_fd, opts, err);
  else if (ret >= 0)
    ret = write_tree (&t, dir_fd, err);
  if (ret >= 0)
    ret = layer_writer_finish (w, res, err);
  strbuf_release (&t.path);
  layer_writer_free (w);
  return ret < 0 ? -1 : 0;
}
