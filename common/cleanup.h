/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scope-bound cleanup attributes (crun's utils.h, bubblewrap's steal_pointer). */
#ifndef BALE_CLEANUP_H
#define BALE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
cleanup_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
}

static inline void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
cleanup_filep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
cleanup_dirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

static inline void
cleanup_strvp (char ***v)
{
  char **p;
  if (*v == NULL)
    return;
  for (p = *v; *p; p++)
    free (*p);
  free (*v);
}

#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_file __attribute__ ((cleanup (cleanup_filep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_dirp)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))

static inline void *
steal_pointer_impl (void *pp)
{
  void **p = (void **) pp;
  void *ret = *p;
  *p = NULL;
  return ret;
}
/* Take ownership out of a cleanup-managed variable: `*out = steal_pointer (&buf);` */
#define steal_pointer(pp) ((__typeof__ (*(pp))) steal_pointer_impl (pp))

#endif
