/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale login` and `bale logout`: registry credentials in docker's config.json. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/registry.h"
#include "cli/store.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
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

/* "https://index.docker.io/v1/" → "docker.io"; "http://h:5000/x" → "h:5000". */
static char *
registry_domain (const char *arg)
{
  const char *p = strstr (arg, "://");
  cleanup_free char *host = NULL;

  p = p ? p + 3 : arg;
  host = xstrndup (p, strcspn (p, "/"));
  if (strcmp (host, "index.docker.io") == 0 || strcmp (host, "registry-1.docker.io") == 0)
    return xstrdup ("docker.io");
  return steal_pointer (&host);
}

static int
read_password (struct registry_creds *c, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;

  if (bale_read_fd (0, "standard input", &sb, err) < 0)
    return -1;
  /* docker login strips the trailing newline (and only that) of --password-stdin. */
  while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
    strbuf_setlen (&sb, sb.len - 1);
  c->secret = strbuf_detach (&sb, NULL);
  return 0;
}

struct login_args
{
  const char *user, *password, *registry;
  bool password_stdin;
};

static void
login_args (int argc, char **argv, struct cli_registry *r, struct login_args *a)
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
        if (!cli_registry_option (r, c, optarg))
          {
            login_usage (stderr);
            exit (2);
          }
      }
  /* No prompt: bale runs in CI, where nobody answers one. */
  if (optind < argc - 1 || a->user == NULL || (a->password == NULL) == !a->password_stdin)
    {
      login_usage (stderr);
      exit (2);
    }
  a->registry = optind < argc ? argv[optind] : "docker.io";
}

int
bale_cmd_login (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct login_args a = { 0 };
  struct cli_registry r;
  struct registry_creds creds = { 0 };
  struct registry_conn *conn = NULL;
  cleanup_free char *domain = NULL, *config = registry_docker_config_path ();
  int ret;

  cli_registry_init (&r, true);
  login_args (argc, argv, &r, &a);
  domain = registry_domain (a.registry);
  creds.username = xstrdup (a.user);
  ret = a.password_stdin ? read_password (&creds, err) : 0;
  if (!a.password_stdin)
    creds.secret = xstrdup (a.password);
  if (ret == 0 && (conn = registry_conn_new (domain, &r.opts, err)) == NULL)
    ret = -1;
  if (ret == 0)
    {
      registry_conn_set_creds (conn, &creds);
      ret = registry_check_login (conn, err);
    }
  if (ret == 0)
    ret = registry_creds_store (config, domain, &creds, err);
  if (ret == 0)
    printf ("Login Succeeded\n");
  else
    bale_error_wrap (err, "login to '%s'", domain);
  registry_conn_free (conn);
  registry_creds_release (&creds);
  cli_registry_release (&r);
  return ret;
}

int
bale_cmd_logout (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const char usage[] = "usage: bale logout [REGISTRY]\n"
                              "Remove the credentials of REGISTRY (default: docker.io).\n";
  int first = cli_simple_args (argc, argv, usage, 0, 1, err);
  cleanup_free char *domain = registry_domain (first < argc ? argv[first] : "docker.io");
  cleanup_free char *config = registry_docker_config_path ();

  if (registry_creds_store (config, domain, NULL, err) < 0)
    return -1;
  printf ("Removing login credentials for %s\n", domain);
  return 0;
}
