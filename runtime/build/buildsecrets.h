/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bale build's --secret and --ssh: what RUN --mount=type=secret|ssh may use. */
#ifndef BALE_RT_BUILDSECRETS_H
#define BALE_RT_BUILDSECRETS_H

#include <stddef.h>

#include "bale.h"
#include "runtime/build/executor.h"

struct build_secrets
{
  struct exec_secret *secrets;
  size_t n_secrets, alloc_secrets;
  struct exec_ssh *ssh;
  size_t n_ssh, alloc_ssh;
};

/* --secret id=ID,src=FILE (source= too; type=file), or id=ID,env=VAR (type=env; a bare
   type=env reads the variable named by the id), as buildx takes them. */
int buildsecrets_add_secret (struct build_secrets *b, const char *spec, bale_error_t *err);
/* A secret already checked (a copy of its strings is kept). */
void buildsecrets_add (struct build_secrets *b, const struct exec_secret *s);
/* --ssh ID[=SOCKET]: the agent socket RUN --mount=type=ssh,id=ID binds; `default` alone
   takes $SSH_AUTH_SOCK. Key files are refused: bale forwards an agent, it runs none. */
int buildsecrets_add_ssh (struct build_secrets *b, const char *spec, bale_error_t *err);
void buildsecrets_release (struct build_secrets *b);

#endif
