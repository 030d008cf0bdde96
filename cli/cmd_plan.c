/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale plan`: what each instruction of a Dockerfile will do, after expansion, without building. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/buildopts.h"
#include "cli/cli.h"
#include "common/error.h"
#include "common/banned.h"

static void
plan_usage (FILE *f)
{
  fputs ("usage: bale plan [-f FILE] [--target STAGE] [--build-arg K[=V]]... [--platform P]\n"
         "                 [--format text|json] [--all] [CONTEXT]\n"
         "  -f, --file FILE      the Dockerfile (default CONTEXT/Dockerfile)\n"
         "  --target STAGE       plan up to this stage (default: the last one)\n"
         "  --build-arg K[=V]    set a build argument; a bare K takes $K from the environment\n"
         "  --platform P         the target platform (default: the host)\n"
         "  --format FORMAT      text (default) or json\n"
         "  --all                also show stages the target does not need\n"
         "  --check              also run the build checks (as bale lint)\n" CLI_HELP_USAGE
         "The options of bale build's RUN steps, shown as the plan would use them:\n"
         BUILDOPTS_SANDBOX_USAGE,
         f);
}

int
bale_cmd_plan (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const struct option opts[] = {
    BUILDOPTS_LONG,
    { "format", required_argument, NULL, 'F' },
    { "all", no_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct buildopts o = { 0 };
  struct bale_dockerfile *df = NULL;
  struct plan *plan = NULL;
  const char *format = "text";
  bool all = false;
  int c, ret = -1;

  while ((c = getopt_long (argc, argv, "f:h", opts, NULL)) != -1)
    {
      int r = buildopts_option (&o, c, optarg, err);
      if (r < 0)
        goto out;
      if (r > 0)
        continue;
      switch (c)
        {
        case 'F': format = optarg; break;
        case 'a': all = true; break;
        case 'h': plan_usage (stdout); buildopts_release (&o); exit (0);
        default: plan_usage (stderr); buildopts_release (&o); exit (2);
        }
    }
  if (strcmp (format, "text") != 0 && strcmp (format, "json") != 0)
    {
      bale_make_error (err, 0, "plan: unknown format '%s' (want text or json)", format);
      goto out;
    }
  if (buildopts_finish (&o, "plan", argc - optind, argv + optind, err) < 0)
    goto out;
  if (buildopts_plan (&o, cli_image_resolver (g), g, true, &df, &plan, err) < 0)
    goto out;
  if (strcmp (format, "json") == 0)
    {
      json_t *j = plan_to_json (plan, all);
      char *s = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      puts (s);
      free (s);
      json_decref (j);
    }
  else
    {
      char *s = plan_to_text (plan, all);
      fputs (s, stdout);
      free (s);
    }
  ret = 0;
out:
  plan_free (plan);
  bale_dockerfile_free (df);
  buildopts_release (&o);
  return ret;
}
