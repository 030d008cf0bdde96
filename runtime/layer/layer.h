/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer tarballs: writing them reproducibly, applying them safely, caching unpacked snapshots. */
#ifndef BALE_LAYER_H
#define BALE_LAYER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/oci/digest.h"
#include "common/error.h"
#include "common/meter.h"
#include "common/strbuf.h"

struct archive;
struct archive_entry;

/* ---- writing ------------------------------------------------------------------------------ */

enum layer_compression
{
  LAYER_COMPRESSION_GZIP = 0, /* the default: what every client accepts */
  LAYER_COMPRESSION_ZSTD,
  LAYER_COMPRESSION_NONE,
  /* gzip in one member (slower): for readers that stop after the first (README) */
  LAYER_COMPRESSION_GZIP_SINGLE,
};

/* layer_write_opts.hash_thread: where the tar's SHA-256 is computed. */
enum layer_hash_thread
{
  LAYER_HASH_INLINE = 0,     /* in the writing thread */
  LAYER_HASH_THREAD_IF_IDLE, /* on a thread of its own when a core is idle as the writer starts */
  LAYER_HASH_THREAD,         /* on a thread of its own */
};

struct layer_write_opts
{
  enum layer_compression compression;
  /* The directory is an overlayfs upper directory: 0/0 character devices are whiteouts and
     the trusted.overlay.opaque (or user.overlay.opaque) xattr "y" marks an opaque
     directory. Overlay xattrs never reach the tar. */
  bool overlay_upper;
  /* Record every entry as owned by uid:gid, whatever owns the file (COPY: 0:0 for context
     files, or --chown), so the build host's ids never leak. Whiteouts stay 0:0. */
  bool owner_set;
  uid_t uid;
  gid_t gid;
  /* Clamp every mtime later than epoch to epoch (SOURCE_DATE_EPOCH, tar --clamp-mtime). */
  bool epoch_set;
  int64_t epoch;
  /* layer_write_dir only, plain directories: put everything under prefix ("app/data"),
     whose directories are written with the attributes of dir_fd itself; NULL for none. */
  const char *prefix;
  /* layer_write_dir only: write just these names of dir_fd (and what is below them),
     n_entries of them; NULL writes everything. */
  const char *const *entries;
  size_t n_entries;
  /* layer_write_dir only: when set, entries for which skip returns true are left out, with
     everything below them (e.g. mount-point stubs a RUN step's sandbox created). path is
     relative to dir_fd, st its lstat; for an overlay whiteout, st is the 0/0 device. */
  bool (*skip) (void *ctx, const char *path, const struct stat *st);
  void *skip_ctx;
  /* Told the bytes written to out_fd (or the sink) as they go, or NULL. */
  struct meter *meter;
  /* out_fd is a file its caller will fsync (a store blob): start the writeback of every
     8 MiB written, so the fsync finds little left to write. */
  bool writeback;
  /* Uncompressed only: hash the tar on a thread of its own (layer_write.c), joined before
     layer_writer_finish or layer_writer_free returns; the bytes and digests are the same. */
  enum layer_hash_thread hash_thread;
};

/* What a written layer is, for its descriptor and the config's rootfs.diff_ids. */
struct layer_result
{
  char diff_id[DIGEST_STRLEN + 1]; /* sha256 of the uncompressed tar */
  char digest[DIGEST_STRLEN + 1];  /* sha256 of the bytes written to out_fd */
  int64_t size;                    /* bytes written to out_fd */
  int64_t tar_size;                /* bytes of the uncompressed tar */
  const char *media_type;          /* a static string: application/vnd.oci.image.layer.v1.tar… */
};

/* The OCI media type of a layer compressed with c. */
const char *layer_media_type (enum layer_compression c);

/*
 * Write the tree below the directory open at dir_fd as a layer to out_fd, in one pass, and
 * fill *res. The tar is PAX ("pax restricted": extended headers only where USTAR cannot
 * hold a field), entries in a depth-first walk with each directory's children in byte-wise
 * name order (whiteouts first), numeric owners only, mtimes in whole seconds, no atime or
 * ctime, hard links by (st_dev, st_ino), the xattrs security.capability and user.* only,
 * and no record padding after the two end-of-archive blocks. gzip headers carry no name and
 * mtime 0. Sockets are skipped. Entries named .wh.* are refused: the name is reserved.
 */
