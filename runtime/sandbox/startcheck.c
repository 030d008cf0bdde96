/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a container's command can start, decided on the image's filesystem as dockerd, runc
 * 1.1 and the kernel decide it. The order and the words are theirs: dockerd resolves the user
 * and creates the working directory; runc init changes to it, becomes the user, finds argv[0]
 * with Go 1.19's exec.LookPath (stat, any execute bit, PATH entries that are not absolute are
 * refused as ErrDot) and checks faccessat(X_OK, AT_EACCESS); failures so far mean no container
 * (`docker run` exits 125, 126 or 127 by its message). Then execve: the kernel follows `#!`
 * lines (at most 5 scripts before a binary, fs/exec.c exec_binprm) and opens an ELF's PT_INTERP;
 * a failure there is printed by runc init as "exec NAME: ERR" and the status is 1.
 */
#include <config.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/fs/inroot.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/sandbox/startcheck.h"
#include "common/banned.h"

/* fs/binfmt_script.c reads BINPRM_BUF_SIZE bytes; fs/exec.c allows 5 rounds of handlers after
   the first, so the sixth `#!` script in a chain gets ELOOP. */
#define BINPRM_BUF_SIZE 256
#define MAX_ROUNDS 5
/* How much of a `#!` script is read to see whether it uses its arguments. */
#define SCRIPT_SCAN_MAX (256 * 1024)

struct ctx
{
  int rootfd;
  const struct startcheck_in *in;
  const char *workdir;
  struct sandbox_user user;
  json_t *out, *checks;
  bool failed;
};

/* The only place an image path is opened: inside rootfd (runtime/fs/inroot.h), so absolute
   symlinks and ".." stay in the image. A relative path is taken from the working directory,
   as by the container's process. -1 with errno. */
static int
image_open (const struct ctx *c, const char *path, int flags)
{
  cleanup_free char *abs = NULL;

  if (path[0] != '/')
    abs = xasprintf ("%s/%s", c->workdir, path);
  return inroot_open (c->rootfd, abs ? abs : path, flags, 0);
}

