/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jansson builders for OCI descriptors, manifests, indexes and image configs, in Go's key order. */
#ifndef BALE_OCI_H
#define BALE_OCI_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "bale.h"
#include "common/oci/platform.h"

#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

#define OCI_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
/* containerd's images.AnnotationImageName, written by BuildKit's oci exporter and docker save. */
#define OCI_ANNOTATION_IMAGE_NAME "io.containerd.image.name"

/* BuildKit's system.DefaultPathEnv for Linux images. */
#define OCI_DEFAULT_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * Ownership for every builder below: the result is a new reference the caller json_decref()s.
 * json_t arguments are borrowed; where the result embeds one it takes its own reference
 * (json_incref) instead of copying, so later changes to the argument show through.
 */

/* {"architecture","os","os.version"?,"os.features"?,"variant"?}, the field order of image-spec's
   Platform struct. */
json_t *oci_platform_new (const struct bale_platform *p);

/* Set (or, without a version, remove) "os.version" and set "os.features" when p has some. */
void oci_platform_set_os_options (json_t *o, const struct bale_platform *p);

/*
 * A descriptor {mediaType, digest, size, annotations?, platform?}. annotations, when not NULL
 * and not empty, must be an object of strings; it is copied with its keys sorted (Go writes
 * map keys in order). Fails on an invalid digest, a negative size or a non-string annotation.
 */
json_t *oci_descriptor_new (const char *media_type, const char *digest, int64_t size,
                            const json_t *annotations, const struct bale_platform *platform,
                            bale_error_t *err);

/* An image manifest {schemaVersion:2, mediaType, config, layers:[]}. */
json_t *oci_manifest_new (json_t *config_desc);
/* Append a layer descriptor (base layer first). */
void oci_manifest_add_layer (json_t *manifest, json_t *layer_desc);

/* An empty image index {schemaVersion:2, mediaType, manifests:[]}. */
json_t *oci_index_new (void);
void oci_index_add (json_t *index, json_t *desc);

/*
 * The config of `FROM scratch`, as BuildKit's emptyImage() writes it: architecture, os,
 * variant (when set), config {Env: [default PATH], WorkingDir: "/"}, rootfs {type: layers,
 * diff_ids: []} and history [] — top-level keys sorted.
 */
json_t *oci_config_new_scratch (const struct bale_platform *p);

/* A history entry in image-spec's field order: created, created_by, comment, empty_layer
   (each only when set: NULL strings and a false empty_layer are left out). */
json_t *oci_history_new (const char *created, const char *created_by, const char *comment,
                         bool empty_layer);

/*
 * A copy of an image config laid out as BuildKit writes it: top-level keys sorted (its
 * exporter re-marshals through a map); `config` fields in the Go struct order User,
 * ExposedPorts, Env, Entrypoint, Cmd, Volumes, WorkingDir, Labels, StopSignal, ArgsEscaped,
 * Healthcheck, OnBuild, Shell with empty values dropped (they are all `omitempty`);
 * ExposedPorts, Volumes and Labels sorted; Healthcheck, rootfs and history entries in their
 * struct order. Unknown keys are kept after the known ones, in their original order. null
 * members are dropped everywhere. Fails when config is not an object.
 */
json_t *oci_config_normalize (const json_t *config, bale_error_t *err);

#endif
