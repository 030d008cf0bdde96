/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The front program's way to the rest of the commands: execute bale-core with the same
   arguments, as git executes git-remote-https, so that the front never loads libcurl. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/apicmd.h"
#include "common/banned.h"

#ifndef BALE_CORE_PATH
#error "BALE_CORE_PATH (where make install puts bale-core) must be defined"
#endif

/* bale-core beside this program when it is there (the build tree, or a relocated copy of
   both), else where make install put it. */
static const char *
core_path (char *buf, size_t size)
{
  ssize_t n = readlink ("/proc/self/exe", buf, size - sizeof "/bale-core");
  char *slash;

  if (n > 0)
    {
      buf[n] = '\0';
      if ((slash = strrchr (buf, '/')) != NULL)
        {
          memcpy (slash, "/bale-core", sizeof "/bale-core");
          if (access (buf, X_OK) == 0)
            return buf;
        }
    }
  return BALE_CORE_PATH;
}

int
cli_exec_core (char **argv)
{
  char buf[PATH_MAX];
  const char *path = core_path (buf, sizeof buf);

  /* argv[0] stays as the user typed it: messages name "bale", and bale-core needs no
     knowledge of where it lives. */
  execv (path, argv);
  fprintf (stderr, "bale: cannot execute '%s': %s\n", path, strerror (errno));
  return 127;
}