static void add_check (struct ctx *c, const char *name, bool ok, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static void
add_check (struct ctx *c, const char *name, bool ok, const char *fmt, ...)
{
  struct strbuf sb = STRBUF_INIT;
  json_t *o = json_object ();
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  json_object_set_new (o, "check", json_string (name));
  json_object_set_new (o, "ok", json_boolean (ok));
  json_object_set_new (o, "detail", json_string (sb.buf));
  json_array_append_new (c->checks, o);
  strbuf_release (&sb);
}

/* The start fails: stage "create" (no process; docker's CLI picks the status from the
   message) or "exec" (runc init prints the message and exits 1). */
static void fail (struct ctx *c, const char *stage, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void
fail (struct ctx *c, const char *stage, const char *fmt, ...)
{
  struct strbuf sb = STRBUF_INIT;
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  c->failed = true;
  json_object_set_new (c->out, "outcome", json_string ("fails"));
  json_object_set_new (c->out, "stage", json_string (stage));
  json_object_set_new (c->out, "error", json_string (sb.buf));
  json_object_set_new (c->out, "exit_status",
                       json_integer (strcmp (stage, "exec") == 0 ? 1 : startcheck_docker_status (sb.buf)));
  strbuf_release (&sb);
}

int
startcheck_docker_status (const char *message)
{
  if (strstr (message, "executable file not found") || strstr (message, "no such file or directory")
      || strstr (message, "system cannot find the file specified"))
    return 127;
  if (strstr (message, "permission denied"))
    return 126;
  return 125;
}

/* ---- permissions, for the user the command runs as -------------------------------------- */

static bool
in_groups (const struct ctx *c, gid_t gid)
{
  if (gid == c->user.gid)
    return true;
  for (size_t i = 0; i < c->user.n_groups; i++)
    if (c->user.groups[i] == gid)
      return true;
  return false;
}

/* The rwx bits that apply to the user: owner, else group, else other (no ACLs). */
static unsigned
class_bits (const struct ctx *c, const struct stat *st)
{
  if (st->st_uid == c->user.uid)
    return (st->st_mode >> 6) & 7;
  if (in_groups (c, st->st_gid))
    return (st->st_mode >> 3) & 7;
  return st->st_mode & 7;
}

/* As the kernel's may_open(MAY_EXEC) and faccessat(X_OK): root keeps CAP_DAC_OVERRIDE in a
   docker container, which passes directories and files with any execute bit; any other user
   has no effective capabilities. */
static bool
may_exec (const struct ctx *c, const struct stat *st)
{
  if (c->user.uid == 0)
    return S_ISDIR (st->st_mode) || (st->st_mode & 0111);
  return class_bits (c, st) & 1;
}

/* Every directory on the way to abs (an absolute in-image path) may be searched by the user. */
static bool
dirs_searchable (const struct ctx *c, const char *abs)
{
  cleanup_free char *p = xstrdup (abs);

  if (c->user.uid == 0)
    return true;
  for (char *s = p; (s = strchr (s, '/')); s++)
    {
      char saved = s[1];
      cleanup_close int fd = -1;
      struct stat st;

      s[1] = '\0';
      fd = image_open (c, p, O_PATH);
      s[1] = saved;
      if (fd >= 0 && fstat (fd, &st) == 0 && S_ISDIR (st.st_mode) && !may_exec (c, &st))
        return false;
    }
  return true;
}

/* The path fd has inside the image (the mount point's prefix taken off), or NULL. */
static char *
real_path (const struct ctx *c, int fd)
{
  char link[64], root[PATH_MAX], target[PATH_MAX];
  ssize_t nr, nt;

  snprintf (link, sizeof link, "/proc/self/fd/%d", c->rootfd);
  nr = readlink (link, root, sizeof root - 1);
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  nt = readlink (link, target, sizeof target - 1);
  if (nr <= 0 || nt <= 0)
    return NULL;
  root[nr] = target[nt] = '\0';
  if (strcmp (root, "/") == 0)
    return xstrdup (target);
  if (strncmp (target, root, (size_t) nr) != 0 || (target[nr] != '/' && target[nr] != '\0'))
    return NULL;
  return xstrdup (target[nr] ? target + nr : "/");
}

/* stat(2) of path as the user would: symlinks followed in the image, EACCES when a directory
   on the way (as written, or as the symlinks lead) may not be searched. */
static int
user_stat (const struct ctx *c, const char *path, struct stat *st)
{
  cleanup_free char *abs = path[0] == '/' ? xstrdup (path) : xasprintf ("%s/%s", c->workdir, path);
  cleanup_close int fd = image_open (c, path, O_PATH);
  cleanup_free char *real = NULL;

  if (fd < 0)
    return -1;
  real = real_path (c, fd);
  if (!dirs_searchable (c, abs) || (real && !dirs_searchable (c, real)))
    {
      errno = EACCES;
      return -1;
    }
  return fstat (fd, st);
}

/* ---- argv[0]: Go's exec.LookPath ------------------------------------------------------- */

/* Go's filepath.Clean, for the names LookPath builds with filepath.Join. */
static char *
go_clean (const char *path)
{
  struct strbuf sb = STRBUF_INIT;
  bool rooted = path[0] == '/';
  size_t keep = 0; /* components that ".." may not remove (leading ".." of a relative path) */
  size_t n = 0;

  if (rooted)
    strbuf_addch (&sb, '/');
  for (const char *p = path; *p;)
    {
      size_t len = strcspn (p, "/");
      if (len == 0 || (len == 1 && p[0] == '.'))
        ;
      else if (len == 2 && p[0] == '.' && p[1] == '.')
        {
          if (n > keep)
            {
              char *slash = strrchr (sb.buf, '/');
              strbuf_setlen (&sb, slash ? (size_t) (slash - sb.buf) + (slash == sb.buf && rooted) : 0);
              n--;
            }
          else if (!rooted)
            {
              strbuf_addstr (&sb, n ? "/.." : "..");
              n++;
              keep = n;
            }
        }
      else
        {
          if (sb.len && sb.buf[sb.len - 1] != '/')
            strbuf_addch (&sb, '/');
          strbuf_add (&sb, p, len);
          n++;
        }
      p += len + (p[len] == '/');
    }
  if (sb.len == 0)
    strbuf_addch (&sb, '.');
  return strbuf_detach (&sb, NULL);
}

/* Go 1.19's findExecutable: NULL when file is a non-directory with an execute bit, else the
   error text ("stat FILE: ERR" or "permission denied"). */
static char *
find_executable (const struct ctx *c, const char *file, struct stat *st)
{
  if (user_stat (c, file, st) < 0)
    {
      cleanup_free char *e = error_go_text (errno);
      return xasprintf ("stat %s: %s", file, e);
    }
  if (!S_ISDIR (st->st_mode) && (st->st_mode & 0111))
    return NULL;
  return xstrdup ("permission denied");
}

static const char *
path_value (const struct ctx *c)
{
  return c->in->path ? c->in->path : STARTCHECK_DEFAULT_PATH;
}

/* argv[0] as runc finds it; the found name (as LookPath returns it), or NULL after fail(). */
static char *
look_path (struct ctx *c, struct stat *st)
{
  const char *file = c->in->argv[0], *path = path_value (c);
  cleanup_free char *e = NULL;

  if (strchr (file, '/'))
    {
      if ((e = find_executable (c, file, st)))
        {
          add_check (c, "command", false, "\"%s\": %s", file, e);
          fail (c, "create", "exec: \"%s\": %s", file, e);
          return NULL;
        }
      add_check (c, "command", true, "\"%s\" exists and has an execute bit", file);
      return xstrdup (file);
    }
  /* filepath.SplitList: nothing for an empty PATH; an empty element means "." */
  for (const char *p = path; *path && p;)
    {
      size_t len = strcspn (p, ":");
      cleanup_free char *dir = len ? xstrndup (p, len) : xstrdup (".");
      cleanup_free char *joined = xasprintf ("%s/%s", dir, file);
      char *name = go_clean (joined);
      cleanup_free char *miss = find_executable (c, name, st);

      if (miss == NULL)
        {
          if (name[0] != '/')
            {
              add_check (c, "command", false, "\"%s\" is found as %s, through the PATH entry \"%s\" that is not absolute", file, name, dir);
              fail (c, "create", "exec: \"%s\": cannot run executable found relative to current directory", file);
              free (name);
              return NULL;
            }
          add_check (c, "command", true, "\"%s\" is %s (PATH %s)", file, name, path);
          return name;
        }
      free (name);
      p = p[len] ? p + len + 1 : NULL;
    }
  add_check (c, "command", false, "\"%s\" is no executable file in any directory of PATH %s",
             file, *path ? path : "(empty)");
  fail (c, "create", "exec: \"%s\": executable file not found in $PATH", file);
  return NULL;
}

/* ---- dockerd: the working directory, then the user ------------------------------------- */

static int
check_workdir (struct ctx *c)
{
  const char *w = c->workdir;
  cleanup_close int fd = -1;
  struct stat st;

  if (w[0] != '/')
    {
      add_check (c, "workdir", false, "%s is not an absolute path", w);
      fail (c, "create", "the working directory '%s' is invalid, it needs to be an absolute path", w);
      return -1;
    }
  fd = image_open (c, w, O_PATH);
  if (fd >= 0 && fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
    add_check (c, "workdir", true, "%s exists", w);
  else if (fd >= 0)
    {
      add_check (c, "workdir", false, "%s exists and is not a directory", w);
      fail (c, "create", "Cannot mkdir: %s is not a directory", w);
      return -1;
    }
  else if (errno == ENOENT)
    add_check (c, "workdir", true, "%s does not exist in the image: docker creates it (owned by root)", w);
  else
    {
      cleanup_free char *e = error_go_text (errno);
      add_check (c, "workdir", false, "%s cannot be created: a part of it is not a directory", w);
      fail (c, "create", "lstat %s: %s", w, e);
      return -1;
    }
  return 0;
}

static char *
groups_text (const struct sandbox_user *u)
{
  struct strbuf sb = STRBUF_INIT;

  for (size_t i = 0; i < u->n_groups; i++)
    strbuf_addf (&sb, "%s%u", i ? "," : ", supplementary groups ", (unsigned) u->groups[i]);
  return strbuf_detach (&sb, NULL);
}

/* runc's GetExecUser through the image's /etc/passwd and /etc/group (the sandbox's reader):
   the user part first, so that a failure names the part docker names. */
static int
check_user (struct ctx *c)
{
  const char *spec = c->in->user && *c->in->user ? c->in->user : "0";
  cleanup_free char *user = xstrdup (spec);
  char *group = strchr (user, ':');
  cleanup_free char *groups = NULL;
  bale_error_t e = NULL;
  bool bad_group = false;

  if (group)
    *group++ = '\0';
  if (sandbox_resolve_user (c->rootfd, user, &c->user, &e) == 0 && group)
    {
      sandbox_user_release (&c->user);
      if (sandbox_resolve_user (c->rootfd, spec, &c->user, &e) < 0)
        bad_group = true;
    }
  if (e)
    {
      add_check (c, "user", false, "%s", e->msg);
      if (strncmp (e->msg, "unable to find", 14) != 0)
        fail (c, "create", "%s", e->msg);
      else if (bad_group)
        fail (c, "create", "unable to find group %s: no matching entries in group file", group);
      else
        fail (c, "create", "unable to find user %s: no matching entries in passwd file", user);
      bale_error_release (&e);
      return -1;
    }
  groups = groups_text (&c->user);
  add_check (c, "user", true, "%s%s: uid %u, gid %u%s", c->in->user && *c->in->user ? "" : "root (the default)",
             c->in->user && *c->in->user ? spec : "", (unsigned) c->user.uid, (unsigned) c->user.gid, groups);
  return 0;
}

/* ---- runc's eaccess, then what execve does --------------------------------------------- */

static int
check_permission (struct ctx *c, const char *name, const struct stat *st)
{
  if (may_exec (c, st))
    {
      add_check (c, "permission", true, "%s (mode %04o, owner %u:%u) is executable by uid %u",
                 name, (unsigned) (st->st_mode & 07777), (unsigned) st->st_uid, (unsigned) st->st_gid,
                 (unsigned) c->user.uid);
      return 0;
    }
  add_check (c, "permission", false, "%s (mode %04o, owner %u:%u) is not executable by uid %u gid %u",
             name, (unsigned) (st->st_mode & 07777), (unsigned) st->st_uid, (unsigned) st->st_gid,
             (unsigned) c->user.uid, (unsigned) c->user.gid);
  fail (c, "create", "exec %s: permission denied", name);
  return -1;
}

/* Read up to n bytes at off of the regular file path; -1 when it is none or unreadable. */
static ssize_t
read_at (const struct ctx *c, const char *path, off_t off, void *buf, size_t n)
{
  cleanup_close int probe = image_open (c, path, O_PATH);
  cleanup_close int fd = -1;
  struct stat st;

  /* Only a regular file is opened for reading: never a device or FIFO of the image. */
  if (probe < 0 || fstat (probe, &st) < 0 || !S_ISREG (st.st_mode))
    return -1;
  fd = image_open (c, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return -1;
  return pread (fd, buf, n, off);
}

static bool
spacetab (char ch)
{
  return ch == ' ' || ch == '\t';
}

static const char *
next_non_spacetab (const char *first, const char *last)
{
  for (; first <= last; first++)
    if (!spacetab (*first))
      return first;
  return NULL;
}

static const char *
next_terminator (const char *first, const char *last)
{
  for (; first <= last; first++)
    if (spacetab (*first) || !*first)
      return first;
  return NULL;
}

/* fs/binfmt_script.c load_script: 1 when buf is no `#!` script, 0 with the interpreter (and
   its optional argument), -1 when the kernel says ENOEXEC (no name, or one cut off). */
static int
parse_shebang (const char *head, size_t n, char **interp, char **arg)
{
  char buf[BINPRM_BUF_SIZE] = { 0 };
  const char *buf_end = buf + sizeof buf - 1, *i_end, *i_name, *i_sep, *i_arg = NULL;

  memcpy (buf, head, n < sizeof buf ? n : sizeof buf);
  if (buf[0] != '#' || buf[1] != '!')
    return 1;
  i_end = memchr (buf, '\n', sizeof buf);
  if (!i_end)
    {
      i_end = next_non_spacetab (buf + 2, buf_end);
      if (!i_end || !next_terminator (i_end, buf_end))
        return -1;
      i_end = buf_end;
    }
  while (spacetab (i_end[-1]))
    i_end--;
  i_name = next_non_spacetab (buf + 2, i_end);
  if (!i_name || i_name == i_end)
    return -1;
  i_sep = next_terminator (i_name, i_end);
  if (i_sep && *i_sep != '\0')
    i_arg = next_non_spacetab (i_sep, i_end);
  *interp = xstrndup (i_name, (size_t) ((i_sep ? i_sep : i_end) - i_name));
  *arg = i_arg && i_arg < i_end ? xstrndup (i_arg, (size_t) (i_end - i_arg)) : NULL;
  return 0;
}

/* The PT_INTERP path of an ELF file of this machine's byte order: 1 when head is no ELF,
   0 with *interp (NULL for a static binary), -1 when it is malformed (ENOEXEC). */
static int
elf_interp (const struct ctx *c, const char *path, const unsigned char *head, size_t n, char **interp)
{
  bool is64 = head[EI_CLASS] == ELFCLASS64;
  uint64_t phoff;
  unsigned phnum, phentsize;

  *interp = NULL;
  if (n < EI_NIDENT || memcmp (head, ELFMAG, SELFMAG) != 0)
    return 1;
  if (is64 ? n < sizeof (Elf64_Ehdr) : n < sizeof (Elf32_Ehdr))
    return -1;
  if (is64)
    {
      const Elf64_Ehdr *h = (const Elf64_Ehdr *) head;
      phoff = h->e_phoff, phnum = h->e_phnum, phentsize = h->e_phentsize;
    }
  else
    {
      const Elf32_Ehdr *h = (const Elf32_Ehdr *) head;
      phoff = h->e_phoff, phnum = h->e_phnum, phentsize = h->e_phentsize;
    }
  if (phentsize != (is64 ? sizeof (Elf64_Phdr) : sizeof (Elf32_Phdr)) || phnum > 4096)
    return -1;
  for (unsigned i = 0; i < phnum; i++)
    {
      Elf64_Phdr p64;
      Elf32_Phdr p32;
      uint64_t off, size;
      uint32_t type;

      if (read_at (c, path, (off_t) (phoff + (uint64_t) i * phentsize), is64 ? (void *) &p64 : (void *) &p32,
                   phentsize) != (ssize_t) phentsize)
        return -1;
      type = is64 ? p64.p_type : p32.p_type;
      off = is64 ? p64.p_offset : p32.p_offset;
      size = is64 ? p64.p_filesz : p32.p_filesz;
      if (type != PT_INTERP)
        continue;
      /* binfmt_elf: at least 2 bytes, at most PATH_MAX, NUL-terminated. */
      if (size < 2 || size > PATH_MAX)
        return -1;
      *interp = xmalloc (size + 1);
      if (read_at (c, path, (off_t) off, *interp, size) != (ssize_t) size || (*interp)[size - 1] != '\0')
        {
          free (steal_pointer (interp));
          return -1;
        }
      return 0;
    }
  return 0;
}

/* What a `#!` command does with its arguments, for the advice: read its text in the image. */
static void
describe_script (struct ctx *c, const char *name, const char *interp, const char *arg)
{
  cleanup_free char *text = xmalloc (SCRIPT_SCAN_MAX + 1);
  ssize_t n = read_at (c, name, 0, text, SCRIPT_SCAN_MAX);
  json_t *s = json_object ();
  size_t ilen = strlen (interp);

  text[n > 0 ? n : 0] = '\0';
  json_object_set_new (s, "path", json_string (name));
  json_object_set_new (s, "interpreter", json_string (interp));
  json_object_set_new (s, "argument", arg ? json_string (arg) : json_null ());
  json_object_set_new (s, "uses_args", json_boolean (strstr (text, "$@") || strstr (text, "${@")
                                                     || strstr (text, "$*") || strstr (text, "$1")
                                                     || strstr (text, "${1")));
  json_object_set_new (s, "execs_args", json_boolean (strstr (text, "exec \"$@\"") != NULL));
  json_object_set_new (s, "crlf", json_boolean ((ilen && interp[ilen - 1] == '\r')
                                                || (arg && *arg && arg[strlen (arg) - 1] == '\r')));
  json_object_set_new (c->out, "script", s);
}

/* A file execve must be able to open as a program (open_exec: a regular file, MAY_EXEC). */
static int
check_program (struct ctx *c, const char *what, const char *name, const char *file, struct stat *st)
{
  if (user_stat (c, file, st) < 0)
    {
      cleanup_free char *e = error_go_text (errno);
      add_check (c, what, false, "%s: %s", file, e);
      fail (c, "exec", "exec %s: %s", name, e);
      return -1;
    }
  if (!S_ISREG (st->st_mode) || !may_exec (c, st))
    {
      add_check (c, what, false, "%s is not %s", file, S_ISREG (st->st_mode) ? "executable by the user" : "a regular file");
      fail (c, "exec", "exec %s: permission denied", name);
      return -1;
    }
  return 0;
}

/* Follow what the kernel's execve(name) follows: `#!` interpreters, then the binary's loader. */
static void
check_exec (struct ctx *c, const char *name, const struct stat *st0)
{
  cleanup_free char *file = xstrdup (name);
  struct stat st = *st0;

  for (int round = 0;; round++)
    {
      unsigned char head[BINPRM_BUF_SIZE];
      cleanup_free char *interp = NULL, *arg = NULL;
      ssize_t n;
      int r;

      if (round > MAX_ROUNDS)
        {
          add_check (c, "interpreter", false, "%s: more than %d #! scripts in a row (the kernel's limit)", name, MAX_ROUNDS);
          fail (c, "exec", "exec %s: too many levels of symbolic links", name);
          return;
        }
      if (!S_ISREG (st.st_mode))
        {
          add_check (c, "format", false, "%s is not a regular file", file);
          fail (c, "exec", "exec %s: permission denied", name);
          return;
        }
      n = read_at (c, file, 0, head, sizeof head);
      if (n < 0)
        n = 0;
      r = parse_shebang ((const char *) head, (size_t) n, &interp, &arg);
      if (r == 0)
        {
          if (round == 0)
            describe_script (c, name, interp, arg);
          if (check_program (c, "interpreter", name, interp, &st) < 0)
            return;
          add_check (c, "interpreter", true, "%s starts with #!%s%s%s; %s is executable", file, interp,
                     arg ? " " : "", arg ? arg : "", interp);
          free (file);
          file = steal_pointer (&interp);
          continue;
        }
      if (r < 0)
        {
          add_check (c, "format", false, "%s has a #! line without an interpreter the kernel can read", file);
          fail (c, "exec", "exec %s: exec format error", name);
          return;
        }
      r = elf_interp (c, file, head, (size_t) n, &interp);
      if (r > 0 || r < 0)
        {
          add_check (c, "format", false, "%s is %s", file, r > 0 ? "neither an ELF binary nor a #! script" : "a malformed ELF file");
          fail (c, "exec", "exec %s: exec format error", name);
          return;
        }
      if (interp == NULL)
        {
          add_check (c, "format", true, "%s is a static ELF binary", file);
          return;
        }
      if (check_program (c, "loader", name, interp, &st) < 0)
        return;
      add_check (c, "loader", true, "%s is a dynamic ELF binary; its loader %s is in the image", file, interp);
      return;
    }
}

int
startcheck_run (int rootfd, const struct startcheck_in *in, json_t **out, bale_error_t *err)
{
  struct ctx c = { .rootfd = rootfd, .in = in };
  struct stat st;

  (void) err;
  c.workdir = in->workdir && *in->workdir ? in->workdir : "/";
  c.out = json_object ();
  c.checks = json_array ();
  json_object_set_new (c.out, "checks", c.checks);
  json_object_set_new (c.out, "outcome", json_string ("starts"));
  json_object_set_new (c.out, "stage", json_null ());
  json_object_set_new (c.out, "error", json_null ());
  json_object_set_new (c.out, "exit_status", json_null ());
  json_object_set_new (c.out, "resolved", json_null ());
  if (in->n_argv == 0)
    fail (&c, "create", "No command specified");
  else if (check_workdir (&c) == 0 && check_user (&c) == 0)
    {
      cleanup_free char *name = look_path (&c, &st);

      if (name)
        json_object_set_new (c.out, "resolved", json_string (name));
      if (name && check_permission (&c, name, &st) == 0)
        check_exec (&c, name, &st);
    }
  sandbox_user_release (&c.user);
  *out = c.out;
  return 0;
}