int layer_write_dir (int dir_fd, const struct layer_write_opts *opts, int out_fd,
                     struct layer_result *res, bale_error_t *err);

/*
 * The streaming writer below layer_write_dir, for callers that produce entries one at a
 * time (COPY reads each context file once, archiving it as it goes). The caller chooses
 * the order and must add parents before children and each path once; paths are relative,
 * slash-separated, without a trailing slash. Owners, mode, mtime, size, device numbers and
 * (st_dev, st_ino, st_nlink) for hard links come from st, so the caller may rewrite them
 * (COPY --chown) in a copy. Every function fails with an error naming the path; after a
 * failure only layer_writer_free is useful.
 */
struct layer_writer;

struct layer_writer *layer_writer_new (const struct layer_write_opts *opts, int out_fd,
                                       bale_error_t *err);
/* A regular file: its st_size bytes are read from fd (from its current offset), and its
   xattrs too. A later file with the (st_dev, st_ino) of an earlier one, when st_nlink > 1,
   becomes a hard link to the earlier path and its data is not archived again. When
   data_digest is not NULL it receives the "sha256:<hex>" of the file's data (DIGEST_STRLEN
   + 1 bytes), computed in the same read: COPY needs it for its cache key. */
int layer_writer_add_file (struct layer_writer *w, const char *path, const struct stat *st,
                           int fd, char *data_digest, bale_error_t *err);
/* A directory; its xattrs are read from fd unless fd is -1. */
int layer_writer_add_dir (struct layer_writer *w, const char *path, const struct stat *st,
                          int fd, bale_error_t *err);
/* A symlink (hard links among symlinks are kept as for files). */
int layer_writer_add_symlink (struct layer_writer *w, const char *path, const struct stat *st,
                              const char *target, bale_error_t *err);
/* A character or block device or a FIFO (hard links among them are kept as well). */
int layer_writer_add_special (struct layer_writer *w, const char *path, const struct stat *st,
                              bale_error_t *err);
/* A whiteout that deletes path from the layers below: an empty DIR/.wh.NAME, mtime 0. */
int layer_writer_add_whiteout (struct layer_writer *w, const char *path, bale_error_t *err);
/* Hide everything the layers below hold in directory dirpath ("" for the root). */
int layer_writer_add_opaque (struct layer_writer *w, const char *dirpath, bale_error_t *err);
/* Finish the tar and the compressed stream, fill *res. */
int layer_writer_finish (struct layer_writer *w, struct layer_result *res, bale_error_t *err);
/* Free the writer, finished or not. Accepts NULL. */
void layer_writer_free (struct layer_writer *w);

/*
 * Compress the uncompressed layer read from in_fd (to its end) into out_fd with c, and fill
 * *res (diff_id of the input, digest and size of the output): for builds that write layers
 * uncompressed, as Docker does, and compress on export. Same gzip/zstd settings as above.
 */
int layer_compress (int in_fd, enum layer_compression c, int out_fd, struct layer_result *res,
                    bale_error_t *err);

/* Receives output bytes in order; <0 (with an error) stops. */
typedef int (*layer_sink_fn) (void *ctx, const void *buf, size_t len, bale_error_t *err);

/*
 * The same, the output handed to sink as it is made: one pass over in_fd, no temporary file
 * (a push streams it to the registry). gzip runs on every core (pgzip.c: one member per MiB,
 * or one member for LAYER_COMPRESSION_GZIP_SINGLE), zstd with a worker per core; the output
 * does not depend on the number of cores. Without diff_id, res->diff_id is left empty and
 * gzip skips hashing the input (a push of a content-addressed store blob: 10% of its CPU).
 */
int layer_compress_to (int in_fd, enum layer_compression c, bool diff_id, layer_sink_fn sink,
                       void *ctx, struct layer_result *res, bale_error_t *err);

