/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a build does to the process that embeds libbale (tests/cli/api.sh), through the shared
 * library and include/bale.h alone:
 *   api_effects effects STORE CONTEXT: a build leaves the caller's mount namespace, signal
 *     dispositions and signal mask as they were;
 *   api_effects cancel STORE CONTEXT: bale_cancel_trigger from another thread stops a build
 *     with ECANCELED: its RUN step prints "started" and sleeps for 5 minutes; the other thread
 *     cancels once the step's line has come (a progress event), and the build must end within
 *     100 s of it (a hang guard: a second or two at load 20; the 5 minutes when the running
 *     step is not stopped).
 * Exit 0 when it holds; the reason on stderr otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers/apitest.h"

static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT };
#define N_SIGS (sizeof sigs / sizeof sigs[0])

static void
on_term (int sig)
{
  (void) sig;
}

struct state
{
  char mnt[64];
  struct sigaction sa[N_SIGS];
  sigset_t mask;
};

static void
snapshot (struct state *st)
{
  ssize_t n = readlink ("/proc/self/ns/mnt", st->mnt, sizeof st->mnt - 1);
  st->mnt[n > 0 ? n : 0] = '\0';
  for (size_t i = 0; i < N_SIGS; i++)
    sigaction (sigs[i], NULL, &st->sa[i]);
  sigprocmask (SIG_SETMASK, NULL, &st->mask);
}

static int
compare (const struct state *a, const struct state *b)
{
  int bad = 0;

  if (strcmp (a->mnt, b->mnt) != 0)
    bad = fprintf (stderr, "mount namespace changed: %s -> %s\n", a->mnt, b->mnt);
  for (size_t i = 0; i < N_SIGS; i++)
    if (a->sa[i].sa_handler != b->sa[i].sa_handler || a->sa[i].sa_flags != b->sa[i].sa_flags)
      bad = fprintf (stderr, "disposition of signal %d changed\n", sigs[i]);
  for (int s = 1; s < 32; s++)
    if (sigismember (&a->mask, s) != sigismember (&b->mask, s))
      bad = fprintf (stderr, "signal mask changed for %d\n", s);
  return bad ? 1 : 0;
}

/* The canceller: a thread that waits until the build's step has printed "started", then
   triggers the cancellation and notes when. */
struct canceller
{
  bale_cancel *c;
  pthread_mutex_t lock;
  pthread_cond_t started;
  bool step_started, done;
  time_t at;
};

static void *
cancel_when_started (void *arg)
{
  struct canceller *k = arg;

  pthread_mutex_lock (&k->lock);
  while (!k->step_started && !k->done)
    pthread_cond_wait (&k->started, &k->lock);
  if (k->step_started)
    {
      k->at = time (NULL);
      bale_cancel_trigger (k->c);
    }
  pthread_mutex_unlock (&k->lock);
  return NULL;
}

static void
on_event (void *ctx, const struct bale_progress_event *ev)
{
  struct canceller *k = ctx;

  if (ev->kind == BALE_PROGRESS_LOG && ev->len >= 7 && memcmp (ev->data, "started", 7) == 0)
    {
      pthread_mutex_lock (&k->lock);
      k->step_started = true;
      pthread_cond_signal (&k->started);
      pthread_mutex_unlock (&k->lock);
    }
}

int
main (int argc, char **argv)
{
  struct bale_build_options o = BALE_BUILD_OPTIONS_INIT;
  struct bale_build_result res;
  struct state before, after;
  struct sigaction sa = { 0 };
  bale_error_t err = NULL;
  bale_store *s = NULL;
  sigset_t usr1;
  int ret = 1;

  if (argc != 4)
    return 2;
  /* An embedder with opinions: its own SIGTERM handler, SIGHUP ignored, SIGUSR1 blocked. */
  sa.sa_handler = on_term;
  sigaction (SIGTERM, &sa, NULL);
  signal (SIGHUP, SIG_IGN);
  sigemptyset (&usr1);
  sigaddset (&usr1, SIGUSR1);
  sigprocmask (SIG_BLOCK, &usr1, NULL);
  s = apitest_store (argv[2]);
  o.context = argv[3];
  if (strcmp (argv[1], "effects") == 0)
    {
      snapshot (&before);
      if (bale_build (s, &o, &res, &err) < 0)
        ret = apitest_fail ("bale_build", &err);
      else
        {
          snapshot (&after);
          ret = compare (&before, &after);
        }
    }
  else if (strcmp (argv[1], "cancel") == 0)
    {
      struct canceller k
          = { .lock = PTHREAD_MUTEX_INITIALIZER, .started = PTHREAD_COND_INITIALIZER };
      pthread_t t;
      const char *tags[] = { "effects/cancelled" };
      int built;
      o.tags = tags;
      o.n_tags = 1;
      if (bale_cancel_new (&k.c, &err) < 0)
        return apitest_fail ("bale_cancel_new", &err);
      o.cancel = k.c;
      o.progress.fn = on_event;
      o.progress.ctx = &k;
      pthread_create (&t, NULL, cancel_when_started, &k);
      built = bale_build (s, &o, &res, &err);
      pthread_mutex_lock (&k.lock);
      k.done = true;
      pthread_cond_signal (&k.started);
      pthread_mutex_unlock (&k.lock);
      pthread_join (t, NULL);
      if (!k.step_started)
        apitest_fail ("the step's 'started' line never came", &err);
      else if (built == 0)
        fprintf (stderr, "the build was not cancelled\n");
      else if (err->status != ECANCELED)
        apitest_fail ("not ECANCELED", &err);
      else if (time (NULL) - k.at > 100)
        fprintf (stderr, "the build ended %ld s after its cancellation\n",
                 (long) (time (NULL) - k.at));
      else
        ret = 0;
      bale_error_release (&err);
      bale_cancel_free (k.c);
    }
  bale_store_close (s);
  return ret;
}
