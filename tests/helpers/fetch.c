/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fetch URL OUT [CHECKSUM]: http_fetch for the integration tests of ADD <url>. */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/error.h"
#include "runtime/registry/http.h"
#include "common/banned.h"

int
main (int argc, char **argv)
{
  struct http_fetch_result r;
  bale_error_t err = NULL;
  int fd, ret;

  if (argc < 3 || argc > 4)
    {
      fputs ("usage: fetch URL OUT [sha256:CHECKSUM]\n", stderr);
      return 2;
    }
  fd = open (argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      perror (argv[2]);
      return 1;
    }
  ret = http_fetch (argv[1], fd, argc == 4 ? argv[3] : NULL, &r, &err);
  close (fd);
  if (ret < 0)
    {
      char *text = bale_error_format (err);
      fprintf (stderr, "%s\n", text);
      free (text);
      bale_error_release (&err);
      return 1;
    }
  printf ("size %lld\ndigest %s\nlast_modified %lld\n", (long long) r.size, r.digest,
          (long long) r.last_modified);
  return 0;
}
