/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker's --format (cli/command/formatter/formatter.go) for list commands: a Go template per
   row, a header row and tabwriter columns for "table …", JSON lines for "json". */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/apicmd.h"
#include "cli/gotemplate.h"
#include "cli/table.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* What the rows say comes from images (labels, history, names): on a terminal, shown as text
   (cli_shown_text, cli/main.c). */
void
cli_print_shown (const char *text)
{
  cli_fprint_shown (stdout, text);
}

/* Go's tabwriter measures cells in runes: count the bytes that start a UTF-8 sequence. */
static size_t
display_width (const char *s, size_t n)
{
  size_t w = 0, i;

  for (i = 0; i < n; i++)
    w += ((unsigned char) s[i] & 0xc0) != 0x80;
  return w;
}

/* tabwriter.NewWriter (out, 10, 1, 3, ' ', 0): every tab-terminated cell of a column padded to
   the widest cell of that column plus 3, at least 10; the text after the last tab as it is. */
static void
print_aligned (const char *text)
{
  size_t widths[64] = { 0 }, col;
  const char *line, *p;

  for (line = text; *line; line = *p ? p + 1 : p)
    for (p = line, col = 0; *p && *p != '\n'; p++)
      {
        const char *tab = p;

        while (*tab && *tab != '\t' && *tab != '\n')
          tab++;
        if (*tab == '\t' && col < 64)
          {
            size_t w = display_width (p, (size_t) (tab - p)) + 3;

            if (w > widths[col])
              widths[col] = w < 10 ? 10 : w;
            col++;
          }
        p = tab;
        if (*p != '\t')
          break;
      }
  for (line = text; *line;)
    {
      for (col = 0;; col++)
        {
          size_t n = strcspn (line, "\t\n");

          fwrite (line, 1, n, stdout);
          line += n;
          if (*line != '\t')
            break;
          if (col < 64)
            printf ("%*s", (int) (widths[col] - display_width (line - n, n)), "");
          line++;
        }
      if (*line == '\n')
        putchar ('\n'), line++;
    }
}

/* docker's preFormat: trimmed, with \t and \n spelled out turned into the characters. */
static char *
unescape_format (const char *format)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  const char *p = format;
  size_t n = strlen (format);

  while (*p == ' ')
    p++, n--;
  while (n > 0 && p[n - 1] == ' ')
    n--;
  for (size_t i = 0; i < n; i++)
    if (p[i] == '\\' && i + 1 < n && (p[i + 1] == 't' || p[i + 1] == 'n'))
      strbuf_addch (&sb, p[++i] == 't' ? '\t' : '\n');
    else
      strbuf_addch (&sb, p[i]);
  return strbuf_detach (&sb, NULL);
}

int
cli_format_rows (const char *format, const char *default_table, json_t *rows, json_t *headers,
                 bale_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_strbuf struct strbuf out = STRBUF_INIT;
  struct gotemplate *t = NULL;
  const char *body;
  bool table;
  size_t i;
  int ret = 0;

  if (format == NULL || *format == 0 || strcmp (format, "table") == 0)
    format = default_table;
  if (strcmp (format, "json") == 0)
    format = "{{json .}}";
  text = unescape_format (format);
  table = strncmp (text, "table", 5) == 0 && (text[5] == ' ' || text[5] == 0);
  body = table ? text + 5 + (text[5] == ' ') : text;
  if (gotemplate_parse (body, &t, err) < 0)
    return -1;
  if (table)
    {
      ret = gotemplate_exec (t, headers, true, &out, err);
      strbuf_addch (&out, '\n');
    }
  for (i = 0; ret == 0 && i < json_array_size (rows); i++)
    {
      ret = gotemplate_exec (t, json_array_get (rows, i), false, &out, err);
      strbuf_addch (&out, '\n');
    }
  gotemplate_free (t);
  if (ret < 0)
    return -1;
  cli_shown_text (&out, STDOUT_FILENO);
  if (table)
    print_aligned (out.buf);
  else
    fwrite (out.buf, 1, out.len, stdout);
  return 0;
}

int
cli_format_objects (const char *format, json_t *objects, bale_error_t *err)
{
  cleanup_strbuf struct strbuf out = STRBUF_INIT;
  struct gotemplate *t = NULL;
  size_t i;
  int ret = 0;

  /* docker inspect hands the template to text/template as it is: no \t unescaping. */
  if (gotemplate_parse (format, &t, err) < 0)
    return -1;
  for (i = 0; ret == 0 && i < json_array_size (objects); i++)
    {
      ret = gotemplate_exec (t, json_array_get (objects, i), false, &out, err);
      strbuf_addch (&out, '\n');
    }
  gotemplate_free (t);
  cli_shown_text (&out, STDOUT_FILENO);
  if (ret == 0)
    fwrite (out.buf, 1, out.len, stdout);
  return ret;
}
