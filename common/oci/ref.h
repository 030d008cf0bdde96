/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image references: "name[:tag][@digest]", normalised the way Docker's ParseNormalizedNamed
   does. The one parser of them: tags and names for the store, references to pull and push,
   FROM lines. */
#ifndef BALE_OCI_REF_H
#define BALE_OCI_REF_H

#include "bale.h"

struct oci_ref
{
  char *domain; /* "docker.io" for Docker Hub, "127.0.0.1:5000" */
  char *path;   /* "library/foo" */
  char *tag;    /* "latest" when neither tag nor digest was given; NULL with only a digest */
  char *digest; /* "sha256:…" from "@sha256:…", or NULL */
};

/* oci_ref_parse's flags. */
enum
{
  OCI_REF_DIGEST = 1, /* accept "@digest" (what is fetched; a tag beside it names only) */
};

/*
 * Parse "name[:tag][@digest]". A missing tag means "latest" (unless a digest is given); a
 * digest without OCI_REF_DIGEST, or uppercase in the repository, is rejected, as
 * `docker load` rejects such RepoTags.
 */
int oci_ref_parse (const char *s, unsigned flags, struct oci_ref *out, bale_error_t *err);
/* "docker.io/library/foo:latest", or "…/foo@sha256:…" without a tag. */
char *oci_ref_full (const struct oci_ref *r);
/* "foo" — Docker's FamiliarName. */
char *oci_ref_familiar_name (const struct oci_ref *r);
/* "foo:latest" — Docker's FamiliarString ("foo@sha256:…" without a tag). */
char *oci_ref_familiar (const struct oci_ref *r);
void oci_ref_release (struct oci_ref *r);

#endif