/* ---- applying ----------------------------------------------------------------------------- */

enum layer_extract_mode
{
  /* The root holds the layers below: whiteouts delete what they name there and an opaque
     marker empties its directory of everything this layer did not create. */
  LAYER_EXTRACT_MERGED = 0,
  /* The root is an empty snapshot directory that will be an overlayfs lower layer:
     whiteouts become 0/0 character devices and opaque markers set trusted.overlay.opaque. */
  LAYER_EXTRACT_OVERLAY,
  /* Not a layer but an archive for ADD: also xz and bzip2 (in-process; a filter libarchive
     would run as a program is refused), and names starting with .wh. are ordinary files,
     as Docker's ADD extracts them. Every path rule above still applies. */
  LAYER_EXTRACT_ARCHIVE,
};

struct layer_extract_opts
{
  enum layer_extract_mode mode;
  /* When not NULL, the sha256 of the whole uncompressed stream (trailing bytes included)
     must equal it, or layer_extract fails after the last entry. */
  const char *expected_diff_id;
  /* Limits against decompression bombs: bytes of the uncompressed stream (0: the
     BALE_MAX_LAYER_SIZE of the environment, none when unset) and entries (0: none).
     Exceeding one fails the extraction. */
  int64_t max_tar_bytes;
  int64_t max_entries;
  /* Told the bytes read from fd as they go (an export's byte counts), or NULL. */
  struct meter *meter;
  /* A tree handed to the user on the host (-o type=local) rather than a root bale confines:
     when not NULL, what would give privileges there is left out, each with a call of strip
     saying what and naming the entry's path: device nodes are not created (nor hard links to
     them), set-user-ID and set-group-ID bits of anything but a directory are cleared and
     file capabilities (the security.capability xattr) are not set. NULL keeps them all. */
  void (*strip) (void *ctx, const char *msg);
  void *strip_ctx;
  /* A tree written over a directory that already holds files (-o type=local): when not
     NULL, whiteouts and opaque markers remove only what an earlier layer of the same export
     created there (tracked here, by inode, across the export's layer_extract calls), never
     a file that was there before: BuildKit's local exporter writes the image's final tree
     over the directory and deletes nothing. Without it a layer's `.wh.NAME` deleted the
     user's NAME in the destination. */
  struct layer_export *export;
  /* Every entry belongs to the calling process (its effective ids; the user who runs a
     rootless bale), not to the layer's owners: what BuildKit's local exporter does (its
     client sets each file's owner to its own uid and gid), so that -o type=local gives the
     same files in every mode and the user can remove them. Devices, which an ordinary user
     cannot create, are refused in a user namespace rather than stood in for. */
  bool caller_owns;
  /* LAYER_EXTRACT_ARCHIVE: told the cleaned path of each directory the archive names as an
     entry (not those it creates as missing parents), or NULL. */
  void (*listed_dir) (void *arg, const char *path);
  /* LAYER_EXTRACT_ARCHIVE: the same for each entry that is no directory (hard links too),
     or NULL. */
  void (*listed_nondir) (void *arg, const char *path);
  void *listed_arg;
};

/* Bytes after the end of a layer's tar archive (its end blocks and padding) that are never
   refused; past them, a compressed layer's trailer longer than its whole blob is (a
   decompression bomb: see layer_extract). 16 MiB: any tar's record padding (GNU tar's
   largest usual blocking factor gives 1 MiB records), and a quarter of a second to hash. */
#define LAYER_MAX_TRAILER ((int64_t) 16 << 20)

/* The set an export's layers share (layer_extract_opts.export). */
struct layer_export;
struct layer_export *layer_export_new (void);
void layer_export_free (struct layer_export *e);

/* What an extraction saw, for tests and progress. */
struct layer_extract_stats
{
  /* of the uncompressed stream, and of the bytes read from fd; both empty for an ADDed
     archive (LAYER_EXTRACT_ARCHIVE), whose reading stops at the end of its tar */
  char diff_id[DIGEST_STRLEN + 1];
  char digest[DIGEST_STRLEN + 1];
  int64_t entries;
};

