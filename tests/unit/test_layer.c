/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/layer_write, layer_read and dirwalk: exact, reproducible layers. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/oci/digest.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/layer/layer.h"
#include "tests/layerutil.h"
#include "tests/testutil.h"
#include "common/banned.h"

#define EMPTY_TAR_DIFF_ID "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
#define T0 1700000000
/* The data digests of "" and "n" in listings. */
#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define PAYLOAD_SHA "sha256:239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5"
#define SHA_N "sha256:1b16b1df538ba12dc3f97edbb85caa7050d46c148134290feba80f8236c83db9"
#define D50 "dddddddddddddddddddddddddddddddddddddddddddddddddd"
#define D200 D50 D50 D50 D50
#define F50 "ffffffffffffffffffffffffffffffffffffffffffffffffff"
#define F200 F50 F50 F50 F50
/* A VFS_CAP_REVISION_2 value granting cap_net_bind_service (bit 10), permitted. */
static const unsigned char CAP_NET_BIND[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04 };

/* ---- helpers ------------------------------------------------------------------------------ */

static int
open_dir (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  assert_true (fd >= 0);
  return fd;
}

/* Write root as a layer with opts into a memfd, rewound. */
static int
write_layer (const char *root, const struct layer_write_opts *opts, struct layer_result *res)
{
  bale_error_t err = NULL;
  int dfd = open_dir (root), out = lt_memfd ();

  if (layer_write_dir (dfd, opts, out, res, &err) < 0)
    test_fail ("layer_write_dir: %s", err->msg);
  close (dfd);
  assert_int_equal (lseek (out, 0, SEEK_SET), 0);
  return out;
}

static char *
list_fd (int fd)
{
  struct strbuf sb = STRBUF_INIT;
  bale_error_t err = NULL;

  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  if (layer_list (fd, &sb, &err) < 0)
    test_fail ("layer_list: %s", err->msg);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  return strbuf_detach (&sb, NULL);
}

/* The listing of root written with opts. Caller frees. */
static char *
write_and_list (const char *root, const struct layer_write_opts *opts)
{
  struct layer_result res;
  int fd = write_layer (root, opts, &res);
  char *listing = list_fd (fd);

  close (fd);
  return listing;
}

static void
assert_text (const char *got, const char *want)
{
  if (strcmp (got, want) != 0)
    test_fail ("got:\n%s\nwant:\n%s", got, want);
}

static int64_t set_all_time;

