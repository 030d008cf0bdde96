/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A relay socket in front of an ssh-agent, with the owner and mode a RUN step asks for. */
#ifndef BALE_SSHPROXY_H
#define BALE_SSHPROXY_H

#include <sys/types.h>

#include "bale.h"

/* Listen at path (owned uid:gid, mode) and relay every connection to the agent socket, in a
   process that *pid names and that dies with the caller. */
int sshproxy_start (const char *agent, const char *path, uid_t uid, gid_t gid, mode_t mode,
                    pid_t *pid, bale_error_t *err);
/* Stop the relay and its connections. Accepts 0. */
void sshproxy_stop (pid_t pid);

#endif
