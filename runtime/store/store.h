/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The local image store: content-addressed blobs, image names, snapshots, all crash-safe. */
#ifndef BALE_STORE_H
#define BALE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bale.h"
#include "common/oci/digest.h"
#include "common/oci/platform.h"

/*
 * On disk, under the store directory:
 *
 *   blobs/sha256/<hex>   every blob, named by the SHA-256 of its bytes
 *   refs.json            {"refs": {"docker.io/library/busybox:latest": "sha256:…"}}; an
 *                        untagged image is kept under its own digest as name
 *   pins.json            {"sha256:…": "why"}: blobs the garbage collector must keep
 *   snapshots/           unpacked layers (owned by the snapshot code); gc removes those no
 *                        surviving image or blob names
 *   compressed/          <diff_id hex>.<alg>: the export's compressed copy of a layer
 *                        (owned by runtime/build/export.c); gc keeps it while the layer lives
 *   tmp/                 files being written; never visible anywhere else
 *   lock, gc.lock        flock(2) files
 *
 * Every file appears by rename(2) of a complete, fsync'ed file in tmp/, so a killed process
 * leaves at most a stray file in tmp/, which store_gc removes. refs.json and pins.json are
 * followed by an fsync of the store's directory and preceded by one of blobs/, which makes
 * the names of the blobs written before them durable (a blob's own rename is not followed
 * by one: see commit_temp in store.c). Read-modify-write of refs.json and pins.json holds an exclusive flock on `lock`.
 * Writers hold a shared flock on `gc.lock` from their first blob until their names are
 * recorded (see store_txn_begin); store_gc takes it exclusively, so it never removes a blob
 * that a running import or build is about to name. Builds and `bale run` hold it for their
 * whole run, so store_gc never removes a snapshot in use either.
 */
struct store;

/* Open (creating if needed) the store at path. */
int store_open (const char *path, struct store **out, bale_error_t *err);
/* Close the store and release its locks. Accepts NULL. */
void store_close (struct store *s);

/* $BALE_STORE; else /var/lib/bale for root; else $XDG_DATA_HOME/bale or ~/.local/share/bale.
   The caller frees it. NULL (with an error) when none can be determined. */
char *store_default_path (bale_error_t *err);

const char *store_path (const struct store *s);

/* The store's areas besides blobs/ and snapshots/: every directory or file another module
   keeps in the store is one of these, named here only, so that store_gc and `bale prune`
   know them all (store.c says who reclaims each). */
enum store_area
{
  STORE_AREA_TMP,        /* tmp/: scratch trees and files of a running command */
  STORE_AREA_RUN_CACHE,  /* cache/: RUN --mount=type=cache directories */
  STORE_AREA_BUILDCACHE, /* buildcache/: build cache keys (keys/) and context indexes */
  STORE_AREA_COMPRESSED, /* compressed/: the export's index of compressed layers */
  STORE_AREA_PROVENANCE, /* provenance/: build provenance records by config digest */
  STORE_AREA_PUSH_CACHE, /* push-cache.json: blobs registries are known to hold */
};
/* "<store>/<area>", or "<store>/<area>/<name>" when name is not NULL (name may be a
   mkstemp/mkdtemp template). The caller frees it. */
char *store_area_path (const struct store *s, enum store_area a, const char *name);
/* The same for the store at dir, not opened (provenance read without a store, the context
   index of a store given by path). */
char *store_area_path_at (const char *dir, enum store_area a, const char *name);
/* The snapshots/ directory, for the snapshot code: an O_DIRECTORY fd the store owns, and its
   path (a string the store owns). */
int store_snapshots_fd (const struct store *s);
const char *store_snapshots_path (const struct store *s);

/*
 * Hold off garbage collection: blobs written between begin and end survive a concurrent
 * store_gc, even before a name refers to them. Calls nest; blob writers begin one for their
 * own lifetime. Begin may wait for a running store_gc.
 */
int store_txn_begin (struct store *s, bale_error_t *err);
void store_txn_end (struct store *s);

