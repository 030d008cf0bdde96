/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale build -o`: buildx's output specs (several at once), and the image amendments that
   go with them (--label, --annotation). */
#ifndef BALE_RT_BUILDOUTPUT_H
#define BALE_RT_BUILDOUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "bale.h"

enum output_type
{
  OUT_LOCAL,          /* the final stage's files into a directory */
  OUT_TAR,            /* the same files as a tar (dest "-": stdout) */
  OUT_OCI,            /* an OCI layout directory */
  OUT_OCI_ARCHIVE,    /* an OCI layout as a tar */
  OUT_DOCKER_ARCHIVE, /* a docker-archive (docker load) */
  OUT_REGISTRY,       /* pushed to dest, a reference */
  OUT_STORE,          /* the store only (type=docker or type=image without a dest, --load) */
};

struct build_output
{
  enum output_type type;
  char *dest; /* file, directory, "-" or reference; NULL for OUT_STORE */
  /* type=local,privileged-files=true: device nodes, set-id bits and file capabilities are
     written as the image has them (BuildKit's local exporter as root); by default they are
     left out with a warning each (layer_extract_opts.strip). */
  bool privileged_files;
};

struct build_outputs
{
  struct build_output *v;
  size_t n, alloc;
};

/* Parse one -o value (CSV as buildx reads it: "type=local,dest=out", or the shorthands "DIR"
   and "-") and append it. */
int buildoutput_parse (struct build_outputs *o, const char *spec, bale_error_t *err);
/* After every -o: at most one output on stdout, and never a terminal. */
int buildoutput_check (const struct build_outputs *o, bale_error_t *err);
/* Whether an output writes to stdout (the image ID is then not printed there). */
bool buildoutput_stdout (const struct build_outputs *o);
void buildoutput_release (struct build_outputs *o);

struct exec_image;
struct store;
struct progress_vertex;
struct build_say;
/* local and tar: the image's layers applied in order (whiteouts included) into dest, or
   into a scratch directory of the store written out as one tar; their bytes are statuses of
   v (BuildKit's "copying files", then "sending tarball" for tar). What local leaves out (see
   privileged_files) is said as warnings through say. */
int buildoutput_write_fs (struct store *s, const struct exec_image *img,
                          const struct build_output *out, struct progress_vertex *v,
                          const struct build_say *say, bale_error_t *err);

/* --label K=V: set in the config's Labels (the config and manifest digests change). */
int buildoutput_labels (struct exec_image *img, const char *const *labels, size_t n,
                        bale_error_t *err);
/* --annotation [TYPE[,TYPE]:]K=V, TYPE manifest (the default) or index: the manifest ones set
   in img's manifest; an index one is an error unless multi (a multi-platform build). */
int buildoutput_annotations (struct exec_image *img, const char *const *annotations, size_t n,
                             bool multi, bale_error_t *err);
/* The index ones, as a JSON object for the image index (*out NULL when there are none). */
int buildoutput_index_annotations (const char *const *annotations, size_t n, json_t **out,
                                   bale_error_t *err);

#endif
