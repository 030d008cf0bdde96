/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data-driven parser tests: tests/data/parse/NAME.test (format documented in tests/data/parse/README.md).
 * Each case is a Dockerfile, a mode line and the expected output; every case is one cmocka
 * test named FILE:LINE:NAME so a failure points at its source.
 */
#include <config.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bale.h"
#include "tests/run_data.h"
#include "tests/testutil.h"
#include "common/strbuf.h"
#include "common/xalloc.h"


static void
render_heredocs (struct strbuf *sb, const struct bale_dockerfile *df)
{
  size_t i, j;

  for (i = 0; i < df->n_nodes; i++)
    for (j = 0; j < df->nodes[i].n_heredocs; j++)
      {
        const struct bale_heredoc *h = &df->nodes[i].heredocs[j];
        strbuf_addf (sb, "%s expand=%d chomp=%d fd=%u lines=%d-%d content=", h->name, h->expand,
                     h->chomp, h->fd, h->span.line, h->span.end_line);
        strbuf_add_goquote (sb, h->content, h->content_len);
        strbuf_addch (sb, '\n');
      }
}

static void
render_span (struct strbuf *sb, const struct bale_span *s)
{
  strbuf_addf (sb, "%d:%d-%d:%d", s->line, s->col, s->end_line, s->end_col);
}

static void
render_spans (struct strbuf *sb, const struct bale_node *n, const char *indent)
{
  size_t i;

  strbuf_addf (sb, "%s%s ", indent, n->keyword);
  render_span (sb, &n->span);
  for (i = 0; i < n->n_flags; i++)
    {
      strbuf_addf (sb, " %s@", n->flags[i].raw);
      render_span (sb, &n->flags[i].span);
    }
  for (i = 0; i < n->n_args; i++)
    {
      strbuf_addch (sb, ' ');
      strbuf_add_goquote (sb, n->args[i].value, n->args[i].len);
      strbuf_addch (sb, '@');
      render_span (sb, &n->args[i].span);
    }
  strbuf_addch (sb, '\n');
  if (n->sub)
    render_spans (sb, n->sub, "  ");
}

/* Run a case and render what the mode compares. Returns false when the parse result was not
   the expected success or failure. */
static bool
run_case (const struct data_case *c, struct strbuf *out)
{
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;
  bool checked = strcmp (c->mode, "DUMP") && strcmp (c->mode, "RAWFAIL") && strcmp (c->mode, "HEREDOC");
  bool want_fail = strncmp (c->mode, "FAIL", 4) == 0 || strcmp (c->mode, "RAWFAIL") == 0;
  int r = checked ? bale_parse_checked ("Dockerfile", c->input.buf, c->input.len, &df, &err)
                  : bale_parse ("Dockerfile", c->input.buf, c->input.len, &df, &err);
  char *t;
  size_t i;

  t = r < 0 ? test_format_errors (err) : NULL;
  if ((r < 0) != want_fail)
    {
      strbuf_addf (out, "unexpected %s\n%s", r < 0 ? "failure" : "success", t ? t : "");
      free (t);
      bale_error_release (&err);
      bale_dockerfile_free (df);
      return false;
    }
  if (r < 0)
    strbuf_addstr (out, t);
  else if (strcmp (c->mode, "HEREDOC") == 0)
    render_heredocs (out, df);
  else if (strcmp (c->mode, "WARN") == 0)
    {
      free (t);
      t = test_format_errors (df->warnings);
      strbuf_addstr (out, t);
    }
  else if (strcmp (c->mode, "SPANS") == 0)
    for (i = 0; i < df->n_nodes; i++)
      render_spans (out, &df->nodes[i], "");
  else
    {
      free (t);
      t = bale_dump (df);
      strbuf_addstr (out, t);
    }
  free (t);
  bale_error_release (&err);
  bale_dockerfile_free (df);
  return true;
}

static void
test_case (void **state)
{
  struct data_case *c = *state;
  struct strbuf out = STRBUF_INIT;
  bool ok = data_is_plan_mode (c->mode) ? data_run_plan_case (c, &out) : run_case (c, &out);

  if (!ok)
    test_fail ("%s: %s", c->name, out.buf);
  if (strcmp (c->mode, "CONFIG") == 0)
    {
      char *want = data_normalize_json (c->expect.buf);
      strbuf_reset (&c->expect);
      strbuf_addstr (&c->expect, want);
      strbuf_addch (&c->expect, '\n');
      free (want);
    }
  if (strcmp (c->mode, "FAIL IGNORE MSG") != 0 && strcmp (c->mode, "RAWFAIL") != 0)
    {
      if (strcmp (out.buf, c->expect.buf) != 0)
        test_fail ("%s\n--- expected\n%s--- got\n%s", c->name, c->expect.buf, out.buf);
    }
  strbuf_release (&out);
}

/* ---- reading .test files ------------------------------------------------------------------- */

