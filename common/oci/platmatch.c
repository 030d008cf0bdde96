/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Platform matching with containerd's fallbacks (platforms/compare.go), for multi-arch indexes. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/oci/platmatch.h"
#include "common/xalloc.h"
#include "common/banned.h"

static bool
streq0 (const char *a, const char *b)
{
  return strcmp (a ? a : "", b ? b : "") == 0;
}

/* The numeric part of a "vN" variant; 0 for none or one we do not understand. */
static int
variant_level (const char *v)
{
  if (v == NULL || v[0] != 'v' || v[1] < '1' || v[1] > '9')
    return 0;
  return atoi (v + 1);
}

/* want=amd64/vN serves amd64/vN … v1 (v1 is the empty variant), then 386. */
static int
rank_amd64 (const struct bale_platform *w, const struct bale_platform *h)
{
  int wl = w->variant ? variant_level (w->variant) : 1;
  int hl = h->variant ? variant_level (h->variant) : 1;

  if (strcmp (h->arch, "386") == 0)
    return wl + 1;
  if (strcmp (h->arch, "amd64") != 0 || hl == 0 || hl > wl)
    return -1;
  return wl - hl;
}

/* want=arm/vN serves arm/vN … v5; arm64 (whose default variant is v8) also serves arm/v8 … v5. */
static int
rank_arm (const struct bale_platform *w, const struct bale_platform *h)
{
  int wl, hl, base = 0;

  if (strcmp (w->arch, "arm64") == 0)
    {
      if (strcmp (h->arch, "arm64") == 0)
        return streq0 (w->variant, h->variant) ? 0 : -1;
      wl = 8;
      base = 1;
    }
  else
    wl = variant_level (w->variant);
  if (strcmp (h->arch, "arm") != 0)
    return -1;
  hl = variant_level (h->variant);
  if (hl < 5 || hl > wl)
    return -1;
  return base + wl - hl;
}

static int
rank_normalized (const struct bale_platform *w, const struct bale_platform *h)
{
  if (!streq0 (w->os, h->os))
    return -1;
  if (streq0 (w->arch, h->arch) && streq0 (w->variant, h->variant))
    return 0;
  if (strcmp (w->arch, "amd64") == 0)
    return rank_amd64 (w, h);
  if (strcmp (w->arch, "arm") == 0 || strcmp (w->arch, "arm64") == 0)
    return rank_arm (w, h);
  return -1;
}

static void
copy_normalized (const struct bale_platform *src, struct bale_platform *dst)
{
  dst->os = xstrdup (src->os ? src->os : "");
  dst->arch = xstrdup (src->arch ? src->arch : "");
  dst->variant = src->variant ? xstrdup (src->variant) : NULL;
  platform_normalize (dst);
}

int
platmatch_rank (const struct bale_platform *want, const struct bale_platform *have)
{
  struct bale_platform w = { 0 }, h = { 0 };
  int r;

  copy_normalized (want, &w);
  copy_normalized (have, &h);
  r = rank_normalized (&w, &h);
  platform_release (&w);
  platform_release (&h);
  return r;
}

int
platmatch_select (const json_t *index, const struct bale_platform *want)
{
  const json_t *manifests = json_object_get (index, "manifests");
  int best = -1, best_rank = -1;
  size_t i;

  for (i = 0; i < json_array_size (manifests); i++)
    {
      const json_t *p = json_object_get (json_array_get (manifests, i), "platform");
      struct bale_platform have = {
        .os = (char *) json_string_value (json_object_get (p, "os")),
        .arch = (char *) json_string_value (json_object_get (p, "architecture")),
        .variant = (char *) json_string_value (json_object_get (p, "variant")),
      };
      int r;

      if (have.os == NULL || have.arch == NULL || strcmp (have.os, "unknown") == 0)
        continue;
      r = platmatch_rank (want, &have);
      if (r >= 0 && (best < 0 || r < best_rank))
        {
          best = (int) i;
          best_rank = r;
        }
    }
  return best;
}
