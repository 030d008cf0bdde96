/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bale_explain and bale_run through the shared library and <bale.h> alone (tests/cli/api_run.sh):
 *   api_run explain STORE IMAGE [ARG...]: bale_explain of IMAGE with the run arguments ARG:
 *     its JSON on stdout (the script reads it with jq); the text form must name the argv;
 *   api_run run STORE IMAGE [ARG...]: bale_run of IMAGE with ARG, its standard output caught
 *     in a file: prints `status=N` then the output;
 *   api_run entrypoint STORE IMAGE EP [ARG...]: the same with --entrypoint EP;
 *   api_run bad STORE IMAGE: bad input to both (no image, an unknown image, a bad network, a
 *     struct without its size, a command the image does not have) fails with a bale_error
 *     that says what is wrong, and docker run's status.
 * Exit 0 when it holds; the reason on stderr otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers/apitest.h"

static int
explain (bale_store *s, const char *image, const char *const *args, size_t n_args)
{
  struct bale_explain_options o = BALE_EXPLAIN_OPTIONS_INIT;
  bale_error_t err = NULL;
  char *json = NULL, *text = NULL;

  o.image = image;
  o.args = args;
  o.n_args = n_args;
  if (bale_explain (s, &o, &json, &text, &err) < 0)
    return apitest_fail ("bale_explain", &err);
  EXPECT (json && text && strstr (text, "runs"));
  fputs (json ? json : "", stdout);
  putchar ('\n');
  free (json);
  free (text);
  return 0;
}

/* bale_run with the command's standard output in a file, printed after its status. */
static int
run (bale_store *s, const char *image, const char *entrypoint, const char *const *args, size_t n_args)
{
  struct bale_run_options o = BALE_RUN_OPTIONS_INIT;
  bale_error_t err = NULL;
  FILE *out = tmpfile ();
  char buf[4096];
  size_t n;
  int status = -1;

  if (!out)
    return 1;
  o.image = image;
  o.entrypoint = entrypoint;
  o.args = args;
  o.n_args = n_args;
  o.stdio[0] = -1;
  o.stdio[1] = fileno (out);
  o.network = "none";
  if (bale_run (s, &o, &status, &err) < 0)
    {
      fprintf (stderr, "status %d\n", status);
      fclose (out);
      return apitest_fail ("bale_run", &err);
    }
  printf ("status=%d\n", status);
  rewind (out);
  while ((n = fread (buf, 1, sizeof buf, out)) > 0)
    fwrite (buf, 1, n, stdout);
  fclose (out);
  return 0;
}

/* call failed with a bale_error whose message contains want. */
#define EXPECT_ERROR(call, want)                                                               \
  do                                                                                           \
    {                                                                                          \
      EXPECT ((call) < 0 && err && err->msg && strstr (err->msg, (want)));                     \
      if (err)                                                                                 \
        fprintf (stderr, "(expected) %s\n", err->msg);                                         \
      bale_error_release (&err);                                                               \
    }                                                                                          \
  while (0)

static void
bad (bale_store *s, const char *image)
{
  struct bale_explain_options eo = BALE_EXPLAIN_OPTIONS_INIT, eo_unsized = { 0 };
  struct bale_run_options ro = BALE_RUN_OPTIONS_INIT, ro_unsized = { 0 };
  const char *argv[] = { "-c", "true" };
  bale_error_t err = NULL;
  char *json = NULL;
  int status = 0;

  /* bale_explain: no image, an image the store lacks, no store, an unsized struct. */
  EXPECT_ERROR (bale_explain (s, &eo, &json, NULL, &err), "name an image");
  eo.image = "no/such:image";
  EXPECT_ERROR (bale_explain (s, &eo, &json, NULL, &err), "no/such");
  eo.image = image;
  EXPECT_ERROR (bale_explain (NULL, &eo, &json, NULL, &err), "store");
  eo_unsized.image = image;
  EXPECT_ERROR (bale_explain (s, &eo_unsized, &json, NULL, &err), "BALE_EXPLAIN_OPTIONS_INIT");
  eo.layout = "/nonexistent/layout";
  EXPECT_ERROR (bale_explain (NULL, &eo, &json, NULL, &err), "/nonexistent/layout");
  EXPECT (json == NULL);

  /* bale_run: the same, a network it does not have, and a command the image lacks: docker
     run's statuses, 125 when bale fails and 127 when the command is not found. */
  ro.stdio[0] = -1;
  EXPECT_ERROR (bale_run (s, &ro, &status, &err), "name an image");
  EXPECT (status == 125);
  ro.image = "no/such:image";
  status = 0;
  EXPECT_ERROR (bale_run (s, &ro, &status, &err), "no/such");
  EXPECT (status == 125);
  ro.image = image;
  ro.network = "bridge";
  EXPECT_ERROR (bale_run (s, &ro, &status, &err), "bridge");
  ro.network = "none";
  ro_unsized.image = image;
  EXPECT_ERROR (bale_run (s, &ro_unsized, &status, &err), "BALE_RUN_OPTIONS_INIT");
  ro.entrypoint = "/no/such/program";
  ro.args = argv;
  ro.n_args = 2;
  status = 0;
  EXPECT_ERROR (bale_run (s, &ro, &status, &err), "/no/such/program");
  EXPECT (status == 127);
}

int
main (int argc, char **argv)
{
  bale_store *s;
  int ret = 2;

  if (argc < 4)
    return 2;
  s = apitest_store (argv[2]);
  if (strcmp (argv[1], "explain") == 0)
    ret = explain (s, argv[3], (const char *const *) argv + 4, (size_t) (argc - 4));
  else if (strcmp (argv[1], "run") == 0)
    ret = run (s, argv[3], NULL, (const char *const *) argv + 4, (size_t) (argc - 4));
  else if (strcmp (argv[1], "entrypoint") == 0 && argc >= 5)
    ret = run (s, argv[3], argv[4], (const char *const *) argv + 5, (size_t) (argc - 5));
  else if (strcmp (argv[1], "bad") == 0)
    {
      bad (s, argv[3]);
      ret = 0;
    }
  bale_store_close (s);
  return ret || apitest_failures ? 1 : 0;
}
