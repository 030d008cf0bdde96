/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libcurl, loaded the first time bale reaches the network rather than at every start. */
#ifndef BALE_CURL_DL_H
#define BALE_CURL_DL_H

#include <curl/curl.h>

#include "bale.h"

/*
 * libcurl and the 25 libraries it needs (TLS, Kerberos, LDAP, IDN, HTTP/2...) made bale-core's
 * dynamic loading cost 5 ms of every command, and every RUN step's clone copy their mappings,
 * though a build from local images never reaches a registry. They are loaded by dlopen on the
 * first call that needs them. The pointers have the types curl.h declares (__typeof__), so a
 * libcurl whose functions changed type fails the compilation, not a call.
 */
struct curl_fns
{
  __typeof__ (curl_global_init) *global_init;
  __typeof__ (curl_easy_strerror) *easy_strerror;
  __typeof__ (curl_share_init) *share_init;
  __typeof__ (curl_share_setopt) *share_setopt;
  __typeof__ (curl_share_cleanup) *share_cleanup;
  __typeof__ (curl_easy_init) *easy_init;
  __typeof__ (curl_easy_reset) *easy_reset;
  __typeof__ (curl_easy_cleanup) *easy_cleanup;
  __typeof__ (curl_easy_setopt) *easy_setopt;
  __typeof__ (curl_easy_getinfo) *easy_getinfo;
  __typeof__ (curl_easy_perform) *easy_perform;
  __typeof__ (curl_slist_append) *slist_append;
  __typeof__ (curl_slist_free_all) *slist_free_all;
  __typeof__ (curl_url) *url;
  __typeof__ (curl_url_set) *url_set;
  __typeof__ (curl_url_get) *url_get;
  __typeof__ (curl_url_cleanup) *url_cleanup;
  __typeof__ (curl_free) *free;
  __typeof__ (curl_getdate) *getdate;
};

/* libcurl's functions, loaded once (thread-safe) and curl_global_init() called; NULL with
   *err set when libcurl.so.4 cannot be loaded, lacks one of them or fails to initialise. */
const struct curl_fns *curl_dl (bale_error_t *err);

#endif
