/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Times as docker's list commands print them (go-units HumanDuration, RFC 3339). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "cli/humantime.h"
#include "common/xalloc.h"
#include "common/banned.h"

time_t
cli_parse_time (const char *s)
{
  struct tm tm;
  const char *p;
  time_t t;

  memset (&tm, 0, sizeof tm);
  if (s == NULL || (p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
    return -1;
  t = timegm (&tm);
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      ;
  if ((*p == '+' || *p == '-') && strlen (p) >= 6)
    {
      long off = (long) (atoi (p + 1) * 3600 + atoi (p + 4) * 60);
      t -= *p == '+' ? off : -off;
    }
  return t;
}

/* go-units HumanDuration. */
static char *
human_duration (time_t secs)
{
  long m = (long) (secs / 60), h = (long) ((secs + 1800) / 3600);

  if (secs < 1)
    return xstrdup ("Less than a second");
  if (secs == 1)
    return xstrdup ("1 second");
  if (secs < 60)
    return xasprintf ("%ld seconds", (long) secs);
  if (m == 1)
    return xstrdup ("About a minute");
  if (m < 60)
    return xasprintf ("%ld minutes", m);
  if (h == 1)
    return xstrdup ("About an hour");
  if (h < 48)
    return xasprintf ("%ld hours", h);
  if (h < 24 * 7 * 2)
    return xasprintf ("%ld days", h / 24);
  if (h < 24 * 30 * 2)
    return xasprintf ("%ld weeks", h / 24 / 7);
  if (h < 24 * 365 * 2)
    return xasprintf ("%ld months", h / 24 / 30);
  return xasprintf ("%ld years", h / 24 / 365);
}

char *
cli_time_since (time_t t)
{
  char *d, *s;

  if (t < 0)
    return xstrdup ("N/A");
  d = human_duration (time (NULL) - t);
  s = xasprintf ("%s ago", d);
  free (d);
  return s;
}

char *
cli_time_rfc3339 (time_t t)
{
  struct tm tm;
  char buf[64];
  long off;

  localtime_r (&t, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  off = tm.tm_gmtoff / 60;
  if (off == 0)
    return xasprintf ("%sZ", buf);
  return xasprintf ("%s%c%02ld:%02ld", buf, off < 0 ? '-' : '+', labs (off) / 60, labs (off) % 60);
}
