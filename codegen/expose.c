/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/expose.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* strconv.ParseUint(s, 10, 16): digits only, at most 65535. */
static bool
parse_u16 (const char *s, size_t len, unsigned *out)
{
  unsigned long v = 0;
  size_t i;

  if (len == 0)
    return false;
  for (i = 0; i < len; i++)
    {
      if (!isdigit ((unsigned char) s[i]))
        return false;
      v = v * 10 + (unsigned) (s[i] - '0');
      if (v > 65535)
        return false;
    }
  *out = (unsigned) v;
  return true;
}

/* parsePortRange: "N" or "N-M" with M >= N. */
static bool
parse_range (const char *s, unsigned *start, unsigned *end)
{
  const char *dash = strchr (s, '-');

  if (*s == '\0')
    return false;
  if (dash == NULL)
    {
      if (!parse_u16 (s, strlen (s), start))
        return false;
      *end = *start;
      return true;
    }
  if (strchr (dash + 1, '-'))
    return false;
  return parse_u16 (s, (size_t) (dash - s), start) && parse_u16 (dash + 1, strlen (dash + 1), end)
         && *end >= *start;
}

static bool
valid_ip (const char *ip)
{
  unsigned char buf[16];
  return inet_pton (AF_INET, ip, buf) == 1 || inet_pton (AF_INET6, ip, buf) == 1;
}

int
expose_parse (const char *spec, char ***ports, size_t *n_ports, char **msg)
{
  cleanup_free char *copy = xstrdup (spec);
  cleanup_free char *ip = NULL;
  char *container = copy, *host = NULL, *proto, *c;
  unsigned start, end, hstart, hend, port;

  /* splitParts: the last two ':'-separated fields are host port and container port. */
  if ((c = strrchr (copy, ':')) != NULL)
    {
      *c = '\0';
      container = c + 1;
      host = copy;
      if ((c = strrchr (copy, ':')) != NULL)
        {
          *c = '\0';
          host = c + 1;
          ip = xstrdup (copy);
        }
    }
  /* splitProtoPort: the fields between the first two '/' ("80/tcp/udp" is 80/tcp: FINDINGS F57) */
  proto = strchr (container, '/');
  if (proto)
    {
      *proto++ = '\0';
      if ((c = strchr (proto, '/')) != NULL)
        *c = '\0';
    }
  if (*container == '\0')
    {
      *msg = xasprintf ("no port specified: %s<empty>", container);
      return -1;
    }
  for (c = proto; c && *c; c++)
    *c = (char) tolower ((unsigned char) *c);
  if (proto == NULL || *proto == '\0')
    proto = (char *) "tcp";
  else if (strcmp (proto, "tcp") && strcmp (proto, "udp") && strcmp (proto, "sctp"))
    {
      *msg = xasprintf ("invalid proto: %s", proto);
      return -1;
    }
  if (ip && *ip)
    {
      size_t l = strlen (ip);
      if (ip[0] == '[' && l >= 2 && ip[l - 1] == ']')
        {
          memmove (ip, ip + 1, l - 2);
          ip[l - 2] = '\0';
        }
      if (!valid_ip (ip))
        {
          *msg = xasprintf ("invalid IP address: %s", ip);
          return -1;
        }
    }
  if (!parse_range (container, &start, &end))
    {
      *msg = xasprintf ("invalid containerPort: %s", container);
      return -1;
    }
  if (host && *host)
    {
      if (!parse_range (host, &hstart, &hend))
        {
          *msg = xasprintf ("invalid hostPort: %s", host);
          return -1;
        }
      if (end - start != hend - hstart && end != start)
        {
          *msg = xasprintf ("invalid ranges specified for container and host Ports: %s and %s", container, host);
          return -1;
        }
    }
  for (port = start; port <= end; port++)
    {
      *ports = xrealloc (*ports, (*n_ports + 1) * sizeof (char *));
      (*ports)[(*n_ports)++] = xasprintf ("%u/%s", port, proto);
    }
  return 0;
}

unsigned
expose_lint (const char *spec)
{
  const char *container = strrchr (spec, ':'), *slash;
  unsigned flags = 0;

  /* splitParts: anything before the container port is an IP address or a host port. */
  container = container ? container + 1 : spec;
  if (container - spec > 1 && !(container - spec == 2 && spec[0] == ':'))
    flags |= EXPOSE_LINT_HOST;
  /* splitProtoPort must succeed: a port, and tcp, udp or sctp in any case. */
  slash = strchr (container, '/');
  if (slash == container || *container == '\0')
    return 0;
  if (slash && slash[1])
    {
      const char *proto = slash + 1;
      const char *c;

      if (strcasecmp (proto, "tcp") && strcasecmp (proto, "udp") && strcasecmp (proto, "sctp"))
        return 0;
      for (c = proto; *c; c++)
        if (isupper ((unsigned char) *c))
          flags |= EXPOSE_LINT_PROTO_CASE;
    }
  return flags;
}
