/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Target platforms parsed, normalised and formatted as containerd's platforms package does
   (the version BuildKit vendors: Parse, Normalize, FormatAll). */
#ifndef BALE_PLATFORM_H
#define BALE_PLATFORM_H

#include <stddef.h>

#include "bale.h"

/* All strings owned by the struct; variant and os_version are NULL when there is none (never
   ""). os_features is sorted and without duplicates once normalised. */
struct bale_platform
{
  char *os;
  char *arch;
  char *variant;
  char *os_version;
  char **os_features;
  size_t n_os_features;
};

/*
 * Parse one platform specifier into *out (which the caller later releases with
 * platform_release), as containerd's platforms.Parse followed by platforms.Normalize:
 *   os[(osversion[+feature]...)][/arch[/variant]] or a bare architecture;
 * a bare known OS takes the host's architecture, a bare known architecture the OS "linux";
 * names are case-insensitive and normalised (x86_64 -> amd64, aarch64 -> arm64, armhf ->
 * arm/v7, arm -> arm/v7, arm64/v8 -> arm64, ...). Errors are worded as containerd's, e.g.
 * "\"foo\": unknown operating system or architecture: invalid argument".
 */
int platform_parse (const char *spec, struct bale_platform *out, bale_error_t *err);

/*
 * Normalise in place like containerd's platforms.Normalize: lowercase os, arch and variant;
 * os "macos" -> "darwin"; arch i386 -> 386 (variant dropped), x86_64/x86-64 -> amd64 (variant
 * v1 dropped), aarch64 -> arm64 (variant 8/v8/v8.0 dropped, 9/9.0/v9.0 -> v9), armhf ->
 * arm/v7, armel -> arm/v6, arm with no variant or "7" -> v7, arm "5"/"6"/"8" -> "v5"/"v6"/"v8";
 * os features sorted and deduplicated.
 */
void platform_normalize (struct bale_platform *p);

/* containerd's FormatAll: "os[(version[+features])]/arch[/variant]", the version and features
   percent-encoded; the caller frees it. */
char *platform_format (const struct bale_platform *p);

/* The platform this process runs on, from uname(2), normalised. */
int platform_host (struct bale_platform *out, bale_error_t *err);

/* A deep copy of src into *dst (whose previous contents are not released). */
void platform_copy (struct bale_platform *dst, const struct bale_platform *src);

/* Free the strings and zero the struct; safe on a zeroed or released struct. */
void platform_release (struct bale_platform *p);

#endif
