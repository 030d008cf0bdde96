/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parse bale build's --secret and --ssh into what the executor mounts. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/build/buildsecrets.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

int
buildsecrets_add_secret (struct build_secrets *b, const char *spec, bale_error_t *err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *save = copy, *item;
  const char *id = NULL, *src = NULL, *env = NULL, *type = NULL, *value = NULL;
  while ((item = strsep (&save, ",")) != NULL)
    {
      if (strncmp (item, "id=", 3) == 0)
        id = item + 3;
      else if (strncmp (item, "src=", 4) == 0)
        src = item + 4;
      else if (strncmp (item, "source=", 7) == 0)
        src = item + 7;
      else if (strncmp (item, "env=", 4) == 0)
        env = item + 4;
      else if (strcmp (item, "type=file") == 0 || strcmp (item, "type=env") == 0)
        type = item + 5;
      else
        return bale_make_error (err, 0, "--secret %s: unknown field \"%s\" (want id=ID,src=FILE "
                                "or id=ID,env=VAR)", spec, item);
    }
  if (type && strcmp (type, "env") == 0 && !env)
    env = id;
  if (!id || !*id || (src && env) || (!src && !env) || (src && !*src) || (env && !*env))
    return bale_make_error (err, 0, "--secret %s: want id=ID,src=FILE or id=ID,env=VAR", spec);
  if (src && access (src, R_OK) < 0)
    return bale_make_error (err, errno, "--secret %s: cannot read %s", spec, src);
  if (env && (value = getenv (env)) == NULL)
    return bale_make_error (err, 0, "--secret %s: the variable %s is not set", spec, env);
  {
    cleanup_free char *path = src ? realpath (src, NULL) : NULL;
    struct exec_secret s = { .id = id, .path = path, .value = value };
    buildsecrets_add (b, &s);
  }
  return 0;
}

void
buildsecrets_add (struct build_secrets *b, const struct exec_secret *s)
{
  struct exec_secret *n;

  XGROW (b->secrets, b->alloc_secrets, b->n_secrets + 1);
  n = &b->secrets[b->n_secrets++];
  memset (n, 0, sizeof *n);
  n->id = xstrdup (s->id);
  n->path = s->path ? xstrdup (s->path) : NULL;
  n->value = s->value ? xstrdup (s->value) : NULL;
}

int
buildsecrets_add_ssh (struct build_secrets *b, const char *spec, bale_error_t *err)
{
  const char *eq = strchr (spec, '=');
  cleanup_free char *id = eq ? xstrndup (spec, (size_t) (eq - spec)) : xstrdup (spec);
  const char *sock = eq ? eq + 1 : getenv ("SSH_AUTH_SOCK");
  struct stat st;
  struct exec_ssh *s;

  if (!*id || strchr (sock ? sock : "", ',') != NULL)
    return bale_make_error (err, 0, "--ssh %s: want ID[=SOCKET]", spec);
  if (!sock || !*sock)
    return bale_make_error (err, 0, "--ssh %s: no socket given and SSH_AUTH_SOCK is not set", spec);
  if (stat (sock, &st) < 0)
    return bale_make_error (err, errno, "--ssh %s: %s", spec, sock);
  if (!S_ISSOCK (st.st_mode))
    return bale_make_error (err, 0, "--ssh %s: %s is not an agent socket (bale forwards a running "
                            "ssh-agent; for a key file, ssh-add it to one)", spec, sock);
  XGROW (b->ssh, b->alloc_ssh, b->n_ssh + 1);
  s = &b->ssh[b->n_ssh++];
  s->id = steal_pointer (&id);
  s->socket = realpath (sock, NULL);
  return 0;
}

void
buildsecrets_release (struct build_secrets *b)
{
  size_t i;

  for (i = 0; i < b->n_secrets; i++)
    {
      free ((char *) b->secrets[i].id);
      free ((char *) b->secrets[i].path);
      if (b->secrets[i].value)
        explicit_bzero ((char *) b->secrets[i].value, strlen (b->secrets[i].value));
      free ((char *) b->secrets[i].value);
    }
  for (i = 0; i < b->n_ssh; i++)
    {
      free ((char *) b->ssh[i].id);
      free ((char *) b->ssh[i].socket);
    }
  free (b->secrets);
  free (b->ssh);
  memset (b, 0, sizeof *b);
}
