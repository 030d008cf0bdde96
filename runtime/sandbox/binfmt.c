/* SPDX-License-Identifier: GPL-2.0-or-later */
/* binfmt_misc handlers: which platforms this machine runs, natively or under emulation. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "runtime/sandbox/binfmt.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#ifndef BINFMTFS_MAGIC
#define BINFMTFS_MAGIC 0x42494e4d
#endif

/* The ELF identity of a GOARCH: what an executable's first 20 bytes say. */
struct elf_arch
{
  const char *goarch, *qemu;
  unsigned char class64, big_endian;
  unsigned short machine;
};

static const struct elf_arch arches[] = {
  { "amd64", "x86_64", 1, 0, 62 },     { "386", "i386", 0, 0, 3 },
  { "arm64", "aarch64", 1, 0, 183 },   { "arm", "arm", 0, 0, 40 },
  { "riscv64", "riscv64", 1, 0, 243 }, { "ppc64le", "ppc64le", 1, 0, 21 },
  { "s390x", "s390x", 1, 1, 22 },      { "mips64le", "mips64el", 1, 0, 8 },
  { "loong64", "loongarch64", 1, 0, 258 },
};

static const struct elf_arch *
find_arch (const char *goarch)
{
  for (size_t i = 0; goarch && i < sizeof arches / sizeof arches[0]; i++)
    if (strcmp (arches[i].goarch, goarch) == 0)
      return &arches[i];
  return NULL;
}

const char *
binfmt_qemu_arch (const char *arch)
{
  const struct elf_arch *a = find_arch (arch);
  return a ? a->qemu : NULL;
}

/* A small file of /proc or /usr/lib/binfmt.d, NUL-terminated; NULL when it cannot be read. */
static char *
read_text (const char *path, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      if (err)
        bale_make_error (err, errno, "cannot open %s", path);
      return NULL;
    }
  if (fileio_read_fd (fd, path, &sb, err) < 0)
    {
      strbuf_release (&sb);
      return NULL;
    }
  return strbuf_detach (&sb, NULL);
}

static void
elf_header (const struct elf_arch *a, unsigned char h[20])
{
  memset (h, 0, 20);
  memcpy (h, "\177ELF", 4);
  h[4] = a->class64 ? 2 : 1;
  h[5] = a->big_endian ? 2 : 1;
  h[6] = 1;
  /* e_type ET_EXEC, then e_machine, in the file's byte order. */
  h[a->big_endian ? 17 : 16] = 2;
  h[a->big_endian ? 19 : 18] = (unsigned char) (a->machine & 0xff);
  h[a->big_endian ? 18 : 19] = (unsigned char) (a->machine >> 8);
}

static int
unhex (const char *s, unsigned char *out, size_t max)
{
  size_t n = 0;

  while (s[0] && s[1] && s[0] != '\n' && n < max)
    {
      unsigned v;
      if (sscanf (s, "%2x", &v) != 1)
        return -1;
      out[n++] = (unsigned char) v;
      s += 2;
    }
  return (int) n;
}

