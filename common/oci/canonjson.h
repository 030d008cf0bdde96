/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Serialise jansson values byte-for-byte as Go's encoding/json.Marshal would. */
#ifndef BALE_CANONJSON_H
#define BALE_CANONJSON_H

#include <stddef.h>

#include <jansson.h>

#include "bale.h"
#include "common/strbuf.h"

/*
 * Append v to out, compact, with object members in jansson's insertion order (Go writes
 * struct fields in declaration order, so builders insert in that order) and strings escaped
 * as Go does: `<` `>` `&` U+2028 U+2029 as \u003c \u003e \u0026 \u2028 \u2029; `"` `\`
 * \b \f \n \r \t as two-character escapes (Go >= 1.22 writes \b and \f short); other control
 * bytes as \u00xx (lowercase hex); each byte of invalid UTF-8 as \ufffd. Integers print as
 * integers, reals as Go's strconv 'f'/'e' shortest form. Digests are computed over exactly
 * these bytes, so never re-serialise a document after hashing it.
 *
 * Fails (leaving out partly appended) only on a non-finite real or nesting deeper than 10000.
 */
int canonjson_append (struct strbuf *out, const json_t *v, bale_error_t *err);

/* The same into a new NUL-terminated buffer the caller frees; *len (if not NULL) gets its
   length. Returns NULL on failure. */
char *canonjson_dumps (const json_t *v, size_t *len, bale_error_t *err);

/* Reorder obj's members by bytewise key order, as Go writes a map. Does nothing to
   non-objects. Values are kept (not copied). */
void canonjson_sort_keys (json_t *obj);

#endif
