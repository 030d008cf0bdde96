/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libbale: images in detail, registries, pruning, the build cache's explanations and binfmt
 * (what `bale images`, `inspect`, `history`, `rmi`, `prune`, `pull`, `push`, `login`,
 * `logout`, `diff`, `cache why` and `binfmt` do, without printing). Included by <bale.h>; the rules of
 * its top comment (ownership, errors, threads) hold here too.
 */
#ifndef BALE_IMAGE_H
#define BALE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- one image in detail ----------------------------------------------------------------- */

/* What the store knows of an image. Every pointer is owned by the struct (see
   bale_image_details_free); fields may be added at the end in later versions. */
struct bale_image_details
{
  char *target;   /* "sha256:..." the name points at: a manifest or an index */
  char *manifest; /* the manifest used: target itself, or the index's entry for the platform */
  char *id;       /* the image ID (the config's digest) */
  char *config;   /* the image config, its own JSON text (NUL-terminated) */
  size_t config_len;
  int64_t size;   /* the config's and the (compressed) layers' bytes, as docker's Size */
  size_t n_layers;
  char **diff_ids;      /* n_layers diff_ids, bottom layer first */
  int64_t *layer_sizes; /* n_layers blob sizes, bottom layer first */
};

/* The image what names (a name, a digest or a unique ID prefix). From an index, the image of
   platform ("linux/arm64"; NULL: this machine's). *out is freed with
   bale_image_details_free. */
int bale_image_details_get (bale_store *s, const char *what, const char *platform,
                            struct bale_image_details **out, bale_error_t *err);
void bale_image_details_free (struct bale_image_details *d);

/* ---- removing ---------------------------------------------------------------------------- */

/*
 * `bale rmi`: remove what[0..n), in order (a name is removed; an ID or digest removes every
 * name of that image), then the blobs nothing else needs (names, pins, the build cache).
 * *untagged receives the stored names removed, in order (a "sha256:..." name is an untagged
 * image); *deleted the targets (manifest or index digests) whose image is gone. Both are
 * NULL-terminated, freed with bale_strv_free, and either may be NULL. Unlike the rule of
 * bale.h, *untagged is set on failure too: the names removed before the failing one stay
 * removed (their blobs are then kept until the next removal or prune).
 */
int bale_images_remove (bale_store *s, const char *const *what, size_t n, char ***untagged,
                        char ***deleted, bale_error_t *err);

/*
 * `bale prune`: remove the untagged images (names that are digests: docker's dangling ones),
 * the build cache beyond keep_storage bytes (the most recently used kept; -1 keeps none), the
 * RUN cache mounts when keep_storage is -1, then every blob and snapshot nothing needs.
 * *untagged (may be NULL) receives the names removed as bale_images_remove gives them, and
 * *reclaimed (may be NULL) the bytes freed.
 */
int bale_store_prune (bale_store *s, int64_t keep_storage, char ***untagged, int64_t *reclaimed,
                      bale_error_t *err);

/* ---- registries -------------------------------------------------------------------------- */

/* How to reach registries: pull, push, login. Zero values are the defaults; set struct_size
   with BALE_REGISTRY_OPTIONS_INIT. */
struct bale_registry_options
{
  size_t struct_size;
  /* host[:port] names reached over plain http (localhost, 127.0.0.1 and ::1 always are);
     NULL-terminated, or NULL. */
  const char *const *insecure;
  const char *ca_file;   /* extra CA certificates (PEM) for https */
  const char *auth_file; /* docker's config.json; NULL: $DOCKER_CONFIG/config.json, else
                            ~/.docker/config.json */
  const char *platform;  /* pull: the image of an index ("linux/arm64"); NULL: this machine's */
  /* push: how uncompressed layers are compressed: NULL or "gzip", "gzip-single" (one gzip
     member), "zstd" or "none". */
  const char *compression;
  int64_t chunk_size; /* push: blobs larger than this go in chunks of it; 0: 64 MiB */
  /* Progress of the transfers, one line at a time (e.g. "pushing ... done"); called in the
     calling thread; the line is borrowed for the call. NULL: silent. */
  void (*log) (void *ctx, const char *line);
  void *log_ctx;
};
#define BALE_REGISTRY_OPTIONS_INIT { .struct_size = sizeof (struct bale_registry_options) }

/* bale_image_pull and bale_image_push with options (o NULL: the defaults). */
int bale_image_pull_with (bale_store *s, const char *ref, const struct bale_registry_options *o,
                          char **digest, bale_error_t *err);
int bale_image_push_with (bale_store *s, const char *what, const char *dest,
                          const struct bale_registry_options *o, char **digest,
                          bale_error_t *err);

/* The registry domain credentials are kept under: "https://index.docker.io/v1/" gives
   "docker.io", "http://h:5000/x" gives "h:5000". The caller frees it. */
char *bale_registry_domain (const char *registry);
/* `bale login`: check username and secret against registry (as bale_registry_domain reads
   it), then record them in the auth file. */
int bale_registry_login (const char *registry, const char *username, const char *secret,
                         const struct bale_registry_options *o, bale_error_t *err);
