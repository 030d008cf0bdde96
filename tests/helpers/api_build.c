/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The options of `bale build` through the public API alone (tests/cli/api.sh), linked with
 * libbale.so:
 *   api_build outputs STORE CONTEXT OUT: one build with outputs (type=local and type=oci),
 *     a cache export (type=local,mode=max), a label (a field) and an annotation (a generic
 *     option), a tag and the details; prints what came back, one `key=value` a line, and
 *     every MESSAGE event as `message=LINE`;
 *   api_build import STORE CONTEXT OUT: the same build in another (fresh) store, importing
 *     OUT/cache (cache_from): prints the same keys, `cached=N` counting the RUN steps that
 *     came from the cache;
 *   api_build bad STORE CONTEXT: an unknown option fails, its name in the error.
 * Exit 0 when the build did what was asked; the reason on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/apitest.h"

static int cached;

static void
on_event (void *ctx, const struct bale_progress_event *ev)
{
  (void) ctx;
  if (ev->kind == BALE_PROGRESS_MESSAGE)
    printf ("message=%.*s\n", (int) ev->len, ev->data);
  else if (ev->kind == BALE_PROGRESS_CACHED && ev->name && strstr (ev->name, "RUN"))
    cached++;
}

int
main (int argc, char **argv)
{
  struct bale_build_options o = BALE_BUILD_OPTIONS_INIT;
  struct bale_build_details d = BALE_BUILD_DETAILS_INIT;
  struct bale_build_result res;
  bale_error_t err = NULL;
  bale_store *s = NULL;
  char local[4096], oci[4096], cache_to[4096], cache_from[4096];
  const char *outputs[] = { local, oci };
  const char *tags[] = { "api/outputs:1" };
  const char *labels[] = { "api.label=yes" };
  const char *names[] = { "annotation" }, *values[] = { "api.annotation=also" };
  const char *to[] = { cache_to }, *from[] = { cache_from };
  int ret = 0;

  if (argc < 4)
    return 2;
  s = apitest_store (argv[2]);
  o.context = argv[3];
  o.progress.fn = on_event;
  if (strcmp (argv[1], "bad") == 0)
    {
      const char *bad[] = { "no-such-option" };
      o.option_names = bad;
      o.n_options = 1;
      if (bale_build (s, &o, &res, &err) == 0)
        ret = fprintf (stderr, "an unknown option was accepted\n") > 0;
      else if (!strstr (err->msg, "no-such-option"))
        ret = apitest_fail ("the error does not name the option", &err);
      bale_error_release (&err);
      bale_store_close (s);
      return ret;
    }
  if (argc != 5)
    return 2;
  snprintf (local, sizeof local, "type=local,dest=%s/local", argv[4]);
  snprintf (oci, sizeof oci, "type=oci,dest=%s/oci", argv[4]);
  snprintf (cache_to, sizeof cache_to, "type=local,dest=%s/cache,mode=max", argv[4]);
  snprintf (cache_from, sizeof cache_from, "type=local,src=%s/cache", argv[4]);
  if (strcmp (argv[1], "outputs") == 0)
    {
      o.outputs = outputs;
      o.n_outputs = 2;
      o.cache_to = to;
      o.n_cache_to = 1;
      o.tags = tags;
      o.n_tags = 1;
      o.labels = labels;
      o.n_labels = 1;
      o.option_names = names;
      o.option_values = values;
      o.n_options = 1;
    }
  else
    {
      o.cache_from = from;
      o.n_cache_from = 1;
    }
  o.details = &d;
  if (bale_build (s, &o, &res, &err) < 0)
    ret = apitest_fail ("bale_build", &err);
  else
    {
      printf ("id=%s\ndigest=%s\nconfig=%s\npushed=%s\nindex=%d\ncached=%d\n", res.id, res.digest,
              d.config, d.pushed, (int) d.index, cached);
      for (size_t i = 0; d.names && d.names[i]; i++)
        printf ("name=%s\n", d.names[i]);
      printf ("metadata=%s\n", d.metadata ? d.metadata : "");
    }
  bale_build_details_release (&d);
  bale_store_close (s);
  return ret;
}
