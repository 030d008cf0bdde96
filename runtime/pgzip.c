/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parallel gzip (after pigz): blocks deflated on worker threads, stitched into one member. */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/pgzip.h"
#include "runtime/registry.h"
#include "common/banned.h"

/* pigz uses 128 KiB; bigger blocks lose less to flushes and cost fewer synchronisations. */
#define BLOCK (512 * 1024)
#define DICT (32 * 1024)
/* Blocks compressed between two synchronisations: many per thread, so that the wait for the
   slowest thread at the end of a batch costs little. */
#define BATCH 32

struct block
{
  unsigned char *in; /* DICT bytes of dictionary, then the block */
  size_t dict_len, len;
  bool last;
  unsigned char *out;
  size_t out_len;
  uLong crc; /* of the block alone, combined in order by the writer */
};

struct batch
{
  struct block b[BATCH];
  size_t n;
  int level;
};

static int
deflate_block (void *ctx, size_t i, bale_error_t *err)
{
  struct batch *bt = ctx;
  struct block *b = &bt->b[i];
  z_stream z;
  int rc;

  b->crc = crc32 (crc32 (0, NULL, 0), b->in + b->dict_len, (uInt) b->len);
  memset (&z, 0, sizeof z);
  /* Raw deflate (negative window bits): the gzip header and trailer are ours. */
  if (deflateInit2 (&z, bt->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return bale_make_error (err, 0, "cannot initialise zlib");
  if (b->dict_len)
    deflateSetDictionary (&z, b->in, (uInt) b->dict_len);
  b->out_len = deflateBound (&z, b->len) + 16;
  b->out = xrealloc (b->out, b->out_len);
  z.next_in = b->in + b->dict_len;
  z.avail_in = (uInt) b->len;
  z.next_out = b->out;
  z.avail_out = (uInt) b->out_len;
  /* A sync flush ends every block on a byte boundary, so that blocks concatenate. */
  rc = deflate (&z, b->last ? Z_FINISH : Z_SYNC_FLUSH);
  b->out_len -= z.avail_out;
  deflateEnd (&z);
  if (rc != (b->last ? Z_STREAM_END : Z_OK) || z.avail_in != 0 || z.avail_out == 0)
    return bale_make_error (err, 0, "zlib failed to compress a block");
  return 0;
}

static ssize_t
read_full (int fd, unsigned char *buf, size_t len)
{
  size_t got = 0;

  while (got < len)
    {
      ssize_t n = read (fd, buf + got, len - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      got += (size_t) n;
    }
  return (ssize_t) got;
}

struct state
{
  int fd;
  const char *name;
  unsigned char *dict; /* the last DICT bytes read */
  size_t dict_len;
  bool eof;
  uLong crc;
  uint64_t total;
  unsigned char *pending; /* one block read ahead, to know which block is the last */
  ssize_t pending_len;
};

/* Fill the next batch; the block read ahead tells whether the current one is the last. */
static int
fill_batch (struct state *st, struct batch *bt, bale_error_t *err)
{
  for (bt->n = 0; bt->n < BATCH && !st->eof; bt->n++)
    {
      struct block *b = &bt->b[bt->n];
      ssize_t next;

      b->in = xrealloc (b->in, DICT + BLOCK);
      memcpy (b->in, st->dict, st->dict_len);
      b->dict_len = st->dict_len;
      memcpy (b->in + b->dict_len, st->pending, (size_t) st->pending_len);
      b->len = (size_t) st->pending_len;
      st->total += b->len;
      if ((next = read_full (st->fd, st->pending, BLOCK)) < 0)
        return bale_make_error (err, errno, "cannot read '%s'", st->name);
      st->pending_len = next;
      b->last = st->eof = next == 0;
      /* The dictionary of the next block: the last 32 KiB of input, across block ends. */
      st->dict_len = b->dict_len + b->len < DICT ? b->dict_len + b->len : DICT;
      memcpy (st->dict, b->in + b->dict_len + b->len - st->dict_len, st->dict_len);
    }
  return 0;
}

static void
put_le32 (unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char) v;
  p[1] = (unsigned char) (v >> 8);
  p[2] = (unsigned char) (v >> 16);
  p[3] = (unsigned char) (v >> 24);
}

static int
run (struct state *st, struct batch *bt, int threads, pgzip_write_fn w, void *ctx,
     bale_error_t *err)
{
  /* RFC 1952 header: no MTIME (0), XFL 0, OS 3 (Unix), as `gzip -n` writes. */
  static const unsigned char header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
  unsigned char trailer[8];
  size_t i;

  if (w (ctx, header, sizeof header, err) < 0)
    return -1;
  while (!st->eof)
    {
      if (fill_batch (st, bt, err) < 0 || registry_parallel (bt->n, threads, deflate_block, bt, err) < 0)
        return -1;
      for (i = 0; i < bt->n; i++)
        {
          st->crc = crc32_combine (st->crc, bt->b[i].crc, (z_off_t) bt->b[i].len);
          if (w (ctx, bt->b[i].out, bt->b[i].out_len, err) < 0)
            return -1;
        }
    }
  put_le32 (trailer, (uint32_t) st->crc);
  put_le32 (trailer + 4, (uint32_t) (st->total & 0xffffffffu));
  return w (ctx, trailer, sizeof trailer, err);
}

int
pgzip_compress (int in_fd, const char *name, int level, int threads, pgzip_write_fn w, void *ctx,
                bale_error_t *err)
{
  struct state st = { .fd = in_fd, .name = name, .crc = crc32 (0, NULL, 0) };
  struct batch *bt = xzalloc (sizeof *bt);
  int ret;
  size_t i;

  bt->level = level;
  st.dict = xmalloc (DICT);
  st.pending = xmalloc (BLOCK);
  st.pending_len = read_full (in_fd, st.pending, BLOCK);
  ret = st.pending_len < 0 ? bale_make_error (err, errno, "cannot read '%s'", name) : 0;
  if (ret == 0)
    ret = run (&st, bt, threads, w, ctx, err);
  for (i = 0; i < BATCH; i++)
    {
      free (bt->b[i].in);
      free (bt->b[i].out);
    }
  free (bt);
  free (st.dict);
  free (st.pending);
  return ret;
}
