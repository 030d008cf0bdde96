/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale build`: compile a Dockerfile and write the image to the store and/or an output. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/buildevents.h"
#include "cli/buildindex.h"
#include "cli/buildoutput.h"
#include "cli/ctxsource.h"
#include "cli/namedctx.h"
#include "common/oci/platform.h"
#include "cli/buildopts.h"
#include "cli/progress.h"
#include "cli/cli.h"
#include "common/oci/oci.h"
#include "common/oci/ref.h"
#include "codegen/provenance.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "cli/registry.h"
#include "cli/buildcache.h"
#include "cli/buildsecrets.h"
#include "runtime/fs/isolation.h"
#include "runtime/sandbox/binfmt.h"
#include "runtime/build/executor.h"
#include "runtime/build/export.h"
#include "common/ignore.h"
#include "runtime/store/layout.h"
#include "runtime/registry/registry.h"
#include "runtime/layer/rootview.h"
#include "runtime/store/store.h"
#include "common/banned.h"

struct build_cli
{
  struct buildopts b;
  const char **tags;
  size_t n_tags, alloc_tags;
  struct build_outputs outputs; /* -o, in order */
  const char **labels, **annotations;
  size_t n_labels, alloc_labels, n_annotations, alloc_annotations;
  const char *metadata_file;
  struct namedctx named; /* --build-context */
  const char *compression;
  const char *iidfile;
  bool quiet, no_cache, push, pull;
  bool explain_cache; /* --explain-cache */
  struct build_caches caches; /* --cache-to, --cache-from */
  const char **no_cache_stages;
  size_t n_no_cache_stages, alloc_no_cache_stages;
  const char *epoch_flag; /* --source-date-epoch */
  struct cli_registry reg; /* --push and type=registry */
  struct build_secrets secrets; /* --secret, --ssh */
  enum cli_progress_mode progress; /* --progress */
  struct cli_progress *renderer;
  struct progress_vertex vertex;   /* the CLI's own vertex of the moment (pulls, exports) */
  char pushed[DIGEST_STRLEN + 1];  /* the manifest digest the last push sent */
  char stored[DIGEST_STRLEN + 1];  /* the manifest digest of the image in the store */
  bool exported;                   /* an image format was written (compressed layers) */
};

static void
build_usage (FILE *f)
{
  fputs ("usage: bale build [-f FILE] [-t NAME[:TAG]]... [--build-arg K[=V]]... [--target STAGE]\n"
         "                  [--no-cache] [--no-cache-filter STAGE]... [--source-date-epoch N]\n"
         "                  [--platform OS/ARCH[,OS/ARCH...]]... [--output SPEC]\n"
         "                  [--compression gzip|gzip-single|zstd|none] [--iidfile F] [-q] CONTEXT\n"
         "  -f, --file FILE      the Dockerfile (default CONTEXT/Dockerfile)\n"
         "  -t, --tag NAME       name the image in the store (repeatable)\n"
         "  --build-arg K[=V]    set a build argument; a bare K takes $K from the environment\n"
         "  --target STAGE       build this stage (default: the last one)\n"
         "  --platform P[,P...]  the target platform (default: the host); several build one\n"
         "                       image index, a foreign platform's RUN steps under emulation\n"
         "  --check              run the build checks (as `bale lint`) and build nothing\n"
         "  -o, --output SPEC    type=local,dest=DIR (the files) | type=tar,dest=FILE|- |\n"
         "                       type=oci,dest=DIR[,tar=true] | type=oci-archive,dest=FILE |\n"
         "                       type=docker,dest=FILE | type=registry,name=REF |\n"
         "                       type=image[,push=true]; DIR and - are short for local and\n"
         "                       tar; repeatable\n"
         "  --load               accepted: the store always has the image\n"
         "  --label K=V          set a label of the image (repeatable)\n"
         "  --annotation [manifest:]K=V  set an annotation of the manifest (repeatable)\n"
         "  --metadata-file F    write buildx's metadata JSON (containerimage.digest, ...)\n"
         "  --build-context NAME=VALUE  FROM NAME and COPY --from=NAME read VALUE: a directory,\n"
         "                       docker-image://REF or oci-layout://DIR[:TAG] (repeatable)\n"
         "  --push               push every -t name to its registry\n"
         "  --pull               pull every base image again, even when the store has it\n"
         "  --cache-to SPEC      share the build cache: type=local,dest=DIR or\n"
         "                       type=registry,ref=REF, with mode=min (the image's layers,\n"
         "                       the default) or mode=max (every step's), ignore-error=true,\n"
         "                       compression=gzip|zstd|uncompressed, cache-mounts=true\n"
         "                       (RUN cache mounts too; the default with mode=max),\n"
         "                       cache-mounts-max-size=SIZE (default 1g) (repeatable)\n"
         "  --cache-from SPEC    take the steps another build cached: type=local,src=DIR,\n"
         "                       type=registry,ref=REF or REF (repeatable; a cache that\n"
         "                       cannot be read only warns)\n"
         "  --compression C      layer compression: gzip (default), gzip-single (one gzip member), zstd or none\n"
         "  --iidfile F          write the image ID (the config digest) to F\n"
         "  --secret id=ID,src=FILE  a secret for RUN --mount=type=secret (never in the image);\n"
         "                       id=ID,env=VAR takes it from a variable\n"
         "  --ssh ID[=SOCKET]    an ssh-agent socket for RUN --mount=type=ssh (default:\n"
         "                       $SSH_AUTH_SOCK)\n"
         "  --no-cache           run every step instead of reusing cached layers\n"
         "  --no-cache-filter S  run every step of stage S (repeatable, or S1,S2)\n"
         "  --explain-cache      say why each step that ran missed the cache: the inputs\n"
         "                       that differ from the last build of the step (always in\n"
         "                       --progress=rawjson)\n"
         "  --source-date-epoch N  fix every timestamp at N (wins over SOURCE_DATE_EPOCH)\n"
         "  --progress MODE      auto (tty on a terminal, else plain), plain, tty, rawjson,\n"
         "                       quiet (as -q) or none; BUILDKIT_PROGRESS when auto\n"
         "  -q, --quiet          print only the image ID\n" CLI_HELP_USAGE
         "  --isolation MODE     auto (default; BALE_ISOLATION), namespace, or chroot for\n"
         "                       containers that forbid namespaces (docs/rootless.md)\n"
         BUILDOPTS_SANDBOX_USAGE
         CLI_REGISTRY_USAGE
         "SOURCE_DATE_EPOCH (environment or build arg) fixes every timestamp of the image.\n",
         f);
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

/* The outputs buildx refuses for several platforms, refused before anything is built. */
static int
check_multi_outputs (const struct build_cli *c, bale_error_t *err)
{
  for (size_t i = 0; c->b.n_platforms > 1 && i < c->outputs.n; i++)
    {
      if (c->outputs.v[i].type == OUT_DOCKER_ARCHIVE)
        return bale_make_error (err, 0, "-o type=docker: docker exporter does not currently support exporting "
                                        "manifest lists (%zu platforms); use type=oci or type=oci-archive, "
                                        "or one --platform", c->b.n_platforms);
      if (c->outputs.v[i].type == OUT_TAR)
        return bale_make_error (err, 0, "-o type=tar: one tar for %zu platforms is not supported; use "
                                        "type=local (one directory per platform) or one --platform",
                                c->b.n_platforms);
    }
  return 0;
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
    { "progress", required_argument, NULL, 0x304 },
    { "load", no_argument, NULL, 0x305 },
    { "label", required_argument, NULL, 0x306 },
    { "annotation", required_argument, NULL, 0x307 },
    { "metadata-file", required_argument, NULL, 0x308 },
    { "build-context", required_argument, NULL, 0x309 },
    { "explain-cache", no_argument, NULL, 0x30a },
    { "isolation", required_argument, NULL, 0x30b },
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
            if (cli_check_name (optarg, err) < 0)
              return -1;
            if (oci_ref_parse (optarg, 0, &ref, &e) < 0)
              return bale_make_error (err, 0, "invalid tag '%s': %s", optarg, e->msg);
            oci_ref_release (&ref);
            XGROW (c->tags, c->alloc_tags, c->n_tags + 1);
            c->tags[c->n_tags++] = optarg;
            break;
          }
        case 'o':
          if (buildoutput_parse (&c->outputs, optarg, err) < 0)
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
        case 0x305: break; /* --load: the store always has the image */
        case 0x306:
          XGROW (c->labels, c->alloc_labels, c->n_labels + 1);
          c->labels[c->n_labels++] = optarg;
          break;
        case 0x307:
          XGROW (c->annotations, c->alloc_annotations, c->n_annotations + 1);
          c->annotations[c->n_annotations++] = optarg;
          break;
        case 0x308: c->metadata_file = optarg; break;
        case 0x30a: c->explain_cache = true; break;
        case 0x309:
          if (namedctx_add (&c->named, optarg, err) < 0)
            return -1;
          break;
        case 0x30b: break; /* chosen before the command runs (cli/main.c, runtime/fs/isolation.h) */
        case 0x304:
          if (cli_progress_parse (optarg, &c->progress, err) < 0)
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
          cli_usage_error ("build");
        }
    }
  if (!cli_registry_compression (&c->reg.opts, c->compression))
    return bale_make_error (err, 0, "--compression: unknown '%s' (want gzip, gzip-single, zstd or none)",
                            c->compression);
  if (c->push && c->n_tags == 0)
    return bale_make_error (err, 0, "--push needs a -t name to push to");
  if (check_multi_outputs (c, err) < 0)
    return -1;
  if (buildoutput_check (&c->outputs, err) < 0)
    return -1;
  /* buildx: -q goes with auto, quiet and none only; --progress=quiet is -q. */
  if (c->quiet && c->progress != CLI_PROGRESS_AUTO && c->progress != CLI_PROGRESS_QUIET
      && c->progress != CLI_PROGRESS_NONE)
    return bale_make_error (err, 0, "--progress and --quiet cannot be used together");
  if (c->quiet)
    c->progress = CLI_PROGRESS_QUIET;
  c->quiet = c->progress == CLI_PROGRESS_QUIET || c->progress == CLI_PROGRESS_NONE;
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
write_output (const struct build_cli *c, const struct build_output *out, const struct exec_image *img,
              bale_error_t *err)
{
  struct layout_image li;
  struct layout_blob *layers;
  const char *name = c->n_tags ? c->tags[0] : NULL;
  const char *dest = strcmp (out->dest, "-") == 0 ? "/dev/stdout" : out->dest;
  int r;

  buildindex_layout_image (img, &li, &layers);
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
pull_one (struct store *s, struct plan *p, const struct plan_stage *st, const struct plan_step *step,
          const char *image, struct build_cli *c, bale_error_t *err)
{
  char digest[DIGEST_STRLEN + 1];
  bale_error_t e = NULL;
  int r = c->pull ? 0 : store_ref_lookup (s, image, digest, &e);

  if (r == 0)
    {
      buildevents_resolve_start (&c->vertex, cli_progress_sink (c->renderer), image);
      r = registry_pull (s, image, &st->platform, &c->reg.opts, digest, &e) < 0 ? -1 : 1;
      progress_vertex_end (&c->vertex, false, r < 0 && e ? e->msg : NULL);
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
pull_sources (struct store *s, struct plan *p, struct build_cli *c, bale_error_t *err)
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
              && pull_one (s, p, st, step, step->from.image, c, err) < 0)
            return -1;
          for (k = 0; step->mount_from && k < step->n_mounts; k++)
            if (step->mount_from[k].stage < 0 && step->mount_from[k].image
                && pull_one (s, p, st, step, step->mount_from[k].image, c, err) < 0)
              return -1;
        }
    }
  return 0;
}

/* Keep the image in the store under each -t name, or under its digest when untagged, as
   `docker build` keeps a dangling image. */
static int
store_image (struct store *s, struct build_cli *c, const struct exec_image *img,
             bale_error_t *err)
{
  char got[DIGEST_STRLEN + 1];
  size_t i;
  int ret = -1;

  if (store_txn_begin (s, err) < 0)
    return -1;
  memcpy (c->stored, img->manifest_digest, sizeof c->stored);
  {
    /* BuildKit's image exporter statuses; the layers are in the store already. */
    cleanup_free char *m = xasprintf ("exporting manifest %s", img->manifest_digest);
    cleanup_free char *cf = xasprintf ("exporting config %s", img->config_digest);
    progress_vertex_status (&c->vertex, "exporting layers", 0, 0, true);
    progress_vertex_status (&c->vertex, m, 0, 0, true);
    progress_vertex_status (&c->vertex, cf, 0, 0, true);
    for (i = 0; i < c->n_tags; i++)
      {
        cleanup_free char *full = buildevents_name (c->tags[i]);
        cleanup_free char *naming = xasprintf ("naming to %s", full);
        progress_vertex_status (&c->vertex, naming, 0, 0, true);
      }
  }
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
push_one (struct store *s, struct build_cli *c, const char *name, const char *dest, bale_error_t *err)
{
  cleanup_free char *full = buildevents_name (dest ? dest : name);
  cleanup_free char *vname = xasprintf ("pushing %s", full);
  bool events = cli_progress_sink (c->renderer) != NULL;
  int r;

  progress_vertex_start (&c->vertex, cli_progress_sink (c->renderer), vname, vname);
  r = cli_registry_push (s, &c->reg, name, dest, c->quiet || events, c->pushed, err);
  if (r == 0)
    {
      cleanup_free char *m = xasprintf ("pushing manifest for %s@%s", full, c->pushed);
      progress_vertex_status (&c->vertex, m, 0, 0, true);
    }
  progress_vertex_end (&c->vertex, false, r < 0 && *err ? (*err)->msg : NULL);
  return r;
}

static int
push_outputs (struct store *s, struct build_cli *c, const struct exec_image *img,
              bale_error_t *err)
{
  size_t i;

  for (i = 0; c->push && i < c->n_tags; i++)
    if (push_one (s, c, c->tags[i], NULL, err) < 0)
      return -1;
  for (i = 0; i < c->outputs.n; i++)
    if (c->outputs.v[i].type == OUT_REGISTRY
        && push_one (s, c, img->manifest_digest, c->outputs.v[i].dest, err) < 0)
      return -1;
  return 0;
}

/* "-", git and http(s) contexts: fetched into a scratch directory that becomes the context;
   -f names a file inside it (a relative path) or on this machine (an absolute one). */
static int
prepare_context (struct build_cli *c, struct ctxsource *cs, const struct bale_progress *events,
                 bale_error_t *err)
{
  const char *spec = c->b.context;
  bool keep = false, git = ctxsource_is_git (spec);
  struct progress_vertex v;
  cleanup_free char *name = NULL;
  int r;

  for (size_t i = 0; i < c->b.n_build_args; i++)
    if (strncmp (c->b.build_args[i], "BUILDKIT_CONTEXT_KEEP_GIT_DIR=", 30) == 0)
      keep = strcmp (c->b.build_args[i] + 30, "1") == 0 || strcmp (c->b.build_args[i] + 30, "true") == 0;
  name = git ? xasprintf ("[internal] load git source %s", spec) : xstrdup ("[internal] load remote build context");
  if (strcmp (spec, "-") != 0 && access (spec, F_OK) == 0)
    return 0;
  if (strcmp (spec, "-") != 0 && !git && strncasecmp (spec, "http://", 7) != 0
      && strncasecmp (spec, "https://", 8) != 0)
    return bale_make_error (err, 0, "unable to prepare context: path \"%s\" not found", spec);
  progress_vertex_start (&v, events, "remote", name);
  r = ctxsource_prepare (spec, keep, cs, err);
  {
    /* The bytes that came over stdin or http: the archive, or the Dockerfile alone. */
    struct stat st;
    const char *got = cs->file && stat (cs->file, &st) == 0 ? cs->file : cs->dockerfile;

    if (r == 0 && got && stat (got, &st) == 0)
      progress_vertex_status (&v, "transferring context:", (int64_t) st.st_size, 0, true);
  }
  progress_vertex_end (&v, false, r < 0 && *err ? (*err)->msg : NULL);
  if (r < 0 || !cs->dir)
    return r;
  c->b.context = cs->context;
  if (cs->dockerfile && c->b.file)
    return bale_make_error (err, 0, "ambiguous Dockerfile source: both %s and flag correspond to Dockerfiles",
                            strcmp (spec, "-") == 0 ? "stdin" : "the URL");
  free (c->b.dockerfile);
  if (cs->dockerfile)
    c->b.dockerfile = xstrdup (cs->dockerfile);
  else if (c->b.file && c->b.file[0] == '/')
    c->b.dockerfile = xstrdup (c->b.file);
  else
    c->b.dockerfile = xasprintf ("%s/%s", cs->context, c->b.file ? c->b.file : "Dockerfile");
  return 0;
}

/* The outputs written from the build's result: local and tar from the layers as they are,
   then the image formats from the layers compressed once for all of them. */
static int
write_outputs (struct store *s, struct build_cli *c, struct exec_image *img, bale_error_t *err)
{
  static const char *const names[] = {
    [OUT_LOCAL] = "exporting to client directory", [OUT_TAR] = "exporting to client tarball",
    [OUT_OCI] = "exporting to oci image format", [OUT_OCI_ARCHIVE] = "exporting to oci image format",
    [OUT_DOCKER_ARCHIVE] = "exporting to docker image format",
  };
  bool compressed = false;
  size_t i;

  for (int pass = 0; pass < 2; pass++)
    for (i = 0; i < c->outputs.n; i++)
      {
        const struct build_output *o = &c->outputs.v[i];
        bool fs = o->type == OUT_LOCAL || o->type == OUT_TAR;
        cleanup_free char *key = xasprintf ("output/%zu", i);
        int r;
        if (o->type == OUT_STORE || o->type == OUT_REGISTRY || fs != (pass == 0))
          continue;
        if (!fs && !compressed)
          {
            enum layer_compression comp;
            if (export_parse_compression (c->compression, &comp, err) < 0
                || export_compress (s, img, comp, err) < 0)
              return -1;
            compressed = c->exported = true;
          }
        progress_vertex_start (&c->vertex, cli_progress_sink (c->renderer), key, names[o->type]);
        r = fs ? buildoutput_write_fs (s, img, o, err) : write_output (c, o, img, err);
        if (r == 0 && strcmp (o->dest, "-") == 0)
          progress_vertex_status (&c->vertex, "sending tarball", 0, 0, true);
        progress_vertex_end (&c->vertex, false, r < 0 && *err ? (*err)->msg : NULL);
        if (r < 0)
          return -1;
      }
  return 0;
}

static const char *
registry_dest (const struct build_cli *c)
{
  for (size_t i = 0; i < c->outputs.n; i++)
    if (c->outputs.v[i].type == OUT_REGISTRY)
      return c->outputs.v[i].dest;
  return NULL;
}

/* --metadata-file: the keys buildx writes for an image export (json.MarshalIndent: sorted
   keys, two spaces, no final newline), written atomically; only {} when every output is a
   plain filesystem (local, tar), as buildx's exporters return no keys for those. */
static int
write_metadata (const struct build_cli *c, const struct exec_image *img, size_t index_len, const char *path,
                bale_error_t *err)
{
  json_t *m = json_object ();
  bool image = c->outputs.n == 0;
  cleanup_free char *tmp = xasprintf ("%s.tmp-%d", path, (int) getpid ());
  char *text;
  size_t i;
  int ret = 0;

  for (i = 0; i < c->outputs.n; i++)
    image |= c->outputs.v[i].type != OUT_LOCAL && c->outputs.v[i].type != OUT_TAR;
  if (image && !img)
    {
      /* An index (img NULL): its descriptor and digest, and no config digest (there is one
         per platform). */
      const char *digest = *c->pushed ? c->pushed : c->stored;
      json_t *desc = json_pack ("{s:s,s:s}", "mediaType", OCI_MT_INDEX, "digest", digest);
      if (!*c->pushed)
        json_object_set_new (desc, "size", json_integer ((json_int_t) index_len));
      json_object_set_new (m, "containerimage.digest", json_string (digest));
      json_object_set_new (m, "containerimage.descriptor", desc);
    }
  else if (image)
    {
      /* As buildx merges its exporters' answers, the last one wins: a push, else an image
         written out (compressed, so its manifest differs from the store's), else the store. */
      const char *digest = *c->pushed ? c->pushed : c->exported ? img->manifest_digest : c->stored;
      json_t *desc = json_pack ("{s:s,s:s}", "mediaType", "application/vnd.oci.image.manifest.v1+json",
                                "digest", digest);
      if (!*c->pushed && (c->exported || strcmp (c->stored, img->manifest_digest) == 0))
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
      for (i = 0; i < c->n_tags; i++)
        {
          cleanup_free char *full = buildevents_name (c->tags[i]);
          strbuf_addf (&names, "%s%s", i ? "," : "", full);
        }
      if (names.len)
        json_object_set_new (m, "image.name", json_string (names.buf));
      strbuf_release (&names);
    }
  text = json_dumps (m, JSON_INDENT (2) | JSON_SORT_KEYS);
  json_decref (m);
  {
    cleanup_close int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || fileio_write_all (fd, text, strlen (text)) < 0 || fsync (fd) < 0 || rename (tmp, path) < 0)
      {
        ret = bale_make_error (err, errno, "--metadata-file: cannot write '%s'", path);
        unlink (tmp);
      }
  }
  free (text);
  return ret;
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

/* Say once per platform which RUN steps will run under emulation, before any runs; a
   platform nothing can run is left to its first RUN, which fails naming what to install. */
static void
announce_emulation (struct build_cli *c, struct plan *const *plans, size_t n)
{
  const struct bale_progress *events = cli_progress_sink (c->renderer);
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
            if (events)
              {
                progress_vertex_start (&c->vertex, events, key, msg);
                progress_vertex_end (&c->vertex, false, NULL);
              }
            else if (!c->quiet)
              fprintf (stderr, "%s\n", msg);
          }
        binfmt_handler_release (&h);
        bale_error_release (&e);
      }
}

/* For `bale explain`; an image without it is still a good image. */
static void
keep_provenance (struct cli_global *g, const struct plan *plan, const char *dockerfile, const char *config_digest)
{
  json_t *prov = provenance_from_plan (plan);
  bale_error_t perr = NULL;
  char *abs = realpath (dockerfile, NULL);

  json_object_set_new (prov, "dockerfile", json_string (abs ? abs : dockerfile));
  free (abs);
  if (cli_provenance_write (g, config_digest, prov, &perr) < 0)
    {
      bale_error_wrap (&perr, "build record for `bale explain` not kept");
      cli_print_warnings (perr);
      bale_error_release (&perr);
    }
  json_decref (prov);
}

static void
say_written (const struct build_cli *c)
{
  for (size_t i = 0; !c->quiet && i < c->outputs.n; i++)
    if (c->outputs.v[i].type != OUT_STORE && c->outputs.v[i].type != OUT_REGISTRY
        && strcmp (c->outputs.v[i].dest, "-") != 0)
      fprintf (stderr, "wrote %s\n", c->outputs.v[i].dest);
}

/* The index in the store: every platform's manifest and config (their layers are there
   already), then the index, then its names. */
static int
store_index (struct store *s, struct build_cli *c, const struct exec_image *imgs, size_t n,
             const char *bytes, size_t len, const char *digest, bale_error_t *err)
{
  char got[DIGEST_STRLEN + 1];
  size_t i;
  int ret = -1;

  if (store_txn_begin (s, err) < 0)
    return -1;
  memcpy (c->stored, digest, sizeof c->stored);
  for (i = 0; i < n; i++)
    {
      cleanup_free char *m = xasprintf ("exporting manifest %s", imgs[i].manifest_digest);
      cleanup_free char *cf = xasprintf ("exporting config %s", imgs[i].config_digest);
      progress_vertex_status (&c->vertex, m, 0, 0, true);
      progress_vertex_status (&c->vertex, cf, 0, 0, true);
      if (store_blob_put (s, imgs[i].config, imgs[i].config_len, got, err) < 0
          || store_blob_put (s, imgs[i].manifest, imgs[i].manifest_len, got, err) < 0)
        goto out;
    }
  {
    cleanup_free char *m = xasprintf ("exporting manifest list %s", digest);
    progress_vertex_status (&c->vertex, m, 0, 0, true);
  }
  if (store_blob_put (s, bytes, len, got, err) < 0)
    goto out;
  if (c->n_tags == 0 && store_ref_set (s, digest, digest, err) < 0)
    goto out;
  for (i = 0; i < c->n_tags; i++)
    {
      cleanup_free char *full = buildevents_name (c->tags[i]);
      cleanup_free char *naming = xasprintf ("naming to %s", full);
      progress_vertex_status (&c->vertex, naming, 0, 0, true);
      if (store_ref_set (s, c->tags[i], digest, err) < 0)
        goto out;
    }
  ret = 0;
out:
  store_txn_end (s);
  return ret;
}

/* local: one directory per platform (buildx's platform-split); oci and oci-archive: the
   index over the images with their layers compressed once. */
static int
write_outputs_multi (struct store *s, struct build_cli *c, struct exec_image *imgs, size_t n,
                     bale_error_t *err)
{
  bool compressed = false;
  size_t i, j;

  for (i = 0; i < c->outputs.n; i++)
    {
      const struct build_output *o = &c->outputs.v[i];
      cleanup_free char *key = xasprintf ("output/%zu", i);
      int r = 0;
      if (o->type != OUT_LOCAL && o->type != OUT_OCI && o->type != OUT_OCI_ARCHIVE)
        continue;
      if (o->type != OUT_LOCAL && !compressed)
        {
          enum layer_compression comp;
          if (export_parse_compression (c->compression, &comp, err) < 0)
            return -1;
          for (j = 0; j < n; j++)
            if (export_compress (s, &imgs[j], comp, err) < 0)
              return -1;
          compressed = c->exported = true;
        }
      progress_vertex_start (&c->vertex, cli_progress_sink (c->renderer), key,
                             o->type == OUT_LOCAL ? "exporting to client directory" : "exporting to oci image format");
      for (j = 0; o->type == OUT_LOCAL && r == 0 && j < n; j++)
        {
          cleanup_free char *sub = buildindex_platform_dir (&imgs[j].platform);
          struct build_output one = { OUT_LOCAL, xasprintf ("%s/%s", o->dest, sub) };
          r = buildoutput_write_fs (s, &imgs[j], &one, err);
          free (one.dest);
        }
      if (o->type != OUT_LOCAL)
        r = buildindex_write_layout (o, imgs, n, c->n_tags ? c->tags[0] : NULL, err);
      progress_vertex_end (&c->vertex, false, r < 0 && *err ? (*err)->msg : NULL);
      if (r < 0)
        return -1;
    }
  return 0;
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
build_multi (struct build_cli *c, struct cli_global *g, struct exec_opts *eo, struct plan *first,
             const struct timespec *started, bale_error_t *err)
{
  size_t np = c->b.n_platforms, i, j, n_layers = 0;
  struct plan **plans = xcalloc (np, sizeof *plans);
  struct bale_dockerfile **dfs = xcalloc (np, sizeof *dfs);
  struct exec_image *imgs = xcalloc (np, sizeof *imgs);
  cleanup_strv char **image_layers = NULL;
  cleanup_free char *bytes = NULL;
  char digest[DIGEST_STRLEN + 1];
  size_t len = 0;
  int ret = -1, r;

  plans[0] = first;
  for (i = 1; i < np; i++)
    {
      c->b.platform = c->b.platforms[i];
      if (buildopts_plan (&c->b, cli_image_resolver (g), g, false, &dfs[i], &plans[i], err) < 0)
        goto out;
      namedctx_rewrite_plan (&c->named, plans[i]);
    }
  for (i = 0; i < np; i++)
    if (pull_sources (eo->store, plans[i], c, err) < 0)
      goto out;
  announce_emulation (c, plans, np);
  if (executor_build_platforms (plans, np, eo, imgs, err) < 0)
    goto out;
  for (i = 0; i < np; i++)
    {
      if (buildoutput_labels (&imgs[i], c->labels, c->n_labels, err) < 0
          || buildoutput_annotations (&imgs[i], c->annotations, c->n_annotations, err) < 0)
        goto out;
      n_layers += imgs[i].n_layers;
    }
  if (buildindex_make (imgs, np, &bytes, &len, digest, err) < 0)
    goto out;
  progress_vertex_start (&c->vertex, eo->events, "export", "exporting to image");
  r = store_index (eo->store, c, imgs, np, bytes, len, digest, err);
  progress_vertex_end (&c->vertex, false, r < 0 && *err ? (*err)->msg : NULL);
  if (r < 0)
    goto out;
  image_layers = xcalloc (n_layers + 1, sizeof *image_layers);
  for (i = 0, n_layers = 0; i < np; i++)
    for (j = 0; j < imgs[i].n_layers; j++)
      image_layers[n_layers++] = xstrdup (imgs[i].layers[j].digest);
  if (write_outputs_multi (eo->store, c, imgs, np, err) < 0)
    goto out;
  /* The store's index (not the compressed copies of the outputs) is what is pushed: the
     push sends each platform's manifest, then the index. */
  for (i = 0; c->push && i < c->n_tags; i++)
    if (push_one (eo->store, c, c->tags[i], NULL, err) < 0)
      goto out;
  for (i = 0; i < c->outputs.n; i++)
    if (c->outputs.v[i].type == OUT_REGISTRY && push_one (eo->store, c, digest, c->outputs.v[i].dest, err) < 0)
      goto out;
  if (buildcache_export (eo->store, &c->caches, started, (const char *const *) image_layers, n_layers,
                         c->push ? c->tags[0] : registry_dest (c), &c->reg.opts, c->quiet, err) < 0)
    goto out;
  if (c->iidfile && write_iidfile (c->iidfile, digest, err) < 0)
    goto out;
  if (c->metadata_file && write_metadata (c, NULL, len, c->metadata_file, err) < 0)
    goto out;
  for (i = 0; i < np; i++)
    keep_provenance (g, plans[i], c->b.dockerfile, imgs[i].config_digest);
  cli_progress_close (c->renderer);
  c->renderer = NULL;
  say_written (c);
  /* The image ID of an index is its digest, as in Docker's containerd store. */
  if (!buildoutput_stdout (&c->outputs))
    puts (c->quiet && *c->pushed ? c->pushed : digest);
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

int
bale_cmd_build (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct build_cli c = { 0 };
  struct ctxsource cs = { 0 };
  struct bale_dockerfile *df = NULL;
  struct plan *plan = NULL;
  struct exec_image img = { 0 };
  struct exec_opts eo = { 0 };
  struct ignore_matcher *ignore = NULL;
  bool in_txn = false;
  struct timespec started;
  cleanup_strv char **image_layers = NULL;
  int ret = -1, r;

  cli_registry_init (&c.reg, g->quiet);
  if (parse_args (argc, argv, &c, err) < 0)
    goto out;
  if (c.quiet)
    c.reg.opts.log = NULL; /* -q: the image ID alone; errors and warnings still show */
  /* The isolation mode is said once, before any progress, so it heads every CI log. */
  if (!c.quiet && isolation_describe ())
    fprintf (stderr, "%s\n", isolation_describe ());
  if (cli_progress_open (c.progress, STDERR_FILENO, &c.renderer, err) < 0)
    goto out;
  if ((eo.events = cli_progress_sink (c.renderer)))
    {
      /* Registry messages become statuses of the vertex that pulls or pushes. */
      c.reg.opts.log = buildevents_registry_log;
      c.reg.opts.log_ctx = &c.vertex;
      c.reg.opts.progress = progress_transfer;
      c.reg.opts.progress_ctx = &c.vertex;
      g->events = eo.events;
      g->log_vertex = &c.vertex;
    }
  if (prepare_context (&c, &cs, eo.events, err) < 0)
    goto out;
  buildevents_definition (eo.events, c.b.dockerfile);
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
  if (c.named.n > 0)
    {
      struct bale_platform host = { 0 };
      struct store *st = cli_store_get (g, err);
      if (!st || platform_host (&host, err) < 0)
        goto out;
      r = namedctx_prepare (&c.named, st, &host, err);
      platform_release (&host);
      if (r < 0)
        goto out;
      g->named = &c.named;
    }
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
  eo.network = c.b.network;
  eo.hosts = c.b.hosts;
  eo.n_hosts = c.b.n_hosts;
  eo.rlimits = c.b.rlimits;
  eo.n_rlimits = c.b.n_rlimits;
  eo.shm_size = c.b.shm_size;
  eo.n_no_cache_stages = c.n_no_cache_stages;
  eo.explain_cache = c.explain_cache || c.progress == CLI_PROGRESS_RAWJSON;
  eo.dockerfile = c.b.dockerfile;
  buildevents_dockerignore (eo.events, c.b.context, c.b.dockerfile);
  if (ignore_matcher_load (c.b.context, c.b.dockerfile, &ignore, err) < 0)
    goto out;
  namedctx_rewrite_plan (&c.named, plan);
  eo.ignore = ignore;
  if (c.b.n_platforms > 1)
    {
      buildcache_import (eo.store, &c.caches, &c.reg.opts, c.quiet);
      clock_gettime (CLOCK_REALTIME_COARSE, &started);
      eo.platform_prefix = true;
      ret = build_multi (&c, g, &eo, plan, &started, err);
      goto out;
    }
  if (pull_sources (eo.store, plan, &c, err) < 0)
    goto out;
  announce_emulation (&c, &plan, 1);
  buildcache_import (eo.store, &c.caches, &c.reg.opts, c.quiet);
  /* The clock of file timestamps: every entry this build uses or records is touched after
     this, which is how --cache-to tells them from the store's other entries. */
  clock_gettime (CLOCK_REALTIME_COARSE, &started);
  if (executor_build (plan, &eo, &img, err) < 0)
    goto out;
  if (buildoutput_labels (&img, c.labels, c.n_labels, err) < 0
      || buildoutput_annotations (&img, c.annotations, c.n_annotations, err) < 0)
    goto out;
  progress_vertex_start (&c.vertex, eo.events, "export", "exporting to image");
  r = store_image (eo.store, &c, &img, err);
  progress_vertex_end (&c.vertex, false, r < 0 && *err ? (*err)->msg : NULL);
  if (r < 0)
    goto out;
  /* mode=min (BuildKit's default) exports the entries of the image's own layers, taken
     before an export replaces them by compressed copies. */
  image_layers = xcalloc (img.n_layers + 1, sizeof *image_layers);
  for (size_t i = 0; i < img.n_layers; i++)
    image_layers[i] = xstrdup (img.layers[i].digest);
  if (write_outputs (eo.store, &c, &img, err) < 0)
    goto out;
  if (push_outputs (eo.store, &c, &img, err) < 0)
    goto out;
  /* After the push, so that a registry cache can mount the layers the image took there. */
  if (buildcache_export (eo.store, &c.caches, &started, (const char *const *) image_layers,
                         img.n_layers, c.push ? c.tags[0] : registry_dest (&c),
                         &c.reg.opts, c.quiet, err) < 0)
    goto out;
  if (c.iidfile && write_iidfile (c.iidfile, img.config_digest, err) < 0)
    goto out;
  if (c.metadata_file && write_metadata (&c, &img, 0, c.metadata_file, err) < 0)
    goto out;
  keep_provenance (g, plan, c.b.dockerfile, img.config_digest);
  cli_progress_close (c.renderer);
  c.renderer = NULL;
  say_written (&c);
  /* The image ID; with -q --push what was pushed (what signing and deploy steps need);
     nothing when an output is the standard output. */
  if (!buildoutput_stdout (&c.outputs))
    puts (c.quiet && *c.pushed ? c.pushed : img.config_digest);
  ret = 0;
out:
  cli_progress_close (c.renderer);
  g->events = NULL;
  g->log_vertex = NULL;
  if (in_txn)
    store_txn_end (eo.store);
  exec_image_release (&img);
  ignore_matcher_free (ignore);
  plan_free (plan);
  bale_dockerfile_free (df);
  buildopts_release (&c.b);
  free (c.tags);
  free (c.no_cache_stages);
  buildoutput_release (&c.outputs);
  ctxsource_release (&cs);
  namedctx_release (&c.named, g->opened);
  g->named = NULL;
  free (c.labels);
  free (c.annotations);
  buildcache_release (&c.caches);
  cli_registry_release (&c.reg);
  buildsecrets_release (&c.secrets);
  return ret;
}