static int
set_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  struct timespec ts[2]
      = { { (time_t) (set_all_time + ftw->level), 0 }, { (time_t) set_all_time, 0 } };

  (void) st;
  (void) flag;
  return utimensat (AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* Every mtime under root (root included) to t, atimes to something else that varies. */
static void
set_all_mtimes (const char *root, int64_t t)
{
  set_all_time = t;
  assert_int_equal (nftw (root, set_one, 16, FTW_PHYS | FTW_DEPTH), 0);
}

static void
setcap (const char *root, const char *rel)
{
  char *path = xasprintf ("%s/%s", root, rel);

  if (setxattr (path, "security.capability", CAP_NET_BIND, sizeof CAP_NET_BIND, 0) < 0)
    test_fail ("setxattr security.capability on '%s': %s", path, strerror (errno));
  free (path);
}

static void
set_xattr (const char *root, const char *rel, const char *name, const char *value)
{
  char *path = xasprintf ("%s/%s", root, rel);

  if (lsetxattr (path, name, value, strlen (value), 0) < 0)
    test_fail ("setxattr %s on '%s': %s", name, path, strerror (errno));
  free (path);
}

static void
mknod_at (const char *root, const char *rel, mode_t mode, dev_t dev)
{
  char *path = xasprintf ("%s/%s", root, rel);

  if (mknod (path, mode, dev) < 0 || chmod (path, mode & 07777) < 0)
    test_fail ("mknod '%s': %s", path, strerror (errno));
  free (path);
}

static void
link_at (const char *root, const char *from, const char *to)
{
  char *a = xasprintf ("%s/%s", root, from), *b = xasprintf ("%s/%s", root, to);

  assert_int_equal (link (a, b), 0);
  free (a);
  free (b);
}

/* A tree with every kind of entry a layer can hold, created in the order given by
   `reverse` so that two trees differ in inode numbers and readdir order. */
static void
make_rich_tree (const char *root, bool reverse)
{
  const char *files[] = { "b/file", "a/setuid", "zz", "b/c/deep" };
  char longdir[201], longfile[201];
  size_t i;

  memset (longdir, 'd', 200);
  longdir[200] = '\0';
  memset (longfile, 'f', 200);
  longfile[200] = '\0';
  for (i = 0; i < 4; i++)
    {
      size_t k = reverse ? 3 - i : i;
      lt_write (root, files[k], files[k], 0644);
    }
  {
    char *p = xasprintf ("%s/a/setuid", root);
    assert_int_equal (chmod (p, 04755), 0);
    free (p);
  }
  lt_symlink (root, "a/link", "../b/file");
  link_at (root, "b/file", "b/hard");
  link_at (root, "b/file", "a/hard0");
  mknod_at (root, "dev-null", S_IFCHR | 0666, makedev (1, 3));
  mknod_at (root, "fifo", S_IFIFO | 0600, 0);
  lt_write (root, "caf\xe9", "latin-1 name", 0600);
  lt_write (root, "\xc3\xbcml\xc3\xa4ut", "utf-8", 0644);
  {
    char *rel = xasprintf ("long/%s/%s", longdir, longfile);
    lt_write (root, rel, "long", 0644);
    free (rel);
  }
  setcap (root, "zz");
  set_xattr (root, "b/c/deep", "user.note", "hello");
  set_xattr (root, "b/c/deep", "user.a", "first");
  set_xattr (root, "b", "user.dir", "d");
  {
    char *p = xasprintf ("%s/b/c", root);
    assert_int_equal (lchown (p, 1000, 2000), 0);
    free (p);
  }
  set_all_mtimes (root, T0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_empty_layer (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE };
  struct layer_result res;
  int fd;

  (void) state;
  fd = write_layer (root, &opts, &res);
  /* Two 512-byte end blocks and nothing else: Go's and the spec's empty layer. */
  assert_string_equal (res.diff_id, EMPTY_TAR_DIFF_ID);
  assert_string_equal (res.digest, EMPTY_TAR_DIFF_ID);
  assert_int_equal (res.tar_size, 1024);
  assert_int_equal (res.size, 1024);
  assert_string_equal (res.media_type, "application/vnd.oci.image.layer.v1.tar");
  close (fd);
  lt_rmtree (root);
  free (root);
}

static void
test_listing (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE };
  struct layer_result res;
  char *got;
  int fd;

  (void) state;
  make_rich_tree (root, false);
  fd = write_layer (root, &opts, &res);
  got = list_fd (fd);
  /* Depth first, children by byte-wise name; numeric owners; the first path of a hard link
     group in walk order carries the data; capability and user.* xattrs sorted. */
  assert_text (
      got,
      "d 0755 0:0 1700000000 0 a/\n"
      "- 0644 0:0 1700000000 6 a/hard0 "
      "sha256:7ee799014be71f149b50d64a3dd04bc8b5c5bbf109bae15f52e7bf35437fe561\n"
      "l 0777 0:0 1700000000 0 a/link -> ../b/file\n"
      "- 4755 0:0 1700000000 8 a/setuid "
      "sha256:6276402ed7d7847406128f1b8851a2af520dfc83ce23033f8c3615e11acc47d2\n"
      "d 0755 0:0 1700000000 0 b/ xattr user.dir=64\n"
      "d 0755 1000:2000 1700000000 0 b/c/\n"
      "- 0644 0:0 1700000000 8 b/c/deep xattr user.a=6669727374 xattr user.note=68656c6c6f "
      "sha256:db0a270b760d82db2f7a7cd9fd7a6cfb9037248c3cfb53f36866ddbe84ca856a\n"
      "h 0644 0:0 1700000000 0 b/file hardlink a/hard0\n"
      "h 0644 0:0 1700000000 0 b/hard hardlink a/hard0\n"
      "- 0600 0:0 1700000000 12 caf\\xe9 "
      "sha256:4ab787fff9bae732bfa58ede49de6efc59ae6bbbef8c736d0d8e23619b2ed73e\n"
      "c 0666 0:0 1700000000 0 dev-null dev 1,3\n"
      "p 0600 0:0 1700000000 0 fifo\n"
      "d 0755 0:0 1700000000 0 long/\n"
      "d 0755 0:0 1700000000 0 long/" D200 "/\n"
      "- 0644 0:0 1700000000 4 long/" D200 "/" F200 " "
      "sha256:fc66f021c67d064c1490a12b5a4d4d2f5167ca692a16ca12f1f3a4cda29a6fa9\n"
      "- 0644 0:0 1700000000 2 zz "
      "xattr security.capability=0100000200040000000000000000000000000000 "
      "sha256:4a60bf7d4bc1e485744cf7e8d0860524752fca1ce42331be7c439fd23043f151\n"
      "- 0644 0:0 1700000000 5 \\xc3\\xbcml\\xc3\\xa4ut "
      "sha256:5cf1fa8d836a5e82ead36fb0854a6a68a4b8f7542038a346357d2424ddb60f5e\n");
  free (got);
  close (fd);
  lt_rmtree (root);
  free (root);
}

static void
test_deterministic (void **state)
{
  char *r1 = lt_mkdtemp (), *r2 = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_GZIP };
  struct layer_result a, b, c;
  int fa, fb, fc;

  (void) state;
  make_rich_tree (r1, false);
  make_rich_tree (r2, true);
  fa = write_layer (r1, &opts, &a);
  fb = write_layer (r1, &opts, &b);
  /* Other inodes, other creation order, other atimes: the same bytes. */
  set_all_mtimes (r2, T0);
  lt_mtime (r2, "zz", T0, 12345);
  lt_mtime (r2, "b/file", T0, T0 + 999);
  fc = write_layer (r2, &opts, &c);
  assert_string_equal (a.diff_id, b.diff_id);
  assert_string_equal (a.digest, b.digest);
  assert_string_equal (a.diff_id, c.diff_id);
  assert_string_equal (a.digest, c.digest);
  assert_int_equal (a.size, c.size);
  close (fa);
  close (fb);
  close (fc);
  lt_rmtree (r1);
  lt_rmtree (r2);
  free (r1);
  free (r2);
}

