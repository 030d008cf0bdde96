/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image references with a digest: "name[:tag][@digest]", normalised as Docker does. The name
   part is common/oci/oci.h's oci_ref_parse; this adds the digest that pulls, pushes and the
   build checks accept. */
#ifndef BALE_OCI_REF_H
#define BALE_OCI_REF_H

#include "bale.h"

/* A parsed image reference with Docker's normalisation. */
struct registry_ref
{
  char *domain; /* "docker.io", "127.0.0.1:5000" */
  char *path;   /* "library/busybox" */
  char *tag;    /* "latest" when neither tag nor digest was given; NULL with only a digest */
  char *digest; /* "sha256:…" from "@sha256:…", or NULL */
};

/* Parse "name[:tag][@digest]". A digest, when given, is what is fetched (the tag is kept for
   the name only). */
int registry_ref_parse (const char *s, struct registry_ref *out, bale_error_t *err);
void registry_ref_release (struct registry_ref *r);
/* "docker.io/library/busybox:latest", or "…/busybox@sha256:…" without a tag. */
char *registry_ref_string (const struct registry_ref *r);

#endif
