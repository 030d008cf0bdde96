/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for what a registry (or a registry cache) sends: WWW-Authenticate
 * challenges, image references, platform choice in an index and the fleet cache's config.
 * The first byte picks the parser; any input must give a result or an error, never a crash,
 * leak or hang.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/oci/platmatch.h"
#include "common/xalloc.h"
#include "runtime/build/cache_registry.h"
#include "runtime/registry/registry.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  bale_error_t err = NULL;
  char *text;

  if (size < 2)
    return 0;
  /* The parsers take C strings: what follows the selector, NUL-terminated. */
  text = xstrndup ((const char *) data + 2, size - 2);
  switch (data[0] % 4)
    {
    case 0:
      {
        struct registry_challenge c = { 0 };
        if (registry_challenge_parse (text, &c, &err) == 0)
          registry_challenge_release (&c);
        break;
      }
    case 1:
      {
        struct oci_ref r = { 0 };
        if (oci_ref_parse (text, OCI_REF_DIGEST, &r, &err) == 0)
          {
            free (oci_ref_full (&r));
            free (registry_url (&r, "manifests", r.tag ? r.tag : r.digest, NULL));
            oci_ref_release (&r);
          }
        break;
      }
    case 2:
      {
        json_t *index = json_loadb ((const char *) data + 2, size - 2, 0, NULL);
        struct bale_platform want = { .os = (char *) "linux", .arch = (char *) "arm64",
                                      .variant = (char *) "v8" };
        (void) platmatch_select (index, &want);
        json_decref (index);
        break;
      }
    default:
      {
        struct cache_artifact_entry *v = NULL;
        size_t n = 0;
        if (cache_artifact_parse ((const char *) data + 2, size - 2, data[1], &v, &n, &err) == 0)
          free (v);
        break;
      }
    }
  bale_error_release (&err);
  free (text);
  return 0;
}
