/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale lint`: BuildKit's build checks (`docker build --check`) on a Dockerfile, building nothing. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/apicmd.h"
#include "common/banned.h"

static void
lint_usage (FILE *f)
{
  fputs ("usage: bale lint [OPTIONS] [-f FILE] [--target STAGE] [--build-arg K[=V]]... [--platform P] [CONTEXT]\n"
         "  -f, --file FILE      the Dockerfile (default CONTEXT/Dockerfile)\n"
         "  --target STAGE       check only what this stage needs (default: every stage)\n"
         "  --build-arg K[=V]    set a build argument; BUILDKIT_DOCKERFILE_CHECK=... replaces the\n"
         "                       Dockerfile's `# check=` directive\n"
         "  --platform P         the target platform (default: the host)\n"
         "  --check              accepted: lint always runs the checks\n" CLI_HELP_USAGE
         "bale build's options of RUN steps are accepted, so a build's command line lints:\n"
         CLI_RUNOPTS_USAGE
         "Warnings go to standard error, located; the exit status is 1 when `check=error=true`\n"
         "and a check failed, or when the Dockerfile has errors.\n",
         f);
}

int
bale_cmd_lint (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const struct option opts[] = {
    CLI_PLANOPTS_LONG,
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct cli_planopts po = { 0 };
  bale_error_t warnings = NULL;
  int n = -1;

  if (cli_planopts_parse (argc, argv, "lint", opts, lint_usage, NULL, NULL, &po, err) == 0
      && cli_plan_store (g, &po.o.store) == 0 && (n = bale_lint (&po.o, &warnings, err)) >= 0)
    {
      cli_print_diagnostics (warnings);
      cli_check_report (n);
    }
  bale_error_release (&warnings);
  bale_store_close (po.o.store);
  cli_planopts_release (&po);
  return n < 0 ? -1 : 0;
}
