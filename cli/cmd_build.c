/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bale build`: a client of bale_build() (include/bale.h). Its options go to the library as
 * the command line spells them, parsed there once; the progress renderers draw the build's
 * events, the lines it says outside its vertices go to stderr. It runs the build in its own
 * process (bale_build_options.in_process).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/apicmd.h"
#include "cli/progress.h"
#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct build_cli
{
  const char **names, **values; /* the options of the build itself, in order */
  size_t n, alloc;
  const char *metadata_file;
  const char *iidfile;
  bool quiet, check;
  enum cli_progress_mode progress; /* --progress */
  struct cli_progress *renderer;
};

static void
build_usage (FILE *f)
{
  fputs ("usage: bale build [OPTIONS] [-f FILE] [-t NAME[:TAG]]... [--build-arg K[=V]]... [--target STAGE]\n"
         "                            [--no-cache] [--no-cache-filter STAGE]... [--source-date-epoch N]\n"
         "                            [--platform OS/ARCH[,OS/ARCH...]]... [--output SPEC]\n"
         "                            [--compression gzip|gzip-single|zstd|none] [--iidfile F] [-q] CONTEXT\n"
         "  -f, --file FILE      the Dockerfile (default CONTEXT/Dockerfile)\n"
         "  -t, --tag NAME       name the image in the store (repeatable)\n"
         "  --build-arg K[=V]    set a build argument; a bare K takes $K from the environment\n"
         "  --target STAGE       build this stage (default: the last one)\n"
         "  --platform P[,P...]  the target platform (default: the host); several build one\n"
         "                       image index, a foreign platform's RUN steps under emulation\n"
         "  --check              run the build checks (as `bale lint`) and build nothing\n"
         "  -o, --output SPEC    type=local,dest=DIR[,privileged-files=true] (the files;\n"
         "                       device nodes, setuid/setgid bits and file capabilities\n"
         "                       are left out with a warning unless privileged-files=true)\n"
         "                       | type=tar,dest=FILE|- |\n"
         "                       type=oci,dest=DIR[,tar=true] | type=oci-archive,dest=FILE |\n"
         "                       type=docker,dest=FILE | type=registry,name=REF |\n"
         "                       type=image[,push=true]; DIR and - are short for local and\n"
         "                       tar; repeatable\n"
         "  --load               accepted: the store always has the image\n"
         "  --label K=V          set a label of the image (repeatable)\n"
         "  --annotation [TYPE:]K=V  set an annotation of the manifest (TYPE manifest, the\n"
         "                       default), of a multi-platform build's index (index), or of\n"
         "                       both (manifest,index) (repeatable)\n"
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
         CLI_RUNOPTS_USAGE
         CLI_REGISTRY_USAGE
         "SOURCE_DATE_EPOCH (environment or build arg) fixes every timestamp of the image.\n",
         f);
}

static void
add (struct build_cli *c, const char *name, const char *value)
{
  XGROW (c->names, c->alloc, c->n + 1);
  c->values = xrealloc (c->values, c->alloc * sizeof *c->values);
  c->names[c->n] = name;
  c->values[c->n++] = value;
}

static int
parse_args (int argc, char **argv, struct build_cli *c, const char **context, bale_error_t *err)
{
  static const struct option opts[] = {
    CLI_PLANOPTS_LONG,
    { "tag", required_argument, NULL, 't' },
    { "output", required_argument, NULL, 'o' },
    { "compression", required_argument, NULL, 0x200 },
    { "iidfile", required_argument, NULL, 'I' },
    { "no-cache", no_argument, NULL, 0x200 },
    { "no-cache-filter", required_argument, NULL, 0x200 },
    { "source-date-epoch", required_argument, NULL, 0x200 },
    { "secret", required_argument, NULL, 0x200 },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { "push", no_argument, NULL, 0x200 },
    { "pull", no_argument, NULL, 0x200 },
    { "cache-to", required_argument, NULL, 0x200 },
    { "cache-from", required_argument, NULL, 0x200 },
    { "ssh", required_argument, NULL, 0x200 },
    { "progress", required_argument, NULL, 0x304 },
    { "load", no_argument, NULL, 0x305 },
    { "label", required_argument, NULL, 0x200 },
    { "annotation", required_argument, NULL, 0x200 },
    { "metadata-file", required_argument, NULL, 0x308 },
    { "build-context", required_argument, NULL, 0x200 },
    { "explain-cache", no_argument, NULL, 0x200 },
    { "isolation", required_argument, NULL, 0x30b },
    { "insecure-registry", required_argument, NULL, 0x200 },
    { "tls-ca", required_argument, NULL, 0x200 },
    { NULL, 0, NULL, 0 },
  };
  const char *env = getenv ("BALE_INSECURE_REGISTRY");
  int ch, idx;

  /* One registry name from the environment, for CI jobs that cannot change every command line. */
  if (env && *env)
    add (c, "insecure-registry", env);
  while ((ch = getopt_long (argc, argv, "f:t:o:qh", opts, &idx)) != -1)
    switch (ch)
      {
      case 'q': c->quiet = true; break;
      case 'I': c->iidfile = optarg; break;
      case 0x305: break; /* --load: the store always has the image */
      case 0x308: c->metadata_file = optarg; break;
      case 0x30b: break; /* chosen before the command runs (cli/main.c, runtime/fs/isolation.h) */
      case 0x304:
        if (cli_progress_parse (optarg, &c->progress, err) < 0)
          return -1;
        break;
      case 'h': build_usage (stdout); exit (0);
      case '?': cli_usage_error ("build");
      case 't':
        if (cli_check_name (optarg, err) < 0)
          return -1;
        add (c, "tag", optarg);
        break;
      case 'f': add (c, "file", optarg); break;
      case 'o': add (c, "output", optarg); break;
      default:
        /* Every other option is the build's own: the library parses it, by its long name. */
        c->check |= strcmp (opts[idx].name, "check") == 0;
        add (c, opts[idx].name, optarg);
      }
  if (argc - optind > 1)
    cli_usage_fail ("build", "want one context directory, got '%s' and '%s'", argv[optind],
                    argv[optind + 1]);
  *context = argc - optind == 1 ? argv[optind] : ".";
  /* buildx: -q goes with auto, quiet and none only; --progress=quiet is -q. */
  if (c->quiet && c->progress != CLI_PROGRESS_AUTO && c->progress != CLI_PROGRESS_QUIET
      && c->progress != CLI_PROGRESS_NONE)
    cli_usage_fail ("build", "--progress and --quiet cannot be used together");
  if (c->quiet)
    c->progress = CLI_PROGRESS_QUIET;
  c->quiet = c->progress == CLI_PROGRESS_QUIET || c->progress == CLI_PROGRESS_NONE;
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

/* --metadata-file, written atomically. */
static int
write_metadata (const char *path, const char *text, bale_error_t *err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp-%d", path, (int) getpid ());
  cleanup_close int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0 || fileio_write_all (fd, text, strlen (text)) < 0 || fsync (fd) < 0 || rename (tmp, path) < 0)
    {
      int ret = bale_make_error (err, errno, "--metadata-file: cannot write '%s'", path);
      unlink (tmp);
      return ret;
    }
  return 0;
}

/* The build's events to the renderer; what it says outside its vertices to stderr, as the
   command always printed it. */
static void
on_event (void *ctx, const struct bale_progress_event *ev)
{
  struct build_cli *c = ctx;
  const struct bale_progress *sink = cli_progress_sink (c->renderer);

  if (ev->kind == BALE_PROGRESS_MESSAGE)
    fprintf (stderr, "%.*s\n", (int) ev->len, ev->data);
  else if (sink)
    sink->fn (sink->ctx, ev);
}

int
bale_cmd_build (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct bale_build_options o = BALE_BUILD_OPTIONS_INIT;
  struct bale_build_details d = BALE_BUILD_DETAILS_INIT;
  struct bale_build_result res;
  struct build_cli c = { 0 };
  bale_store *s = NULL;
  int ret = -1;

  /* A bad value of an option the command line parses (--progress, -t) is a usage error. */
  if (parse_args (argc, argv, &c, &o.context, err) < 0)
    {
      ret = cli_usage_failure (g, 2);
      goto out;
    }
  if (c.quiet)
    add (&c, "quiet", NULL);
  /* rawjson always says why a step missed the cache. */
  if (c.progress == CLI_PROGRESS_RAWJSON)
    add (&c, "explain-cache", NULL);
  if (cli_bale_store (g, &s, err) < 0)
    goto out;
  if (cli_progress_open (c.progress, STDERR_FILENO, &c.renderer, err) < 0)
    goto out;
  o.option_names = c.names;
  o.option_values = c.values;
  o.n_options = c.n;
  o.progress.fn = on_event;
  o.progress.ctx = &c;
  o.details = &d;
  /* This process runs one build and exits: the build runs in it (no second process). Ctrl-C,
     SIGTERM and SIGHUP stop the steps that run (the executor catches them) and end bale
     anywhere else. */
  o.in_process = true;
  ret = bale_build (s, &o, &res, err);
  if (ret < 0)
    goto out;
  ret = -1;
  if (c.check)
    {
      cli_check_report (d.lint_warnings);
      ret = 0;
      goto out;
    }
  if (c.iidfile && write_iidfile (c.iidfile, res.id, err) < 0)
    goto out;
  if (c.metadata_file && write_metadata (c.metadata_file, d.metadata ? d.metadata : "{}", err) < 0)
    goto out;
  cli_progress_close (c.renderer);
  c.renderer = NULL;
  for (size_t i = 0; !c.quiet && d.written && d.written[i]; i++)
    fprintf (stderr, "wrote %s\n", d.written[i]);
  /* The image ID; with -q --push what was pushed (what signing and deploy steps need);
     nothing when an output is the standard output. */
  if (!d.to_stdout)
    puts (c.quiet && *d.pushed ? d.pushed : res.id);
  ret = 0;
out:
  cli_progress_close (c.renderer);
  bale_build_details_release (&d);
  bale_store_close (s);
  free (c.names);
  free (c.values);
  return ret;
}
