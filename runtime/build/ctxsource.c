/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build contexts that are not a local directory, as buildx reads them (build/opt.go
 * loadInputs): "-" (a tar on stdin, or a Dockerfile alone), a git URL, an http(s) tarball or
 * Dockerfile. Each is made into a scratch directory first; the build then reads that
 * directory as any context, with the same in-root rules.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/build/ctxsource.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/registry/http.h"
#include "runtime/layer/layer.h"
#include "common/banned.h"

/* buildx's isArchive: bzip2, gzip, xz magic (zstd too, as docker's legacy builder), or a
   block that is a tar header (a valid checksum). */
static bool
is_archive (const unsigned char *b, size_t n)
{
  unsigned long sum = 0, want;
  size_t i;

  if ((n >= 3 && memcmp (b, "BZh", 3) == 0) || (n >= 3 && memcmp (b, "\x1f\x8b\x08", 3) == 0)
      || (n >= 6 && memcmp (b, "\xfd" "7zXZ\0", 6) == 0) || (n >= 4 && memcmp (b, "\x28\xb5\x2f\xfd", 4) == 0))
    return true;
  if (n < 512)
    return false;
  for (i = 0; i < 512; i++)
    sum += i >= 148 && i < 156 ? ' ' : b[i];
  want = strtoul ((const char *) b + 148, NULL, 8);
  return b[0] != '\0' && sum == want;
}

