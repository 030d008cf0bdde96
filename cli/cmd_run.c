/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `bale run`: run an image of the store in the build sandbox, with Docker's ENTRYPOINT/CMD
 * rules (the same code `bale explain` uses). The container's changes live in a temporary
 * overlay upper directory that is removed when the command ends, so every run is `--rm`.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/imgfs.h"
#include "codegen/explain.h"
#include "common/kv.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/layer/layer.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/sandbox/binfmt.h"
#include "runtime/sandbox/startcheck.h"
#include "runtime/store/store.h"
#include "common/banned.h"

static void
run_usage (FILE *f)
{
  fputs ("usage: bale run [--rm] [--entrypoint CMD] [-e K=V]... [-u USER] [-w DIR]\n"
         "                [--network none|host] [--platform P] IMAGE [ARGS...]\n"
         "  --rm               accepted for docker compatibility: bale never keeps containers\n"
         "  --entrypoint CMD   replace the image's ENTRYPOINT (and drop its CMD)\n"
         "  -e, --env K=V      set an environment variable (a bare K takes $K)\n"
         "  -u, --user USER    run as USER (name or uid[:gid])\n"
         "  -w, --workdir DIR  the working directory\n"
         "  --network MODE     host (default) or none\n"
         "  --platform P       the image of a multi-platform index to run (default: this\n"
         "                     machine's); a foreign one runs under its binfmt_misc emulator\n" CLI_HELP_USAGE,
         f);
}

struct run_opts
{
  const char *entrypoint, *user, *workdir, *network, *image, *platform;
  struct kvlist env;
};

