/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI image layout directories, OCI archives and docker-archives, written atomically. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "common/oci/canonjson.h"
#include "common/oci/digest.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/meter.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/store/layout.h"
#include "common/banned.h"

#define OCI_LAYOUT_CONTENT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define BLOB_DIR "blobs/sha256"
/* The largest index.json of a layout that is read to add an image to it. */
#define INDEX_MAX (16u << 20)

static void
archive_freep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}
#define cleanup_archive __attribute__ ((cleanup (archive_freep)))

/* ---- atomic files ---------------------------------------------------------------------- */

/* A new, exclusively created temporary file in dirfd; *name receives its name. */
static int
open_temp (int dirfd, const char *final, char **name, bale_error_t *err)
{
  static unsigned counter;
  int i;

  for (i = 0; i < 1000; i++)
    {
      char *tmp = xasprintf (".tmp-%ld-%u-%ld", (long) getpid (), counter++, (long) time (NULL));
      int fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

      if (fd >= 0)
        {
          *name = tmp;
          return fd;
        }
      free (tmp);
      if (errno != EEXIST)
        break;
    }
  return bale_make_error (err, errno, "cannot create a temporary file for '%s'", final);
}

/* Make the temporary file durable and move it over final; on failure remove it. */
static int
commit_temp (int dirfd, int fd, const char *tmp, const char *final, bale_error_t *err)
{
  /* The mode is fixed rather than left to the umask: clients read these files as any user. */
  if (fchmod (fd, 0644) < 0 || fsync (fd) < 0)
    goto fail;
  if (renameat (dirfd, tmp, dirfd, final) < 0)
    goto fail;
  if (fsync (dirfd) < 0)
    return bale_make_error (err, errno, "cannot sync the directory of '%s'", final);
  return 0;
fail:
  {
    int saved = errno;

    unlinkat (dirfd, tmp, 0);
    return bale_make_error (err, saved, "cannot write '%s'", final);
  }
}

int
layout_write_atomic (int dirfd, const char *name, const void *data, size_t len, bale_error_t *err)
{
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = open_temp (dirfd, name, &tmp, err);

  if (fd < 0)
    return fd;
  if (fileio_write_all (fd, data, len) < 0)
    {
      int saved = errno;

      unlinkat (dirfd, tmp, 0);
      return bale_make_error (err, saved, "cannot write '%s'", name);
    }
  return commit_temp (dirfd, fd, tmp, name, err);
}

/* ---- blob content ---------------------------------------------------------------------- */

typedef int (*chunk_fn) (void *ctx, const void *buf, size_t len, bale_error_t *err);

static int
check_digest (const struct layout_blob *b, struct digester *d, bale_error_t *err)
{
  char got[DIGEST_STRLEN + 1];
  int64_t size = d->size;
  int ret = digester_final (d, got, err);

  if (ret < 0)
    return ret;
  if (size != b->size)
    return bale_make_error (err, EINVAL, "blob '%s' has %lld bytes, not %lld", b->digest,
                            (long long) size, (long long) b->size);
  if (strcmp (got, b->digest) != 0)
    return bale_make_error (err, EINVAL, "blob '%s' has digest '%s'", b->digest, got);
  return 0;
}

static int
stream_file (const char *path, struct digester *d, chunk_fn fn, void *ctx, struct meter *m,
             bale_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  char buf[65536];

  if (fd < 0)
    return bale_make_error (err, errno, "cannot open '%s'", path);
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      int ret;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return bale_make_error (err, errno, "cannot read '%s'", path);
      if (n == 0)
        return 0;
      digester_update (d, buf, (size_t) n);
      if ((ret = fn (ctx, buf, (size_t) n, err)) < 0)
        return ret;
      meter_add_opt (m, n);
    }
}

/* Feed the blob's bytes to fn (telling m, which may be NULL), then fail unless they hash to
   its digest and size. */
