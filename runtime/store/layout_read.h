/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading an image's config out of an OCI image layout directory. */
#ifndef BALE_LAYOUT_READ_H
#define BALE_LAYOUT_READ_H

#include <jansson.h>

#include "bale.h"
#include "common/oci/digest.h"

/*
 * The config of the image in the layout at dir: the index entry whose
 * org.opencontainers.image.ref.name is name (the last entry, the one written most recently,
 * when name is NULL; the last match when several have the name), following a nested index to the host platform's manifest. Every blob
 * read is checked against its digest. *config_digest receives the config's digest.
 */
int layout_read_config (const char *dir, const char *name, json_t **config,
                        char config_digest[DIGEST_STRLEN + 1], bale_error_t *err);

/* The same image's manifest as well (both the caller's), for its layer descriptors. */
int layout_read_image (const char *dir, const char *name, json_t **manifest, json_t **config,
                       char config_digest[DIGEST_STRLEN + 1], bale_error_t *err);

/* "DIR/blobs/sha256/HEX" for a valid digest whose blob is a regular file reached through
   no symlink, else NULL; the caller frees it. */
char *layout_blob_path (const char *dir, const char *digest);

/* Open the blob at path, "DIR/blobs/sha256/HEX" (layout_blob_path's, or store_blob_path's:
   the store is laid out alike), for reading: DIR as it is named, then blobs/sha256/HEX below
   it through no symlink and only if it is a regular file (fileio_open_regular). A path
   checked earlier and opened again later is resolved the same safe way then, whatever was
   swapped in between. The descriptor, or -1 with err. */
int layout_blob_open (const char *path, bale_error_t *err);

#endif
