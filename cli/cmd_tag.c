/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale tag`: give an image of the store another name. */
#include <config.h>

#include <stdio.h>

#include "cli/apicmd.h"
#include "common/banned.h"

int
bale_cmd_tag (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  int first = cli_simple_args (argc, argv, "usage: bale tag SOURCE TARGET\n", 2, 2, err);
  bale_store *s = NULL;
  int ret;

  if (cli_check_name (argv[first + 1], err) < 0 || cli_bale_store (g, &s, err) < 0)
    return -1;
  ret = bale_image_tag (s, argv[first], argv[first + 1], err);
  bale_store_close (s);
  return ret;
}
