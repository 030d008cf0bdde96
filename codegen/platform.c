/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Platform specifiers: parsing, containerd-compatible normalisation, formatting, host default. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "codegen/platform.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

void
platform_release (struct bale_platform *p)
{
  free (p->os);
  free (p->arch);
  free (p->variant);
  p->os = p->arch = p->variant = NULL;
}

static void
lowercase (char *s)
{
  for (; s && *s; s++)
    *s = (char) tolower ((unsigned char) *s);
}

static bool
streq (const char *a, const char *b)
{
  return a && strcmp (a, b) == 0;
}

static void
set_str (char **dst, const char *value)
{
  free (*dst);
  *dst = value ? xstrdup (value) : NULL;
}

/* The arm64 part of containerd's normalizeArch. */
static void
normalize_arm64 (struct bale_platform *p)
{
  set_str (&p->arch, "arm64");
  if (streq (p->variant, "8") || streq (p->variant, "v8") || streq (p->variant, "v8.0"))
    set_str (&p->variant, NULL);
  else if (streq (p->variant, "9") || streq (p->variant, "9.0") || streq (p->variant, "v9.0"))
    set_str (&p->variant, "v9");
}

static void
normalize_arm (struct bale_platform *p)
{
  if (p->variant == NULL || streq (p->variant, "7"))
    set_str (&p->variant, "v7");
  else if (streq (p->variant, "5") || streq (p->variant, "6") || streq (p->variant, "8"))
    {
      char *v = xasprintf ("v%s", p->variant);

      free (p->variant);
      p->variant = v;
    }
}

void
platform_normalize (struct bale_platform *p)
{
  lowercase (p->os);
  lowercase (p->arch);
  lowercase (p->variant);
  if (p->variant && *p->variant == '\0')
    set_str (&p->variant, NULL);
  if (streq (p->os, "macos"))
    set_str (&p->os, "darwin");

  if (streq (p->arch, "i386"))
    {
      set_str (&p->arch, "386");
      set_str (&p->variant, NULL);
    }
  else if (streq (p->arch, "x86_64") || streq (p->arch, "x86-64") || streq (p->arch, "amd64"))
    {
      set_str (&p->arch, "amd64");
      if (streq (p->variant, "v1"))
        set_str (&p->variant, NULL);
    }
  else if (streq (p->arch, "aarch64") || streq (p->arch, "arm64"))
    normalize_arm64 (p);
  else if (streq (p->arch, "armhf") || streq (p->arch, "armel"))
    {
      set_str (&p->variant, p->arch[3] == 'h' ? "v7" : "v6");
      set_str (&p->arch, "arm");
    }
  else if (streq (p->arch, "arm"))
    normalize_arm (p);
}

static bool
valid_component (const char *s, size_t n)
{
  size_t i;

  if (n == 0)
    return false;
  for (i = 0; i < n; i++)
    if (!isalnum ((unsigned char) s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

int
platform_parse (const char *spec, struct bale_platform *out, bale_error_t *err)
{
  struct bale_platform p = { NULL, NULL, NULL };
  char **slots[3] = { &p.os, &p.arch, &p.variant };
  const char *s = spec;
  bool ok = true;
  int i;

  for (i = 0; i < 3 && ok; i++)
    {
      size_t n = strcspn (s, "/");

      ok = valid_component (s, n);
      if (ok)
        *slots[i] = xstrndup (s, n);
      s += n;
      if (*s == '\0')
        break;
      s++;
    }
  /* A bad or empty component, a fourth one, or no architecture. */
  if (!ok || *s != '\0' || p.arch == NULL)
    {
      platform_release (&p);
      return bale_make_error (err, EINVAL, "invalid platform '%s': expected 'os/arch[/variant]'",
                              spec);
    }
  platform_normalize (&p);
  *out = p;
  return 0;
}

char *
platform_format (const struct bale_platform *p)
{
  if (p->variant)
    return xasprintf ("%s/%s/%s", p->os, p->arch, p->variant);
  return xasprintf ("%s/%s", p->os, p->arch);
}

/* uname machine names that normalisation alone does not map onto a GOARCH (and variant). */
static const struct
{
  const char *machine, *arch, *variant;
} machines[] = {
  { "i486", "386", NULL },      { "i586", "386", NULL },     { "i686", "386", NULL },
  { "armv5l", "arm", "v5" },    { "armv5tel", "arm", "v5" }, { "armv6l", "arm", "v6" },
  { "armv7l", "arm", "v7" },    { "armv8l", "arm", "v8" },   { "ppc", "ppc", NULL },
  { "mips64", "mips64", NULL },
};

int
platform_host (struct bale_platform *out, bale_error_t *err)
{
  struct bale_platform p = { NULL, NULL, NULL };
  struct utsname u;
  size_t i;

  if (uname (&u) < 0)
    return bale_make_error (err, errno, "cannot get the host platform");
  p.os = xstrdup (u.sysname);
  p.arch = xstrdup (u.machine);
  for (i = 0; i < sizeof machines / sizeof machines[0]; i++)
    if (strcmp (u.machine, machines[i].machine) == 0)
      {
        set_str (&p.arch, machines[i].arch);
        set_str (&p.variant, machines[i].variant);
      }
  platform_normalize (&p);
  *out = p;
  return 0;
}
