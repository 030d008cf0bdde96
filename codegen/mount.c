/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RUN --mount values into struct plan_mount (codegen/mount.h), once, at dispatch. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codegen/mount.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

static const char *const type_names[] = {
  [PLAN_MOUNT_BIND] = "bind", [PLAN_MOUNT_CACHE] = "cache", [PLAN_MOUNT_TMPFS] = "tmpfs",
  [PLAN_MOUNT_SECRET] = "secret", [PLAN_MOUNT_SSH] = "ssh",
};
static const char *const sharing_names[] = {
  [PLAN_SHARING_SHARED] = "shared", [PLAN_SHARING_PRIVATE] = "private", [PLAN_SHARING_LOCKED] = "locked",
};

const char *
plan_mount_type_name (enum plan_mount_type t)
{
  return type_names[t];
}

void
plan_mount_release (struct plan_mount *m)
{
  free (m->spec);
  free (m->target);
  free (m->source);
  free (m->id);
  free (m->from);
  free (m->size);
  free (m->env);
  memset (m, 0, sizeof *m);
}

/* s is all digits of base and at most max (mode=, uid=, gid= of a mount): *out its value. */
static bool
number (const char *s, int base, unsigned long max, int64_t *out)
{
  char *end;
  unsigned long v;

  if (!*s || strspn (s, base == 8 ? "01234567" : "0123456789") != strlen (s))
    return false;
  errno = 0;
  v = strtoul (s, &end, base);
  if (errno != 0 || *end != '\0' || v > max)
    return false;
  *out = (int64_t) v;
  return true;
}

static int
lookup (const char *const *names, size_t n, const char *v)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcasecmp (names[i], v) == 0)
      return (int) i;
  return -1;
}

int
plan_mount_parse (const char *value, struct plan_mount *m, bale_error_t *err)
{
  cleanup_free char *copy = xstrdup (value);
  cleanup_free char *type = NULL, *sharing = NULL, *mode = NULL, *uid = NULL, *gid = NULL;
  char *save = copy, *item;
  int64_t n;

  memset (m, 0, sizeof *m);
  m->spec = xstrdup (value);
  m->mode = -1;
  m->uid = m->gid = -1;
  while ((item = strsep (&save, ",")) != NULL)
    {
      char *eq = strchr (item, '=');
      char **slot = NULL;
      const char *v = eq ? eq + 1 : "true";
      if (eq)
        *eq = '\0';
      if (!strcasecmp (item, "type"))
        slot = &type;
      else if (!strcasecmp (item, "target") || !strcasecmp (item, "dst") || !strcasecmp (item, "destination"))
        slot = &m->target;
      else if (!strcasecmp (item, "source") || !strcasecmp (item, "src"))
        slot = &m->source;
      else if (!strcasecmp (item, "id"))
        slot = &m->id;
      else if (!strcasecmp (item, "from"))
        slot = &m->from;
      else if (!strcasecmp (item, "sharing"))
        slot = &sharing;
      else if (!strcasecmp (item, "mode"))
        slot = &mode;
      else if (!strcasecmp (item, "uid"))
        slot = &uid;
      else if (!strcasecmp (item, "gid"))
        slot = &gid;
      else if (!strcasecmp (item, "size"))
        slot = &m->size;
      else if (!strcasecmp (item, "rw") || !strcasecmp (item, "readwrite"))
        m->rw = strcmp (v, "false") != 0;
      else if (!strcasecmp (item, "ro") || !strcasecmp (item, "readonly"))
        m->rw = strcmp (v, "false") == 0;
      else if (!strcasecmp (item, "required"))
        m->required = strcmp (v, "false") != 0;
      else if (!strcasecmp (item, "env"))
        slot = &m->env;
      else
        return bale_make_error (err, 0, "--mount=%s: unknown option \"%s\"", value, item);
      if (slot)
        {
          free (*slot);
          *slot = xstrdup (v);
        }
    }
  if (type)
    {
      int t = lookup (type_names, sizeof type_names / sizeof *type_names, type);
      if (t < 0)
        return bale_make_error (err, 0, "--mount=%s: mount type \"%s\" is not supported", value, type);
      m->type = (enum plan_mount_type) t;
    }
  if (sharing)
    {
      int s = lookup (sharing_names, sizeof sharing_names / sizeof *sharing_names, sharing);
      if (s < 0)
        return bale_make_error (err, 0, "--mount=%s: unsupported sharing mode \"%s\" (want shared, private or locked)",
                                value, sharing);
      m->sharing = (enum plan_mount_sharing) s;
    }
  if (mode)
    {
      if (!number (mode, 8, 07777, &n))
        return bale_make_error (err, 0, "--mount=%s: mode=%s is not an octal file mode", value, mode);
      m->mode = (int) n;
    }
  if ((uid && !number (uid, 10, 0xfffffffeUL, &m->uid)) || (gid && !number (gid, 10, 0xfffffffeUL, &m->gid)))
    return bale_make_error (err, 0, "--mount=%s: uid and gid must be numbers", value);
  /* No target: the working directory, which the RUN's dispatch knows (dispatch_run). */
  return 0;
}

json_t *
plan_mount_json (const struct plan_mount *m)
{
  return json_pack ("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:I,s:I,s:I,s:b,s:b}",
                    "type", type_names[m->type], "sharing", sharing_names[m->sharing], "target", m->target,
                    "source", m->source, "id", m->id, "from", m->from, "size", m->size, "env", m->env,
                    "mode", (json_int_t) m->mode, "uid", (json_int_t) m->uid, "gid", (json_int_t) m->gid,
                    "rw", (int) m->rw, "required", (int) m->required);
}
