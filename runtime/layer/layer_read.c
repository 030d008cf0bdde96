/* SPDX-License-Identifier: GPL-2.0-or-later */
/* List the entries of a layer tarball, for tests and for debugging. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/units.h"
#include "runtime/layer/layer.h"
#include "common/banned.h"

static void
cleanup_read_archive (struct archive **a)
{
  archive_read_free (*a);
}

struct archive *
layer_reader_new (unsigned flags, bale_error_t *err)
{
  struct archive *a = archive_read_new ();
  bool more = (flags & LAYER_READER_XZ_BZIP2) != 0;

  if (archive_read_support_filter_none (a) != ARCHIVE_OK
      || archive_read_support_filter_gzip (a) != ARCHIVE_OK
      || archive_read_support_filter_zstd (a) != ARCHIVE_OK
      || (more && archive_read_support_filter_xz (a) != ARCHIVE_OK)
      || (more && archive_read_support_filter_bzip2 (a) != ARCHIVE_OK))
    {
      bale_make_error (err, 0, "libarchive cannot decompress %s in-process (%s): bale never "
                               "runs an external decompressor",
                       more ? "gzip, zstd, xz and bzip2" : "gzip and zstd", archive_error_string (a));
      archive_read_free (a);
      return NULL;
    }
  return a;
}

int
layer_max_size (int64_t *out, bale_error_t *err)
{
  const char *v = getenv ("BALE_MAX_LAYER_SIZE");
  uint64_t n = 0;

  *out = 0;
  if (v == NULL || *v == '\0')
    return 0;
  if (!units_parse_bytes (v, &n) || n == 0)
    return bale_make_error (err, EINVAL, "BALE_MAX_LAYER_SIZE=\"%s\": not a size in bytes (such as 64g)", v);
  *out = (int64_t) n;
  return 0;
}

/* Only the formats a layer may use, decompressed in-process. */
static struct archive *
open_reader (int fd, bale_error_t *err)
{
  struct archive *a = layer_reader_new (0, err);

  if (a == NULL)
    return NULL;
  if (archive_read_support_format_tar (a) != ARCHIVE_OK)
    {
      bale_make_error (err, 0, "cannot set up the layer reader: %s", archive_error_string (a));
      archive_read_free (a);
      return NULL;
    }
  if (archive_read_open_fd (a, fd, 65536) != ARCHIVE_OK)
    {
      bale_make_error (err, 0, "cannot read the layer: %s", archive_error_string (a));
      archive_read_free (a);
      return NULL;
    }
  return a;
}

