/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the programs that test libbale through <bale.h> alone share (tests/helpers/api_*.c,
 * built with apitest.c): errors printed, a store opened, expectations counted.
 */
#ifndef BALE_TESTS_APITEST_H
#define BALE_TESTS_APITEST_H

#include <stdio.h>

#include "bale.h"

/* How many EXPECTs failed; main returns non-zero when any did. */
extern int apitest_failures;

#define EXPECT(cond)                                                                           \
  do                                                                                           \
    {                                                                                          \
      if (!(cond))                                                                             \
        {                                                                                      \
          fprintf (stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                 \
          apitest_failures++;                                                                  \
        }                                                                                      \
    }                                                                                          \
  while (0)

/* Every error of *err on stderr as bale_error_format writes it, the first after "WHAT: " when
   what is not NULL; *err is released. Nothing when *err is NULL. */
void apitest_show (const char *what, bale_error_t *err);
/* apitest_show, "(no error)" when there was none; returns 1 (an exit status). */
int apitest_fail (const char *what, bale_error_t *err);
/* The store at path, or exit 1 with the error. */
bale_store *apitest_store (const char *path);

#endif
