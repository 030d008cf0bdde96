/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Target platforms (os/arch/variant) parsed and normalised as containerd's platforms package does.
 */
#ifndef BALE_PLATFORM_H
#define BALE_PLATFORM_H

#include "bale.h"

/* All strings owned by the struct; variant is NULL when there is none (never ""). */
struct bale_platform
{
  char *os;
  char *arch;
  char *variant;
};

/*
 * Parse "os/arch[/variant]" into *out (which the caller later releases with
 * platform_release) and normalise it. Components must match [A-Za-z0-9_.-]+, as containerd's
 * specifier grammar requires. Fails on an empty component or more than three.
 */
int platform_parse (const char *spec, struct bale_platform *out, bale_error_t *err);

/*
 * Normalise in place like containerd's platforms.Normalize: lowercase everything; os
 * "macos" → "darwin"; arch i386 → 386 (variant dropped), x86_64/x86-64 → amd64 (variant v1
 * dropped), aarch64 → arm64 (variant 8/v8/v8.0 dropped, 9/9.0/v9.0 → v9), armhf → arm/v7,
 * armel → arm/v6, arm with no variant or "7" → v7, arm "5"/"6"/"8" → "v5"/"v6"/"v8".
 */
void platform_normalize (struct bale_platform *p);

/* "os/arch" or "os/arch/variant"; the caller frees it. */
char *platform_format (const struct bale_platform *p);

/* The platform this process runs on, from uname(2), normalised. */
int platform_host (struct bale_platform *out, bale_error_t *err);

/* Free the strings and zero the struct; safe on a zeroed or released struct. */
void platform_release (struct bale_platform *p);

#endif
