/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A whole `bale build` (buildrun.h): its options, parsed once, and the steps around the executor. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/build/buildrun.h"
#include "runtime/build/context.h"
#include "runtime/build/buildindex.h"
#include "runtime/build/ctxsource.h"
#include "runtime/build/executor.h"
#include "runtime/build/export.h"
#include "runtime/build/progress.h"
#include "runtime/layer/rootview.h"
#include "runtime/sandbox/binfmt.h"
#include "runtime/store/layout.h"
#include "runtime/store/store.h"
#include "codegen/plan.h"
#include "codegen/provenance.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/ignore.h"
#include "common/oci/canonjson.h"
#include "common/oci/oci.h"
#include "common/oci/platform.h"
#include "common/oci/ref.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/trace.h"
#include "common/banned.h"

/* ---- the options ------------------------------------------------------------------------- */

/* "arm64" and "linux/arm64" are one platform: compared normalised (a platform that does not
   parse is compared as written; the plan reports it). */
static bool
same_platform (const char *a, const char *b)
{
  struct bale_platform pa = { 0 }, pb = { 0 };
  bale_error_t e = NULL;
  bool same = strcmp (a, b) == 0;

  if (!same && platform_parse (a, &pa, &e) == 0 && platform_parse (b, &pb, &e) == 0)
    {
      cleanup_free char *fa = platform_format (&pa), *fb = platform_format (&pb);
      same = strcmp (fa, fb) == 0;
    }
  bale_error_release (&e);
  platform_release (&pa);
  platform_release (&pb);
  return same;
}

int
build_platforms_add (char ***v, size_t *n, size_t *alloc, const char *arg, bale_error_t *err)
{
  /* buildx: a comma-separated list, and the flag repeated, both add platforms. */
  cleanup_free char *list = xstrdup (arg);
  char *save = list, *item;

  while ((item = strsep (&save, ",")) != NULL)
    {
      size_t i;
      while (*item == ' ')
        item++;
      if (!*item)
        return bale_make_error (err, 0, "invalid --platform '%s': an empty platform", arg);
      for (i = 0; i < *n && !same_platform ((*v)[i], item); i++)
        ;
      if (i < *n)
        continue;
      XGROW (*v, *alloc, *n + 1);
      (*v)[(*n)++] = xstrdup (item);
    }
  return 0;
}

int
build_args_add (char ***v, size_t *n, size_t *alloc, const char *arg, bale_error_t *err)
{
  const char *eq = strchr (arg, '=');
  char *kv;

  if (eq == arg || *arg == '\0')
    return bale_make_error (err, 0, "invalid --build-arg '%s': want KEY=VALUE or KEY", arg);
  if (eq)
    kv = xstrdup (arg);
  else
    {
      /* docker: a bare name takes its value from the environment and is dropped when the
         environment does not have it. */
      const char *val = getenv (arg);
      if (!val)
        return 0;
      kv = xasprintf ("%s=%s", arg, val);
    }
  XGROW (*v, *alloc, *n + 1);
  (*v)[(*n)++] = kv;
  return 0;
}

int
build_sandbox_option (const char *name, const char *arg, bool *allow_insecure, const char **network,
                      struct sandbox_host **hosts, size_t *n_hosts, size_t *alloc_hosts,
                      struct sandbox_rlimit **rlimits, size_t *n_rlimits, size_t *alloc_rlimits,
                      uint64_t *shm_size, bale_error_t *err)
{
  if (strcmp (name, "allow") == 0)
    {
      if (strcmp (arg, "security.insecure") == 0)
        *allow_insecure = true;
      else if (strcmp (arg, "network.host") != 0)
        return bale_make_error (err, 0, "--allow: unknown entitlement '%s' (want "
                                        "security.insecure or network.host)", arg);
      return 1;
    }
  if (strcmp (name, "network") == 0)
    {
      if (strcmp (arg, "default") != 0 && strcmp (arg, "none") != 0 && strcmp (arg, "host") != 0)
        return bale_make_error (err, 0, "--network: unsupported network mode '%s' (want "
                                        "default, none or host)", arg);
      *network = arg;
      return 1;
    }
  if (strcmp (name, "add-host") == 0)
    {
      char *hname, *ip;
      if (sandbox_parse_host (arg, &hname, &ip, err) < 0)
        return bale_error_wrap (err, "--add-host");
      XGROW (*hosts, *alloc_hosts, *n_hosts + 1);
      (*hosts)[*n_hosts].name = hname;
      (*hosts)[(*n_hosts)++].ip = ip;
      return 1;
    }
  if (strcmp (name, "ulimit") == 0)
    {
      struct sandbox_rlimit rl;
      size_t i;
      if (sandbox_parse_ulimit (arg, &rl, err) < 0)
        return bale_error_wrap (err, "--ulimit");
      /* docker: the last one given for a resource wins. */
      for (i = 0; i < *n_rlimits && (*rlimits)[i].resource != rl.resource; i++)
        ;
      if (i == *n_rlimits)
        XGROW (*rlimits, *alloc_rlimits, ++*n_rlimits);
      (*rlimits)[i] = rl;
      return 1;
    }
  if (strcmp (name, "shm-size") == 0)
    {
      if (sandbox_parse_size (arg, shm_size, err) < 0)
        return bale_error_wrap (err, "--shm-size");
      return 1;
    }
  return 0;
}

