/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the store subcommands: opening the store, names as Docker prints them. */
#include <config.h>

#include <errno.h>
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/store.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* The store's directory for g, or NULL with an error. */
static char *
store_dir (const struct cli_global *g, bale_error_t *err)
{
  char *path = g->store ? xstrdup (g->store) : store_default_path (err);
  struct stat st;

  /* Commands that only read never create a store where there is none. */
  if (path && g->read_only && stat (path, &st) < 0 && errno == ENOENT)
    {
      bale_make_error (err, 0, "no store at '%s' (nothing was built, pulled or loaded there yet)", path);
      free (path);
      return NULL;
    }
  return path;
}

int
cli_store_open (const struct cli_global *g, struct store **out, bale_error_t *err)
{
  cleanup_free char *path = store_dir (g, err);

  return path ? store_open (path, out, err) : -1;
}

int
cli_bale_store (const struct cli_global *g, bale_store **out, bale_error_t *err)
{
  cleanup_free char *path = store_dir (g, err);

  return path ? bale_store_open (path, out, err) : -1;
}

int
cli_familiar (const char *full, char **repo, char **tag)
{
  struct oci_ref ref;
  bale_error_t ignored = NULL;

  /* Untagged images are kept under their digest; Docker shows them as <none>. */
  if (digest_is_valid (full) || oci_ref_parse (full, 0, &ref, &ignored) < 0)
    {
      bale_error_release (&ignored);
      *repo = xstrdup ("<none>");
      *tag = xstrdup ("<none>");
      return -1;
    }
  *repo = oci_ref_familiar_name (&ref);
  *tag = xstrdup (ref.tag);
  oci_ref_release (&ref);
  return 0;
}

json_t *
cli_repo_tags (const struct store_ref *refs, size_t n, const char *target)
{
  json_t *tags = json_array ();
  size_t i;

  for (i = 0; i < n; i++)
    {
      cleanup_free char *repo = NULL, *tag = NULL;

      if (strcmp (refs[i].digest, target) == 0 && cli_familiar (refs[i].name, &repo, &tag) == 0)
        json_array_append_new (tags, json_sprintf ("%s:%s", repo, tag));
    }
  return tags;
}

char *
cli_human_size (int64_t size)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double v = (double) size;
  size_t i = 0;

  /* go-units HumanSizeWithPrecision(size, 3): decimal units, three significant digits. */
  while (v >= 1000 && i + 1 < sizeof units / sizeof units[0])
    {
      v /= 1000;
      i++;
    }
  return xasprintf ("%.3g%s", v, units[i]);
}

void
cli_print_untagged (const char *full)
{
  cleanup_free char *repo = NULL, *tag = NULL;

  if (cli_familiar (full, &repo, &tag) == 0)
    printf ("Untagged: %s:%s\n", repo, tag);
  else
    printf ("Deleted: %s\n", full);
}

int
cli_untag_where (struct store *s, const char *target, bool untagged_only, bale_error_t *err)
{
  struct store_ref *refs = NULL;
  char want[DIGEST_STRLEN + 1], id[DIGEST_STRLEN + 1];
  size_t n = 0, i;
  int ret;

  if ((ret = store_ref_list (s, &refs, &n, err)) < 0)
    return ret;
  if (target)
    store_image_id (s, target, want);
  for (i = 0; i < n && ret == 0; i++)
    {
      if (target)
        store_image_id (s, refs[i].digest, id);
      if ((target && strcmp (id, want) != 0) || (untagged_only && !digest_is_valid (refs[i].name)))
        continue;
      if ((ret = store_ref_delete (s, refs[i].name, err)) == 0)
        cli_print_untagged (refs[i].name);
    }
  store_refs_free (refs, n);
  return ret;
}