/* The digests and sizes in a result are those of the bytes really written. */
static void
check_result (int fd, const struct layer_result *res)
{
  char digest[DIGEST_STRLEN + 1];
  int64_t size;
  bale_error_t err = NULL;

  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  assert_int_equal (digest_file (fd, digest, &size, &err), 0);
  assert_string_equal (digest, res->digest);
  assert_int_equal (size, res->size);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
}

/* The tar hashed on a thread (read back from the memfd every 2 MiB, then the rest) gives
   the bytes and digests of the tar hashed inline, for a layer of several chunks, one under a
   chunk (no thread started) and the empty directory; so does an output the writer cannot
   read back (write-only: hashed inline). */
static void
assert_same_result (const struct layer_result *a, const struct layer_result *b)
{
  assert_string_equal (a->diff_id, b->diff_id);
  assert_string_equal (a->digest, b->digest);
  assert_int_equal (a->size, b->size);
  assert_int_equal (a->tar_size, b->tar_size);
}

static void
test_hash_thread (void **state)
{
  char *r = lt_mkdtemp (), *e = lt_mkdtemp ();
  struct layer_write_opts inline_opts = { .compression = LAYER_COMPRESSION_NONE, .epoch_set = true, .epoch = T0 };
  struct layer_write_opts thread_opts = inline_opts;
  char *big = xmalloc (3 << 20);
  const char *roots[] = { r, e };

  (void) state;
  thread_opts.hash_thread = LAYER_HASH_THREAD;
  for (size_t i = 0; i < (3 << 20); i++)
    big[i] = (char) (i * 7919 >> 5);
  lt_write (r, "small", "n", 0644);
  for (int round = 0; round < 2; round++)
    {
      for (size_t k = 0; k < sizeof roots / sizeof *roots; k++)
        {
          struct layer_result a, b;
          int fa = write_layer (roots[k], &inline_opts, &a), fb = write_layer (roots[k], &thread_opts, &b);
          char *la = list_fd (fa), *lb = list_fd (fb);
          assert_same_result (&a, &b);
          check_result (fb, &b);
          assert_text (lb, la);
          free (la);
          free (lb);
          close (fa);
          close (fb);
        }
      /* Then several chunks: 3 MiB files, 7 of them (21 MiB, the ring wraps). */
      for (int f = 0; f < 7 && round == 0; f++)
        {
          char *path = xasprintf ("%s/big%d", r, f);
          int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
          size_t n = (3 << 20) - (size_t) f * 1000;
          assert_true (fd >= 0);
          assert_true (write (fd, big, n) == (ssize_t) n);
          close (fd);
          free (path);
        }
    }
  {
    char *path = xasprintf ("%s/out.tar", e);
    int wo = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    struct layer_result a, b;
    bale_error_t err = NULL;
    int dfd = open_dir (r), fa = write_layer (r, &inline_opts, &a);
    assert_true (wo >= 0);
    if (layer_write_dir (dfd, &thread_opts, wo, &b, &err) < 0)
      test_fail ("layer_write_dir: %s", err->msg);
    assert_same_result (&a, &b);
    free (path);
    close (wo);
    close (dfd);
    close (fa);
  }
  free (big);
  lt_rmtree (r);
  lt_rmtree (e);
  free (r);
  free (e);
}

