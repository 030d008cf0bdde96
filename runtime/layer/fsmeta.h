/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flattened file table of an image: what each path holds once every layer is applied. */
#ifndef BALE_FSMETA_H
#define BALE_FSMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bale.h"
#include "common/oci/digest.h"

/*
 * One path of the flattened file system, as `bale diff` compares it. Only metadata is kept:
 * a regular file's data is hashed while the layer streams past, never stored.
 */
struct fsmeta_file
{
  char *path;     /* absolute and normalised: "/", "/etc/passwd" */
  char type;      /* '-' file, 'd' directory, 'l' symlink, 'c'/'b' device, 'p' FIFO */
  unsigned mode;  /* permission bits, setuid/setgid/sticky included */
  int64_t uid, gid;
  int64_t mtime;  /* seconds */
  long mtime_ns;  /* PAX headers may carry nanoseconds */
  char digest[DIGEST_STRLEN + 1]; /* regular files: sha256 of the data; "" otherwise */
  char *symlink;  /* symlinks: the target as written; NULL otherwise */
  char *hardlink; /* a hard link: the path it was linked to in its layer; NULL otherwise */
  unsigned rdev_major, rdev_minor;
  json_t *xattrs; /* {"name": "hex value"}; NULL when the entry has none */
  unsigned layer; /* the layer that last wrote the path (0-based) */
  bool gone;      /* whited out: the slot stays so that a later layer can reuse it */
};

struct fsmeta;

struct fsmeta *fsmeta_new (void);
/* Free the table and every file in it. Accepts NULL. */
void fsmeta_free (struct fsmeta *fs);

/*
 * Apply the next layer, read from fd (gzip, zstd or plain tar), on top of what the table
 * holds, with the OCI layer rules: `.wh.NAME` deletes NAME (and what is below it) of the
 * layers below, `.wh..wh..opq` hides everything the layers below hold in its directory, a
 * non-directory replacing a directory hides that directory's lower contents, and a hard link
 * takes the attributes of the file it names. Whiteouts never hide what their own layer adds
 * (OCI image-spec layer.md). name describes the layer in errors.
 */
int fsmeta_apply_layer (struct fsmeta *fs, int fd, const char *name, bale_error_t *err);

/* The files present (not whited out), sorted by path with strcmp. The caller frees the
   array; the files belong to the table. */
const struct fsmeta_file **fsmeta_sorted (const struct fsmeta *fs, size_t *n);

#endif
