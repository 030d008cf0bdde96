/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale build --platform P1,P2`: the images of one build, one per platform, as an OCI image
   index, in the store and in the outputs. */
#ifndef BALE_RT_BUILDINDEX_H
#define BALE_RT_BUILDINDEX_H

#include <stddef.h>

#include <jansson.h>

#include "bale.h"
#include "common/oci/digest.h"

struct exec_image;
struct layout_image;
struct layout_blob;
struct build_output;
struct bale_platform;

/* The image index over imgs[0..n) (a descriptor with its platform each, in order), with
   annotations (--annotation index:K=V; NULL: none), as canonical JSON into *bytes (the
   caller frees it) with its length and digest. */
int buildindex_make (const struct exec_image *imgs, size_t n, json_t *annotations, char **bytes,
                     size_t *len, char digest[DIGEST_STRLEN + 1], bale_error_t *err);

/* The layout writer's view of img (runtime/store/layout.h); *layers receives the array li
   borrows, which the caller frees. Everything else is borrowed from img. */
void buildindex_layout_image (const struct exec_image *img, struct layout_image *li,
                              struct layout_blob **layers);

struct meter;
/* -o type=oci or type=oci-archive of the index over imgs[0..n), named name (may be NULL).
   The images' layers must be compressed already (export_compress). meter (or NULL) counts
   the bytes written, as layout_image.meter does. */
int buildindex_write_layout (const struct build_output *out, const struct exec_image *imgs, size_t n,
                             json_t *annotations, const char *name, struct meter *meter,
                             bale_error_t *err);

/* buildx's platform-split directory name of a local output: "linux_arm_v7". Caller frees. */
char *buildindex_platform_dir (const struct bale_platform *p);

#endif
