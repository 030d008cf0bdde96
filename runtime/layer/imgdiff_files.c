/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differences between two flattened file systems, path by path. */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime/layer/imgdiff.h"
#include "common/banned.h"

static const char *
type_name (char type)
{
  switch (type)
    {
    case 'd': return "directory";
    case 'l': return "symlink";
    case 'c': return "char-device";
    case 'b': return "block-device";
    case 'p': return "fifo";
    default: return "file";
    }
}

static json_t *
str_or_null (const char *s)
{
  return s ? json_string (s) : NULL;
}

static void
add (struct imgdiff *d, const char *path, const char *field, json_t *a, json_t *b)
{
  imgdiff_add_take (d, IMGDIFF_FILE, field, path, -1, a, b);
}

static void
compare_str (struct imgdiff *d, const char *path, const char *field, const char *a,
             const char *b)
{
  if ((a || b) && !(a && b && strcmp (a, b) == 0))
    add (d, path, field, str_or_null (a), str_or_null (b));
}

/* Whole seconds as a number, the common case; with the nanoseconds a PAX header may carry
   as "S.NNNNNNNNN", so that two mtimes one second apart never look the same. */
static json_t *
mtime_value (const struct fsmeta_file *f)
{
  if (f->mtime_ns == 0)
    return json_integer (f->mtime);
  return json_sprintf ("%" PRId64 ".%09ld", f->mtime, f->mtime_ns);
}

static void
compare_xattrs (struct imgdiff *d, const char *path, const json_t *a, const json_t *b)
{
  const json_t *objs[2] = { a, b };
  json_auto_t *seen = json_object ();
  const char *key;
  json_t *v;
  size_t i;

  /* Keys in the order each side lists them (jansson keeps insertion order, which is the
     tar's), every key once. */
  for (i = 0; i < 2; i++)
    json_object_foreach ((json_t *) objs[i], key, v)
      {
        const char *va = json_string_value (json_object_get (a, key));
        const char *vb = json_string_value (json_object_get (b, key));
        cleanup_free char *field = NULL;

        if (json_object_get (seen, key))
          continue;
        json_object_set_new (seen, key, json_true ());
        field = xasprintf ("xattr %s", key);
        compare_str (d, path, field, va, vb);
      }
}

/* What files of any type have: mode, owner, mtime, xattrs, and whether the path is a hard
   link (two builds that differ only in hard-linking a file still ship different images). */
static void
compare_common (struct imgdiff *d, const struct fsmeta_file *a, const struct fsmeta_file *b)
{
  if (a->mode != b->mode)
    add (d, a->path, "mode", json_sprintf ("%04o", a->mode), json_sprintf ("%04o", b->mode));
  if (a->uid != b->uid || a->gid != b->gid)
    add (d, a->path, "owner", json_sprintf ("%" PRId64 ":%" PRId64, a->uid, a->gid),
         json_sprintf ("%" PRId64 ":%" PRId64, b->uid, b->gid));
  if (!(d->flags & IMGDIFF_IGNORE_TIMESTAMPS)
      && (a->mtime != b->mtime || a->mtime_ns != b->mtime_ns))
    add (d, a->path, "mtime", mtime_value (a), mtime_value (b));
  compare_str (d, a->path, "hardlink", a->hardlink, b->hardlink);
  compare_xattrs (d, a->path, a->xattrs, b->xattrs);
}

static void
compare_file (struct imgdiff *d, const struct fsmeta_file *a, const struct fsmeta_file *b)
{
  if (a->type != b->type)
    /* Content, target and device numbers of different types say nothing more. */
    add (d, a->path, "type", json_string (type_name (a->type)),
         json_string (type_name (b->type)));
  else if (a->type == '-')
    compare_str (d, a->path, "content", a->digest, b->digest);
  else if (a->type == 'l')
    compare_str (d, a->path, "symlink", a->symlink, b->symlink);
  else if ((a->type == 'c' || a->type == 'b')
           && (a->rdev_major != b->rdev_major || a->rdev_minor != b->rdev_minor))
    add (d, a->path, "device", json_sprintf ("%u,%u", a->rdev_major, a->rdev_minor),
         json_sprintf ("%u,%u", b->rdev_major, b->rdev_minor));
  compare_common (d, a, b);
}

void
imgdiff_files (struct imgdiff *d, const struct fsmeta *fa, const struct fsmeta *fb)
{
  size_t na, nb, i = 0, j = 0;
  cleanup_free const struct fsmeta_file **a = fsmeta_sorted (fa, &na);
  cleanup_free const struct fsmeta_file **b = fsmeta_sorted (fb, &nb);

  /* Both lists are sorted by path: one merge walk pairs them up. */
  while (i < na || j < nb)
    {
      int c = i == na ? 1 : j == nb ? -1 : strcmp (a[i]->path, b[j]->path);

      if (c < 0)
        {
          add (d, a[i]->path, "removed", json_string (type_name (a[i]->type)), NULL);
          i++;
        }
      else if (c > 0)
        {
          add (d, b[j]->path, "added", NULL, json_string (type_name (b[j]->type)));
          j++;
        }
      else
        compare_file (d, a[i++], b[j++]);
    }
}
