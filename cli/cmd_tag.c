/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale tag`: give an image of the store another name. */
#include <config.h>

#include <stdio.h>

#include "cli/cli.h"
#include "cli/store.h"
#include "common/error.h"
#include "common/banned.h"

int
bale_cmd_tag (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  int first = cli_simple_args (argc, argv, "usage: bale tag SOURCE TARGET\n", 2, 2, err);
  char target[DIGEST_STRLEN + 1];
  struct store *s = NULL;
  int ret;

  if (cli_check_name (argv[first + 1], err) < 0 || cli_store_open (g, &s, err) < 0)
    return -1;
  ret = store_resolve (s, argv[first], target, err);
  if (ret == 0)
    ret = store_ref_set (s, argv[first + 1], target, err);
  store_close (s);
  return ret;
}
