/* SPDX-License-Identifier: GPL-2.0-or-later */
/* EXPOSE port specs ([ip:][hostPort:]port[-end][/proto]) as BuildKit's convert_expose.go. */
#ifndef BALE_EXPOSE_H
#define BALE_EXPOSE_H

#include <stddef.h>

/*
 * Append the "port/proto" entries of spec to *ports (one per port of a range; proto
 * lowercased, "tcp" by default). On failure returns -1 and sets *msg to BuildKit's message
 * (the caller frees it).
 */
int expose_parse (const char *spec, char ***ports, size_t *n_ports, char **msg);

/* What the build checks say of a spec whose port and protocol parse (parsePort's lint step):
   EXPOSE_LINT_PROTO_CASE when the protocol is not lowercase (ExposeProtoCasing),
   EXPOSE_LINT_HOST when it names an IP address or a host port (ExposeInvalidFormat). */
#define EXPOSE_LINT_PROTO_CASE 1u
#define EXPOSE_LINT_HOST 2u
unsigned expose_lint (const char *spec);

#endif
