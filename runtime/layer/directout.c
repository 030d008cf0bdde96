/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A layer's bytes written with O_DIRECT by a thread that hashes them (directout.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/layer/directout.h"
#include "common/banned.h"

/* Big enough that a write is one request of the disk's largest size (max_sectors_kb is 4 MiB
   on this machine's virtio disk, 1280 KiB on many others: the block layer splits it), small
   enough for the 64 MB RSS goal with two of them. */
#define CHUNK (4 << 20)
/* O_DIRECT needs the buffer, the offset and the length aligned to the logical block size:
   512 or 4096 on every disk that matters; the page size covers both. */
#define ALIGN 4096
/* buf[0] at first: most RUN layers are a few kB, and need no 4 MiB mapping each. */
#define SMALL (64 << 10)

struct directout
{
  int fd;
  struct digester *d;
  char *buf[2];
  size_t cap0;    /* the size of buf[0]: SMALL until a layer is bigger */
  int cur;        /* the chunk being filled */
  size_t len;     /* bytes in it */
  bool started;   /* the thread runs */
  pthread_t tid;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  /* Under mu: */
  int pending;    /* the chunk the thread is to write, or -1 */
  bool stop;
  bool direct;    /* fd has O_DIRECT */
  int error;      /* errno of a failed write, 0 */
};

static void
set_direct (int fd, bool on)
{
  int fl = fcntl (fd, F_GETFL);

  if (fl >= 0)
    (void) fcntl (fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT);
}

/* Hash and write one whole chunk; 0 or an errno. With O_DIRECT refused (EINVAL: a file
   system without it, or a stricter alignment) or a short write, the rest goes through the
   page cache: the bytes are the same either way. */
static int
write_chunk (struct directout *o, const char *buf, size_t len, bool *direct)
{
  digester_update (o->d, buf, len);
  while (*direct && len > 0)
    {
      ssize_t n = write (o->fd, buf, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno != EINVAL)
        return errno;
      if (n < 0 || (size_t) n < len)
        {
          set_direct (o->fd, false);
          *direct = false;
        }
      if (n > 0)
        buf += n, len -= (size_t) n;
    }
  return len > 0 && fileio_write_all (o->fd, buf, len) < 0 ? errno : 0;
}

static void *
writer_thread (void *arg)
{
  struct directout *o = arg;

  pthread_mutex_lock (&o->mu);
  for (;;)
    {
      bool direct;
      int i, e;

      while (o->pending < 0 && !o->stop)
        pthread_cond_wait (&o->cv, &o->mu);
      if (o->pending < 0)
        break;
      i = o->pending;
      direct = o->direct;
      e = o->error;
      pthread_mutex_unlock (&o->mu);
      /* After a failure the file is garbage: the chunks are only drained. */
      if (e == 0)
        e = write_chunk (o, o->buf[i], CHUNK, &direct);
      pthread_mutex_lock (&o->mu);
      o->direct = direct;
      o->error = e;
      o->pending = -1;
      pthread_cond_broadcast (&o->cv);
    }
  pthread_mutex_unlock (&o->mu);
  return NULL;
}

struct directout *
directout_new (int fd, struct digester *d)
{
  struct directout *o = xzalloc (sizeof *o);

  o->fd = fd;
  o->d = d;
  o->pending = -1;
  pthread_mutex_init (&o->mu, NULL);
  pthread_cond_init (&o->cv, NULL);
  return o;
}

/* Wait until the thread is idle; its error, if any. Called with mu held. */
static int
wait_idle (struct directout *o)
{
  while (o->pending >= 0)
    pthread_cond_wait (&o->cv, &o->mu);
  return o->error;
}

/* The first whole chunk: O_DIRECT on and the thread started. Without a thread, each chunk
   is written in the caller's time (through the page cache). */
static void
start (struct directout *o)
{
  o->started = true;
  o->buf[1] = NULL;
  if (posix_memalign ((void **) &o->buf[1], ALIGN, CHUNK) != 0)
    o->buf[1] = NULL;
  set_direct (o->fd, true);
  o->direct = (fcntl (o->fd, F_GETFL) & O_DIRECT) != 0;
  if (o->buf[1] == NULL || pthread_create (&o->tid, NULL, writer_thread, o) != 0)
    {
      set_direct (o->fd, false);
      o->direct = false;
      o->started = false;
    }
}

/* Hand the full chunk to the thread and go on with the other one. */
static int
submit (struct directout *o)
{
  int e;

  if (!o->started && o->buf[1] == NULL)
    start (o);
  if (!o->started)
    {
      bool direct = false;
      e = write_chunk (o, o->buf[o->cur], CHUNK, &direct);
      o->len = 0;
      errno = e;
      return e ? -1 : 0;
    }
  pthread_mutex_lock (&o->mu);
  e = wait_idle (o);
  if (e == 0)
    {
      o->pending = o->cur;
      pthread_cond_broadcast (&o->cv);
    }
  pthread_mutex_unlock (&o->mu);
  if (e != 0)
    {
      errno = e;
      return -1;
    }
  o->cur ^= 1;
  o->len = 0;
  return 0;
}

/* buf[0] big enough for len more bytes, up to a whole chunk. */
static int
reserve (struct directout *o, size_t len)
{
  size_t want = o->len + len > SMALL ? CHUNK : SMALL;
  char *p = NULL;

  if (o->cap0 >= want || o->cur != 0)
    return 0;
  if (posix_memalign ((void **) &p, ALIGN, want) != 0)
    {
      errno = ENOMEM;
      return -1;
    }
  if (o->len > 0)
    memcpy (p, o->buf[0], o->len);
  free (o->buf[0]);
  o->buf[0] = p;
  o->cap0 = want;
  return 0;
}

int
directout_write (struct directout *o, const void *buf, size_t len)
{
  const char *p = buf;

  if (reserve (o, len) < 0)
    return -1;
  while (len > 0)
    {
      size_t n = CHUNK - o->len < len ? CHUNK - o->len : len;

      memcpy (o->buf[o->cur] + o->len, p, n);
      o->len += n;
      p += n;
      len -= n;
      if (o->len == CHUNK && submit (o) < 0)
        return -1;
    }
  return 0;
}

int
directout_finish (struct directout *o, bale_error_t *err)
{
  int e = 0;

  if (o->started)
    {
      pthread_mutex_lock (&o->mu);
      e = wait_idle (o);
      pthread_mutex_unlock (&o->mu);
      /* The last bytes are not a whole block: they go through the page cache. */
      set_direct (o->fd, false);
    }
  if (e == 0 && o->len > 0)
    {
      bool direct = false;
      e = write_chunk (o, o->buf[o->cur], o->len, &direct);
    }
  o->len = 0;
  if (e != 0)
    return bale_make_error (err, e, "cannot write the layer");
  return 0;
}

void
directout_free (struct directout *o)
{
  if (o == NULL)
    return;
  if (o->started)
    {
      pthread_mutex_lock (&o->mu);
      o->stop = true;
      pthread_cond_broadcast (&o->cv);
      pthread_mutex_unlock (&o->mu);
      pthread_join (o->tid, NULL);
      set_direct (o->fd, false);
    }
  pthread_mutex_destroy (&o->mu);
  pthread_cond_destroy (&o->cv);
  free (o->buf[0]);
  free (o->buf[1]);
  free (o);
}