int
layer_read (int fd, layer_entry_fn fn, void *ctx, bale_error_t *err)
{
  __attribute__ ((cleanup (cleanup_read_archive))) struct archive *a = open_reader (fd, err);
  struct archive_entry *e;
  int ret;

  if (a == NULL)
    return -1;
  while ((ret = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    if (fn (ctx, a, e, err) < 0)
      return -1;
  if (ret != ARCHIVE_EOF)
    return bale_make_error (err, 0, "cannot read the layer: %s", archive_error_string (a));
  return 0;
}

int
layer_is_tar (int fd, bale_error_t *err)
{
  __attribute__ ((cleanup (cleanup_read_archive))) struct archive *a = NULL;
  struct archive_entry *e;
  bool yes;

  if (lseek (fd, 0, SEEK_SET) < 0)
    return bale_make_error (err, errno, "cannot read the file");
  a = layer_reader_new (LAYER_READER_XZ_BZIP2, err);
  if (a == NULL)
    return -1;
  /* Like Go's tar.Reader.Next after DecompressStream: a first header read, nothing more (an
     empty archive, all zero blocks, is no archive for either). */
  yes = archive_read_support_format_tar (a) == ARCHIVE_OK
        && archive_read_open_fd (a, fd, 65536) == ARCHIVE_OK
        && archive_read_next_header (a, &e) == ARCHIVE_OK;
  if (lseek (fd, 0, SEEK_SET) < 0)
    return bale_make_error (err, errno, "cannot read the file");
  return yes ? 1 : 0;
}

static void
add_escaped (struct strbuf *out, const char *s)
{
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;

      if (c < 0x20 || c >= 0x7f || c == '\\')
        strbuf_addf (out, "\\x%02x", c);
      else
        strbuf_addch (out, (char) c);
    }
}

static char
type_char (struct archive_entry *e)
{
  if (archive_entry_hardlink (e))
    return 'h';
  switch (archive_entry_filetype (e))
    {
    case AE_IFDIR:
      return 'd';
    case AE_IFLNK:
      return 'l';
    case AE_IFCHR:
      return 'c';
    case AE_IFBLK:
      return 'b';
    case AE_IFIFO:
      return 'p';
    case AE_IFREG:
      return '-';
    default:
      return '?';
    }
}

static void
add_xattrs (struct strbuf *out, struct archive_entry *e)
{
  const char *name;
  const void *value;
  size_t size, i;

  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    {
      strbuf_addstr (out, " xattr ");
      add_escaped (out, name);
      strbuf_addch (out, '=');
      for (i = 0; i < size; i++)
        strbuf_addf (out, "%02x", ((const unsigned char *) value)[i]);
    }
}

int
layer_data_digest (struct archive *a, const char *path, char out[DIGEST_STRLEN + 1],
                   bale_error_t *err)
{
  struct digester d;
  char buf[65536];
  la_ssize_t n;

  int64_t max;

  if (layer_max_size (&max, err) < 0 || digester_init (&d, err) < 0)
    return -1;
  while ((n = archive_read_data (a, buf, sizeof buf)) > 0)
    {
      digester_update (&d, buf, (size_t) n);
      if (max > 0 && archive_filter_bytes (a, 0) > max)
        {
          digester_release (&d);
          return bale_make_error (err, EFBIG, "'%s': the layer is larger than %" PRId64
                                              " bytes uncompressed (BALE_MAX_LAYER_SIZE)", path, max);
        }
    }
  if (n < 0)
    {
      digester_release (&d);
      return bale_make_error (err, 0, "cannot read '%s' in the layer: %s", path,
                              archive_error_string (a));
    }
  return digester_final (&d, out, err);
}

static int
add_data_digest (struct strbuf *out, struct archive *a, const char *path, bale_error_t *err)
{
  char digest[DIGEST_STRLEN + 1];

  if (layer_data_digest (a, path, digest, err) < 0)
    return -1;
  strbuf_addf (out, " %s", digest);
  return 0;
}

static int
list_one (void *ctx, struct archive *a, struct archive_entry *e, bale_error_t *err)
{
  struct strbuf *out = ctx;
  char type = type_char (e);

  strbuf_addf (out, "%c %04o %" PRId64 ":%" PRId64 " %" PRId64 " %" PRId64 " ", type,
               (unsigned) archive_entry_perm (e), (int64_t) archive_entry_uid (e),
               (int64_t) archive_entry_gid (e), (int64_t) archive_entry_mtime (e),
               (int64_t) archive_entry_size (e));
  add_escaped (out, archive_entry_pathname (e));
  if (type == 'l')
    {
      strbuf_addstr (out, " -> ");
      add_escaped (out, archive_entry_symlink (e));
    }
  if (type == 'h')
    {
      strbuf_addstr (out, " hardlink ");
      add_escaped (out, archive_entry_hardlink (e));
    }
  if (type == 'c' || type == 'b')
    strbuf_addf (out, " dev %u,%u", (unsigned) archive_entry_rdevmajor (e),
                 (unsigned) archive_entry_rdevminor (e));
  add_xattrs (out, e);
  if (type == '-' && add_data_digest (out, a, archive_entry_pathname (e), err) < 0)
    return -1;
  strbuf_addch (out, '\n');
  return 0;
}

int
layer_list (int fd, struct strbuf *out, bale_error_t *err)
{
  return layer_read (fd, list_one, out, err);
}