static void
test_compressions (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE };
  struct layer_result none, gz, zst;
  unsigned char head[10];
  char *l1, *l2, *l3;
  int f1, f2, f3;

  (void) state;
  make_rich_tree (root, false);
  f1 = write_layer (root, &opts, &none);
  opts.compression = LAYER_COMPRESSION_GZIP;
  f2 = write_layer (root, &opts, &gz);
  opts.compression = LAYER_COMPRESSION_ZSTD;
  f3 = write_layer (root, &opts, &zst);
  check_result (f1, &none);
  check_result (f2, &gz);
  check_result (f3, &zst);
  /* One tar, three blobs. */
  assert_string_equal (none.diff_id, gz.diff_id);
  assert_string_equal (none.diff_id, zst.diff_id);
  assert_string_equal (none.digest, none.diff_id);
  assert_string_not_equal (gz.digest, gz.diff_id);
  assert_int_equal (gz.tar_size, none.size);
  assert_string_equal (gz.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  assert_string_equal (zst.media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  /* gzip: magic, deflate, FLG 0 (no FNAME), MTIME 0, OS 3 (RFC 1952 2.3). */
  assert_int_equal (read (f2, head, 10), 10);
  assert_int_equal (head[0], 0x1f);
  assert_int_equal (head[1], 0x8b);
  assert_int_equal (head[2], 8);
  assert_int_equal (head[3], 0);
  assert_int_equal (head[4] | head[5] | head[6] | head[7], 0);
  assert_int_equal (head[9], 3);
  assert_int_equal (read (f3, head, 4), 4);
  assert_memory_equal (head, "\x28\xb5\x2f\xfd", 4);
  l1 = list_fd (f1);
  l2 = list_fd (f2);
  l3 = list_fd (f3);
  assert_text (l2, l1);
  assert_text (l3, l1);
  free (l1);
  free (l2);
  free (l3);
  close (f1);
  close (f2);
  close (f3);
  lt_rmtree (root);
  free (root);
}

/* Writing uncompressed and compressing later gives the blob a direct write gives. */
static void
test_compress_later (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE };
  struct layer_result none, direct, later;
  bale_error_t err = NULL;
  int f1, f2, f3 = lt_memfd ();

  (void) state;
  make_rich_tree (root, false);
  f1 = write_layer (root, &opts, &none);
  opts.compression = LAYER_COMPRESSION_ZSTD;
  f2 = write_layer (root, &opts, &direct);
  if (layer_compress (f1, LAYER_COMPRESSION_ZSTD, f3, &later, &err) < 0)
    test_fail ("layer_compress: %s", err->msg);
  assert_string_equal (later.diff_id, none.diff_id);
  assert_string_equal (later.digest, direct.digest);
  assert_int_equal (later.size, direct.size);
  assert_int_equal (later.tar_size, none.size);
  check_result (f3, &later);
  close (f1);
  close (f2);
  close (f3);
  lt_rmtree (root);
  free (root);
}

/* Compressing a layer gives the same bytes on 1 and 4 threads, in every format (gzip members,
   gzip-single and multi-threaded zstd): digests must not depend on the machine. The file is
   big enough (24 MB) for several gzip blocks and several zstd jobs. */