/*
 * Apply the layer read from fd (from its current offset; gzip, zstd or uncompressed tar,
 * told apart by content and decompressed in-process) onto the directory open at root_fd.
 *
 * Every path is resolved inside the root (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS:
 * "..", absolute names and symlinks are clamped to the root as if it were "/"), only the
 * parent of an entry is resolved and the last component is never followed; what exists
 * there is unlinked and recreated (a directory over a directory is merged). Hard links must
 * name an earlier entry of the same layer and link it as it is; owners, modes (setuid
 * too), mtimes, xattrs and device nodes are applied through the new file's own descriptor.
 * Refused with an error naming the entry: non-directory root entries, whiteouts of "." or
 * "..", empty whiteouts, hard links to directories or to paths this layer did not create
 * (forward references included), sparse entries of a layer (an ADDed archive's are written
 * with their holes), names longer than PATH_MAX. Data on hard
 * link entries is never written; overlay xattrs (trusted.overlay.*, user.overlay.*) in the
 * layer are dropped; sockets are skipped. Missing parent directories are created 0755.
 * Kernels without openat2 fail with ENOSYS. A failed extraction leaves a partly applied
 * root behind.
 */
int layer_extract (int fd, int root_fd, const struct layer_extract_opts *opts,
                   struct layer_extract_stats *stats, bale_error_t *err);

/* The diff_id of the layer read from fd (gzip, zstd or none, and xz and bzip2 too when
   more_filters): its uncompressed stream hashed as layer_extract hashes it, read as a tar,
   with the same limits (BALE_MAX_LAYER_SIZE, the trailer after the end of the archive), and
   nothing written anywhere. */
int layer_diff_id (int fd, bool more_filters, char out[DIGEST_STRLEN + 1], bale_error_t *err);

/* The cap on a layer's (or an ADDed archive's) uncompressed bytes the user set with
   BALE_MAX_LAYER_SIZE (a size as docker spells them: "64g"): 0 when unset, an error naming the
   variable when it is no size. */
int layer_max_size (int64_t *out, bale_error_t *err);

/* ---- the snapshot cache ------------------------------------------------------------------- */

/*
 * Make sure the layer with diff_id is unpacked (LAYER_EXTRACT_OVERLAY) in
 * <snapdir>/<hex>/fs, ready to be an overlayfs lowerdir, and set *out_path to that path
 * (absolute; the caller frees it). The blob is read from blob_fd from offset 0 and its
 * uncompressed stream must hash to diff_id. The first caller unpacks into a temporary
 * directory and renames it into place, unsynced: a snapshot unpacked in an earlier boot is
 * unpacked again (runtime/layer/snapshot.c); other processes wait on a lock (flock on
 * <hex>.lock) and then find it there. <hex> is mode 0700: setuid files stay out of reach of
 * other host users. Leftovers of a killed unpack are removed by the next caller.
 */
int snapshot_ensure (int snapdir_fd, const char *diff_id, int blob_fd, char **out_path,
                     bale_error_t *err);

/*
 * Make the overlay-format tree at path (an overlayfs upper directory after a RUN, or a layer
 * unpacked as it was written; on the same filesystem as the cache) the snapshot of diff_id by
 * renaming it into place, so a layer a step just produced is never unpacked again. Its files
 * need not be synced: the snapshot is marked with this boot and unpacked again from its blob
 * in a later one (runtime/layer/snapshot.c). A look-up (common/error.h): 1 when the snapshot
 * was found already there (tree is left where it is), 0 when it was not and tree was
 * adopted, -1 on error; *out_path as above.
 */
int snapshot_adopt_unsynced (int snapdir_fd, const char *diff_id, const char *tree,
                             char **out_path, bale_error_t *err);

/* One id: the owner recorded for the symbolic link or FIFO relpath (relative to the
   snapshot's fs directory fs_path) when the snapshot was made, which no inode of this
   process's table may know (runtime/fs/owners.h); false when it has none. */
bool snapshot_special_owner (const char *fs_path, const char *relpath, uid_t *uid, gid_t *gid);

