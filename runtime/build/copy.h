/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COPY and ADD as a layer: the files a step copies, written straight into a layer tar, each
 * source file read once. The caller provides views of the source (the build context or a
 * stage's filesystem) and of the destination stage, and a layer writer.
 */
#ifndef BALE_COPY_H
#define BALE_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "bale.h"
#include "runtime/build/copy_resolve.h"
#include "runtime/layer/layer.h"

struct copy_heredoc
{
  const char *name; /* the source word is "<<name" */
  const char *data;
  size_t len;
};

struct copy_spec
{
  int src_fd;                /* the source root */
  enum copy_root_kind src_kind;
  const struct ignore_matcher *ignore; /* the context's .dockerignore, or NULL */
  const struct ignore_matcher *exclude; /* --exclude: matched below each source, or NULL */
  int dest_fd;               /* the destination stage's filesystem; -1 when empty */
  char *const *sources;      /* after expansion; "<<NAME" names a heredoc */
  size_t n_sources;
  const struct copy_heredoc *heredocs;
  size_t n_heredocs;
  const char *dest;          /* absolute, trailing slash kept */
  bool keep_owner;           /* COPY --from: owners as in the source */
  /* With keep_owner: the source's layer snapshots (top first) under the view src_fd opens
     at src_path, where one id's owners of symbolic links and FIFOs are found (the table of
     runtime/fs/owners.h knows the snapshots' inodes, not the view's); 0 layers: none. */
  const char *const *src_layers;
  size_t n_src_layers;
  const char *src_path;
  bool chown_set;            /* --chown, resolved */
  uid_t uid;
  gid_t gid;
  bool chmod_set;            /* --chmod */
  mode_t mode;
  const struct copy_mode *chmod_sym; /* --chmod in symbolic form (then mode is unused) */
  bool unpack;               /* ADD: extract local tar archives (compressed or not) */
  bool parents;              /* COPY --parents: each source keeps its path (after a "/./") */
  bool fifos;                /* an ADDed archive's entries: FIFOs copied (else left out, F28),
                                entries replace what is there (else a type clash fails, F29) */
  const char *tmpdir;        /* scratch space for ADD archive extraction */
  time_t now;                /* mtime of created directories and heredoc files */
  /* For the build cache: the first source file found written at or after written_since
     (copy_written_since) once copied is named in written[0..written_size), which the caller
     empties first; written NULL: not checked. */
  struct timespec written_since;
  char *written;
  size_t written_size;
};

/* Add every entry the copy produces to w, parents first, in the writer's order. Errors name
   the source. */
int copy_to_layer (const struct copy_spec *spec, struct layer_writer *w, bale_error_t *err);

/*
 * --chown "user[:group]" resolved as BuildKit does against the destination's /etc/passwd and
 * /etc/group (dest_fd may be -1): numbers as they are, "root" is 0, a user alone gets its
 * primary group, "user:" gets group 0. As BuildKit's readUser, an unknown user name (or no
 * /etc/passwd) is 0:0 and an unknown group name leaves the user's group; a database that
 * cannot be read safely is an error.
 */
int copy_resolve_chown (int dest_fd, const char *spec, uid_t *uid, gid_t *gid, bale_error_t *err);

/* --chmod: an octal mode up to 07777. */
int copy_parse_chmod (const char *spec, mode_t *mode, bale_error_t *err);



/* WORKDIR: a layer holding path (absolute) and its parents, as `mkdir -p` in the
   destination would leave them: existing directories as they are, new ones 0755 with mtime
   now, owned by uid:gid when chown (the stage has a USER), else root's with the group of a
   setgid parent, as the kernel gives it (FINDINGS F73); empty when nothing is made. */
int copy_mkdir_layer (int dest_fd, const char *path, bool chown, uid_t uid, gid_t gid, time_t now,
                      struct layer_writer *w, bale_error_t *err);
#endif
