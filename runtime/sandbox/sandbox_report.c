/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How the forked side of the sandbox reports to the parent: one record per write on the
   status pipe. Below the child, its rootfs, confinement and notify files, which all report
   through it. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/sandbox/sandbox_internal.h"
#include "common/banned.h"

static int vsend (int fd, char type, int errnum, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 4, 0)));
static int
vsend (int fd, char type, int errnum, const char *fmt, va_list ap)
{
  struct rt_sbx_record rec;
  ssize_t w;
  int n;

  memset (&rec, 0, sizeof rec);
  rec.type = type;
  rec.errnum = errnum;
  n = vsnprintf (rec.msg, sizeof rec.msg, fmt, ap);
  if (n < 0)
    n = 0;
  if ((size_t) n >= sizeof rec.msg)
    n = sizeof rec.msg - 1;
  /* One write of at most PIPE_BUF bytes is atomic, so records from init and the command
     never interleave. */
  do
    w = write (fd, &rec, offsetof (struct rt_sbx_record, msg) + (size_t) n + 1);
  while (w < 0 && errno == EINTR);
  return w < 0 ? -1 : 0;
}

int
rt_sbx_send (int fd, char type, int errnum, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = vsend (fd, type, errnum, fmt, ap);
  va_end (ap);
  return ret;
}

void
rt_sbx_die (int fd, int errnum, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsend (fd, RT_SBX_ERROR, errnum, fmt, ap);
  va_end (ap);
  _exit (127);
}