static void
test_compress_threads (void **state)
{
  static const enum layer_compression cs[] = { LAYER_COMPRESSION_GZIP,
                                                LAYER_COMPRESSION_GZIP_SINGLE,
                                                LAYER_COMPRESSION_ZSTD };
  char *root = lt_mkdtemp ();
  char *path = xasprintf ("%s/big", root);
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE };
  struct layer_result none, one, four;
  bale_error_t err = NULL;
  FILE *f = fopen (path, "w");
  uint32_t x = 1;
  size_t i, k;
  int tar;

  (void) state;
  assert_non_null (f);
  for (i = 0; i < 3 * 1000 * 1000; i++)
    {
      x = x * 1103515245u + 12345u;
      fprintf (f, "%c%u", "abcdefgh\n "[(x >> 16) % 10], (x >> 20) % 100);
    }
  fclose (f);
  tar = write_layer (root, &opts, &none);
  for (k = 0; k < sizeof cs / sizeof cs[0]; k++)
    {
      int f1 = lt_memfd (), f4 = lt_memfd ();

      setenv ("BALE_COMPRESS_THREADS", "1", 1);
      assert_int_equal (lseek (tar, 0, SEEK_SET), 0);
      if (layer_compress (tar, cs[k], f1, &one, &err) < 0)
        test_fail ("layer_compress: %s", err->msg);
      setenv ("BALE_COMPRESS_THREADS", "4", 1);
      assert_int_equal (lseek (tar, 0, SEEK_SET), 0);
      if (layer_compress (tar, cs[k], f4, &four, &err) < 0)
        test_fail ("layer_compress: %s", err->msg);
      assert_string_equal (one.diff_id, none.diff_id);
      assert_string_equal (four.diff_id, none.diff_id);
      assert_string_equal (one.digest, four.digest);
      assert_int_equal (one.size, four.size);
      check_result (f4, &four);
      close (f1);
      close (f4);
    }
  unsetenv ("BALE_COMPRESS_THREADS");
  close (tar);
  lt_rmtree (root);
  free (root);
  free (path);
}

static void
test_overlay_upper (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE, .overlay_upper = true };
  char *got;

  (void) state;
  lt_mkdir (root, "etc", 0755);
  mknod_at (root, "etc/passwd", S_IFCHR | 0000, makedev (0, 0));
  lt_write (root, "etc/hosts", "h", 0644);
  mknod_at (root, "etc/-gone", S_IFCHR | 0000, makedev (0, 0));
  lt_mkdir (root, "opq", 0700);
  set_xattr (root, "opq", "trusted.overlay.opaque", "y");
  set_xattr (root, "opq", "user.keep", "k");
  lt_write (root, "opq/new", "n", 0644);
  lt_mkdir (root, "uopq", 0755);
  set_xattr (root, "uopq", "user.overlay.opaque", "y");
  lt_mkdir (root, "notopq", 0755);
  set_xattr (root, "notopq", "trusted.overlay.opaque", "x");
  set_xattr (root, "etc/hosts", "trusted.overlay.origin", "zz");
  mknod_at (root, "zgone", S_IFCHR | 0000, makedev (0, 0));
  /* the xwhiteout form (Linux 6.7): an empty file with a whiteout xattr */
  lt_write (root, "xgone", "", 0000);
  set_xattr (root, "xgone", "trusted.overlay.whiteout", "");
  set_all_mtimes (root, T0);
  got = write_and_list (root, &opts);
  /* Whiteouts (mtime 0) before their siblings, opaque markers right after their directory,
     no overlay xattr anywhere. */
  assert_text (got,
      "- 0600 0:0 0 0 .wh.xgone " EMPTY "\n"
      "- 0600 0:0 0 0 .wh.zgone " EMPTY "\n"
      "d 0755 0:0 1700000000 0 etc/\n"
      "- 0600 0:0 0 0 etc/.wh.-gone " EMPTY "\n"
      "- 0600 0:0 0 0 etc/.wh.passwd " EMPTY "\n"
      "- 0644 0:0 1700000000 1 etc/hosts "
      "sha256:aaa9402664f1a41f40ebbc52c9993eb66aeb366602958fdfaa283b71e64db123\n"
      "d 0755 0:0 1700000000 0 notopq/\n"
      "d 0700 0:0 1700000000 0 opq/ xattr user.keep=6b\n"
      "- 0700 0:0 0 0 opq/.wh..wh..opq " EMPTY "\n"
      "- 0644 0:0 1700000000 1 opq/new " SHA_N "\n"
      "d 0755 0:0 1700000000 0 uopq/\n"
      "- 0755 0:0 0 0 uopq/.wh..wh..opq " EMPTY "\n");
  free (got);
  lt_rmtree (root);
  free (root);
}

