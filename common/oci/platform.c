/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Platform specifiers: containerd's Parse + Normalize (platforms.go, database.go of the version
   BuildKit vendors), FormatAll, and the host default. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/oci/platform.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* containerd's patterns, quoted in its error messages. */
#define SPECIFIER_RE "^[A-Za-z0-9_.-]+$"
#define OS_RE "^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.%-]*)((?:\\+[A-Za-z0-9_.%-]+)*)\\))?$"

void
platform_release (struct bale_platform *p)
{
  size_t i;

  free (p->os);
  free (p->arch);
  free (p->variant);
  free (p->os_version);
  for (i = 0; i < p->n_os_features; i++)
    free (p->os_features[i]);
  free (p->os_features);
  memset (p, 0, sizeof *p);
}

static char *
dup0 (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

void
platform_copy (struct bale_platform *dst, const struct bale_platform *src)
{
  size_t i;

  dst->os = dup0 (src->os);
  dst->arch = dup0 (src->arch);
  dst->variant = dup0 (src->variant);
  dst->os_version = dup0 (src->os_version);
  dst->n_os_features = src->n_os_features;
  dst->os_features = src->n_os_features ? xcalloc (src->n_os_features, sizeof (char *)) : NULL;
  for (i = 0; i < src->n_os_features; i++)
    dst->os_features[i] = xstrdup (src->os_features[i]);
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

static bool
in_list (const char *s, const char *const *list)
{
  for (; *list; list++)
    if (streq (s, *list))
      return true;
  return false;
}

/* database.go: isKnownOS and isKnownArch (Go's GOOS and GOARCH lists). */
static const char *const known_os[] = { "aix",    "android", "darwin", "dragonfly", "freebsd", "hurd",
                                        "illumos", "ios",    "js",     "linux",     "nacl",    "netbsd",
                                        "openbsd", "plan9",  "solaris", "windows",  "zos",     NULL };
static const char *const known_arch[]
    = { "386",      "amd64",       "amd64p32", "arm",     "armbe",  "arm64",   "arm64be", "ppc64",
        "ppc64le",  "loong64",     "mips",     "mipsle",  "mips64", "mips64le", "mips64p32",
        "mips64p32le", "ppc",      "riscv",    "riscv64", "s390",   "s390x",   "sparc",   "sparc64",
        "wasm",     NULL };

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

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Normalize: slices.Sort then slices.Compact. */
static void
normalize_features (struct bale_platform *p)
{
  size_t i, n = 0;

  if (p->n_os_features == 0)
    return;
  qsort (p->os_features, p->n_os_features, sizeof (char *), compare_strings);
  for (i = 0; i < p->n_os_features; i++)
    if (n > 0 && strcmp (p->os_features[n - 1], p->os_features[i]) == 0)
      free (p->os_features[i]);
    else
      p->os_features[n++] = p->os_features[i];
  p->n_os_features = n;
}

void
platform_normalize (struct bale_platform *p)
{
  lowercase (p->os);
  lowercase (p->arch);
  lowercase (p->variant);
  if (p->variant && *p->variant == '\0')
    set_str (&p->variant, NULL);
  if (p->os_version && *p->os_version == '\0')
    set_str (&p->os_version, NULL);
  if (streq (p->os, "macos"))
    set_str (&p->os, "darwin");
  normalize_features (p);

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

/* ---- parsing -------------------------------------------------------------------------------- */

/* A message in containerd's words: fmt with each %Q replaced by the Go-quoted next string. */
static int
platform_error (bale_error_t *err, const char *fmt, const char *a, const char *b, const char *c)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  const char *args[3] = { a, b, c };
  int n = 0;

  for (; *fmt; fmt++)
    if (fmt[0] == '%' && fmt[1] == 'Q' && n < 3)
      {
        strbuf_add_goquote (&sb, args[n], strlen (args[n]));
        n++;
        fmt++;
      }
    else if (fmt[0] == '%' && fmt[1] == 'S' && n < 3)
      {
        strbuf_addstr (&sb, args[n++]);
        fmt++;
      }
    else
      strbuf_addch (&sb, *fmt);
  return bale_make_error (err, 0, "%s", sb.buf);
}

static bool
span_of (const char *s, size_t n, const char *extra)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (!isalnum ((unsigned char) s[i]) && !strchr (extra, s[i]))
      return false;
  return true;
}

static int
hexval (int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = tolower (c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * decodeOSOption: url.PathUnescape when the value holds a '%'. On a bad escape, *bad gets the
 * escape as Go's EscapeError quotes it (at most three bytes). A decoded NUL cannot live in a C
 * string, so it is refused the same way.
 */
static char *
decode_option (const char *s, size_t n, char **bad)
{
  char *out = xmalloc (n + 1);
  size_t i, o = 0;

  for (i = 0; i < n; i++)
    {
      int hi, lo;

      if (s[i] != '%')
        {
          out[o++] = s[i];
          continue;
        }
      hi = i + 2 < n ? hexval ((unsigned char) s[i + 1]) : -1;
      lo = i + 2 < n ? hexval ((unsigned char) s[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        {
          *bad = xstrndup (s + i, n - i < 3 ? n - i : 3);
          free (out);
          return NULL;
        }
      out[o++] = (char) (hi * 16 + lo);
      i += 2;
    }
  out[o] = '\0';
  return out;
}

/* The features after "(version": "+a+b" (parseOSFeatures of its tail). */
static int
parse_features (const char *spec, const char *s, size_t n, struct bale_platform *p, bale_error_t *err)
{
  size_t i = 1;

  while (i < n)
    {
      size_t len = strcspn (s + i, "+)");
      cleanup_free char *bad = NULL, *raw = xstrndup (s + i, len);
      char *f = decode_option (s + i, len, &bad);

      if (f == NULL)
        {
          cleanup_strbuf struct strbuf q = STRBUF_INIT;

          strbuf_add_goquote (&q, bad, strlen (bad));
          return platform_error (err, "%Q has invalid OS features: invalid os feature %Q: invalid URL escape %S",
                                 spec, raw, q.buf);
        }
      p->os_features = xrealloc (p->os_features, (p->n_os_features + 1) * sizeof (char *));
      p->os_features[p->n_os_features++] = f;
      i += len + 1;
    }
  return 0;
}

/* The first component, os[(version[+feature]...)], matched against containerd's osRe. */
static int
parse_os (const char *spec, const char *part, size_t n, struct bale_platform *p, bale_error_t *err)
{
  size_t name = strspn (part, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
  size_t vlen = 0, flen = 0;
  bool ok = name > 0 && name <= n;

  if (ok && name < n)
    {
      const char *v = part + name + 1, *f;

      ok = part[name] == '(' && part[n - 1] == ')' && n >= name + 2;
      if (ok)
        {
          vlen = strspn (v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.%-");
          f = v + vlen;
          flen = (size_t) (part + n - 1 - f);
          ok = vlen <= n - name - 2 && span_of (f, flen, "_.%-+") && (flen == 0 || f[0] == '+');
          /* each feature non-empty: no "++" and no trailing '+' */
          ok = ok && (flen == 0 || (f[flen - 1] != '+' && !memmem (f, flen, "++", 2)));
        }
    }
  if (!ok)
    {
      cleanup_free char *q = xstrndup (part, n);
      return platform_error (err,
                             "%Q is an invalid OS component of %Q: OSAndVersion specifier component must "
                             "match %Q: invalid argument",
                             q, spec, OS_RE);
    }
  p->os = xstrndup (part, name);
  if (name < n)
    {
      cleanup_free char *bad = NULL;
      const char *v = part + name + 1;

      p->os_version = decode_option (v, vlen, &bad);
      if (p->os_version == NULL)
        {
          cleanup_strbuf struct strbuf q = STRBUF_INIT;
          cleanup_free char *raw = xstrndup (v, vlen);

          strbuf_add_goquote (&q, bad, strlen (bad));
          return platform_error (err, "%Q has an invalid OS version %Q: invalid URL escape %S", spec, raw,
                                 q.buf);
        }
      if (flen && parse_features (spec, v + vlen, flen, p, err) < 0)
        return -1;
    }
  return 0;
}

/* Parse + Normalize of containerd; see platform.h. */
static int
parse (const char *spec, struct bale_platform *p, bale_error_t *err)
{
  const char *parts[4];
  size_t lens[4], n = 0, i;
  const char *s = spec;

  if (strchr (spec, '*'))
    return platform_error (err, "%Q: wildcards not yet supported: invalid argument", spec, NULL, NULL);
  /* strings.SplitN(specifier, "/", 4) */
  for (;;)
    {
      size_t len = n == 3 ? strlen (s) : strcspn (s, "/");

      parts[n] = s;
      lens[n++] = len;
      if (s[len] == '\0')
        break;
      s += len + 1;
    }
  for (i = 0; i < n; i++)
    if (i == 0)
      {
        if (parse_os (spec, parts[0], lens[0], p, err) < 0)
          return -1;
      }
    else if (lens[i] == 0 || !span_of (parts[i], lens[i], "_.-"))
      {
        cleanup_free char *q = xstrndup (parts[i], lens[i]);
        return platform_error (err,
                               "%Q is an invalid component of %Q: platform specifier component must match "
                               "%Q: invalid argument",
                               q, spec, SPECIFIER_RE);
      }
  if (n == 4)
    return platform_error (err, "%Q: cannot parse platform specifier: invalid argument", spec, NULL, NULL);
  if (n == 1)
    {
      struct bale_platform host = { 0 };

      platform_normalize (p);
      if (in_list (p->os, known_os))
        {
          /* a bare OS: the architecture (and arm variant) this runs on */
          if (platform_host (&host, err) < 0)
            return -1;
          p->arch = host.arch;
          p->variant = host.variant;
          host.arch = host.variant = NULL;
          platform_release (&host);
          return 0;
        }
      /* a bare architecture, normalised, on the OS this runs on */
      set_str (&p->os, "linux");
      set_str (&p->os_version, NULL);
      p->arch = xstrndup (parts[0], lens[0]);
      platform_normalize (p);
      if (!in_list (p->arch, known_arch))
        return platform_error (err, "%Q: unknown operating system or architecture: invalid argument", spec, NULL,
                               NULL);
      return 0;
    }
  p->arch = xstrndup (parts[1], lens[1]);
  if (n == 3)
    p->variant = xstrndup (parts[2], lens[2]);
  platform_normalize (p);
  return 0;
}

int
platform_parse (const char *spec, struct bale_platform *out, bale_error_t *err)
{
  struct bale_platform p = { 0 };

  if (parse (spec, &p, err) < 0)
    {
      platform_release (&p);
      return -1;
    }
  *out = p;
  return 0;
}

/* ---- formatting ----------------------------------------------------------------------------- */

/* encodeOSOption: the characters that would end or split an OS option. */
static void
add_encoded (struct strbuf *sb, const char *s)
{
  for (; *s; s++)
    switch (*s)
      {
      case '%': strbuf_addstr (sb, "%25"); break;
      case '+': strbuf_addstr (sb, "%2B"); break;
      case '(': strbuf_addstr (sb, "%28"); break;
      case ')': strbuf_addstr (sb, "%29"); break;
      case '/': strbuf_addstr (sb, "%2F"); break;
      default: strbuf_addch (sb, *s);
      }
}

char *
platform_format (const struct bale_platform *p)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  strbuf_addstr (&sb, p->os);
  if ((p->os_version && *p->os_version) || p->n_os_features)
    {
      strbuf_addch (&sb, '(');
      if (p->os_version)
        add_encoded (&sb, p->os_version);
      for (i = 0; i < p->n_os_features; i++)
        if (*p->os_features[i] && (i == 0 || strcmp (p->os_features[i - 1], p->os_features[i]) != 0))
          {
            strbuf_addch (&sb, '+');
            add_encoded (&sb, p->os_features[i]);
          }
      strbuf_addch (&sb, ')');
    }
  strbuf_addf (&sb, "/%s", p->arch);
  if (p->variant)
    strbuf_addf (&sb, "/%s", p->variant);
  return strbuf_detach (&sb, NULL);
}

/* ---- the host ------------------------------------------------------------------------------- */

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
  struct bale_platform p = { 0 };
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
