/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Write, extract and list layer tarballs from the shell, for client checks and debugging. */
#include <config.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "runtime/layer/layer.h"
#include "common/banned.h"

static int
usage (void)
{
  fputs ("usage: layertool write [--overlay] [--hash-thread] gzip|zstd|none DIR OUT\n"
         "       layertool extract [--overlay] BLOB ROOT [DIFF_ID]\n"
         "       layertool list BLOB\n",
         stderr);
  return 2;
}

static int
cmd_write (int argc, char **argv, bale_error_t *err)
{
  struct layer_write_opts opts = { 0 };
  struct layer_result res;
  cleanup_close int dir = -1;
  cleanup_close int out = -1;

  if (argc > 0 && strcmp (argv[0], "--overlay") == 0)
    {
      opts.overlay_upper = true;
      argc--, argv++;
    }
  /* The tar hashed on a thread of its own (bench/: what it does for W4's layer). */
  if (argc > 0 && strcmp (argv[0], "--hash-thread") == 0)
    {
      opts.hash_thread = LAYER_HASH_THREAD;
      argc--, argv++;
    }
  if (argc != 3)
    return usage ();
  opts.compression = strcmp (argv[0], "zstd") == 0   ? LAYER_COMPRESSION_ZSTD
                     : strcmp (argv[0], "none") == 0 ? LAYER_COMPRESSION_NONE
                                                     : LAYER_COMPRESSION_GZIP;
  dir = open (argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return bale_make_error (err, errno, "cannot open '%s'", argv[1]);
  out = open (argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0)
    return bale_make_error (err, errno, "cannot create '%s'", argv[2]);
  if (layer_write_dir (dir, &opts, out, &res, err) < 0)
    return -1;
  printf ("diff_id %s\ndigest %s\nsize %" PRId64 "\ntar_size %" PRId64 "\nmedia_type %s\n",
          res.diff_id, res.digest, res.size, res.tar_size, res.media_type);
  return 0;
}

static int
cmd_extract (int argc, char **argv, bale_error_t *err)
{
  struct layer_extract_opts opts = { .mode = LAYER_EXTRACT_MERGED };
  struct layer_extract_stats stats;
  cleanup_close int blob = -1;
  cleanup_close int root = -1;

  if (argc > 0 && strcmp (argv[0], "--overlay") == 0)
    {
      opts.mode = LAYER_EXTRACT_OVERLAY;
      argc--, argv++;
    }
  if (argc != 2 && argc != 3)
    return usage ();
  opts.expected_diff_id = argc == 3 ? argv[2] : NULL;
  blob = open (argv[0], O_RDONLY | O_CLOEXEC);
  if (blob < 0)
    return bale_make_error (err, errno, "cannot open '%s'", argv[0]);
  root = open (argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return bale_make_error (err, errno, "cannot open '%s'", argv[1]);
  if (layer_extract (blob, root, &opts, &stats, err) < 0)
    return -1;
  printf ("diff_id %s\ndigest %s\nentries %" PRId64 "\n", stats.diff_id, stats.digest,
          stats.entries);
  return 0;
}

static int
cmd_list (int argc, char **argv, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;
  cleanup_close int blob = -1;
  int ret;

  if (argc != 1)
    return usage ();
  blob = open (argv[0], O_RDONLY | O_CLOEXEC);
  if (blob < 0)
    return bale_make_error (err, errno, "cannot open '%s'", argv[0]);
  ret = layer_list (blob, &sb, err);
  if (ret == 0)
    fputs (sb.buf, stdout);
  strbuf_release (&sb);
  return ret;
}

int
main (int argc, char **argv)
{
  bale_error_t err = NULL;
  int ret;

  if (argc < 2)
    return usage ();
  if (strcmp (argv[1], "write") == 0)
    ret = cmd_write (argc - 2, argv + 2, &err);
  else if (strcmp (argv[1], "extract") == 0)
    ret = cmd_extract (argc - 2, argv + 2, &err);
  else if (strcmp (argv[1], "list") == 0)
    ret = cmd_list (argc - 2, argv + 2, &err);
  else
    return usage ();
  if (ret == 2)
    return 2;
  if (ret < 0)
    {
      fprintf (stderr, "layertool: %s%s%s\n", err->msg, err->status ? ": " : "",
               err->status ? strerror (err->status) : "");
      bale_error_release (&err);
      return 1;
    }
  return fflush (stdout) == 0 ? 0 : 1;
}