/* ---- blobs ------------------------------------------------------------------------------- */

/*
 * A blob being written: bytes go to a temporary file in tmp/ and through SHA-256 as they are
 * written. commit checks the digest (when expected is not NULL) and moves the file into
 * blobs/; on any failure, and on abort, the temporary file is removed, so a blob never
 * appears under a name its bytes do not hash to. commit and abort free the writer.
 */
struct store_blob_writer;

struct store_blob_writer *store_blob_writer_new (struct store *s, bale_error_t *err);
int store_blob_writer_write (struct store_blob_writer *w, const void *buf, size_t len,
                             bale_error_t *err);
/* Bytes written so far. */
int64_t store_blob_writer_size (const struct store_blob_writer *w);
/* Finish: out (may be NULL) receives the digest; expected (may be NULL) must match it. Frees w
   whatever the outcome. */
int store_blob_writer_commit (struct store_blob_writer *w, const char *expected,
                              char out[DIGEST_STRLEN + 1], bale_error_t *err);
/* For a producer that hashes what it writes (the layer writer computes the digest of the
   very bytes it hands to its descriptor): the temporary file's descriptor, owned by w. Write
   to it instead of store_blob_writer_write, then commit with store_blob_writer_commit_hashed,
   which takes the producer's digest and checks the size, so the bytes are hashed once. */
int store_blob_writer_fd (struct store_blob_writer *w);
/* Or hand the producer's bytes to store_blob_writer_write_hashed, which writes them as
   store_blob_writer_write does, without hashing them, for store_blob_writer_commit_hashed. */
int store_blob_writer_write_hashed (struct store_blob_writer *w, const void *buf, size_t len,
                                    bale_error_t *err);
int store_blob_writer_commit_hashed (struct store_blob_writer *w, const char *digest,
                                     int64_t size, bale_error_t *err);
/* As store_blob_writer_commit_hashed, but the fsync is an asynchronous request the kernel
   carries out while the caller goes on (a RUN step's next sandbox), and the rename into
   blobs/ waits for store_commit_wait: the blob has its name once that returned 0, and
   nothing may read it before. The checks are made at once (NULL and err on failure; w is
   freed either way). No thread: the caller may clone processes meanwhile. One commit in
   flight per process. */
struct store_commit;
struct store_commit *store_blob_writer_commit_async (struct store_blob_writer *w,
                                                    const char *digest, int64_t size,
                                                    bale_error_t *err);
/* Wait for the commit and free it: 0, or -1 when the blob could not be stored (its temporary
   file is removed). Accepts NULL. */
int store_commit_wait (struct store_commit *c, bale_error_t *err);
/* Drop the blob. Accepts NULL. */
void store_blob_writer_abort (struct store_blob_writer *w);

/* Store len bytes; out (may be NULL) receives their digest. */
int store_blob_put (struct store *s, const void *buf, size_t len, char out[DIGEST_STRLEN + 1],
                    bale_error_t *err);
/* Store everything fd holds from its offset on, checking it against expected (may be NULL).
   name describes fd in errors. */
int store_blob_put_fd (struct store *s, int fd, const char *name, const char *expected,
                       char out[DIGEST_STRLEN + 1], bale_error_t *err);

bool store_blob_exists (struct store *s, const char *digest);
/* Size of a stored blob; -1 (with an error) when it is missing or the digest invalid. */
int64_t store_blob_size (struct store *s, const char *digest, bale_error_t *err);
/* "<store>/blobs/sha256/<hex>"; the caller frees it. NULL for an invalid digest. */
char *store_blob_path (struct store *s, const char *digest);
/* An O_RDONLY fd on the blob; the caller closes it. */
int store_blob_open (struct store *s, const char *digest, bale_error_t *err);
/* A new directory root holding n layers applied in order (the blobs digests[i], which must
   unpack to diff_ids[i]): a root a command may change, for copied-rootfs mode and chroot
   isolation, where nothing is mounted. */
int store_unpack_root (struct store *s, size_t n, const char *const *digests,
                       const char *const *diff_ids, const char *root, bale_error_t *err);
