/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build provenance in the store: provenance/<config hex>.json, written by `bale build` and
 * read by `bale explain`. Keyed by the config digest, so it follows the image under any name
 * and also explains an OCI layout that bale wrote.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/oci/canonjson.h"
#include "common/oci/digest.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/store/layout.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* The provenance directory: an fd, -1 with an error, or -2 when it does not exist and
   create is not set. */
static int
open_dir (struct cli_global *g, bool create, bale_error_t *err)
{
  cleanup_free char *root = cli_store_path (g, err);
  cleanup_free char *dir = NULL;
  int fd;

  if (!root)
    return -1;
  dir = store_area_path_at (root, STORE_AREA_PROVENANCE, NULL);
  if (create && mkdir (root, 0700) < 0 && errno != EEXIST)
    {
      bale_make_error (err, errno, "cannot create store '%s'", root);
      return -1;
    }
  if (create && mkdir (dir, 0700) < 0 && errno != EEXIST)
    {
      bale_make_error (err, errno, "cannot create '%s'", dir);
      return -1;
    }
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && !create && errno == ENOENT)
    return -2;
  if (fd < 0)
    {
      bale_make_error (err, errno, "cannot open '%s'", dir);
      return -1;
    }
  return fd;
}

int
cli_provenance_write (struct cli_global *g, const char *config_digest, const json_t *prov,
                      bale_error_t *err)
{
  cleanup_close int fd = open_dir (g, true, err);
  cleanup_free char *text = NULL, *name = NULL;
  size_t len;

  if (fd < 0)
    return -1;
  text = canonjson_dumps (prov, &len, err);
  if (!text)
    return -1;
  name = xasprintf ("%s.json", digest_hex (config_digest));
  return layout_write_atomic (fd, name, text, len, err);
}

int
cli_provenance_read (struct cli_global *g, const char *config_digest, json_t **prov,
                     bale_error_t *err)
{
  cleanup_close int dfd = open_dir (g, false, err);
  cleanup_close int fd = -1;
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  cleanup_free char *name = NULL;
  json_error_t je;

  *prov = NULL;
  if (dfd == -2)
    return 0;
  if (dfd < 0)
    return -1;
  name = xasprintf ("%s.json", digest_hex (config_digest));
  fd = openat (dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? 0 : bale_make_error (err, errno, "cannot open provenance %s", name);
  if (fileio_read_fd (fd, name, &sb, err) < 0)
    return -1;
  *prov = json_loadb (sb.buf, sb.len, 0, &je);
  if (!*prov)
    return bale_make_error (err, 0, "provenance %s: invalid JSON: %s", name, je.text);
  return 0;
}