static int
scratch (struct ctxsource *cs, bale_error_t *err)
{
  const char *tmp = getenv ("TMPDIR");

  cs->dir = xasprintf ("%s/bale-context.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp (cs->dir))
    {
      free (cs->dir);
      cs->dir = NULL;
      return bale_make_error (err, errno, "cannot create a directory for the context");
    }
  cs->context = xasprintf ("%s/context", cs->dir);
  if (mkdir (cs->context, 0755) < 0)
    return bale_make_error (err, errno, "cannot create '%s'", cs->context);
  return 0;
}

/* The downloaded or piped bytes in fd: an archive is the context, anything else the
   Dockerfile of an empty context. */
static int
from_file (struct ctxsource *cs, int fd, const char *what, bale_error_t *err)
{
  unsigned char head[1024];
  ssize_t n = pread (fd, head, sizeof head, 0);
  cleanup_close int root = -1;

  if (n < 0)
    return bale_make_error (err, errno, "%s: cannot read", what);
  if (!is_archive (head, (size_t) n))
    {
      cs->dockerfile = xasprintf ("%s/Dockerfile", cs->dir);
      return rename (cs->file, cs->dockerfile) < 0
             ? bale_make_error (err, errno, "cannot move '%s'", cs->file) : 0;
    }
  root = open (cs->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  {
    struct layer_extract_opts lo = { .mode = LAYER_EXTRACT_ARCHIVE };
    if (root < 0 || lseek (fd, 0, SEEK_SET) < 0 || layer_extract (fd, root, &lo, NULL, err) < 0)
      return bale_error_wrap (err, "%s: cannot unpack the context archive", what);
  }
  return 0;
}

static int
from_stdin (struct ctxsource *cs, bale_error_t *err)
{
  cleanup_close int fd = -1;

  cs->file = xasprintf ("%s/stdin", cs->dir);
  fd = open (cs->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || fileio_copy_fd (STDIN_FILENO, fd) < 0)
    return bale_make_error (err, errno, "cannot read the context from stdin");
  return from_file (cs, fd, "stdin", err);
}

static int
from_http (struct ctxsource *cs, const char *url, struct meter *m, bale_error_t *err)
{
  cleanup_close int fd = -1;
  struct http_fetch_result res;

  cs->file = xasprintf ("%s/download", cs->dir);
  fd = open (cs->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot create '%s'", cs->file);
  if (http_fetch_metered (url, fd, NULL, m, &res, err) < 0)
    return bale_error_wrap (err, "unable to prepare context: '%s'", url);
  return from_file (cs, fd, url, err);
}

/* ---- git ---------------------------------------------------------------------------------- */

/* buildkit's git URL test: http(s) only with a path ending in .git; git:// and ssh://;
   scp-like user@host:path. */
bool
ctxsource_is_git (const char *s)
{
  size_t n = strcspn (s, "#?");

  if (strncasecmp (s, "git://", 6) == 0 || strncasecmp (s, "ssh://", 6) == 0)
    return true;
  if (strncasecmp (s, "http://", 7) == 0 || strncasecmp (s, "https://", 8) == 0)
    return n >= 4 && strncmp (s + n - 4, ".git", 4) == 0;
  {
    const char *at = strchr (s, '@'), *colon = strchr (s, ':'), *slash = strchr (s, '/');
    return at && colon && at < colon && (!slash || colon < slash) && at != s;
  }
}

/* Run git with args; stdout and stderr to a log whose tail names the failure. */
static int
run_git (char *const argv[], const char *log, bale_error_t *err)
{
  pid_t pid = fork ();
  int status;

  if (pid < 0)
    return bale_make_error (err, errno, "fork");
  if (pid == 0)
    {
      int fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      int devnull = open ("/dev/null", O_RDONLY);
      if (fd >= 0)
        dup2 (fd, 1), dup2 (fd, 2);
      if (devnull >= 0)
        dup2 (devnull, 0);
      /* No prompts, no system or user config that could add helpers or hooks. */
      setenv ("GIT_TERMINAL_PROMPT", "0", 1);
      setenv ("GIT_CONFIG_NOSYSTEM", "1", 1);
      setenv ("GIT_CONFIG_GLOBAL", "/dev/null", 1);
      execvp ("git", argv);
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return bale_make_error (err, errno, "waitpid");
  return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}

/* git -c <only these protocols> ... args: CVE-2019-13139 was an option smuggled in the ref;
   here nothing from the URL can be read as an option (checked, and after "--"), and only
   http(s), ssh and git transports are allowed (no ext::, no file). */
#define GIT_PREFIX "git", "-c", "protocol.allow=never", "-c", "protocol.https.allow=always",  \
                   "-c", "protocol.http.allow=always", "-c", "protocol.ssh.allow=always",      \
                   "-c", "protocol.git.allow=always", "-c", "core.hooksPath=/dev/null"

static int
git_fetch (struct ctxsource *cs, const char *url, const char *ref, bale_error_t *err)
{
  cleanup_free char *log = xasprintf ("%s/git.log", cs->dir);
  char *init[] = { GIT_PREFIX, "init", "-q", "--", cs->context, NULL };
  char *remote[] = { GIT_PREFIX, "-C", cs->context, "remote", "add", "origin", "--", (char *) url, NULL };
  char *fetch[] = { GIT_PREFIX, "-C", cs->context, "fetch", "-q", "--depth=1", "--no-tags", "origin", "--",
                    (char *) (*ref ? ref : "HEAD"), NULL };
  char *checkout[] = { GIT_PREFIX, "-C", cs->context, "checkout", "-q", "--detach", "FETCH_HEAD", NULL };

  if (run_git (init, log, err) < 0 || run_git (remote, log, err) < 0 || run_git (fetch, log, err) < 0
      || run_git (checkout, log, err) < 0)
    {
      struct strbuf sb = STRBUF_INIT;
      int fd = open (log, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          bale_error_t e = NULL;
          fileio_read_fd (fd, log, &sb, &e);
          bale_error_release (&e);
          close (fd);
        }
      while (sb.len && sb.buf[sb.len - 1] == '\n')
        strbuf_setlen (&sb, sb.len - 1);
      if (!*err)
        bale_make_error (err, 0, "unable to prepare context: git fetch of '%s'%s%s failed%s%s", url,
                         *ref ? " at " : "", ref, sb.len ? ": " : "", sb.len ? sb.buf : "");
      strbuf_release (&sb);
      return -1;
    }
  return 0;
}

static int
from_git (struct ctxsource *cs, const char *spec, bool keep_git_dir, bale_error_t *err)
{
  cleanup_free char *url = xstrdup (spec);
  char *frag = strchr (url, '#'), *ref = "", *sub = "";

  if (frag)
    {
      *frag++ = '\0';
      ref = frag;
      if ((sub = strchr (frag, ':')))
        *sub++ = '\0';
      else
        sub = "";
    }
  if (strchr (url, '?'))
    return bale_make_error (err, 0, "unable to prepare context: '%s': git URLs with a query are not supported yet", spec);
  /* Nothing that git could take for an option, nor a ref that walks out of refs. */
  if (*url == '-' || *ref == '-' || strstr (ref, "..") || strpbrk (ref, " \t\n\\~^:?*["))
    return bale_make_error (err, 0, "unable to prepare context: invalid git reference '%s'", spec);
  if (git_fetch (cs, url, ref, err) < 0)
    return -1;
  if (!keep_git_dir)
    {
      cleanup_close int root = open (cs->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (root < 0 || dirwalk_remove (root, ".git", ".git", err) < 0)
        return -1;
    }
  if (*sub)
    {
      /* The subdirectory, cleaned (path.Join("/", sub)) and resolved inside the checkout: a
         symlink in the repository must not lead the context out of it. */
      cleanup_free char *joined = xasprintf ("%s/%s", cs->context, sub);
      cleanup_free char *real = realpath (joined, NULL);
      cleanup_free char *base = realpath (cs->context, NULL);
      struct stat st;
      size_t n = base ? strlen (base) : 0;
      if (!real || !base || strncmp (real, base, n) != 0 || (real[n] != '/' && real[n] != '\0')
          || stat (real, &st) < 0 || !S_ISDIR (st.st_mode))
        return bale_make_error (err, 0, "unable to prepare context: subdirectory '%s' of '%s' is not a directory in the repository", sub, url);
      free (cs->context);
      cs->context = xstrdup (real);
    }
  return 0;
}

int
ctxsource_prepare (const char *spec, bool keep_git_dir, struct meter *m, struct ctxsource *cs,
                   bale_error_t *err)
{
  struct stat st;

  memset (cs, 0, sizeof *cs);
  if (strcmp (spec, "-") != 0
      && (stat (spec, &st) == 0 || (!ctxsource_is_git (spec) && strncasecmp (spec, "http://", 7) != 0
                                    && strncasecmp (spec, "https://", 8) != 0)))
    return 0; /* a local directory (it wins even when it looks like a URL) */
  if (scratch (cs, err) < 0)
    return -1;
  if (strcmp (spec, "-") == 0)
    return from_stdin (cs, err);
  if (ctxsource_is_git (spec))
    return from_git (cs, spec, keep_git_dir, err);
  return from_http (cs, spec, m, err);
}

void
ctxsource_release (struct ctxsource *cs)
{
  if (cs->dir)
    {
      cleanup_free char *parent = xstrdup (cs->dir);
      char *slash = strrchr (parent, '/');
      bale_error_t e = NULL;
      int fd;
      *slash = '\0';
      fd = open (*parent ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0)
        {
          dirwalk_remove (fd, slash + 1, cs->dir, &e);
          close (fd);
        }
      bale_error_release (&e);
    }
  free (cs->dir);
  free (cs->context);
  free (cs->dockerfile);
  free (cs->file);
  memset (cs, 0, sizeof *cs);
}