static int
stream_blob (const struct layout_blob *b, chunk_fn fn, void *ctx, struct meter *m,
             bale_error_t *err)
{
  struct digester d;
  int ret;

  if (!digest_is_valid (b->digest))
    return bale_make_error (err, EINVAL, "invalid digest '%s'", b->digest ? b->digest : "");
  if (b->path == NULL && b->data == NULL && b->size > 0)
    return bale_make_error (err, EINVAL, "blob '%s' has no content", b->digest);
  if ((ret = digester_init (&d, err)) < 0)
    return ret;
  if (b->path)
    ret = stream_file (b->path, &d, fn, ctx, m, err);
  else
    {
      digester_update (&d, b->data, (size_t) b->size);
      ret = fn (ctx, b->data, (size_t) b->size, err);
      meter_add_opt (m, b->size);
    }
  if (ret < 0)
    {
      digester_release (&d);
      return ret;
    }
  return check_digest (b, &d, err);
}

/* ---- layout directories ---------------------------------------------------------------- */

static int
fd_chunk (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  if (fileio_write_all (*(int *) ctx, buf, len) < 0)
    return bale_make_error (err, errno, "cannot write blob");
  return 0;
}

/* Store b under blobs/sha256 unless a file of the right size is already there. */
static int
put_blob (int blobs_fd, const struct layout_blob *b, struct meter *m, bale_error_t *err)
{
  const char *hex = digest_hex (b->digest);
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = -1;
  struct stat st;
  int ret;

  if (hex == NULL)
    return bale_make_error (err, EINVAL, "invalid digest '%s'", b->digest ? b->digest : "");
  /* Content-addressed: a present blob of the right size is the same blob. */
  if (fstatat (blobs_fd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode)
      && st.st_size == b->size)
    {
      meter_add_opt (m, b->size);
      return 0;
    }
  if ((fd = open_temp (blobs_fd, hex, &tmp, err)) < 0)
    return fd;
  if ((ret = stream_blob (b, fd_chunk, &fd, m, err)) < 0)
    {
      unlinkat (blobs_fd, tmp, 0);
      return ret;
    }
  return commit_temp (blobs_fd, fd, tmp, hex, err);
}

/* The bytes put_all_blobs writes (or finds there): what its meter counts to. */
static int64_t
all_blobs_size (const struct layout_image *img)
{
  int64_t n = img->manifest.size;
  size_t i;

  for (i = 0; i < img->n_children; i++)
    n += all_blobs_size (&img->children[i]);
  for (i = 0; !img->children && i < img->n_layers; i++)
    n += img->layers[i].size;
  return img->children ? n : n + img->config.size;
}

static int
put_all_blobs (int root_fd, const struct layout_image *img, struct meter *m, bale_error_t *err)
{
  cleanup_close int blobs_fd = fileio_mkdir_open (root_fd, "blobs", err);
  cleanup_close int sha_fd = -1;
  size_t i;
  int ret;

  if (blobs_fd < 0)
    return blobs_fd;
  if ((sha_fd = fileio_mkdir_open (blobs_fd, "sha256", err)) < 0)
    return sha_fd;
  if (img->children)
    {
      for (i = 0; i < img->n_children; i++)
        if ((ret = put_all_blobs (root_fd, &img->children[i], m, err)) < 0)
          return ret;
      return put_blob (sha_fd, &img->manifest, m, err);
    }
  for (i = 0; i < img->n_layers; i++)
    if ((ret = put_blob (sha_fd, &img->layers[i], m, err)) < 0)
      return ret;
  if ((ret = put_blob (sha_fd, &img->config, m, err)) < 0)
    return ret;
  return put_blob (sha_fd, &img->manifest, m, err);
}

/* The index entry for img: the manifest descriptor, annotated with the name if any. */
static json_t *
index_entry (const struct layout_image *img, const char *name, bale_error_t *err)
{
  json_auto_t *annotations = json_object ();
  struct oci_ref ref;

  if (name)
    {
      cleanup_free char *full = NULL;

      if (oci_ref_parse (name, 0, &ref, err) < 0)
        return NULL;
      full = oci_ref_full (&ref);
      json_object_set_new (annotations, OCI_ANNOTATION_IMAGE_NAME, json_string (full));
      json_object_set_new (annotations, OCI_ANNOTATION_REF_NAME, json_string (ref.tag));
      oci_ref_release (&ref);
    }
  return oci_descriptor_new (img->manifest.media_type ? img->manifest.media_type : OCI_MT_MANIFEST,
                             img->manifest.digest, img->manifest.size, annotations, img->platform,
                             err);
}

