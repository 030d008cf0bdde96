/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running RUN steps of a foreign platform: the kernel's binfmt_misc handlers (as Debian's
 * qemu-user-static registers them) decide whether this machine can execute a platform's
 * binaries. bale reads the handlers and never registers one unless asked (`bale binfmt
 * --install`), as the issue and tonistiigi/binfmt both insist.
 */
#ifndef BALE_BINFMT_H
#define BALE_BINFMT_H

#include <stdbool.h>

#include "bale.h"
#include "common/oci/platform.h"

/* Where the kernel shows the handlers. */
#define BINFMT_MISC_DIR "/proc/sys/fs/binfmt_misc"
/* Where Debian's qemu-user-static puts its registrations (systemd-binfmt's format). */
#define BINFMT_CONF_DIR BALE_BINFMT_CONF_DIR

enum binfmt_how
{
  BINFMT_NATIVE,   /* the CPU runs it */
  BINFMT_EMULATED, /* a handler runs it */
  BINFMT_NONE,     /* nothing runs it: *err says what to install */
};

struct binfmt_handler
{
  char *name;        /* the entry's name under binfmt_misc ("qemu-aarch64") */
  char *interpreter; /* its interpreter */
  char *flags;       /* its flags ("OPF"), "" when none */
};

/*
 * How this machine (host) executes binaries of platform pl, with the handlers under dir
 * (BINFMT_MISC_DIR). A handler counts when it is enabled, its magic and mask match an ELF
 * executable of pl's architecture and it has the F flag (without it the kernel looks its
 * interpreter up in the RUN step's root, where it is not). For BINFMT_EMULATED *h is filled
 * (release with binfmt_handler_release); for BINFMT_NONE *err names the platform and the
 * Debian package to install. -1 only for a platform bale knows no ELF machine of.
 */
int binfmt_lookup (const char *dir, const struct bale_platform *host, const struct bale_platform *pl,
                   struct binfmt_handler *h, bale_error_t *err);
void binfmt_handler_release (struct binfmt_handler *h);

/* QEMU's name of an architecture ("aarch64" for arm64), NULL when bale does not know it. */
const char *binfmt_qemu_arch (const char *arch);

/*
 * Register the qemu-user-static handler of arch (a GOARCH) from confdir/qemu-<qemu arch>.conf
 * into dir, mounting binfmt_misc on dir first when it is not mounted. Already registered: 0,
 * nothing written. Needs root.
 */
int binfmt_install (const char *dir, const char *confdir, const char *arch, bale_error_t *err);

#endif