static void
add_str (const char ***v, size_t *n, size_t *alloc, const char *s)
{
  XGROW (*v, *alloc, *n + 2);
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

/* The options whose value needs more than storing: each checks it and adds it to r (<0: a
   bad value, with *err naming the option as the command line spells it). */

static int
opt_sandbox (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  return build_sandbox_option (name, value, &r->allow_insecure, &r->network, &r->hosts, &r->n_hosts,
                               &r->alloc_hosts, &r->rlimits, &r->n_rlimits, &r->alloc_rlimits,
                               &r->shm_size, err);
}

static int
opt_platform (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  (void) name;
  return build_platforms_add (&r->platforms, &r->n_platforms, &r->alloc_platforms, value, err);
}

static int
opt_build_arg (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  (void) name;
  return build_args_add (&r->build_args, &r->n_build_args, &r->alloc_build_args, value, err);
}

static int
opt_tag (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  struct oci_ref ref = { 0 };
  cleanup_error bale_error_t e = NULL;

  (void) name;
  if (oci_ref_parse (value, 0, &ref, &e) < 0)
    return bale_make_error (err, 0, "invalid tag '%s': %s", value, e->msg);
  oci_ref_release (&ref);
  add_str (&r->tags, &r->n_tags, &r->alloc_tags, value);
  return 0;
}

static int
opt_output (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  (void) name;
  return buildoutput_parse (&r->outputs, value, err);
}

static int
opt_build_context (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  (void) name;
  return namedctx_add (&r->named, value, err);
}

static int
opt_compression (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  enum registry_compression c;

  (void) name;
  if (!registry_compression_parse (value, &c))
    return bale_make_error (err, 0, "--compression: unknown '%s' (want gzip, gzip-single, zstd or none)",
                            value);
  r->compression = value;
  return 0;
}

/* --no-cache-filter a,b: each a stage name (lowercased, as the plan keeps them). */
static int
opt_no_cache_filter (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  cleanup_free char *list = xstrdup (value);
  char *save = list, *item;

  (void) name;
  (void) err;
  while ((item = strsep (&save, ",")) != NULL)
    if (*item)
      {
        for (char *p = item; *p; p++)
          if (*p >= 'A' && *p <= 'Z')
            *p = (char) (*p - 'A' + 'a');
        XGROW (r->no_cache_stages, r->alloc_no_cache_stages, r->n_no_cache_stages + 1);
        r->no_cache_stages[r->n_no_cache_stages++] = xstrdup (item);
      }
  return 0;
}

static int
opt_secret (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  (void) name;
  return buildsecrets_add_secret (&r->secrets, value, err);
}

static int
opt_ssh (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  (void) name;
  return buildsecrets_add_ssh (&r->secrets, value, err);
}

static int
opt_cache (struct build_request *r, const char *name, const char *value, bale_error_t *err)
{
  return buildcache_add (&r->caches, value, strcmp (name, "cache-to") == 0, err);
}

/*
 * Every option of a build, the one place they are known: the name as the command line spells
 * it without its dashes, and what it does to struct build_request: a flag sets a bool, a
 * string is kept (the last one wins), a list gets one more entry, anything else has a parser.
 * `bale build` passes its command line through this table (cli/cmd_build.c has the spellings
 * only the command knows: -q's output, --progress, --iidfile...), bale_build its fields.
 */
enum build_option_kind
{
  OPT_FLAG,   /* bool at .field; no value */
  OPT_STRING, /* const char * at .field */
  OPT_LIST,   /* const char ** at .field, its count at .n, its allocation at .alloc */
  OPT_PARSE,  /* .parse checks the value and adds it */
};

struct build_option
{
  const char *name;
  enum build_option_kind kind;
  size_t field, n, alloc;
  int (*parse) (struct build_request *r, const char *name, const char *value, bale_error_t *err);
};

#define FLAG(name, f) { name, OPT_FLAG, offsetof (struct build_request, f), 0, 0, NULL }
#define STRING(name, f) { name, OPT_STRING, offsetof (struct build_request, f), 0, 0, NULL }
#define LIST(name, f)                                                                          \
  { name, OPT_LIST, offsetof (struct build_request, f), offsetof (struct build_request, n_##f),   \
    offsetof (struct build_request, alloc_##f), NULL }
#define PARSE(name, fn) { name, OPT_PARSE, 0, 0, 0, fn }

static const struct build_option build_options[] = {
  STRING ("file", file),
  STRING ("target", target),
  PARSE ("platform", opt_platform),
  PARSE ("build-arg", opt_build_arg),
  PARSE ("tag", opt_tag),
  PARSE ("output", opt_output),
  LIST ("label", labels),
  LIST ("annotation", annotations),
  PARSE ("build-context", opt_build_context),
  PARSE ("compression", opt_compression),
  FLAG ("no-cache", no_cache),
  PARSE ("no-cache-filter", opt_no_cache_filter),
  FLAG ("pull", pull),
  FLAG ("push", push),
  FLAG ("explain-cache", explain_cache),
  FLAG ("check", check),
  FLAG ("quiet", quiet),
  STRING ("source-date-epoch", epoch),
  PARSE ("secret", opt_secret),
  PARSE ("ssh", opt_ssh),
  PARSE ("cache-to", opt_cache),
  PARSE ("cache-from", opt_cache),
  LIST ("insecure-registry", insecure),
  STRING ("tls-ca", ca_file),
  /* RUN's sandbox, shared with `bale plan` (build_sandbox_option). */
  PARSE ("allow", opt_sandbox),
  PARSE ("network", opt_sandbox),
  PARSE ("add-host", opt_sandbox),
  PARSE ("ulimit", opt_sandbox),
  PARSE ("shm-size", opt_sandbox),
};

bool
build_option_known (const char *name, bool *takes_value)
{
  for (size_t i = 0; i < sizeof build_options / sizeof build_options[0]; i++)
    if (strcmp (build_options[i].name, name) == 0)
      {
        if (takes_value)
          *takes_value = build_options[i].kind != OPT_FLAG;
        return true;
      }
  return false;
}

int
build_request_option (struct build_request *r, const char *name, const char *value,
                      bale_error_t *err)
{
  const struct build_option *o = NULL;
  char *base = (char *) r;

  for (size_t i = 0; !o && i < sizeof build_options / sizeof build_options[0]; i++)
    if (strcmp (build_options[i].name, name) == 0)
      o = &build_options[i];
  if (!o)
    return 0;
  /* The command line always has a value for them; an embedder may forget it. */
  if (o->kind != OPT_FLAG && !value)
    return bale_make_error (err, 0, "--%s: a value is needed", name);
  switch (o->kind)
    {
    case OPT_FLAG:
      *(bool *) (base + o->field) = true;
      break;
    case OPT_STRING:
      *(const char **) (base + o->field) = value;
      break;
    case OPT_LIST:
      add_str ((const char ***) (base + o->field), (size_t *) (base + o->n), (size_t *) (base + o->alloc), value);
      break;
    case OPT_PARSE:
      if (o->parse (r, name, value, err) < 0)
        return -1;
      break;
    }
  return 1;
}

/* The outputs buildx refuses for several platforms, refused before anything is built. */
static int
check_multi_outputs (const struct build_request *r, bale_error_t *err)
{
  for (size_t i = 0; r->n_platforms > 1 && i < r->outputs.n; i++)
    {
      if (r->outputs.v[i].type == OUT_DOCKER_ARCHIVE)
        return bale_make_error (err, 0, "-o type=docker: docker exporter does not currently support exporting "
                                        "manifest lists (%zu platforms); use type=oci or type=oci-archive, "
                                        "or one --platform", r->n_platforms);
      if (r->outputs.v[i].type == OUT_TAR)
        return bale_make_error (err, 0, "-o type=tar: one tar for %zu platforms is not supported; use "
                                        "type=local (one directory per platform) or one --platform",
                                r->n_platforms);
    }
  return 0;
}

int
build_request_finish (struct build_request *r, bale_error_t *err)
{
  if (!r->context)
    r->context = ".";
  if (r->push && r->n_tags == 0)
    return bale_make_error (err, 0, "--push needs a -t name to push to");
  if (check_multi_outputs (r, err) < 0)
    return -1;
  return buildoutput_check (&r->outputs, err);
}

void
build_request_release (struct build_request *r)
{
  size_t i;

  for (i = 0; i < r->n_build_args; i++)
    free (r->build_args[i]);
  free (r->build_args);
  for (i = 0; i < r->n_hosts; i++)
    {
      free ((char *) r->hosts[i].name);
      free ((char *) r->hosts[i].ip);
    }
  free (r->hosts);
  free (r->rlimits);
  for (i = 0; i < r->n_platforms; i++)
    free (r->platforms[i]);
  free (r->platforms);
  for (i = 0; i < r->n_no_cache_stages; i++)
    free (r->no_cache_stages[i]);
  free (r->no_cache_stages);
  free (r->tags);
  free (r->labels);
  free (r->annotations);
  free (r->insecure);
  buildoutput_release (&r->outputs);
  buildcache_release (&r->caches);
  buildsecrets_release (&r->secrets);
  /* The named contexts' private store names are removed by build_run. */
  namedctx_release (&r->named, NULL);
  memset (r, 0, sizeof *r);
}

void
build_outcome_release (struct build_outcome *o)
{
  free (o->metadata);
  o->metadata = NULL;
  for (size_t i = 0; o->written && o->written[i]; i++)
    free (o->written[i]);
  free (o->written);
  o->written = NULL;
}

bool
build_request_stdout (const struct build_request *r)
{
  return buildoutput_stdout (&r->outputs);
}

/* What "wrote DEST" lines name. */
static char **
written (const struct build_request *r)
{
  char **v = xcalloc (r->outputs.n + 1, sizeof *v);
  size_t n = 0;

  for (size_t i = 0; i < r->outputs.n; i++)
    if (r->outputs.v[i].type != OUT_STORE && r->outputs.v[i].type != OUT_REGISTRY
        && strcmp (r->outputs.v[i].dest, "-") != 0)
      v[n++] = xstrdup (r->outputs.v[i].dest);
  return v;
}

/* ---- base images ------------------------------------------------------------------------- */

/* Is the stored document digest an image index? */
static bool
is_index (struct store *s, const char *digest)
{
  cleanup_free char *text = NULL;
  size_t len;
  bale_error_t e = NULL;
  json_t *doc;
  bool yes;

  if (store_blob_read (s, digest, 4 << 20, &text, &len, &e) < 0)
    {
      bale_error_release (&e);
      return false;
    }
  doc = json_loadb (text, len, 0, NULL);
  yes = json_is_array (json_object_get (doc, "manifests"));
  json_decref (doc);
  return yes;
}

int
build_resolve_image (struct store *s, const char *ref, const struct bale_platform *platform,
                     const struct registry_opts *pull_opts, bool pull_always, json_t **config,
                     char **digest, bale_error_t *err)
{
  const char *at = strchr (ref, '@');
  char target[DIGEST_STRLEN + 1];
  struct store_image img = { 0 };

  if (at)
    {
      /* name@sha256:…: the digest decides; the name is only a label. */
      if (!store_blob_exists (s, at + 1))
        return 0;
      snprintf (target, sizeof target, "%s", at + 1);
    }
  else
    {
      int r = pull_always && pull_opts ? 0 : store_ref_lookup (s, ref, target, err);
      if (r < 0)
        return -1;
      if (r == 0 && !pull_opts)
        return 0;
      /* docker build pulls a base it does not have (and every base with --pull). */
      if (r == 0 && registry_pull (s, ref, platform, pull_opts, target, err) < 0)
        return -1;
    }
  if (store_image_read (s, target, platform, &img, err) < 0)
    {
      /* A pull keeps the index and the one image it was for: another platform's image is
         pulled now, as docker build does (not for name@digest, whose index is all there is). */
      if (at || !pull_opts || !is_index (s, target))
        return -1;
      bale_error_release (err);
      if (registry_pull (s, ref, platform, pull_opts, target, err) < 0
          || store_image_read (s, target, platform, &img, err) < 0)
        return -1;
    }
  *config = json_incref (img.config_json);
  if (digest)
    *digest = xstrdup (img.manifest);
  store_image_release (&img);
  return 1;
}

/* ---- the build --------------------------------------------------------------------------- */

struct run
{
  struct build_request *r;
  struct store *st;
  struct registry_opts reg;
  struct buildevents_log log; /* the vertex of the moment (pulls, exports) */
  const struct bale_progress *events;
  struct build_outcome *out;
  bool exported; /* an image format was written (compressed layers) */
  char *dockerfile;
  json_t *index_annotations; /* --annotation index:K=V of a multi-platform build, or NULL */
};

/* The plan's resolver: a named context's image instead, pulled when the store lacks it, as a
   vertex "[internal] load metadata for REF". */
static int
resolve (void *ctx, const char *ref, const struct bale_platform *platform, json_t **config,
         char **digest, bale_error_t *err)
{
  struct run *c = ctx;
  const char *named = namedctx_lookup (&c->r->named, ref);
  int r;

  if (named)
    ref = named;
  if (c->events)
    buildevents_resolve_start (&c->log.vertex, c->events, ref);
  r = build_resolve_image (c->st, ref, platform, &c->reg, c->r->pull, config, digest, err);
  if (c->events)
    progress_vertex_end (&c->log.vertex, false, r < 0 && *err ? (*err)->msg : NULL);
  return r;
}

static int
plan_one (struct run *c, const char *platform, struct bale_dockerfile **df, struct plan **plan,
          bale_error_t *err)
{
  const struct build_request *r = c->r;
  struct plan_opts po = { 0 };
  struct ignore_matcher *ignore = NULL;
  int ret;

  /* The parser's warnings come back from the planner as NoEmptyContinuation checks. */
  if (bale_parse_file_checked (c->dockerfile, df, err) < 0)
    return -1;
  po.target = r->target;
  po.build_args = (const char *const *) r->build_args;
  po.n_build_args = r->n_build_args;
  po.platform = platform;
  po.resolve = resolve;
  po.resolve_ctx = c;
  po.lenient = r->check;
  po.allow_insecure = r->allow_insecure;
  /* BuildKit checks every stage when no target is given. */
  po.all_stages = r->check && r->target == NULL;
  /* CopyIgnoredFile reads the context's .dockerignore; a bad one fails the build later. */
  {
    bale_error_t e = NULL;
    if (ignore_matcher_load (r->context, c->dockerfile, &ignore, &e) == 0)
      po.ignore = ignore;
    bale_error_release (&e);
  }
  ret = plan_build (*df, &po, plan, err);
  ignore_matcher_free (ignore);
  if (ret < 0)
    return -1;
  build_say_diagnostics (&r->say, (*plan)->warnings);
  return 0;
}

/* --source-date-epoch wins over the SOURCE_DATE_EPOCH build arg, which wins over the
   environment, as with buildx. */
static int
source_date_epoch (const struct build_request *r, bool *set, int64_t *epoch, bale_error_t *err)
{
  const char *v = getenv ("SOURCE_DATE_EPOCH");
  char *end;

  for (size_t i = 0; i < r->n_build_args; i++)
    if (strncmp (r->build_args[i], "SOURCE_DATE_EPOCH=", 18) == 0)
      v = r->build_args[i] + 18;
  if (r->epoch)
    v = r->epoch;
  *set = false;
  if (!v || !*v)
    return 0;
  errno = 0;
  *epoch = strtoll (v, &end, 10);
  if (errno || *end || *epoch < 0)
    return bale_make_error (err, 0, "invalid SOURCE_DATE_EPOCH '%s': want seconds since 1970", v);
  *set = true;
  return 0;
}

static int
write_output (struct run *c, const struct build_output *out, const struct exec_image *img,
              bale_error_t *err)
{
  struct layout_image li;
  struct layout_blob *layers;
  const char *name = c->r->n_tags ? c->r->tags[0] : NULL;
  const char *dest = strcmp (out->dest, "-") == 0 ? "/dev/stdout" : out->dest;
  /* BuildKit's status of the oci and docker exporters, for a directory as for a tar. */
  struct meter m = METER_INIT (progress_transfer, &c->log.vertex,
                               out->type == OUT_OCI ? "copying files" : "sending tarball");
  int r;

  buildindex_layout_image (img, &li, &layers);
  li.meter = &m;
  switch (out->type)
    {
    case OUT_OCI: r = layout_write_dir (dest, &li, name, err); break;
    case OUT_OCI_ARCHIVE: r = layout_write_oci_archive (dest, &li, name, err); break;
    case OUT_DOCKER_ARCHIVE: r = layout_write_docker_archive (dest, &li, name, err); break;
    default: r = 0; break; /* the store, pushes, local and tar are written elsewhere */
    }
  free (layers);
  return r;
}

/* COPY --from=IMAGE and RUN --mount=from=IMAGE read images too: pull the ones the store
   lacks before the build starts, so a missing image fails early, at its line. */
static int
pull_one (struct run *c, struct plan *p, const struct plan_stage *st, const struct plan_step *step,
          const char *image, bale_error_t *err)
{
  char digest[DIGEST_STRLEN + 1];
  bale_error_t e = NULL;
  int r = c->r->pull ? 0 : store_ref_lookup (c->st, image, digest, &e);

  if (r == 0)
    {
      buildevents_resolve_start (&c->log.vertex, c->events, image);
      r = registry_pull (c->st, image, &st->platform, &c->reg, digest, &e) < 0 ? -1 : 1;
      progress_vertex_end (&c->log.vertex, false, r < 0 && e ? e->msg : NULL);
    }
  if (r < 0)
    {
      plan_error_at (p, &step->node->span, err, "%s: %s", image, e ? e->msg : "cannot pull");
      bale_error_release (&e);
      return -1;
    }
  return 0;
}

static int
pull_sources (struct run *c, struct plan *p, bale_error_t *err)
{
  size_t i, j, k;

  for (i = 0; i < p->n_stages; i++)
    {
      const struct plan_stage *st = &p->stages[i];
      if (!st->reachable)
        continue;
      for (j = 0; j < st->n_steps; j++)
        {
          const struct plan_step *step = &st->steps[j];
          if (step->from.stage < 0 && step->from.image
              && pull_one (c, p, st, step, step->from.image, err) < 0)
            return -1;
          for (k = 0; step->mount_from && k < step->n_mounts; k++)
            if (step->mount_from[k].stage < 0 && step->mount_from[k].image
                && pull_one (c, p, st, step, step->mount_from[k].image, err) < 0)
              return -1;
        }
    }
  return 0;
}

/* Keep the image in the store under each -t name, or under its digest when untagged, as
   `docker build` keeps a dangling image. */
static int
store_image (struct run *c, const struct exec_image *img, bale_error_t *err)
{
  const struct build_request *r = c->r;
  char got[DIGEST_STRLEN + 1];
  size_t i;
  int ret = -1;

  if (store_txn_begin (c->st, err) < 0)
    return -1;
  memcpy (c->out->stored, img->manifest_digest, sizeof c->out->stored);
  {
    /* BuildKit's image exporter statuses; the layers are in the store already. */
    cleanup_free char *m = xasprintf ("exporting manifest %s", img->manifest_digest);
    cleanup_free char *cf = xasprintf ("exporting config %s", img->config_digest);
    progress_vertex_status (&c->log.vertex, "exporting layers", 0, 0, true);
    progress_vertex_status (&c->log.vertex, m, 0, 0, true);
    progress_vertex_status (&c->log.vertex, cf, 0, 0, true);
    for (i = 0; i < r->n_tags; i++)
      {
        cleanup_free char *full = buildevents_name (r->tags[i]);
        cleanup_free char *naming = xasprintf ("naming to %s", full);
        progress_vertex_status (&c->log.vertex, naming, 0, 0, true);
      }
  }
  if (store_blob_put (c->st, img->config, img->config_len, got, err) < 0)
    goto out;
  if (store_blob_put (c->st, img->manifest, img->manifest_len, got, err) < 0)
    goto out;
  if (r->n_tags == 0 && store_ref_set (c->st, img->manifest_digest, img->manifest_digest, err) < 0)
    goto out;
  for (i = 0; i < r->n_tags; i++)
    if (store_ref_set (c->st, r->tags[i], img->manifest_digest, err) < 0)
      goto out;
  ret = 0;
out:
  store_txn_end (c->st);
  return ret;
}

/* --push (every -t name) and --output type=registry: the image goes from the store. */
static int
push_one (struct run *c, const char *name, const char *dest, bale_error_t *err)
{
  cleanup_free char *full = buildevents_name (dest ? dest : name);
  cleanup_free char *vname = xasprintf ("pushing %s", full);
  int r;

  progress_vertex_start (&c->log.vertex, c->events, vname, vname);
  r = registry_push (c->st, name, dest, &c->reg, c->out->pushed, err);
  if (r == 0)
    {
      cleanup_free char *m = xasprintf ("pushing manifest for %s@%s", full, c->out->pushed);
      progress_vertex_status (&c->log.vertex, m, 0, 0, true);
      if (!c->r->quiet && !c->events)
        build_say (&c->r->say, "pushed %s: digest: %s", dest ? dest : name, c->out->pushed);
    }
  progress_vertex_end (&c->log.vertex, false, r < 0 && *err ? (*err)->msg : NULL);
  return r;
}

static int
push_outputs (struct run *c, const char *what, bale_error_t *err)
{
  const struct build_request *r = c->r;
  size_t i;

  for (i = 0; r->push && i < r->n_tags; i++)
    if (push_one (c, r->tags[i], NULL, err) < 0)
      return -1;
  for (i = 0; i < r->outputs.n; i++)
    if (r->outputs.v[i].type == OUT_REGISTRY && push_one (c, what, r->outputs.v[i].dest, err) < 0)
      return -1;
  return 0;
}

/* "-", git and http(s) contexts: fetched into a scratch directory that becomes the context;
   -f names a file inside it (a relative path) or on this machine (an absolute one). */
static int
prepare_context (struct run *c, struct ctxsource *cs, bale_error_t *err)
{
  struct build_request *r = c->r;
  const char *spec = r->context;
  bool keep = false, git = ctxsource_is_git (spec);
  struct progress_vertex v;
  cleanup_free char *name = NULL;
  int ret;

  for (size_t i = 0; i < r->n_build_args; i++)
    if (strncmp (r->build_args[i], "BUILDKIT_CONTEXT_KEEP_GIT_DIR=", 30) == 0)
      keep = strcmp (r->build_args[i] + 30, "1") == 0 || strcmp (r->build_args[i] + 30, "true") == 0;
  name = git ? xasprintf ("[internal] load git source %s", spec) : xstrdup ("[internal] load remote build context");
  if (strcmp (spec, "-") != 0 && access (spec, F_OK) == 0)
    {
      c->dockerfile = r->file ? xstrdup (r->file) : xasprintf ("%s/Dockerfile", spec);
      return 0;
    }
  if (strcmp (spec, "-") != 0 && !git && strncasecmp (spec, "http://", 7) != 0
      && strncasecmp (spec, "https://", 8) != 0)
    return bale_make_error (err, 0, "unable to prepare context: path \"%s\" not found", spec);
  progress_vertex_start (&v, c->events, "remote", name);
  {
    /* An http(s) download counts its bytes as it goes (of its Content-Length); what came on
       stdin is said at the end. */
    struct meter m = METER_INIT (progress_transfer, &v, "transferring context:");
    struct stat st;
    const char *got;

    ret = ctxsource_prepare (spec, keep, &m, cs, err);
    got = cs->file && stat (cs->file, &st) == 0 ? cs->file : cs->dockerfile;
    if (ret == 0 && strcmp (spec, "-") == 0 && got && stat (got, &st) == 0)
      progress_vertex_status (&v, "transferring context:", (int64_t) st.st_size, 0, true);
  }
  progress_vertex_end (&v, false, ret < 0 && *err ? (*err)->msg : NULL);
  if (ret < 0)
    return ret;
  if (!cs->dir)
    {
      c->dockerfile = r->file ? xstrdup (r->file) : xasprintf ("%s/Dockerfile", spec);
      return 0;
    }
  r->context = cs->context;
  if (cs->dockerfile && r->file)
    return bale_make_error (err, 0, "ambiguous Dockerfile source: both %s and flag correspond to Dockerfiles",
                            strcmp (spec, "-") == 0 ? "stdin" : "the URL");
  if (cs->dockerfile)
    c->dockerfile = xstrdup (cs->dockerfile);
  else if (r->file && r->file[0] == '/')
    c->dockerfile = xstrdup (r->file);
  else
    c->dockerfile = xasprintf ("%s/%s", cs->context, r->file ? r->file : "Dockerfile");
  return 0;
}

/* The outputs written from the build's result: local and tar from the layers as they are,
   then the image formats from the layers compressed once for all of them. */
static int
write_outputs (struct run *c, struct exec_image *img, bale_error_t *err)
{
  static const char *const names[] = {
    [OUT_LOCAL] = "exporting to client directory", [OUT_TAR] = "exporting to client tarball",
    [OUT_OCI] = "exporting to oci image format", [OUT_OCI_ARCHIVE] = "exporting to oci image format",
    [OUT_DOCKER_ARCHIVE] = "exporting to docker image format",
  };
  const struct build_request *r = c->r;
  bool compressed = false;
  size_t i;

  for (int pass = 0; pass < 2; pass++)
    for (i = 0; i < r->outputs.n; i++)
      {
        const struct build_output *o = &r->outputs.v[i];
        bool fs = o->type == OUT_LOCAL || o->type == OUT_TAR;
        cleanup_free char *key = xasprintf ("output/%zu", i);
        int ret;
        if (o->type == OUT_STORE || o->type == OUT_REGISTRY || fs != (pass == 0))
          continue;
        progress_vertex_start (&c->log.vertex, c->events, key, names[o->type]);
        ret = 0;
        if (!fs && !compressed)
          {
            /* Compressing is the exporter's first status in BuildKit too: its time shows. */
            enum layer_compression comp;
            progress_vertex_status (&c->log.vertex, "exporting layers", 0, 0, false);
            ret = export_parse_compression (r->compression ? r->compression : "gzip", &comp, err) < 0
                  || export_compress (c->st, img, comp, err) < 0 ? -1 : 0;
            if (ret == 0)
              progress_vertex_status (&c->log.vertex, "exporting layers", 0, 0, true);
            compressed = c->exported = ret == 0;
          }
        if (ret == 0)
          ret = fs ? buildoutput_write_fs (c->st, img, o, &c->log.vertex, &r->say, err) : write_output (c, o, img, err);
        progress_vertex_end (&c->log.vertex, false, ret < 0 && *err ? (*err)->msg : NULL);
        if (ret < 0)
          return -1;
      }
  return 0;
}

static const char *
registry_dest (const struct build_request *r)
{
  for (size_t i = 0; i < r->outputs.n; i++)
    if (r->outputs.v[i].type == OUT_REGISTRY)
      return r->outputs.v[i].dest;
  return NULL;
}

/* --metadata-file: the keys buildx writes for an image export (json.MarshalIndent: sorted
   keys, two spaces, no final newline); only {} when every output is a plain filesystem
   (local, tar), as buildx's exporters return no keys for those. */
static char *
make_metadata (const struct run *c, const struct exec_image *img, size_t index_len)
{
  const struct build_request *r = c->r;
  const char *pushed = c->out->pushed, *stored = c->out->stored;
  json_t *m = json_object ();
  bool image = r->outputs.n == 0;
  char *text;
  size_t i;

  for (i = 0; i < r->outputs.n; i++)
    image |= r->outputs.v[i].type != OUT_LOCAL && r->outputs.v[i].type != OUT_TAR;
  if (image && !img)
    {
      /* An index (img NULL): its descriptor and digest, and no config digest (there is one
         per platform). */
      const char *digest = *pushed ? pushed : stored;
      json_t *desc = json_pack ("{s:s,s:s}", "mediaType", OCI_MT_INDEX, "digest", digest);
      if (!*pushed)
        json_object_set_new (desc, "size", json_integer ((json_int_t) index_len));
      json_object_set_new (m, "containerimage.digest", json_string (digest));
      json_object_set_new (m, "containerimage.descriptor", desc);
    }
  else if (image)
    {
      /* As buildx merges its exporters' answers, the last one wins: a push, else an image
         written out (compressed, so its manifest differs from the store's), else the store. */
      const char *digest = *pushed ? pushed : c->exported ? img->manifest_digest : stored;
      json_t *desc = json_pack ("{s:s,s:s}", "mediaType", "application/vnd.oci.image.manifest.v1+json",
                                "digest", digest);
      if (!*pushed && (c->exported || strcmp (stored, img->manifest_digest) == 0))
        json_object_set_new (desc, "size", json_integer ((json_int_t) img->manifest_len));
      json_object_set_new (desc, "platform", json_pack ("{s:s,s:s}", "architecture", img->platform.arch,
                                                        "os", img->platform.os));
      if (img->platform.variant)
        json_object_set_new (json_object_get (desc, "platform"), "variant", json_string (img->platform.variant));
      json_object_set_new (m, "containerimage.digest", json_string (digest));
      json_object_set_new (m, "containerimage.config.digest", json_string (img->config_digest));
      json_object_set_new (m, "containerimage.descriptor", desc);
    }
  if (image)
    {
      struct strbuf names = STRBUF_INIT;
      for (i = 0; i < r->n_tags; i++)
        {
          cleanup_free char *full = buildevents_name (r->tags[i]);
          strbuf_addf (&names, "%s%s", i ? "," : "", full);
        }
      if (names.len)
        json_object_set_new (m, "image.name", json_string (names.buf));
      strbuf_release (&names);
    }
  text = json_dumps (m, JSON_INDENT (2) | JSON_SORT_KEYS);
  json_decref (m);
  return text;
}

/* Say once per platform which RUN steps will run under emulation, before any runs; a
   platform nothing can run is left to its first RUN, which fails naming what to install. */
static void
announce_emulation (struct run *c, struct plan *const *plans, size_t n)
{
  cleanup_strv char **said = xcalloc (1, sizeof *said);
  size_t n_said = 0, i, j, k;

  for (i = 0; i < n; i++)
    for (j = 0; j < plans[i]->n_stages; j++)
      {
        const struct plan_stage *st = &plans[i]->stages[j];
        const struct bale_platform *pl = st->platform.os ? &st->platform : &plans[i]->target_platform;
        struct binfmt_handler h;
        bale_error_t e = NULL;
        cleanup_free char *name = NULL;
        bool run = false;
        for (k = 0; st->reachable && k < st->n_steps; k++)
          run |= st->steps[k].instr == BALE_I_RUN;
        if (!run)
          continue;
        name = platform_format (pl);
        for (k = 0; k < n_said && strcmp (said[k], name) != 0; k++)
          ;
        if (k < n_said)
          continue;
        said = xrealloc (said, (n_said + 2) * sizeof *said);
        said[n_said++] = xstrdup (name);
        said[n_said] = NULL;
        if (binfmt_lookup (BINFMT_MISC_DIR, &plans[i]->build_platform, pl, &h, &e) == BINFMT_EMULATED)
          {
            /* A vertex of its own, so that every progress mode shows it in its place. */
            cleanup_free char *msg = xasprintf ("[internal] RUN steps for %s run under emulation: "
                                                "binfmt_misc handler %s (%s)", name, h.name, h.interpreter);
            cleanup_free char *key = xasprintf ("emulation/%s", name);
            if (c->events)
              {
                progress_vertex_start (&c->log.vertex, c->events, key, msg);
                progress_vertex_end (&c->log.vertex, false, NULL);
              }
            else if (!c->r->quiet)
              build_say (&c->r->say, "%s", msg);
          }
        binfmt_handler_release (&h);
        bale_error_release (&e);
      }
}

/* The build's record for `bale explain`, kept in the store by config digest; an image
   without it is still a good image. */
static void
keep_provenance (struct run *c, const struct plan *plan, const char *config_digest)
{
  json_t *prov = provenance_from_plan (plan);
  bale_error_t e = NULL;
  char *abs = realpath (c->dockerfile, NULL);
  cleanup_free char *dir = store_area_path (c->st, STORE_AREA_PROVENANCE, NULL);
  cleanup_free char *name = xasprintf ("%s.json", digest_hex (config_digest));
  cleanup_free char *text = NULL;
  cleanup_close int fd = -1;
  size_t len;

  json_object_set_new (prov, "dockerfile", json_string (abs ? abs : c->dockerfile));
  free (abs);
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    bale_make_error (&e, errno, "cannot create '%s'", dir);
  else if ((fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    bale_make_error (&e, errno, "cannot open '%s'", dir);
  else if ((text = canonjson_dumps (prov, &len, &e)) != NULL)
    layout_write_atomic (fd, name, text, len, &e);
  if (e)
    {
      bale_error_wrap (&e, "build record for `bale explain` not kept");
      build_say_warnings (&c->r->say, e);
      bale_error_release (&e);
    }
  json_decref (prov);
}

/* The index in the store: every platform's manifest and config (their layers are there
   already), then the index, then its names. */
static int
store_index (struct run *c, const struct exec_image *imgs, size_t n, const char *bytes, size_t len,
             const char *digest, bale_error_t *err)
{
  const struct build_request *r = c->r;
  char got[DIGEST_STRLEN + 1];
  size_t i;
  int ret = -1;

  if (store_txn_begin (c->st, err) < 0)
    return -1;
  memcpy (c->out->stored, digest, sizeof c->out->stored);
  for (i = 0; i < n; i++)
    {
      cleanup_free char *m = xasprintf ("exporting manifest %s", imgs[i].manifest_digest);
      cleanup_free char *cf = xasprintf ("exporting config %s", imgs[i].config_digest);
      progress_vertex_status (&c->log.vertex, m, 0, 0, true);
      progress_vertex_status (&c->log.vertex, cf, 0, 0, true);
      if (store_blob_put (c->st, imgs[i].config, imgs[i].config_len, got, err) < 0
          || store_blob_put (c->st, imgs[i].manifest, imgs[i].manifest_len, got, err) < 0)
        goto out;
    }
  {
    cleanup_free char *m = xasprintf ("exporting manifest list %s", digest);
    progress_vertex_status (&c->log.vertex, m, 0, 0, true);
  }
  if (store_blob_put (c->st, bytes, len, got, err) < 0)
    goto out;
  if (r->n_tags == 0 && store_ref_set (c->st, digest, digest, err) < 0)
    goto out;
  for (i = 0; i < r->n_tags; i++)
    {
      cleanup_free char *full = buildevents_name (r->tags[i]);
      cleanup_free char *naming = xasprintf ("naming to %s", full);
      progress_vertex_status (&c->log.vertex, naming, 0, 0, true);
      if (store_ref_set (c->st, r->tags[i], digest, err) < 0)
        goto out;
    }
  ret = 0;
out:
  store_txn_end (c->st);
  return ret;
}

/* local: one directory per platform (buildx's platform-split); oci and oci-archive: the
   index over the images with their layers compressed once. */
static int
write_outputs_multi (struct run *c, struct exec_image *imgs, size_t n, bale_error_t *err)
{
  const struct build_request *r = c->r;
  bool compressed = false;
  size_t i, j;

  for (i = 0; i < r->outputs.n; i++)
    {
      const struct build_output *o = &r->outputs.v[i];
      cleanup_free char *key = xasprintf ("output/%zu", i);
      int ret = 0;
      if (o->type != OUT_LOCAL && o->type != OUT_OCI && o->type != OUT_OCI_ARCHIVE)
        continue;
      progress_vertex_start (&c->log.vertex, c->events, key,
                             o->type == OUT_LOCAL ? "exporting to client directory" : "exporting to oci image format");
      if (o->type != OUT_LOCAL && !compressed)
        {
          enum layer_compression comp;
          progress_vertex_status (&c->log.vertex, "exporting layers", 0, 0, false);
          ret = export_parse_compression (r->compression ? r->compression : "gzip", &comp, err);
          for (j = 0; ret == 0 && j < n; j++)
            ret = export_compress (c->st, &imgs[j], comp, err);
          if (ret == 0)
            progress_vertex_status (&c->log.vertex, "exporting layers", 0, 0, true);
          compressed = c->exported = ret == 0;
        }
      for (j = 0; o->type == OUT_LOCAL && ret == 0 && j < n; j++)
        {
          cleanup_free char *sub = buildindex_platform_dir (&imgs[j].platform);
          struct build_output one = { OUT_LOCAL, xasprintf ("%s/%s", o->dest, sub), o->privileged_files };
          ret = buildoutput_write_fs (c->st, &imgs[j], &one, &c->log.vertex, &c->r->say, err);
          free (one.dest);
        }
      if (o->type != OUT_LOCAL && ret == 0)
        {
          struct meter m = METER_INIT (progress_transfer, &c->log.vertex,
                                       o->type == OUT_OCI ? "copying files" : "sending tarball");
          ret = buildindex_write_layout (o, imgs, n, c->index_annotations, r->n_tags ? r->tags[0] : NULL,
                                         &m, err);
        }
      progress_vertex_end (&c->log.vertex, false, ret < 0 && *err ? (*err)->msg : NULL);
      if (ret < 0)
        return -1;
    }
  return 0;
}

static int
amend (const struct build_request *r, struct exec_image *img, bale_error_t *err)
{
  return buildoutput_labels (img, r->labels, r->n_labels, err) < 0
                 || buildoutput_annotations (img, r->annotations, r->n_annotations, r->n_platforms > 1, err) < 0
             ? -1
             : 0;
}

/*
 * --platform P1,P2,...: the Dockerfile planned once per platform and the platforms built in
 * parallel (executor_build_platforms) into one image index. A stage that does not depend on
 * the target platform (FROM --platform=$BUILDPLATFORM, no TARGET* argument) has the same cache
 * keys for every platform (exec_cache.c keys the stage's own platform), so its steps run once,
 * for whichever platform reaches them first, and the others take their layers, also with
 * --no-cache.
 */
static int
build_multi (struct run *c, struct exec_opts *eo, struct plan *first, bale_error_t *err)
{
  const struct build_request *r = c->r;
  size_t np = r->n_platforms, i, j, n_layers = 0;
  struct plan **plans = xcalloc (np, sizeof *plans);
  struct bale_dockerfile **dfs = xcalloc (np, sizeof *dfs);
  struct exec_image *imgs = xcalloc (np, sizeof *imgs);
  cleanup_strv char **image_layers = NULL;
  cleanup_free char *bytes = NULL;
  char digest[DIGEST_STRLEN + 1];
  struct timespec started;
  size_t len = 0;
  int ret = -1, rr;

  buildcache_import (c->st, &r->caches, &c->reg, r->quiet, &r->say);
  clock_gettime (CLOCK_REALTIME_COARSE, &started);
  eo->platform_prefix = true;
  plans[0] = first;
  for (i = 1; i < np; i++)
    {
      if (plan_one (c, r->platforms[i], &dfs[i], &plans[i], err) < 0)
        goto out;
      namedctx_rewrite_plan (&r->named, plans[i]);
    }
  for (i = 0; i < np; i++)
    if (pull_sources (c, plans[i], err) < 0)
      goto out;
  announce_emulation (c, plans, np);
  if (executor_build_platforms (plans, np, eo, imgs, err) < 0)
    goto out;
  for (i = 0; i < np; i++)
    {
      if (amend (r, &imgs[i], err) < 0)
        goto out;
      n_layers += imgs[i].n_layers;
    }
  if (buildoutput_index_annotations (r->annotations, r->n_annotations, &c->index_annotations, err) < 0
      || buildindex_make (imgs, np, c->index_annotations, &bytes, &len, digest, err) < 0)
    goto out;
  progress_vertex_start (&c->log.vertex, eo->events, "export", "exporting to image");
  rr = store_index (c, imgs, np, bytes, len, digest, err);
  progress_vertex_end (&c->log.vertex, false, rr < 0 && *err ? (*err)->msg : NULL);
  if (rr < 0)
    goto out;
  image_layers = xcalloc (n_layers + 1, sizeof *image_layers);
  for (i = 0, n_layers = 0; i < np; i++)
    for (j = 0; j < imgs[i].n_layers; j++)
      image_layers[n_layers++] = xstrdup (imgs[i].layers[j].digest);
  if (write_outputs_multi (c, imgs, np, err) < 0)
    goto out;
  /* The store's index (not the compressed copies of the outputs) is what is pushed: the
     push sends each platform's manifest, then the index. */
  if (push_outputs (c, digest, err) < 0)
    goto out;
  if (buildcache_export (c->st, &r->caches, &started, (const char *const *) image_layers, n_layers,
                         r->push ? r->tags[0] : registry_dest (r), &c->reg, r->quiet, &r->say, c->events,
                         &c->log.vertex, err) < 0)
    goto out;
  for (i = 0; i < np; i++)
    keep_provenance (c, plans[i], imgs[i].config_digest);
  /* The image ID of an index is its digest, as in Docker's containerd store. */
  c->out->index = true;
  memcpy (c->out->id, digest, sizeof c->out->id);
  if (r->metadata)
    c->out->metadata = make_metadata (c, NULL, len);
  ret = 0;
out:
  for (i = 0; i < np; i++)
    {
      exec_image_release (&imgs[i]);
      if (i > 0)
        {
          plan_free (plans[i]);
          bale_dockerfile_free (dfs[i]);
        }
    }
  free (imgs);
  free (plans);
  free (dfs);
  return ret;
}

static int
build_single (struct run *c, struct exec_opts *eo, struct plan *plan, bale_error_t *err)
{
  const struct build_request *r = c->r;
  struct exec_image img = { 0 };
  cleanup_strv char **image_layers = NULL;
  struct timespec started;
  int ret = -1, rr;

  if (pull_sources (c, plan, err) < 0)
    goto out;
  announce_emulation (c, &plan, 1);
  buildcache_import (c->st, &r->caches, &c->reg, r->quiet, &r->say);
  /* The clock of file timestamps: every entry this build uses or records is touched after
     this, which is how --cache-to tells them from the store's other entries. */
  clock_gettime (CLOCK_REALTIME_COARSE, &started);
  trace_mark ("build: sources ready");
  if (executor_build (plan, eo, &img, err) < 0 || amend (r, &img, err) < 0)
    goto out;
  trace_mark ("build: executed");
  progress_vertex_start (&c->log.vertex, eo->events, "export", "exporting to image");
  rr = store_image (c, &img, err);
  progress_vertex_end (&c->log.vertex, false, rr < 0 && *err ? (*err)->msg : NULL);
  if (rr < 0)
    goto out;
  trace_mark ("build: image stored");
  /* mode=min (BuildKit's default) exports the entries of the image's own layers, taken
     before an export replaces them by compressed copies. */
  image_layers = xcalloc (img.n_layers + 1, sizeof *image_layers);
  for (size_t i = 0; i < img.n_layers; i++)
    image_layers[i] = xstrdup (img.layers[i].digest);
  if (write_outputs (c, &img, err) < 0 || push_outputs (c, img.manifest_digest, err) < 0)
    goto out;
  /* After the push, so that a registry cache can mount the layers the image took there. */
  if (buildcache_export (c->st, &r->caches, &started, (const char *const *) image_layers, img.n_layers,
                         r->push ? r->tags[0] : registry_dest (r), &c->reg, r->quiet, &r->say, c->events,
                         &c->log.vertex, err) < 0)
    goto out;
  keep_provenance (c, plan, img.config_digest);
  memcpy (c->out->id, img.config_digest, sizeof c->out->id);
  memcpy (c->out->config, img.config_digest, sizeof c->out->config);
  if (r->metadata)
    c->out->metadata = make_metadata (c, &img, 0);
  ret = 0;
  trace_mark ("build: outputs written");
out:
  exec_image_release (&img);
  return ret;
}

int
build_run (struct store *s, struct build_request *r, struct build_outcome *out, bale_error_t *err)
{
  struct run c = { .r = r, .st = s, .events = r->events, .out = out };
  struct ctxsource cs = { 0 };
  struct bale_dockerfile *df = NULL;
  struct plan *plan = NULL;
  struct exec_opts eo = { 0 };
  struct ignore_matcher *ignore = NULL;
  bool in_txn = false;
  int ret = -1;

  trace_mark ("build: start");
  memset (out, 0, sizeof *out);
  c.reg.retries = -1;
  c.reg.insecure = r->insecure;
  c.reg.ca_file = r->ca_file;
  if (r->compression)
    registry_compression_parse (r->compression, &c.reg.compression);
  c.log.say = r->say;
  /* Registry messages become statuses of the vertex that pulls or pushes; said without
     events, unless quiet. */
  if (c.events || !r->quiet)
    {
      c.reg.log = buildevents_registry_log;
      c.reg.log_ctx = &c.log;
    }
  /* Each blob's bytes, as statuses of the vertex that pulls or pushes (none outside one). */
  if (c.events)
    {
      c.reg.progress = progress_transfer;
      c.reg.progress_ctx = &c.log.vertex;
    }
  if (prepare_context (&c, &cs, err) < 0 || context_check_files (r->context, c.dockerfile, err) < 0)
    goto out;
  buildevents_definition (c.events, c.dockerfile);
  if (source_date_epoch (r, &eo.epoch_set, &eo.epoch, err) < 0)
    goto out;
  if (r->named.n > 0)
    {
      struct bale_platform host = { 0 };
      int rr;
      if (platform_host (&host, err) < 0)
        goto out;
      rr = namedctx_prepare (&r->named, s, &host, err);
      platform_release (&host);
      if (rr < 0)
        goto out;
    }
  if (plan_one (&c, r->n_platforms ? r->platforms[0] : NULL, &df, &plan, err) < 0)
    goto out;
  trace_mark ("build: planned");
  if (r->check)
    {
      out->lint_warnings = plan->n_lint_warnings;
      ret = 0;
      goto out;
    }
  /* Layers and compressed blobs are nameless until the image is stored and written out: a
     concurrent `bale prune` must not collect them meanwhile. */
  if (store_txn_begin (s, err) < 0)
    goto out;
  in_txn = true;
  eo.private_mounts = r->private_mounts;
  eo.store = s;
  eo.context = r->context;
  eo.events = c.events;
  eo.secrets = r->secrets.secrets;
  eo.n_secrets = r->secrets.n_secrets;
  eo.ssh = r->secrets.ssh;
  eo.n_ssh = r->secrets.n_ssh;
  eo.no_cache = r->no_cache;
  eo.no_cache_stages = (const char *const *) r->no_cache_stages;
  eo.n_no_cache_stages = r->n_no_cache_stages;
  eo.network = r->network;
  eo.hosts = r->hosts;
  eo.n_hosts = r->n_hosts;
  eo.rlimits = r->rlimits;
  eo.n_rlimits = r->n_rlimits;
  eo.shm_size = r->shm_size;
  eo.explain_cache = r->explain_cache;
  eo.cache_imported = r->caches.n_from > 0;
  eo.dockerfile = c.dockerfile;
  buildevents_dockerignore (c.events, r->context, c.dockerfile);
  if (ignore_matcher_load (r->context, c.dockerfile, &ignore, err) < 0)
    goto out;
  namedctx_rewrite_plan (&r->named, plan);
  eo.ignore = ignore;
  ret = r->n_platforms > 1 ? build_multi (&c, &eo, plan, err) : build_single (&c, &eo, plan, err);
  if (ret == 0)
    out->written = written (r);
out:
  if (in_txn)
    store_txn_end (s);
  ignore_matcher_free (ignore);
  plan_free (plan);
  bale_dockerfile_free (df);
  ctxsource_release (&cs);
  namedctx_release (&r->named, s);
  free (c.dockerfile);
  json_decref (c.index_annotations);
  return ret;
}
