/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale build`: compile a Dockerfile and write the image to the store and/or an output. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/buildopts.h"
#include "cli/cli.h"
#include "codegen/oci.h"
#include "codegen/provenance.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "cli/registry.h"
#include "cli/buildcache.h"
#include "cli/buildsecrets.h"
#include "runtime/executor.h"
#include "runtime/export.h"
#include "runtime/ignore.h"
#include "runtime/layout.h"
#include "runtime/registry.h"
#include "runtime/rootview.h"
#include "runtime/store.h"
#include "common/banned.h"

enum output_type
{
  OUT_NONE,
  OUT_OCI,
  OUT_OCI_ARCHIVE,
  OUT_DOCKER_ARCHIVE,
  OUT_REGISTRY, /* push to dest, a reference */
};

struct build_cli
{
  struct buildopts b;
  const char **tags;
  size_t n_tags, alloc_tags;
  enum output_type out;
  char *dest;
  const char *compression;
  const char *iidfile;
  bool quiet, no_cache, push, pull;
  struct build_caches caches; /* --cache-to, --cache-from */
  const char **no_cache_stages;
  size_t n_no_cache_stages, alloc_no_cache_stages;
  const char *epoch_flag; /* --source-date-epoch */
  struct cli_registry reg; /* --push and type=registry */
  struct build_secrets secrets; /* --secret, --ssh */
};

static void
build_usage (FILE *f)
{
  fputs ("usage: bale build [-f FILE] [-t NAME[:TAG]]... [--build-arg K[=V]]... [--target STAGE]\n"
         "                  [--no-cache] [--no-cache-filter STAGE]... [--source-date-epoch N]\n"
         "                  [--platform OS/ARCH] [--output SPEC]\n"
         "                  [--compression gzip|zstd|none] [--iidfile F] [-q] CONTEXT\n"
         "  -f, --file FILE      the Dockerfile (default CONTEXT/Dockerfile)\n"
         "  -t, --tag NAME       name the image in the store (repeatable)\n"
         "  --build-arg K[=V]    set a build argument; a bare K takes $K from the environment\n"
         "  --target STAGE       build this stage (default: the last one)\n"
         "  --platform P         the target platform (default: the host)\n"
         "  --check              run the build checks (as `bale lint`) and build nothing\n"
         "  --output SPEC        type=oci,dest=DIR | type=oci-archive,dest=FILE |\n"
         "                       type=docker-archive,dest=FILE | type=registry,name=REF\n"
         "  --push               push every -t name to its registry\n"
         "  --pull               pull every base image again, even when the store has it\n"
         "  --cache-to SPEC      share the build cache: type=local,dest=DIR or\n"
         "                       type=registry,ref=REF, with mode=min (the image's layers,\n"
         "                       the default) or mode=max (every step's), ignore-error=true,\n"
         "                       compression=gzip|zstd|uncompressed (repeatable)\n"
         "  --cache-from SPEC    take the steps another build cached: type=local,src=DIR,\n"
         "                       type=registry,ref=REF or REF (repeatable; a cache that\n"
         "                       cannot be read only warns)\n"
         "  --compression C      layer compression: gzip (default), zstd or none\n"
         "  --iidfile F          write the image ID (the config digest) to F\n"
         "  --secret id=ID,src=FILE  a secret for RUN --mount=type=secret (never in the image);\n"
         "                       id=ID,env=VAR takes it from a variable\n"
         "  --ssh ID[=SOCKET]    an ssh-agent socket for RUN --mount=type=ssh (default:\n"
         "                       $SSH_AUTH_SOCK)\n"
         "  --no-cache           run every step instead of reusing cached layers\n"
         "  --no-cache-filter S  run every step of stage S (repeatable, or S1,S2)\n"
         "  --source-date-epoch N  fix every timestamp at N (wins over SOURCE_DATE_EPOCH)\n"
         "  -q, --quiet          print only the image ID\n" CLI_REGISTRY_USAGE
         "SOURCE_DATE_EPOCH (environment or build arg) fixes every timestamp of the image.\n",
         f);
}

static int
parse_output (struct build_cli *c, const char *spec, bale_error_t *err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *save = copy, *item;
  const char *type = NULL;

  while ((item = strsep (&save, ",")) != NULL)
    {
      if (strncmp (item, "type=", 5) == 0)
        type = item + 5;
      else if (strncmp (item, "dest=", 5) == 0 || strncmp (item, "name=", 5) == 0
               || strncmp (item, "ref=", 4) == 0)
        {
          free (c->dest);
          c->dest = xstrdup (strchr (item, '=') + 1);
        }
      else
        return bale_make_error (err, 0, "--output: unknown field '%s' in '%s'", item, spec);
    }
  if (!type)
    return bale_make_error (err, 0, "--output '%s': type= is required (oci, oci-archive or docker-archive)", spec);
  if (strcmp (type, "oci") == 0)
    c->out = OUT_OCI;
  else if (strcmp (type, "oci-archive") == 0)
    c->out = OUT_OCI_ARCHIVE;
  else if (strcmp (type, "docker-archive") == 0 || strcmp (type, "docker") == 0)
    c->out = OUT_DOCKER_ARCHIVE;
  else if (strcmp (type, "registry") == 0 || strcmp (type, "image") == 0)
    c->out = OUT_REGISTRY;
  else
    return bale_make_error (err, 0, "--output: unknown type '%s' (want oci, oci-archive or docker-archive)", type);
  if (!c->dest || !*c->dest)
    return bale_make_error (err, 0, "--output '%s': dest= is required", spec);
  return 0;
}

/* --no-cache-filter a,b: each a stage name (lowercased, as the plan keeps them). */
static void
add_no_cache_stages (struct build_cli *c, char *arg)
{
  char *save = arg, *item;

  while ((item = strsep (&save, ",")) != NULL)
    if (*item)
      {
        char *p;
        for (p = item; *p; p++)
          if (*p >= 'A' && *p <= 'Z')
            *p = (char) (*p - 'A' + 'a');
        XGROW (c->no_cache_stages, c->alloc_no_cache_stages, c->n_no_cache_stages + 1);
        c->no_cache_stages[c->n_no_cache_stages++] = item;
      }
}

static int
parse_args (int argc, char **argv, struct build_cli *c, bale_error_t *err)
{
  static const struct option opts[] = {
    BUILDOPTS_LONG,
    { "tag", required_argument, NULL, 't' },
    { "output", required_argument, NULL, 'o' },
    { "compression", required_argument, NULL, 'C' },
    { "iidfile", required_argument, NULL, 'I' },
    { "no-cache", no_argument, NULL, 'N' },
    { "no-cache-filter", required_argument, NULL, 'F' },
    { "source-date-epoch", required_argument, NULL, 'E' },
    { "secret", required_argument, NULL, 'S' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { "push", no_argument, NULL, 'P' },
    { "pull", no_argument, NULL, 0x300 },
    { "cache-to", required_argument, NULL, 0x301 },
    { "cache-from", required_argument, NULL, 0x302 },
    { "ssh", required_argument, NULL, 0x303 },
    CLI_REGISTRY_OPTIONS,
    { NULL, 0, NULL, 0 },
  };
  int ch;

  c->compression = "gzip";
  while ((ch = getopt_long (argc, argv, "f:t:o:qh", opts, NULL)) != -1)
    {
      int r = buildopts_option (&c->b, ch, optarg, err);
      if (r < 0)
        return -1;
      if (r > 0)
        continue;
      switch (ch)
        {
        case 't':
          {
            struct oci_ref ref = { 0 };
            cleanup_error bale_error_t e = NULL;
            if (oci_ref_parse (optarg, &ref, &e) < 0)
              return bale_make_error (err, 0, "invalid tag '%s': %s", optarg, e->msg);
            oci_ref_release (&ref);
            XGROW (c->tags, c->alloc_tags, c->n_tags + 1);
            c->tags[c->n_tags++] = optarg;
            break;
          }
        case 'o':
          if (parse_output (c, optarg, err) < 0)
            return -1;
          break;
        case 'C': c->compression = optarg; break;
        case 'I': c->iidfile = optarg; break;
        case 'N': c->no_cache = true; break;
        case 'F': add_no_cache_stages (c, optarg); break;
        case 'E': c->epoch_flag = optarg; break;
        case 'S':
          if (buildsecrets_add_secret (&c->secrets, optarg, err) < 0)
            return -1;
          break;
        case 'q': c->quiet = true; break;
        case 'P': c->push = true; break;
        case 0x300: c->pull = true; break;
        case 0x303:
          if (buildsecrets_add_ssh (&c->secrets, optarg, err) < 0)
            return -1;
          break;
        case 0x301:
          if (buildcache_add (&c->caches, optarg, true, err) < 0)
            return -1;
          break;
        case 0x302:
          if (buildcache_add (&c->caches, optarg, false, err) < 0)
            return -1;
          break;
        case 'h': build_usage (stdout); exit (0);
        default:
          if (cli_registry_option (&c->reg, ch, optarg))
            break;
          build_usage (stderr);
          exit (2);
        }
    }
  if (strcmp (c->compression, "gzip") != 0 && strcmp (c->compression, "zstd") != 0
      && strcmp (c->compression, "none") != 0)
    return bale_make_error (err, 0, "--compression: unknown '%s' (want gzip, zstd or none)", c->compression);
  cli_registry_compression (&c->reg.opts, c->compression);
  if (c->push && c->n_tags == 0)
    return bale_make_error (err, 0, "--push needs a -t name to push to");
  return buildopts_finish (&c->b, "build", argc - optind, argv + optind, err);
}

/* --source-date-epoch wins over the SOURCE_DATE_EPOCH build arg, which wins over the
   environment, as with buildx. */
static int
source_date_epoch (const struct build_cli *c, bool *set, int64_t *epoch, bale_error_t *err)
{
  const char *v = getenv ("SOURCE_DATE_EPOCH");
  char *end;
  size_t i;

  for (i = 0; i < c->b.n_build_args; i++)
    if (strncmp (c->b.build_args[i], "SOURCE_DATE_EPOCH=", 18) == 0)
      v = c->b.build_args[i] + 18;
  if (c->epoch_flag)
    v = c->epoch_flag;
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
write_output (const struct build_cli *c, const struct exec_image *img, bale_error_t *err)
{
  struct layout_image li = { 0 };
  struct layout_blob *layers = xcalloc (img->n_layers + 1, sizeof *layers);
  const char *name = c->n_tags ? c->tags[0] : NULL;
  size_t i;
  int r;

  li.manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
  li.manifest.digest = img->manifest_digest;
  li.manifest.size = (int64_t) img->manifest_len;
  li.manifest.data = img->manifest;
  li.config.media_type = "application/vnd.oci.image.config.v1+json";
  li.config.digest = img->config_digest;
  li.config.size = (int64_t) img->config_len;
  li.config.data = img->config;
  for (i = 0; i < img->n_layers; i++)
    {
      layers[i].media_type = img->layers[i].media_type;
      layers[i].digest = img->layers[i].digest;
      layers[i].size = img->layers[i].size;
      layers[i].path = img->layers[i].path;
    }
  li.layers = layers;
  li.n_layers = img->n_layers;
  li.platform = &img->platform;
  switch (c->out)
    {
    case OUT_OCI: r = layout_write_dir (c->dest, &li, name, err); break;
    case OUT_OCI_ARCHIVE: r = layout_write_oci_archive (c->dest, &li, name, err); break;
    case OUT_DOCKER_ARCHIVE: r = layout_write_docker_archive (c->dest, &li, name, err); break;
    case OUT_REGISTRY: r = 0; break; /* pushed from the store by push_outputs */
    default: r = 0; break;
    }
  free (layers);
  return r;
}

/* COPY --from=IMAGE and RUN --mount=from=IMAGE read images too: pull the ones the store
   lacks before the build starts, so a missing image fails early, at its line. */
static int
pull_one (struct store *s, struct plan *p, const struct plan_stage *st, const struct plan_step *step,
          const char *image, const struct registry_opts *ro, bool always, bale_error_t *err)
{
  char digest[DIGEST_STRLEN + 1];
  bale_error_t e = NULL;
  int r = always ? 0 : store_ref_lookup (s, image, digest, &e);

  if (r == 0)
    r = registry_pull (s, image, &st->platform, ro, digest, &e) < 0 ? -1 : 1;
  if (r < 0)
    {
      plan_error_at (p, &step->node->span, err, "%s: %s", image, e ? e->msg : "cannot pull");
      bale_error_release (&e);
      return -1;
    }
  return 0;
}

static int
pull_sources (struct store *s, struct plan *p, const struct registry_opts *ro, bool always,
              bale_error_t *err)
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
              && pull_one (s, p, st, step, step->from.image, ro, always, err) < 0)
            return -1;
          for (k = 0; step->mount_from && k < step->n_mounts; k++)
            if (step->mount_from[k].stage < 0 && step->mount_from[k].image
                && pull_one (s, p, st, step, step->mount_from[k].image, ro, always, err) < 0)
              return -1;
        }
    }
  return 0;
}

/* Keep the image in the store under each -t name, or under its digest when untagged, as
   `docker build` keeps a dangling image. */
static int
store_image (struct store *s, const struct build_cli *c, const struct exec_image *img,
             bale_error_t *err)
{
  char got[DIGEST_STRLEN + 1];
  size_t i;
  int ret = -1;

  if (store_txn_begin (s, err) < 0)
    return -1;
  if (store_blob_put (s, img->config, img->config_len, got, err) < 0)
    goto out;
  if (store_blob_put (s, img->manifest, img->manifest_len, got, err) < 0)
    goto out;
  if (c->n_tags == 0 && store_ref_set (s, img->manifest_digest, img->manifest_digest, err) < 0)
    goto out;
  for (i = 0; i < c->n_tags; i++)
    if (store_ref_set (s, c->tags[i], img->manifest_digest, err) < 0)
      goto out;
  ret = 0;
out:
  store_txn_end (s);
  return ret;
}

/* --push (every -t name) and --output type=registry: the image goes from the store. */
static int
push_outputs (struct store *s, const struct build_cli *c, const struct exec_image *img,
              bale_error_t *err)
{
  size_t i;

  for (i = 0; c->push && i < c->n_tags; i++)
    if (cli_registry_push (s, &c->reg, c->tags[i], NULL, c->quiet, err) < 0)
      return -1;
  if (c->out == OUT_REGISTRY)
    return cli_registry_push (s, &c->reg, img->manifest_digest, c->dest, c->quiet, err);
  return 0;
}

static int
write_iidfile (const char *path, const char *id, bale_error_t *err)
{
  FILE *f = fopen (path, "w");
  if (!f)
    return bale_make_error (err, errno, "--iidfile: cannot create '%s'", path);
  fputs (id, f);
  if (fclose (f) != 0)
    return bale_make_error (err, errno, "--iidfile: cannot write '%s'", path);
  return 0;
}

int
bale_cmd_build (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct build_cli c = { 0 };
  struct bale_dockerfile *df = NULL;
  struct plan *plan = NULL;
  struct exec_image img = { 0 };
  struct exec_opts eo = { 0 };
  struct ignore_matcher *ignore = NULL;
  bool in_txn = false;
  struct timespec started;
  cleanup_strv char **image_layers = NULL;
  int ret = -1;

  cli_registry_init (&c.reg, g->quiet);
  if (parse_args (argc, argv, &c, err) < 0)
    goto out;
  if (c.quiet)
    c.reg.opts.log = NULL; /* -q: the image ID alone; errors and warnings still show */
  if (source_date_epoch (&c, &eo.epoch_set, &eo.epoch, err) < 0)
    goto out;
  /* A mount namespace of bale's own, entered before the store's descriptors are opened:
     views mounted for RUN --mount from= vanish with the process, whatever ends it. */
  {
    bale_error_t e = NULL;
    eo.private_mounts = rootview_unshare (&e) == 0;
    bale_error_release (&e);
  }
  g->pull_opts = &c.reg.opts;
  g->pull_always = c.pull;
  if (buildopts_plan (&c.b, cli_image_resolver (g), g, false, &df, &plan, err) < 0)
    goto out;
  if (c.b.check)
    {
      ret = buildopts_check_report (plan);
      goto out;
    }
  eo.store = cli_store_get (g, err);
  if (!eo.store)
    goto out;
  /* Layers and compressed blobs are nameless until the image is stored and written out: a
     concurrent `bale prune` must not collect them meanwhile. */
  if (store_txn_begin (eo.store, err) < 0)
    goto out;
  in_txn = true;
  eo.context = c.b.context;
  eo.secrets = c.secrets.secrets;
  eo.n_secrets = c.secrets.n_secrets;
  eo.ssh = c.secrets.ssh;
  eo.n_ssh = c.secrets.n_ssh;
  eo.no_cache = c.no_cache;
  eo.no_cache_stages = c.no_cache_stages;
  eo.n_no_cache_stages = c.n_no_cache_stages;
  if (ignore_matcher_load (c.b.context, c.b.dockerfile, &ignore, err) < 0)
    goto out;
  if (pull_sources (eo.store, plan, &c.reg.opts, c.pull, err) < 0)
    goto out;
  eo.ignore = ignore;
  eo.progress = c.quiet ? NULL : stderr;
  buildcache_import (eo.store, &c.caches, &c.reg.opts, c.quiet);
  /* The clock of file timestamps: every entry this build uses or records is touched after
     this, which is how --cache-to tells them from the store's other entries. */
  clock_gettime (CLOCK_REALTIME_COARSE, &started);
  if (executor_build (plan, &eo, &img, err) < 0)
    goto out;
  if (store_image (eo.store, &c, &img, err) < 0)
    goto out;
  /* mode=min (BuildKit's default) exports the entries of the image's own layers, taken
     before an export replaces them by compressed copies. */
  image_layers = xcalloc (img.n_layers + 1, sizeof *image_layers);
  for (size_t i = 0; i < img.n_layers; i++)
    image_layers[i] = xstrdup (img.layers[i].digest);
  if (c.out != OUT_NONE && c.out != OUT_REGISTRY)
    {
      enum layer_compression comp;
      if (export_parse_compression (c.compression, &comp, err) < 0
          || export_compress (eo.store, &img, comp, err) < 0 || write_output (&c, &img, err) < 0)
        goto out;
    }
  if (push_outputs (eo.store, &c, &img, err) < 0)
    goto out;
  /* After the push, so that a registry cache can mount the layers the image took there. */
  if (buildcache_export (eo.store, &c.caches, &started, (const char *const *) image_layers,
                         img.n_layers, c.push ? c.tags[0] : c.out == OUT_REGISTRY ? c.dest : NULL,
                         &c.reg.opts, c.quiet, err) < 0)
    goto out;
  if (c.iidfile && write_iidfile (c.iidfile, img.config_digest, err) < 0)
    goto out;
  {
    /* For `bale explain`; an image without it is still a good image. */
    json_t *prov = provenance_from_plan (plan);
    bale_error_t perr = NULL;
    char *abs = realpath (c.b.dockerfile, NULL);
    json_object_set_new (prov, "dockerfile", json_string (abs ? abs : c.b.dockerfile));
    free (abs);
    if (cli_provenance_write (g, img.config_digest, prov, &perr) < 0)
      {
        bale_error_wrap (&perr, "build record for `bale explain` not kept");
        cli_print_warnings (perr);
        bale_error_release (&perr);
      }
    json_decref (prov);
  }
  if (!c.quiet && c.out != OUT_NONE && c.out != OUT_REGISTRY)
    fprintf (stderr, "wrote %s\n", c.dest);
  puts (img.config_digest);
  ret = 0;
out:
  if (in_txn)
    store_txn_end (eo.store);
  exec_image_release (&img);
  ignore_matcher_free (ignore);
  plan_free (plan);
  bale_dockerfile_free (df);
  buildopts_release (&c.b);
  free (c.tags);
  free (c.no_cache_stages);
  free (c.dest);
  buildcache_release (&c.caches);
  cli_registry_release (&c.reg);
  buildsecrets_release (&c.secrets);
  return ret;
}
