/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256 content digests in the OCI "sha256:<hex>" form. */
#ifndef BALE_DIGEST_H
#define BALE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bale.h"

/* "sha256:" plus 64 hex digits plus NUL. */
#define DIGEST_STRLEN (7 + 64)

/*
 * A streaming SHA-256. Initialise with digester_init, feed bytes with digester_update, and
 * finish with digester_final, which also frees the OpenSSL context; digester_release frees it
 * without a result (safe after final and on a zeroed struct). `size` counts the bytes fed.
 */
struct digester
{
  void *ctx; /* EVP_MD_CTX */
  int64_t size;
};

int digester_init (struct digester *d, bale_error_t *err);
void digester_update (struct digester *d, const void *data, size_t len);
/* Write "sha256:<hex>" and a NUL into out (DIGEST_STRLEN + 1 bytes). */
int digester_final (struct digester *d, char out[DIGEST_STRLEN + 1], bale_error_t *err);
void digester_release (struct digester *d);
/* Make dst (uninitialised) a copy of src's state: both go on independently. */
int digester_copy (struct digester *dst, const struct digester *src, bale_error_t *err);

/* The digest of len bytes at data. */
int digest_buffer (const void *data, size_t len, char out[DIGEST_STRLEN + 1], bale_error_t *err);
/* The digest of everything from fd's current offset to EOF; *size (if not NULL) gets the count. */
int digest_file (int fd, char out[DIGEST_STRLEN + 1], int64_t *size, bale_error_t *err);

/* True when s is exactly "sha256:" and 64 lowercase hex digits (uppercase MUST NOT be used). */
bool digest_is_valid (const char *s);
/* The hex part of a valid digest ("sha256:abc…" → "abc…"); NULL when s is not valid. */
const char *digest_hex (const char *s);

#endif