/* Does the entry (its /proc text) match h? Fills the interpreter and flags when it does. */
static bool
entry_matches (const char *text, const unsigned char h[20], char **interp, char **flags)
{
  unsigned char magic[128], mask[128];
  int n_magic = -1, n_mask = -1;
  long offset = 0;
  bool enabled = strncmp (text, "enabled\n", 8) == 0;
  const char *line;

  *interp = *flags = NULL;
  for (line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    {
      size_t len = strcspn (line, "\n");
      if (strncmp (line, "interpreter ", 12) == 0 && !*interp)
        *interp = xstrndup (line + 12, len - 12);
      else if (strncmp (line, "flags:", 6) == 0 && !*flags)
        {
          const char *f = line + 6;
          while (*f == ' ')
            f++;
          *flags = xstrndup (f, len - (size_t) (f - line));
        }
      else if (strncmp (line, "offset ", 7) == 0)
        offset = strtol (line + 7, NULL, 10);
      else if (strncmp (line, "magic ", 6) == 0)
        n_magic = unhex (line + 6, magic, sizeof magic);
      else if (strncmp (line, "mask ", 5) == 0)
        n_mask = unhex (line + 5, mask, sizeof mask);
    }
  if (!enabled || n_magic <= 0 || offset < 0 || offset + n_magic > 20 || !*interp)
    return false;
  for (int i = 0; i < n_magic; i++)
    {
      unsigned char m = i < n_mask ? mask[i] : 0xff;
      if ((h[offset + i] ^ magic[i]) & m)
        return false;
    }
  if (!*flags)
    *flags = xstrdup ("");
  return true;
}

void
binfmt_handler_release (struct binfmt_handler *h)
{
  free (h->name);
  free (h->interpreter);
  free (h->flags);
  memset (h, 0, sizeof *h);
}

static int
no_handler (const struct bale_platform *pl, const char *why, bale_error_t *err)
{
  cleanup_free char *p = platform_format (pl);
  return bale_make_error (err, 0,
                          "cannot run %s binaries on this machine: %s; install Debian's "
                          "qemu-user-static package (apt-get install qemu-user-static) and "
                          "register it with `bale binfmt --install` (as root)",
                          p, why);
}

int
binfmt_lookup (const char *dir, const struct bale_platform *host, const struct bale_platform *pl,
               struct binfmt_handler *h, bale_error_t *err)
{
  const struct elf_arch *a = find_arch (pl->arch);
  cleanup_dir DIR *d = NULL;
  cleanup_free char *status = NULL, *status_path = xasprintf ("%s/status", dir);
  cleanup_free char *unfixed = NULL;
  unsigned char hdr[20];
  struct dirent *e;

  memset (h, 0, sizeof *h);
  if (strcmp (pl->os, host->os) == 0
      && (strcmp (pl->arch, host->arch) == 0
          || (strcmp (host->arch, "amd64") == 0 && strcmp (pl->arch, "386") == 0)))
    return BINFMT_NATIVE;
  if (strcmp (pl->os, "linux") != 0)
    {
      bale_make_error (err, 0, "cannot run %s binaries: only linux steps run here", pl->os);
      return BINFMT_NONE;
    }
  if (!a)
    {
      no_handler (pl, "bale knows no ELF machine for this architecture", err);
      return BINFMT_NONE;
    }
  elf_header (a, hdr);
  if (!(status = read_text (status_path, NULL)))
    {
      no_handler (pl, "binfmt_misc is not mounted on " BINFMT_MISC_DIR, err);
      return BINFMT_NONE;
    }
  if (strncmp (status, "enabled", 7) != 0)
    {
      no_handler (pl, "binfmt_misc is disabled", err);
      return BINFMT_NONE;
    }
  d = opendir (dir);
  while (d && (e = readdir (d)) != NULL)
    {
      cleanup_free char *path = NULL, *text = NULL, *interp = NULL, *flags = NULL;
      if (e->d_name[0] == '.' || strcmp (e->d_name, "status") == 0 || strcmp (e->d_name, "register") == 0)
        continue;
      path = xasprintf ("%s/%s", dir, e->d_name);
      if (!(text = read_text (path, NULL)) || !entry_matches (text, hdr, &interp, &flags))
        continue;
      if (!strchr (flags, 'F'))
        {
          /* Without F the kernel opens the interpreter inside the step's root. */
          if (!unfixed)
            unfixed = xstrdup (e->d_name);
          continue;
        }
      h->name = xstrdup (e->d_name);
      h->interpreter = interp;
      h->flags = flags;
      interp = flags = NULL;
      return BINFMT_EMULATED;
    }
  if (unfixed)
    {
      cleanup_free char *why = xasprintf ("its binfmt_misc handler %s lacks the F (fix binary) flag, so "
                                          "it cannot run inside a build's root", unfixed);
      no_handler (pl, why, err);
    }
  else
    {
      cleanup_free char *why = xasprintf ("no binfmt_misc handler for %s ELF executables is registered", a->qemu);
      no_handler (pl, why, err);
    }
  return BINFMT_NONE;
}

/* Is dir a mounted binfmt_misc? */
static bool
mounted (const char *dir)
{
  struct statfs sf;
  return statfs (dir, &sf) == 0 && (unsigned long) sf.f_type == (unsigned long) BINFMTFS_MAGIC;
}

int
binfmt_install (const char *dir, const char *confdir, const char *arch, bale_error_t *err)
{
  const char *q = binfmt_qemu_arch (arch);
  cleanup_free char *conf = NULL, *text = NULL, *name = NULL, *entry = NULL, *reg = NULL;
  char *nl;

  if (!q)
    return bale_make_error (err, 0, "binfmt: no emulator known for architecture '%s'", arch);
  conf = xasprintf ("%s/qemu-%s.conf", confdir, q);
  if (!(text = read_text (conf, err)))
    return bale_error_wrap (err, "binfmt: no registration for %s (install Debian's qemu-user-static)", arch);
  if ((nl = strchr (text, '\n')))
    *nl = '\0';
  /* ":name:type:offset:magic:mask:interpreter:flags": the name is the first field. */
  if (text[0] != ':' || !strchr (text + 1, ':'))
    return bale_make_error (err, 0, "binfmt: %s: not a binfmt_misc registration", conf);
  name = xstrndup (text + 1, (size_t) (strchr (text + 1, ':') - text - 1));
  if (!mounted (dir) && mount ("binfmt_misc", dir, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    return bale_make_error (err, errno, "binfmt: cannot mount binfmt_misc on %s", dir);
  entry = xasprintf ("%s/%s", dir, name);
  if (access (entry, F_OK) == 0)
    return 0;
  reg = xasprintf ("%s/register", dir);
  {
    cleanup_close int fd = open (reg, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || fileio_write_all (fd, text, strlen (text)) < 0)
      return bale_make_error (err, errno, "binfmt: cannot register %s through %s", name, reg);
  }
  return 0;
}
