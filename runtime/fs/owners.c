/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The override xattr of rootless builds: what a file stands for when its metadata cannot be real. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/xalloc.h"

#include "runtime/fs/owners.h"
#include "runtime/fs/rootless.h"
#include "common/banned.h"

/* Root of someone else's user namespace (a rootless podman container) cannot make devices
   nor give ids the namespace does not map either. */
bool
owners_active (void)
{
  return rootless_mode () != ROOTLESS_NONE || rootless_userns ();
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

/* ---- symbolic links and FIFOs: the table ----------------------------------------------- */

struct special
{
  dev_t dev;
  ino_t ino;
  int pin;        /* a descriptor on the inode when its filesystem has no handles, else -1 */
  int htype;
  unsigned hlen;
  unsigned char handle[MAX_HANDLE_SZ];
  uid_t uid;
  gid_t gid;
};

static pthread_mutex_t specials_lock = PTHREAD_MUTEX_INITIALIZER;
static struct special *specials;
static size_t n_specials, alloc_specials;

/* The file handle of name in dirfd, not followed. 0 or -1 with errno. */
static int
handle_of (int dirfd, const char *name, int *type, unsigned *len, unsigned char *out)
{
  /* struct file_handle ends in a flexible array: room for the largest handle, aligned. */
  uint64_t buf[(sizeof (struct file_handle) + MAX_HANDLE_SZ) / sizeof (uint64_t) + 1];
  struct file_handle *fh = (struct file_handle *) (void *) buf;
  int mount_id;

  fh->handle_bytes = MAX_HANDLE_SZ;
  if (name_to_handle_at (dirfd, name, fh, &mount_id, *name ? 0 : AT_EMPTY_PATH) < 0)
    return -1;
  *type = fh->handle_type;
  *len = fh->handle_bytes;
  memcpy (out, fh->f_handle, fh->handle_bytes);
  return 0;
}

/* The record of the inode st of name in dirfd; the caller holds the lock. */
static struct special *
find_special (int dirfd, const char *name, const struct stat *st)
{
  unsigned char h[MAX_HANDLE_SZ];
  unsigned hlen = 0;
  int htype = 0;
  bool have = false, tried = false;

  for (size_t i = n_specials; i-- > 0;)
    {
      struct special *s = &specials[i];
      if (s->dev != st->st_dev || s->ino != st->st_ino)
        continue;
      if (s->pin >= 0)
        return s; /* pinned: no other inode can have this number */
      if (!tried)
        {
          tried = true;
          have = handle_of (dirfd, name, &htype, &hlen, h) == 0;
        }
      if (have && s->htype == htype && s->hlen == hlen && memcmp (s->handle, h, hlen) == 0)
        return s;
    }
  return NULL;
}

int
owners_record_special (int fd, uid_t uid, gid_t gid)
{
  struct special *s;
  struct stat st;

  if (fstat (fd, &st) < 0)
    return -1;
  pthread_mutex_lock (&specials_lock);
  s = find_special (fd, "", &st);
  if (s == NULL)
    {
      XGROW (specials, alloc_specials, n_specials + 1);
      s = &specials[n_specials];
      memset (s, 0, sizeof *s);
      s->dev = st.st_dev;
      s->ino = st.st_ino;
      s->pin = -1;
      if (handle_of (fd, "", &s->htype, &s->hlen, s->handle) < 0
          && (s->pin = fcntl (fd, F_DUPFD_CLOEXEC, 3)) < 0)
        {
          int saved = errno;
          pthread_mutex_unlock (&specials_lock);
          errno = saved;
          return -1;
        }
      n_specials++;
    }
  s->uid = uid;
  s->gid = gid;
  pthread_mutex_unlock (&specials_lock);
  return 0;
}

bool
owners_apply_special (int dirfd, const char *name, struct stat *st)
{
  struct special *s;
  bool found = false;

  if (!owners_active ())
    return false;
  pthread_mutex_lock (&specials_lock);
  if (n_specials > 0 && (s = find_special (dirfd, name, st)) != NULL)
    {
      st->st_uid = s->uid;
      st->st_gid = s->gid;
      found = true;
    }
  pthread_mutex_unlock (&specials_lock);
  return found;
}
