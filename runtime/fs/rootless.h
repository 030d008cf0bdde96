/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bale without root: the user namespace the whole process enters, and what it changes. */
#ifndef BALE_ROOTLESS_H
#define BALE_ROOTLESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bale.h"

/*
 * An ordinary user's bale enters a user namespace of its own as the very first thing it does
 * (before any thread, file or store exists), in the same process, so that every later step
 * (unpacking base layers with their owners, RUN, COPY --chown, the store's garbage
 * collection) runs as root of that namespace and real chown(2) calls work. This is what
 * `buildah unshare` and RootlessKit do, without the re-exec: bale has no runtime that starts
 * threads before main().
 *
 * Two mappings exist:
 *  - ROOTLESS_SUBIDS: namespace id 0 is the user, ids 1.. are the user's ranges from
 *    /etc/subuid and /etc/subgid (written by the setuid newuidmap/newgidmap of Debian's
 *    uidmap package, in that order of ranges);
 *  - ROOTLESS_ONE_ID: only id 0 (the user) exists; owners other than root cannot be given
 *    to files, so they are recorded instead (see docs/rootless.md).
 *
 * The mode is kept in the environment variable _BALE_ROOTLESS, so bale processes started
 * inside the namespace (none today) know it too.
 */
enum rootless_mode
{
  ROOTLESS_NONE = 0, /* real root, or already root of some user namespace */
  ROOTLESS_SUBIDS,
  ROOTLESS_ONE_ID,
};

/* One mapped range: namespace ids [inside, inside + count) are host ids [outside, ...). */
struct rootless_range
{
  unsigned long inside, outside, count;
};

#define ROOTLESS_MAX_RANGES 32

/*
 * Enter the namespace when the caller is not root (geteuid () != 0) and has not entered it
 * yet; a no-op otherwise. Must be called while the process is single-threaded.
 * BALE_ROOTLESS=one-id in the environment skips the subordinate ranges (for tests, and for
 * hosts whose newuidmap is broken). Fails with a message that names the fix.
 */
int rootless_enter (bale_error_t *err);
/* The same; with probe, subordinate ranges that newuidmap/newgidmap cannot map here (tried on
   a throwaway child first) give one-id mode instead of an error, and the mode line says why. */
int rootless_enter_probing (bool probe, bale_error_t *err);

/* The mode this process runs in. */
enum rootless_mode rootless_mode (void);

/* The name of the user who started bale, for messages ("USER" when unknown). */
const char *rootless_user (void);

/* The line a build prints first: "rootless: subordinate ids 100000-165535" or
   "rootless: one id, ownership recorded"; NULL for ROOTLESS_NONE. Static storage. */
const char *rootless_describe (void);

/*
 * True when this process is in a user namespace other than the initial one (bale's own, or
 * a container's such as rootless podman's): overlayfs must then be mounted with `userxattr`
 * and keeps its opaque markers in user.overlay.* (trusted.* needs CAP_SYS_ADMIN in the
 * initial namespace). Read once from /proc/self/uid_map.
 */
bool rootless_userns (void);

/* Whether id (a group id with group) exists in this process's user namespace: a line of
   /proc/self/uid_map or gid_map covers it. An id the namespace does not map cannot be given
   to a file (chown fails with EINVAL). */
bool rootless_id_mapped (bool group, uint32_t id);
/* Whether the text of a uid_map or gid_map ("INSIDE OUTSIDE COUNT" lines) covers id. Exposed
   for the unit test. */
bool rootless_map_covers (const char *map, uint32_t id);

/* The xattr that marks an opaque directory for the overlays this process mounts. */
const char *rootless_opaque_xattr (void);

/*
 * Parse the subordinate-id file text for user (name) or uid, appending up to max ranges
 * (inside ids start at 1 and follow each other). Returns how many were found. Exposed for
 * the unit test.
 */
size_t rootless_parse_subids (const char *text, const char *user, uid_t uid,
                              struct rootless_range *out, size_t max);

#endif
