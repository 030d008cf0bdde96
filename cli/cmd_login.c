/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale login` and `bale logout`: registry credentials in docker's config.json. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/banned.h"

static void
login_usage (FILE *f)
{
  fputs ("usage: bale login [OPTIONS] [REGISTRY]\n"
         "Check credentials against REGISTRY (default: docker.io) and record them in\n"
         "$DOCKER_CONFIG/config.json (default ~/.docker/config.json), as docker login does.\n"
         "  -u, --username USER      the user name (required)\n"
         "  -p, --password PASSWORD  (visible to other users: prefer --password-stdin)\n"
         "      --password-stdin     read the password from standard input\n" CLI_HELP_USAGE CLI_REGISTRY_USAGE,
         f);
}

static char *
read_password (bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;

  if (fileio_read_fd (0, "standard input", &sb, err) < 0)
    return NULL;
  /* docker login strips the trailing newline (and only that) of --password-stdin. */
  while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
    strbuf_setlen (&sb, sb.len - 1);
  return strbuf_detach (&sb, NULL);
}

struct login_args
{
  const char *user, *password, *registry;
  bool password_stdin;
};

static void
login_args (int argc, char **argv, struct cli_regopts *r, struct login_args *a)
{
  static const struct option opts[] = {
    { "username", required_argument, NULL, 'u' },
    { "password", required_argument, NULL, 'p' },
    { "password-stdin", no_argument, NULL, 'S' },
    { "help", no_argument, NULL, 'h' },
    CLI_REGISTRY_OPTIONS,
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "u:p:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'u': a->user = optarg; break;
      case 'p': a->password = optarg; break;
      case 'S': a->password_stdin = true; break;
      case 'h': login_usage (stdout); exit (0);
      default:
        if (!cli_regopts_option (r, c, optarg))
          cli_usage_error ("login");
      }
  /* No prompt: bale runs in CI, where nobody answers one. */
  if (optind < argc - 1 || a->user == NULL || (a->password == NULL) == !a->password_stdin)
    {
      fprintf (stderr, "bale login: want -u USER, one of -p PASSWORD and --password-stdin, and at most 1 argument\n");
      cli_usage_error ("login");
    }
  a->registry = optind < argc ? argv[optind] : "docker.io";
}

int
bale_cmd_login (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct login_args a = { 0 };
  struct cli_regopts r;
  cleanup_free char *stdin_secret = NULL;
  int ret;

  (void) g;
  cli_regopts_init (&r, true);
  login_args (argc, argv, &r, &a);
  if (a.password_stdin && (stdin_secret = read_password (err)) == NULL)
    ret = -1;
  else
    ret = bale_registry_login (a.registry, a.user, a.password_stdin ? stdin_secret : a.password,
                               &r.o, err);
  if (ret == 0)
    printf ("Login Succeeded\n");
  cli_regopts_release (&r);
  return ret;
}

int
bale_cmd_logout (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const char usage[] = "usage: bale logout [REGISTRY]\n"
                              "Remove the credentials of REGISTRY (default: docker.io).\n";
  int first = cli_simple_args (argc, argv, usage, 0, 1, err);
  const char *registry = first < argc ? argv[first] : "docker.io";
  cleanup_free char *domain = bale_registry_domain (registry);

  (void) g;
  if (bale_registry_logout (registry, NULL, err) < 0)
    return -1;
  printf ("Removing login credentials for %s\n", domain);
  return 0;
}
