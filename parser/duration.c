/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Go's time.ParseDuration, for HEALTHCHECK options. */
#include <config.h>

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "parser/duration.h"
#include "common/banned.h"

static int64_t
unit_ns (const char *u, size_t n)
{
  static const struct { const char *name; int64_t ns; } units[] = {
    { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
    { "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000 }, { "h", 3600000000000 },
  };
  size_t i;

  for (i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strlen (units[i].name) == n && memcmp (units[i].name, u, n) == 0)
      return units[i].ns;
  return 0;
}

/* One "<number><unit>" term; adds its value to *total. */
static bool
term (const char **pp, long double *total)
{
  const char *p = *pp, *u;
  long double v = 0, scale = 1;
  bool digits = false;
  int64_t ns;

  for (; isdigit ((unsigned char) *p); p++, digits = true)
    v = v * 10 + (*p - '0');
  if (*p == '.')
    for (p++; isdigit ((unsigned char) *p); p++, digits = true)
      v += (*p - '0') * (scale /= 10);
  if (!digits)
    return false;
  for (u = p; *p && *p != '.' && !isdigit ((unsigned char) *p); p++)
    ;
  ns = unit_ns (u, (size_t) (p - u));
  if (ns == 0)
    return false;
  *total += v * ns;
  *pp = p;
  return true;
}

bool
duration_parse (const char *s, int64_t *out)
{
  long double total = 0;
  bool neg = false;
  const char *p = s;

  if (*p == '-' || *p == '+')
    neg = *p++ == '-';
  if (strcmp (p, "0") == 0)
    {
      *out = 0;
      return true;
    }
  if (*p == '\0')
    return false;
  while (*p)
    if (!term (&p, &total))
      return false;
  if (total > (long double) INT64_MAX)
    return false;
  *out = neg ? -(int64_t) total : (int64_t) total;
  return true;
}
