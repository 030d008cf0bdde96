/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/layer_extract and snapshot: round trips, whiteouts, hostile layers. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/oci/digest.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/layer.h"
#include "tests/layerutil.h"
#include "tests/testutil.h"
#include "common/banned.h"

#define T0 1700000000
static const unsigned char CAP_NET_BIND[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04 };

/* Each test gets base/ with root/ (the extraction target) and outside/ (the "host"), which
   holds secret (0400, "secret") and must never change. */
struct fixture
{
  char *base, *root, *outside;
  int root_fd;
  char *mounts[4]; /* overlay mounts to detach in teardown, even after a failure */
};

static int
setup (void **state)
{
  struct fixture *f = xzalloc (sizeof *f);

  f->base = lt_mkdtemp ();
  f->root = xasprintf ("%s/root", f->base);
  f->outside = xasprintf ("%s/outside", f->base);
  lt_mkdir (f->base, "root", 0755);
  lt_write (f->base, "outside/secret", "secret", 0400);
  f->root_fd = open (f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true (f->root_fd >= 0);
  *state = f;
  return 0;
}

static void
assert_outside_untouched (const struct fixture *f)
{
  char *secret = lt_read (f->outside, "secret");
  char *listing = NULL;
  struct stat st;
  char *path = xasprintf ("%s/secret", f->outside);
  FILE *p;
  char *cmd = xasprintf ("ls -A '%s' '%s'", f->outside, f->base);
  char buf[4096];
  size_t n;

  assert_non_null (secret);
  assert_string_equal (secret, "secret");
  assert_int_equal (lstat (path, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0400);
  assert_int_equal (st.st_nlink, 1);
  /* Nothing new beside root/ and outside/, nothing new in outside/. */
  p = popen (cmd, "r");
  assert_non_null (p);
  n = fread (buf, 1, sizeof buf - 1, p);
  buf[n] = '\0';
  pclose (p);
  listing = xasprintf ("%s:\noutside\nroot\n\n%s:\nsecret\n", f->base, f->outside);
  if (strcmp (buf, listing) != 0)
    test_fail ("outside the root changed:\n%s", buf);
  free (listing);
  free (cmd);
  free (path);
  free (secret);
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  size_t i;

  for (i = 0; i < 4; i++)
    if (f->mounts[i])
      {
        umount2 (f->mounts[i], MNT_DETACH);
        free (f->mounts[i]);
      }

  close (f->root_fd);
  lt_rmtree (f->base);
  free (f->base);
  free (f->root);
  free (f->outside);
  free (f);
  return 0;
}

static int
extract (struct fixture *f, int fd, enum layer_extract_mode mode, const char *diff_id,
         bale_error_t *err)
{
  struct layer_extract_opts opts = { .mode = mode, .expected_diff_id = diff_id };
  struct layer_extract_stats stats;
  int ret = layer_extract (fd, f->root_fd, &opts, &stats, err);

  close (fd);
  return ret;
}

static void
extract_ok (struct fixture *f, int fd, enum layer_extract_mode mode)
{
  bale_error_t err = NULL;

  if (extract (f, fd, mode, NULL, &err) < 0)
    test_fail ("layer_extract: %s", err->msg);
}

/* Extraction fails with a message containing want; then the host is checked. */
static void
extract_fails (struct fixture *f, int fd, const char *want)
{
  bale_error_t err = NULL;

  if (extract (f, fd, LAYER_EXTRACT_MERGED, NULL, &err) == 0)
    test_fail ("layer_extract succeeded, expected '%s'", want);
  if (strstr (err->msg, want) == NULL)
    test_fail ("error '%s' does not mention '%s'", err->msg, want);
  bale_error_release (&err);
  assert_outside_untouched (f);
}

static int
write_layer (const char *root, enum layer_compression c, bool overlay, struct layer_result *res)
{
  struct layer_write_opts opts = { .compression = c, .overlay_upper = overlay };
  bale_error_t err = NULL;
  int dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), out = lt_memfd ();

  assert_true (dfd >= 0);
  if (layer_write_dir (dfd, &opts, out, res, &err) < 0)
    test_fail ("layer_write_dir: %s", err->msg);
  close (dfd);
  assert_int_equal (lseek (out, 0, SEEK_SET), 0);
  return out;
}

static char *
listing_of (const char *root, bool overlay)
{
  struct layer_result res;
  struct strbuf sb = STRBUF_INIT;
  bale_error_t err = NULL;
  int fd = write_layer (root, LAYER_COMPRESSION_NONE, overlay, &res);

  if (layer_list (fd, &sb, &err) < 0)
    test_fail ("layer_list: %s", err->msg);
  close (fd);
  return strbuf_detach (&sb, NULL);
}

static void
assert_same_tree (const char *a, const char *b, bool overlay)
{
  char *la = listing_of (a, overlay), *lb = listing_of (b, overlay);

  if (strcmp (la, lb) != 0)
    test_fail ("trees differ:\n%s\n---\n%s", la, lb);
  free (la);
  free (lb);
}

static void
run (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static void
run (const char *fmt, ...)
{
  struct strbuf sb = STRBUF_INIT;
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  if (system (sb.buf) != 0)
    test_fail ("command failed: %s", sb.buf);
  strbuf_release (&sb);
}

static void
assert_content (const char *root, const char *rel, const char *want)
{
  char *got = lt_read (root, rel);

  if (got == NULL || strcmp (got, want) != 0)
    test_fail ("'%s' holds '%s', not '%s'", rel, got ? got : "(nothing)", want);
  free (got);
}

static bool
exists_below (const char *root, const char *dir, const char *name)
{
  char *rel = xasprintf ("%s/%s", dir, name);
  bool ok = lt_exists (root, rel);

  free (rel);
  return ok;
}

/* Every kind of entry, as in test_layer. */
static void
make_rich_tree (const char *root)
{
  char *p;

  lt_write (root, "a/setuid", "suid", 04755);
  lt_write (root, "b/file", "data", 0640);
  lt_symlink (root, "a/link", "../b/file");
  lt_symlink (root, "a/abs", "/etc/passwd");
  lt_symlink (root, "a/up", "../../../../../../x");
  run ("ln '%s/b/file' '%s/b/hard' && mknod '%s/null' c 1 3 && mkfifo '%s/fifo'", root, root,
       root, root);
  lt_write (root, "caf\xe9", "latin-1", 0600);
  lt_write (root, "long/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
                  "dddddddddddddddddddddddddddddddddddddddddddddddddd/ffffffffffffffffffffffffffff"
                  "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "long", 0644);
  p = xasprintf ("%s/b/file", root);
  assert_int_equal (setxattr (p, "security.capability", CAP_NET_BIND, sizeof CAP_NET_BIND, 0), 0);
  assert_int_equal (setxattr (p, "user.k", "v", 1, 0), 0);
  free (p);
  p = xasprintf ("%s/a", root);
  assert_int_equal (chown (p, 1234, 5678), 0);
  free (p);
  /* setuid and setgid survive their owner being set (chown clears them) */
  lt_write (root, "a/owned", "mine", 0644);
  p = xasprintf ("%s/a/owned", root);
  assert_int_equal (chown (p, 4242, 4343), 0);
  assert_int_equal (chmod (p, 06755), 0);
  free (p);
  run ("find '%s' -exec touch -h -d @%d {} +", root, T0);
}

/* ---- round trips -------------------------------------------------------------------------- */

static void
roundtrip (void **state, enum layer_compression c)
{
  struct fixture *f = *state;
  char *src = xasprintf ("%s/src", f->base);
  struct layer_result res;
  bale_error_t err = NULL;
  int fd;

  make_rich_tree (src);
  fd = write_layer (src, c, false, &res);
  if (extract (f, fd, LAYER_EXTRACT_MERGED, res.diff_id, &err) < 0)
    test_fail ("layer_extract: %s", err->msg);
  /* Owners, modes (setuid), mtimes (directories too), xattrs, links and devices. */
  assert_same_tree (src, f->root, false);
  lt_rmtree (src);
  free (src);
}

static void
test_roundtrip_gzip (void **state)
{
  roundtrip (state, LAYER_COMPRESSION_GZIP);
}

static void
test_roundtrip_zstd (void **state)
{
  roundtrip (state, LAYER_COMPRESSION_ZSTD);
}

static void
test_roundtrip_none (void **state)
{
  roundtrip (state, LAYER_COMPRESSION_NONE);
}

static void
test_hardlinks_share_inode (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");
  char *a = xasprintf ("%s/d/f", f->root), *b = xasprintf ("%s/g", f->root);
  struct stat sa, sb;

  lt_tar_dir (t, "d", 0755);
  lt_tar_file (t, "d/f", "x", 0644);
  lt_tar_hardlink (t, "g", "./d/f", NULL);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_int_equal (lstat (a, &sa), 0);
  assert_int_equal (lstat (b, &sb), 0);
  assert_int_equal (sa.st_ino, sb.st_ino);
  assert_int_equal (sa.st_nlink, 2);
  free (a);
  free (b);
}

/* A hard link's header applies to the shared inode, as moby's archive package applies it
   (finding F10 of tests/diff-fuzz): the link entry says 0644, the file was 0600. */
static void
test_hardlink_header_applies (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");
  char *a = xasprintf ("%s/f", f->root);
  struct stat st;

  lt_tar_file (t, "f", "x", 0600);
  lt_tar_hardlink (t, "g", "f", NULL);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_ARCHIVE);
  assert_int_equal (lstat (a, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0644);
  assert_int_equal (st.st_nlink, 2);
  free (a);
}

/* overlay upper -> layer -> OVERLAY snapshot -> layer: the same whiteouts and markers. */
static void
test_overlay_roundtrip (void **state)
{
  struct fixture *f = *state;
  char *up = xasprintf ("%s/upper", f->base);
  struct layer_result res;
  char *p;

  lt_mkdir (up, "etc", 0755);
  run ("mknod '%s/etc/gone' c 0 0 && mknod '%s/gonedir' c 0 0", up, up);
  lt_write (up, "etc/new", "n", 0644);
  lt_write (up, "opq/kept", "k", 0644);
  p = xasprintf ("%s/opq", up);
  assert_int_equal (setxattr (p, "trusted.overlay.opaque", "y", 1, 0), 0);
  free (p);
  run ("find '%s' -exec touch -h -d @%d {} +", up, T0);
  extract_ok (f, write_layer (up, LAYER_COMPRESSION_GZIP, true, &res), LAYER_EXTRACT_OVERLAY);
  assert_same_tree (up, f->root, true);
  {
    char v[4];
    p = xasprintf ("%s/opq", f->root);
    assert_int_equal (getxattr (p, "trusted.overlay.opaque", v, sizeof v), 1);
    assert_int_equal (v[0], 'y');
    free (p);
  }
  lt_rmtree (up);
  free (up);
}

/* MERGED: whiteouts delete lower content, opaque markers empty lower directories, and
   neither touches what the same layer created. */
static void
test_merged_whiteouts (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("gzip");

  lt_write (f->root, "etc/passwd", "lower", 0644);
  lt_write (f->root, "etc/group", "lower", 0644);
  lt_write (f->root, "var/lib/x/y", "lower", 0644);
  lt_write (f->root, "opq/old/deep", "lower", 0644);
  lt_write (f->root, "opq/keepdir/lowerchild", "lower", 0644);
  lt_tar_dir (t, "etc", 0755);
  lt_tar_file (t, "etc/.wh.passwd", "", 0644);
  lt_tar_file (t, ".wh.var", "", 0644);
  lt_tar_file (t, "etc/new", "new", 0644);
  lt_tar_file (t, "etc/.wh.new", "", 0644);        /* same layer: survives */
  lt_tar_file (t, "etc/.wh.nonexistent", "", 0644); /* nothing to delete */
  lt_tar_file (t, "etc/group/.wh.x", "", 0644);     /* parent is a file: nothing either */
  lt_tar_dir (t, "opq", 0755);
  lt_tar_file (t, "opq/fresh", "fresh", 0644);
  lt_tar_dir (t, "opq/keepdir", 0755);
  lt_tar_file (t, "opq/.wh..wh..opq", "", 0644); /* after new children: they survive */
  lt_tar_file (t, ".wh.etc/somefile", "not a whiteout", 0644);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_false (lt_exists (f->root, "etc/passwd"));
  assert_true (lt_exists (f->root, "etc/group"));
  assert_false (lt_exists (f->root, "var"));
  assert_true (lt_exists (f->root, "etc/new"));
  assert_false (lt_exists (f->root, "opq/old"));
  assert_true (lt_exists (f->root, "opq/fresh"));
  assert_true (lt_exists (f->root, "opq/keepdir"));
  assert_false (lt_exists (f->root, "opq/keepdir/lowerchild"));
  assert_false (lt_exists (f->root, "opq/.wh..wh..opq"));
  assert_true (lt_exists (f->root, ".wh.etc/somefile"));
  assert_outside_untouched (f);
}

/* ---- diff_id ------------------------------------------------------------------------------ */

static void
test_diff_id_verified (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("gzip");
  char diff_id[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  int fd;

  lt_tar_file (t, "f", "x", 0644);
  fd = lt_tar_finish (t, diff_id);
  assert_int_equal (extract (f, dup (fd), LAYER_EXTRACT_MERGED, diff_id, &err), 0);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  assert_true (extract (f, fd, LAYER_EXTRACT_MERGED,
                        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                        &err)
               < 0);
  assert_non_null (strstr (err->msg, "diff_id mismatch"));
  assert_non_null (strstr (err->msg, diff_id));
  bale_error_release (&err);
}

/* Bytes after the end-of-archive blocks are part of the diff_id (docker load hashes the
   whole decompressed stream). */
static void
test_diff_id_trailing_bytes (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");
  char diff_id[DIGEST_STRLEN + 1], whole[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  int fd;

  lt_tar_file (t, "f", "x", 0644);
  fd = lt_tar_finish (t, diff_id);
  assert_int_equal (lseek (fd, 0, SEEK_END) > 0, 1);
  assert_int_equal (write (fd, "garbage", 7), 7);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  assert_int_equal (digest_file (fd, whole, NULL, &err), 0);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  assert_true (extract (f, dup (fd), LAYER_EXTRACT_MERGED, diff_id, &err) < 0);
  bale_error_release (&err);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  assert_int_equal (extract (f, fd, LAYER_EXTRACT_MERGED, whole, &err), 0);
}

/* The blob digest covers every byte read from fd, after the compressed stream too. */
static void
test_blob_digest (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("gzip");
  struct layer_extract_opts opts = { .mode = LAYER_EXTRACT_MERGED };
  struct layer_extract_stats stats;
  char diff_id[DIGEST_STRLEN + 1], blob[DIGEST_STRLEN + 1];
  bale_error_t err = NULL;
  int fd;

  lt_tar_file (t, "f", "x", 0644);
  fd = lt_tar_finish (t, diff_id);
  assert_true (lseek (fd, 0, SEEK_END) > 0);
  assert_int_equal (write (fd, "trailing", 8), 8);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  assert_int_equal (digest_file (fd, blob, NULL, &err), 0);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  /* libarchive's gzip reader stops at the end of the last member and ignores the rest */
  if (layer_extract (fd, f->root_fd, &opts, &stats, &err) < 0)
    test_fail ("layer_extract: %s", err->msg);
  assert_string_equal (stats.diff_id, diff_id);
  assert_string_equal (stats.digest, blob);
  assert_int_equal (stats.entries, 1);
  close (fd);
}

/* A gzip bomb: 64 MiB of zeros in a 64 KiB blob, against a 1 MiB limit. */
static void
test_limits (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("gzip");
  struct layer_extract_opts opts = { .mode = LAYER_EXTRACT_MERGED, .max_tar_bytes = 1 << 20 };
  bale_error_t err = NULL;
  char *zeros = xzalloc ((1 << 26) + 1);
  int fd, i;

  memset (zeros, '0', 1 << 26);
  lt_tar_file (t, "bomb", zeros, 0644);
  fd = lt_tar_finish (t, NULL);
  assert_true (lseek (fd, 0, SEEK_END) < (1 << 20));
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  assert_true (layer_extract (fd, f->root_fd, &opts, NULL, &err) < 0);
  assert_non_null (strstr (err->msg, "larger than 1048576 bytes"));
  bale_error_release (&err);
  close (fd);
  free (zeros);

  t = lt_tar_new ("none");
  for (i = 0; i < 10; i++)
    lt_tar_dir (t, "d", 0755);
  fd = lt_tar_finish (t, NULL);
  opts = (struct layer_extract_opts){ .mode = LAYER_EXTRACT_MERGED, .max_entries = 9 };
  assert_true (layer_extract (fd, f->root_fd, &opts, NULL, &err) < 0);
  assert_non_null (strstr (err->msg, "more than 9 entries"));
  bale_error_release (&err);
  close (fd);
  assert_outside_untouched (f);
}

/* Duplicate entries: the last one wins, as in containerd; a file replaces a directory. */
static void
test_duplicates_and_replacements (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");

  lt_write (f->root, "x/lower", "lower", 0644);
  lt_tar_file (t, "a", "first", 0644);
  lt_tar_file (t, "a", "second", 0600);
  lt_tar_file (t, "x", "now a file", 0644);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_content (f->root, "a", "second");
  assert_content (f->root, "x", "now a file");
}

/* A stream that ends inside an entry's data, and GNU sparse entries (size bombs). */
static void
test_truncated_and_sparse (void **state)
{
  struct fixture *f = *state;
  char *scratch = lt_mkdtemp (); /* beside the fixture, which must hold nothing new */
  char *path = xasprintf ("%s/t.tar", scratch), *src = xasprintf ("%s/src", scratch);
  int fd;

  lt_write (src, "big", "0123456789", 0644);
  run ("head -c 5000 /dev/zero >> '%s/big' && tar -C '%s' -cf '%s' big && truncate -s 1500 '%s'",
       src, src, path, path);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  extract_fails (f, fd, "cannot read the layer");
  run ("rm -f '%s/big' && truncate -s 100M '%s/sparse' && printf x >> '%s/sparse' && "
       "tar -C '%s' --sparse --format=posix -cf '%s' sparse",
       src, src, src, src, path);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  extract_fails (f, fd, "sparse layer entry 'sparse' is not supported");
  run ("tar -C '%s' --sparse --format=gnu -cf '%s' sparse", src, path);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  extract_fails (f, fd, "sparse layer entry 'sparse' is not supported");
  assert_false (lt_exists (f->root, "sparse"));
  lt_rmtree (scratch);
  free (scratch);
  free (path);
  free (src);
}

/* An ADDed archive's PAX sparse entries (formats 1.0 and 0.1, made by GNU tar) are unpacked
   as BuildKit unpacks them: the data at its offsets, the holes holes, the real size; an old
   GNU sparse entry is refused, as moby's archive refuses it (FINDINGS F59). */
static void
test_archive_sparse (void **state)
{
  struct fixture *f = *state;
  char *scratch = lt_mkdtemp ();
  char *path = xasprintf ("%s/t.tar", scratch), *src = xasprintf ("%s/src", scratch);
  const char *formats[] = { "posix", "posix --sparse-version=0.1", "gnu" };
  bale_error_t err = NULL;
  size_t i;

  lt_write (src, "keep", "k", 0644);
  run ("truncate -s 100M '%s/sparse' && printf head | dd of='%s/sparse' conv=notrunc 2>/dev/null && "
       "printf x >> '%s/sparse'", src, src, src);
  for (i = 0; i < 3; i++)
    {
      struct stat st;
      char buf[5] = { 0 };
      int fd, rfd;
      run ("tar -C '%s' --sparse --format=%s -cf '%s' sparse keep", src, formats[i], path);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      assert_true (fd >= 0);
      if (strcmp (formats[i], "gnu") == 0)
        {
          /* the old GNU sparse header (type 'S'), which moby's archive refuses */
          assert_int_equal (extract (f, fd, LAYER_EXTRACT_ARCHIVE, NULL, &err), -1);
          assert_non_null (strstr (err->msg, "unhandled tar header type 83"));
          bale_error_release (&err);
          assert_false (lt_exists (f->root, "sparse"));
          break;
        }
      extract_ok (f, fd, LAYER_EXTRACT_ARCHIVE);
      assert_int_equal (fstatat (f->root_fd, "sparse", &st, AT_SYMLINK_NOFOLLOW), 0);
      assert_true (S_ISREG (st.st_mode));
      assert_int_equal (st.st_size, 100 * 1024 * 1024 + 1);
      assert_true (st.st_blocks < 1024); /* the holes stayed holes */
      rfd = openat (f->root_fd, "sparse", O_RDONLY | O_CLOEXEC);
      assert_true (rfd >= 0);
      assert_int_equal (pread (rfd, buf, 4, 0), 4);
      assert_memory_equal (buf, "head", 4);
      assert_int_equal (pread (rfd, buf, 1, 100 * 1024 * 1024), 1);
      assert_int_equal (buf[0], 'x');
      assert_int_equal (pread (rfd, buf, 2, 50 * 1024 * 1024), 2);
      assert_int_equal (buf[0] | buf[1], 0);
      close (rfd);
      assert_true (lt_exists (f->root, "keep"));
      run ("rm -f '%s/sparse' '%s/keep'", f->root, f->root);
    }
  lt_rmtree (scratch);
  free (scratch);
  free (path);
  free (src);
}

static void
test_not_a_layer (void **state)
{
  struct fixture *f = *state;
  int fd = lt_memfd ();

  extract_fails (f, dup (fd), "cannot read the layer");
  assert_int_equal (write (fd, "this is not a tar archive, not even close to one", 48), 48);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  extract_fails (f, fd, "cannot read the layer");
}

/* ---- hostile layers (repro-security.md B5) ------------------------------------------------ */

static void
test_dotdot_and_absolute_names (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");

  lt_tar_file (t, "../outside/pwn", "1", 0644);
  lt_tar_file (t, "../../../../../../tmp/pwn1", "2", 0644);
  lt_tar_file (t, "/../../outside/pwn2", "3", 0644);
  lt_tar_file (t, "./../x", "4", 0644);
  lt_tar_file (t, "/etc/passwd", "5", 0644);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  /* Clamped at the root, as path.Clean("/" + name) does. */
  assert_true (lt_exists (f->root, "outside/pwn"));
  assert_true (lt_exists (f->root, "tmp/pwn1"));
  assert_true (lt_exists (f->root, "outside/pwn2"));
  assert_true (lt_exists (f->root, "x"));
  assert_true (lt_exists (f->root, "etc/passwd"));
  assert_outside_untouched (f);
}

static void
test_symlink_then_file (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("gzip");
  char *rel = xasprintf ("../../../../../../../..%s", f->outside);

  lt_tar_symlink (t, "abs", f->outside); /* absolute: CVE-2014-9356 */
  lt_tar_file (t, "abs/pwn", "1", 0644);
  lt_tar_symlink (t, "rel", rel); /* up and out */
  lt_tar_file (t, "rel/pwn", "2", 0644);
  lt_tar_dir (t, "rel/sub", 0755);
  lt_tar_symlink (t, "a", "/b"); /* a chain */
  lt_tar_symlink (t, "b", "../../..");
  lt_tar_file (t, "a/etc/shadow", "3", 0644);
  lt_tar_symlink (t, "evil", "/"); /* CVE-2014-6407 */
  lt_tar_file (t, "evil/tmp/pwned", "4", 0644);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_true (exists_below (f->root, f->outside + 1, "pwn"));
  assert_true (exists_below (f->root, f->outside + 1, "sub"));
  assert_true (lt_exists (f->root, "etc/shadow"));
  assert_true (lt_exists (f->root, "tmp/pwned"));
  free (rel);
  assert_outside_untouched (f);

  /* A later layer does not go through the symlinks the first one left: as overlayfs shows
     an upper directory over a lower symlink, rel becomes a directory (issue 16 bug 5). */
  t = lt_tar_new ("none");
  lt_tar_file (t, "rel/next", "5", 0644);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_false (exists_below (f->root, f->outside + 1, "next"));
  assert_true (lt_exists (f->root, "rel/next"));
  assert_outside_untouched (f);
}

static void
test_root_entries (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { ".", "./", "/", "/.", "..", "sub/..", "a/../.." };
  size_t i;

  /* A root of any type but directory would re-point what follows (CVE-2021-29136). */
  for (i = 0; i < sizeof names / sizeof *names; i++)
    {
      struct lt_tar *t = lt_tar_new ("none");

      lt_tar_symlink (t, names[i], f->outside);
      lt_tar_file (t, "x", "1", 0644);
      extract_fails (f, lt_tar_finish (t, NULL), "replaces the root");
    }
  {
    struct lt_tar *t = lt_tar_new ("none");
    lt_tar_file (t, ".", "regular", 0644);
    extract_fails (f, lt_tar_finish (t, NULL), "replaces the root");
  }
  {
    struct lt_tar *t = lt_tar_new ("none");
    lt_tar_dir (t, "./", 0777); /* a directory root is fine, its attributes ignored */
    extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  }
  assert_false (lt_exists (f->root, "x"));
}

/* An existing symlink at an entry's path is replaced, not written through. */
static void
test_existing_symlink_replaced (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");
  char *secret = xasprintf ("%s/secret", f->outside);
  char *p;
  struct stat st;

  lt_symlink (f->root, "etc/passwd", secret);
  lt_symlink (f->root, "d", f->outside);
  lt_tar_file (t, "etc/passwd", "root:x:0:0", 0777);
  lt_tar_dir (t, "d", 0777); /* DirectoryOverrideSymlink */
  lt_tar_file (t, "d/x", "1", 0644);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_content (f->root, "etc/passwd", "root:x:0:0");
  p = xasprintf ("%s/d", f->root);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  free (p);
  assert_true (lt_exists (f->root, "d/x"));
  free (secret);
  assert_outside_untouched (f);
}

/* A new version of one name of a lower hard link pair leaves the other name alone. */
static void
test_lower_hardlink_not_written_through (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");

  lt_write (f->root, "a", "old", 0644);
  run ("ln '%s/a' '%s/b'", f->root, f->root);
  lt_tar_file (t, "a", "new", 0644);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_content (f->root, "b", "old");
  assert_content (f->root, "a", "new");
}

static void
test_hardlink_escapes (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t;
  char *abs = xasprintf ("%s/secret", f->outside);

  lt_write (f->root, "etc/passwd", "lower", 0644);
  t = lt_tar_new ("none");
  lt_tar_hardlink (t, "h", "../../../../outside/secret", NULL);
  extract_fails (f, lt_tar_finish (t, NULL), "not an earlier entry");
  t = lt_tar_new ("none");
  lt_tar_hardlink (t, "h", abs, NULL);
  extract_fails (f, lt_tar_finish (t, NULL), "not an earlier entry");
  /* lower-layer files are not this layer's to link */
  t = lt_tar_new ("none");
  lt_tar_hardlink (t, "h", "etc/passwd", NULL);
  extract_fails (f, lt_tar_finish (t, NULL), "not an earlier entry");
  /* through a symlink made by this layer: the link's own path was created, not its target */
  t = lt_tar_new ("none");
  lt_tar_symlink (t, "localetc", f->outside);
  lt_tar_hardlink (t, "h", "localetc/secret", NULL);
  extract_fails (f, lt_tar_finish (t, NULL), "not an earlier entry");
  /* a forward reference */
  t = lt_tar_new ("none");
  lt_tar_hardlink (t, "h", "later", NULL);
  lt_tar_file (t, "later", "x", 0644);
  extract_fails (f, lt_tar_finish (t, NULL), "not an earlier entry");
  /* a directory */
  t = lt_tar_new ("none");
  lt_tar_dir (t, "dir", 0755);
  lt_tar_hardlink (t, "h", "dir", NULL);
  extract_fails (f, lt_tar_finish (t, NULL), "to a directory");
  free (abs);
}

/* CVE-2016-5418: data on a hard link entry is never written through the link. */
static void
test_hardlink_with_data (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");

  struct strbuf sb = STRBUF_INIT;
  bale_error_t err = NULL;
  int fd;

  lt_tar_file (t, "f", "original", 0644);
  lt_tar_hardlink (t, "h", "f", "EVIL DATA");
  lt_tar_file (t, "after", "after", 0644);
  fd = lt_tar_finish (t, NULL);
  /* libarchive does hand out the 9 bytes as the link's data */
  assert_int_equal (layer_list (fd, &sb, &err), 0);
  assert_non_null (strstr (sb.buf, "h 0644 1000:0 1000000000 9 h hardlink f\n"));
  strbuf_release (&sb);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  extract_ok (f, fd, LAYER_EXTRACT_MERGED);
  assert_content (f->root, "f", "original");
  assert_content (f->root, "after", "after");
}

/* CVE-2021-32760: a hard link to a symlink links the symlink; nothing is chmod'ed through. */
static void
test_hardlink_to_symlink (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");
  char *secret = xasprintf ("%s/secret", f->outside);
  char *y = xasprintf ("%s/y", f->root);
  struct stat st;

  lt_tar_symlink (t, "x", secret);
  lt_tar_hardlink (t, "y", "x", NULL);
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_int_equal (lstat (y, &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  free (secret);
  free (y);
  assert_outside_untouched (f);
}

static void
test_invalid_whiteouts (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { ".wh..", "etc/.wh..", ".wh...", "etc/.wh...", ".wh.", "etc/.wh." };
  size_t i;

  lt_write (f->root, "etc/passwd", "lower", 0644);
  for (i = 0; i < sizeof names / sizeof *names; i++)
    {
      struct lt_tar *t = lt_tar_new ("none");

      lt_tar_file (t, names[i], "", 0644);
      extract_fails (f, lt_tar_finish (t, NULL), "invalid whiteout");
    }
  assert_true (lt_exists (f->root, "etc/passwd"));
}

static void
test_whiteouts_stay_inside (void **state)
{
  struct fixture *f = *state;
  struct lt_tar *t = lt_tar_new ("none");

  lt_write (f->root, "etc/passwd", "lower", 0644);
  lt_write (f->root, "keep", "lower", 0644);
  lt_symlink (f->root, "localetc", "/etc");
  lt_symlink (f->root, "up", "../../../..");
  lt_symlink (f->root, "link", "/");
  /* Symlinks of a lower layer are not followed: overlayfs shows this layer's directories
     over them, empty but for what the layer puts there (issue 16 bug 5). */
  lt_tar_file (t, "localetc/.wh.passwd", "", 0644); /* an empty localetc/ over the link */
  lt_tar_file (t, "../.wh.outside", "", 0644);      /* clamped: root/outside */
  lt_tar_file (t, "up/.wh.outside", "", 0644);
  lt_tar_file (t, "new", "new", 0644);
  lt_tar_file (t, "link/.wh..wh..opq", "", 0644); /* an empty link/, never an empty root */
  extract_ok (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_MERGED);
  assert_true (lt_exists (f->root, "etc/passwd"));
  assert_true (lt_exists (f->root, "keep"));
  assert_true (lt_exists (f->root, "new"));
  {
    const char *dirs[] = { "localetc", "up", "link" };
    for (size_t i = 0; i < 3; i++)
      {
        cleanup_free char *p = xasprintf ("%s/%s", f->root, dirs[i]);
        struct stat st;
        assert_int_equal (lstat (p, &st), 0);
        assert_true (S_ISDIR (st.st_mode));
      }
  }
  assert_outside_untouched (f);
}

static void
test_huge_names (void **state)
{
  struct fixture *f = *state;
  char *big = xmalloc (1 << 20), *comp = xmalloc (300);
  struct lt_tar *t;

  memset (big, 'a', (1 << 20) - 1);
  big[(1 << 20) - 1] = '\0';
  /* libarchive refuses a 1 MiB name itself (it caps special headers), bale anything
     over PATH_MAX */
  t = lt_tar_new ("gzip");
  lt_tar_file (t, big, "x", 0644);
  extract_fails (f, lt_tar_finish (t, NULL), "cannot read the layer");
  big[5000] = '\0';
  t = lt_tar_new ("gzip");
  lt_tar_file (t, big, "x", 0644);
  extract_fails (f, lt_tar_finish (t, NULL), "too long");
  memset (comp, 'c', 299);
  comp[299] = '\0';
  t = lt_tar_new ("none");
  lt_tar_file (t, comp, "x", 0644);
  extract_fails (f, lt_tar_finish (t, NULL), comp);
  t = lt_tar_new ("none");
  lt_tar_symlink (t, "s", big);
  extract_fails (f, lt_tar_finish (t, NULL), "cannot create symlink 's'");
  free (big);
  free (comp);
}

/* Overlay xattrs in a layer would forge overlayfs state in a lower directory. */
static void
test_overlay_xattrs_dropped (void **state)
{
  struct fixture *f = *state;
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();
  int fd = lt_memfd ();
  char *p = xasprintf ("%s/d", f->root), v[8];

  assert_int_equal (archive_write_set_format_pax (a), ARCHIVE_OK);
  assert_int_equal (archive_write_open_fd (a, fd), ARCHIVE_OK);
  archive_entry_set_pathname (e, "d");
  archive_entry_set_filetype (e, AE_IFDIR);
  archive_entry_set_perm (e, 0755);
  archive_entry_xattr_add_entry (e, "trusted.overlay.opaque", "y", 1);
  archive_entry_xattr_add_entry (e, "trusted.overlay.redirect", "/etc", 4);
  archive_entry_xattr_add_entry (e, "user.fine", "1", 1);
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  archive_entry_free (e);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  extract_ok (f, fd, LAYER_EXTRACT_OVERLAY);
  assert_true (getxattr (p, "trusted.overlay.opaque", v, sizeof v) < 0);
  assert_true (getxattr (p, "trusted.overlay.redirect", v, sizeof v) < 0);
  assert_int_equal (getxattr (p, "user.fine", v, sizeof v), 1);
  free (p);
}

/* Only gzip and zstd are decompressed; nothing is handed to an external program. */
static void
test_other_compression_refused (void **state)
{
  struct fixture *f = *state;
  char *src = xasprintf ("%s/src", f->base), *txz = xasprintf ("%s/src.txz", f->base);
  bale_error_t err = NULL;
  int fd;

  lt_write (src, "f", "hello", 0644);
  run ("tar -C '%s' -cJf '%s' f", src, txz);
  fd = open (txz, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_true (extract (f, fd, LAYER_EXTRACT_MERGED, NULL, &err) < 0);
  bale_error_release (&err);
  assert_false (lt_exists (f->root, "f"));
  unlink (txz);
  lt_rmtree (src);
  free (src);
  free (txz);
}

/* ---- old kernels ------------------------------------------------------------------------- */

/* In a child whose openat2 fails with ENOSYS (a seccomp filter, as on pre-5.6 kernels or
   under an old container runtime's profile), extraction resolves paths with the resolver's
   O_NOFOLLOW walk: the same layer, the same tree, symlinks still kept inside the root. */
static void
test_no_openat2 (void **state)
{
  struct fixture *f = *state;
  struct sock_filter insns[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof insns / sizeof *insns, insns };
  struct lt_tar *t = lt_tar_new ("none");
  cleanup_free char *escape = xasprintf ("../../../../..%s", f->outside);
  int fd, status, pipefd[2];
  char msg[512];
  ssize_t n;
  pid_t pid;

  lt_tar_file (t, "etc/f", "x", 0644);
  lt_tar_symlink (t, "up", escape);
  lt_tar_file (t, "up/pwned", "x", 0644);
  fd = lt_tar_finish (t, NULL);
  assert_int_equal (pipe (pipefd), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      bale_error_t err = NULL;
      int ret;

      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
          || prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
        _exit (2);
      ret = extract (f, fd, LAYER_EXTRACT_MERGED, NULL, &err);
      if (ret < 0 && write (pipefd[1], err->msg, strlen (err->msg)) < 0)
        _exit (3);
      _exit (ret < 0 ? 1 : 0);
    }
  close (pipefd[1]);
  n = read (pipefd[0], msg, sizeof msg - 1);
  msg[n > 0 ? n : 0] = '\0';
  close (pipefd[0]);
  close (fd);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    test_fail ("child status %d, message '%s'", status, msg);
  assert_true (lt_exists (f->root, "etc/f"));
  {
    cleanup_free char *inside = xasprintf ("%s/pwned", f->outside + 1);
    assert_true (lt_exists (f->root, inside));
  }
  assert_outside_untouched (f);
}

/* ---- races (CVE-2025-47290, CVE-2018-15664 class) ---------------------------------------- */

/* Until killed: swap root/d between a real directory and a symlink to the host directory,
   and replace what extraction just created in it with symlinks to the host's secret. */
static void
swapper (const char *root, const char *outside)
{
  char *d = xasprintf ("%s/d", root), *real = xasprintf ("%s/d.real", root);
  char *secret = xasprintf ("%s/secret", outside), name[64];
  unsigned i;

  for (i = 0;; i++)
    {
      if (rename (d, real) == 0)
        {
          if (symlink (outside, d) == 0)
            unlink (d);
          rename (real, d);
        }
      snprintf (name, sizeof name, "%s/f%u", d, i % 64);
      if (unlink (name) == 0)
        if (symlink (secret, name) < 0)
          continue;
    }
}

static void
test_race_swaps (void **state)
{
  struct fixture *f = *state;
  int run_no, failures = 0;

  for (run_no = 0; run_no < 60; run_no++)
    {
      struct lt_tar *t = lt_tar_new ("none");
      bale_error_t err = NULL;
      char name[32];
      pid_t pid;
      int i, fd, status;

      lt_tar_dir (t, "d", 0777);
      for (i = 0; i < 64; i++)
        {
          snprintf (name, sizeof name, "d/f%d", i);
          lt_tar_file (t, name, "owned", 04777);
          snprintf (name, sizeof name, "d/sub%d", i);
          lt_tar_dir (t, name, 0777);
        }
      fd = lt_tar_finish (t, NULL);
      pid = fork ();
      assert_true (pid >= 0);
      if (pid == 0)
        swapper (f->root, f->outside);
      /* The swaps may make entries fail; they must never reach the host. */
      if (extract (f, fd, LAYER_EXTRACT_MERGED, NULL, &err) < 0)
        {
          failures++;
          bale_error_release (&err);
        }
      kill (pid, SIGKILL);
      assert_int_equal (waitpid (pid, &status, 0), pid);
      assert_outside_untouched (f);
    }
  test_diag ("%d of 60 extractions failed on a swap (the rest raced without effect)",
             failures);
}

/* ---- through a real overlayfs ----------------------------------------------------------- */

static void
mount_overlay (struct fixture *f, int slot, const char *target, const char *opts)
{
  lt_mkdir (f->base, target + strlen (f->base) + 1, 0755);
  if (mount ("overlay", target, "overlay", 0, opts) < 0)
    test_fail ("mount overlay %s: %s", opts, strerror (errno));
  f->mounts[slot] = xstrdup (target);
}

static void
unmount (struct fixture *f, int slot)
{
  assert_int_equal (umount (f->mounts[slot]), 0);
  free (f->mounts[slot]);
  f->mounts[slot] = NULL;
}

static char *
ensure (int sfd, const char *dir, struct layer_result *res)
{
  bale_error_t err = NULL;
  char *path = NULL;
  int blob = write_layer (dir, LAYER_COMPRESSION_GZIP, true, res);

  if (snapshot_ensure (sfd, res->diff_id, blob, &path, &err) < 0)
    test_fail ("snapshot_ensure: %s", err->msg);
  close (blob);
  return path;
}

/* A RUN step's life: base snapshot as overlay lower, changes in the merged view, the
   upper directory written as a layer, that layer unpacked as a snapshot, both stacked:
   the stacked view must equal the two layers applied with MERGED whiteout semantics. */
static void
test_overlayfs_end_to_end (void **state)
{
  struct fixture *f = *state;
  char *base = xasprintf ("%s/base", f->base), *snaps = xasprintf ("%s/snaps", f->base);
  char *up = xasprintf ("%s/up", f->base), *work = xasprintf ("%s/work", f->base);
  char *m1 = xasprintf ("%s/m1", f->base), *m2 = xasprintf ("%s/m2", f->base);
  char *opts, *lower1, *lower2, *l1, *l2, *got;
  struct layer_result r1, r2;
  int sfd;

  lt_write (base, "a", "a", 0644);
  lt_write (base, "d/x", "x", 0644);
  lt_write (base, "keep/k", "k", 0600);
  run ("find '%s' -exec touch -h -d @%d {} +", base, T0);
  lt_mkdir (f->base, "snaps", 0700);
  lt_mkdir (f->base, "up", 0755);
  lt_mkdir (f->base, "work", 0755);
  sfd = open (snaps, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  lower1 = ensure (sfd, base, &r1);

  opts = xasprintf ("lowerdir=%s,upperdir=%s,workdir=%s", lower1, up, work);
  mount_overlay (f, 0, m1, opts);
  free (opts);
  run ("cd '%s' && rm a && rm -r d && mkdir d && echo y > d/y && echo n > n && ln n n2 && "
       "ln -s /keep/k s && find . -exec touch -h -d @%d {} +",
       m1, T0);
  unmount (f, 0);
  got = listing_of (up, true);
  /* overlayfs's whiteout inode is shared (nlink 2): still a whiteout, not a hard link */
  assert_non_null (strstr (got, "- 0600 0:0 0 0 .wh.a "));
  assert_non_null (strstr (got, "d 0755 0:0 1700000000 0 d/\n- 0755 0:0 0 0 d/.wh..wh..opq "));
  assert_non_null (strstr (got, "h 0644 0:0 1700000000 0 n2 hardlink n\n"));
  assert_null (strstr (got, "overlay"));
  free (got);
  lower2 = ensure (sfd, up, &r2);

  opts = xasprintf ("lowerdir=%s:%s", lower2, lower1);
  mount_overlay (f, 1, m2, opts);
  free (opts);
  assert_false (lt_exists (m2, "a"));
  assert_false (lt_exists (m2, "d/x"));
  assert_true (lt_exists (m2, "d/y"));
  assert_true (lt_exists (m2, "keep/k"));
  {
    int b1 = write_layer (base, LAYER_COMPRESSION_NONE, false, &r1);
    int b2 = write_layer (up, LAYER_COMPRESSION_NONE, true, &r2);

    extract_ok (f, b1, LAYER_EXTRACT_MERGED);
    extract_ok (f, b2, LAYER_EXTRACT_MERGED);
  }
  l1 = listing_of (m2, false);
  l2 = listing_of (f->root, false);
  assert_string_equal (l1, l2);
  unmount (f, 1);
  free (l1);
  free (l2);
  close (sfd);
  free (lower1);
  free (lower2);
  free (base);
  free (snaps);
  free (up);
  free (work);
  free (m1);
  free (m2);
}

/* ---- ADD archives -------------------------------------------------------------------------- */

/* ADD unpacks xz and bzip2 too, whiteout names are plain files there, and the path rules
   hold all the same. */
static void
test_add_archives (void **state)
{
  struct fixture *f = *state;
  char *scratch = lt_mkdtemp ();
  char *src = xasprintf ("%s/src", scratch), *path = xasprintf ("%s/a.tar", scratch);
  const char *flags[] = { "J", "j", "z", "" };
  size_t i;

  lt_write (src, "dir/file", "data", 0644);
  lt_write (src, "dir/.wh.file", "not a whiteout", 0644);
  for (i = 0; i < sizeof flags / sizeof *flags; i++)
    {
      bale_error_t err = NULL;
      int fd;

      run ("tar -C '%s' -c%sf '%s' dir", src, flags[i], path);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      assert_true (fd >= 0);
      if (extract (f, fd, LAYER_EXTRACT_ARCHIVE, NULL, &err) < 0)
        test_fail ("ADD archive -%s: %s", flags[i], err->msg);
      assert_content (f->root, "dir/file", "data");
      assert_content (f->root, "dir/.wh.file", "not a whiteout");
      lt_rmtree (f->root);
      lt_mkdir (f->base, "root", 0755);
      close (f->root_fd);
      f->root_fd = open (f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  {
    struct lt_tar *t = lt_tar_new ("none");
    bale_error_t err = NULL;

    lt_tar_symlink (t, "evil", f->outside);
    lt_tar_file (t, "evil/pwn", "1", 0644);
    lt_tar_file (t, "../../pwn", "2", 0644);
    assert_int_equal (extract (f, lt_tar_finish (t, NULL), LAYER_EXTRACT_ARCHIVE, NULL, &err), 0);
    assert_true (exists_below (f->root, f->outside + 1, "pwn"));
    assert_true (lt_exists (f->root, "pwn"));
  }
  assert_outside_untouched (f);
  lt_rmtree (scratch);
  free (scratch);
  free (src);
  free (path);
}

/* ---- snapshots ---------------------------------------------------------------------------- */

static void
test_snapshot_ensure (void **state)
{
  struct fixture *f = *state;
  char *src = xasprintf ("%s/src", f->base), *snaps = xasprintf ("%s/snaps", f->base);
  struct layer_result res;
  bale_error_t err = NULL;
  char *path = NULL, *again = NULL, *want;
  int blob, sfd, i, status;
  struct stat st;

  lt_write (src, "bin/sh", "#!", 04755);
  blob = write_layer (src, LAYER_COMPRESSION_GZIP, false, &res);
  lt_mkdir (f->base, "snaps", 0700);
  sfd = open (snaps, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  /* Four processes at once: all succeed, one unpacks. */
  for (i = 0; i < 4; i++)
    if (fork () == 0)
      _exit (snapshot_ensure (sfd, res.diff_id, blob, &path, &err) < 0 ? 1 : 0);
  for (i = 0; i < 4; i++)
    {
      assert_true (wait (&status) > 0);
      assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  assert_int_equal (snapshot_ensure (sfd, res.diff_id, blob, &path, &err), 0);
  want = xasprintf ("%s/%s/fs", snaps, digest_hex (res.diff_id));
  assert_string_equal (path, want);
  assert_true (lt_exists (path, "bin/sh"));
  assert_int_equal (stat (path, &st), 0);
  /* A second call finds it: no unpack, so a blob it cannot read does not matter. */
  assert_int_equal (snapshot_ensure (sfd, res.diff_id, -1, &again, &err), 0);
  assert_string_equal (again, path);
  {
    char *top = xasprintf ("%s/%s", snaps, digest_hex (res.diff_id));
    assert_int_equal (stat (top, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0700);
    free (top);
  }
  free (again);
  free (path);
  free (want);
  close (blob);
  close (sfd);
  free (src);
  free (snaps);
}

static void
test_snapshot_bad_blob (void **state)
{
  struct fixture *f = *state;
  char *src = xasprintf ("%s/src", f->base), *snaps = xasprintf ("%s/snaps", f->base);
  const char *wrong = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  struct layer_result res;
  bale_error_t err = NULL;
  char *path = NULL, *cmd, out[256];
  int blob, sfd;
  FILE *p;
  size_t n;

  lt_write (src, "f", "x", 0644);
  blob = write_layer (src, LAYER_COMPRESSION_ZSTD, false, &res);
  lt_mkdir (f->base, "snaps", 0700);
  sfd = open (snaps, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (snapshot_ensure (sfd, wrong, blob, &path, &err) < 0);
  assert_non_null (strstr (err->msg, "diff_id mismatch"));
  bale_error_release (&err);
  assert_true (snapshot_ensure (sfd, "sha256:nothex", blob, &path, &err) < 0);
  bale_error_release (&err);
  assert_null (path);
  /* Only the lock file is left: no half snapshot, no temporary directory. */
  cmd = xasprintf ("ls -A '%s'", snaps);
  p = popen (cmd, "r");
  n = fread (out, 1, sizeof out - 1, p);
  out[n] = '\0';
  pclose (p);
  assert_string_equal (out,
                       "1111111111111111111111111111111111111111111111111111111111111111.lock\n");
  free (cmd);
  close (blob);
  close (sfd);
  free (src);
  free (snaps);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_roundtrip_gzip),
    T (test_roundtrip_zstd),
    T (test_roundtrip_none),
    T (test_hardlinks_share_inode),
  T (test_hardlink_header_applies),
    T (test_overlay_roundtrip),
    T (test_merged_whiteouts),
    T (test_diff_id_verified),
    T (test_diff_id_trailing_bytes),
    T (test_not_a_layer),
    T (test_duplicates_and_replacements),
    T (test_truncated_and_sparse),
    T (test_archive_sparse),
    T (test_limits),
    T (test_blob_digest),
    T (test_dotdot_and_absolute_names),
    T (test_symlink_then_file),
    T (test_root_entries),
    T (test_existing_symlink_replaced),
    T (test_lower_hardlink_not_written_through),
    T (test_hardlink_escapes),
    T (test_hardlink_with_data),
    T (test_hardlink_to_symlink),
    T (test_invalid_whiteouts),
    T (test_whiteouts_stay_inside),
    T (test_huge_names),
    T (test_overlay_xattrs_dropped),
    T (test_other_compression_refused),
    T (test_add_archives),
    T (test_snapshot_ensure),
    T (test_snapshot_bad_blob),
    T (test_race_swaps),
    T (test_no_openat2),
    T (test_overlayfs_end_to_end),
  };

  return cmocka_run_group_tests_name ("layer_extract", tests, NULL, NULL);
}
