/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Docker's syntax for the sandbox options of `bale build`: --ulimit, --add-host, --shm-size. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/error.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "runtime/sandbox/sandbox.h"
#include "common/banned.h"

/* go-units' ulimitNameMapping ("as" is left out there too). */
static const struct
{
  const char *name;
  int resource;
} ulimit_names[] = {
  { "core", RLIMIT_CORE },       { "cpu", RLIMIT_CPU },         { "data", RLIMIT_DATA },
  { "fsize", RLIMIT_FSIZE },     { "locks", RLIMIT_LOCKS },     { "memlock", RLIMIT_MEMLOCK },
  { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },     { "nofile", RLIMIT_NOFILE },
  { "nproc", RLIMIT_NPROC },     { "rss", RLIMIT_RSS },         { "rtprio", RLIMIT_RTPRIO },
  { "rttime", RLIMIT_RTTIME },   { "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
};

/* A decimal limit; -1 is unlimited. */
static int
parse_limit (const char *s, size_t len, rlim_t *out)
{
  char buf[32], *end;
  long long v;

  if (len == 0 || len >= sizeof buf)
    return -1;
  memcpy (buf, s, len);
  buf[len] = '\0';
  errno = 0;
  v = strtoll (buf, &end, 10);
  if (errno || *end || v < -1)
    return -1;
  *out = v == -1 ? RLIM_INFINITY : (rlim_t) v;
  return 0;
}

int
sandbox_parse_ulimit (const char *arg, struct sandbox_rlimit *out, bale_error_t *err)
{
  const char *eq = strchr (arg, '='), *colon;
  size_t i;

  if (eq == NULL)
    return bale_make_error (err, 0, "invalid ulimit argument: '%s' (want NAME=SOFT[:HARD])", arg);
  for (i = 0; i < sizeof ulimit_names / sizeof *ulimit_names; i++)
    if (strlen (ulimit_names[i].name) == (size_t) (eq - arg)
        && strncmp (ulimit_names[i].name, arg, (size_t) (eq - arg)) == 0)
      break;
  if (i == sizeof ulimit_names / sizeof *ulimit_names)
    return bale_make_error (err, 0, "invalid ulimit type: '%.*s'", (int) (eq - arg), arg);
  out->resource = ulimit_names[i].resource;
  colon = strchr (eq + 1, ':');
  if (parse_limit (eq + 1, colon ? (size_t) (colon - eq - 1) : strlen (eq + 1), &out->soft) < 0
      || (colon && parse_limit (colon + 1, strlen (colon + 1), &out->hard) < 0))
    return bale_make_error (err, 0, "invalid ulimit value in '%s': want decimal numbers (-1 for "
                                    "unlimited)", arg);
  if (!colon)
    out->hard = out->soft;
  if (out->soft > out->hard)
    return bale_make_error (err, 0, "ulimit soft limit must be less than or equal to hard "
                                    "limit in '%s'", arg);
  return 0;
}

int
sandbox_parse_host (const char *arg, char **name, char **ip, bale_error_t *err)
{
  const char *sep = strchr (arg, '=');
  const char *addr;
  size_t len;
  unsigned char buf[16];

  /* docker: NAME=IP, or NAME:IP (the IP may be IPv6, so the first ':' separates). */
  if (sep == NULL)
    sep = strchr (arg, ':');
  if (sep == NULL || sep == arg)
    return bale_make_error (err, 0, "invalid host entry '%s': want NAME:IP", arg);
  if (strpbrk (arg, " \t\n#") && strpbrk (arg, " \t\n#") < sep)
    return bale_make_error (err, 0, "invalid host entry '%s': the name has blanks or '#'", arg);
  addr = sep + 1;
  len = strlen (addr);
  if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']')
    {
      addr++;
      len -= 2;
    }
  {
    char *a = xstrndup (addr, len);
    if (inet_pton (AF_INET, a, buf) != 1 && inet_pton (AF_INET6, a, buf) != 1)
      {
        int r = bale_make_error (err, 0, "invalid host entry '%s': '%s' is not an IP address%s",
                                 arg, a, strcmp (a, "host-gateway") == 0
                                             ? " (bale has no host gateway: its steps share the "
                                               "host's network, use 127.0.0.1)"
                                             : "");
        free (a);
        return r;
      }
    *ip = a;
  }
  *name = xstrndup (arg, (size_t) (sep - arg));
  return 0;
}

int
sandbox_parse_size (const char *arg, uint64_t *out, bale_error_t *err)
{
  uint64_t v;

  if (units_parse_bytes (arg, &v) && v >= 1)
    {
      *out = v;
      return 0;
    }
  return bale_make_error (err, 0, "invalid size '%s': want a number of bytes with an optional "
                                  "unit (k, m, g, t, p), e.g. 64m", arg);
}
