/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image functions of libbale (include/bale/image.h) through the shared library and
 * <bale.h> alone, as an embedder uses them (tests/cli/api_images.sh):
 *   api_images details STORE NAME   details agree with bale_images_list and with themselves
 *   api_images remove STORE NAME    a second name of NAME is removed, the image kept; a
 *                                   missing name fails
 *   api_images prune STORE          prune reports what it removed and the space it freed
 *   api_images why STORE NAME       an image has the same layers as itself
 *   api_images registry             domains, options checked, logout of nothing fails
 *   api_images binfmt PLATFORM      PLATFORM (this machine's) runs natively; nonsense fails
 * Exit 0 when it holds; the reason on stderr otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/apitest.h"

static void
details (bale_store *s, const char *name)
{
  bale_error_t err = NULL;
  struct bale_image_details *d = NULL;
  struct bale_image *images = NULL;
  size_t n = 0, i, found = 0;
  int64_t sum = 0;

  if (bale_image_details_get (s, name, NULL, &d, &err) < 0 || bale_images_list (s, &images, &n, &err) < 0)
    {
      apitest_show (NULL, &err);
      exit (1);
    }
  for (i = 0; i < n; i++)
    if (strcmp (images[i].digest, d->target) == 0)
      {
        found++;
        EXPECT (strcmp (images[i].id, d->id) == 0);
      }
  EXPECT (found > 0);
  EXPECT (d->n_layers > 0);
  for (i = 0; i < d->n_layers; i++)
    {
      EXPECT (strncmp (d->diff_ids[i], "sha256:", 7) == 0);
      EXPECT (d->layer_sizes[i] > 0);
      sum += d->layer_sizes[i];
    }
  /* Size is the config's bytes and the layers', as docker counts it. */
  EXPECT (d->size == sum + (int64_t) d->config_len);
  EXPECT (d->config[0] == '{' && strlen (d->config) == d->config_len);
  EXPECT (strcmp (d->manifest, d->target) == 0);
  bale_image_details_free (d);
  bale_images_free (images, n);
  /* A name that is not there: an error, nothing returned. */
  d = NULL;
  EXPECT (bale_image_details_get (s, "no/such:image", NULL, &d, &err) < 0 && err && !d);
  bale_error_release (&err);
  EXPECT (bale_image_details_get (s, name, "not a platform", &d, &err) < 0 && err);
  bale_error_release (&err);
}

static void
removal (bale_store *s, const char *name)
{
  bale_error_t err = NULL;
  char **untagged = NULL, **deleted = NULL;
  const char *what[] = { "api/second:1" };
  const char *missing[] = { "api/third:1", "no/such:image" };
  struct bale_image_details *d = NULL;

  if (bale_image_tag (s, name, "api/third:1", &err) < 0 || bale_image_tag (s, name, what[0], &err) < 0
      || bale_images_remove (s, what, 1, &untagged, &deleted, &err) < 0)
    {
      apitest_show (NULL, &err);
      exit (1);
    }
  EXPECT (untagged && untagged[0] && strcmp (untagged[0], "docker.io/api/second:1") == 0 && !untagged[1]);
  /* The image keeps its other names: nothing is deleted. */
  EXPECT (deleted && deleted[0] == NULL);
  bale_strv_free (untagged);
  bale_strv_free (deleted);
  EXPECT (bale_image_details_get (s, name, NULL, &d, &err) == 0);
  bale_image_details_free (d);
  /* A missing name fails; the one before it stays removed and is reported. */
  untagged = deleted = NULL;
  EXPECT (bale_images_remove (s, missing, 2, &untagged, &deleted, &err) < 0 && err);
  EXPECT (untagged && untagged[0] && strcmp (untagged[0], "docker.io/api/third:1") == 0 && !untagged[1]);
  EXPECT (deleted == NULL);
  bale_strv_free (untagged);
  bale_error_release (&err);
}

static void
prune (bale_store *s)
{
  bale_error_t err = NULL;
  char **untagged = NULL;
  int64_t reclaimed = -1;

  if (bale_store_prune (s, -1, &untagged, &reclaimed, &err) < 0)
    {
      apitest_show (NULL, &err);
      exit (1);
    }
  EXPECT (untagged != NULL);
  EXPECT (reclaimed >= 0);
  bale_strv_free (untagged);
  EXPECT (bale_store_prune (s, -5, NULL, NULL, &err) < 0 && err && err->status == EINVAL);
  bale_error_release (&err);
}

static void
why (bale_store *s, const char *name)
{
  bale_error_t err = NULL;
  struct bale_layer_diff *d = NULL;
  size_t n = 1;

  EXPECT (bale_cache_why (s, name, name, &d, &n, &err) == 0 && n == 0);
  bale_layer_diffs_free (d, n);
  apitest_show (NULL, &err);
  EXPECT (bale_cache_why (s, name, "no/such:image", &d, &n, &err) < 0 && err);
  bale_error_release (&err);
}

static void
registry (const char *tmp)
{
  struct bale_registry_options o = BALE_REGISTRY_OPTIONS_INIT, bad = { 0 };
  bale_error_t err = NULL;
  char *dom, auth[4096];

  dom = bale_registry_domain ("https://index.docker.io/v1/");
  EXPECT (strcmp (dom, "docker.io") == 0);
  free (dom);
  dom = bale_registry_domain ("http://h:5000/x");
  EXPECT (strcmp (dom, "h:5000") == 0);
  free (dom);
  /* An options struct without its size is refused, not misread. */
  EXPECT (bale_image_pull_with (NULL, "x", &bad, NULL, &err) < 0 && err && err->status == EINVAL);
  bale_error_release (&err);
  o.compression = "brotli";
  EXPECT (bale_image_push_with (NULL, "x", NULL, &o, NULL, &err) < 0 && err && err->status == EINVAL);
  bale_error_release (&err);
  /* Logging out of a registry the auth file has no credentials for fails, and the file named
     is the one used. */
  snprintf (auth, sizeof auth, "%s/auth.json", tmp);
  o.compression = NULL;
  o.auth_file = auth;
  EXPECT (bale_registry_logout ("127.0.0.1:1", &o, &err) < 0 && err);
  bale_error_release (&err);
  /* A registry nobody answers on: the error names it. */
  EXPECT (bale_registry_login ("127.0.0.1:1", "u", "p", &o, &err) < 0 && err
          && strstr (err->msg, "127.0.0.1:1"));
  bale_error_release (&err);
}

static void
binfmt (const char *host)
{
  struct bale_binfmt_status st;
  bale_error_t err = NULL;

  EXPECT (bale_binfmt_status (host, &st, &err) == 0 && st.how == BALE_BINFMT_NATIVE
          && strcmp (st.platform, host) == 0 && !st.reason && !st.handler);
  bale_binfmt_status_release (&st);
  apitest_show (NULL, &err);
  EXPECT (bale_binfmt_status ("not a platform", &st, &err) < 0 && err);
  bale_error_release (&err);
  /* Native: installing is nothing to do, root or not. */
  EXPECT (bale_binfmt_install (host, &err) == 0);
  apitest_show (NULL, &err);
}

int
main (int argc, char **argv)
{
  bale_store *s = NULL;

  if (argc >= 4 && strcmp (argv[1], "details") == 0)
    details (s = apitest_store (argv[2]), argv[3]);
  else if (argc >= 4 && strcmp (argv[1], "remove") == 0)
    removal (s = apitest_store (argv[2]), argv[3]);
  else if (argc >= 3 && strcmp (argv[1], "prune") == 0)
    prune (s = apitest_store (argv[2]));
  else if (argc >= 4 && strcmp (argv[1], "why") == 0)
    why (s = apitest_store (argv[2]), argv[3]);
  else if (argc >= 3 && strcmp (argv[1], "registry") == 0)
    registry (argv[2]);
  else if (argc >= 3 && strcmp (argv[1], "binfmt") == 0)
    binfmt (argv[2]);
  else
    {
      fprintf (stderr, "usage: api_images details|remove|prune|why|registry|binfmt ...\n");
      return 2;
    }
  bale_store_close (s);
  return apitest_failures ? 1 : 0;
}
