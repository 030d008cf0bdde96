/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale lint`: BuildKit's build checks (`docker build --check`) on a Dockerfile, building nothing. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/buildopts.h"
#include "cli/cli.h"
#include "common/error.h"
#include "common/banned.h"

static void
lint_usage (FILE *f)
{
  fputs ("usage: bale lint [-f FILE] [--target STAGE] [--build-arg K[=V]]... [--platform P] [CONTEXT]\n"
         "  -f, --file FILE      the Dockerfile (default CONTEXT/Dockerfile)\n"
         "  --target STAGE       check only what this stage needs (default: every stage)\n"
         "  --build-arg K[=V]    set a build argument; BUILDKIT_DOCKERFILE_CHECK=... replaces the\n"
         "                       Dockerfile's `# check=` directive\n"
         "  --platform P         the target platform (default: the host)\n"
         "  --check              accepted: lint always runs the checks\n" CLI_HELP_USAGE
         "bale build's options of RUN steps are accepted, so a build's command line lints:\n"
         BUILDOPTS_SANDBOX_USAGE
         "Warnings go to standard error, located; the exit status is 1 when `check=error=true`\n"
         "and a check failed, or when the Dockerfile has errors.\n",
         f);
}

int
bale_cmd_lint (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const struct option opts[] = {
    BUILDOPTS_LONG,
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct buildopts o = { 0 };
  struct bale_dockerfile *df = NULL;
  struct plan *plan = NULL;
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
        case 'h': lint_usage (stdout); buildopts_release (&o); exit (0);
        default: lint_usage (stderr); buildopts_release (&o); exit (2);
        }
    }
  o.check = true;
  if (buildopts_finish (&o, "lint", argc - optind, argv + optind, err) < 0)
    goto out;
  if (buildopts_plan (&o, cli_image_resolver (g), g, true, &df, &plan, err) < 0)
    goto out;
  ret = buildopts_check_report (plan);
out:
  plan_free (plan);
  bale_dockerfile_free (df);
  buildopts_release (&o);
  return ret;
}
