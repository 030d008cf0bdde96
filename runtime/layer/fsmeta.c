/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The flattened file table of an image, built by streaming its layers in order. */
#include <config.h>

#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/fsmeta.h"
#include "runtime/layer/layer.h"
#include "common/banned.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define OPAQUE_NAME ".wh..wh..opq"

/*
 * An open-addressing hash table of files by path. Whited-out files keep their slot (gone)
 * instead of being deleted, so probing never needs tombstones: a path that comes back in a
 * later layer simply revives its slot.
 */
struct fsmeta
{
  struct fsmeta_file **slots;
  size_t cap, used;
  unsigned layer;      /* the layer being applied */
  json_t *whiteouts;   /* paths this layer deletes, as a set (keys) */
  json_t *opaques;     /* directories whose lower contents this layer hides */
  const char *name;    /* the layer, for errors */
};

struct fsmeta *
fsmeta_new (void)
{
  struct fsmeta *fs = xzalloc (sizeof *fs);

  fs->cap = 1024;
  fs->slots = xcalloc (fs->cap, sizeof *fs->slots);
  return fs;
}

static void
file_clear (struct fsmeta_file *f)
{
  free (f->symlink);
  free (f->hardlink);
  json_decref (f->xattrs);
  f->symlink = f->hardlink = NULL;
  f->xattrs = NULL;
  f->digest[0] = '\0';
}

void
fsmeta_free (struct fsmeta *fs)
{
  size_t i;

  if (!fs)
    return;
  for (i = 0; i < fs->cap; i++)
    if (fs->slots[i])
      {
        file_clear (fs->slots[i]);
        free (fs->slots[i]->path);
        free (fs->slots[i]);
      }
  free (fs->slots);
  free (fs);
}

/* FNV-1a: short keys, no adversary to speak of (a hostile layer only slows its own diff). */
static size_t
hash_path (const char *s)
{
  uint64_t h = 14695981039346656037ULL;

  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return (size_t) h;
}

static size_t
find_slot (struct fsmeta_file **slots, size_t cap, const char *path)
{
  size_t i = hash_path (path) & (cap - 1);

  while (slots[i] && strcmp (slots[i]->path, path) != 0)
    i = (i + 1) & (cap - 1);
  return i;
}

static void
grow (struct fsmeta *fs)
{
  size_t cap = fs->cap * 2, i;
  struct fsmeta_file **slots = xcalloc (cap, sizeof *slots);

  for (i = 0; i < fs->cap; i++)
    if (fs->slots[i])
      slots[find_slot (slots, cap, fs->slots[i]->path)] = fs->slots[i];
  free (fs->slots);
  fs->slots = slots;
  fs->cap = cap;
}

static struct fsmeta_file *
lookup (const struct fsmeta *fs, const char *path)
{
  struct fsmeta_file *f = fs->slots[find_slot (fs->slots, fs->cap, path)];

  return f && !f->gone ? f : NULL;
}

/* The slot for path, emptied of what a lower layer left there; path is taken. */
static struct fsmeta_file *
take_slot (struct fsmeta *fs, char *path)
{
  size_t i;

  if ((fs->used + 1) * 10 > fs->cap * 7)
    grow (fs);
  i = find_slot (fs->slots, fs->cap, path);
  if (fs->slots[i])
    {
      free (path);
      file_clear (fs->slots[i]);
    }
  else
    {
      fs->slots[i] = xzalloc (sizeof **fs->slots);
      fs->slots[i]->path = path;
      fs->used++;
    }
  fs->slots[i]->gone = false;
  fs->slots[i]->layer = fs->layer;
  return fs->slots[i];
}

/* "./a//b/../c/" → "/a/c": ".." stops at the root, as layer_extract resolves paths. */
static char *
normalize (const char *in)
{
  struct strbuf sb = STRBUF_INIT;

  while (*in)
    {
      size_t len = strcspn (in, "/");

      if (len == 2 && in[0] == '.' && in[1] == '.')
        {
          char *slash = strrchr (sb.buf, '/');
          strbuf_setlen (&sb, slash ? (size_t) (slash - sb.buf) : 0);
        }
      else if (len > 0 && !(len == 1 && in[0] == '.'))
        {
          strbuf_addch (&sb, '/');
          strbuf_add (&sb, in, len);
        }
      in += len;
      in += strspn (in, "/");
    }
  if (sb.len == 0)
    strbuf_addch (&sb, '/');
  return strbuf_detach (&sb, NULL);
}