static void
test_overlay_redirect_refused (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE, .overlay_upper = true };
  struct layer_result res;
  bale_error_t err = NULL;
  int dfd, out = lt_memfd ();

  (void) state;
  lt_mkdir (root, "moved", 0755);
  set_xattr (root, "moved", "trusted.overlay.redirect", "/orig");
  dfd = open_dir (root);
  assert_true (layer_write_dir (dfd, &opts, out, &res, &err) < 0);
  assert_non_null (strstr (err->msg, "'moved' has the overlayfs xattr 'trusted.overlay.redirect'"));
  bale_error_release (&err);
  close (dfd);
  close (out);
  lt_rmtree (root);
  free (root);
}

static bool
skip_stubs (void *ctx, const char *path, const struct stat *st)
{
  (void) st;
  return strcmp (path, (const char *) ctx) == 0 || strcmp (path, "etc/hosts") == 0;
}

/* The sandbox's mount stubs stay out of the layer, whatever is below them. */
static void
test_skip (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE,
                                   .overlay_upper = true,
                                   .skip = skip_stubs,
                                   .skip_ctx = (void *) "run" };
  char *got;

  (void) state;
  lt_write (root, "etc/resolv.conf", "nameserver 1.1.1.1", 0644);
  lt_write (root, "etc/hosts", "127.0.0.1 x", 0644);
  lt_write (root, "run/secrets/id", "s", 0600);
  mknod_at (root, "etc/gone", S_IFCHR, makedev (0, 0));
  set_all_mtimes (root, T0);
  got = write_and_list (root, &opts);
  assert_text (got, "d 0755 0:0 1700000000 0 etc/\n"
                    "- 0600 0:0 0 0 etc/.wh.gone " EMPTY "\n"
                    "- 0644 0:0 1700000000 18 etc/resolv.conf "
                    "sha256:ae0ee4892d73d31dbcdaa9d9a11599c6820e61581ca27e609e82f94e3ac8ae8a\n");
  free (got);
  lt_rmtree (root);
  free (root);
}

static void
test_reserved_name (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE };
  struct layer_result res;
  bale_error_t err = NULL;
  int dfd, out = lt_memfd ();

  (void) state;
  lt_write (root, "sub/.wh.evil", "", 0644);
  dfd = open_dir (root);
  assert_true (layer_write_dir (dfd, &opts, out, &res, &err) < 0);
  assert_non_null (strstr (err->msg, "'sub/.wh.evil'"));
  bale_error_release (&err);
  close (dfd);
  close (out);
  lt_rmtree (root);
  free (root);
}

static void
test_epoch_prefix_entries (void **state)
{
  char *root = lt_mkdtemp ();
  const char *entries[] = { "new", "old" };
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_NONE,
                                   .owner_set = true,
                                   .uid = 7,
                                   .gid = 8,
                                   .epoch_set = true,
                                   .epoch = T0,
                                   .prefix = "/app//data/",
                                   .entries = entries,
                                   .n_entries = 2 };
  char *got;

  (void) state;
  lt_write (root, "old", "o", 0644);
  lt_write (root, "new", "n", 0644);
  lt_write (root, "skipped", "s", 0644);
  set_all_mtimes (root, T0 + 100);
  lt_mtime (root, "old", T0 - 5, T0);
  got = write_and_list (root, &opts);
  /* Times after the epoch are clamped to it; older ones are kept. */
  assert_text (got,
               "d 0700 7:8 1700000000 0 app/\n"
               "d 0700 7:8 1700000000 0 app/data/\n"
               "- 0644 7:8 1700000000 1 app/data/new " SHA_N "\n"
               "- 0644 7:8 1699999995 1 app/data/old "
               "sha256:65c74c15a686187bb6bbf9958f494fc6b80068034a659a9ad44991b08c58f2d2\n");
  free (got);
  lt_rmtree (root);
  free (root);
}