/* The whole blob in a NUL-terminated buffer (*len its size) the caller frees, after checking
   its digest. Blobs larger than max bytes are refused: this is for JSON documents. */
int store_blob_read (struct store *s, const char *digest, size_t max, char **out, size_t *len,
                     bale_error_t *err);

/* ---- names ------------------------------------------------------------------------------- */

/*
 * Names are normalised as Docker does: "busybox" and "docker.io/library/busybox:latest" are
 * the same. A name that is itself a digest ("sha256:…") keeps an untagged image alive.
 */
struct store_ref
{
  char *name;   /* normalised: "docker.io/library/busybox:latest", or "sha256:…" */
  char *digest; /* of a manifest or an index */
};

/* name → digest (an existing blob). Replaces any previous target; a previous target left
   without a name is kept as an untagged image, as Docker does. */
int store_ref_set (struct store *s, const char *name, const char *digest, bale_error_t *err);
/* Copy the target of name into out; fails ("no such image") when there is none. */
int store_ref_get (struct store *s, const char *name, char out[DIGEST_STRLEN + 1],
                   bale_error_t *err);
/* Like store_ref_get, but a look-up (common/error.h): 1 when found, 0 when not (without an
   error), -1 on a bad name. */
int store_ref_lookup (struct store *s, const char *name, char out[DIGEST_STRLEN + 1],
                      bale_error_t *err);
/* Remove name; fails when there is none. */
int store_ref_delete (struct store *s, const char *name, bale_error_t *err);
/* Every name, sorted. The caller frees the array with store_refs_free. */
int store_ref_list (struct store *s, struct store_ref **out, size_t *n, bale_error_t *err);
void store_refs_free (struct store_ref *refs, size_t n);
/* The normalised form of a name ("busybox" → "docker.io/library/busybox:latest"); a digest
   is returned as it is. The caller frees it. */
char *store_ref_normalize (const char *name, bale_error_t *err);

/*
 * What s names, as the digest of a manifest or index: a stored digest "sha256:<hex>", a
 * name, or an image ID prefix (hex, optionally after "sha256:") matching exactly one image
 * by its manifest/index digest or its image ID. Fails when nothing matches and when a
 * prefix matches two different images.
 */
int store_resolve (struct store *s, const char *what, char out[DIGEST_STRLEN + 1],
                   bale_error_t *err);

/* The image ID of a manifest or index digest, as Docker shows it: the config digest of a
   manifest, the digest itself for an index or anything else. */
int store_image_id (struct store *s, const char *target, char out[DIGEST_STRLEN + 1]);

/* ---- images ------------------------------------------------------------------------------ */

struct store_layer
{
  char *digest;
  char *media_type;
  int64_t size;
};

struct store_image
{
  char target[DIGEST_STRLEN + 1];   /* what the name points to: manifest or index */
  char manifest[DIGEST_STRLEN + 1]; /* the manifest chosen for the platform */
  char config[DIGEST_STRLEN + 1];
  char id[DIGEST_STRLEN + 1]; /* the image ID: store_image_id (target) */
  json_t *manifest_json;
  json_t *config_json;
  struct store_layer *layers;
  size_t n_layers;
  char **diff_ids; /* n_layers of them */
};

/*
 * Read the image what names (anything store_resolve takes). From an index, the entry for
 * platform is chosen (NULL means the host's platform). A single manifest is used as it is
 * when platform is NULL; otherwise its config must be for a platform that serves platform.
 * Checks that the config has one diff_id per layer. Release with store_image_release.
 */
int store_image_read (struct store *s, const char *what, const struct bale_platform *platform,
                      struct store_image *out, bale_error_t *err);
void store_image_release (struct store_image *img);

/* ---- garbage collection ------------------------------------------------------------------ */

/* Keep digest (and what it references, when it is a manifest or an index) through store_gc. */
int store_pin_add (struct store *s, const char *digest, const char *why, bale_error_t *err);
int store_pin_remove (struct store *s, const char *digest, bale_error_t *err);

