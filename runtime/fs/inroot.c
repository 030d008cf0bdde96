/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The in-root resolver: openat2 where the kernel has it, an O_NOFOLLOW walk where it does not. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/fs/inroot.h"
#include "common/banned.h"

/* The kernel's MAXSYMLINKS: the 41st symlink of one lookup is ELOOP. */
#define MAX_LINKS 40
/* openat2 fails with EAGAIN when a rename or mount raced with a ".." of the lookup; the walk
   does not depend on that sequence count, so it answers once the retries are spent. */
#define RETRIES 32

static bool forced_walk;
static int have_openat2 = -1;

void
inroot_force_walk (bool on)
{
  forced_walk = on;
}

static bool
use_walk (void)
{
  if (forced_walk)
    return true;
  if (have_openat2 < 0)
    {
      const char *v = getenv ("BALE_INROOT_WALK");
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
      struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
      int fd = v && strcmp (v, "1") == 0 ? -1 : (int) syscall (SYS_openat2, AT_FDCWD, "/", &how, sizeof how);

      /* EPERM: an old seccomp profile (docker before 20.10) that does not know openat2. */
      have_openat2 = fd >= 0 || (errno != ENOSYS && errno != EPERM);
      if (v && strcmp (v, "1") == 0)
        have_openat2 = 0;
      if (fd >= 0)
        close (fd);
#else
      (void) v;
      have_openat2 = 0;
#endif
    }
  return !have_openat2;
}

/* ---- the walk ------------------------------------------------------------------------------ */

/* The directories walked so far: fds[0] is the root (borrowed), each next one a child of the
   one before, so ".." pops instead of asking the filesystem (which could lead above). */
struct walk
{
  int *fds;
  size_t n, alloc;
  char *name; /* the top's name in the entry below it; NULL for the root, ".", ".." */
  unsigned how;
  bool nofollow;       /* the last component is not followed */
  bool create;         /* inroot_mkpath: create what is missing */
  bool last_dir;
  inroot_created_fn created;
  inroot_nondir_fn nondir; /* inroot_mkdirs */
  void *data;
};

static void
walk_push (struct walk *w, int fd, const char *name)
{
  XGROW (w->fds, w->alloc, w->n + 1);
  w->fds[w->n++] = fd;
  free (w->name);
  w->name = name ? xstrdup (name) : NULL;
}

static void
walk_pop_to (struct walk *w, size_t n)
{
  while (w->n > n)
    close (w->fds[--w->n]);
  free (w->name);
  w->name = NULL;
}

static void
walk_release (struct walk *w)
{
  walk_pop_to (w, 1);
  free (w->fds);
}

/* A /proc magic link (fd/N, exe, cwd, root, ns/X, map_files/X) rather than an ordinary symlink
   such as /proc/self or /proc/mounts: its text is a host path or "type:[inode]". */
