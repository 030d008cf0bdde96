/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build-context content digests behind a stat index, like git's index: a file whose size,
 * mtime, ctime, inode and mode are as recorded keeps its recorded digest and is not read.
 *
 * Index file: the magic "BALECTX1", then one record per path: a struct rec (native byte
 * order: the file never leaves this host) followed by the path with its NUL, padded to 8
 * bytes. A record is "racy", and its digest not trusted, when the file changed within
 * RACY_NS of the walk that hashed it: timestamps come from a coarse clock, so a second write
 * in the same tick would leave the stat unchanged (git's racy-clean problem).
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/copy_resolve.h"
#include "runtime/build/ctxhash.h"
#include "common/dirwalk.h"
#include "common/trace.h"
#include "runtime/store/store.h"
#include "common/banned.h"

#define MAGIC "BALECTX1"
#define RACY_NS (50 * 1000000LL)

struct rec
{
  uint32_t len; /* of the path, NUL included */
  uint32_t mode;
  int64_t size, mtime, ctime;
  uint64_t ino;
  unsigned char sha[32];
};

struct entry
{
  char *path; /* into the mapped index, or owned when owned */
  struct rec r;
  bool racy, owned;
};

struct ctxhash
{
  int root_fd;
  char *index_path, *tmp_dir;
  struct entry *v;
  size_t n, alloc;
  void *map; /* the index file as loaded */
  size_t map_len;
  uint32_t *slots; /* open addressing: entry index + 1, 0 for empty */
  size_t cap;
  bool dirty;
  size_t files_read;
  /* Files with more than one link met in this description: COPY writes the second and
     later ones as hard links to the first, so the key must say which are one file. */
  struct link { dev_t dev; ino_t ino; char *path; } *links;
  size_t n_links, alloc_links;
  int64_t start_ns; /* when this process started hashing */
  ctxhash_list_fn list; /* also told every entry described (the cache's inputs record) */
  void *list_ctx;
  bool warm; /* ctxhash_set_cold: stat the source trees ahead on threads */
  const struct timespec *since; /* ctxhash_set_since */
  char *changed;                /* the first file read that was written since, or NULL */
};

static uint32_t
hash_path (const char *s)
{
  uint32_t h = 2166136261u; /* FNV-1a */

  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 16777619u;
  return h;
}

static void
slot_insert (struct ctxhash *h, size_t idx)
{
  size_t i = hash_path (h->v[idx].path) & (h->cap - 1);

  while (h->slots[i])
    i = (i + 1) & (h->cap - 1);
  h->slots[i] = (uint32_t) idx + 1;
}

static void
rehash (struct ctxhash *h)
{
  size_t i;

  h->cap = h->cap ? h->cap * 2 : 1024;
  free (h->slots);
  h->slots = xcalloc (h->cap, sizeof *h->slots);
  for (i = 0; i < h->n; i++)
    slot_insert (h, i);
}

static struct entry *
find (struct ctxhash *h, const char *path)
{
  size_t i;

  if (!h->cap)
    return NULL;
  for (i = hash_path (path) & (h->cap - 1); h->slots[i]; i = (i + 1) & (h->cap - 1))
    if (strcmp (h->v[h->slots[i] - 1].path, path) == 0)
      return &h->v[h->slots[i] - 1];
  return NULL;
}

/* A new entry for path; borrowed paths point into the mapped index. */
static struct entry *
append (struct ctxhash *h, const char *path, bool borrowed)
{
  XGROW (h->v, h->alloc, h->n + 1);
  memset (&h->v[h->n], 0, sizeof h->v[h->n]);
  h->v[h->n].path = borrowed ? (char *) path : xstrdup (path);
  h->v[h->n].owned = !borrowed;
  h->n++;
  if (h->n * 2 > h->cap)
    rehash (h);
  else
    slot_insert (h, h->n - 1);
  return &h->v[h->n - 1];
}

/* Map the index (private: the records' paths are used in place) and list its records. */
static void
load (struct ctxhash *h)
{
  cleanup_close int fd = open (h->index_path, O_RDONLY | O_CLOEXEC);
  size_t off = sizeof MAGIC - 1, len;
  struct stat st;
  char *buf;

  if (fd < 0 || fstat (fd, &st) < 0 || (size_t) st.st_size < off)
    return;
  len = (size_t) st.st_size;
  buf = mmap (NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (buf == MAP_FAILED)
    return;
  h->map = buf;
  h->map_len = len;
  if (memcmp (buf, MAGIC, off) != 0)
    return;
  /* Sized up front: growing by doubling would copy 20,000 entries a dozen times. */
  h->alloc = len / (sizeof (struct rec) + 8) + 1;
  h->v = xcalloc (h->alloc, sizeof *h->v);
  for (h->cap = 1024; h->cap < h->alloc * 2; h->cap *= 2)
    ;
  h->slots = xcalloc (h->cap, sizeof *h->slots);
  while (off + sizeof (struct rec) <= len)
    {
      struct rec r;
      struct entry *en;
      memcpy (&r, buf + off, sizeof r);
      off += sizeof r;
      if (r.len == 0 || r.len > PATH_MAX || off + r.len > len || buf[off + r.len - 1] != '\0')
        break; /* a damaged index only costs re-reading files */
      en = append (h, buf + off, true);
      en->r = r;
      off += (r.len + 7) & ~7u;
    }
}

struct ctxhash *
ctxhash_open (const char *store_dir, const char *context, bale_error_t *err)
{
  struct ctxhash *h;
  cleanup_free char *real = realpath (context, NULL);
  char id[DIGEST_STRLEN + 1];
  struct timespec ts;

  if (!real)
    {
      bale_make_error (err, errno, "cannot resolve the build context '%s'", context);
      return NULL;
    }
  if (digest_buffer (real, strlen (real), id, err) < 0)
    return NULL;
  h = xzalloc (sizeof *h);
  h->root_fd = open (real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (h->root_fd < 0)
    {
      bale_make_error (err, errno, "cannot open the build context '%s'", context);
      free (h);
      return NULL;
    }
  {
    cleanup_free char *index_name = xasprintf ("context-index/%s", digest_hex (id));
    h->index_path = store_area_path_at (store_dir, STORE_AREA_BUILDCACHE, index_name);
  }
  h->tmp_dir = store_area_path_at (store_dir, STORE_AREA_TMP, NULL);
  clock_gettime (CLOCK_REALTIME, &ts);
  h->start_ns = (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
  load (h);
  return h;
}

static int64_t
ns (const struct timespec *t)
{
  return (int64_t) t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void
hex32 (const unsigned char sha[32], char out[DIGEST_STRLEN + 1])
{
  static const char x[] = "0123456789abcdef";
  size_t i;

  memcpy (out, "sha256:", 7);
  for (i = 0; i < 32; i++)
    {
      out[7 + 2 * i] = x[sha[i] >> 4];
      out[8 + 2 * i] = x[sha[i] & 15];
    }
  out[DIGEST_STRLEN] = '\0';
}

static void
unhex32 (const char *digest, unsigned char sha[32])
{
  const char *p = digest_hex (digest);
  size_t i;

  for (i = 0; i < 32; i++)
    {
      unsigned hi = (unsigned) (p[2 * i] <= '9' ? p[2 * i] - '0' : p[2 * i] - 'a' + 10);
      unsigned lo = (unsigned) (p[2 * i + 1] <= '9' ? p[2 * i + 1] - '0' : p[2 * i + 1] - 'a' + 10);
      sha[i] = (unsigned char) (hi << 4 | lo);
    }
}

/* A file of the context was read through fd: remember it when it was written since the step
   began (after the walk's stat, maybe while it was read). */
static void
note_read (struct ctxhash *h, int fd, const char *rel)
{
  struct stat st;

  if (h->since && !h->changed && fstat (fd, &st) == 0 && copy_written_since (&st, h->since))
    h->changed = xstrdup (rel);
}

/* The digest of the regular file rel (stat st), from the index or by reading it: name under
   dirfd, or rel under the context root when dirfd is -1 (a source named by COPY, whose
   symlink is followed as COPY follows it). */
static int
file_digest (struct ctxhash *h, const char *rel, const struct stat *st, int dirfd,
             const char *name, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  struct entry *en = find (h, rel);
  int64_t m = ns (&st->st_mtim), c = ns (&st->st_ctim);
  cleanup_close int fd = -1;

  if (en && !en->racy && en->r.size == st->st_size && en->r.mtime == m && en->r.ctime == c
      && en->r.ino == st->st_ino && en->r.mode == st->st_mode)
    {
      hex32 (en->r.sha, out);
      return 0;
    }
  /* O_NONBLOCK everywhere a context entry is opened: a FIFO (named, or put in a file's place
     since it was listed) would make an open for reading wait for a writer forever. */
  fd = dirfd >= 0 ? openat (dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
                  : copy_open (h->root_fd, COPY_ROOT_CONTEXT, rel, O_RDONLY | O_NONBLOCK, NULL);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open \"%s\" in the build context", rel);
  if (digest_file (fd, out, NULL, err) < 0)
    return bale_error_wrap (err, "hashing \"%s\"", rel);
  note_read (h, fd, rel);
  h->files_read++;
  if (!en)
    en = append (h, rel, false);
  en->r.size = st->st_size;
  en->r.mtime = m;
  en->r.ctime = c;
  en->r.ino = st->st_ino;
  en->r.mode = st->st_mode;
  unhex32 (out, en->r.sha);
  en->racy = (m > c ? m : c) >= h->start_ns - RACY_NS;
  h->dirty = true;
  return 0;
}

bool
ctxhash_changed_since (struct ctxhash *h, const char *rel, const struct timespec *since)
{
  struct stat st;

  if (fstatat (h->root_fd, *rel ? rel : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
    return true;
  return copy_written_since (&st, since);
}

/* For a file with several links: " = FIRST" when another path of this description is the
   same file (written into out, its length returned), else remember this one. */
static size_t
link_of (struct ctxhash *h, const struct stat *st, const char *path, char *out, size_t room)
{
  size_t i;

  for (i = 0; i < h->n_links; i++)
    if (h->links[i].dev == st->st_dev && h->links[i].ino == st->st_ino)
      {
        int n = snprintf (out, room, " = %s", h->links[i].path);
        return n < 0 || (size_t) n >= room ? 0 : (size_t) n;
      }
  XGROW (h->links, h->alloc_links, h->n_links + 1);
  h->links[h->n_links].dev = st->st_dev;
  h->links[h->n_links].ino = st->st_ino;
  h->links[h->n_links++].path = xstrdup (path);
  return 0;
}

static void
links_reset (struct ctxhash *h)
{
  size_t i;

  for (i = 0; i < h->n_links; i++)
    free (h->links[i].path);
  h->n_links = 0;
}

/* One entry of the description, fed to d as: the st_mode (4 bytes, type and permissions),
   the path and a NUL, then what the content is (a file's digest, a symlink's target or a
   device's number) and a NUL. Binary and printf-free: it runs once per context file. */
static int
describe (struct ctxhash *h, struct digester *d, const char *path, const char *ctx_rel,
          const struct stat *st, int dirfd, const char *name, bale_error_t *err)
{
  uint32_t mode = st->st_mode;
  char content[PATH_MAX + 1] = "";
  size_t len = 0;

  if (S_ISREG (st->st_mode))
    {
      if (file_digest (h, ctx_rel, st, dirfd, name, content, err) < 0)
        return -1;
      len = DIGEST_STRLEN;
      if (st->st_nlink > 1)
        len += link_of (h, st, ctx_rel, content + len, sizeof content - len);
    }
  else if (S_ISLNK (st->st_mode))
    {
      ssize_t n = readlinkat (dirfd, name, content, PATH_MAX);
      if (n < 0)
        return bale_make_error (err, errno, "cannot read symlink \"%s\"", ctx_rel);
      len = (size_t) n;
    }
  else if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
    {
      uint64_t rdev = st->st_rdev;
      memcpy (content, &rdev, sizeof rdev);
      len = sizeof rdev;
    }
  else if (!S_ISDIR (st->st_mode) && !S_ISFIFO (st->st_mode))
    return 0; /* sockets are never copied */
  digester_update (d, &mode, sizeof mode);
  digester_update (d, path, strlen (path) + 1);
  content[len] = '\0';
  digester_update (d, content, len + 1);
  if (h->list)
    h->list (h->list_ctx, ctx_rel, mode, content);
  return 0;
}

/* A file the prefetch pass hashes: its context path and stat, and the result (ret -1 until
   a thread read it). Allocated one by one: threads hold them while the list grows. */
struct todo
{
  char *rel;
  struct stat st;
  char digest[DIGEST_STRLEN + 1];
  int ret;
  bool written; /* written since ctxhash_set_since's time, seen after it was read */
};

#define PREFETCH_THREADS 8

/* The files to read, which the threads take in order while the walk still adds to it (the
   walk's stats and the reads share the disk's queue). */
struct todo_list
{
  struct todo **v;
  size_t n, alloc, next;
  bool done;     /* the walk ended: threads stop when the list is empty */
  int root_fd;
  const struct timespec *since; /* the ctxhash's, read-only while threads run */
  pthread_mutex_t lock;
  pthread_cond_t more;
  pthread_t th[PREFETCH_THREADS];
  size_t n_threads; /* started, at the first file */
};

struct walk
{
  struct ctxhash *h;
  struct digester *d;
  const struct ignore_matcher *ignore; /* NULL: everything */
  const char *base;                    /* the walked directory, relative to the context */
  const struct ignore_matcher *exclude; /* COPY --exclude, or NULL */
  const char *ex_base;                 /* the walked directory as --exclude sees it */
  struct todo_list *collect;           /* prefetch pass: list what must be read */
  bool *spec_ok; /* prefetch pass with d: describing too, until a file must be read */
};

/* Whether the index already knows this file as it is now. */
static bool
known (struct ctxhash *h, const char *rel, const struct stat *st)
{
  struct entry *en = find (h, rel);

  return en && !en->racy && en->r.size == st->st_size && en->r.mtime == ns (&st->st_mtim)
         && en->r.ctime == ns (&st->st_ctim) && en->r.ino == st->st_ino && en->r.mode == st->st_mode;
}

static void *hash_worker (void *arg);

static void
collect (struct walk *w, const char *ctx_rel, const struct stat *st)
{
  struct todo_list *t = w->collect;
  struct todo *td;

  if (!S_ISREG (st->st_mode) || known (w->h, ctx_rel, st))
    return;
  td = xmalloc (sizeof *td);
  td->rel = xstrdup (ctx_rel);
  td->st = *st;
  td->ret = -1;
  /* Threads from the second file on: the description pass reads a lone file itself. */
  if (t->n == 1)
    {
      t->root_fd = w->h->root_fd;
      t->since = w->h->since;
      while (t->n_threads < PREFETCH_THREADS
             && pthread_create (&t->th[t->n_threads], NULL, hash_worker, t) == 0)
        t->n_threads++;
    }
  pthread_mutex_lock (&t->lock);
  XGROW (t->v, t->alloc, t->n + 1);
  t->v[t->n++] = td;
  pthread_cond_signal (&t->more);
  pthread_mutex_unlock (&t->lock);
}

static int
walk_entry (void *ctx, const struct dirwalk_entry *e, bale_error_t *err)
{
  struct walk *w = ctx;
  size_t blen = strlen (w->base), rlen = strlen (e->relpath);
  char ctx_rel[2 * PATH_MAX + 2];

  if (blen + rlen + 2 > sizeof ctx_rel)
    return bale_make_error (err, ENAMETOOLONG, "\"%s/%s\": path too long", w->base, e->relpath);
  memcpy (ctx_rel, w->base, blen);
  if (blen)
    ctx_rel[blen++] = '/';
  memcpy (ctx_rel + blen, e->relpath, rlen + 1);

  switch (copy_walk_check (w->ignore, ctx_rel, e->st->st_mode))
    {
    case COPY_WALK_PRUNE: return DIRWALK_SKIP;
    case COPY_WALK_OMIT: return DIRWALK_CONTINUE;
    case COPY_WALK_KEEP: break;
    }
  if (w->exclude)
    {
      cleanup_free char *ex_rel = *w->ex_base ? xasprintf ("%s/%s", w->ex_base, e->relpath) : NULL;
      switch (copy_exclude_check (w->exclude, ex_rel ? ex_rel : e->relpath, e->st->st_mode))
        {
        case COPY_WALK_PRUNE: return DIRWALK_SKIP;
        case COPY_WALK_OMIT: return DIRWALK_CONTINUE;
        case COPY_WALK_KEEP: break;
        }
    }
  if (w->collect)
    {
      size_t before = w->collect->n;
      collect (w, ctx_rel, e->st);
      /* The description goes on in the same walk while the index knows every file; the
         first file to read ends it (the description pass then walks again). */
      if (w->collect->n != before)
        *w->spec_ok = false;
      if (!*w->spec_ok)
        return DIRWALK_CONTINUE;
    }
  if (describe (w->h, w->d, e->relpath, ctx_rel, e->st, e->dirfd, e->name, err) < 0)
    return -1;
  return DIRWALK_CONTINUE;
}

/* A record that is not an entry: a 4-byte mode no file has, then len bytes and a NUL. */
static void
marker (struct digester *d, const char *s, size_t len)
{
  static const uint32_t none = UINT32_MAX;

  digester_update (d, &none, sizeof none);
  digester_update (d, s, len);
  digester_update (d, "", 1);
}

/* What a copy selects besides its sources: .dockerignore, --exclude and, with --parents, the
   source word (the exclude patterns then see paths from the copy's root). */
struct selection
{
  const struct ignore_matcher *ignore, *exclude;
  const char *parents_word; /* NULL without --parents */
};

/* rel itself (symlinks followed, as COPY follows a named source) and, for a directory,
   everything below it. */
static int
hash_path_tree (struct ctxhash *h, const char *rel, const struct selection *sel,
                struct digester *d, struct todo_list *todo, bool *spec_ok, bale_error_t *err)
{
  cleanup_close int fd = copy_open (h->root_fd, COPY_ROOT_CONTEXT, rel, O_RDONLY | O_NONBLOCK, err);
  struct stat st;
  const char *ex_base = sel->parents_word ? copy_parents_below (sel->parents_word, rel) : "";
  struct walk w = { h, d, sel->ignore, rel, sel->exclude, ex_base, todo, spec_ok };

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return bale_make_error (err, errno, "cannot stat \"%s\"", rel);
  /* A --parents match the patterns exclude is not copied (a directory with exceptions is
     walked for what they keep); any other source is copied whatever the patterns say. */
  if (*ex_base)
    {
      enum copy_walk_action a = copy_exclude_check (sel->exclude, ex_base, st.st_mode);
      if (a == COPY_WALK_PRUNE || (a == COPY_WALK_OMIT && !S_ISDIR (st.st_mode)))
        return 0;
    }
  if (!S_ISDIR (st.st_mode))
    {
      if (todo)
        {
          size_t before = todo->n;
          collect (&w, rel, &st);
          if (todo->n != before)
            *spec_ok = false;
          if (!*spec_ok)
            return 0;
        }
      return describe (h, d, "", rel, &st, -1, NULL, err);
    }
  if (!todo || *spec_ok)
    marker (d, "D", 1);
  return dirwalk (fd, walk_entry, NULL, &w, err);
}

/* Read and hash the listed files on several threads, from the first one listed: a cold
   context is read at the disk's queue depth instead of one file at a time (three times
   faster here), and the description pass that follows finds every file in the index. */
static void *
hash_worker (void *arg)
{
  struct todo_list *t = arg;

  for (;;)
    {
      struct todo *td;
      pthread_mutex_lock (&t->lock);
      while (t->next == t->n && !t->done)
        pthread_cond_wait (&t->more, &t->lock);
      td = t->next < t->n ? t->v[t->next++] : NULL;
      pthread_mutex_unlock (&t->lock);
      if (!td)
        return NULL;
      {
        int fd = copy_open (t->root_fd, COPY_ROOT_CONTEXT, td->rel, O_RDONLY | O_NONBLOCK, NULL);
        bale_error_t e = NULL;
        struct stat now;
        td->ret = fd < 0 ? -1 : digest_file (fd, td->digest, NULL, &e);
        bale_error_release (&e);
        td->written = td->ret == 0 && t->since && fstat (fd, &now) == 0
                      && copy_written_since (&now, t->since);
        if (fd >= 0)
          close (fd);
      }
    }
}

/* Set *flag under lock, wake the threads waiting on cond and wait for th[0..n) to end. */
static void
threads_end (pthread_mutex_t *lock, pthread_cond_t *cond, bool *flag, pthread_t *th, size_t n)
{
  size_t i;

  pthread_mutex_lock (lock);
  *flag = true;
  pthread_cond_broadcast (cond);
  pthread_mutex_unlock (lock);
  for (i = 0; i < n; i++)
    pthread_join (th[i], NULL);
}

/* The walk ended: let the threads finish the list, record what they read and free it. */
static void
prefetch_finish (struct ctxhash *h, struct todo_list *t)
{
  size_t i;

  threads_end (&t->lock, &t->more, &t->done, t->th, t->n_threads);
  pthread_cond_destroy (&t->more);
  pthread_mutex_destroy (&t->lock);
  /* Record what was read as file_digest does; a file that failed (or that no thread could
     be started for) is read again, and reported, by the description pass. */
  for (i = 0; i < t->n; i++)
    {
      struct todo *td = t->v[i];
      struct entry *en;
      int64_t m = ns (&td->st.st_mtim), c = ns (&td->st.st_ctim);
      if (td->ret < 0)
        continue;
      if (td->written && !h->changed)
        h->changed = xstrdup (td->rel);
      en = find (h, td->rel);
      if (!en)
        en = append (h, td->rel, false);
      en->r.size = td->st.st_size;
      en->r.mtime = m;
      en->r.ctime = c;
      en->r.ino = td->st.st_ino;
      en->r.mode = td->st.st_mode;
      unhex32 (td->digest, en->r.sha);
      en->racy = (m > c ? m : c) >= h->start_ns - RACY_NS;
      h->files_read++;
      h->dirty = true;
    }
}

/* The directories of the sources, read and their entries stat'ed on threads ahead of the
   walk, which is one getdents and one stat at a time: of a cold context of 20,000 files in
   200 directories, 16 threads stat everything in 0.15-0.2 s where one takes 0.4-0.45 s. The
   walk (and the layer's child, which lists the same files) then finds the inodes cached.
   The results are thrown away; the same .dockerignore rules prune the same directories. */
#define WARM_THREADS 16

struct warm
{
  int root_fd;
  const struct ignore_matcher *ignore;
  char **q; /* directories, context paths */
  size_t n, alloc, head, busy;
  bool stop;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t th[WARM_THREADS];
  size_t n_threads;
};

static void
warm_dir (struct warm *w, const char *rel)
{
  int fd = copy_open (w->root_fd, COPY_ROOT_CONTEXT, rel, O_RDONLY | O_DIRECTORY | O_NONBLOCK, NULL);
  struct dirent *de;
  DIR *d;

  if (fd < 0)
    return;
  d = fdopendir (fd);
  if (!d)
    {
      close (fd);
      return;
    }
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      char *sub;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0
          || fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
        continue;
      sub = *rel ? xasprintf ("%s/%s", rel, de->d_name) : xstrdup (de->d_name);
      if (copy_walk_check (w->ignore, sub, st.st_mode) == COPY_WALK_PRUNE)
        {
          free (sub);
          continue;
        }
      pthread_mutex_lock (&w->lock);
      XGROW (w->q, w->alloc, w->n + 1);
      w->q[w->n++] = sub;
      pthread_cond_signal (&w->cond);
      pthread_mutex_unlock (&w->lock);
    }
  closedir (d);
}

static void *
warm_worker (void *arg)
{
  struct warm *w = arg;

  pthread_mutex_lock (&w->lock);
  for (;;)
    {
      char *rel;
      while (w->head == w->n && w->busy > 0 && !w->stop)
        pthread_cond_wait (&w->cond, &w->lock);
      if (w->head == w->n || w->stop)
        break;
      rel = w->q[w->head++];
      w->busy++;
      pthread_mutex_unlock (&w->lock);
      warm_dir (w, rel);
      pthread_mutex_lock (&w->lock);
      w->busy--;
      if (w->busy == 0 && w->head == w->n)
        pthread_cond_broadcast (&w->cond); /* all done: the others stop too */
    }
  pthread_mutex_unlock (&w->lock);
  return NULL;
}

/* Start warming the tree below rel, a directory of the context. */
static void
warm_start (struct warm *w, const char *rel)
{
  bool idle;
  size_t i;

  /* Threads that found nothing left have ended (or are ending): started again. */
  pthread_mutex_lock (&w->lock);
  idle = w->head == w->n && w->busy == 0;
  pthread_mutex_unlock (&w->lock);
  for (i = 0; idle && i < w->n_threads; i++)
    pthread_join (w->th[i], NULL);
  if (idle)
    w->n_threads = 0;
  pthread_mutex_lock (&w->lock);
  XGROW (w->q, w->alloc, w->n + 1);
  w->q[w->n++] = xstrdup (rel);
  pthread_cond_broadcast (&w->cond);
  pthread_mutex_unlock (&w->lock);
  while (w->n_threads < WARM_THREADS
         && pthread_create (&w->th[w->n_threads], NULL, warm_worker, w) == 0)
    w->n_threads++;
}

/* Stop the threads (the walk needs them no more) and free the queue. */
static void
warm_finish (struct warm *w)
{
  size_t i;

  threads_end (&w->lock, &w->cond, &w->stop, w->th, w->n_threads);
  w->n_threads = 0;
  for (i = 0; i < w->n; i++)
    free (w->q[i]);
  free (w->q);
  w->q = NULL;
  w->n = w->alloc = w->head = 0;
}

void
ctxhash_set_cold (struct ctxhash *h, bool cold)
{
  h->warm = cold;
}

void
ctxhash_set_since (struct ctxhash *h, const struct timespec *since)
{
  h->since = since;
}

char *
ctxhash_take_changed (struct ctxhash *h)
{
  return steal_pointer (&h->changed);
}

int
ctxhash_sources (struct ctxhash *h, const struct ignore_matcher *ignore,
                 const struct ignore_matcher *exclude, bool parents, char *const *sources,
                 size_t n, struct digester *d, bale_error_t *err)
{
  struct selection sel = { ignore, exclude, NULL };
  size_t i, j;

  /* First list the files the index does not know, and read them in parallel. The same walk
     describes the sources into a copy of d (spec) for as long as every file is known, which
     is every file on a rebuild: then that description is the result, and the context is
     walked once instead of twice. */
  {
    struct todo_list todo = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER };
    struct digester spec = { 0 };
    struct warm warm = { .root_fd = h->root_fd, .ignore = ignore, .lock = PTHREAD_MUTEX_INITIALIZER,
                         .cond = PTHREAD_COND_INITIALIZER };
    bool spec_ok = digester_copy (&spec, d, NULL) == 0;
    links_reset (h);
    for (i = 0; i < n; i++)
      {
        struct copy_sources found = { 0 };
        bale_error_t e = NULL;
        if (strncmp (sources[i], "<<", 2) == 0)
          continue;
        sel.parents_word = parents ? sources[i] : NULL;
        /* Errors are reported by the description pass below. */
        if (copy_resolve (h->root_fd, COPY_ROOT_CONTEXT, sources[i], ignore, &found, &e) < 0)
          spec_ok = false;
        for (j = 0; h->warm && j < found.n; j++)
          if (S_ISDIR (found.v[j].st.st_mode))
            warm_start (&warm, found.v[j].rel);
        for (j = 0; j < found.n; j++)
          {
            if (spec_ok)
              {
                struct strbuf sb = STRBUF_INIT;
                strbuf_addf (&sb, "M%s%c%s", found.v[j].rel, 0, found.v[j].base);
                marker (&spec, sb.buf, sb.len);
                strbuf_release (&sb);
              }
            if (hash_path_tree (h, found.v[j].rel, &sel, &spec, &todo, &spec_ok, &e) < 0)
              {
                spec_ok = false;
                break;
              }
          }
        bale_error_release (&e);
        copy_sources_release (&found);
      }
    warm_finish (&warm);
    if (spec_ok && todo.n == 0)
      {
        /* d becomes the speculative description: swap the contexts. */
        struct digester old = *d;
        *d = spec;
        digester_release (&old);
        free (todo.v);
        return 0;
      }
    digester_release (&spec);
    trace_mark ("ctxhash: listed %zu files to read", todo.n);
    prefetch_finish (h, &todo);
    trace_mark ("ctxhash: files read");
    for (i = 0; i < todo.n; i++)
      {
        free (todo.v[i]->rel);
        free (todo.v[i]);
      }
    free (todo.v);
  }
  links_reset (h);
  for (i = 0; i < n; i++)
    {
      struct copy_sources found = { 0 };
      if (strncmp (sources[i], "<<", 2) == 0)
        continue;
      sel.parents_word = parents ? sources[i] : NULL;
      if (copy_resolve (h->root_fd, COPY_ROOT_CONTEXT, sources[i], ignore, &found, err) < 0)
        return -1;
      for (j = 0; j < found.n; j++)
        {
          struct strbuf sb = STRBUF_INIT;
          strbuf_addf (&sb, "M%s%c%s", found.v[j].rel, 0, found.v[j].base);
          marker (d, sb.buf, sb.len);
          strbuf_release (&sb);
          if (hash_path_tree (h, found.v[j].rel, &sel, d, NULL, NULL, err) < 0)
            {
              copy_sources_release (&found);
              return -1;
            }
        }
      copy_sources_release (&found);
    }
  return 0;
}

void
ctxhash_set_list (struct ctxhash *h, ctxhash_list_fn fn, void *ctx)
{
  h->list = fn;
  h->list_ctx = ctx;
}

int
ctxhash_tree (struct ctxhash *h, const char *rel, struct digester *d, bale_error_t *err)
{
  links_reset (h);
  struct selection all = { NULL, NULL, NULL };

  return hash_path_tree (h, rel, &all, d, NULL, NULL, err);
}

static int
write_index (struct ctxhash *h, int fd, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;
  static const char pad[8];
  size_t i;
  int ret;

  strbuf_add (&sb, MAGIC, sizeof MAGIC - 1);
  for (i = 0; i < h->n; i++)
    {
      struct rec r = h->v[i].r;
      if (h->v[i].racy)
        r.mode = 0; /* matches no file: read it again next time */
      r.len = (uint32_t) strlen (h->v[i].path) + 1;
      strbuf_add (&sb, &r, sizeof r);
      strbuf_add (&sb, h->v[i].path, r.len);
      strbuf_add (&sb, pad, ((r.len + 7) & ~7u) - r.len);
    }
  ret = fileio_write_all (fd, sb.buf, sb.len);
  strbuf_release (&sb);
  if (ret < 0)
    return bale_make_error (err, errno, "cannot write the context index");
  return 0;
}

int
ctxhash_save (struct ctxhash *h, bale_error_t *err)
{
  cleanup_free char *tmp = NULL, *dir = NULL;
  cleanup_close int fd = -1;
  char *slash;

  if (!h || !h->dirty)
    return 0;
  dir = xstrdup (h->index_path);
  slash = strrchr (dir, '/');
  *slash = '\0';
  slash = strrchr (dir, '/');
  *slash = '\0';
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create %s", dir);
  *slash = '/';
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create %s", dir);
  tmp = xasprintf ("%s/ctxindex.XXXXXX", h->tmp_dir);
  fd = mkstemp (tmp);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot create %s", tmp);
  if (write_index (h, fd, err) < 0 || rename (tmp, h->index_path) < 0)
    {
      unlink (tmp);
      return bale_error_wrap (err, "saving %s", h->index_path);
    }
  h->dirty = false;
  return 0;
}

size_t
ctxhash_files_read (const struct ctxhash *h)
{
  return h->files_read;
}

void
ctxhash_free (struct ctxhash *h)
{
  size_t i;

  if (!h)
    return;
  for (i = 0; i < h->n; i++)
    if (h->v[i].owned)
      free (h->v[i].path);
  free (h->v);
  free (h->changed);
  links_reset (h);
  free (h->links);
  if (h->map)
    munmap (h->map, h->map_len);
  free (h->slots);
  free (h->index_path);
  free (h->tmp_dir);
  if (h->root_fd >= 0)
    close (h->root_fd);
  free (h);
}