static json_t *
read_xattrs (struct archive_entry *e)
{
  const char *name;
  const void *value;
  size_t size, i;
  json_t *x = NULL;

  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    {
      struct strbuf hex = STRBUF_INIT;

      /* layer_extract drops overlay bookkeeping: it is never part of the image's files. */
      if (strncmp (name, "trusted.overlay.", 16) == 0 || strncmp (name, "user.overlay.", 13) == 0)
        continue;
      for (i = 0; i < size; i++)
        strbuf_addf (&hex, "%02x", ((const unsigned char *) value)[i]);
      if (!x)
        x = json_object ();
      json_object_set_new (x, name, json_string (hex.buf));
      strbuf_release (&hex);
    }
  return x;
}

static char
type_of (struct archive_entry *e)
{
  switch (archive_entry_filetype (e))
    {
    case AE_IFDIR: return 'd';
    case AE_IFLNK: return 'l';
    case AE_IFCHR: return 'c';
    case AE_IFBLK: return 'b';
    case AE_IFIFO: return 'p';
    default: return '-';
    }
}

/* A hard link shares the inode of the file it names, so it shows that file's attributes as
   they were when the link was made; a later layer rewriting the target does not change it. */
static void
copy_inode (struct fsmeta_file *f, const struct fsmeta_file *target)
{
  f->type = target->type;
  f->mode = target->mode;
  f->uid = target->uid;
  f->gid = target->gid;
  f->mtime = target->mtime;
  f->mtime_ns = target->mtime_ns;
  memcpy (f->digest, target->digest, sizeof f->digest);
  f->symlink = target->symlink ? xstrdup (target->symlink) : NULL;
  f->rdev_major = target->rdev_major;
  f->rdev_minor = target->rdev_minor;
  f->xattrs = target->xattrs ? json_deep_copy (target->xattrs) : NULL;
}

static void
fill_from_entry (struct fsmeta_file *f, struct archive_entry *e)
{
  f->type = type_of (e);
  f->mode = (unsigned) archive_entry_perm (e) & 07777;
  f->uid = archive_entry_uid (e);
  f->gid = archive_entry_gid (e);
  f->mtime = archive_entry_mtime (e);
  f->mtime_ns = archive_entry_mtime_nsec (e);
  if (f->type == 'l')
    f->symlink = xstrdup (archive_entry_symlink (e) ? archive_entry_symlink (e) : "");
  if (f->type == 'c' || f->type == 'b')
    {
      f->rdev_major = (unsigned) archive_entry_rdevmajor (e);
      f->rdev_minor = (unsigned) archive_entry_rdevminor (e);
    }
  f->xattrs = read_xattrs (e);
}

/* Record the whiteout at path (normalised, base its last component); it takes effect when
   the layer ends (apply_whiteouts). */
static int
note_whiteout (struct fsmeta *fs, const char *path, const char *base, bale_error_t *err)
{
  size_t plen = (size_t) (base - path) - 1;
  cleanup_free char *parent = xstrndup (path, plen ? plen : 1);
  cleanup_free char *target = NULL;

  if (strcmp (base, OPAQUE_NAME) == 0)
    {
      json_object_set_new (fs->opaques, parent, json_true ());
      return 0;
    }
  /* Other .wh..wh.* names are aufs bookkeeping (.wh..wh.plnk), not files of the image:
     layer_extract and containerd skip them too. */
  if (strncmp (base, WHITEOUT_META_PREFIX, strlen (WHITEOUT_META_PREFIX)) == 0)
    return 0;
  base += strlen (WHITEOUT_PREFIX);
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return bale_make_error (err, 0, "%s: invalid whiteout '%s'", fs->name, path);
  target = xasprintf ("%s/%s", plen ? parent : "", base);
  json_object_set_new (fs->whiteouts, target, json_true ());
  return 0;
}