/* Extra roots for store_gc: return true to keep a blob (the build cache's hook). */
typedef bool (*store_keep_fn) (const char *digest, void *ctx);

/*
 * Remove every blob not reachable from a name, a pin or keep (may be NULL), and every stray
 * file in tmp/. Reachable means: the target, the manifests of an index, a manifest's config
 * and layers, and the compressed/ copies of live layers. Then remove every snapshot whose
 * diff_id is neither in the rootfs.diff_ids of a reachable config nor the digest of a blob
 * that survives (an uncompressed layer's digest is its diff_id: that keeps the snapshots of
 * build cache entries), and every leftover of an unfinished unpack (see snapshot_gc).
 * *freed (may be NULL) receives the bytes removed, counting a snapshot as the apparent size
 * of its files. Waits for running writers, builds and `bale run`;
 * fails with EBUSY if this process has a transaction open.
 */
int store_gc (struct store *s, store_keep_fn keep, void *ctx, int64_t *freed, bale_error_t *err);

/* Run fn while no build, pull or bale run holds the store (store_gc's lock, exclusive): for
   removing what they may be using, such as RUN cache mounts. */
typedef int (*store_exclusive_fn) (struct store *s, void *ctx, bale_error_t *err);
int store_exclusive (struct store *s, store_exclusive_fn fn, void *ctx, bale_error_t *err);

/* ---- archives (runtime/store/store_archive.c) -------------------------------------------------- */

/*
 * Import a docker-archive (`docker save`, legacy or Docker 25+), an OCI archive (a tar of an
 * OCI layout, possibly compressed) or an OCI layout directory at path ("-": standard
 * input, which must be an archive). Every blob's digest
 * is verified; paths inside the archive are never used on the file system, and absolute
 * ones or ones with ".." are refused. Docker-archive images become OCI manifests; their
 * layers are stored as they are (application/vnd.oci.image.layer.v1.tar, or +gzip/+zstd
 * when compressed), so a diff_id of an uncompressed layer is its blob digest. Names come from
 * RepoTags, or from the io.containerd.image.name / org.opencontainers.image.ref.name
 * annotations; an unnamed image is kept under its digest. *names (may be NULL) receives the
 * normalised names (or digests) recorded, freed with store_refs_free.
 */
int store_load (struct store *s, const char *path, struct store_ref **names, size_t *n_names,
                bale_error_t *err);

/* As store_load, but the names and digests of the archive or layout name nothing in the
   store: its image digest (which it must hold) is named name alone, before a concurrent gc
   may run. For an input that is not the user's own images (`--build-context x=oci-layout://`):
   a layout whose index named "docker.io/library/busybox:latest" retagged the user's busybox. */
int store_load_as (struct store *s, const char *path, const char *digest, const char *name,
                   bale_error_t *err);

/* Write the images named by what[0..n) (anything store_resolve takes) as one docker-archive
   (Docker 25+ layout) that `docker load` accepts. A name of an image index (a multi-platform
   build) gives the index's image for platform (NULL: the host's), as `docker save --platform`
   does: a docker-archive holds one image per name. When saved is not NULL, saved[i] receives
   the platform of the image written for what[i] when it named an index ("linux/arm64"), else
   NULL; the caller frees them. */
int store_save (struct store *s, const char *path, const char *const *what, size_t n,
                const struct bale_platform *platform, char **saved, bale_error_t *err);

/* Files the store's users replace by renaming a new one over them (cache entries, their
   inputs and pointers) free the old one's blocks in that rename, on this project's disks a
   synchronous discard each (docs/perf.md). A deferred free, set for the length of a build
   (exec_reaper), takes the old file over first: it gives it a second name and removes that
   later, off the build's path. store_defer_free calls it for path when one is set. */
typedef void (*store_defer_fn) (void *ctx, const char *path);
void store_set_deferred_free (struct store *s, store_defer_fn fn, void *ctx);
void store_defer_free (struct store *s, const char *path);

#endif
