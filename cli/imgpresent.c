/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the image commands share on the public API: names and sizes as Docker prints them,
   the check of a new name (tag, build -t), and the registry options of pull, push and
   login. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apicmd.h"
#include "common/cleanup.h"
#include "common/oci/digest.h"
#include "common/oci/ref.h"
#include "common/xalloc.h"
#include "common/banned.h"

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
  char *repo = NULL, *tag = NULL;

  if (cli_familiar (full, &repo, &tag) == 0)
    printf ("Untagged: %s:%s\n", repo, tag);
  else
    printf ("Deleted: %s\n", full);
  free (repo);
  free (tag);
}

static void
log_stderr (void *ctx, const char *msg)
{
  (void) ctx;
  fprintf (stderr, "%s\n", msg);
}

void
cli_regopts_init (struct cli_regopts *r, bool quiet)
{
  const char *env = getenv ("BALE_INSECURE_REGISTRY");
  struct bale_registry_options init = BALE_REGISTRY_OPTIONS_INIT;

  memset (r, 0, sizeof *r);
  r->o = init;
  r->o.log = quiet ? NULL : log_stderr;
  /* One name from the environment, for CI jobs that cannot change every command line. */
  if (env && *env)
    cli_regopts_option (r, CLI_OPT_INSECURE, env);
}

bool
cli_regopts_option (struct cli_regopts *r, int c, const char *arg)
{
  switch (c)
    {
    case CLI_OPT_INSECURE:
      XGROW (r->insecure, r->insecure_alloc, r->n_insecure + 2);
      r->insecure[r->n_insecure++] = arg;
      r->insecure[r->n_insecure] = NULL;
      r->o.insecure = r->insecure;
      return true;
    case CLI_OPT_TLS_CA:
      r->o.ca_file = arg;
      return true;
    default:
      return false;
    }
}

void
cli_regopts_release (struct cli_regopts *r)
{
  free (r->insecure);
  r->insecure = NULL;
}

int
cli_check_name (const char *name, bale_error_t *err)
{
  const char *slash = strrchr (name, '/'), *colon = strrchr (name, ':'), *p;
  const char *end = colon && (!slash || colon > slash) ? colon : name + strlen (name);

  /* Docker: "invalid reference format: repository name (X) must be lowercase"; the tag
     after the last ':' may have capitals. */
  for (p = name; p < end && *p != '@'; p++)
    if (*p >= 'A' && *p <= 'Z')
      {
        /* Only when capitals are what is wrong: other faults get the usual message. */
        cleanup_free char *low = xstrdup (name);
        struct oci_ref r = { 0 };
        bale_error_t e = NULL;
        for (char *q = low; q < low + (end - name); q++)
          if (*q >= 'A' && *q <= 'Z')
            *q = (char) (*q - 'A' + 'a');
        if (oci_ref_parse (low, 0, &r, &e) < 0)
          {
            bale_error_release (&e);
            return 0;
          }
        oci_ref_release (&r);
        return bale_make_error (err, 0, "invalid tag '%s': repository name must be lowercase", name);
      }
  return 0;
}
