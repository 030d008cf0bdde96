/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing a finished image as an OCI layout directory, an OCI archive or a docker-archive. */
#ifndef BALE_LAYOUT_H
#define BALE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "bale.h"
#include "common/meter.h"
#include "common/oci/platform.h"

/*
 * A blob: its descriptor fields plus where its bytes are, either in memory (data) or in a
 * file (path). Everything is borrowed. Writers hash what they copy and fail if it does not
 * match digest and size, so a layout never holds a blob under a wrong name.
 */
struct layout_blob
{
  const char *media_type;
  const char *digest; /* "sha256:<hex>" */
  int64_t size;
  const void *data;
  const char *path;
};

/*
 * One image: the manifest and config blobs (canonical JSON bytes) and the layer blobs in
 * manifest order. platform, when set, goes into the index entry as BuildKit and Docker do.
 */
struct layout_image
{
  struct layout_blob manifest;
  struct layout_blob config;
  const struct layout_blob *layers;
  size_t n_layers;
  const struct bale_platform *platform;
  /* A multi-platform image: manifest is then the image index (of media type
     application/vnd.oci.image.index.v1+json) over these images, and config and layers are
     unused. The writers below write every child's blobs, then the index. */
  const struct layout_image *children;
  size_t n_children;
  /* The writers' byte counts (of the top image only; NULL: none): a meter named by the
     caller (METER_INIT), begun with the bytes of the blobs and files to write, told them as
     they are copied (or found already there) and ended with that total. */
  struct meter *meter;
};

/*
 * The name argument of the writers below is an image reference ("foo", "foo:1",
 * "registry.example/x/y:tag") or NULL. When set, the index entry is annotated with
 * org.opencontainers.image.ref.name = the tag ("latest" if none) and io.containerd.image.name
 * = the normalised name ("docker.io/library/foo:1"), as BuildKit's oci exporter and
 * `docker save` write them.
 */

/*
 * Write img into the OCI image layout at dir, creating it if needed. Blobs already present
 * with the right size are left alone. index.json keeps the entries already there; one with
 * the same ref.name (or, untagged, the same digest and no ref.name) is replaced in place,
 * otherwise the new entry is appended, so writing the same image twice changes nothing.
 * Every file is written to a temporary file in its directory, fsync'ed and renamed, and the
 * directory fsync'ed; index.json is written last.
 */
int layout_write_dir (const char *dir, const struct layout_image *img, const char *name,
                      bale_error_t *err);

/*
 * Write img as an OCI archive (the layout above as a tar, a fresh index.json with one entry)
 * to path, atomically. The tar is deterministic: entries sorted by name, directories
 * included, mode 0644/0755, uid/gid 0, no user/group names, mtime 0, ustar headers (pax
 * only if a name needs it), no padding after the end-of-archive blocks.
 */
int layout_write_oci_archive (const char *path, const struct layout_image *img, const char *name,
                              bale_error_t *err);

/*
 * Write img as a `docker save` archive (Docker 25+ layout) to path, atomically and as
 * deterministically as the OCI archive: the OCI layout plus manifest.json
 * ([{"Config":"blobs/sha256/<hex>","RepoTags":[…]|null,"Layers":["blobs/sha256/<hex>",…]}])
 * and, when named, repositories. Layers are stored as they are (docker load and
 * containers/image decompress them before checking diff_ids). A name is required for
 * `docker load` to tag the image; without one RepoTags is null.
 */
int layout_write_docker_archive (const char *path, const struct layout_image *img, const char *name,
                                 bale_error_t *err);

/* One image of a multi-image docker-archive, with its names (borrowed; none for untagged). */
struct layout_docker_image
{
  const struct layout_image *img;
  const char *const *names;
  size_t n_names;
};

/*
 * Write several images into one `docker save` archive, as `docker save a b` does: the blobs
 * once each, one index.json entry per name (one unnamed entry for an untagged image), one
 * manifest.json item per image with all its names in RepoTags, and repositories. path "-"
 * writes to standard output (not atomically, then).
 */
int layout_write_docker_archive_multi (const char *path, const struct layout_docker_image *items,
                                       size_t n, bale_error_t *err);

/* Replace dirfd/name with len bytes at data, atomically and durably (temp file, fsync,
   rename, fsync of the directory). The file gets mode 0644. */
int layout_write_atomic (int dirfd, const char *name, const void *data, size_t len,
                         bale_error_t *err);

#endif
