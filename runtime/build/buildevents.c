/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vertices `bale build` reports around the executor's: BuildKit's [internal] steps and exports. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/build/buildevents.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* A vertex that only transferred one file: BuildKit's "[internal] load ..." of the
   Dockerfile and the .dockerignore. */
static void
transfer (const struct bale_progress *p, const char *key, const char *name, const char *id,
          const char *path)
{
  struct progress_vertex v;
  struct stat st;

  progress_vertex_start (&v, p, key, name);
  progress_vertex_status (&v, id, stat (path, &st) == 0 ? (int64_t) st.st_size : 0, 0, true);
  progress_vertex_end (&v, false, NULL);
}

void
buildevents_definition (const struct bale_progress *p, const char *dockerfile)
{
  const char *slash = strrchr (dockerfile, '/');
  cleanup_free char *name = xasprintf ("[internal] load build definition from %s",
                                       slash ? slash + 1 : dockerfile);

  transfer (p, "dockerfile", name, "transferring dockerfile:", dockerfile);
}

void
buildevents_dockerignore (const struct bale_progress *p, const char *context, const char *dockerfile)
{
  cleanup_free char *own = xasprintf ("%s.dockerignore", dockerfile);
  cleanup_free char *path = xasprintf ("%s/.dockerignore", context);
  struct stat st;

  /* The Dockerfile's own ignore file wins, as BuildKit reads it first. */
  transfer (p, "dockerignore", "[internal] load .dockerignore", "transferring context:",
            stat (own, &st) == 0 ? own : path);
}

char *
buildevents_name (const char *tag)
{
  struct oci_ref r = { 0 };
  bale_error_t e = NULL;
  char *full;

  if (oci_ref_parse (tag, 0, &r, &e) < 0)
    {
      bale_error_release (&e);
      return xstrdup (tag);
    }
  full = oci_ref_full (&r);
  oci_ref_release (&r);
  return full;
}

/* registry_opts.log during a build: each message a finished status of the open vertex. */
void
buildevents_registry_log (void *ctx, const char *msg)
{
  struct buildevents_log *l = ctx;

  /* Outside a vertex (the cache import and export) the message is said. */
  if (l->vertex.p)
    progress_vertex_status (&l->vertex, msg, 0, 0, true);
  else
    build_say (&l->say, "%s", msg);
}

void
build_say (const struct build_say *s, const char *fmt, ...)
{
  struct strbuf line = STRBUF_INIT;
  va_list ap;

  if (!s || !s->fn)
    return;
  va_start (ap, fmt);
  strbuf_vaddf (&line, fmt, ap);
  va_end (ap);
  s->fn (s->ctx, line.buf ? line.buf : "");
  strbuf_release (&line);
}

void
build_say_diagnostics (const struct build_say *s, bale_error_t chain)
{
  for (const struct bale_error_s *e = chain; e; e = e->next)
    {
      cleanup_free char *text = bale_error_format (e);
      build_say (s, "%s", text);
    }
}

void
build_say_warnings (const struct build_say *s, bale_error_t chain)
{
  for (struct bale_error_s *e = chain; e; e = e->next)
    e->severity = BALE_SEVERITY_WARNING;
  build_say_diagnostics (s, chain);
}

void
buildevents_resolve_start (struct progress_vertex *v, const struct bale_progress *p, const char *ref)
{
  cleanup_free char *full = buildevents_name (ref);
  cleanup_free char *name = xasprintf ("[internal] load metadata for %s", full);

  progress_vertex_start (v, p, name, name);
}
