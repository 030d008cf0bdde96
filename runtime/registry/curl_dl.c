/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libcurl loaded on first use (see curl_dl.h). */
#include <config.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "runtime/registry/curl_dl.h"
#include "common/banned.h"

/* The soname of libcurl's ABI since 7.16; the one the build was linked against before. */
#define CURL_SONAME "libcurl.so.4"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct curl_fns fns;
static const struct curl_fns *loaded;
static char why[512];

static const struct
{
  const char *name;
  size_t offset;
} symbols[] = {
#define SYM(field) { "curl_" #field, offsetof (struct curl_fns, field) }
  SYM (global_init), SYM (easy_strerror), SYM (share_init),   SYM (share_setopt),
  SYM (share_cleanup), SYM (easy_init),   SYM (easy_reset),   SYM (easy_cleanup),
  SYM (easy_setopt),  SYM (easy_getinfo), SYM (easy_perform), SYM (slist_append),
  SYM (slist_free_all), SYM (url),        SYM (url_set),      SYM (url_get),
  SYM (url_cleanup),  SYM (free),         SYM (getdate),
#undef SYM
};

static void
load (void)
{
  /* RTLD_NODELETE: handles and callbacks of libcurl may outlive any caller's use of it. */
  void *lib = dlopen (CURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  CURLcode rc;

  if (lib == NULL)
    {
      snprintf (why, sizeof why, "cannot load %s, which bale needs to reach a registry or a URL: %s",
                CURL_SONAME, dlerror ());
      return;
    }
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
    {
      void *f = dlsym (lib, symbols[i].name);
      if (f == NULL)
        {
          snprintf (why, sizeof why, "%s has no function %s (bale needs libcurl 7.80 or later)",
                    CURL_SONAME, symbols[i].name);
          return;
        }
      /* POSIX guarantees data and function pointers convert (dlsym's own contract). */
      *(void **) ((char *) &fns + symbols[i].offset) = f;
    }
  rc = fns.global_init (CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    {
      snprintf (why, sizeof why, "cannot initialise libcurl: %s", fns.easy_strerror (rc));
      return;
    }
  loaded = &fns;
}

const struct curl_fns *
curl_dl (bale_error_t *err)
{
  pthread_once (&once, load);
  if (loaded == NULL && err != NULL)
    bale_make_error (err, 0, "%s", why);
  return loaded;
}
