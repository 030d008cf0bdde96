/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * chmod(1)'s symbolic modes for COPY/ADD --chmod (copy_mode.h): the clause grammar and the
 * per-entry application of BSD's setmode(3)/getmode(3), which BuildKit uses through fsutil.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "runtime/build/copy_mode.h"
#include "common/banned.h"

enum
{
  CM_CLEAR = 1,
  CM_SET = 2,
  CM_UBITS = 4,
  CM_GBITS = 8,
  CM_OBITS = 16,
};

#define STANDARD_BITS ((mode_t) 06777) /* set-id and rwx of all; not the sticky bit */
#define DAEMON_UMASK ((mode_t) 022)

static void
push (struct copy_mode *m, char cmd, unsigned char flags, mode_t bits)
{
  m->cmds = xrealloc (m->cmds, (m->n + 1) * sizeof *m->cmds);
  m->cmds[m->n++] = (struct copy_mode_cmd){ .cmd = cmd, .flags = flags, .bits = bits };
}

/* setmode's addcmd: op is + - = X, or u g o with arg the operator they copy with. */
static void
addcmd (struct copy_mode *m, char op, mode_t who, int arg, mode_t mask)
{
  unsigned char flags = 0;

  switch (op)
    {
    case '=':
      push (m, '-', 0, who ? who : STANDARD_BITS);
      op = '+';
      /* fall through */
    case '+':
    case '-':
    case 'X':
      push (m, op, 0, (who ? who : mask) & (mode_t) arg);
      return;
    default: /* u, g, o */
      if (who)
        flags = (who & S_IRUSR ? CM_UBITS : 0) | (who & S_IRGRP ? CM_GBITS : 0) | (who & S_IROTH ? CM_OBITS : 0);
      else
        flags = CM_UBITS | CM_GBITS | CM_OBITS;
      flags |= arg == '+' ? CM_SET : arg == '-' ? CM_CLEAR : CM_SET | CM_CLEAR;
      push (m, op, flags, who ? (mode_t) ~0 : mask);
      return;
    }
}

int
copy_mode_parse (const char *spec, struct copy_mode *out, bale_error_t *err)
{
  const char *s = spec;
  mode_t mask = ~DAEMON_UMASK;
  struct copy_mode m = { 0 };

  if (!*s)
    goto bad;
  for (;;)
    {
      mode_t who = 0, perm, permx;
      bool equal_done = false;
      char op;
      for (;; s++)
        {
          if (*s == 'a')
            who |= STANDARD_BITS;
          else if (*s == 'u')
            who |= S_ISUID | S_IRWXU;
          else if (*s == 'g')
            who |= S_ISGID | S_IRWXG;
          else if (*s == 'o')
            who |= S_IRWXO;
          else
            break;
        }
    getop:
      op = *s;
      if (op != '+' && op != '-' && op != '=')
        goto bad;
      s++;
      if (op == '=')
        equal_done = false;
      who &= ~(mode_t) S_ISVTX;
      for (perm = 0, permx = 0;; s++)
        {
          char b = *s;
          if (b == 'r')
            perm |= S_IRUSR | S_IRGRP | S_IROTH;
          else if (b == 'w')
            perm |= S_IWUSR | S_IWGRP | S_IWOTH;
          else if (b == 'x')
            perm |= S_IXUSR | S_IXGRP | S_IXOTH;
          else if (b == 'X')
            permx = op == '+' ? S_IXUSR | S_IXGRP | S_IXOTH : permx;
          else if (b == 's')
            perm |= (who == 0 || (who & ~(mode_t) S_IRWXO)) ? S_ISUID | S_ISGID : 0;
          else if (b == 't')
            {
              if (who == 0 || (who & ~(mode_t) S_IRWXO))
                {
                  who |= S_ISVTX;
                  perm |= S_ISVTX;
                }
            }
          else if (b == 'u' || b == 'g' || b == 'o')
            {
              if (perm)
                addcmd (&m, op, who, (int) perm, mask);
              perm = 0;
              if (op == '=')
                equal_done = true;
              if (permx)
                addcmd (&m, 'X', who, (int) permx, mask);
              permx = 0;
              addcmd (&m, b, who, op, mask);
            }
          else
            {
              if (perm || (op == '=' && !equal_done))
                {
                  if (op == '=')
                    equal_done = true;
                  addcmd (&m, op, who, (int) perm, mask);
                }
              if (permx)
                addcmd (&m, 'X', who, (int) permx, mask);
              break;
            }
        }
      if (!*s)
        break;
      if (*s != ',')
        goto getop;
      s++;
    }
  *out = m;
  return 0;
bad:
  free (m.cmds);
  return bale_make_error (err, EINVAL, "--chmod=%s: invalid mode (octal, or chmod's symbolic form)", spec);
}

static void
copy_class (const struct copy_mode_cmd *c, mode_t value, mode_t *mode)
{
  if (c->flags & CM_CLEAR)
    {
      mode_t clr = (c->flags & CM_SET) ? S_IRWXO : value;
      if (c->flags & CM_UBITS)
        *mode &= ~((clr << 6) & c->bits);
      if (c->flags & CM_GBITS)
        *mode &= ~((clr << 3) & c->bits);
      if (c->flags & CM_OBITS)
        *mode &= ~(clr & c->bits);
    }
  if (c->flags & CM_SET)
    {
      if (c->flags & CM_UBITS)
        *mode |= (value << 6) & c->bits;
      if (c->flags & CM_GBITS)
        *mode |= (value << 3) & c->bits;
      if (c->flags & CM_OBITS)
        *mode |= value & c->bits;
    }
}

mode_t
copy_mode_apply (const struct copy_mode *m, mode_t perm, bool is_dir)
{
  mode_t old = perm & 07777, mode = old;
  size_t i;

  for (i = 0; i < m->n; i++)
    {
      const struct copy_mode_cmd *c = &m->cmds[i];
      switch (c->cmd)
        {
        case '+': mode |= c->bits; break;
        case '-': mode &= ~c->bits; break;
        case 'X':
          if ((old & (S_IXUSR | S_IXGRP | S_IXOTH)) || is_dir)
            mode |= c->bits;
          break;
        case 'u': copy_class (c, (mode & S_IRWXU) >> 6, &mode); break;
        case 'g': copy_class (c, (mode & S_IRWXG) >> 3, &mode); break;
        default: copy_class (c, mode & S_IRWXO, &mode); break;
        }
    }
  return mode & 07777;
}

void
copy_mode_release (struct copy_mode *m)
{
  free (m->cmds);
  m->cmds = NULL;
  m->n = 0;
}
