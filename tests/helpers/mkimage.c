/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Build a one-layer test image (/hello, Cmd ["/hello"]) with the OCI output API, for real clients.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "common/oci/canonjson.h"
#include "common/oci/digest.h"
#include "common/oci/oci.h"
#include "common/oci/platform.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/store/layout.h"
#include "common/banned.h"

#define HELLO "#!/bin/sh\necho hello from bale\n"

static la_ssize_t
to_strbuf (struct archive *a, void *ctx, const void *buf, size_t len)
{
  strbuf_add (ctx, buf, len);
  return (la_ssize_t) len;
}

static int
check (struct archive *a, int ret, const char *what, bale_error_t *err)
{
  /* ARCHIVE_WARN from a filter means libarchive fell back to an external program. */
  if (ret != ARCHIVE_OK)
    return bale_make_error (err, 0, "cannot %s: %s", what, archive_error_string (a));
  return 0;
}

static int
add_file (struct archive *a, const char *name, const char *data, bale_error_t *err)
{
  struct archive_entry *e = archive_entry_new ();
  int ret;

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0755);
  archive_entry_set_size (e, (la_int64_t) strlen (data));
  archive_entry_set_mtime (e, 0, 0);
  ret = check (a, archive_write_header (a, e), "write a tar header", err);
  archive_entry_free (e);
  if (ret == 0 && archive_write_data (a, data, strlen (data)) != (la_ssize_t) strlen (data))
    ret = bale_make_error (err, 0, "cannot write tar data: %s", archive_error_string (a));
  return ret;
}

/* The layer tar: one file "hello", Go-style framing (no padding past the EOF blocks). */
static int
make_tar (struct strbuf *out, bale_error_t *err)
{
  struct archive *a = archive_write_new ();
  int ret = check (a, archive_write_set_format_pax_restricted (a), "set tar format", err);

  if (ret == 0)
    ret = check (a, archive_write_set_bytes_in_last_block (a, 1), "set block size", err);
  if (ret == 0)
    ret = check (a, archive_write_open2 (a, out, NULL, to_strbuf, NULL, NULL), "open tar", err);
  if (ret == 0)
    ret = add_file (a, "hello", HELLO, err);
  if (ret == 0)
    ret = check (a, archive_write_close (a), "finish tar", err);
  archive_write_free (a);
  return ret;
}

/* gzip the tar in-process (the raw format wraps one entry's data), without a timestamp. */
static int
make_gzip (const struct strbuf *in, struct strbuf *out, bale_error_t *err)
{
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();
  int ret = check (a, archive_write_set_format_raw (a), "set raw format", err);

  if (ret == 0)
    ret = check (a, archive_write_add_filter_gzip (a), "add gzip filter", err);
  if (ret == 0)
    ret = check (a, archive_write_set_filter_option (a, "gzip", "timestamp", NULL),
                 "drop gzip time", err);
  if (ret == 0)
    ret = check (a, archive_write_set_bytes_in_last_block (a, 1), "set block size", err);
  if (ret == 0)
    ret = check (a, archive_write_open2 (a, out, NULL, to_strbuf, NULL, NULL), "open gzip", err);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_size (e, (la_int64_t) in->len);
  if (ret == 0)
    ret = check (a, archive_write_header (a, e), "start gzip", err);
  if (ret == 0 && archive_write_data (a, in->buf, in->len) != (la_ssize_t) in->len)
    ret = bale_make_error (err, 0, "cannot gzip: %s", archive_error_string (a));
  if (ret == 0)
    ret = check (a, archive_write_close (a), "finish gzip", err);
  archive_entry_free (e);
  archive_write_free (a);
  return ret;
}

static int
write_file (const char *path, const struct strbuf *sb, bale_error_t *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0 || write (fd, sb->buf, sb->len) != (ssize_t) sb->len)
    return bale_make_error (err, errno, "cannot write '%s'", path);
  return 0;
}

/* The config: scratch + one layer + Cmd, laid out the way BuildKit writes it. */
static json_t *
make_config (const struct bale_platform *p, const char *diff_id, bale_error_t *err)
{
  json_auto_t *c = oci_config_new_scratch (p);
  json_t *history = json_object_get (c, "history");

  json_array_append_new (json_object_get (json_object_get (c, "rootfs"), "diff_ids"),
                         json_string (diff_id));
  json_array_append_new (history,
                         oci_history_new ("1970-01-01T00:00:00Z", "COPY hello /hello # buildkit",
                                          "buildkit.dockerfile.v0", false));
  json_array_append_new (history, oci_history_new ("1970-01-01T00:00:00Z", "CMD [\"/hello\"]",
                                                   "buildkit.dockerfile.v0", true));
  /* Set after Env and WorkingDir on purpose: normalising puts Cmd back before WorkingDir. */
  json_object_set_new (json_object_get (c, "config"), "Cmd", json_pack ("[s]", "/hello"));
  json_object_set_new (c, "created", json_string ("1970-01-01T00:00:00Z"));
  return oci_config_normalize (c, err);
}

