/* SPDX-License-Identifier: GPL-2.0-or-later */
/* BALE_TRACE phase timestamps (common/trace.h). */
#include <config.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/trace.h"
#include "common/banned.h"

/* -2: BALE_TRACE not looked at yet. Forked children inherit the open descriptor. */
static int fd = -2;

int
trace_fd (void)
{
  if (fd == -2)
    {
      const char *path = getenv ("BALE_TRACE");
      fd = path && *path ? open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
    }
  return fd;
}

void
trace_mark (const char *fmt, ...)
{
  char line[256];
  struct timespec ts;
  va_list ap;
  int n;

  if (trace_fd () < 0)
    return;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  n = snprintf (line, sizeof line, "%lld.%06ld %ld ", (long long) ts.tv_sec, ts.tv_nsec / 1000,
                (long) getpid ());
  va_start (ap, fmt);
  n += vsnprintf (line + n, sizeof line - (size_t) n - 1, fmt, ap);
  va_end (ap);
  if (n > (int) sizeof line - 2)
    n = (int) sizeof line - 2;
  line[n++] = '\n';
  (void) fileio_write_all (fd, line, (size_t) n);
}
