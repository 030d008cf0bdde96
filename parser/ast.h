/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Constructors for the AST types of bale.h; a parent owns its children. */
#ifndef BALE_AST_H
#define BALE_AST_H

#include <stddef.h>

#include "bale.h"

/* The instruction a keyword names, case-insensitively; BALE_I_UNKNOWN otherwise. */
enum bale_instr ast_instr_lookup (const char *keyword);

struct bale_node *ast_node_new (const char *keyword, struct bale_span keyword_span);
/* Free what n owns, not n itself (nodes live in arrays). */
void ast_node_clear (struct bale_node *n);
void ast_node_free (struct bale_node *n);
void ast_node_add_arg (struct bale_node *n, const char *value, size_t len, struct bale_span span);
/* Add a flag from its raw word (`--name=value` or `--name`). */
void ast_node_add_flag (struct bale_node *n, const char *raw, size_t len, struct bale_span span);

/* The last flag of n named name (BuildKit's BFlags keep the last), or NULL. */
const struct bale_flag *ast_flag_get (const struct bale_node *n, const char *name);
/* Its value; NULL when absent or bare. */
const char *ast_flag_value (const struct bale_node *n, const char *name);
struct bale_dockerfile *ast_dockerfile_new (const char *path, const char *buf, size_t len);
/* Move *n into df's node array; n itself is freed. */
void ast_dockerfile_take_node (struct bale_dockerfile *df, struct bale_node *n);
void ast_dockerfile_add_directive (struct bale_dockerfile *df, const char *name, const char *value,
                                   struct bale_span span);

#endif
