/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: any input must give an AST or an error, never a crash, leak or hang. */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bale.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct bale_dockerfile *df = NULL;
  bale_error_t err = NULL;

  if (bale_parse_checked ("Dockerfile", (const char *) data, size, &df, &err) == 0)
    {
      free (bale_dump (df));
      free (bale_ast_to_json (df, 0));
      bale_dockerfile_free (df);
    }
  else
    {
      const struct bale_error_s *e;
      for (e = err; e; e = e->next)
        free (bale_error_format (e));
      bale_error_release (&err);
    }
  return 0;
}
