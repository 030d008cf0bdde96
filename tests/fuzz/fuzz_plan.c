/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the compiler: a Dockerfile that parses is planned (every stage, with
   the build checks, base images planned as empty configs) and rendered; any input must give a
   plan or located errors, never a crash, leak or hang. The first line of the input may give
   build args: "#args K=V K2=V2". */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bale.h"
#include "codegen/plan.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Build args from a leading "#args ..." line, split on spaces into v (at most 8). */
static size_t
build_args (const char *text, size_t size, char *buf, size_t buf_size, const char **v)
{
  size_t n = 0, len;
  const char *nl;
  char *p;

  if (size < 6 || memcmp (text, "#args ", 6) != 0)
    return 0;
  nl = memchr (text, '\n', size);
  len = (size_t) ((nl ? nl : text + size) - text) - 6;
  if (len >= buf_size)
    len = buf_size - 1;
  memcpy (buf, text + 6, len);
  buf[len] = '\0';
  for (p = strtok (buf, " "); p && n < 8; p = strtok (NULL, " "))
    if (strchr (p, '='))
      v[n++] = p;
  return n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct bale_dockerfile *df = NULL;
  struct plan_opts po = { 0 };
  struct plan *plan = NULL;
  bale_error_t err = NULL;
  const char *args[8];
  char buf[512];

  if (bale_parse_checked ("Dockerfile", (const char *) data, size, &df, &err) < 0)
    {
      bale_error_release (&err);
      return 0;
    }
  po.build_args = args;
  po.n_build_args = build_args ((const char *) data, size, buf, sizeof buf, args);
  po.lenient = true;
  po.all_stages = true;
  if (plan_build (df, &po, &plan, &err) == 0)
    {
      json_decref (plan_to_json (plan, true));
      free (plan_to_text (plan, true));
      for (const struct bale_error_s *w = plan->warnings; w != NULL; w = w->next)
        free (bale_error_format (w));
      plan_free (plan);
    }
  /* Every error formats, its source excerpt included. */
  for (const struct bale_error_s *e = err; e != NULL; e = e->next)
    free (bale_error_format (e));
  bale_error_release (&err);
  bale_dockerfile_free (df);
  return 0;
}