/* The layout's current index.json, or a new empty index when there is none. A symlink, a
   FIFO or a file past 16 MiB is an error: the directory may hold what an image exported. */
static json_t *
load_index (int root_fd, bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  json_error_t jerr;
  json_t *idx;
  struct stat st;

  if (fstatat (root_fd, "index.json", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
    return oci_index_new ();
  if (fileio_read_regular (root_fd, "index.json", INDEX_MAX, &sb, err) < 0)
    return NULL;
  idx = json_loadb (sb.buf, sb.len, 0, &jerr);
  if (idx == NULL || !json_is_array (json_object_get (idx, "manifests")))
    {
      json_decref (idx);
      bale_make_error (err, EINVAL, "cannot parse 'index.json': %s",
                       idx ? "no 'manifests' array" : jerr.text);
      return NULL;
    }
  return idx;
}

static const char *
ref_name_of (const json_t *desc)
{
  return json_string_value (
      json_object_get (json_object_get (desc, "annotations"), OCI_ANNOTATION_REF_NAME));
}

static bool
same_slot (const json_t *old, const json_t *entry)
{
  const char *a = ref_name_of (old), *b = ref_name_of (entry);

  if (a || b)
    return a && b && strcmp (a, b) == 0;
  return json_equal (json_object_get (old, "digest"), json_object_get (entry, "digest"));
}

static void
merge_entry (json_t *idx, json_t *entry)
{
  json_t *manifests = json_object_get (idx, "manifests");
  size_t i;

  for (i = 0; i < json_array_size (manifests); i++)
    if (same_slot (json_array_get (manifests, i), entry))
      {
        json_array_set (manifests, i, entry);
        return;
      }
  json_array_append (manifests, entry);
}

static int
write_json_atomic (int dirfd, const char *name, const json_t *doc, bale_error_t *err)
{
  size_t len;
  cleanup_free char *bytes = canonjson_dumps (doc, &len, err);

  if (bytes == NULL)
    return -1;
  return layout_write_atomic (dirfd, name, bytes, len, err);
}

int
layout_write_dir (const char *dir, const struct layout_image *img, const char *name,
                  bale_error_t *err)
{
  cleanup_close int root_fd = -1;
  json_auto_t *entry = index_entry (img, name, err);
  json_auto_t *idx = NULL;
  int ret;

  if (entry == NULL)
    return -1;
  if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create directory '%s'", dir);
  if ((root_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return bale_make_error (err, errno, "cannot open directory '%s'", dir);
  ret = layout_write_atomic (root_fd, "oci-layout", OCI_LAYOUT_CONTENT, strlen (OCI_LAYOUT_CONTENT),
                             err);
  meter_begin (img->meter, all_blobs_size (img));
  if (ret < 0 || (ret = put_all_blobs (root_fd, img, img->meter, err)) < 0)
    return bale_error_wrap (err, "cannot write OCI layout '%s'", dir);
  /* index.json last: it must never name a blob that is not there yet. */
  if ((idx = load_index (root_fd, err)) == NULL)
    return bale_error_wrap (err, "cannot write OCI layout '%s'", dir);
  merge_entry (idx, entry);
  if (write_json_atomic (root_fd, "index.json", idx, err) < 0)
    return bale_error_wrap (err, "cannot write OCI layout '%s'", dir);
  meter_end_opt (img->meter, all_blobs_size (img));
  return 0;
}

/* ---- archives -------------------------------------------------------------------------- */

/* One tar member: a directory, owned bytes, or a blob (borrowed, verified as it is copied). */
struct member
{
  char *name;
  bool dir;
  char *data;
  size_t len;
  const struct layout_blob *blob;
};

struct members
{
  struct member *v;
  size_t n, alloc;
};

static void
members_release (struct members *m)
{
  size_t i;

  for (i = 0; i < m->n; i++)
    {
      free (m->v[i].name);
      free (m->v[i].data);
    }
  free (m->v);
  m->v = NULL;
  m->n = m->alloc = 0;
}
#define cleanup_members __attribute__ ((cleanup (members_release)))

static struct member *
members_add (struct members *m, char *name_take)
{
  struct member *e;

  XGROW (m->v, m->alloc, m->n + 1);
  e = &m->v[m->n++];
  memset (e, 0, sizeof *e);
  e->name = name_take;
  return e;
}

static void
add_bytes (struct members *m, const char *name, char *data_take, size_t len)
{
  struct member *e = members_add (m, xstrdup (name));

  e->data = data_take;
  e->len = len;
}

/* Add blobs/sha256/<hex> for b unless an earlier blob had the same digest. */
static int
add_blob (struct members *m, const struct layout_blob *b, bale_error_t *err)
{
  const char *hex = digest_hex (b->digest);
  cleanup_free char *name = NULL;
  size_t i;

  if (hex == NULL)
    return bale_make_error (err, EINVAL, "invalid digest '%s'", b->digest ? b->digest : "");
  name = xasprintf (BLOB_DIR "/%s", hex);
  for (i = 0; i < m->n; i++)
    if (strcmp (m->v[i].name, name) == 0)
      return 0;
  members_add (m, steal_pointer (&name))->blob = b;
  return 0;
}

static int
add_json (struct members *m, const char *name, const json_t *doc, bool newline, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;

  if (canonjson_append (&sb, doc, err) < 0)
    {
      strbuf_release (&sb);
      return -1;
    }
  /* docker save writes manifest.json and repositories with json.Encoder, which ends the
     document with a newline. */
  if (newline)
    strbuf_addch (&sb, '\n');
  add_bytes (m, name, sb.buf, sb.len);
  return 0;
}

static int
add_image_blobs (struct members *m, const struct layout_image *img, bale_error_t *err)
{
  size_t i;
  int ret = 0;

  for (i = 0; i < img->n_children && ret == 0; i++)
    ret = add_image_blobs (m, &img->children[i], err);
  for (i = 0; i < img->n_layers && ret == 0; i++)
    ret = add_blob (m, &img->layers[i], err);
  if (ret == 0 && !img->children)
    ret = add_blob (m, &img->config, err);
  if (ret == 0)
    ret = add_blob (m, &img->manifest, err);
  return ret;
}

/* Append idx's entries for img: one per name (as docker save writes them), or one unnamed. */
static int
add_index_entries (json_t *idx, const struct layout_image *img, const char *const *names,
                   size_t n_names, bale_error_t *err)
{
  size_t i;

  for (i = 0; i < (n_names ? n_names : 1); i++)
    {
      json_t *entry = index_entry (img, n_names ? names[i] : NULL, err);

      if (entry == NULL)
        return -1;
      oci_index_add (idx, entry);
      json_decref (entry);
    }
  return 0;
}

/* The members every OCI layout has: directories, oci-layout, index.json and the blobs. */
static int
add_layout_multi (struct members *m, const struct layout_docker_image *items, size_t n,
                  bale_error_t *err)
{
  json_auto_t *idx = oci_index_new ();
  size_t i;

  members_add (m, xstrdup ("blobs/"))->dir = true;
  members_add (m, xstrdup (BLOB_DIR "/"))->dir = true;
  add_bytes (m, "oci-layout", xstrdup (OCI_LAYOUT_CONTENT), strlen (OCI_LAYOUT_CONTENT));
  for (i = 0; i < n; i++)
    if (add_image_blobs (m, items[i].img, err) < 0
        || add_index_entries (idx, items[i].img, items[i].names, items[i].n_names, err) < 0)
      return -1;
  return add_json (m, "index.json", idx, false, err);
}

static int
add_layout (struct members *m, const struct layout_image *img, const char *name, bale_error_t *err)
{
  struct layout_docker_image item = { img, &name, name ? 1 : 0 };

  return add_layout_multi (m, &item, 1, err);
}

static int
compare_members (const void *a, const void *b)
{
  return strcmp (((const struct member *) a)->name, ((const struct member *) b)->name);
}

static int
archive_chunk (void *ctx, const void *buf, size_t len, bale_error_t *err)
{
  struct archive *a = ctx;
  la_ssize_t n = archive_write_data (a, buf, len);

  if (n < 0 || (size_t) n != len)
    return bale_make_error (err, 0, "cannot write archive data: %s", archive_error_string (a));
  return 0;
}

static struct archive_entry *
new_entry (const struct member *e)
{
  struct archive_entry *ae = archive_entry_new ();

  archive_entry_set_pathname (ae, e->name);
  archive_entry_set_filetype (ae, e->dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm (ae, e->dir ? 0755 : 0644);
  archive_entry_set_size (ae, e->dir ? 0 : e->blob ? e->blob->size : (la_int64_t) e->len);
  /* Fixed metadata so that the same image always gives the same bytes. */
  archive_entry_set_mtime (ae, 0, 0);
  archive_entry_set_uid (ae, 0);
  archive_entry_set_gid (ae, 0);
  return ae;
}

static int
write_member (struct archive *a, const struct member *e, struct meter *m, bale_error_t *err)
{
  struct archive_entry *ae = new_entry (e);
  int ret = archive_write_header (a, ae);

  archive_entry_free (ae);
  if (ret != ARCHIVE_OK)
    return bale_make_error (err, 0, "cannot write '%s': %s", e->name, archive_error_string (a));
  if (e->dir)
    return 0;
  if (e->blob)
    return stream_blob (e->blob, archive_chunk, a, m, err);
  meter_add_opt (m, (int64_t) e->len);
  return archive_chunk (a, e->data, e->len, err);
}

/* The members' contents: what the meter of write_tar counts to (the headers left out). */
static int64_t
members_size (const struct members *m)
{
  int64_t n = 0;

  for (size_t i = 0; i < m->n; i++)
    n += m->v[i].dir ? 0 : m->v[i].blob ? m->v[i].blob->size : (int64_t) m->v[i].len;
  return n;
}

static int
write_tar (int fd, struct members *m, struct meter *meter, bale_error_t *err)
{
  cleanup_archive struct archive *a = archive_write_new ();
  size_t i;
  int ret;

  qsort (m->v, m->n, sizeof *m->v, compare_members);
  /* pax_restricted writes plain ustar headers unless a field does not fit; with no padding
     past the two zero blocks the output matches Go's archive/tar framing. */
  if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
      || archive_write_open_fd (a, fd) != ARCHIVE_OK)
    return bale_make_error (err, 0, "cannot start archive: %s", archive_error_string (a));
  meter_begin (meter, members_size (m));
  for (i = 0; i < m->n; i++)
    if ((ret = write_member (a, &m->v[i], meter, err)) < 0)
      return ret;
  if (archive_write_close (a) != ARCHIVE_OK)
    return bale_make_error (err, 0, "cannot finish archive: %s", archive_error_string (a));
  meter_end_opt (meter, members_size (m));
  return 0;
}

/* Write the members as a tar at path: a temporary file next to it, then rename. */
static int
write_archive_file (const char *path, struct members *m, struct meter *meter, bale_error_t *err)
{
  cleanup_free char *dcopy = xstrdup (path), *bcopy = xstrdup (path), *tmp = NULL;
  const char *base = basename (bcopy);
  cleanup_close int dir_fd = open (dirname (dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int fd = -1;
  int ret;

  /* "-": standard output, for `bale save NAME > file` as with docker save. */
  if (strcmp (path, "-") == 0)
    return write_tar (STDOUT_FILENO, m, meter, err);
  if (dir_fd < 0)
    return bale_make_error (err, errno, "cannot open the directory of '%s'", path);
  if ((fd = open_temp (dir_fd, base, &tmp, err)) < 0)
    return fd;
  if ((ret = write_tar (fd, m, meter, err)) < 0)
    {
      unlinkat (dir_fd, tmp, 0);
      return ret;
    }
  return commit_temp (dir_fd, fd, tmp, base, err);
}

int
layout_write_oci_archive (const char *path, const struct layout_image *img, const char *name,
                          bale_error_t *err)
{
  cleanup_members struct members m = { NULL, 0, 0 };

  if (add_layout (&m, img, name, err) < 0 || write_archive_file (path, &m, img->meter, err) < 0)
    return bale_error_wrap (err, "cannot write OCI archive '%s'", path);
  return 0;
}

static json_t *
blob_path (const struct layout_blob *b)
{
  return json_sprintf (BLOB_DIR "/%s", digest_hex (b->digest));
}

/* One manifest.json item: moby's manifestItem {Config, RepoTags, Layers}. familiar[] are the
   names in Docker's familiar form. */
static json_t *
docker_manifest_item (const struct layout_image *img, char **familiar, size_t n)
{
  json_t *item = json_object ();
  json_t *layers = json_array ();
  json_t *tags = json_array ();
  size_t i;

  json_object_set_new (item, "Config", blob_path (&img->config));
  for (i = 0; i < n; i++)
    json_array_append_new (tags, json_string (familiar[i]));
  /* A nil Go slice marshals as null, which is what docker save writes for untagged images. */
  json_object_set_new (item, "RepoTags", n ? tags : json_null ());
  if (n == 0)
    json_decref (tags);
  for (i = 0; i < img->n_layers; i++)
    json_array_append_new (layers, blob_path (&img->layers[i]));
  json_object_set_new (item, "Layers", layers);
  return item;
}

/* repositories: {"<familiar name>": {"<tag>": "<top layer id>"}}, only for tagged images. */
static void
add_repository (json_t *repos, const struct layout_image *img, const struct oci_ref *ref)
{
  cleanup_free char *name = oci_ref_familiar_name (ref);
  const char *top = digest_hex (img->layers[img->n_layers - 1].digest);
  json_t *tags = json_object_get (repos, name);

  if (tags == NULL)
    json_object_set_new (repos, name, tags = json_object ());
  json_object_set_new (tags, ref->tag, json_string (top));
}

/* manifest.json's item for one image, and its names in repositories. */
static int
add_docker_item (json_t *manifest, json_t *repos, const struct layout_docker_image *it,
                 bale_error_t *err)
{
  /* NULL-terminated, and filled in order, so cleanup_strv frees it at any point. */
  cleanup_strv char **familiar = xcalloc (it->n_names + 1, sizeof *familiar);
  size_t i;

  for (i = 0; i < it->n_names; i++)
    {
      struct oci_ref ref;

      if (oci_ref_parse (it->names[i], 0, &ref, err) < 0)
        return -1;
      familiar[i] = oci_ref_familiar (&ref);
      if (it->img->n_layers > 0)
        add_repository (repos, it->img, &ref);
      oci_ref_release (&ref);
    }
  json_array_append_new (manifest, docker_manifest_item (it->img, familiar, it->n_names));
  return 0;
}

static int
add_docker_files (struct members *m, const struct layout_docker_image *items, size_t n,
                  bale_error_t *err)
{
  json_auto_t *manifest = json_array (), *repos = json_object ();
  size_t i;
  int ret;

  for (i = 0; i < n; i++)
    if (add_docker_item (manifest, repos, &items[i], err) < 0)
      return -1;
  canonjson_sort_keys (repos);
  ret = add_json (m, "manifest.json", manifest, true, err);
  if (ret == 0 && json_object_size (repos) > 0)
    ret = add_json (m, "repositories", repos, true, err);
  return ret;
}

static int
docker_archive (const char *path, const struct layout_docker_image *items, size_t n,
                struct meter *meter, bale_error_t *err)
{
  cleanup_members struct members m = { NULL, 0, 0 };

  /* manifest.json has no place for an index (BuildKit's docker exporter says the same). */
  for (size_t i = 0; i < n; i++)
    if (items[i].img->children)
      return bale_make_error (err, 0, "docker exporter does not currently support exporting manifest lists");
  if (add_layout_multi (&m, items, n, err) < 0 || add_docker_files (&m, items, n, err) < 0
      || write_archive_file (path, &m, meter, err) < 0)
    return bale_error_wrap (err, "cannot write docker archive '%s'", path);
  return 0;
}

int
layout_write_docker_archive_multi (const char *path, const struct layout_docker_image *items,
                                   size_t n, bale_error_t *err)
{
  return docker_archive (path, items, n, NULL, err);
}

int
layout_write_docker_archive (const char *path, const struct layout_image *img, const char *name,
                             bale_error_t *err)
{
  struct layout_docker_image item = { img, &name, name ? 1 : 0 };

  return docker_archive (path, &item, 1, img->meter, err);
}