static bool
is_magic_link (int fd, const char *target)
{
  struct statfs sf;

  if (fstatfs (fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
    return false;
  return target[0] == '/' || strchr (target, ':') != NULL;
}

/* The O_PATH descriptor of name in the top directory, created when missing in create mode. */
static int
open_component (struct walk *w, const char *name, bool is_dir)
{
  int top = w->fds[w->n - 1];
  int fd = openat (top, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  bool made = false;
  struct stat before;

  if (fd >= 0 || errno != ENOENT || !w->create)
    return fd;
  if (fstat (top, &before) < 0)
    return -1;
  if (is_dir)
    made = mkdirat (top, name, 0755) == 0;
  if (!is_dir)
    {
      int f = openat (top, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      made = f >= 0;
      if (f >= 0)
        close (f);
    }
  if (!made && errno != EEXIST)
    return -1;
  fd = openat (top, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && made && w->created && w->created (w->data, top, &before, name, fd) < 0)
    {
      int saved = errno;
      close (fd);
      errno = saved;
      return -1;
    }
  return fd;
}

/* Follow the symlink fd: its target replaces the component in the rest of the path. */
static int
follow (struct walk *w, int fd, const char *rest, char **buf, size_t *links)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (fd, "", target, sizeof target);

  if (n < 0)
    return -1;
  if (n >= (ssize_t) sizeof target)
    return errno = ENAMETOOLONG, -1;
  target[n] = '\0';
  if (n == 0)
    return errno = ENOENT, -1;
  if ((w->how & INROOT_NO_SYMLINKS) || is_magic_link (fd, target) || ++*links > MAX_LINKS)
    return errno = ELOOP, -1;
  if (target[0] == '/')
    {
      if (w->how & INROOT_BENEATH)
        return errno = EXDEV, -1;
      walk_pop_to (w, 1);
    }
  {
    char *next = xasprintf ("%s%s", target, rest);
    free (*buf);
    *buf = next;
  }
  return 0;
}

/* Resolve path from the root: on success the top of w is what it names. -1 with errno. */
static int
walk (struct walk *w, const char *path)
{
  cleanup_free char *buf = xstrdup (path);
  const char *cur = buf;
  size_t links = 0;

  for (;;)
    {
      char name[NAME_MAX + 1];
      size_t len;
      const char *next, *after;
      bool last, slash;
      struct stat st;
      int fd;

      cur += strspn (cur, "/");
      if (*cur == '\0')
        return 0;
      len = strcspn (cur, "/");
      if (len > NAME_MAX)
        return errno = ENAMETOOLONG, -1;
      memcpy (name, cur, len);
      name[len] = '\0';
      next = cur + len;
      after = next + strspn (next, "/");
      last = *after == '\0';
      slash = *next == '/'; /* "dir/": a directory is wanted, a symlink followed */
      cur = after;
      if (strcmp (name, ".") == 0)
        {
          walk_pop_to (w, w->n); /* the top stays; it has no name of its own any more */
          continue;
        }
      if (strcmp (name, "..") == 0)
        {
          if (w->n == 1 && (w->how & INROOT_BENEATH))
            return errno = EXDEV, -1;
          walk_pop_to (w, w->n > 1 ? w->n - 1 : 1);
          continue;
        }
      fd = open_component (w, name, !last || slash || w->last_dir);
      if (fd < 0)
        return -1;
      if (fstat (fd, &st) < 0)
        {
          close (fd);
          return -1;
        }
      if (w->nondir && !S_ISDIR (st.st_mode))
        {
          int action = w->nondir (w->data, w->fds[w->n - 1], name, &st);
          if (action < 0 || action == INROOT_REPLACE || !S_ISLNK (st.st_mode))
            close (fd);
          if (action < 0)
            return -1;
          if (action == INROOT_REPLACE)
            {
              if (unlinkat (w->fds[w->n - 1], name, 0) < 0)
                return -1;
              cur = next - len; /* the same component again: now it is made a directory */
              continue;
            }
          if (!S_ISLNK (st.st_mode))
            return errno = ENOTDIR, -1;
        }
      if (S_ISLNK (st.st_mode) && !(last && !slash && w->nofollow))
        {
          int r = follow (w, fd, next, &buf, &links);
          close (fd);
          if (r < 0)
            return -1;
          cur = buf;
          continue;
        }
      if ((!last || slash) && !S_ISDIR (st.st_mode))
        {
          close (fd);
          return errno = ENOTDIR, -1;
        }
      walk_push (w, fd, name);
    }
}

static int
top_fd (struct walk *w)
{
  int fd;

  if (w->n > 1)
    {
      fd = w->fds[--w->n];
      return fd;
    }
  return fcntl (w->fds[0], F_DUPFD_CLOEXEC, 3);
}

/* Open what the walk found with the caller's flags: directories through ".", anything else by
   name in its directory without following, checked to be the very inode the walk saw. */
static int
reopen (struct walk *w, int flags, const struct stat *st)
{
  int top = w->fds[w->n - 1], fd;
  struct stat now;

  if (S_ISDIR (st->st_mode))
    return openat (top, ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
  if (w->name == NULL || w->n < 2)
    return errno = ENOTDIR, -1;
  fd = openat (w->fds[w->n - 2], w->name, flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (fstat (fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
    {
      close (fd);
      return errno = EAGAIN, -1;
    }
  return fd;
}

static int
walk_open_once (int rootfd, const char *path, int flags, unsigned how)
{
  struct walk w = { .how = how, .nofollow = (flags & O_NOFOLLOW) != 0 };
  struct stat st;
  int fd = -1;

  walk_push (&w, rootfd, NULL);
  if (walk (&w, path) < 0 || fstat (w.fds[w.n - 1], &st) < 0)
    goto out;
  if ((flags & O_DIRECTORY) && !S_ISDIR (st.st_mode))
    {
      errno = S_ISLNK (st.st_mode) && !(flags & O_PATH) ? ELOOP : ENOTDIR;
      goto out;
    }
  if (S_ISLNK (st.st_mode) && !(flags & O_PATH))
    errno = ELOOP; /* O_NOFOLLOW on a symlink, as open(2) */
  else if (flags & O_PATH)
    fd = top_fd (&w);
  else
    fd = reopen (&w, flags, &st);
out:
  {
    int saved = errno;
    walk_release (&w);
    errno = saved;
  }
  return fd;
}

static int
walk_open (int rootfd, const char *path, int flags, unsigned how)
{
  int fd = -1;

  for (int i = 0; i < RETRIES; i++)
    {
      fd = walk_open_once (rootfd, path, flags, how);
      if (fd >= 0 || errno != EAGAIN)
        break;
    }
  return fd;
}

/* ---- the interface ------------------------------------------------------------------------- */

int
inroot_open (int rootfd, const char *path, int flags, unsigned how)
{
  if (flags & O_CREAT)
    return errno = EINVAL, -1;
  /* A path given from the Dockerfile is relative to its root, context or not: only symlinks
     can lead outside. */
  path += strspn (path, "/");
  if (*path == '\0')
    path = ".";
  if (use_walk ())
    return walk_open (rootfd, path, flags, how);
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
  {
    struct open_how oh = { 0 };

    oh.flags = (uint64_t) (flags | O_CLOEXEC);
    oh.resolve = RESOLVE_NO_MAGICLINKS | (how & INROOT_BENEATH ? RESOLVE_BENEATH : RESOLVE_IN_ROOT)
                 | (how & INROOT_NO_SYMLINKS ? RESOLVE_NO_SYMLINKS : 0);
    for (int i = 0; i < RETRIES; i++)
      {
        int fd = (int) syscall (SYS_openat2, rootfd, path, &oh, sizeof oh);
        /* ENOSYS after the probe: a seccomp filter installed since (a forked child's). */
        if (fd < 0 && errno == ENOSYS)
          {
            have_openat2 = 0;
            break;
          }
        if (fd >= 0 || errno != EAGAIN)
          return fd;
      }
  }
#endif
  return walk_open (rootfd, path, flags, how);
}

/* Walk path from rootfd in w's create mode and return the descriptor of what it names. */
static int
walk_create (struct walk *w, int rootfd, const char *path)
{
  int fd, saved;

  walk_push (w, rootfd, NULL);
  fd = walk (w, path + strspn (path, "/")) < 0 ? -1 : top_fd (w);
  saved = errno;
  walk_release (w);
  errno = saved;
  return fd;
}

int
inroot_mkpath (int rootfd, const char *path, unsigned how, bool last_dir,
               inroot_created_fn created, void *data)
{
  bool nofollow = (how & INROOT_NOFOLLOW) != 0;
  struct walk w = { .how = how, .nofollow = nofollow, .create = true, .last_dir = last_dir,
                    .created = created, .data = data };
  int fd = inroot_open (rootfd, path, O_PATH | (nofollow ? O_NOFOLLOW : 0), how);

  if (fd >= 0 || errno != ENOENT)
    return fd;
  return walk_create (&w, rootfd, path);
}

int
inroot_mkdirs (int rootfd, const char *path, inroot_nondir_fn nondir, void *data)
{
  struct walk w = { .create = true, .last_dir = true, .nondir = nondir, .data = data };
  /* A directory that is there with no symlink on the way is what the walk would find without
     asking nondir: one kernel lookup instead of a walk from the root per entry, which made a
     layer of 2000 nested directories cost millions of system calls. */
  int fd = inroot_open (rootfd, path, O_PATH | O_DIRECTORY, INROOT_BENEATH | INROOT_NO_SYMLINKS);

  if (fd >= 0)
    return fd;
  return walk_create (&w, rootfd, path);
}

int
inroot_error (bale_error_t *err, int errnum, const char *path, const char *root_name)
{
  switch (errnum)
    {
    case EXDEV:
      return bale_make_error (err, 0, "'%s' leads outside %s", path, root_name);
    case ELOOP:
      return bale_make_error (err, 0, "'%s' in %s: too many levels of symbolic links, or a /proc "
                                      "magic link", path, root_name);
    case ENOENT:
      return bale_make_error (err, 0, "'%s' not found in %s", path, root_name);
    case ENOTDIR:
      return bale_make_error (err, 0, "'%s' in %s: a component is not a directory", path, root_name);
    default:
      return bale_make_error (err, errnum, "cannot open '%s' in %s", path, root_name);
    }
}

/* Read at most max + 1 bytes: enough to tell a file that grew past max. */
static int
read_bounded (int fd, size_t max, struct strbuf *sb)
{
  char buf[65536];

  for (;;)
    {
      size_t want = max + 1 - sb->len < sizeof buf ? max + 1 - sb->len : sizeof buf;
      ssize_t n = want ? read (fd, buf, want) : 0;

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return (int) n;
      strbuf_add (sb, buf, (size_t) n);
    }
}

int
inroot_read_file (int rootfd, const char *path, size_t max, struct strbuf *sb, bool *found,
                  bale_error_t *err)
{
  cleanup_close int pfd = inroot_open (rootfd, path, O_PATH, 0);
  cleanup_close int fd = -1;
  struct stat st, now;

  if (found)
    *found = false;
  if (pfd < 0 && errno == ENOENT)
    {
      /* A symlink that leads nowhere inside the root (/etc/passwd -> /run/host.fifo) is not an
         absent file: it says what the image wanted to read. */
      cleanup_close int link = inroot_open (rootfd, path, O_PATH | O_NOFOLLOW, 0);
      if (link < 0)
        return 0;
      return bale_make_error (err, 0, "'%s' in the image is a symlink to nothing inside it", path);
    }
  if (pfd < 0)
    return inroot_error (err, errno, path, "the image");
  if (fstat (pfd, &st) < 0)
    return bale_make_error (err, errno, "cannot stat '%s' in the image", path);
  /* Never open a FIFO or a device: the first blocks the build forever (CVE-2024-9676). */
  if (!S_ISREG (st.st_mode))
    return bale_make_error (err, 0, "'%s' in the image is not a regular file", path);
  if ((uint64_t) st.st_size > max)
    return bale_make_error (err, 0, "'%s' in the image is larger than %zu bytes", path, max);
  fd = inroot_open (rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
  if (fd < 0)
    return inroot_error (err, errno, path, "the image");
  if (fstat (fd, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino)
    return bale_make_error (err, 0, "'%s' in the image changed while it was read", path);
  if (read_bounded (fd, max, sb) < 0)
    return bale_make_error (err, errno, "cannot read '%s' in the image", path);
  if (sb->len > max)
    return bale_make_error (err, 0, "'%s' in the image is larger than %zu bytes", path, max);
  if (found)
    *found = true;
  return 0;
}
