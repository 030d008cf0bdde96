/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Can a container's command start? The checks docker (dockerd, then runc init) makes before and
 * while it executes argv, made on an image's flattened filesystem: the user in /etc/passwd and
 * /etc/group, the working directory, argv[0] through Go's exec.LookPath as runc 1.1 calls it,
 * the execute permission for the user, `#!` interpreters as the kernel follows them and an
 * ELF's program interpreter. Each failure is worded and numbered as `docker run` reports it.
 */
#ifndef BALE_STARTCHECK_H
#define BALE_STARTCHECK_H

#include <stddef.h>

#include <jansson.h>

#include "bale.h"

/* The PATH dockerd gives a container whose environment has none (oci.DefaultPathEnv). */
#define STARTCHECK_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct startcheck_in
{
  const char *const *argv; /* the merged ENTRYPOINT + CMD; n_argv may be 0 */
  size_t n_argv;
  const char *path;    /* the container's PATH value; NULL when unset (the default applies) */
  const char *workdir; /* NULL or "" is "/" */
  const char *user;    /* docker's --user forms; NULL or "" is root */
};

/*
 * Check in->argv against the filesystem under rootfd, every path resolved inside it (never by
 * the host). *out is
 *   { "checks": [{"check": "user"|"workdir"|"command"|"permission"|"interpreter"|"loader",
 *                 "ok": bool, "detail": "...", ...}],
 *     "outcome": "starts" | "fails",
 *     "stage": "create" (docker run fails, no process) | "exec" (the execve fails) | null,
 *     "error": docker's message or null, "exit_status": docker run's status or null,
 *     "resolved": the path argv[0] resolves to or null, "script": {...} for a `#!` command }
 * Returns -1 only when the filesystem cannot be read (an I/O error), not for a failed check.
 */
int startcheck_run (int rootfd, const struct startcheck_in *in, json_t **out, bale_error_t *err);

/* docker run's exit status for a container that could not be created or started, from its
   message: the CLI's own rule (cli/command/container/run.go, runStartContainerErr). */
int startcheck_docker_status (const char *message);

#endif
