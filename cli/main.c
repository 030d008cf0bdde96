/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bale command: global options, the subcommand table, and the one place errors are printed. */
#include <config.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/error.h"
#include "runtime/rootless.h"
#include "runtime/store.h"
#include "common/banned.h"

struct subcommand
{
  const char *name;
  int (*fn) (int argc, char **argv, struct cli_global *g, bale_error_t *err);
  const char *summary;
};

static const struct subcommand subcommands[] = {
  { "build", bale_cmd_build, "build an image from a Dockerfile" },
  { "run", bale_cmd_run, "run an image of the store, as docker run does" },
  { "explain", bale_cmd_explain, "show what `docker run IMAGE ARGS` executes, and why" },
  { "parse", bale_cmd_parse, "parse a Dockerfile and print its syntax tree" },
  { "plan", bale_cmd_plan, "show what each instruction will do, after expansion" },
  { "lint", bale_cmd_lint, "run BuildKit's build checks on a Dockerfile" },
  { "load", bale_cmd_load, "import a docker-archive, OCI archive or OCI layout into the store" },
  { "save", bale_cmd_save, "write images of the store as a docker-archive" },
  { "images", bale_cmd_images, "list the images of the store" },
  { "tag", bale_cmd_tag, "give an image another name" },
  { "rmi", bale_cmd_rmi, "remove names, and the blobs no other name needs" },
  { "inspect", bale_cmd_inspect, "print details of images as JSON" },
  { "prune", bale_cmd_prune, "remove untagged images and unreferenced blobs" },
  { "diff", bale_cmd_diff, "show every difference between two images" },
  { "pull", bale_cmd_pull, "fetch an image from a registry into the store" },
  { "push", bale_cmd_push, "upload an image of the store to a registry" },
  { "login", bale_cmd_login, "record credentials for a registry" },
  { "logout", bale_cmd_logout, "remove the credentials of a registry" },
};

static void
usage (FILE *f)
{
  size_t i;

  fputs ("usage: bale [--store DIR] COMMAND [OPTIONS]\n\ncommands:\n", f);
  for (i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    fprintf (f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
  fputs ("\nRun 'bale COMMAND --help' for a command's options.\n", f);
}

void
cli_print_diagnostics (bale_error_t chain)
{
  const struct bale_error_s *e;

  for (e = chain; e; e = e->next)
    {
      char *text = bale_error_format (e);
      fprintf (stderr, "%s\n", text);
      free (text);
    }
}

void
cli_print_warnings (bale_error_t chain)
{
  struct bale_error_s *e;

  for (e = chain; e; e = e->next)
    e->severity = BALE_SEVERITY_WARNING;
  cli_print_diagnostics (chain);
}

/* Commands that never touch the store or a sandbox need no user namespace. */
static bool
needs_userns (const char *name)
{
  static const char *const plain[] = { "parse", "plan", "login", "logout" };

  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    if (strcmp (name, plain[i]) == 0)
      return false;
  return true;
}

static int
parse_global (int argc, char **argv, struct cli_global *g)
{
  static const struct option opts[] = {
    { "store", required_argument, NULL, 's' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  /* '+' stops at the subcommand: its options are its own. */
  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 's': g->store = optarg; break;
      case 'h': usage (stdout); exit (0);
      case 'V': printf ("bale %s\n", bale_version ()); exit (0);
      default: usage (stderr); exit (2);
      }
  return optind;
}

int
main (int argc, char **argv)
{
  struct cli_global g = { 0 };
  bale_error_t err = NULL;
  int first, ret;
  size_t i;

  g.store = getenv ("BALE_STORE");
  first = parse_global (argc, argv, &g);
  if (first >= argc)
    {
      usage (stderr);
      return 2;
    }
  for (i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (strcmp (argv[first], subcommands[i].name) == 0)
      break;
  if (i == sizeof subcommands / sizeof subcommands[0])
    {
      fprintf (stderr, "bale: unknown command '%s'\n", argv[first]);
      usage (stderr);
      return 2;
    }
  optind = 0;
  /* First of all, while the process has one thread and nothing open: as an ordinary user,
     become root of a user namespace (runtime/rootless.h). */
  if (needs_userns (argv[first]) && rootless_enter (&err) < 0)
    ret = -1;
  else
    ret = subcommands[i].fn (argc - first, argv + first, &g, &err);
  store_close (g.opened);
  if (ret < 0)
    {
      cli_print_diagnostics (err);
      bale_error_release (&err);
      return g.error_status ? g.error_status : 1;
    }
  /* A subcommand may pass on an exit status (bale run: the command's). */
  return ret > 255 ? 255 : ret;
}
