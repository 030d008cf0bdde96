/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Go's path.Clean and BuildKit's NormalizeWorkdir: lexical path arithmetic that WORKDIR's
   dispatch, the build checks and the runtime's COPY and mount targets share, below all of them. */
#include <config.h>

#include <string.h>

#include "codegen/dispatch.h"
#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* NormalizeWorkdir: relative paths join the current directory; the result is cleaned. */
char *
dispatch_normalize_workdir (const char *current, const char *wd)
{
  cleanup_strbuf struct strbuf joined = STRBUF_INIT;

  if (wd[0] != '/')
    strbuf_addf (&joined, "/%s/%s", current, wd);
  else
    strbuf_addstr (&joined, wd);
  return dispatch_clean_path (joined.buf);
}

/* Go's path.Clean for an absolute path. */
char *
dispatch_clean_path (const char *path)
{
  cleanup_strbuf struct strbuf out = STRBUF_INIT;
  const char *s = path;

  while (*s)
    {
      const char *e;
      size_t len;

      while (*s == '/')
        s++;
      if (!*s)
        break;
      e = strchr (s, '/');
      len = e ? (size_t) (e - s) : strlen (s);
      if (len == 1 && s[0] == '.')
        ;
      else if (len == 2 && s[0] == '.' && s[1] == '.')
        {
          char *slash = strrchr (out.buf, '/');
          strbuf_setlen (&out, slash ? (size_t) (slash - out.buf) : 0);
        }
      else
        {
          strbuf_addch (&out, '/');
          strbuf_add (&out, s, len);
        }
      s += len;
    }
  if (out.len == 0)
    strbuf_addch (&out, '/');
  return strbuf_detach (&out, NULL);
}
