/* SPDX-License-Identifier: GPL-2.0-or-later */
/* BuildKit's Node.Dump(): the S-expression form its parser tests compare against. */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bale.h"
#include "common/strbuf.h"
#include "common/banned.h"

static void dump_node (struct strbuf *sb, const struct bale_node *n);

static void
dump_lower (struct strbuf *sb, const char *s)
{
  for (; *s; s++)
    strbuf_addch (sb, tolower ((unsigned char) *s));
}

/* Go's fmt %q of a []string: ["a" "b"]. */
static void
dump_flags (struct strbuf *sb, const struct bale_node *n)
{
  size_t i;

  strbuf_addstr (sb, " [");
  for (i = 0; i < n->n_flags; i++)
    {
      if (i > 0)
        strbuf_addch (sb, ' ');
      strbuf_add_goquote (sb, n->flags[i].raw, strlen (n->flags[i].raw));
    }
  strbuf_addch (sb, ']');
}

static void
dump_node (struct strbuf *sb, const struct bale_node *n)
{
  size_t i, start = sb->len;

  dump_lower (sb, n->keyword);
  if (n->n_flags > 0)
    dump_flags (sb, n);
  for (i = 0; i < n->n_args; i++)
    {
      strbuf_addch (sb, ' ');
      strbuf_add_goquote (sb, n->args[i].value, n->args[i].len);
    }
  if (n->sub)
    {
      strbuf_addstr (sb, " (");
      dump_node (sb, n->sub);
      strbuf_addch (sb, ')');
    }
  /* strings.TrimSpace of the whole dump: only an empty keyword can leave leading space. */
  if (sb->len > start && sb->buf[start] == ' ')
    {
      memmove (sb->buf + start, sb->buf + start + 1, sb->len - start - 1);
      strbuf_setlen (sb, sb->len - 1);
    }
}

char *
bale_dump (const struct bale_dockerfile *df)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  for (i = 0; i < df->n_nodes; i++)
    {
      strbuf_addch (&sb, '(');
      dump_node (&sb, &df->nodes[i]);
      strbuf_addstr (&sb, ")\n");
    }
  return strbuf_detach (&sb, NULL);
}
