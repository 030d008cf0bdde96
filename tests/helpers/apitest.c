/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the API test programs share (apitest.h). */
#include <stdlib.h>

#include "tests/helpers/apitest.h"

int apitest_failures;

void
apitest_show (const char *what, bale_error_t *err)
{
  for (const struct bale_error_s *e = *err; e; e = e->next)
    {
      char *t = bale_error_format (e);
      if (what && e == *err)
        fprintf (stderr, "%s: ", what);
      fprintf (stderr, "%s\n", t ? t : e->msg);
      free (t);
    }
  bale_error_release (err);
}

int
apitest_fail (const char *what, bale_error_t *err)
{
  if (!*err)
    fprintf (stderr, "%s: (no error)\n", what ? what : "failed");
  apitest_show (what, err);
  return 1;
}

bale_store *
apitest_store (const char *path)
{
  bale_error_t err = NULL;
  bale_store *s = NULL;

  if (bale_store_open (path, &s, &err) < 0)
    exit (apitest_fail ("bale_store_open", &err));
  return s;
}