/*
 * A stack of snapshot paths, top layer first, with each path kept only at its topmost place:
 * the repeats are moved behind the first return-value entries (the caller still owns all n).
 * overlayfs refuses the same lower directory twice (ELOOP), and the merge is the same without
 * the lower occurrence: for every path a layer either decides it alone (an entry, a whiteout,
 * an opaque or replaced directory) or lets the layers below show through, so with L1 L2 L1
 * (bottom first) the top L1 already decides all that the bottom one would. Dropping the upper
 * occurrence instead would let L2 win where the top L1 must.
 */
size_t snapshot_stack_unique (const char **top_first, size_t n);

/* Whether the snapshot of diff_id ("sha256:<hex>") is still wanted. */
typedef bool (*snapshot_live_fn) (const char *diff_id, void *ctx);

/*
 * Remove every snapshot whose diff_id live rejects, with its lock file, and every leftover
 * of an unfinished unpack or adoption (<hex>.tmp, <hex>.adopt) whatever its layer; entries
 * of other names are left alone. *freed grows by the apparent size of the files removed.
 * The caller must make sure that no snapshot_ensure or snapshot_adopt_unsynced runs and that no
 * snapshot is in use meanwhile: store_gc calls it under the exclusive gc lock, which every
 * build and `bale run` hold shared. A complete snapshot is renamed to <hex>.tmp before its
 * removal starts, so a failure half way never leaves a partial tree under the name <hex>.
 */
int snapshot_gc (int snapdir_fd, snapshot_live_fn live, void *ctx, int64_t *freed,
                 bale_error_t *err);

/* ---- reading ------------------------------------------------------------------------------ */

enum layer_reader_flags
{
  LAYER_READER_XZ_BZIP2 = 1 << 0, /* also xz and bzip2: image archives (bale load), ADD */
};

/*
 * A libarchive read handle for image data (layers, image archives, cache blobs, ADD sources):
 * the one place that says which compressions are read. Exactly none, gzip and zstd, with
 * LAYER_READER_XZ_BZIP2 also xz and bzip2, each decompressed in-process. Never
 * archive_read_support_filter_all: it would run lrzip, lzop, grzip... from PATH as root on the
 * archive's bytes (CVE-2014-9357 class). A libarchive built without zlib, libzstd, liblzma or
 * libbz2 falls back to an external program and says so with ARCHIVE_WARN: that is an error
 * here. No format is enabled: the caller adds tar or raw. Free with archive_read_free.
 */
struct archive *layer_reader_new (unsigned flags, bale_error_t *err);

/* Called for each entry of a layer. e is valid only during the call; its data may be read
   from a with archive_read_data. */
typedef int (*layer_entry_fn) (void *ctx, struct archive *a, struct archive_entry *e,
                               bale_error_t *err);

/* Whether fd holds a tar archive, compressed with one of the compressions above (xz and
   bzip2 included) or not, as BuildKit decides for ADD: the stream decompressed and its first
   tar header read. A gzip of anything else is no archive: ADD copies it as it is. 1 or 0,
   fd's offset 0 again; -1 when it cannot tell (libarchive lacks a decompressor). */
int layer_is_tar (int fd, bale_error_t *err);

/* Read the layer from fd (any of the compressions above) and call fn for each entry. */
int layer_read (int fd, layer_entry_fn fn, void *ctx, bale_error_t *err);

/* From a layer_entry_fn: read the current entry's data to its end and write the
   "sha256:<hex>" of it to out. path names the entry in errors. */
int layer_data_digest (struct archive *a, const char *path, char out[DIGEST_STRLEN + 1],
                       bale_error_t *err);

/*
 * Append a listing of the layer at fd to out, one line per entry, for tests and debugging:
 *   TYPE MODE UID:GID MTIME SIZE PATH[ -> LINK][ hardlink LINK][ dev MAJ,MIN][ xattr K=HEX]...
 * TYPE is one of - d l h c b p; regular files end in " sha256:HEX" of their data. Bytes
 * outside printable ASCII in names are written as \xHH.
 */
int layer_list (int fd, struct strbuf *out, bale_error_t *err);

#endif
