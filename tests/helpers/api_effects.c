/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a build does to the process that embeds libbale (tests/cli/api.sh), through the shared
 * library and include/bale.h alone:
 *   api_effects effects STORE CONTEXT: a build leaves the caller's mount namespace, signal
 *     dispositions and signal mask as they were;
 *   api_effects cancel STORE CONTEXT: bale_cancel_trigger from another thread stops a build
 *     (its RUN step sleeps for a minute) within seconds, with ECANCELED.
 * Exit 0 when it holds; the reason on stderr otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
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

static void *
cancel_later (void *c)
{
  sleep (2);
  bale_cancel_trigger (c);
  return NULL;
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
      bale_cancel *c = NULL;
      pthread_t t;
      time_t start = time (NULL);
      const char *tags[] = { "effects/cancelled" };
      o.tags = tags;
      o.n_tags = 1;
      if (bale_cancel_new (&c, &err) < 0)
        return apitest_fail ("bale_cancel_new", &err);
      o.cancel = c;
      pthread_create (&t, NULL, cancel_later, c);
      if (bale_build (s, &o, &res, &err) == 0)
        fprintf (stderr, "the build was not cancelled\n");
      else if (err->status != ECANCELED)
        apitest_fail ("not ECANCELED", &err);
      else if (time (NULL) - start > 30)
        fprintf (stderr, "the cancellation took %ld s\n", (long) (time (NULL) - start));
      else
        ret = 0;
      bale_error_release (&err);
      pthread_join (t, NULL);
      bale_cancel_free (c);
    }
  bale_store_close (s);
  return ret;
}
