/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes in bytes as Docker's command line spells them (common/units.h). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "common/banned.h"

static const char *
skip_digits (const char *p)
{
  while (*p >= '0' && *p <= '9')
    p++;
  return p;
}

bool
units_parse_bytes (const char *s, uint64_t *out)
{
  static const char units[] = "kmgtp";
  const char *p = skip_digits (s), *u;
  char *end;
  double v, mult = 1;

  /* ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$ (more than one fraction fails ParseFloat) */
  if (p == s)
    return false;
  if (*p == '.')
    {
      const char *f = p + 1;
      p = skip_digits (f);
      if (p == f)
        return false;
    }
  /* The digits checked above are all strtod may read: no exponent, hex, "inf" or "nan". */
  errno = 0;
  v = strtod (s, &end);
  if (errno || end != p)
    return false;
  if (*p == ' ')
    p++;
  if (*p && (u = strchr (units, *p | 0x20)) != NULL)
    {
      for (const char *k = units; k <= u; k++)
        mult *= 1024;
      p++;
    }
  if ((*p | 0x20) == 'i')
    p++;
  if ((*p | 0x20) == 'b')
    p++;
  /* int64 in Go; a double's last step below 2^63 is 1024. */
  if (*p || v * mult >= 9223372036854774784.0)
    return false;
  *out = (uint64_t) (v * mult);
  return true;
}
