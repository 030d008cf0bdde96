/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The override xattr of rootless builds: what a file stands for when its metadata cannot be real. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "runtime/fs/owners.h"
#include "runtime/fs/rootless.h"
#include "common/banned.h"

bool
owners_active (void)
{
  return rootless_mode () != ROOTLESS_NONE;
}

int
owners_record (int fd, const struct stat *st)
{
  char v[96];
  const char *kind = S_ISCHR (st->st_mode) ? "char" : S_ISBLK (st->st_mode) ? "block" : NULL;

  if (kind)
    snprintf (v, sizeof v, "%u:%u:%04o:%s-%u-%u", (unsigned) st->st_uid, (unsigned) st->st_gid,
              (unsigned) (st->st_mode & 07777), kind, major (st->st_rdev), minor (st->st_rdev));
  else
    snprintf (v, sizeof v, "%u:%u:%04o:%s", (unsigned) st->st_uid, (unsigned) st->st_gid,
              (unsigned) (st->st_mode & 07777), S_ISDIR (st->st_mode) ? "dir" : "file");
  return fsetxattr (fd, OWNERS_XATTR, v, strlen (v), 0);
}

/* A decimal number up to the next sep (or the end); false when there is none. */
static bool
number (const char **p, int base, char sep, unsigned long max, unsigned long *out)
{
  char *end;

  if (**p < '0' || **p > '9')
    return false;
  errno = 0;
  *out = strtoul (*p, &end, base);
  if (errno || *out > max || (*end != sep))
    return false;
  *p = *end ? end + 1 : end;
  return true;
}

bool
owners_parse (const char *value, size_t len, struct stat *st)
{
  char buf[96];
  const char *p = buf;
  unsigned long uid, gid, mode, maj = 0, min = 0;
  mode_t type;

  if (len == 0 || len >= sizeof buf)
    return false;
  memcpy (buf, value, len);
  buf[len] = '\0';
  if (!number (&p, 10, ':', 0x7fffffffUL, &uid) || !number (&p, 10, ':', 0x7fffffffUL, &gid)
      || !number (&p, 8, ':', 07777, &mode))
    return false;
  if (strcmp (p, "file") == 0)
    type = S_IFREG;
  else if (strcmp (p, "dir") == 0)
    type = S_IFDIR;
  else if (strncmp (p, "char-", 5) == 0 || strncmp (p, "block-", 6) == 0)
    {
      type = p[0] == 'c' ? S_IFCHR : S_IFBLK;
      p += type == S_IFCHR ? 5 : 6;
      if (!number (&p, 10, '-', 0xfffUL, &maj) || !number (&p, 10, '\0', 0xfffffUL, &min))
        return false;
    }
  else
    return false;
  st->st_uid = (uid_t) uid;
  st->st_gid = (gid_t) gid;
  st->st_mode = type | (mode_t) mode;
  st->st_rdev = makedev (maj, min);
  return true;
}

bool
owners_apply (int fd, struct stat *st)
{
  char v[96];
  ssize_t n;
  struct stat want = *st;

  if (!owners_active () || (n = fgetxattr (fd, OWNERS_XATTR, v, sizeof v)) <= 0)
    return false;
  if (!owners_parse (v, (size_t) n, &want))
    return false;
  /* A directory stays a directory and a file a file or a device: nothing else is recorded. */
  if (S_ISDIR (st->st_mode) != S_ISDIR (want.st_mode))
    return false;
  /* The permission bits are the inode's own: a chmod after the chown changed them there. */
  st->st_uid = want.st_uid;
  st->st_gid = want.st_gid;
  st->st_mode = (want.st_mode & S_IFMT) | (st->st_mode & 07777);
  st->st_rdev = want.st_rdev;
  return true;
}
