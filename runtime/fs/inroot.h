/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Paths that come from a Dockerfile, a build context, a stage or an image, resolved inside
 * their own root: the one resolver of the runtime (RUN --mount sources and targets, WORKDIR,
 * COPY and ADD, --chown and USER lookups, the sandbox's /etc and /dev set-up, layers).
 *
 * The contract, for a root directory fd and a path:
 *  - the root is "/": the path given is relative to it even when it starts with '/', an
 *    absolute symlink starts again at it, and ".." at the root stays there (a chroot;
 *    INROOT_BENEATH makes these two an error, EXDEV, instead: a context is no filesystem);
 *  - every symlink, at any depth, is resolved by these rules, never by the host: a symlink to
 *    "/", to "../../..", a chain of them, an absolute symlink in the middle of a path all stay
 *    inside; after 40 symlinks in one lookup the answer is ELOOP, as the kernel's;
 *  - /proc magic links (/proc/PID/fd/N, exe, cwd, root, ns/...) are refused with ELOOP;
 *  - the last component is not followed with O_NOFOLLOW (an O_PATH open then returns the
 *    symlink itself, any other ELOOP), and a trailing '/' asks for a directory;
 *  - what comes back is a file descriptor: act on it (fstat, openat, mount it through
 *    /proc/self/fd/N), never on a path string the host would resolve again, so that a swap
 *    of a component for a symlink between check and use cannot lead outside.
 *
 * The kernel does the work where it can: openat2(2) with RESOLVE_IN_ROOT (or RESOLVE_BENEATH)
 * and RESOLVE_NO_MAGICLINKS, retried on EAGAIN (a rename or mount raced with the lookup).
 * Where openat2 is missing (Linux < 5.6: ENOSYS, or EPERM under an old seccomp profile) the
 * same answers come from a walk that opens one component at a time with O_PATH|O_NOFOLLOW,
 * reads each symlink itself and goes back up ".." through the descriptors it already holds,
 * never through the filesystem. Its one weakness, shared with every userspace resolver, is a
 * directory renamed out of the root while the walk holds it; bale never lets an untrusted
 * process run while it resolves image paths.
 */
#ifndef BALE_INROOT_H
#define BALE_INROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "bale.h"
#include "common/strbuf.h"

enum inroot_flags
{
  INROOT_BENEATH = 1 << 0, /* leaving the root is an error (EXDEV), not clamped: contexts */
  INROOT_NOFOLLOW = 1 << 1, /* inroot_mkpath: a last component that is a symlink is returned
                               itself (inroot_open takes O_NOFOLLOW in its flags instead) */
  INROOT_NO_SYMLINKS = 1 << 2, /* any symlink met is ELOOP (RESOLVE_NO_SYMLINKS): walks of a
                                  tree bale listed itself, which must not be redirected */
};

/*
 * Open path (absolute or relative; "" and "/" are the root) below rootfd by the rules above.
 * flags are open(2) flags; O_CLOEXEC is always added; O_CREAT is refused (EINVAL): create
 * with inroot_mkpath or relative to a resolved parent. Returns the fd, or -1 with errno.
 */
int inroot_open (int rootfd, const char *path, int flags, unsigned how);

/* Called for each entry inroot_mkpath creates: parent is its directory (before, its stat from
   before the entry was made, so that its times can be put back), name its name, fd an O_PATH
   descriptor of it. A negative return stops the walk (errno is kept). */
typedef int (*inroot_created_fn) (void *data, int parent, const struct stat *before,
                                  const char *name, int fd);

/*
 * An O_PATH descriptor of path, created where missing: missing components become directories
 * (mode 0755) and the last one a directory when last_dir, else an empty regular file (0644);
 * created may be NULL. Existing components resolve as in inroot_open, so a missing directory
 * behind a symlink is created where the symlink points, inside the root. An existing last
 * component is returned whatever its type (the caller checks it). -1 with errno on failure.
 */
int inroot_mkpath (int rootfd, const char *path, unsigned how, bool last_dir,
                   inroot_created_fn created, void *data);

/* What inroot_mkdirs does with a symlink or another non-directory where it needs a directory:
   INROOT_FOLLOW follows a symlink (anything else is then ENOTDIR), INROOT_REPLACE unlinks it
   and makes a directory in its place; -1 stops the walk (set errno). */
enum inroot_nondir
{
  INROOT_FOLLOW,
  INROOT_REPLACE,
};
typedef int (*inroot_nondir_fn) (void *data, int parent, const char *name, const struct stat *st);

/*
 * mkdir -p of path inside the root, asking nondir about every non-directory on the way: a
 * layer applied over a merged root follows the symlinks of its own layer but replaces those
 * of the layers below, as overlayfs shows an upper directory over a lower symlink. Always the
 * walk, since the kernel would follow every symlink. An O_PATH fd of the directory, or -1
 * with errno.
 */
int inroot_mkdirs (int rootfd, const char *path, inroot_nondir_fn nondir, void *data);

/*
 * Read a small text file of an image (/etc/passwd, /etc/group) into sb: opened inside the
 * root, and refused unless it is a regular file of at most max bytes (a FIFO, a device, a
 * symlink leading out are errors: CVE-2024-9676). A file that does not exist gives 0 and
 * *found false (found may be NULL). Errors name path.
 */
int inroot_read_file (int rootfd, const char *path, size_t max, struct strbuf *sb, bool *found,
                      bale_error_t *err);

/* The message for a failed inroot_open of path (errno errnum) in root_name ("the build
   context", "stage 'base'"): what escaped, was not found, or looped. Returns -1. */
int inroot_error (bale_error_t *err, int errnum, const char *path, const char *root_name);

/* Tests: resolve with the walk even where openat2 exists (true), or choose again (false).
   BALE_INROOT_WALK=1 in the environment does the same for a whole process. */
void inroot_force_walk (bool on);

#endif
