/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bale_run: a command in an image of the store, confined as a RUN step (runtime/sandbox), with
 * Docker's ENTRYPOINT/CMD rules (codegen/explain.c, as bale_explain). The container's changes
 * live in a temporary overlay upper directory removed when the command ends (every run is
 * `--rm`). sandbox_run installs signal handlers and the sandbox mounts, so the whole run
 * happens in one forked child, as bale_build's build does: the caller's signal dispositions,
 * mask and mount namespace stay as they were. Its errors come back as JSON on a pipe.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "api/imgfs.h"
#include "codegen/explain.h"
#include "common/cleanup.h"
#include "common/dirwalk.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/kv.h"
#include "common/oci/platform.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/progress.h"
#include "runtime/fs/isolation.h"
#include "runtime/sandbox/binfmt.h"
#include "runtime/sandbox/sandbox.h"
#include "runtime/sandbox/startcheck.h"
#include "runtime/store/store.h"
#include "common/banned.h"

static void
remove_tree (const char *parent, const char *dir)
{
  cleanup_close int fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bale_error_t e = NULL;

  if (fd >= 0)
    dirwalk_remove (fd, strrchr (dir, '/') + 1, dir, &e);
  bale_error_release (&e);
}

/* The image for o->platform (the host's by default, from an index), and whether this machine
   can execute it: natively or under a binfmt_misc emulator, else an error naming what to
   install. */
static int
run_image_read (struct store *s, const struct bale_run_options *o, struct store_image *img, bale_error_t *err)
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

/* The environment: the image's Env, then o->env over it, and docker's PATH when none. */
static const char **
run_env (const json_t *config, const struct bale_run_options *o, struct kvlist *envl)
{
  const json_t *env = json_object_get (config, "Env");
  const char **v;
  size_t i;

  for (i = 0; i < json_array_size (env); i++)
    {
      const char *e = json_string_value (json_array_get (env, i));
      if (e && strchr (e, '='))
        kv_set_entry (envl, e);
    }
  for (i = 0; i < o->n_env; i++)
    kv_set_entry (envl, o->env[i]);
  if (!kv_get (envl, "PATH"))
    kv_set (envl, "PATH", STARTCHECK_DEFAULT_PATH);
  v = xcalloc (envl->n + 1, sizeof *v);
  for (i = 0; i < envl->n; i++)
    v[i] = envl->kv[i];
  return v;
}

/* Chroot isolation mounts nothing: the image's layers applied in order into root, a copy
   the command may change and the run throws away (as exec_run.c's copy_root for a step). */
static int
run_copy_root (struct store *s, const struct store_image *img, const char *root, bale_error_t *err)
{
  cleanup_free const char **digests = xcalloc (img->n_layers + 1, sizeof *digests);

  for (size_t i = 0; i < img->n_layers; i++)
    digests[i] = img->layers[i].digest;
  return store_unpack_root (s, img->n_layers, digests, (const char *const *) img->diff_ids, root, err);
}

/* The snapshot directories of the image's layers, top first. */

static int
run_lowers (struct store *s, const struct store_image *img, char ***lowers, size_t *n_lowers,
            bale_error_t *err)
{
  struct imgfs_layers layers = { xcalloc (img->n_layers + 1, sizeof (char *)), img->diff_ids, img->n_layers };
  int r;

  for (size_t i = 0; i < img->n_layers; i++)
    layers.blobs[i] = store_blob_path (s, img->layers[i].digest);
  r = imgfs_lowers (s, &layers, lowers, n_lowers, err);
  for (size_t i = 0; i < img->n_layers; i++)
    free (layers.blobs[i]);
  free (layers.blobs);
  return r;
}

/* In the child: the run. *status is docker run's: the command's, 128 + a signal, or (on
   failure) 125, 126 or 127. */
