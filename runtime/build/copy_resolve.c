/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COPY and ADD source resolution, through the in-root resolver (runtime/fs/inroot.h): beneath
 * the build context (escaping is an error there, where BuildKit would silently clamp), in the
 * root for image filesystems, where absolute symlinks are normal and mean the image's own root.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/dispatch.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/copy_resolve.h"
#include "common/gomatch.h"
#include "runtime/fs/inroot.h"
#include "common/banned.h"

static int
open_in (int root_fd, enum copy_root_kind kind, const char *rel, int flags)
{
  return inroot_open (root_fd, rel, flags, kind == COPY_ROOT_CONTEXT ? INROOT_BENEATH : 0);
}

static const char *
root_name (enum copy_root_kind kind)
{
  return kind == COPY_ROOT_CONTEXT ? "the build context" : "the source filesystem";
}

static bool
at_or_after (const struct timespec *t, const struct timespec *since)
{
  if (t->tv_nsec == 0)
    return t->tv_sec >= since->tv_sec;
  return t->tv_sec > since->tv_sec || (t->tv_sec == since->tv_sec && t->tv_nsec >= since->tv_nsec);
}

bool
copy_written_since (const struct stat *st, const struct timespec *since)
{
  return since->tv_sec != 0 && at_or_after (&st->st_mtim, since) && at_or_after (&st->st_ctim, since);
}

int
copy_open (int root_fd, enum copy_root_kind kind, const char *rel, int flags, bale_error_t *err)
{
  int fd = open_in (root_fd, kind, rel, flags);

  if (fd >= 0 || err == NULL)
    return fd;
  if (errno == EXDEV)
    return bale_make_error (err, 0, "\"%s\" leads outside %s (through a symlink)", rel, root_name (kind));
  return bale_make_error (err, errno, "cannot open \"%s\" in %s", rel, root_name (kind));
}

static const char *
basename_of (const char *rel)
{
  const char *s = strrchr (rel, '/');
  return s ? s + 1 : rel;
}

static int
ignored (const struct ignore_matcher *ign, enum copy_root_kind kind, const char *rel)
{
  return kind == COPY_ROOT_CONTEXT && ign && *rel && ignore_matches (ign, rel);
}

char *
copy_context_rel (int root_fd, int fd)
{
  char rp[64], fp[64], root[PATH_MAX], path[PATH_MAX];
  ssize_t rn, fn;

  snprintf (rp, sizeof rp, "/proc/self/fd/%d", root_fd);
  snprintf (fp, sizeof fp, "/proc/self/fd/%d", fd);
  rn = readlink (rp, root, sizeof root - 1);
  fn = readlink (fp, path, sizeof path - 1);
  if (rn <= 0 || fn <= 0)
    return NULL;
  root[rn] = path[fn] = '\0';
  if (strcmp (root, "/") == 0)
    return xstrdup (path + 1);
  if (strncmp (path, root, (size_t) rn) != 0 || (path[rn] != '/' && path[rn] != '\0'))
    return NULL;
  return xstrdup (path[rn] ? path + rn + 1 : "");
}

static int
add_source (int root_fd, enum copy_root_kind kind, const char *src, const char *rel,
            const struct ignore_matcher *ign, struct copy_sources *out, bale_error_t *err)
{
  cleanup_close int fd = open_in (root_fd, kind, rel, O_PATH);
  cleanup_free char *real = NULL;
  struct copy_source *s;
  struct stat st;

  if (fd < 0)
    {
      if (errno == EXDEV)
        return bale_make_error (err, 0, "\"%s\": symlink \"%s\" leads outside %s", src, rel, root_name (kind));
      if (errno == ENOENT || errno == ENOTDIR)
        return bale_make_error (err, 0, "\"%s\": not found in %s", src, root_name (kind));
      return bale_make_error (err, errno, "\"%s\": cannot open", src);
    }
  if (fstat (fd, &st) < 0)
    return bale_make_error (err, errno, "\"%s\": cannot stat", src);
  /* A symlink (last or in the middle) to an excluded file: BuildKit never sent that file, so
     the source is missing; it must not be a way around .dockerignore. */
  if (kind == COPY_ROOT_CONTEXT && ign)
    {
      real = copy_context_rel (root_fd, fd);
      if (real == NULL)
        return bale_make_error (err, 0, "\"%s\": cannot tell where \"%s\" is in the build context", src, rel);
      if (strcmp (real, rel) != 0 && ignored (ign, kind, real))
        return bale_make_error (err, 0, "\"%s\": \"%s\" leads to \"%s\", excluded by %s", src, rel, real,
                                ignore_matcher_source (ign) ? ignore_matcher_source (ign) : ".dockerignore");
    }
  XGROW (out->v, out->alloc, out->n + 1);
  s = &out->v[out->n++];
  s->rel = xstrdup (rel);
  s->base = xstrdup (*rel ? basename_of (rel) : "");
  s->st = st;
  return 0;
}

