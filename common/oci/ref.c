/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image references (common/oci/ref.h): the one parser of "name[:tag][@digest]". */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/oci/digest.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

void
oci_ref_release (struct oci_ref *r)
{
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  memset (r, 0, sizeof *r);
}

/* distribution/reference's tag grammar: [\w][\w.-]{0,127} */
static bool
valid_tag (const char *t)
{
  size_t i;

  for (i = 0; t[i]; i++)
    if (!isalnum ((unsigned char) t[i]) && t[i] != '_' && (i == 0 || (t[i] != '.' && t[i] != '-')))
      return false;
  return i >= 1 && i <= 128;
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool
valid_component (const char *s, size_t n)
{
  size_t i = 0;

  while (i < n)
    {
      size_t run = 0;

      while (i < n && (islower ((unsigned char) s[i]) || isdigit ((unsigned char) s[i])))
        i++, run++;
      if (run == 0)
        return false;
      if (i == n)
        return true;
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      if (i == n)
        return false;
    }
  return n > 0;
}

static bool
valid_path (const char *p)
{
  while (*p)
    {
      size_t n = strcspn (p, "/");

      if (!valid_component (p, n))
        return false;
      p += n;
      if (*p == '/' && *++p == '\0')
        return false;
    }
  return true;
}

/* host[:port], where host is a name, an IPv4 address or a bracketed IPv6 address. Looser than
   distribution/reference's grammar for host names; registries validate further. */
static bool
valid_domain (const char *d)
{
  const char *port;
  size_t i, n;

  if (*d == '[')
    {
      const char *close = strchr (d, ']');

      if (close == NULL || close == d + 1
          || strspn (d + 1, "0123456789abcdefABCDEF:") != (size_t) (close - d - 1))
        return false;
      port = close + 1;
      if (*port != '\0' && *port != ':')
        return false;
    }
  else
    {
      n = strcspn (d, ":");
      if (n == 0)
        return false;
      for (i = 0; i < n; i++)
        if (!isalnum ((unsigned char) d[i]) && d[i] != '.' && d[i] != '-')
          return false;
      port = d + n;
    }
  if (*port == '\0')
    return true;
  port++;
  return *port != '\0' && strspn (port, "0123456789") == strlen (port);
}

/* Docker's splitDockerDomain: the first component is a registry only if it looks like one. */
static void
split_domain (const char *name, struct oci_ref *r)
{
  const char *slash = strchr (name, '/');
  char *first = slash ? xstrndup (name, (size_t) (slash - name)) : NULL;
  bool is_domain = first
                   && (strpbrk (first, ".:") || strcmp (first, "localhost") == 0
                       || strpbrk (first, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"));

  if (is_domain)
    {
      r->domain = strcmp (first, "index.docker.io") == 0 ? xstrdup ("docker.io") : first;
      if (r->domain != first)
        free (first);
      name = slash + 1;
    }
  else
    {
      free (first);
      r->domain = xstrdup ("docker.io");
    }
  if (strcmp (r->domain, "docker.io") == 0 && !strchr (name, '/'))
    r->path = xasprintf ("library/%s", name);
  else
    r->path = xstrdup (name);
}

int
oci_ref_parse (const char *s, unsigned flags, struct oci_ref *out, bale_error_t *err)
{
  struct oci_ref r = { NULL, NULL, NULL, NULL };
  const char *at = strchr (s, '@');
  cleanup_free char *full = at ? xstrndup (s, (size_t) (at - s)) : xstrdup (s);
  const char *slash = strrchr (full, '/');
  const char *colon = strrchr (slash ? slash : full, ':');
  cleanup_free char *name = colon ? xstrndup (full, (size_t) (colon - full)) : xstrdup (full);

  if (at && !(flags & OCI_REF_DIGEST))
    return bale_make_error (err, EINVAL, "invalid image name '%s': a tag is required, not a digest",
                            s);
  if (at && !digest_is_valid (at + 1))
    return bale_make_error (err, 0, "invalid image reference '%s': bad digest '%s'", s,
                            at + 1);
  r.tag = xstrdup (colon ? colon + 1 : "latest");
  split_domain (name, &r);
  if (!valid_tag (r.tag) || !valid_domain (r.domain) || !valid_path (r.path)
      || strlen (r.domain) + 1 + strlen (r.path) > 255)
    {
      /* Docker's "repository name (library/Foo) must be lowercase" when capitals in the path
         are the fault. */
      bool upper = strpbrk (r.path, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL, fixed = false;
      if (upper && valid_tag (r.tag) && valid_domain (r.domain))
        {
          cleanup_free char *low = xstrdup (r.path);
          for (char *q = low; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
              *q = (char) (*q - 'A' + 'a');
          fixed = valid_path (low);
        }
      oci_ref_release (&r);
      if (fixed)
        return bale_make_error (err, 0, "invalid image name '%s': repository name must be lowercase", full);
      return bale_make_error (err, 0, "invalid image name '%s'", full);
    }
  if (at)
    {
      r.digest = xstrdup (at + 1);
      /* A digest alone names the image; a tag beside it is kept for the name only. */
      if (!colon)
        {
          free (r.tag);
          r.tag = NULL;
        }
    }
  *out = r;
  return 0;
}

char *
oci_ref_full (const struct oci_ref *r)
{
  if (r->tag)
    return xasprintf ("%s/%s:%s", r->domain, r->path, r->tag);
  return xasprintf ("%s/%s@%s", r->domain, r->path, r->digest);
}

char *
oci_ref_familiar_name (const struct oci_ref *r)
{
  const char *p = r->path;

  if (strcmp (r->domain, "docker.io") != 0)
    return xasprintf ("%s/%s", r->domain, r->path);
  if (strncmp (p, "library/", 8) == 0 && !strchr (p + 8, '/'))
    p += 8;
  return xstrdup (p);
}

char *
oci_ref_familiar (const struct oci_ref *r)
{
  cleanup_free char *name = oci_ref_familiar_name (r);

  if (r->tag)
    return xasprintf ("%s:%s", name, r->tag);
  return xasprintf ("%s@%s", name, r->digest);
}
