/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Embedding libbale: build an image from a Dockerfile into a store, print the build's
 * progress as it comes and the image's ID and digest at the end. Built against the installed
 * library:
 *
 *   cc -o embed embed.c $(pkg-config --cflags --libs bale)
 *   ./embed STORE CONTEXT TAG [KEY=VALUE...]
 *
 * STORE is a bale store directory (the one `bale --store` or $BALE_STORE names) holding the
 * Dockerfile's base image; KEY=VALUE are build arguments. The progress goes to stderr; stdout
 * gets two lines, "id sha256:..." and "digest sha256:...".
 */
#include <stdio.h>
#include <stdlib.h>

#include <bale.h>

/* The progress callback: called in this thread, one event at a time, strings borrowed. */
static void
on_event (void *ctx, const struct bale_progress_event *ev)
{
  int *n_events = ctx;

  ++*n_events;
  switch (ev->kind)
    {
    case BALE_PROGRESS_START: fprintf (stderr, "start  %s\n", ev->name); break;
    case BALE_PROGRESS_DONE: fprintf (stderr, "done   %s\n", ev->name); break;
    case BALE_PROGRESS_CACHED: fprintf (stderr, "cached %s\n", ev->name); break;
    case BALE_PROGRESS_ERROR: fprintf (stderr, "error  %s: %s\n", ev->name, ev->error); break;
    case BALE_PROGRESS_LOG: fprintf (stderr, "log    %.*s\n", (int) ev->len, ev->data); break;
    case BALE_PROGRESS_WARNING: fprintf (stderr, "warn   %.*s\n", (int) ev->len, ev->data); break;
    default: break; /* STATUS, MISS, and kinds a later libbale adds */
    }
}

/* Every error of the chain, located ("Dockerfile:3:1: error: ..."), then free it. */
static int
fail (bale_error_t *err)
{
  for (const struct bale_error_s *e = *err; e; e = e->next)
    {
      char *text = bale_error_format (e);
      fprintf (stderr, "%s\n", text);
      free (text);
    }
  bale_error_release (err);
  return 1;
}

int
main (int argc, char **argv)
{
  struct bale_build_options o = BALE_BUILD_OPTIONS_INIT;
  struct bale_build_result res;
  bale_error_t err = NULL;
  bale_store *store = NULL;
  const char *tags[1];
  int n_events = 0, ret;

  if (argc < 4)
    {
      fprintf (stderr, "usage: %s STORE CONTEXT TAG [KEY=VALUE...]\n", argv[0]);
      return 2;
    }
  if (bale_store_open (argv[1], &store, &err) < 0)
    return fail (&err);
  tags[0] = argv[3];
  o.context = argv[2];
  o.tags = tags;
  o.n_tags = 1;
  o.build_args = (const char *const *) argv + 4;
  o.n_build_args = (size_t) (argc - 4);
  o.progress.fn = on_event;
  o.progress.ctx = &n_events;
  ret = bale_build (store, &o, &res, &err);
  bale_store_close (store);
  if (ret < 0)
    return fail (&err);
  fprintf (stderr, "%d progress events\n", n_events);
  printf ("id %s\ndigest %s\n", res.id, res.digest);
  return 0;
}