/* Clean a source into a path relative to the root, or fail when ".." climbs above it in the
   context. A trailing slash is dropped (D1). */
static char *
clean_source (const char *src, enum copy_root_kind kind, bale_error_t *err)
{
  char *abs = xasprintf ("/%s", src), *clean;
  const char *p;
  int depth = 0;

  /* Count the climb before cleaning: "/a/../../b" climbs above the root. */
  for (p = src; *p;)
    {
      size_t len = strcspn (p, "/");
      if (len == 2 && p[0] == '.' && p[1] == '.')
        depth--;
      else if (len > 0 && !(len == 1 && p[0] == '.'))
        depth++;
      if (depth < 0 && kind == COPY_ROOT_CONTEXT && *src != '/')
        {
          free (abs);
          bale_make_error (err, 0, "\"%s\": the path leads outside the build context", src);
          return NULL;
        }
      if (depth < 0)
        depth = 0;
      p += len;
      while (*p == '/')
        p++;
    }
  clean = dispatch_clean_path (abs);
  free (abs);
  /* "/x" → "x", "/" → "". */
  memmove (clean, clean + 1, strlen (clean));
  return clean;
}

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Whether component i is opened as it is: before the first component with a wildcard (fsutil's
   splitWildcards keeps those as written, backslashes and all), or after it without any of
   `*?[\` (filepath.Match's escapes apply there). */
static bool
literal_component (char **comp, size_t i)
{
  size_t j;

  if (!strpbrk (comp[i], "*?[\\"))
    return true;
  for (j = 0; j <= i; j++)
    if (gomatch_has_meta (comp[j]))
      return false;
  return true;
}

/* Expand the components of pattern from index i under the directory prefix (relative). */
static int
expand (int root_fd, enum copy_root_kind kind, const char *src, char **comp, size_t n, size_t i,
        const char *prefix, const struct ignore_matcher *ign, struct copy_sources *out,
        bale_error_t *err)
{
  cleanup_close int dfd = -1;
  DIR *d;
  struct dirent *de;
  char **names = NULL;
  size_t n_names = 0, alloc = 0, k;
  int ret = 0;

  if (i == n)
    return ignored (ign, kind, prefix) ? 0 : add_source (root_fd, kind, src, prefix, ign, out, err);
  if (literal_component (comp, i))
    {
      cleanup_free char *next = *prefix ? xasprintf ("%s/%s", prefix, comp[i]) : xstrdup (comp[i]);
      cleanup_close int probe = open_in (root_fd, kind, next, O_PATH);
      if (probe < 0)
        return errno == EXDEV
                   ? bale_make_error (err, 0, "\"%s\": symlink \"%s\" leads outside %s", src, next, root_name (kind))
                   : 0; /* a wildcard that matches nothing is not an error */
      return expand (root_fd, kind, src, comp, n, i + 1, next, ign, out, err);
    }
  dfd = open_in (root_fd, kind, prefix, O_RDONLY | O_DIRECTORY);
  if (dfd < 0)
    return errno == ENOTDIR || errno == ENOENT ? 0
           : errno == EXDEV ? bale_make_error (err, 0, "\"%s\": symlink \"%s\" leads outside %s", src, prefix, root_name (kind))
                            : bale_make_error (err, errno, "\"%s\": cannot read directory \"%s\"", src, *prefix ? prefix : ".");
  d = fdopendir (dfd);
  if (!d)
    return bale_make_error (err, errno, "\"%s\": cannot read directory", src);
  dfd = -1; /* owned by d now */
  while ((de = readdir (d)) != NULL)
    {
      int m;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      m = gomatch (comp[i], de->d_name);
      if (m < 0)
        {
          ret = bale_make_error (err, 0, "\"%s\": syntax error in pattern", src);
          break;
        }
      if (m)
        {
          XGROW (names, alloc, n_names + 1);
          names[n_names++] = xstrdup (de->d_name);
        }
    }
  closedir (d);
  if (n_names > 1)
    qsort (names, n_names, sizeof *names, cmp_names);
  for (k = 0; k < n_names && ret == 0; k++)
    {
      cleanup_free char *next = *prefix ? xasprintf ("%s/%s", prefix, names[k]) : xstrdup (names[k]);
      ret = expand (root_fd, kind, src, comp, n, i + 1, next, ign, out, err);
    }
  for (k = 0; k < n_names; k++)
    free (names[k]);
  free (names);
  return ret;
}

/* The directory before a wildcard's first pattern component must exist: BuildKit walks it to
   match the rest (fsutil ResolveWildcards), and fails when it is missing ("lstat ...: no such
   file or directory"); only what the walk then finds may be nothing. An excluded directory is
   missing from BuildKit's copy of the context. */
static int
check_wildcard_base (int root_fd, enum copy_root_kind kind, const char *src, char **comp, size_t n,
                     const struct ignore_matcher *ignore, bale_error_t *err)
{
  struct strbuf base = STRBUF_INIT;
  cleanup_close int fd = -1;
  size_t i;
  int ret = 0;

  for (i = 0; i < n && !gomatch_has_meta (comp[i]); i++)
    {
      if (i > 0)
        strbuf_addch (&base, '/');
      strbuf_addstr (&base, comp[i]);
    }
  if (i == 0)
    return 0;
  if (ignored (ignore, kind, base.buf))
    ret = bale_make_error (err, 0, "\"%s\": \"%s\" not found in the build context (excluded by %s)", src,
                           base.buf, ignore_matcher_source (ignore) ? ignore_matcher_source (ignore) : ".dockerignore");
  else if ((fd = open_in (root_fd, kind, base.buf, O_PATH)) < 0)
    ret = errno == EXDEV ? bale_make_error (err, 0, "\"%s\": symlink \"%s\" leads outside %s", src, base.buf, root_name (kind))
          : errno == ENOENT || errno == ENOTDIR
              ? bale_make_error (err, 0, "\"%s\": \"%s\" not found in %s", src, base.buf, root_name (kind))
              : bale_make_error (err, errno, "\"%s\": cannot open \"%s\"", src, base.buf);
  strbuf_release (&base);
  return ret;
}

int
copy_resolve (int root_fd, enum copy_root_kind kind, const char *src,
              const struct ignore_matcher *ignore, struct copy_sources *out, bale_error_t *err)
{
  cleanup_free char *rel = clean_source (src, kind, err);
  char **comp = NULL;
  size_t n = 0, alloc = 0;
  char *p, *save;
  int ret;

  if (!rel)
    return -1;
  if (!gomatch_has_meta (rel))
    {
      if (ignored (ignore, kind, rel))
        return bale_make_error (err, 0, "\"%s\": not found in the build context (excluded by %s)", src,
                                ignore_matcher_source (ignore) ? ignore_matcher_source (ignore) : ".dockerignore");
      return add_source (root_fd, kind, src, rel, ignore, out, err);
    }
  for (p = strtok_r (rel, "/", &save); p; p = strtok_r (NULL, "/", &save))
    {
      XGROW (comp, alloc, n + 1);
      comp[n++] = p;
    }
  ret = check_wildcard_base (root_fd, kind, src, comp, n, ignore, err);
  if (ret == 0)
    ret = expand (root_fd, kind, src, comp, n, 0, "", ignore, out, err);
  free (comp);
  return ret;
}

void
copy_sources_release (struct copy_sources *s)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    {
      free (s->v[i].rel);
      free (s->v[i].base);
    }
  free (s->v);
  memset (s, 0, sizeof *s);
}

char *
copy_target (const char *dest, bool dest_is_dir, const struct copy_source *src)
{
  size_t len = strlen (dest);
  bool slash = len > 0 && dest[len - 1] == '/';
  char *joined, *clean;

  if (S_ISDIR (src->st.st_mode) || !(slash || dest_is_dir))
    return dispatch_clean_path (dest);
  joined = xasprintf ("%s/%s", dest, src->base);
  clean = dispatch_clean_path (joined);
  free (joined);
  return clean;
}

enum copy_walk_action
copy_walk_check (const struct ignore_matcher *ignore, const char *ctx_rel, mode_t mode)
{
  if (!ignore)
    return COPY_WALK_KEEP;
  if (S_ISDIR (mode))
    switch (ignore_check_dir (ignore, ctx_rel))
      {
      case IGNORE_DIR_SKIP:
        return COPY_WALK_PRUNE;
      /* Excluded directories walked for their exceptions are written only if the exceptions
         keep something inside them; the layer still gets them as parents. */
      case IGNORE_DIR_SEARCH:
      case IGNORE_DIR_ENTER:
        return COPY_WALK_OMIT;
      default:
        return COPY_WALK_KEEP;
      }
  return ignore_matches (ignore, ctx_rel) ? COPY_WALK_OMIT : COPY_WALK_KEEP;
}

enum copy_walk_action
copy_exclude_check (const struct ignore_matcher *exclude, const char *ex_rel, mode_t mode)
{
  if (!exclude || !ignore_matches (exclude, ex_rel))
    return COPY_WALK_KEEP;
  /* fsutil walks an excluded directory only when an exception might keep something inside */
  return S_ISDIR (mode) && !ignore_has_exceptions (exclude) ? COPY_WALK_PRUNE : COPY_WALK_OMIT;
}

const char *
copy_parents_below (const char *word, const char *rel)
{
  const char *pivot = strstr (word, "/./");
  cleanup_free char *raw = pivot ? xasprintf ("/%.*s", (int) (pivot - word), word) : xstrdup ("/");
  cleanup_free char *root = dispatch_clean_path (raw);
  size_t skip = strlen (root + 1);

  if (skip && strncmp (rel, root + 1, skip) == 0 && (rel[skip] == '/' || !rel[skip]))
    rel += skip;
  while (*rel == '/')
    rel++;
  return rel;
}
