/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ADD <url>: download remote sources into a directory the copy step reads like a context. */
#ifndef BALE_ADDURL_H
#define BALE_ADDURL_H

#include <stdbool.h>
#include <stddef.h>

#include "bale.h"

/* True when s is an http:// or https:// URL (ADD downloads those; anything else is a path). */
bool addurl_is_url (const char *s);

/*
 * Download the n sources of an ADD, all URLs, into a new directory under tmpdir (*dir, for
 * addurl_cleanup). (*names)[i] is the path of source i relative to *dir: "<i>/<file name>",
 * the file name being the last segment of the URL's path, as Docker names downloads. Each
 * file gets mode 0600 and the mtime of Last-Modified (Docker's ADD rules); checksum (ADD
 * --checksum=sha256:…, may be NULL) must match every download. Fails when a source is not a
 * URL: mixing URLs with local files in one ADD is not supported.
 */
int addurl_fetch (char *const *sources, size_t n, const char *checksum, const char *tmpdir,
                  char **dir, char ***names, bale_error_t *err);

/* Remove what addurl_fetch left (dir may be NULL) and free dir and the n names. */
void addurl_cleanup (char *dir, char **names, size_t n);

#endif