static bool
is_mode (const char *line)
{
  static const char *const modes[] = { "DUMP", "CHECK", "FAIL", "FAIL IGNORE MSG", "RAWFAIL",
                                       "HEREDOC", "WARN", "SPANS" };
  size_t i;

  for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp (line, modes[i]) == 0)
      return true;
  return data_is_plan_mode (line);
}

static size_t
parse_file (const char *path, const char *base, struct data_case **cases, size_t n)
{
  size_t len = 0, lineno = 0;
  char *text = test_read_file (path, &len), *p, *nl;
  struct data_case *c = NULL;
  int part = 0; /* 0 outside, 1 input, 2 expected, 3 an %%IMAGE config */

  if (text == NULL)
    test_fail ("cannot read %s", path);
  for (p = text; p < text + len; p = nl + 1)
    {
      nl = memchr (p, '\n', (size_t) (text + len - p));
      if (nl == NULL)
        nl = text + len;
      *nl = '\0';
      lineno++;
      if (part == 0 && strncmp (p, "%%TEST ", 7) == 0)
        {
          *cases = xrealloc (*cases, (n + 1) * sizeof **cases);
          c = &(*cases)[n++];
          memset (c, 0, sizeof *c);
          c->name = xasprintf ("%s:%zu:%s", base, lineno, p + 7);
          strbuf_init (&c->input);
          strbuf_init (&c->expect);
          part = 1;
        }
      else if (part == 1 && strncmp (p, "%%", 2) == 0 && is_mode (p + 2))
        c->mode = xstrdup (p + 2), part = 2;
      else if (part == 1 && strncmp (p, "%%OPTS ", 7) == 0)
        {
          char *w, *save = p + 7;
          while ((w = strsep (&save, " ")) != NULL)
            if (*w)
              {
                c->opts = xrealloc (c->opts, (c->n_opts + 1) * sizeof *c->opts);
                c->opts[c->n_opts++] = xstrdup (w);
              }
        }
      else if (part == 1 && strncmp (p, "%%IMAGE ", 8) == 0)
        {
          struct data_image *im;
          c->images = xrealloc (c->images, (c->n_images + 1) * sizeof *c->images);
          im = &c->images[c->n_images++];
          im->ref = xstrdup (p + 8);
          strbuf_init (&im->config);
          part = 3;
        }
      else if (part == 3 && strcmp (p, "%%ENDIMAGE") == 0)
        part = 1;
      else if (part == 3)
        strbuf_addstr (&c->images[c->n_images - 1].config, p), strbuf_addch (&c->images[c->n_images - 1].config, '\n');
      else if (part == 1 && strcmp (p, "%%NOEOL") == 0)
        strbuf_setlen (&c->input, c->input.len ? c->input.len - 1 : 0);
      else if (part == 1)
        strbuf_addstr (&c->input, p), strbuf_addch (&c->input, '\n');
      else if (part == 2 && strcmp (p, "%%END") == 0)
        part = 0;
      else if (part == 2)
        strbuf_addstr (&c->expect, p), strbuf_addch (&c->expect, '\n');
      else if (part == 0 && *p && *p != '#')
        test_fail ("%s:%zu: text outside a case", base, lineno);
    }
  if (part != 0)
    test_fail ("%s: unterminated case", base);
  free (text);
  return n;
}

static size_t
parse_dir (const char *rel, struct data_case **cases, size_t n)
{
  char *dir = test_path (rel);
  struct dirent **ents;
  int count = scandir (dir, &ents, NULL, alphasort), i;

  if (count < 0)
    {
      fprintf (stderr, "cannot read %s\n", dir);
      exit (1);
    }
  for (i = 0; i < count; i++)
    {
      size_t l = strlen (ents[i]->d_name);
      if (l > 5 && strcmp (ents[i]->d_name + l - 5, ".test") == 0)
        {
          char *path = xasprintf ("%s/%s", dir, ents[i]->d_name);
          char *base = xasprintf ("%s/%s", strrchr (rel, '/') + 1, ents[i]->d_name);
          n = parse_file (path, base, cases, n);
          free (base);
          free (path);
        }
      free (ents[i]);
    }
  free (ents);
  free (dir);
  return n;
}

int
main (void)
{
  struct data_case *cases = NULL;
  struct CMUnitTest *tests;
  size_t n = 0, k;

  n = parse_dir ("tests/data/parse", &cases, n);
  n = parse_dir ("tests/data/config", &cases, n);
  if (n == 0)
    {
      fprintf (stderr, "no data-driven cases found\n");
      return 1;
    }
  tests = xcalloc (n, sizeof *tests);
  for (k = 0; k < n; k++)
    tests[k] = (struct CMUnitTest){ cases[k].name, test_case, NULL, NULL, &cases[k] };
  return _cmocka_run_group_tests ("data", tests, n, NULL, NULL);
}
