/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale diff` (include/bale/image.h): every difference between two images, wherever each
   lives (the store, an OCI layout, an archive), to find out why two builds differ. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/layer/fsmeta.h"
#include "runtime/layer/imgdiff.h"
#include "runtime/store/imgsrc.h"
#include "runtime/store/layout_read.h"
#include "common/banned.h"

/* Apply every layer of src, in order, to a fresh file table. */
static struct fsmeta *
flatten (const struct imgsrc *src, bale_error_t *err)
{
  struct fsmeta *fs = fsmeta_new ();
  size_t i;

  for (i = 0; i < src->n_layers; i++)
    {
      /* Through no symlink and no FIFO even if the layout changed since it was read. */
      cleanup_close int fd = layout_blob_open (src->layers[i], err);
      cleanup_free char *name = xasprintf ("layer %zu", i);

      if (fd < 0)
        {
          bale_error_wrap (err, "cannot open layer %zu ('%s')", i, src->layers[i]);
          break;
        }
      if (fsmeta_apply_layer (fs, fd, name, err) < 0)
        {
          bale_error_wrap (err, "layer %zu ('%s')", i, src->layers[i]);
          break;
        }
    }
  if (i == src->n_layers)
    return fs;
  fsmeta_free (fs);
  return NULL;
}

/* Open one operand and flatten its file system; errors say which operand failed. */
static struct fsmeta *
load (struct store *st, const char *platform, const char *what, struct imgsrc *src,
      bale_error_t *err)
{
  struct fsmeta *fs = NULL;

  if (imgsrc_open (st, platform, what, src, err) == 0)
    fs = flatten (src, err);
  if (!fs)
    bale_error_wrap (err, "image '%s'", what);
  return fs;
}

int
bale_diff (bale_store *s, const char *a, const char *b, const struct bale_diff_options *o,
           char **text, char **json, bale_error_t *err)
{
  struct imgsrc ia = { 0 }, ib = { 0 };
  struct fsmeta *fa = NULL, *fb = NULL;
  struct imgdiff d = { 0 };
  const char *platform = NULL;
  unsigned flags = 0;
  int ret = -1;

  if (o && o->struct_size < sizeof *o)
    return bale_make_error (err, EINVAL, "bale_diff: struct_size %zu is not that of this "
                            "library's struct bale_diff_options (%zu): set it with "
                            "BALE_DIFF_OPTIONS_INIT", o->struct_size, sizeof *o);
  if (o)
    {
      platform = o->platform;
      flags = o->flags;
    }
  if (flags & ~(unsigned) BALE_DIFF_IGNORE_TIMESTAMPS)
    return bale_make_error (err, EINVAL, "bale_diff: unknown flags %#x", flags);
  fa = load (s ? s->st : NULL, platform, a, &ia, err);
  if (fa)
    fb = load (s ? s->st : NULL, platform, b, &ib, err);
  if (fa && fb)
    {
      if (flags & BALE_DIFF_IGNORE_TIMESTAMPS)
        d.flags |= IMGDIFF_IGNORE_TIMESTAMPS;
      imgdiff_configs (&d, ia.config, ib.config);
      imgdiff_files (&d, fa, fb);
      if (text)
        *text = imgdiff_to_text (&d);
      if (json)
        {
          json_auto_t *j = imgdiff_to_json (&d);
          *json = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
        }
      ret = d.n > (size_t) INT32_MAX ? INT32_MAX : (int) d.n;
    }
  imgdiff_release (&d);
  fsmeta_free (fa);
  fsmeta_free (fb);
  imgsrc_release (&ia);
  imgsrc_release (&ib);
  return ret;
}
