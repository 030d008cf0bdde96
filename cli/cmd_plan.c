/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale plan`: what each instruction of a Dockerfile will do, after expansion, without building. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/banned.h"

static void
plan_usage (FILE *f)
{
  fputs ("usage: bale plan [OPTIONS] [-f FILE] [--target STAGE] [--build-arg K[=V]]... [--platform P]\n"
         "                           [--format text|json] [--all] [CONTEXT]\n"
         "  -f, --file FILE      the Dockerfile (default CONTEXT/Dockerfile)\n"
         "  --target STAGE       plan up to this stage (default: the last one)\n"
         "  --build-arg K[=V]    set a build argument; a bare K takes $K from the environment\n"
         "  --platform P         the target platform (default: the host)\n"
         "  --format FORMAT      text (default) or json\n"
         "  --all                also show stages the target does not need\n"
         "  --check              also run the build checks (as bale lint)\n" CLI_HELP_USAGE
         "The options of bale build's RUN steps, shown as the plan would use them:\n"
         CLI_RUNOPTS_USAGE,
         f);
}

struct plan_cli
{
  const char *format;
  bool all;
};

static int
plan_option (void *ctx, int c, const char *arg, bale_error_t *err)
{
  struct plan_cli *pc = ctx;

  (void) err;
  if (c == 'F')
    pc->format = arg;
  else
    pc->all = true;
  return 0;
}

int
bale_cmd_plan (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const struct option opts[] = {
    CLI_PLANOPTS_LONG,
    { "format", required_argument, NULL, 'F' },
    { "all", no_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct plan_cli pc = { .format = "text" };
  struct cli_planopts po = { 0 };
  bale_plan *plan = NULL;
  char *text;
  int ret = -1;

  if (cli_planopts_parse (argc, argv, "plan", opts, plan_usage, plan_option, &pc, &po, err) < 0)
    goto out;
  if (strcmp (pc.format, "text") != 0 && strcmp (pc.format, "json") != 0)
    cli_usage_fail ("plan", "unknown format '%s' (want text or json)", pc.format);
  if (cli_plan_store (g, &po.o.store) < 0 || bale_plan_new (&po.o, &plan, err) < 0)
    goto out;
  cli_print_diagnostics (bale_plan_warnings (plan));
  if (strcmp (pc.format, "json") == 0)
    {
      text = bale_plan_to_json (plan, pc.all);
      puts (text);
    }
  else
    {
      text = bale_plan_to_text (plan, pc.all);
      fputs (text, stdout);
    }
  free (text);
  ret = 0;
out:
  bale_plan_free (plan);
  bale_store_close (po.o.store);
  cli_planopts_release (&po);
  return ret;
}
