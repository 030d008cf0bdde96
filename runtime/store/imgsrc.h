/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An image named by a string, wherever it lives: the store, an OCI layout, an archive (the
   operands of `bale diff`, include/bale/image.h). */
#ifndef BALE_IMGSRC_H
#define BALE_IMGSRC_H

#include <stddef.h>

#include <jansson.h>

#include "bale.h"

struct store;

/* An image's config and where each of its layer blobs is, bottom layer first. */
struct imgsrc
{
  json_t *config;
  char **layers; /* paths of the layer blobs */
  size_t n_layers;
  /* oci-archive: and docker-archive: operands are loaded into a private store in a
     temporary directory, removed by imgsrc_release. */
  struct store *tmp_store;
  char *tmp_dir;
};

/*
 * Open the image what names:
 *   oci:DIR[:TAG]          an OCI image layout (TAG: its org.opencontainers.image.ref.name)
 *   oci-archive:FILE       a tar of an OCI layout
 *   docker-archive:FILE    a `docker save` archive holding one image
 *   /DIR, ./DIR, ../DIR    a directory holding an OCI layout
 *   anything else          a name, digest or ID prefix of an image in the store s (NULL:
 *                          there is none, and such a name fails with status ENXIO)
 * An index of the store gives platform's image ("linux/arm64"; NULL: the host's); an index
 * of a layout or an archive the host's. The JSON blobs of a layout are checked against
 * their digests; its layer blobs are read as they are (store and archive blobs were checked
 * when they were stored). Release with imgsrc_release.
 */
int imgsrc_open (struct store *s, const char *platform, const char *what, struct imgsrc *out,
                 bale_error_t *err);
/* Free everything src holds and remove its temporary store. Accepts a zeroed struct. */
void imgsrc_release (struct imgsrc *src);

#endif