static void
test_streaming_writer (void **state)
{
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_ZSTD };
  struct layer_result res;
  bale_error_t err = NULL;
  struct layer_writer *w;
  struct stat st;
  char digest[DIGEST_STRLEN + 1];
  int out = lt_memfd (), data = lt_memfd ();
  char *got;

  (void) state;
  assert_int_equal (write (data, "payload", 7), 7);
  assert_int_equal (lseek (data, 0, SEEK_SET), 0);
  w = layer_writer_new (&opts, out, &err);
  assert_non_null (w);
  memset (&st, 0, sizeof st);
  st.st_mode = S_IFDIR | 02750;
  st.st_uid = 7;
  st.st_gid = 8;
  st.st_mtim.tv_sec = T0;
  assert_int_equal (layer_writer_add_dir (w, "app", &st, -1, &err), 0);
  assert_int_equal (layer_writer_add_whiteout (w, "app/old", &err), 0);
  st.st_uid = st.st_gid = 0;
  st.st_mode = S_IFREG | 0600;
  st.st_size = 7;
  st.st_nlink = 2;
  st.st_ino = 42;
  assert_int_equal (layer_writer_add_file (w, "app/f", &st, data, digest, &err), 0);
  assert_string_equal (digest, PAYLOAD_SHA);
  memset (digest, 0, sizeof digest);
  assert_int_equal (layer_writer_add_file (w, "app/g", &st, data, digest, &err), 0);
  assert_string_equal (digest, PAYLOAD_SHA);
  /* a symlink with the file's (dev, ino) is no link of it; two names of one symlink
     inode are one group (FINDINGS F61) */
  st.st_mode = S_IFLNK | 0777;
  assert_int_equal (layer_writer_add_symlink (w, "app/l", &st, "/etc/passwd", &err), 0);
  assert_int_equal (layer_writer_add_symlink (w, "app/m", &st, "/etc/passwd", &err), 0);
  assert_int_equal (layer_writer_add_opaque (w, "app", &err), 0);
  assert_true (layer_writer_add_whiteout (w, "app/..", &err) < 0);
  bale_error_release (&err);
  assert_int_equal (layer_writer_finish (w, &res, &err), 0);
  layer_writer_free (w);
  assert_int_equal (res.size, lseek (out, 0, SEEK_CUR));
  got = list_fd (out);
  /* docker 20.10's markers (FINDINGS F67): a whiteout 0600 root's, an opaque marker with its
     directory's permission bits (no setgid) and owner; both at time 0 (reproducible) */
  assert_text (got, "d 2750 7:8 1700000000 0 app/\n"
                    "- 0600 0:0 0 0 app/.wh.old " EMPTY "\n"
                    "- 0600 0:0 1700000000 7 app/f "
                    PAYLOAD_SHA "\n"
                    "h 0600 0:0 1700000000 0 app/g hardlink app/f\n"
                    "l 0777 0:0 1700000000 0 app/l -> /etc/passwd\n"
                    "h 0777 0:0 1700000000 0 app/m hardlink app/l\n"
                    "- 0750 7:8 0 0 app/.wh..wh..opq " EMPTY "\n");
  free (got);
  close (out);
  close (data);
}

