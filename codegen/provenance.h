/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build provenance of an image's ENTRYPOINT and CMD: which Dockerfile line set each, what a
 * base image contributed, and what an ENTRYPOINT dropped. bale keeps it in its store beside
 * the image, never in the image, so images stay identical to Docker's; `bale explain` reads
 * it back.
 *
 * The record, a JSON object:
 *   { "dockerfile": PATH, "target": STAGE, "base": IMAGE|null,
 *     "entrypoint": ORIGIN|null, "cmd": ORIGIN|null,
 *     "cmd_dropped": { "value": [..], "origin": ORIGIN, "by": ORIGIN }   (optional)
 *     "multiple": [ { "instruction": "CMD", "stage": S, "lines": [N, ...] } ] }
 * where ORIGIN is { "line": N, "stage": S, "form": "exec"|"shell", "text": "CMD [..]",
 * "onbuild": true (optional) } for a Dockerfile instruction, or { "image": NAME } for a
 * value inherited from a base image.
 */
#ifndef BALE_PROVENANCE_H
#define BALE_PROVENANCE_H

#include <jansson.h>

#include "codegen/plan.h"

json_t *provenance_from_plan (const struct plan *p);

#endif
