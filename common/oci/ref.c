/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image references with a digest (common/oci/ref.h). */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/oci/digest.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

int
registry_ref_parse (const char *s, struct registry_ref *out, bale_error_t *err)
{
  const char *at = strchr (s, '@');
  cleanup_free char *name = at ? xstrndup (s, (size_t) (at - s)) : xstrdup (s);
  const char *slash = strrchr (name, '/');
  bool has_tag = strchr (slash ? slash : name, ':') != NULL;
  struct oci_ref r;

  if (at && !digest_is_valid (at + 1))
    return bale_make_error (err, 0, "invalid image reference '%s': bad digest '%s'", s,
                            at + 1);
  if (oci_ref_parse (name, &r, err) < 0)
    return -1;
  out->domain = r.domain;
  out->path = r.path;
  out->tag = r.tag;
  out->digest = at ? xstrdup (at + 1) : NULL;
  if (at && !has_tag)
    {
      free (out->tag);
      out->tag = NULL;
    }
  return 0;
}

void
registry_ref_release (struct registry_ref *r)
{
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  memset (r, 0, sizeof *r);
}

char *
registry_ref_string (const struct registry_ref *r)
{
  if (r->tag)
    return xasprintf ("%s/%s:%s", r->domain, r->path, r->tag);
  return xasprintf ("%s/%s@%s", r->domain, r->path, r->digest);
}
