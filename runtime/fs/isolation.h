/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How RUN steps are isolated: namespaces (as root, or rootless), or chroot where none exist. */
#ifndef BALE_ISOLATION_H
#define BALE_ISOLATION_H

#include <stdbool.h>

#include "bale.h"

/*
 * `bale build --isolation=auto|namespace|chroot` (buildah's names; BALE_ISOLATION in the
 * environment is the default of the flag):
 *  - namespace: every RUN step gets new mount, PID, UTS and IPC namespaces on an overlay (the
 *    sandbox of runtime/sandbox); an ordinary user first enters a user namespace
 *    (runtime/fs/rootless.h).
 *  - chroot: for containers that forbid namespaces and mounts (Docker's default seccomp
 *    profile refuses unshare and mount without CAP_SYS_ADMIN, its AppArmor profile refuses
 *    mount): no namespace, no mount. Each step runs chrooted in a copied root filesystem, with
 *    Docker's capabilities minus CAP_SYS_CHROOT, Docker's seccomp profile under no_new_privs,
 *    and the layer is found by comparing the copy with its index. Needs root (CAP_SYS_CHROOT,
 *    CAP_CHOWN, CAP_MKNOD): the container's root, never an ordinary user.
 *  - auto: namespace when it works here, else chroot; an ordinary user falls back from
 *    subordinate ids to one id when newuidmap cannot map them.
 * The choice is kept in the environment (_BALE_ISOLATION) and said in one line at the start
 * of a build (isolation_describe).
 */
enum isolation
{
  ISOLATION_AUTO = 0,
  ISOLATION_NAMESPACE,
  ISOLATION_CHROOT,
};

/* "auto", "namespace" or "chroot" (also "rootless", buildah's name for the namespace mode of
   an ordinary user, and "oci"). */
int isolation_parse (const char *text, enum isolation *out, bale_error_t *err);

/* Enter the isolation wanted, probing for auto. Must be called while the process is
   single-threaded, before any store is opened. Fails with a message that names the fix. */
int isolation_enter (enum isolation want, bale_error_t *err);

/* RUN steps of this process run chrooted, without namespaces. */
bool isolation_chroot (void);

/* The line that heads a build: the rootless mode, or the chroot isolation and why it was
   chosen; NULL for root with namespaces (nothing to say). Static storage. */
const char *isolation_describe (void);

#endif
