/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for common/kvhist: the states of a kvlist kept without a copy each. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/kvhist.h"

/* The list of state s, joined with spaces. */
static char *
joined (const struct kv_state *s)
{
  struct kvlist l = KVLIST_INIT;
  size_t len = 1, i;
  char *out;

  kv_state_get (s, &l);
  for (i = 0; i < l.n; i++)
    len += strlen (l.kv[i]) + 1;
  out = calloc (1, len);
  for (i = 0; i < l.n; i++)
    {
      if (i)
        strcat (out, " ");
      strcat (out, l.kv[i]);
    }
  kv_release (&l);
  return out;
}

static void
test_states (void **state)
{
  struct kvlist l = KVLIST_INIT;
  struct kv_history *h = NULL;
  struct kv_state empty, s1, s2, s3;
  char *t;

  (void) state;
  empty = kv_state_take (h);
  kv_history_record (&h, &l, kv_set (&l, "A", "1"));
  kv_history_record (&h, &l, kv_set (&l, "B", "2"));
  s1 = kv_state_take (h);
  /* A replaced in place: it keeps its first position, as kv_set keeps it. */
  kv_history_record (&h, &l, kv_set (&l, "A", "3"));
  s2 = kv_state_take (h);
  kv_history_record (&h, &l, kv_set_entry (&l, "C"));
  s3 = kv_state_take (h);
  kv_release (&l);
  kv_history_unref (h); /* the states keep it */

  t = joined (&empty), assert_string_equal (t, ""), free (t);
  t = joined (&s1), assert_string_equal (t, "A=1 B=2"), free (t);
  t = joined (&s2), assert_string_equal (t, "A=3 B=2"), free (t);
  t = joined (&s3), assert_string_equal (t, "A=3 B=2 C="), free (t);
  kv_state_release (&empty);
  kv_state_release (&s1);
  kv_state_release (&s2);
  kv_state_release (&s3);
}

static void
test_record_all (void **state)
{
  struct kvlist l = KVLIST_INIT;
  struct kv_history *h = NULL;
  struct kv_state s;
  char *t;

  (void) state;
  kv_set (&l, "X", "1");
  kv_set (&l, "Y", "2");
  kv_history_record_all (&h, &l);
  kv_history_record (&h, &l, kv_set (&l, "X", "9"));
  s = kv_state_take (h);
  t = joined (&s), assert_string_equal (t, "X=9 Y=2"), free (t);
  kv_state_release (&s);
  kv_history_unref (h);
  kv_release (&l);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_states),
    cmocka_unit_test (test_record_all),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
