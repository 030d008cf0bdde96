/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for the layer tests: scratch trees, hand-made tar streams, listings. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/oci/digest.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "tests/layerutil.h"
#include "common/banned.h"

char *
lt_mkdtemp (void)
{
  const char *tmp = getenv ("TMPDIR");
  char *path = xasprintf ("%s/bale-layer-XXXXXX", tmp && *tmp ? tmp : "/tmp");

  assert_non_null (mkdtemp (path));
  return path;
}

static int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) ftw;
  if (flag == FTW_DP)
    return rmdir (path);
  return unlink (path);
}

void
lt_rmtree (const char *path)
{
  nftw (path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
mkparents (const char *root, const char *rel)
{
  char *path = xasprintf ("%s/%s", root, rel), *p;

  assert_true (mkdir (root, 0755) == 0 || errno == EEXIST);
  for (p = path + strlen (root) + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        assert_true (mkdir (path, 0755) == 0 || errno == EEXIST);
        *p = '/';
      }
  return path;
}

void
lt_write (const char *root, const char *rel, const char *content, mode_t mode)
{
  char *path = mkparents (root, rel);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);

  assert_true (fd >= 0);
  assert_int_equal (fileio_write_all (fd, content, strlen (content)), 0);
  assert_int_equal (fchmod (fd, mode), 0);
  close (fd);
  free (path);
}

void
lt_mkdir (const char *root, const char *rel, mode_t mode)
{
  char *path = mkparents (root, rel);

  assert_true (mkdir (path, mode) == 0 || errno == EEXIST);
  assert_int_equal (chmod (path, mode), 0);
  free (path);
}

void
lt_symlink (const char *root, const char *rel, const char *target)
{
  char *path = mkparents (root, rel);

  assert_int_equal (symlink (target, path), 0);
  free (path);
}

void
lt_mtime (const char *root, const char *rel, int64_t mtime, int64_t atime)
{
  char *path = xasprintf ("%s/%s", root, rel);
  struct timespec ts[2] = { { (time_t) atime, 0 }, { (time_t) mtime, 0 } };

  assert_int_equal (utimensat (AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
  free (path);
}

int
lt_memfd (void)
{
  int fd = memfd_create ("bale-layer-test", MFD_CLOEXEC);

  assert_true (fd >= 0);
  return fd;
}

char *
lt_read (const char *root, const char *rel)
{
  char *path = xasprintf ("%s/%s", root, rel);
  FILE *f = fopen (path, "rb");
  char *buf;
  size_t n;

  free (path);
  if (f == NULL)
    return NULL;
  buf = xzalloc (65537);
  n = fread (buf, 1, 65536, f);
  buf[n] = '\0';
  fclose (f);
  return buf;
}

bool
lt_exists (const char *root, const char *rel)
{
  char *path = xasprintf ("%s/%s", root, rel);
  struct stat st;
  bool ok = lstat (path, &st) == 0;

  free (path);
  return ok;
}

/* ---- hand-made tar streams ---------------------------------------------------------------- */

struct lt_tar
{
  struct archive *a;
  int fd;
  char *filter;
};

struct lt_tar *
lt_tar_new (const char *filter)
{
  struct lt_tar *t = xzalloc (sizeof *t);

  t->fd = lt_memfd ();
  t->filter = xstrdup (filter);
  t->a = archive_write_new ();
  /* Plain pax, so tests can write any name, type and size the format can carry. */
  assert_int_equal (archive_write_set_format_pax_restricted (t->a), ARCHIVE_OK);
  /* Unbuffered, so lt_tar_hardlink can put raw headers between libarchive's entries. */
  assert_int_equal (archive_write_set_bytes_per_block (t->a, 0), ARCHIVE_OK);
  assert_int_equal (archive_write_open_fd (t->a, t->fd), ARCHIVE_OK);
  return t;
}

static struct archive_entry *
entry (const char *name, int type, int mode)
{
  struct archive_entry *e = archive_entry_new ();

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, (unsigned) type);
  archive_entry_set_perm (e, (mode_t) mode);
  archive_entry_set_mtime (e, 1000000000, 0);
  return e;
}

static void
put (struct lt_tar *t, struct archive_entry *e, const char *data)
{
  assert_int_equal (archive_write_header (t->a, e), ARCHIVE_OK);
  if (data)
    assert_int_equal (archive_write_data (t->a, data, strlen (data)), (la_ssize_t) strlen (data));
  archive_entry_free (e);
}

void
lt_tar_file (struct lt_tar *t, const char *name, const char *data, int mode)
{
  struct archive_entry *e = entry (name, AE_IFREG, mode);

  archive_entry_set_size (e, (la_int64_t) strlen (data));
  put (t, e, data);
}

void
lt_tar_dir (struct lt_tar *t, const char *name, int mode)
{
  put (t, entry (name, AE_IFDIR, mode), NULL);
}

void
lt_tar_symlink (struct lt_tar *t, const char *name, const char *target)
{
  struct archive_entry *e = entry (name, AE_IFLNK, 0777);

  archive_entry_set_symlink (e, target);
  put (t, e, NULL);
}

/* A raw USTAR header (POSIX.1-1988 layout) of type type for name with len bytes of data,
   then the data padded to 512 bytes. */
static void
raw_entry (struct lt_tar *t, char type, const char *name, const char *target, const char *data)
{
  unsigned char h[512];
  char block[512];
  unsigned sum = 0;
  size_t i, len = strlen (data);

  memset (h, 0, sizeof h);
  memcpy (h, name, strlen (name));
  memcpy (h + 100, "0000644", 7);
  memcpy (h + 108, "0000000", 7);
  memcpy (h + 116, "0000000", 7);
  snprintf ((char *) h + 124, 12, "%011o", (unsigned) len);
  snprintf ((char *) h + 136, 12, "%011o", 1000000000u);
  memset (h + 148, ' ', 8);
  h[156] = (unsigned char) type;
  memcpy (h + 157, target, strlen (target));
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  for (i = 0; i < sizeof h; i++)
    sum += h[i];
  snprintf ((char *) h + 148, 8, "%06o", sum);
  assert_int_equal (fileio_write_all (t->fd, h, sizeof h), 0);
  memset (block, 0, sizeof block);
  memcpy (block, data, len);
  assert_int_equal (fileio_write_all (t->fd, block, sizeof block), 0);
}

/* libarchive will not write data for a hard link, so such an entry is made by hand. Only
   with a PAX header first do readers take its size as data (pax interchange format lets
   hard links carry data; old tar ignored it): that is the CVE-2016-5418 shape. */
static void
raw_hardlink (struct lt_tar *t, const char *name, const char *target, const char *data)
{
  raw_entry (t, 'x', "PaxHeader/h", "", "12 uid=1000\n");
  raw_entry (t, '1', name, target, data);
}

void
lt_tar_hardlink (struct lt_tar *t, const char *name, const char *target, const char *data)
{
  struct archive_entry *e;

  if (data)
    {
      /* The previous entry's padding is written when it is finished. */
      assert_int_equal (archive_write_finish_entry (t->a), ARCHIVE_OK);
      raw_hardlink (t, name, target, data);
      return;
    }
  e = entry (name, AE_IFREG, 0644);
  archive_entry_set_hardlink (e, target);
  put (t, e, NULL);
}

void
lt_tar_char (struct lt_tar *t, const char *name, int major, int minor)
{
  struct archive_entry *e = entry (name, AE_IFCHR, 0600);

  archive_entry_set_rdevmajor (e, (dev_t) major);
  archive_entry_set_rdevminor (e, (dev_t) minor);
  put (t, e, NULL);
}

static int
compress_fd (int in, const char *filter)
{
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();
  int out = lt_memfd ();
  char buf[65536];
  ssize_t n;

  assert_int_equal (archive_write_set_format_raw (a), ARCHIVE_OK);
  if (strcmp (filter, "gzip") == 0)
    assert_int_equal (archive_write_add_filter_gzip (a), ARCHIVE_OK);
  else
    assert_int_equal (archive_write_add_filter_zstd (a), ARCHIVE_OK);
  assert_int_equal (archive_write_set_bytes_in_last_block (a, 1), ARCHIVE_OK);
  assert_int_equal (archive_write_open_fd (a, out), ARCHIVE_OK);
  archive_entry_set_pathname (e, "x");
  archive_entry_set_filetype (e, AE_IFREG);
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  while ((n = read (in, buf, sizeof buf)) > 0)
    assert_int_equal (archive_write_data (a, buf, (size_t) n), n);
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  archive_entry_free (e);
  close (in);
  assert_int_equal (lseek (out, 0, SEEK_SET), 0);
  return out;
}

int
lt_tar_finish (struct lt_tar *t, char *diff_id)
{
  bale_error_t err = NULL;
  int fd = t->fd;

  assert_int_equal (archive_write_close (t->a), ARCHIVE_OK);
  archive_write_free (t->a);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  if (diff_id)
    {
      assert_int_equal (digest_file (fd, diff_id, NULL, &err), 0);
      assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
    }
  if (strcmp (t->filter, "none") != 0)
    fd = compress_fd (fd, t->filter);
  free (t->filter);
  free (t);
  return fd;
}
