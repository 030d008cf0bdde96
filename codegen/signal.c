/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codegen/signal.h"
#include "common/banned.h"

/* moby/sys/signal's SignalMap for Linux (signal_linux.go), without the "SIG" prefix. */
static const char *const names[] = {
  "ABRT", "ALRM", "BUS",  "CHLD", "CLD",    "CONT", "FPE",    "HUP",   "ILL",  "INT",
  "IO",   "IOT",  "KILL", "PIPE", "POLL",   "PROF", "PWR",    "QUIT",  "SEGV", "STKFLT",
  "STOP", "SYS",  "TERM", "TRAP", "TSTP",   "TTIN", "TTOU",   "URG",   "USR1", "USR2",
  "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX",
};

static bool
rt_offset (const char *s, const char *base, char sign, int max)
{
  size_t n = strlen (base);
  char *end;
  long v;

  if (strncasecmp (s, base, n) != 0 || s[n] != sign || !isdigit ((unsigned char) s[n + 1]))
    return false;
  errno = 0;
  v = strtol (s + n + 1, &end, 10);
  return errno == 0 && *end == '\0' && v >= 1 && v <= max;
}

bool
signal_valid (const char *s)
{
  char *end;
  long v;
  size_t i;

  /* strconv.Atoi: an optional sign and decimal digits; 0 is rejected. */
  if (*s && (isdigit ((unsigned char) *s) || ((*s == '-' || *s == '+') && isdigit ((unsigned char) s[1]))))
    {
      errno = 0;
      v = strtol (s, &end, 10);
      if (*end == '\0')
        return errno == 0 && v != 0;
    }
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp (s, names[i]) == 0)
      return true;
  /* RTMIN+1 … RTMIN+15 and RTMAX-14 … RTMAX-1. */
  return rt_offset (s, "RTMIN", '+', 15) || rt_offset (s, "RTMAX", '-', 14);
}
