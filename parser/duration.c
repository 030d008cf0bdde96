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

/* Go's fmtFrac: the fraction of v/10**prec into the tail of buf[0..w), trailing zeros and a
   bare point omitted. */
static size_t
fmt_frac (char *buf, size_t w, uint64_t *v, int prec)
{
  bool print = false;
  int i;

  for (i = 0; i < prec; i++)
    {
      unsigned digit = (unsigned) (*v % 10);
      print = print || digit != 0;
      if (print)
        buf[--w] = (char) ('0' + digit);
      *v /= 10;
    }
  if (print)
    buf[--w] = '.';
  return w;
}

static size_t
fmt_int (char *buf, size_t w, uint64_t v)
{
  if (v == 0)
    buf[--w] = '0';
  while (v > 0)
    {
      buf[--w] = (char) ('0' + v % 10);
      v /= 10;
    }
  return w;
}

char *
duration_format (int64_t ns, char buf[DURATION_STRLEN])
{
  char tmp[DURATION_STRLEN];
  size_t w = sizeof tmp - 1;
  bool neg = ns < 0;
  uint64_t u = neg ? -(uint64_t) ns : (uint64_t) ns;

  tmp[w] = '\0';
  if (u < 1000000000u)
    {
      int prec;
      tmp[--w] = 's';
      if (u == 0)
        {
          memcpy (buf, "0s", 3);
          return buf;
        }
      if (u < 1000u)
        {
          prec = 0;
          tmp[--w] = 'n';
        }
      else if (u < 1000000u)
        {
          prec = 3;
          tmp[--w] = (char) 0xb5; /* U+00B5, the micro sign, in UTF-8 */
          tmp[--w] = (char) 0xc2;
        }
      else
        {
          prec = 6;
          tmp[--w] = 'm';
        }
      w = fmt_frac (tmp, w, &u, prec);
      w = fmt_int (tmp, w, u);
    }
  else
    {
      tmp[--w] = 's';
      w = fmt_frac (tmp, w, &u, 9);
      w = fmt_int (tmp, w, u % 60);
      u /= 60;
      if (u > 0)
        {
          tmp[--w] = 'm';
          w = fmt_int (tmp, w, u % 60);
          u /= 60;
          if (u > 0)
            {
              tmp[--w] = 'h';
              w = fmt_int (tmp, w, u);
            }
        }
    }
  if (neg)
    tmp[--w] = '-';
  memcpy (buf, tmp + w, sizeof tmp - w);
  return buf;
}