/* GNU tar, an independent reader, sees the same names, types and owners. */
static void
test_gnu_tar_reads (void **state)
{
  char *root = lt_mkdtemp ();
  struct layer_write_opts opts = { .compression = LAYER_COMPRESSION_GZIP };
  struct layer_result res;
  char *path = xasprintf ("%s.tgz", root), *cmd, *out;
  int fd, file;
  size_t len;

  (void) state;
  make_rich_tree (root, false);
  fd = write_layer (root, &opts, &res);
  file = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (file >= 0);
  {
    char buf[65536];
    ssize_t n;
    while ((n = read (fd, buf, sizeof buf)) > 0)
      assert_int_equal (write (file, buf, (size_t) n), n);
  }
  close (file);
  cmd = xasprintf ("LC_ALL=C tar --numeric-owner --utc -tvzf '%s' > '%s.out' 2>/dev/null", path,
                   path);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  cmd = xasprintf ("%s.out", path);
  out = test_read_file (cmd, &len);
  assert_non_null (out);
  /* hdrcharset=BINARY is PAX's own way to say "bytes"; GNU tar warns about it on stderr
     and reads the names unchanged. */
  assert_text (out,
               "drwxr-xr-x 0/0               0 2023-11-14 22:13 a/\n"
               "-rw-r--r-- 0/0               6 2023-11-14 22:13 a/hard0\n"
               "lrwxrwxrwx 0/0               0 2023-11-14 22:13 a/link -> ../b/file\n"
               "-rwsr-xr-x 0/0               8 2023-11-14 22:13 a/setuid\n"
               "drwxr-xr-x 0/0               0 2023-11-14 22:13 b/\n"
               "drwxr-xr-x 1000/2000         0 2023-11-14 22:13 b/c/\n"
               "-rw-r--r-- 0/0               8 2023-11-14 22:13 b/c/deep\n"
               "hrw-r--r-- 0/0               0 2023-11-14 22:13 b/file link to a/hard0\n"
               "hrw-r--r-- 0/0               0 2023-11-14 22:13 b/hard link to a/hard0\n"
               "-rw------- 0/0              12 2023-11-14 22:13 caf\\351\n"
               "crw-rw-rw- 0/0             1,3 2023-11-14 22:13 dev-null\n"
               "prw------- 0/0               0 2023-11-14 22:13 fifo\n"
               "drwxr-xr-x 0/0               0 2023-11-14 22:13 long/\n"
               "drwxr-xr-x 0/0               0 2023-11-14 22:13 long/" D200 "/\n"
               "-rw-r--r-- 0/0               4 2023-11-14 22:13 long/" D200 "/" F200 "\n"
               "-rw-r--r-- 0/0               2 2023-11-14 22:13 zz\n"
               "-rw-r--r-- 0/0               5 2023-11-14 22:13 \\303\\274ml\\303\\244ut\n");
  free (out);
  unlink (cmd);
  free (cmd);
  unlink (path);
  free (path);
  close (fd);
  lt_rmtree (root);
  free (root);
}

/* ---- dirwalk ------------------------------------------------------------------------------ */

struct walk_log
{
  struct strbuf sb;
};

static int
log_pre (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct walk_log *l = ctx;

  (void) err;
  strbuf_addf (&l->sb, "%s%s%s\n", e->relpath, S_ISDIR (e->st->st_mode) ? "/" : "",
               S_ISLNK (e->st->st_mode) ? "@" : "");
  return strcmp (e->name, "skip") == 0 ? DIRWALK_SKIP : DIRWALK_CONTINUE;
}

static int
log_post (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct walk_log *l = ctx;

  (void) err;
  strbuf_addf (&l->sb, "end %s\n", e->relpath);
  return 0;
}

static void
test_dirwalk (void **state)
{
  char *root = lt_mkdtemp ();
  struct walk_log l = { STRBUF_INIT };
  bale_error_t err = NULL;
  int fd;

  (void) state;
  lt_write (root, "b/z", "", 0644);
  lt_write (root, "b/a", "", 0644);
  lt_write (root, "a-b", "", 0644);
  lt_write (root, "a/c", "", 0644);
  lt_write (root, "skip/x", "", 0644);
  lt_symlink (root, "ln", "/");
  fd = open_dir (root);
  assert_int_equal (dirwalk (fd, log_pre, log_post, &l, &err), 0);
  /* Not a global sort of paths ("a-b" < "a/c"): each directory's children in order. */
  assert_text (l.sb.buf, "a/\na/c\nend a\na-b\nb/\nb/a\nb/z\nend b\nln@\nskip/\n");
  strbuf_release (&l.sb);
  close (fd);
  lt_rmtree (root);
  free (root);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_empty_layer),
    cmocka_unit_test (test_listing),
    cmocka_unit_test (test_deterministic),
    cmocka_unit_test (test_compressions),
    cmocka_unit_test (test_compress_later),
    cmocka_unit_test (test_compress_threads),
    cmocka_unit_test (test_hash_thread),
    cmocka_unit_test (test_overlay_upper),
    cmocka_unit_test (test_reserved_name),
    cmocka_unit_test (test_skip),
    cmocka_unit_test (test_overlay_redirect_refused),
    cmocka_unit_test (test_epoch_prefix_entries),
    cmocka_unit_test (test_streaming_writer),
    cmocka_unit_test (test_gnu_tar_reads),
    cmocka_unit_test (test_dirwalk),
  };

  return cmocka_run_group_tests_name ("layer", tests, NULL, NULL);
}
