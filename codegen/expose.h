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

#endif
