/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Choosing an image for a platform from an index, as containerd's platforms.Only() does. */
#ifndef BALE_PLATMATCH_H
#define BALE_PLATMATCH_H

#include <jansson.h>

#include "common/oci/platform.h"

/*
 * How well `have` serves `want` (both normalised first, so "linux/aarch64" equals
 * "linux/arm64"): 0 for an exact match, a larger number for each step down containerd's
 * fallback list (amd64/vN → … → amd64 → 386; arm/vN → arm/vN-1 … v5; arm64 → arm/v8 … v5),
 * -1 when it cannot run the image at all. The os must be equal.
 */
int platmatch_rank (const struct bale_platform *want, const struct bale_platform *have);

/*
 * The position in the index's manifests[] of the entry that best serves want: the lowest
 * rank, the first one among equals (image-spec). Entries without a platform, and the
 * unknown/unknown entries BuildKit adds for attestations, are skipped. -1 when none fits.
 */
int platmatch_select (const json_t *index, const struct bale_platform *want);

#endif
