/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data-driven plan and image-config cases (tests/data/config/NAME.test): a Dockerfile, build
 * options, base images, and the image config, plan or diagnostics bale must produce. The
 * expected configs were checked against docker's BuildKit builder where noted in the files.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bale.h"
#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "codegen/plan.h"
#include "common/error.h"
#include "common/ignore.h"
#include "common/xalloc.h"
#include "tests/run_data.h"
#include "tests/testutil.h"

bool
data_is_plan_mode (const char *mode)
{
  return strcmp (mode, "CONFIG") == 0 || strcmp (mode, "PLAN") == 0
         || strcmp (mode, "PLANFAIL") == 0 || strcmp (mode, "PLANWARN") == 0;
}

char *
data_normalize_json (const char *text)
{
  json_error_t je;
  json_t *j = json_loads (text, JSON_DECODE_ANY, &je);
  char *s;

  if (!j)
    return xasprintf ("invalid JSON at line %d: %s\n", je.line, je.text);
  s = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
  json_decref (j);
  return s;
}

static char *
full_name (const char *ref)
{
  struct oci_ref r = { 0 };
  bale_error_t e = NULL;
  char *s;

  if (oci_ref_parse (ref, 0, &r, &e) < 0)
    {
      bale_error_release (&e);
      return xstrdup (ref);
    }
  s = oci_ref_full (&r);
  oci_ref_release (&r);
  return s;
}

static int
resolve (void *ctx, const char *ref, const struct bale_platform *platform, json_t **config,
         char **digest, bale_error_t *err)
{
  const struct data_case *c = ctx;
  size_t i;

  (void) platform;
  for (i = 0; i < c->n_images; i++)
    {
      char *name = full_name (c->images[i].ref);
      bool match = strcmp (name, ref) == 0;
      json_error_t je;

      free (name);
      if (!match)
        continue;
      *config = json_loads (c->images[i].config.buf, 0, &je);
      if (!*config)
        return bale_make_error (err, 0, "test image %s: bad JSON: %s", ref, je.text);
      if (digest)
        *digest = NULL;
      return 1;
    }
  return 0;
}

static void
apply_opts (const struct data_case *c, struct plan_opts *po, const char ***args, size_t *n)
{
  size_t i;

  for (i = 0; i < c->n_opts; i += 2)
    {
      const char *k = c->opts[i], *v = i + 1 < c->n_opts ? c->opts[i + 1] : NULL;
      if (strcmp (k, "--check") == 0)
        {
          /* `bale lint`: every stage, images planned as empty configs */
          po->all_stages = po->lenient = true;
          i--;
          continue;
        }
      if (v == NULL)
        test_fail ("%s: option %s without a value", c->name, k);
      if (strcmp (k, "--build-arg") == 0)
        {
          *args = xrealloc (*args, (*n + 1) * sizeof **args);
          (*args)[(*n)++] = v;
        }
      else if (strcmp (k, "--target") == 0)
        po->target = v;
      else if (strcmp (k, "--platform") == 0)
        po->platform = v;
      else if (strcmp (k, "--dockerignore") == 0)
        {
          /* the .dockerignore's lines, comma-separated */
          struct ignore_matcher *m = NULL;
          bale_error_t e = NULL;
          char *text = xstrdup (v), *q;

          for (q = text; *q; q++)
            if (*q == ',')
              *q = '\n';
          if (ignore_matcher_parse (text, strlen (text), &m, &e) < 0)
            test_fail ("%s: bad --dockerignore: %s", c->name, e->msg);
          free (text);
          po->ignore = m;
        }
      else
        test_fail ("%s: unknown option %s", c->name, k);
    }
  /* The configs name an architecture: pin it so the expected files hold on any host. */
  if (!po->platform)
    po->platform = "linux/amd64";
  po->build_args = *args;
  po->n_build_args = *n;
}

static void
render_config (const struct plan *p, struct strbuf *out)
{
  bale_error_t err = NULL;
  const struct plan_times times = { NULL, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z" };
  json_t *cfg = plan_final_config (p, &p->stages[p->target], &times, NULL, 0, &err);
  char *canon, *pretty;

  if (!cfg)
    {
      char *t = test_format_errors (err);
      strbuf_addf (out, "plan_final_config failed: %s", t);
      free (t);
      bale_error_release (&err);
      return;
    }
  /* Through the canonical serializer, as the image is written. */
  canon = canonjson_dumps (cfg, NULL, &err);
  json_decref (cfg);
  if (!canon)
    {
      strbuf_addstr (out, "canonjson failed\n");
      bale_error_release (&err);
      return;
    }
  pretty = data_normalize_json (canon);
  strbuf_addstr (out, pretty);
  strbuf_addch (out, '\n');
  free (pretty);
  free (canon);
}

bool
data_run_plan_case (const struct data_case *c, struct strbuf *out)
{
  struct bale_dockerfile *df = NULL;
  struct plan *p = NULL;
  struct plan_opts po = { 0 };
  const char **args = NULL;
  size_t n_args = 0;
  bale_error_t err = NULL;
  bool want_fail = strcmp (c->mode, "PLANFAIL") == 0, ok = true;
  int r;

  apply_opts (c, &po, &args, &n_args);
  po.resolve = resolve;
  po.resolve_ctx = (void *) c;
  r = bale_parse_checked ("Dockerfile", c->input.buf, c->input.len, &df, &err);
  if (r == 0)
    r = plan_build (df, &po, &p, &err);
  if ((r < 0) != want_fail)
    {
      char *t = test_format_errors (err);
      strbuf_addf (out, "unexpected %s\n%s", r < 0 ? "failure" : "success", t ? t : "");
      free (t);
      ok = false;
    }
  else if (r < 0)
    {
      char *t = test_format_errors (err);
      strbuf_addstr (out, t);
      free (t);
    }
  else if (strcmp (c->mode, "PLANWARN") == 0)
    {
      char *t = test_format_errors (p->warnings);
      strbuf_addstr (out, t);
      free (t);
    }
  else if (strcmp (c->mode, "PLAN") == 0)
    {
      char *t = plan_to_text (p, true);
      strbuf_addstr (out, t);
      free (t);
    }
  else
    render_config (p, out);
  bale_error_release (&err);
  plan_free (p);
  bale_dockerfile_free (df);
  ignore_matcher_free ((struct ignore_matcher *) po.ignore);
  free (args);
  return ok;
}
