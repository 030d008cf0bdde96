/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer snapshots of an image and the start checks on its filesystem (bale run, bale explain). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/imgfs.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/sandbox/imgroot.h"
#include "runtime/layer/layer.h"
#include "runtime/store/layout_read.h"
#include "runtime/store/store.h"
#include "common/banned.h"

void
imgfs_lowers_free (char **lowers, size_t n)
{
  for (size_t i = 0; lowers && i < n; i++)
    free (lowers[i]);
  free (lowers);
}

int
imgfs_lowers (struct store *s, const struct imgfs_layers *layers, char ***lowers, size_t *n_unique,
              bale_error_t *err)
{
  char **out = xcalloc (layers->n + 1, sizeof *out);

  for (size_t i = 0; i < layers->n; i++)
    {
      /* Through no symlink and no FIFO even if a layout changed since it was read. */
      cleanup_close int fd = layout_blob_open (layers->blobs[i], err);

      if (fd < 0)
        {
          imgfs_lowers_free (out, layers->n);
          return bale_error_wrap (err, "cannot open layer %s", layers->blobs[i]);
        }
      if (snapshot_ensure (store_snapshots_fd (s), layers->diff_ids[i], fd, &out[layers->n - 1 - i], err) < 0)
        {
          imgfs_lowers_free (out, layers->n);
          return -1;
        }
    }
  *n_unique = snapshot_stack_unique ((const char **) out, layers->n);
  *lowers = out;
  return 0;
}

static int
run_check (int rootfd, void *arg, json_t **out, bale_error_t *err)
{
  return startcheck_run (rootfd, arg, out, err);
}

int
imgfs_startcheck (struct store *s, const struct imgfs_layers *layers, const struct startcheck_in *in,
                  json_t **out, bale_error_t *err)
{
  cleanup_free char *dir = store_area_path (s, STORE_AREA_TMP, "explain.XXXXXX");
  char **lowers = NULL;
  size_t n_unique;
  int ret;

  if (imgfs_lowers (s, layers, &lowers, &n_unique, err) < 0)
    return -1;
  if (!mkdtemp (dir))
    ret = bale_make_error (err, errno, "cannot create %s", dir);
  else
    {
      bale_error_t ignored = NULL;

      ret = imgroot_with ((const char *const *) lowers, n_unique, dir, run_check, (void *) in, out, err);
      dirwalk_remove (AT_FDCWD, dir, dir, &ignored);
      bale_error_release (&ignored);
    }
  imgfs_lowers_free (lowers, layers->n);
  return ret;
}
