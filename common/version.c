/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The library version, from configure. */
#include <config.h>

#include "bale.h"

const char *
bale_version (void)
{
  return PACKAGE_VERSION;
}