/* Serialise doc canonically into a blob whose bytes the caller frees. */
static int
json_blob (const json_t *doc, const char *media_type, struct layout_blob *b, char *digest,
           char **bytes, bale_error_t *err)
{
  size_t len;

  if ((*bytes = canonjson_dumps (doc, &len, err)) == NULL)
    return -1;
  if (digest_buffer (*bytes, len, digest, err) < 0)
    return -1;
  *b = (struct layout_blob){ media_type, digest, (int64_t) len, *bytes, NULL };
  return 0;
}

struct image
{
  struct bale_platform platform;
  struct strbuf tar, gz;
  char diff_id[DIGEST_STRLEN + 1], layer_digest[DIGEST_STRLEN + 1];
  char config_digest[DIGEST_STRLEN + 1], manifest_digest[DIGEST_STRLEN + 1];
  char *config_bytes, *manifest_bytes;
  struct layout_blob layer;
  struct layout_image img;
};

static int
build_manifest (struct image *im, bale_error_t *err)
{
  json_auto_t *cdesc
      = oci_descriptor_new (OCI_MT_CONFIG, im->config_digest, im->img.config.size, NULL, NULL, err);
  json_auto_t *ldesc = cdesc ? oci_descriptor_new (OCI_MT_LAYER_GZIP, im->layer_digest,
                                                   (int64_t) im->gz.len, NULL, NULL, err)
                             : NULL;
  json_auto_t *m = NULL;

  if (ldesc == NULL)
    return -1;
  m = oci_manifest_new (cdesc);
  oci_manifest_add_layer (m, ldesc);
  return json_blob (m, OCI_MT_MANIFEST, &im->img.manifest, im->manifest_digest, &im->manifest_bytes,
                    err);
}

static int
build (struct image *im, const char *layer_path, bale_error_t *err)
{
  json_auto_t *config = NULL;

  if (platform_host (&im->platform, err) < 0 || make_tar (&im->tar, err) < 0
      || make_gzip (&im->tar, &im->gz, err) < 0 || write_file (layer_path, &im->gz, err) < 0)
    return -1;
  if (digest_buffer (im->tar.buf, im->tar.len, im->diff_id, err) < 0
      || digest_buffer (im->gz.buf, im->gz.len, im->layer_digest, err) < 0)
    return -1;
  if ((config = make_config (&im->platform, im->diff_id, err)) == NULL
      || json_blob (config, OCI_MT_CONFIG, &im->img.config, im->config_digest, &im->config_bytes,
                    err)
             < 0
      || build_manifest (im, err) < 0)
    return -1;
  /* The layer goes through the file path of the writers, the JSON through memory. */
  im->layer = (struct layout_blob){ OCI_MT_LAYER_GZIP, im->layer_digest, (int64_t) im->gz.len, NULL,
                                    layer_path };
  im->img.layers = &im->layer;
  im->img.n_layers = 1;
  im->img.platform = &im->platform;
  return 0;
}

static void
image_release (struct image *im)
{
  platform_release (&im->platform);
  strbuf_release (&im->tar);
  strbuf_release (&im->gz);
  free (im->config_bytes);
  free (im->manifest_bytes);
}

int
main (int argc, char **argv)
{
  struct image im = { .tar = STRBUF_INIT, .gz = STRBUF_INIT };
  bale_error_t err = NULL;
  cleanup_free char *layer_path = NULL;
  int ret;

  if (argc != 5)
    {
      fprintf (stderr, "usage: %s LAYOUT-DIR DOCKER-ARCHIVE OCI-ARCHIVE NAME\n", argv[0]);
      return 2;
    }
  layer_path = xasprintf ("%s.layer.tar.gz", argv[2]);
  ret = build (&im, layer_path, &err);
  if (ret == 0)
    ret = layout_write_dir (argv[1], &im.img, argv[4], &err);
  if (ret == 0)
    ret = layout_write_docker_archive (argv[2], &im.img, argv[4], &err);
  if (ret == 0)
    ret = layout_write_oci_archive (argv[3], &im.img, argv[4], &err);
  unlink (layer_path);
  if (ret == 0)
    printf ("manifest %s\nconfig %s\nlayer %s\ndiff_id %s\n", im.manifest_digest, im.config_digest,
            im.layer_digest, im.diff_id);
  else
    fprintf (stderr, "mkimage: %s\n", err ? err->msg : "failed");
  bale_error_release (&err);
  image_release (&im);
  return ret == 0 ? 0 : 1;
}