static int
parse_args (int argc, char **argv, struct run_opts *o, bale_error_t *err)
{
  static const struct option opts[] = {
    { "rm", no_argument, NULL, 'r' },
    { "entrypoint", required_argument, NULL, 'E' },
    { "env", required_argument, NULL, 'e' },
    { "user", required_argument, NULL, 'u' },
    { "workdir", required_argument, NULL, 'w' },
    { "network", required_argument, NULL, 'n' },
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  /* '+': options end at the image; what follows belongs to the command. */
  while ((c = getopt_long (argc, argv, "+e:u:w:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'r': break;
      case 'E': o->entrypoint = optarg; break;
      case 'e':
        {
          const char *eq = strchr (optarg, '=');
          if (eq)
            kv_set_entry (&o->env, optarg);
          else if (getenv (optarg))
            kv_set (&o->env, optarg, getenv (optarg));
          break;
        }
      case 'u': o->user = optarg; break;
      case 'w': o->workdir = optarg; break;
      case 'n': o->network = optarg; break;
      case 'p': o->platform = optarg; break;
      case 'h': run_usage (stdout); exit (0);
      default: run_usage (stderr); exit (125);
      }
  if (optind >= argc)
    return bale_make_error (err, 0, "run: name an image");
  if (o->network && strcmp (o->network, "none") != 0 && strcmp (o->network, "host") != 0
      && strcmp (o->network, "default") != 0)
    return bale_make_error (err, 0, "run: unsupported network \"%s\" (want none or host)", o->network);
  o->image = argv[optind++];
  return optind;
}

static void
remove_tree (const char *parent, const char *dir)
{
  cleanup_close int fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bale_error_t e = NULL;

  if (fd >= 0)
    dirwalk_remove (fd, strrchr (dir, '/') + 1, dir, &e);
  bale_error_release (&e);
}

/* The image for --platform (the host's by default, from an index), and whether this machine
   can execute it: natively or under a binfmt_misc emulator, else an error naming what to
   install. */
static int
run_image_read (struct store *s, const struct run_opts *o, struct store_image *img, bale_error_t *err)
{
  struct bale_platform want = { 0 }, host = { 0 }, have = { 0 };
  struct binfmt_handler h;
  int ret = -1;

  if ((o->platform && platform_parse (o->platform, &want, err) < 0) || platform_host (&host, err) < 0
      || store_image_read (s, o->image, o->platform ? &want : NULL, img, err) < 0)
    goto out;
  have.os = xstrdup (json_string_value (json_object_get (img->config_json, "os")) ?: host.os);
  have.arch = xstrdup (json_string_value (json_object_get (img->config_json, "architecture")) ?: host.arch);
  if (binfmt_lookup (BINFMT_MISC_DIR, &host, &have, &h, err) == BINFMT_NONE)
    {
      bale_error_wrap (err, "run: %s", o->image);
      goto out;
    }
  binfmt_handler_release (&h);
  ret = 0;
out:
  platform_release (&want);
  platform_release (&host);
  platform_release (&have);
  return ret;
}

int
bale_cmd_run (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  struct run_opts o = { 0 };
  struct store *s;
  struct store_image img = { 0 };
  struct explain_opts eo = { 0 };
  struct sandbox_spec spec;
  struct sandbox_result res = { 0 };
  json_t *ex = NULL;
  const json_t *config, *cmdv;
  char **lowers = NULL;
  size_t n_lowers = 0;
  const char **cargv = NULL, **env = NULL;
  cleanup_free char *tmp = NULL, *dir = NULL, *upper = NULL, *work = NULL;
  struct kvlist envl = { 0 };
  int first, ret = -1;
  bool in_txn = false;
  size_t i;

  /* docker run's statuses: 125 when docker itself fails, 126/127 when the command cannot be
     executed (set below from the message, as the docker CLI does), else the command's. */
  g->error_status = 125;
  first = parse_args (argc, argv, &o, err);
  if (first < 0)
    goto out;
  s = cli_store_get (g, err);
  /* store_gc removes unused snapshots: hold it off while ours are unpacked and mounted, and
     while tmp/ holds our upper directory. */
  if (!s || store_txn_begin (s, err) < 0)
    goto out;
  in_txn = true;
  if (run_image_read (s, &o, &img, err) < 0)
    goto out;
  config = json_object_get (img.config_json, "config");

  /* What docker run would execute. */
  eo.image = o.image;
  eo.entrypoint = o.entrypoint;
  eo.args = argv + first;
  eo.n_args = (size_t) (argc - first);
  ex = explain_image (img.config_json, NULL, &eo);
  cmdv = json_object_get (ex, "argv");
  if (json_array_size (cmdv) == 0)
    {
      bale_make_error (err, 0, "run: %s: no command specified (the image has no ENTRYPOINT or CMD)", o.image);
      goto out;
    }
  cargv = xcalloc (json_array_size (cmdv) + 1, sizeof *cargv);
  for (i = 0; i < json_array_size (cmdv); i++)
    cargv[i] = json_string_value (json_array_get (cmdv, i));

  for (i = 0; i < json_array_size (json_object_get (config, "Env")); i++)
    {
      const char *e = json_string_value (json_array_get (json_object_get (config, "Env"), i));
      if (e && strchr (e, '='))
        kv_set_entry (&envl, e);
    }
  for (i = 0; i < o.env.n; i++)
    kv_set_entry (&envl, o.env.kv[i]);
  if (!kv_get (&envl, "PATH"))
    kv_set (&envl, "PATH", STARTCHECK_DEFAULT_PATH);
  env = xcalloc (envl.n + 1, sizeof *env);
  for (i = 0; i < envl.n; i++)
    env[i] = envl.kv[i];

  {
    struct imgfs_layers layers = { xcalloc (img.n_layers + 1, sizeof (char *)), img.diff_ids, img.n_layers };
    for (i = 0; i < img.n_layers; i++)
      layers.blobs[i] = store_blob_path (s, img.layers[i].digest);
    ret = imgfs_lowers (s, &layers, &lowers, &n_lowers, err);
    for (i = 0; i < img.n_layers; i++)
      free (layers.blobs[i]);
    free (layers.blobs);
    if (ret < 0)
      goto out;
    ret = -1;
  }

  tmp = store_area_path (s, STORE_AREA_TMP, NULL);
  dir = xasprintf ("%s/run.XXXXXX", tmp);
  if (!mkdtemp (dir))
    {
      bale_make_error (err, errno, "cannot create %s", dir);
      goto out;
    }
  upper = xasprintf ("%s/upper", dir);
  work = xasprintf ("%s/work", dir);
  if (mkdir (upper, 0755) < 0 || mkdir (work, 0700) < 0)
    {
      bale_make_error (err, errno, "cannot create %s", upper);
      goto out_dir;
    }
  sandbox_spec_init (&spec);
  spec.name = o.image;
  spec.lowerdirs = (const char *const *) lowers;
  spec.n_lowerdirs = n_lowers;
  spec.upperdir = upper;
  spec.workdir = work;
  spec.argv = cargv;
  spec.env = env;
  spec.cwd = o.workdir ? o.workdir
             : (json_string_value (json_object_get (config, "WorkingDir"))
                && *json_string_value (json_object_get (config, "WorkingDir")))
                 ? json_string_value (json_object_get (config, "WorkingDir"))
                 : "/";
  spec.user = o.user ? o.user : json_string_value (json_object_get (config, "User"));
  spec.primary_group_in_groups = true; /* as docker run does */
  spec.network = o.network && strcmp (o.network, "none") == 0 ? SANDBOX_NET_NONE : SANDBOX_NET_HOST;
  spec.stdin_fd = 0;
  spec.tmpdir = dir;
  if (sandbox_run (&spec, &res, err) < 0)
    {
      g->error_status = startcheck_docker_status ((*err)->msg);
      /* The message names the error already, in docker's words. */
      if (g->error_status != 125)
        (*err)->status = 0;
      goto out_dir;
    }
  /* docker run's exit status: the command's, or 128 + the signal that killed it. */
  if (res.interrupted)
    ret = 128 + res.interrupt_signal;
  else if (res.exited)
    ret = res.exit_code;
  else
    ret = 128 + res.term_signal;
  fflush (stdout);
out_dir:
  remove_tree (tmp, dir);
out:
  if (in_txn)
    store_txn_end (s);
  sandbox_result_release (&res);
  imgfs_lowers_free (lowers, img.n_layers);
  free (cargv);
  free (env);
  kv_release (&envl);
  kv_release (&o.env);
  json_decref (ex);
  store_image_release (&img);
  return ret;
}
