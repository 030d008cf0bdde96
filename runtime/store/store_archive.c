/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale load` and `bale save`: docker-archives, OCI archives and OCI layouts into and out of the store. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/layer.h"
#include "runtime/store/layout.h"
#include "runtime/store/store.h"
#include "common/banned.h"

#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_INDEX "application/vnd.docker.distribution.manifest.list.v2+json"
/* Members kept in memory (manifest.json, configs, index.json) are at most this large. */
#define SMALL_MAX (16u << 20)
/* Links to links to …: docker save's layer.tar symlinks are one level deep. */
#define MAX_LINK_DEPTH 16

/* ---- archive paths ------------------------------------------------------------------------ */

/*
 * The clean form of rel, taken relative to the directory base ("" for the archive root):
 * "." and empty components dropped. ".." is refused in member names; in link targets it may
 * climb back up inside base, never above the archive root. Absolute paths are refused. NULL
 * (with an error naming what) when the path is unsafe.
 */
static char *
clean_path (const char *base, const char *rel, bool allow_dotdot, const char *what,
            bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  cleanup_free char *joined = xasprintf ("%s/%s", base, rel);
  const char *p = joined;

  if (rel[0] == '/' || rel[0] == '\0')
    goto unsafe;
  while (*p)
    {
      size_t n = strcspn (p, "/");

      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          char *slash;

          if (!allow_dotdot || sb.len == 0)
            goto unsafe;
          slash = strrchr (sb.buf, '/');
          strbuf_setlen (&sb, slash ? (size_t) (slash - sb.buf) : 0);
        }
      else if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (sb.len)
            strbuf_addch (&sb, '/');
          strbuf_add (&sb, p, n);
        }
      p += n + (p[n] == '/');
    }
  if (sb.len == 0)
    goto unsafe;
  return strbuf_detach (&sb, NULL);
unsafe:
  bale_make_error (err, 0, "unsafe path '%s' in %s", rel, what);
  return NULL;
}

/* ---- what an archive holds ---------------------------------------------------------------- */

enum member_kind
{
  M_BLOB, /* streamed into the store; digest and size known */
  M_DATA, /* kept in memory */
  M_LINK, /* a symlink or hardlink; target is a clean archive path */
};

/* One file of an archive. Nothing is ever extracted to the file system: members become
   blobs or memory, so a hostile name can at worst fail a lookup, never write outside. */
struct member
{
  char *path;
  enum member_kind kind;
  char digest[DIGEST_STRLEN + 1];
  int64_t size;
  char *data;
  char *target;
};

/* What `bale load` reads from: a tar archive already streamed into members, or a directory. */
struct source
{
  struct store *s;
  const char *path; /* as the user gave it, for errors */
  int dir_fd;       /* an OCI layout directory, or -1 */
  bool from_stdin;  /* path was "-" */
  struct member *v;
  size_t n, alloc;
  struct store_ref *names;
  size_t n_names, names_alloc;
  json_t *walked; /* digests of the indexes and manifests whose children were imported */
  json_t *named;  /* name -> digest of each name recorded */
  bool unnamed;   /* store_load_as: the source's names are not recorded */
};

static void
source_release (struct source *src)
{
  size_t i;

  for (i = 0; i < src->n; i++)
    {
      free (src->v[i].path);
      free (src->v[i].data);
      free (src->v[i].target);
    }
  free (src->v);
  store_refs_free (src->names, src->n_names);
  json_decref (src->walked);
  json_decref (src->named);
  if (src->dir_fd >= 0)
    close (src->dir_fd);
}

static struct member *
add_member (struct source *src, char *path_take, enum member_kind kind)
{
  struct member *m;

  XGROW (src->v, src->alloc, src->n + 1);
  m = &src->v[src->n++];
  memset (m, 0, sizeof *m);
  m->path = path_take;
  m->kind = kind;
  return m;
}

/* The member at path, links followed. NULL (with an error) when there is none. */
static const struct member *
find_member (const struct source *src, const char *path, bale_error_t *err)
{
  int depth;
  size_t i;

  for (depth = 0; depth < MAX_LINK_DEPTH; depth++)
    {
      /* The last member of a name wins, as when tar extracts over an earlier one. */
      for (i = src->n; i-- > 0;)
        if (strcmp (src->v[i].path, path) == 0)
          break;
      if (i == (size_t) -1)
        {
          bale_make_error (err, 0, "'%s' is not in archive '%s'", path, src->path);
          return NULL;
        }
      if (src->v[i].kind != M_LINK)
        return &src->v[i];
      path = src->v[i].target;
    }
  bale_make_error (err, 0, "too many links at '%s' in archive '%s'", path, src->path);
  return NULL;
}

/* ---- streaming a tar into the store ------------------------------------------------------- */

static void
read_freep (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}
#define cleanup_read_archive __attribute__ ((cleanup (read_freep)))

static int
archive_fail (struct archive *a, const struct source *src, bale_error_t *err)
{
  int e = archive_errno (a);

  /* libarchive reports format errors as EILSEQ and misuse as EINVAL: its message says more
     than their strerror ("Invalid or incomplete multibyte or wide character") would. */
  if (e == EILSEQ || e == EINVAL || e < 0)
    e = 0;
  return bale_make_error (err, e,
                          "cannot read archive '%s': %s", src->path,
                          archive_error_string (a) ? archive_error_string (a) : "unknown error");
}

/* Copy the current member's data into a blob writer; expected (may be NULL) is checked. */
/* Data blocks go to the writer as libarchive decodes them: memory stays flat however large
   the layer, and the digest is known when the last block is written. */
static int
stream_to_blob (struct archive *a, struct source *src, struct member *m, const char *expected,
                bale_error_t *err)
{
  struct store_blob_writer *w = store_blob_writer_new (src->s, err);
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;

  if (w == NULL)
    return -1;
  while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK)
    if (store_blob_writer_write (w, buf, len, err) < 0)
      break;
  if (r != ARCHIVE_EOF)
    {
      store_blob_writer_abort (w);
      return r == ARCHIVE_OK ? -1 : archive_fail (a, src, err);
    }
  m->size = store_blob_writer_size (w);
  if (store_blob_writer_commit (w, expected, m->digest, err) < 0)
    return bale_error_wrap (err, "'%s' in archive '%s'", m->path, src->path);
  return 0;
}

static int
read_to_memory (struct archive *a, struct source *src, struct member *m, bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  char buf[65536];
  la_ssize_t n;

  while ((n = archive_read_data (a, buf, sizeof buf)) > 0)
    strbuf_add (&sb, buf, (size_t) n);
  if (n < 0)
    return archive_fail (a, src, err);
  m->size = (int64_t) sb.len;
  strbuf_grow (&sb, 1);
  m->data = strbuf_detach (&sb, NULL);
  return 0;
}

/* blobs/sha256/<hex> names its own digest; anything else is "". */
static void
digest_from_path (const char *path, char out[DIGEST_STRLEN + 1])
{
  out[0] = '\0';
  if (strncmp (path, "blobs/sha256/", 13) == 0 && strlen (path + 13) == 64)
    {
      memcpy (out, "sha256:", 7);
      memcpy (out + 7, path + 13, 65);
      if (!digest_is_valid (out))
        out[0] = '\0';
    }
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), k = strlen (suffix);

  return n >= k && strcmp (s + n - k, suffix) == 0;
}

/* The documents that describe an archive, kept in memory; everything else may be a layer. */
static bool
is_document (const char *path)
{
  return ends_with (path, "json") || strcmp (path, "repositories") == 0
         || strcmp (path, "oci-layout") == 0 || ends_with (path, "VERSION");
}

static int
read_regular (struct archive *a, struct source *src, char *path_take, int64_t size,
              bale_error_t *err)
{
  struct member *m = add_member (src, path_take, M_BLOB);
  char expected[DIGEST_STRLEN + 1];

  digest_from_path (m->path, expected);
  /* Layers and OCI blobs stream straight into the store, so memory stays flat whatever
     their size. */
  if (expected[0] || !is_document (m->path) || size > (int64_t) SMALL_MAX)
    return stream_to_blob (a, src, m, expected[0] ? expected : NULL, err);
  m->kind = M_DATA;
  return read_to_memory (a, src, m, err);
}

/* docker save (legacy) stores a layer shared by two images once and symlinks the second
   <id>/layer.tar to it; skopeo does the same. Links are resolved among the members only. */
static int
read_link (struct source *src, struct archive_entry *e, char *path_take, bale_error_t *err)
{
  const char *hard = archive_entry_hardlink (e);
  const char *sym = archive_entry_symlink (e);
  cleanup_free char *dir = xstrdup (path_take);
  char *slash = strrchr (dir, '/');
  char *target;

  if (slash)
    *slash = '\0';
  else
    dir[0] = '\0';
  /* A hardlink names a member from the root; a symlink is relative to its directory. */
  target = hard ? clean_path ("", hard, false, "a hardlink target", err)
                : clean_path (dir, sym, true, "a symlink target", err);
  if (target == NULL)
    {
      free (path_take);
      return bale_error_wrap (err, "archive '%s'", src->path);
    }
  add_member (src, path_take, M_LINK)->target = target;
  return 0;
}

static int
read_entry (struct archive *a, struct archive_entry *e, struct source *src, bale_error_t *err)
{
  const char *name = archive_entry_pathname (e);
  char *path;

  if (name == NULL)
    return bale_make_error (err, 0, "archive '%s' has a member without a name", src->path);
  /* Directories carry nothing we read ("./" is the usual first member of `tar -C d .`). */
  if (archive_entry_filetype (e) == AE_IFDIR)
    return 0;
  if ((path = clean_path ("", name, false, "member name", err)) == NULL)
    return bale_error_wrap (err, "archive '%s'", src->path);
  if (archive_entry_hardlink (e) || archive_entry_filetype (e) == AE_IFLNK)
    return read_link (src, e, path, err);
  if (archive_entry_filetype (e) != AE_IFREG)
    {
      free (path);
      return 0;
    }
  return read_regular (a, src, path, archive_entry_size (e), err);
}

/* One pass over the archive. manifest.json comes last in docker save output, so nothing can
   be interpreted before the end: every member is kept (as a blob or in memory) first. */
static int
read_tar (struct source *src, bale_error_t *err)
{
  cleanup_read_archive struct archive *a = layer_reader_new (LAYER_READER_XZ_BZIP2, err);
  struct archive_entry *e;
  int r;

  if (a == NULL)
    return -1;
  /* A tar, possibly compressed; other formats (zip, cpio…) are no image archive. */
  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  /* "-" is standard input, as `docker load` reads it without -i. */
  if ((src->from_stdin ? archive_read_open_fd (a, STDIN_FILENO, 65536)
                       : archive_read_open_filename (a, src->path, 65536))
      != ARCHIVE_OK)
    return archive_fail (a, src, err);
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    if (read_entry (a, e, src, err) < 0)
      return -1;
  if (r != ARCHIVE_EOF)
    return archive_fail (a, src, err);
  return 0;
}

/* ---- reading documents and blobs from the source ------------------------------------------ */

/* The bytes of a small member (a JSON document): from memory or from the store. */
static char *
member_bytes (const struct source *src, const struct member *m, size_t *len, bale_error_t *err)
{
  char *out = NULL;

  if (m->kind == M_DATA)
    {
      *len = (size_t) m->size;
      return xmemdup0 (m->data, *len);
    }
  if (store_blob_read (src->s, m->digest, SMALL_MAX, &out, len, err) < 0)
    return NULL;
  return out;
}

static json_t *
parse_json (const char *bytes, size_t len, const char *what, const struct source *src,
            bale_error_t *err)
{
  json_error_t jerr;
  json_t *v = json_loadb (bytes, len, 0, &jerr);

  if (v == NULL)
    bale_make_error (err, 0, "cannot parse '%s' in '%s': %s (line %d)", what, src->path,
                     jerr.text, jerr.line);
  return v;
}

/* A JSON file of the source by its path: a member of the tar, or a file in the directory. */
/* The regular file rel ("index.json", "blobs/sha256/HEX") of the layout directory: each
   directory on the way and the file itself reached through no symlink, and no FIFO or device
   (whose open or read would wait, or never end). */
static int
open_in_layout (const struct source *src, const char *rel, bale_error_t *err)
{
  return fileio_open_regular (src->dir_fd, rel, err);
}

static json_t *
source_json (const struct source *src, const char *path, bale_error_t *err)
{
  cleanup_free char *bytes = NULL;
  size_t len = 0;

  if (src->dir_fd >= 0)
    {
      cleanup_close int fd = open_in_layout (src, path, err);
      cleanup_strbuf struct strbuf sb = STRBUF_INIT;

      struct stat st;

      /* A symlink, a FIFO (a wait for a writer) or a file past SMALL_MAX is refused. */
      if (fd < 0)
        return bale_error_wrap (err, "'%s/%s'", src->path, path), NULL;
      if (fstat (fd, &st) < 0 || st.st_size > (off_t) SMALL_MAX)
        return bale_make_error (err, 0, "'%s/%s' is larger than %u bytes", src->path, path, SMALL_MAX), NULL;
      if (fileio_read_fd (fd, path, &sb, err) < 0)
        return NULL;
      if (sb.len > SMALL_MAX)
        return bale_make_error (err, 0, "'%s/%s' is larger than %u bytes", src->path, path, SMALL_MAX), NULL;
      return parse_json (sb.buf, sb.len, path, src, err);
    }
  {
    const struct member *m = find_member (src, path, err);

    if (m == NULL || (bytes = member_bytes (src, m, &len, err)) == NULL)
      return NULL;
  }
  return parse_json (bytes, len, path, src, err);
}

/* Make sure the blob desc describes is in the store, copying it from a layout directory. */
/* Blobs of a tar were verified against their names as they were stored; blobs of a layout
   directory are copied here, verified the same way. Sizes are checked against the
   descriptor, as a registry would. */
static int
ensure_blob (struct source *src, const char *digest, int64_t size, bale_error_t *err)
{
  int64_t have;

  if (!digest_is_valid (digest))
    return bale_make_error (err, 0, "invalid digest '%s' in '%s'", digest ? digest : "",
                            src->path);
  if (src->dir_fd >= 0 && !store_blob_exists (src->s, digest))
    {
      cleanup_free char *rel = xasprintf ("blobs/sha256/%s", digest_hex (digest));
      cleanup_close int fd = open_in_layout (src, rel, err);

      if (fd < 0)
        return bale_error_wrap (err, "'%s/%s'", src->path, rel);
      if (store_blob_put_fd (src->s, fd, rel, digest, NULL, err) < 0)
        return bale_error_wrap (err, "'%s'", src->path);
    }
  if (!store_blob_exists (src->s, digest))
    return bale_make_error (err, 0, "blob '%s' is missing from '%s'", digest, src->path);
  if ((have = store_blob_size (src->s, digest, err)) < 0)
    return -1;
  if (size >= 0 && have != size)
    return bale_make_error (err, 0, "blob '%s' in '%s' has %lld bytes, not %lld", digest,
                            src->path, (long long) have, (long long) size);
  return 0;
}

static void
add_name (struct source *src, char *name_take, const char *digest)
{
  XGROW (src->names, src->names_alloc, src->n_names + 1);
  src->names[src->n_names].name = name_take;
  src->names[src->n_names].digest = xstrdup (digest);
  src->n_names++;
}

static int
record_name (struct source *src, const char *name, const char *digest, bale_error_t *err)
{
  cleanup_free char *full = store_ref_normalize (name ? name : digest, err);
  const char *had;

  if (full == NULL)
    return bale_error_wrap (err, "'%s'", src->path);
  if (src->unnamed)
    return 0;
  /* An index.json that repeats one entry names it once (each name rewrites refs.json). */
  if (!src->named)
    src->named = json_object ();
  had = json_string_value (json_object_get (src->named, full));
  if (had && digest && strcmp (had, digest) == 0)
    return 0;
  if (store_ref_set (src->s, full, digest, err) < 0)
    return bale_error_wrap (err, "'%s'", src->path);
  json_object_set_new (src->named, full, json_string (digest ? digest : ""));
  add_name (src, steal_pointer (&full), digest);
  return 0;
}

/* ---- OCI layouts -------------------------------------------------------------------------- */

static bool
mt_is (const char *mt, const char *a, const char *b)
{
  return mt && (strcmp (mt, a) == 0 || strcmp (mt, b) == 0);
}

static int import_descriptor (struct source *src, const json_t *desc, int depth, bale_error_t *err);

static int
import_children (struct source *src, const char *digest, int depth, bale_error_t *err)
{
  cleanup_free char *bytes = NULL;
  json_auto_t *doc = NULL;
  const json_t *v;
  size_t len, i;

  if (store_blob_read (src->s, digest, SMALL_MAX, &bytes, &len, err) < 0
      || (doc = parse_json (bytes, len, digest, src, err)) == NULL)
    return -1;
  json_array_foreach (json_object_get (doc, "manifests"), i, v)
    if (import_descriptor (src, v, depth + 1, err) < 0)
      return -1;
  if (json_object_get (doc, "config")
      && import_descriptor (src, json_object_get (doc, "config"), depth + 1, err) < 0)
    return -1;
  json_array_foreach (json_object_get (doc, "layers"), i, v)
    if (import_descriptor (src, v, depth + 1, err) < 0)
      return -1;
  return 0;
}

/* The blob of desc and, for an index or a manifest, every blob below it. */
static int
import_descriptor (struct source *src, const json_t *desc, int depth, bale_error_t *err)
{
  const char *digest = json_string_value (json_object_get (desc, "digest"));
  const char *mt = json_string_value (json_object_get (desc, "mediaType"));
  const json_t *size = json_object_get (desc, "size");

  if (depth > 4)
    return bale_make_error (err, 0, "indexes nested too deep in '%s'", src->path);
  if (ensure_blob (src, digest, json_is_integer (size) ? json_integer_value (size) : -1, err) < 0)
    return -1;
  /* index.json entries SHOULD carry a mediaType but need not; what they name is always an
     index or a manifest, and import_children finds out which. */
  if (mt_is (mt, OCI_MT_INDEX, DOCKER_MT_INDEX) || mt_is (mt, OCI_MT_MANIFEST, DOCKER_MT_MANIFEST)
      || (mt == NULL && depth == 0))
    {
      /* Each document's children once: indexes that each name the next one thousands of
         times made the walk thousands to the fourth power (depth is capped, fan-out is not). */
      if (!src->walked)
        src->walked = json_object ();
      if (json_object_get (src->walked, digest))
        return 0;
      json_object_set_new (src->walked, digest, json_true ());
      return import_children (src, digest, depth, err);
    }
  return 0;
}

/*
 * The name of an index.json entry: io.containerd.image.name (docker save, BuildKit), else
 * org.opencontainers.image.ref.name when it is a whole reference ("repo:tag", "host/repo");
 * a bare tag such as "v1" names no repository, so the image stays unnamed.
 */
static const char *
entry_name (const json_t *desc)
{
  const json_t *ann = json_object_get (desc, "annotations");
  const char *full = json_string_value (json_object_get (ann, OCI_ANNOTATION_IMAGE_NAME));
  const char *ref = json_string_value (json_object_get (ann, OCI_ANNOTATION_REF_NAME));

  if (full)
    return full;
  if (ref && (strchr (ref, ':') || strchr (ref, '/')))
    return ref;
  return NULL;
}

static int
import_oci (struct source *src, bale_error_t *err)
{
  json_auto_t *index = source_json (src, "index.json", err);
  const json_t *desc;
  size_t i;

  if (index == NULL)
    return -1;
  if (!json_is_array (json_object_get (index, "manifests")))
    return bale_make_error (err, 0, "'index.json' in '%s' has no 'manifests' array",
                            src->path);
  json_array_foreach (json_object_get (index, "manifests"), i, desc)
    {
      const char *digest = json_string_value (json_object_get (desc, "digest"));

      if (import_descriptor (src, desc, 0, err) < 0
          || record_name (src, entry_name (desc), digest, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- docker-archives ---------------------------------------------------------------------- */

/* The blob a manifest.json path refers to, in the store; small members are stored now. */
static const struct member *
docker_blob (struct source *src, const char *raw, char digest[DIGEST_STRLEN + 1], bale_error_t *err)
{
  cleanup_free char *path = clean_path ("", raw, false, "manifest.json", err);
  const struct member *m = path ? find_member (src, path, err) : NULL;

  if (m == NULL)
    {
      bale_error_wrap (err, "'%s'", src->path);
      return NULL;
    }
  if (m->kind == M_DATA)
    {
      if (store_blob_put (src->s, m->data, (size_t) m->size, digest, err) < 0)
        return NULL;
    }
  else
    memcpy (digest, m->digest, DIGEST_STRLEN + 1);
  return m;
}

/* The layer's media type from its first bytes: docker load accepts compressed layers too. */
static const char *
archive_layer_media_type (struct source *src, const char *digest, bool *compressed, bale_error_t *err)
{
  cleanup_close int fd = store_blob_open (src->s, digest, err);
  unsigned char magic[4] = { 0 };

  if (fd < 0)
    return NULL;
  if (read (fd, magic, sizeof magic) < 0)
    {
      bale_make_error (err, errno, "cannot read blob '%s'", digest);
      return NULL;
    }
  *compressed = true;
  if (magic[0] == 0x1f && magic[1] == 0x8b)
    return OCI_MT_LAYER_GZIP;
  if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return OCI_MT_LAYER_ZSTD;
  *compressed = false;
  return OCI_MT_LAYER_TAR;
}

/* The digest of the decompressed bytes of a stored blob (its diff_id), with the limits of
   an extraction (layer_diff_id: a decompression bomb is refused). */
static int
uncompressed_digest (struct source *src, const char *digest, char out[DIGEST_STRLEN + 1],
                     bale_error_t *err)
{
  cleanup_close int fd = store_blob_open (src->s, digest, err);

  if (fd < 0)
    return -1;
  if (layer_diff_id (fd, true, out, err) < 0)
    return bale_error_wrap (err, "layer '%s'", digest);
  return 0;
}

/* One layer of a manifest.json item, checked against its diff_id, as a descriptor. */
static json_t *
docker_layer (struct source *src, const char *raw, const char *diff_id, size_t i, bale_error_t *err)
{
  char digest[DIGEST_STRLEN + 1], got[DIGEST_STRLEN + 1];
  bool compressed = false;
  const char *mt;
  int64_t size;

  if (docker_blob (src, raw, digest, err) == NULL
      || (mt = archive_layer_media_type (src, digest, &compressed, err)) == NULL
      || (size = store_blob_size (src->s, digest, err)) < 0)
    return NULL;
  memcpy (got, digest, sizeof got);
  if (compressed && uncompressed_digest (src, digest, got, err) < 0)
    return NULL;
  /* moby's load.go: "invalid diffID for layer %d". */
  if (diff_id == NULL || strcmp (got, diff_id) != 0)
    {
      bale_make_error (err, 0, "invalid diffID for layer %zu ('%s') in '%s': got '%s', want '%s'",
                       i, raw, src->path, got, diff_id ? diff_id : "none");
      return NULL;
    }
  return oci_descriptor_new (mt, digest, size, NULL, NULL, err);
}

/* The OCI manifest for a manifest.json item, stored; out receives its digest. */
static int
docker_item_manifest (struct source *src, const json_t *item, char out[DIGEST_STRLEN + 1],
                      bale_error_t *err)
{
  const char *config_path = json_string_value (json_object_get (item, "Config"));
  const json_t *layers = json_object_get (item, "Layers"), *l;
  char config[DIGEST_STRLEN + 1];
  json_auto_t *config_json = NULL, *cdesc = NULL, *manifest = NULL;
  cleanup_free char *bytes = NULL, *manifest_bytes = NULL;
  const json_t *diff_ids;
  size_t i, len;

  if (config_path == NULL || !json_is_array (layers))
    return bale_make_error (err, 0, "'manifest.json' in '%s': an item lacks Config or Layers",
                            src->path);
  if (docker_blob (src, config_path, config, err) == NULL
      || store_blob_read (src->s, config, SMALL_MAX, &bytes, &len, err) < 0
      || (config_json = parse_json (bytes, len, config_path, src, err)) == NULL)
    return -1;
  diff_ids = json_object_get (json_object_get (config_json, "rootfs"), "diff_ids");
  if (json_array_size (diff_ids) != json_array_size (layers))
    return bale_make_error (err, 0, "'%s' in '%s': %zu layers but %zu diff_ids", config_path,
                            src->path, json_array_size (layers), json_array_size (diff_ids));
  if ((cdesc = oci_descriptor_new (OCI_MT_CONFIG, config, (int64_t) len, NULL, NULL, err)) == NULL)
    return -1;
  manifest = oci_manifest_new (cdesc);
  json_array_foreach (layers, i, l)
    {
      json_t *desc = docker_layer (src, json_string_value (l) ? json_string_value (l) : "",
                                   json_string_value (json_array_get (diff_ids, i)), i, err);

      if (desc == NULL)
        return -1;
      oci_manifest_add_layer (manifest, desc);
      json_decref (desc);
    }
  if ((manifest_bytes = canonjson_dumps (manifest, &len, err)) == NULL)
    return -1;
  return store_blob_put (src->s, manifest_bytes, len, out, err);
}

/* The docker-archive view: each manifest.json item becomes an OCI manifest over the same
   config and layer blobs. */
static int
import_docker (struct source *src, bale_error_t *err)
{
  json_auto_t *manifest = source_json (src, "manifest.json", err);
  const json_t *item, *tag;
  size_t i, j;

  if (manifest == NULL)
    return -1;
  /* moby rejects a null manifest.json and accepts an empty list. */
  if (!json_is_array (manifest))
    return bale_make_error (err, 0, "'manifest.json' in '%s' is not a list", src->path);
  json_array_foreach (manifest, i, item)
    {
      char digest[DIGEST_STRLEN + 1];
      const json_t *tags = json_object_get (item, "RepoTags");

      if (docker_item_manifest (src, item, digest, err) < 0)
        return -1;
      json_array_foreach (tags, j, tag)
        if (record_name (src, json_string_value (tag) ? json_string_value (tag) : "", digest, err)
            < 0)
          return -1;
      if (json_array_size (tags) == 0 && record_name (src, NULL, digest, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- store_load --------------------------------------------------------------------------- */

static bool
has_member (const struct source *src, const char *path)
{
  bale_error_t ignored = NULL;
  bool found;

  if (src->dir_fd >= 0)
    return faccessat (src->dir_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  found = find_member (src, path, &ignored) != NULL;
  bale_error_release (&ignored);
  return found;
}

static int
load_source (struct source *src, bale_error_t *err)
{
  struct stat st;

  if (src->from_stdin)
    st.st_mode = S_IFREG;
  else if (stat (src->path, &st) < 0)
    return bale_make_error (err, errno, "cannot load '%s'", src->path);
  if (S_ISDIR (st.st_mode))
    {
      src->dir_fd = open (src->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (src->dir_fd < 0)
        return bale_make_error (err, errno, "cannot open '%s'", src->path);
    }
  else if (read_tar (src, err) < 0)
    return -1;
  /* An OCI layout keeps the original manifest digests, so it wins in a Docker 25+ archive
     that is both. */
  if (has_member (src, "index.json") && has_member (src, "oci-layout"))
    return import_oci (src, err);
  /* A docker-archive is read from its tar only: an extracted one would need every path of
     manifest.json resolved safely on the file system, which the tar view avoids. */
  if (src->dir_fd >= 0)
    return bale_make_error (err, 0, "'%s' is a directory but not an OCI layout (no index.json "
                            "and oci-layout); load a docker-archive as a tar file", src->path);
  if (has_member (src, "manifest.json"))
    return import_docker (src, err);
  return bale_make_error (err, 0,
                          "'%s' is neither a docker-archive (no manifest.json) nor an OCI layout "
                          "(no index.json and oci-layout)",
                          src->path);
}

static int
load (struct store *s, const char *path, const char *digest, const char *name,
      struct store_ref **names, size_t *n_names, bale_error_t *err)
{
  struct source src;
  int ret;

  memset (&src, 0, sizeof src);
  src.s = s;
  src.from_stdin = strcmp (path, "-") == 0;
  src.path = src.from_stdin ? "standard input" : path;
  src.dir_fd = -1;
  src.unnamed = name != NULL;
  /* Blobs stored before their image is named must survive a concurrent gc. */
  if (store_txn_begin (s, err) < 0)
    return -1;
  ret = load_source (&src, err);
  if (ret == 0 && name)
    ret = store_ref_set (s, name, digest, err);
  store_txn_end (s);
  if (ret == 0 && names)
    {
      *names = steal_pointer (&src.names);
      *n_names = src.n_names;
      src.n_names = 0;
    }
  source_release (&src);
  return ret < 0 ? -1 : 0;
}

int
store_load (struct store *s, const char *path, struct store_ref **names, size_t *n_names,
            bale_error_t *err)
{
  return load (s, path, NULL, NULL, names, n_names, err);
}

int
store_load_as (struct store *s, const char *path, const char *digest, const char *name,
               bale_error_t *err)
{
  return load (s, path, digest, name, NULL, NULL, err);
}

/* ---- store_save --------------------------------------------------------------------------- */

struct save_item
{
  struct store_image img;
  struct layout_blob *blobs; /* layers, then config, then manifest */
  char **paths;
  const char **names;
  size_t n_names;
  struct layout_image limg;
};

static void
save_item_release (struct save_item *it)
{
  size_t i;

  for (i = 0; it->paths && i < it->img.n_layers + 2; i++)
    free (it->paths[i]);
  free (it->paths);
  free (it->blobs);
  free (it->names);
  store_image_release (&it->img);
}

static void
fill_blob (struct store *s, struct save_item *it, size_t i, const char *mt, const char *digest,
           int64_t size)
{
  it->paths[i] = store_blob_path (s, digest);
  it->blobs[i] = (struct layout_blob){ mt, digest, size, NULL, it->paths[i] };
}

static int
prepare_item (struct store *s, struct save_item *it, bale_error_t *err)
{
  size_t i, n = it->img.n_layers;
  int64_t csize = store_blob_size (s, it->img.config, err);
  int64_t msize = csize < 0 ? -1 : store_blob_size (s, it->img.manifest, err);

  if (msize < 0)
    return -1;
  it->blobs = xcalloc (n + 2, sizeof *it->blobs);
  it->paths = xcalloc (n + 2, sizeof *it->paths);
  for (i = 0; i < n; i++)
    fill_blob (s, it, i, it->img.layers[i].media_type, it->img.layers[i].digest,
               it->img.layers[i].size);
  fill_blob (s, it, n, OCI_MT_CONFIG, it->img.config, csize);
  fill_blob (s, it, n + 1, OCI_MT_MANIFEST, it->img.manifest, msize);
  it->limg = (struct layout_image){ it->blobs[n + 1], it->blobs[n], it->blobs, n, NULL, NULL, 0, NULL };
  return 0;
}

/* The item for what: an image already in items gets one more name. */
/* docker save a:1 a:2 writes one image with two RepoTags, not two copies: group by target. */
static int
add_save_item (struct store *s, const char *what, const struct bale_platform *platform,
               struct save_item *items, size_t *n, char **saved, bale_error_t *err)
{
  struct save_item *it;
  char target[DIGEST_STRLEN + 1], named[DIGEST_STRLEN + 1];
  bale_error_t not_a_name = NULL;
  bool by_name;
  size_t i;

  if (store_resolve (s, what, target, err) < 0)
    return -1;
  /* Saved by ID, an image carries no name, as with docker save. */
  by_name = !digest_is_valid (what) && store_ref_get (s, what, named, &not_a_name) == 0;
  bale_error_release (&not_a_name);
  for (i = 0; i < *n; i++)
    if (strcmp (items[i].img.target, target) == 0)
      break;
  it = &items[i];
  if (i == *n)
    {
      if (store_image_read (s, target, platform, &it->img, err) < 0 || prepare_item (s, it, err) < 0)
        return -1;
      (*n)++;
    }
  /* An index: say which of its images this is (the manifest chosen is not the target). */
  if (saved && strcmp (it->img.target, it->img.manifest) != 0)
    {
      const char *os = json_string_value (json_object_get (it->img.config_json, "os"));
      const char *arch = json_string_value (json_object_get (it->img.config_json, "architecture"));
      const char *variant = json_string_value (json_object_get (it->img.config_json, "variant"));
      *saved = xasprintf ("%s/%s%s%s", os ? os : "?", arch ? arch : "?", variant ? "/" : "",
                          variant ? variant : "");
    }
  if (by_name)
    it->names[it->n_names++] = what;
  return 0;
}

int
store_save (struct store *s, const char *path, const char *const *what, size_t n,
            const struct bale_platform *platform, char **saved, bale_error_t *err)
{
  struct save_item *items = xcalloc (n ? n : 1, sizeof *items);
  struct layout_docker_image *docker = xcalloc (n ? n : 1, sizeof *docker);
  size_t i, n_items = 0;
  int ret = 0;

  for (i = 0; i < n; i++)
    items[i].names = xcalloc (n, sizeof *items[i].names);
  for (i = 0; saved && i < n; i++)
    saved[i] = NULL;
  for (i = 0; i < n && ret == 0; i++)
    ret = add_save_item (s, what[i], platform, items, &n_items, saved ? &saved[i] : NULL, err);
  for (i = 0; i < n_items; i++)
    docker[i] = (struct layout_docker_image){ &items[i].limg, items[i].names, items[i].n_names };
  if (ret == 0)
    ret = layout_write_docker_archive_multi (path, docker, n_items, err);
  for (i = 0; i < n; i++)
    save_item_release (&items[i]);
  free (items);
  free (docker);
  return ret < 0 ? -1 : 0;
}