/* The entry at path (taken) is a hard link to link, an earlier path of this layer. */
static void
add_hardlink (struct fsmeta *fs, char *path, const char *link, struct archive_entry *e)
{
  char *tpath = normalize (link);
  const struct fsmeta_file *t = lookup (fs, tpath);
  struct fsmeta_file *f;

  /* Files live outside the slot array, so t stays valid while take_slot grows it. A link
     to itself has nothing to copy. */
  if (t && strcmp (t->path, path) == 0)
    t = NULL;
  f = take_slot (fs, path);
  f->hardlink = tpath;
  if (t)
    copy_inode (f, t);
  else
    fill_from_entry (f, e);
}

static int
apply_entry (void *ctx, struct archive *a, struct archive_entry *e, bale_error_t *err)
{
  struct fsmeta *fs = ctx;
  const char *raw = archive_entry_pathname (e);
  const char *link = archive_entry_hardlink (e);
  const struct fsmeta_file *old;
  struct fsmeta_file *f;
  char *path, *base;

  if (!raw)
    return bale_make_error (err, 0, "%s: an entry has no name", fs->name);
  path = normalize (raw);
  base = strrchr (path, '/') + 1;
  if (strncmp (base, WHITEOUT_PREFIX, strlen (WHITEOUT_PREFIX)) == 0)
    {
      int ret = note_whiteout (fs, path, base, err);
      free (path);
      return ret;
    }
  old = lookup (fs, path);
  /* A non-directory over a directory: the directory's lower contents go with it. */
  if (old && old->type == 'd' && (type_of (e) != 'd' || link) && old->layer < fs->layer)
    json_object_set_new (fs->opaques, path, json_true ());
  if (link)
    {
      add_hardlink (fs, path, link, e);
      return 0;
    }
  f = take_slot (fs, path);
  fill_from_entry (f, e);
  if (f->type == '-')
    return layer_data_digest (a, f->path, f->digest, err);
  return 0;
}

/* Is path itself whited out, or below a whited-out path or an opaque directory? */
static bool
hidden (const struct fsmeta *fs, const char *path)
{
  cleanup_free char *buf = xstrdup (path);
  char *slash;

  if (strcmp (path, "/") == 0)
    return false;
  if (json_object_get (fs->whiteouts, path))
    return true;
  while ((slash = strrchr (buf, '/')) != NULL)
    {
      slash[slash == buf ? 1 : 0] = '\0';
      if (json_object_get (fs->whiteouts, buf) || json_object_get (fs->opaques, buf))
        return true;
      if (slash == buf)
        break;
    }
  return false;
}

/* Whiteouts apply to the layers below only, so they wait until the whole layer is read:
   then whatever this layer wrote is known and kept, in whichever order the tar had it. */
static void
apply_whiteouts (struct fsmeta *fs)
{
  size_t i;

  if (json_object_size (fs->whiteouts) == 0 && json_object_size (fs->opaques) == 0)
    return;
  for (i = 0; i < fs->cap; i++)
    {
      struct fsmeta_file *f = fs->slots[i];

      if (f && !f->gone && f->layer < fs->layer && hidden (fs, f->path))
        {
          file_clear (f);
          f->gone = true;
        }
    }
}

int
fsmeta_apply_layer (struct fsmeta *fs, int fd, const char *name, bale_error_t *err)
{
  int ret;

  fs->whiteouts = json_object ();
  fs->opaques = json_object ();
  fs->name = name;
  ret = layer_read (fd, apply_entry, fs, err);
  if (ret == 0)
    apply_whiteouts (fs);
  json_decref (fs->whiteouts);
  json_decref (fs->opaques);
  fs->whiteouts = fs->opaques = NULL;
  fs->layer++;
  return ret;
}

static int
by_path (const void *a, const void *b)
{
  const struct fsmeta_file *const *x = a, *const *y = b;

  return strcmp ((*x)->path, (*y)->path);
}

const struct fsmeta_file **
fsmeta_sorted (const struct fsmeta *fs, size_t *n)
{
  const struct fsmeta_file **out = xcalloc (fs->used + 1, sizeof *out);
  size_t i, k = 0;

  for (i = 0; i < fs->cap; i++)
    if (fs->slots[i] && !fs->slots[i]->gone)
      out[k++] = fs->slots[i];
  qsort (out, k, sizeof *out, by_path);
  *n = k;
  return out;
}