static int
child_run (struct store *s, const struct bale_run_options *o, int *status, bale_error_t *err)
{
  struct store_image img = { 0 };
  struct explain_opts eo = { 0 };
  struct sandbox_spec spec;
  struct sandbox_result res = { 0 };
  json_t *ex = NULL;
  const json_t *config, *cmdv;
  char **lowers = NULL;
  size_t n_lowers = 0, i;
  const char **cargv = NULL, **env = NULL;
  cleanup_free char *tmp = NULL, *dir = NULL, *upper = NULL, *work = NULL, *root = NULL;
  struct kvlist envl = { 0 };
  const char *wd;
  int ret = -1;

  *status = 125;
  /* store_gc removes unused snapshots: hold it off while ours are unpacked and mounted, and
     while tmp/ holds our upper directory. */
  if (store_txn_begin (s, err) < 0)
    return -1;
  if (run_image_read (s, o, &img, err) < 0)
    goto out;
  config = json_object_get (img.config_json, "config");
  /* What docker run would execute. */
  eo.image = o->image;
  eo.entrypoint = o->entrypoint;
  eo.args = (char *const *) o->args;
  eo.n_args = o->n_args;
  ex = explain_image (img.config_json, NULL, &eo);
  cmdv = json_object_get (ex, "argv");
  if (json_array_size (cmdv) == 0)
    {
      bale_make_error (err, 0, "run: %s: no command specified (the image has no ENTRYPOINT or CMD)", o->image);
      goto out;
    }
  cargv = xcalloc (json_array_size (cmdv) + 1, sizeof *cargv);
  for (i = 0; i < json_array_size (cmdv); i++)
    cargv[i] = json_string_value (json_array_get (cmdv, i));
  env = run_env (config, o, &envl);
  if (!isolation_chroot () && run_lowers (s, &img, &lowers, &n_lowers, err) < 0)
    goto out;
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
  spec.name = o->image;
  spec.lowerdirs = (const char *const *) lowers;
  spec.n_lowerdirs = n_lowers;
  spec.upperdir = upper;
  spec.workdir = work;
  if (isolation_chroot ())
    {
      root = xasprintf ("%s/root", dir);
      if (run_copy_root (s, &img, root, err) < 0)
        goto out_dir;
      spec.copy_root = root;
      spec.force_copy = true;
      spec.chroot = true;
    }
  spec.argv = cargv;
  spec.env = env;
  wd = json_string_value (json_object_get (config, "WorkingDir"));
  spec.cwd = o->workdir ? o->workdir : wd && *wd ? wd : "/";
  spec.user = o->user ? o->user : json_string_value (json_object_get (config, "User"));
  spec.primary_group_in_groups = true; /* as docker run does */
  spec.network = o->network && strcmp (o->network, "none") == 0 ? SANDBOX_NET_NONE : SANDBOX_NET_HOST;
  spec.stdin_fd = o->stdio[0];
  spec.stdout_fd = o->stdio[1];
  spec.stderr_fd = o->stdio[2];
  spec.tmpdir = dir;
  if (sandbox_run (&spec, &res, err) < 0)
    {
      /* docker's statuses: 126/127 when the command cannot be executed (from the message, as
         the docker CLI does). */
      *status = startcheck_docker_status ((*err)->msg);
      goto out_dir;
    }
  /* docker run's exit status: the command's, or 128 + the signal that killed it. */
  if (res.interrupted)
    *status = 128 + res.interrupt_signal;
  else if (res.exited)
    *status = res.exit_code;
  else
    *status = 128 + res.term_signal;
  ret = 0;
out_dir:
  remove_tree (tmp, dir);
out:
  store_txn_end (s);
  sandbox_result_release (&res);
  imgfs_lowers_free (lowers, img.n_layers);
  free (cargv);
  free (env);
  kv_release (&envl);
  json_decref (ex);
  store_image_release (&img);
  return ret;
}

static void __attribute__ ((noreturn))
child_main (struct store *s, const struct bale_run_options *o, int result_fd)
{
  json_t *r = json_object ();
  bale_error_t e = NULL;
  sigset_t none;
  char *text;
  int status = 125, ok;

  /* The run starts from the default dispositions and an empty mask, whatever the caller's. */
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
  signal (SIGPIPE, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  ok = child_run (s, o, &status, &e) == 0;
  json_object_set_new (r, "status", json_integer (status));
  if (!ok)
    json_object_set_new (r, "errors", progress_errors_to_json (e));
  text = json_dumps (r, JSON_COMPACT);
  (void) fileio_write_all (result_fd, text, strlen (text));
  _exit (ok ? 0 : 1);
}

int
bale_run (bale_store *s, const struct bale_run_options *o, int *status, bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  json_auto_t *r = NULL;
  int fd[2], wst;
  pid_t pid;

  *status = 125;
  if (o->struct_size < offsetof (struct bale_run_options, stdio) + sizeof o->stdio)
    return bale_make_error (err, EINVAL, "bale_run: struct_size %zu is not that of this "
                            "library's struct bale_run_options (%zu): set it with "
                            "BALE_RUN_OPTIONS_INIT", o->struct_size, sizeof *o);
  if (!o->image)
    return bale_make_error (err, EINVAL, "run: name an image");
  if (o->network && strcmp (o->network, "none") != 0 && strcmp (o->network, "host") != 0
      && strcmp (o->network, "default") != 0)
    return bale_make_error (err, EINVAL, "run: unsupported network \"%s\" (want none or host)", o->network);
  if (pipe2 (fd, O_CLOEXEC) < 0)
    return bale_make_error (err, errno, "bale_run: pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (fd[0]);
      close (fd[1]);
      return bale_make_error (err, errno, "bale_run: fork");
    }
  if (pid == 0)
    {
      close (fd[0]);
      child_main (s->st, o, fd[1]);
    }
  close (fd[1]);
  {
    bale_error_t e = NULL;
    (void) fileio_read_fd (fd[0], "bale_run's result", &sb, &e);
    bale_error_release (&e);
  }
  close (fd[0]);
  while (waitpid (pid, &wst, 0) < 0)
    if (errno != EINTR)
      return bale_make_error (err, errno, "bale_run: waitpid");
  r = json_loadb (sb.buf, sb.len, 0, NULL);
  if (!json_is_integer (json_object_get (r, "status")))
    return bale_make_error (err, 0, "bale_run: the run's process ended without a result (%s %d)",
                            WIFSIGNALED (wst) ? "signal" : "status",
                            WIFSIGNALED (wst) ? WTERMSIG (wst) : WEXITSTATUS (wst));
  *status = (int) json_integer_value (json_object_get (r, "status"));
  if (json_is_array (json_object_get (r, "errors")))
    {
      progress_errors_from_json (json_object_get (r, "errors"), err);
      return -1;
    }
  return 0;
}
