/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the test programs. */
#include <config.h>

#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bale.h"
#include "tests/testutil.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

char *
test_path (const char *rel)
{
  const char *top = getenv ("top_srcdir");
  return xasprintf ("%s/%s", top && *top ? top : ".", rel);
}

char *
test_read_file (const char *path, size_t *len)
{
  struct strbuf sb = STRBUF_INIT;
  FILE *f = fopen (path, "rb");
  char buf[65536];
  size_t n;

  if (f == NULL)
    return NULL;
  while ((n = fread (buf, 1, sizeof buf, f)) > 0)
    strbuf_add (&sb, buf, n);
  fclose (f);
  if (sb.alloc == 0)
    strbuf_grow (&sb, 1);
  return strbuf_detach (&sb, len);
}

char *
test_format_errors (const struct bale_error_s *chain)
{
  struct strbuf sb = STRBUF_INIT;

  for (; chain; chain = chain->next)
    {
      char *t = bale_error_format (chain);
      strbuf_addstr (&sb, t);
      strbuf_addch (&sb, '\n');
      free (t);
    }
  return strbuf_detach (&sb, NULL);
}

void
test_diag (const char *fmt, ...)
{
  struct strbuf sb = STRBUF_INIT;
  const char *p, *nl;
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  for (p = sb.buf; *p; p = nl + 1)
    {
      nl = strchr (p, '\n');
      printf ("# %.*s\n", nl ? (int) (nl - p) : (int) strlen (p), p);
      if (nl == NULL)
        break;
    }
  fflush (stdout);
  strbuf_release (&sb);
}

int
test_mk (const char *root, const char *rel, const char *content)
{
  char *p = xasprintf ("%s/%s", root, rel);
  int ret = 0;

  if (content)
    {
      FILE *f = fopen (p, "w");
      if (f == NULL || fputs (content, f) < 0)
        ret = -1;
      if (f && fclose (f) != 0)
        ret = -1;
    }
  else
    ret = mkdir (p, 0755);
  free (p);
  return ret;
}

int
test_ln (const char *root, const char *target, const char *rel)
{
  char *p = xasprintf ("%s/%s", root, rel);
  int ret = symlink (target, p);

  free (p);
  return ret;
}
