/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading an image's config out of an OCI image layout directory. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/oci/platform.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/store/layout_read.h"
#include "common/banned.h"

/* Blobs named in an index are small JSON documents: refuse anything bigger than this. */
#define JSON_BLOB_MAX (4 << 20)

/* The directory blobs/sha256 of the layout at dirfd, each level a directory of its own: a
   symlink there is an error, as it would lead reads out of the layout. */
static int
open_blobs (int dirfd, const char *dir, bale_error_t *err)
{
  cleanup_close int b = openat (dirfd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int fd = b < 0 ? -1 : openat (b, "sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return bale_make_error (err, errno, "%s: cannot open blobs/sha256 (a directory, not a symlink)", dir);
  return fd;
}

/* dirfd/rel as JSON, whose digest must be digest (unless NULL). rel is a regular file of the
   layout (a symlink, a FIFO or a device is an error) of at most JSON_BLOB_MAX bytes. */
static json_t *
read_json (int dirfd, const char *dir, const char *rel, const char *digest, bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  char got[DIGEST_STRLEN + 1];
  json_error_t je;
  json_t *j;

  if (fileio_read_regular (dirfd, rel, JSON_BLOB_MAX, &sb, err) < 0)
    return bale_error_wrap (err, "%s", dir), NULL;
  if (digest)
    {
      if (digest_buffer (sb.buf, sb.len, got, err) < 0)
        return NULL;
      if (strcmp (got, digest) != 0)
        return bale_make_error (err, 0, "%s: %s does not match its digest (%s)", dir, rel, got), NULL;
    }
  j = json_loadb (sb.buf, sb.len, 0, &je);
  if (!j)
    bale_make_error (err, 0, "%s: %s: invalid JSON: %s", dir, rel, je.text);
  return j;
}

static json_t *
read_blob (int dirfd, const char *dir, const json_t *desc, bale_error_t *err)
{
  const char *digest = json_string_value (json_object_get (desc, "digest"));
  cleanup_close int blobs = -1;

  if (!digest || !digest_is_valid (digest))
    return bale_make_error (err, 0, "%s: a descriptor has no valid sha256 digest", dir), NULL;
  if ((blobs = open_blobs (dirfd, dir, err)) < 0)
    return NULL;
  return read_json (blobs, dir, digest_hex (digest), digest, err);
}

static bool
media_is (const json_t *desc, const char *a, const char *b)
{
  const char *m = json_string_value (json_object_get (desc, "mediaType"));
  return m && (strcmp (m, a) == 0 || strcmp (m, b) == 0);
}

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DMANIFEST "application/vnd.docker.distribution.manifest.v2+json"

/* The manifest of a nested index for the host platform (exact os/arch; variant ignored). */
static const json_t *
pick_platform (const json_t *manifests, const struct bale_platform *host)
{
  size_t i;

  for (i = 0; i < json_array_size (manifests); i++)
    {
      const json_t *d = json_array_get (manifests, i);
      const json_t *pl = json_object_get (d, "platform");
      const char *os = json_string_value (json_object_get (pl, "os"));
      const char *arch = json_string_value (json_object_get (pl, "architecture"));
      if (os && arch && strcmp (os, host->os) == 0 && strcmp (arch, host->arch) == 0)
        return d;
    }
  return json_array_size (manifests) == 1 ? json_array_get (manifests, 0) : NULL;
}

int
layout_read_config (const char *dir, const char *name, json_t **config,
                    char config_digest[DIGEST_STRLEN + 1], bale_error_t *err)
{
  json_t *manifest = NULL;
  int ret = layout_read_image (dir, name, &manifest, config, config_digest, err);

  json_decref (manifest);
  return ret;
}

int
layout_read_image (const char *dir, const char *name, json_t **manifest_out, json_t **config,
                   char config_digest[DIGEST_STRLEN + 1], bale_error_t *err)
{
  cleanup_close int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct bale_platform host = { 0 };
  json_t *index = NULL, *nested = NULL, *manifest = NULL;
  const json_t *desc = NULL, *ms;
  const char *digest;
  size_t i;
  int ret = -1;

  if (dirfd < 0)
    return bale_make_error (err, errno, "cannot open OCI layout '%s'", dir);
  if (platform_host (&host, err) < 0)
    return -1;
  index = read_json (dirfd, dir, "index.json", NULL, err);
  if (!index)
    goto out;
  ms = json_object_get (index, "manifests");
  for (i = 0; i < json_array_size (ms); i++)
    {
      const json_t *d = json_array_get (ms, i);
      const char *ref = json_string_value (
          json_object_get (json_object_get (d, "annotations"), "org.opencontainers.image.ref.name"));
      if (!name || (ref && strcmp (ref, name) == 0))
        desc = d;
    }
  if (!desc)
    {
      if (name)
        bale_make_error (err, 0, "%s: no image named '%s' in index.json", dir, name);
      else
        bale_make_error (err, 0, "%s: index.json lists no image", dir);
      goto out;
    }
  if (media_is (desc, MT_INDEX, MT_LIST))
    {
      nested = read_blob (dirfd, dir, desc, err);
      if (!nested)
        goto out;
      desc = pick_platform (json_object_get (nested, "manifests"), &host);
      if (!desc)
        {
          bale_make_error (err, 0, "%s: no image for %s/%s", dir, host.os, host.arch);
          goto out;
        }
    }
  if (!media_is (desc, MT_MANIFEST, MT_DMANIFEST))
    {
      bale_make_error (err, 0, "%s: unsupported manifest media type", dir);
      goto out;
    }
  manifest = read_blob (dirfd, dir, desc, err);
  if (!manifest)
    goto out;
  *config = read_blob (dirfd, dir, json_object_get (manifest, "config"), err);
  if (!*config)
    goto out;
  digest = json_string_value (json_object_get (json_object_get (manifest, "config"), "digest"));
  memcpy (config_digest, digest, DIGEST_STRLEN + 1);
  *manifest_out = steal_pointer (&manifest);
  ret = 0;
out:
  json_decref (index);
  json_decref (nested);
  json_decref (manifest);
  platform_release (&host);
  return ret;
}

char *
layout_blob_path (const char *dir, const char *digest)
{
  cleanup_close int dirfd = -1, blobs = -1, fd = -1;
  bale_error_t e = NULL;

  if (!digest || !digest_is_valid (digest))
    return NULL;
  /* What is read by this path later must be the layout's own file: no symlink on the way, and
     a regular file, not a FIFO that would hang the reader or a device read without end. */
  if ((dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0
      || (blobs = open_blobs (dirfd, dir, &e)) < 0
      || (fd = fileio_open_regular (blobs, digest_hex (digest), &e)) < 0)
    {
      bale_error_release (&e);
      return NULL;
    }
  return xasprintf ("%s/blobs/sha256/%s", dir, digest_hex (digest));
}

int
layout_blob_open (const char *path, bale_error_t *err)
{
  const char *tail = NULL, *p = path;
  cleanup_free char *dir = NULL;
  cleanup_close int dfd = -1;

  while ((p = strstr (p, "/blobs/sha256/")) != NULL)
    tail = p++;
  if (!tail)
    return bale_make_error (err, EINVAL, "'%s' is not the path of a blob", path);
  dir = tail == path ? xstrdup ("/") : xstrndup (path, (size_t) (tail - path));
  if ((dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return bale_make_error (err, errno, "cannot open '%s'", dir);
  return fileio_open_regular (dfd, tail + 1, err);
}
