/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bale_diff (include/bale/image.h) through the shared library and <bale.h> alone, as an
 * embedder calls it (tests/cli/api_diff.sh):
 *   api_diff equal STORE A B            A and B are equal: 0, "" and "[]"
 *   api_diff differ STORE A B LINE      they differ: LINE is one of the text lines, the JSON
 *                                       holds as many differences as the count
 *   api_diff timestamps STORE A B       A and B differ only in time: only `created` and
 *                                       mtime lines, and nothing with the flag
 *   api_diff archive ARCHIVE            ARCHIVE (docker-archive:/oci-archive:) against itself
 *                                       with no store at all
 *   api_diff errors STORE NAME ARCHIVE  bad options, a missing image, a store name with no
 *                                       store; the store's names are the same afterwards
 * Exit 0 when it holds; the reason on stderr otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bale.h"

static int failures;

#define EXPECT(cond)                                                                           \
  do                                                                                           \
    {                                                                                          \
      if (!(cond))                                                                             \
        {                                                                                      \
          fprintf (stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                 \
          failures++;                                                                          \
        }                                                                                      \
    }                                                                                          \
  while (0)

static void
fail_on (bale_error_t *err)
{
  for (struct bale_error_s *e = *err; e; e = e->next)
    fprintf (stderr, "error: %s\n", e->msg);
  bale_error_release (err);
  exit (1);
}

static bale_store *
open_store (const char *path)
{
  bale_error_t err = NULL;
  bale_store *s = NULL;

  if (bale_store_open (path, &s, &err) < 0)
    fail_on (&err);
  return s;
}

/* bale_diff with both outputs; exits on an error. */
static int
diff (bale_store *s, const char *a, const char *b, unsigned flags, char **text, char **json)
{
  struct bale_diff_options o = BALE_DIFF_OPTIONS_INIT;
  bale_error_t err = NULL;
  int n;

  o.flags = flags;
  n = bale_diff (s, a, b, &o, text, json, &err);
  if (n < 0)
    fail_on (&err);
  EXPECT (err == NULL);
  return n;
}

/* How many times needle occurs in hay. */
static int
count (const char *hay, const char *needle)
{
  int n = 0;

  for (const char *p = hay; (p = strstr (p, needle)); p += strlen (needle))
    n++;
  return n;
}

static void
equal (bale_store *s, const char *a, const char *b)
{
  bale_error_t err = NULL;
  char *text = NULL, *json = NULL;

  EXPECT (diff (s, a, b, 0, &text, &json) == 0);
  EXPECT (text && strcmp (text, "") == 0);
  EXPECT (json && strcmp (json, "[]") == 0);
  free (text);
  free (json);
  /* Either output may be left out; o NULL is the defaults. */
  EXPECT (bale_diff (s, a, b, NULL, NULL, NULL, &err) == 0 && !err);
  bale_error_release (&err);
}

static void
differ (bale_store *s, const char *a, const char *b, const char *line)
{
  char *text = NULL, *json = NULL, *want = NULL;
  int n = diff (s, a, b, 0, &text, &json);

  EXPECT (n > 0);
  EXPECT (count (text, "\n") == n);
  want = malloc (strlen (line) + 3);
  sprintf (want, "\n%s\n", line);
  /* A whole line: at the start of the text or after a newline. */
  EXPECT (strncmp (text, want + 1, strlen (want + 1)) == 0 || strstr (text, want));
  EXPECT (json[0] == '[' && count (json, "\"kind\":") == n);
  /* The other way round: as many differences. */
  EXPECT (diff (s, b, a, 0, NULL, NULL) == n);
  free (want);
  free (text);
  free (json);
}

static void
timestamps (bale_store *s, const char *a, const char *b)
{
  char *text = NULL;
  int n = diff (s, a, b, 0, &text, NULL);

  EXPECT (n > 0);
  EXPECT (count (text, " created: ") + count (text, ": mtime ") == n);
  EXPECT (diff (s, a, b, BALE_DIFF_IGNORE_TIMESTAMPS, NULL, NULL) == 0);
  free (text);
}

static void
archive (const char *path)
{
  EXPECT (diff (NULL, path, path, 0, NULL, NULL) == 0);
}

/* The names of the store, one string. */
static char *
names (bale_store *s)
{
  bale_error_t err = NULL;
  struct bale_image *im = NULL;
  size_t n = 0, len = 1;
  char *all;

  if (bale_images_list (s, &im, &n, &err) < 0)
    fail_on (&err);
  for (size_t i = 0; i < n; i++)
    len += strlen (im[i].name) + strlen (im[i].digest) + 2;
  all = calloc (1, len);
  for (size_t i = 0; i < n; i++)
    {
      strcat (strcat (all, im[i].name), " ");
      strcat (strcat (all, im[i].digest), "\n");
    }
  bale_images_free (im, n);
  return all;
}

static void
errors (bale_store *s, const char *name, const char *arch)
{
  struct bale_diff_options o = BALE_DIFF_OPTIONS_INIT;
  bale_error_t err = NULL;
  char *text = NULL, *before = names (s), *after;

  /* Options of another size, or flags this library does not know. */
  o.struct_size = 0;
  EXPECT (bale_diff (s, name, name, &o, &text, NULL, &err) < 0 && err && err->status == EINVAL);
  bale_error_release (&err);
  o = (struct bale_diff_options) BALE_DIFF_OPTIONS_INIT;
  o.flags = 1u << 7;
  EXPECT (bale_diff (s, name, name, &o, &text, NULL, &err) < 0 && err && err->status == EINVAL);
  bale_error_release (&err);
  /* A missing image: the error names the operand. */
  EXPECT (bale_diff (s, name, "no/such:image", NULL, &text, NULL, &err) < 0 && err
          && strstr (err->msg, "image 'no/such:image'"));
  bale_error_release (&err);
  /* A name of a store, with none given. */
  EXPECT (bale_diff (NULL, arch, name, NULL, &text, NULL, &err) < 0 && err
          && err->status == ENXIO && strstr (err->msg, name));
  bale_error_release (&err);
  /* A bad platform fails for a store image. */
  o = (struct bale_diff_options) BALE_DIFF_OPTIONS_INIT;
  o.platform = "not a platform";
  EXPECT (bale_diff (s, name, name, &o, &text, NULL, &err) < 0 && err);
  bale_error_release (&err);
  EXPECT (text == NULL);
  /* An archive is read in a store of its own: this one keeps its names. */
  EXPECT (diff (s, arch, name, 0, NULL, NULL) == 0);
  after = names (s);
  EXPECT (strcmp (before, after) == 0);
  free (before);
  free (after);
}

int
main (int argc, char **argv)
{
  bale_store *s = NULL;

  if (argc >= 3 && strcmp (argv[1], "archive") == 0)
    archive (argv[2]);
  else if (argc == 5 && strcmp (argv[1], "equal") == 0)
    equal (s = open_store (argv[2]), argv[3], argv[4]);
  else if (argc == 6 && strcmp (argv[1], "differ") == 0)
    differ (s = open_store (argv[2]), argv[3], argv[4], argv[5]);
  else if (argc == 5 && strcmp (argv[1], "timestamps") == 0)
    timestamps (s = open_store (argv[2]), argv[3], argv[4]);
  else if (argc == 5 && strcmp (argv[1], "errors") == 0)
    errors (s = open_store (argv[2]), argv[3], argv[4]);
  else
    {
      fprintf (stderr, "usage: api_diff equal|differ|timestamps|archive|errors ...\n");
      return 2;
    }
  bale_store_close (s);
  return failures ? 1 : 0;
}
