/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The public API of plans and checks (tests/cli/api_plan.sh), through the shared library and
 * include/bale.h alone:
 *   api_plan plan CONTEXT ARG: bale_plan_new with the build arg ARG ("K=V"), prints the plan
 *     as text, then as JSON, then its warnings (bale_error_format) on stderr;
 *   api_plan lint CONTEXT: bale_lint, prints "RULE LINE:COL" per build-check warning and the
 *     count;
 *   api_plan error CONTEXT: a Dockerfile that fails to plan: prints the error's file, line,
 *     column and message as the API returns them.
 * Exit 0 when the call succeeded (error: when it failed as expected); the reason otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/apitest.h"

int
main (int argc, char **argv)
{
  struct bale_plan_options o = BALE_PLAN_OPTIONS_INIT;
  bale_error_t err = NULL, warnings = NULL;
  bale_plan *p = NULL;
  char *text;
  int n;

  if (argc < 3)
    return 2;
  o.context = argv[2];
  if (strcmp (argv[1], "plan") == 0)
    {
      const char *args[] = { argc > 3 ? argv[3] : "X=1" };
      o.build_args = args;
      o.n_build_args = 1;
      if (bale_plan_new (&o, &p, &err) < 0)
        return apitest_fail (NULL, &err);
      text = bale_plan_to_text (p, false);
      fputs (text, stdout);
      free (text);
      text = bale_plan_to_json (p, true);
      puts (text);
      free (text);
      for (const struct bale_error_s *w = bale_plan_warnings (p); w; w = w->next)
        {
          text = bale_error_format (w);
          fprintf (stderr, "%s\n", text);
          free (text);
        }
      printf ("checks %d\n", bale_plan_check_count (p));
      bale_plan_free (p);
      return 0;
    }
  if (strcmp (argv[1], "lint") == 0)
    {
      if ((n = bale_lint (&o, &warnings, &err)) < 0)
        return apitest_fail (NULL, &err);
      for (const struct bale_error_s *w = warnings; w; w = w->next)
        if (bale_check_rule (w))
          printf ("%s %d:%d\n", bale_check_rule (w), w->line, w->col);
      printf ("count %d of %d\n", n, bale_error_count (warnings));
      bale_error_release (&warnings);
      return 0;
    }
  if (strcmp (argv[1], "error") == 0)
    {
      if (bale_plan_new (&o, &p, &err) == 0)
        {
          fprintf (stderr, "planned a bad Dockerfile\n");
          bale_plan_free (p);
          return 1;
        }
      printf ("%s:%d:%d: %s\n", err->file ? err->file : "(none)", err->line, err->col, err->msg);
      bale_error_release (&err);
      return 0;
    }
  return 2;
}
