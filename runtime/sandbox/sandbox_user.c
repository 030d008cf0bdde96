/* SPDX-License-Identifier: GPL-2.0-or-later */
/* USER resolution through the image's own /etc/passwd and /etc/group, as runc's GetExecUser. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/fs/inroot.h"
#include "runtime/sandbox/sandbox.h"
#include "common/banned.h"

/* Images never need more; a bigger file is an attack on the builder (CVE-2024-9676). */
#define DB_MAX (4 << 20)
/* Docker refuses ids outside 0 .. 2^31-1 (CVE-2024-40635: no wrap-around to root). */
#define ID_MAX 2147483647L

/* The file's text, or an empty buffer when it does not exist (Docker treats it so): a regular
   file inside the root (runtime/fs/inroot.h), at most DB_MAX bytes. NSS is never used: it would
   load the image's libraries into the builder (CVE-2019-14271). */
static int
read_db (int rootfd, const char *path, struct strbuf *sb, bale_error_t *err)
{
  return inroot_read_file (rootfd, path, DB_MAX, sb, NULL, err);
}

/* A decimal id in 0 .. ID_MAX; -1 when s is not one. */
static long
parse_id (const char *s, size_t len)
{
  long v = 0;
  size_t i;

  if (len == 0 || len > 10)
    return -1;
  for (i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return -1;
      v = v * 10 + (s[i] - '0');
    }
  return v <= ID_MAX ? v : -1;
}

/* Split line into at most max ':'-separated fields (in place); returns how many. */
static size_t
split_fields (char *line, char **f, size_t max)
{
  size_t n = 0;

  f[n++] = line;
  for (char *p = line; *p && n < max; p++)
    if (*p == ':')
      {
        *p = '\0';
        f[n++] = p + 1;
      }
  return n;
}

/* Next line of the NUL-terminated text at *cursor, NUL-terminated in place; NULL at the end. */
static char *
next_line (char **cursor)
{
  char *line = *cursor, *nl;

  if (*line == '\0')
    return NULL;
  nl = strchr (line, '\n');
  if (nl)
    {
      *nl = '\0';
      *cursor = nl + 1;
    }
  else
    *cursor = line + strlen (line);
  return line;
}

struct passwd_match
{
  char *name; /* NULL when no entry matched */
  long uid, gid;
  char *home;
};

static void
find_passwd (char *text, const char *want, struct passwd_match *m)
{
  char *cursor = text, *line, *f[7];

  while ((line = next_line (&cursor)))
    {
      long uid, gid;

      if (split_fields (line, f, 7) < 7)
        continue;
      uid = parse_id (f[2], strlen (f[2]));
      gid = parse_id (f[3], strlen (f[3]));
      if (uid < 0 || gid < 0)
        continue;
      if (strcmp (f[0], want) != 0 && parse_id (want, strlen (want)) != uid)
        continue;
      m->name = xstrdup (f[0]);
      m->uid = uid;
      m->gid = gid;
      m->home = *f[5] ? xstrdup (f[5]) : NULL;
      return;
    }
}

static bool
lists_member (char *members, const char *name)
{
  for (char *p = members; *p;)
    {
      size_t n = strcspn (p, ",");
      if (n == strlen (name) && memcmp (p, name, n) == 0)
        return true;
      p += n + (p[n] == ',');
    }
  return false;
}

/* With group set: its gid into *gid. Without: every group listing user into u->groups. */
static int
scan_groups (char *text, const char *user, const char *group, long *gid, struct sandbox_user *u)
{
  char *cursor = text, *line, *f[4];
  size_t alloc = 0;

  while ((line = next_line (&cursor)))
    {
      long g;

      if (split_fields (line, f, 4) < 4 || (g = parse_id (f[2], strlen (f[2]))) < 0)
        continue;
      if (group && (strcmp (f[0], group) == 0 || parse_id (group, strlen (group)) == g))
        {
          *gid = g;
          return 0;
        }
      if (!group && user && lists_member (f[3], user))
        {
          XGROW (u->groups, alloc, u->n_groups + 1);
          u->groups[u->n_groups++] = (gid_t) g;
        }
    }
  return group ? -1 : 0;
}

static int
resolve_group (int rootfd, const char *user, const char *group, struct sandbox_user *out,
               bale_error_t *err)
{
  struct strbuf db = STRBUF_INIT;
  long gid = -1;
  int ret;

  ret = read_db (rootfd, "/etc/group", &db, err);
  if (ret == 0 && scan_groups (db.buf, user, group, &gid, out) < 0)
    {
      gid = parse_id (group, strlen (group));
      if (gid < 0)
        ret = bale_make_error (err, 0, "unable to find group '%s' in /etc/group", group);
    }
  if (ret == 0 && group)
    out->gid = (gid_t) gid;
  strbuf_release (&db);
  return ret;
}

int
sandbox_resolve_user (int rootfd, const char *spec, struct sandbox_user *out, bale_error_t *err)
{
  cleanup_free char *user = xstrdup (spec && *spec ? spec : "0");
  struct passwd_match m = { NULL, 0, 0, NULL };
  struct strbuf db = STRBUF_INIT;
  char *group = strchr (user, ':');
  const char *name = user;
  int ret;

  memset (out, 0, sizeof *out);
  if (group)
    *group++ = '\0';
  /* GetExecUser: an empty group is no group ("app:" is "app"), an empty user is the default
     uid 0 (":staff" is "0:staff") (diff-fuzz F41). */
  if (group && !*group)
    group = NULL;
  if (!*user)
    name = "0";
  ret = read_db (rootfd, "/etc/passwd", &db, err);
  if (ret == 0)
    find_passwd (db.buf, name, &m);
  strbuf_release (&db);
  if (ret < 0)
    return ret;
  if (m.name == NULL)
    {
      m.uid = parse_id (name, strlen (name));
      if (m.uid < 0)
        return bale_make_error (err, 0, "unable to find user '%s' in /etc/passwd", name);
    }
  out->uid = (uid_t) m.uid;
  out->gid = (gid_t) m.gid;
  out->home = m.home;
  /* runc looks up supplementary groups only for a user found by name and no explicit group. */
  if (group || m.name)
    ret = resolve_group (rootfd, m.name, group, out, err);
  free (m.name);
  if (ret < 0)
    sandbox_user_release (out);
  return ret;
}

void
sandbox_user_release (struct sandbox_user *u)
{
  free (u->groups);
  free (u->home);
  memset (u, 0, sizeof *u);
}