/* `bale logout`: remove the credentials of registry from the auth file. */
int bale_registry_logout (const char *registry, const struct bale_registry_options *o,
                          bale_error_t *err);

/* ---- comparing two images --------------------------------------------------------------- */

enum bale_diff_flags
{
  /* Leave out config and history `created` and file mtimes: two builds at different times
     then compare equal when nothing else differs. */
  BALE_DIFF_IGNORE_TIMESTAMPS = 1 << 0,
};

/* Zero values are the defaults; set struct_size with BALE_DIFF_OPTIONS_INIT. */
struct bale_diff_options
{
  size_t struct_size;
  unsigned flags;       /* enum bale_diff_flags */
  const char *platform; /* the image of an index of the store ("linux/arm64"); NULL: this
                           machine's. An index in a layout or an archive gives this machine's. */
};
#define BALE_DIFF_OPTIONS_INIT { .struct_size = sizeof (struct bale_diff_options) }

/*
 * `bale diff A B`: every difference between two images: config fields (Env, Labels... by
 * key), history entries, the number of layers, and the files of the flattened file systems
 * (content, type, mode, owner, mtime, symlink target). Each of a and b is
 *   oci:DIR[:TAG]          an OCI image layout (TAG: its org.opencontainers.image.ref.name)
 *   oci-archive:FILE       a tar of an OCI layout
 *   docker-archive:FILE    a `docker save` archive holding one image
 *   /DIR, ./DIR, ../DIR    a directory holding an OCI layout
 *   anything else          a name, digest or ID prefix of an image in s
 * s may be NULL when neither names an image of a store (such an operand then fails with
 * status ENXIO); an archive is read through a temporary store of its own under $TMPDIR,
 * removed before the return, so s is never changed. Returns the number of differences (0: the images are equal)
 * or a negative value with *err, whose messages name the operand ("image 'X': ..."). *text
 * (may be NULL) receives one line per difference ("file /f: mode 0644 -> 0600"; "" when
 * equal), *json (may be NULL) a JSON array of {"kind", "field", "path" or "index", "a", "b"}
 * objects, indented; the caller frees both. o NULL: the defaults.
 */
int bale_diff (bale_store *s, const char *a, const char *b, const struct bale_diff_options *o,
               char **text, char **json, bale_error_t *err);

/* ---- the build cache --------------------------------------------------------------------- */

enum bale_layer_diff_kind
{
  BALE_LAYER_DIFF_INPUTS = 0,  /* both steps are recorded: reason says what differs */
  BALE_LAYER_DIFF_ONLY_A,      /* the layer is only in image A */
  BALE_LAYER_DIFF_ONLY_B,      /* only in image B */
  BALE_LAYER_DIFF_UNKNOWN_A,   /* the store has no record of the step that made A's layer */
  BALE_LAYER_DIFF_UNKNOWN_B,   /* ... of B's */
  BALE_LAYER_DIFF_UNKNOWN,     /* ... of either */
};

/* One layer position where two images differ. */
struct bale_layer_diff
{
  size_t layer; /* 1-based, bottom first */
  enum bale_layer_diff_kind kind;
  char *step;   /* INPUTS: B's step ("RUN make"), NULL when unknown; else NULL */
  char *reason; /* INPUTS: the inputs that differ, "" when the inputs are the same (the step
                   is not reproducible); else NULL */
};

/* `bale cache why A B`: every layer position from the first where the images' layers differ,
   with what differs between the steps that made them (as this store's build cache recorded
   them). *n 0: the same layers. Free with bale_layer_diffs_free. */
int bale_cache_why (bale_store *s, const char *a, const char *b, struct bale_layer_diff **out,
                    size_t *n, bale_error_t *err);
void bale_layer_diffs_free (struct bale_layer_diff *d, size_t n);

/* ---- foreign platforms (binfmt_misc) ----------------------------------------------------- */

/* Where Debian's qemu-user-static keeps its registrations, which bale_binfmt_install reads. */
#define BALE_BINFMT_CONF_DIR "/usr/lib/binfmt.d"

enum bale_binfmt_how
{
  BALE_BINFMT_NATIVE = 0, /* the CPU runs it */
  BALE_BINFMT_EMULATED,   /* a binfmt_misc handler runs it */
  BALE_BINFMT_NONE,       /* nothing does: reason says what to install */
};

struct bale_binfmt_status
{
  char *platform; /* normalised, e.g. "linux/arm64" */
  enum bale_binfmt_how how;
  char *handler, *interpreter, *flags; /* EMULATED: the handler's entry; else NULL */
  char *reason;                        /* NONE: why; else NULL */
};

/* How this machine runs RUN steps of platform ("linux/arm64"). Fails only on a platform that
   cannot be parsed or has no ELF machine bale knows. Release with
   bale_binfmt_status_release. */
int bale_binfmt_status (const char *platform, struct bale_binfmt_status *out, bale_error_t *err);
void bale_binfmt_status_release (struct bale_binfmt_status *st);
/* Register Debian's qemu-user-static handler of platform unless this machine runs it
   already. Needs root; changes the whole machine (binfmt_misc is global). */
int bale_binfmt_install (const char *platform, bale_error_t *err);

#ifdef __cplusplus
}
#endif

#endif
