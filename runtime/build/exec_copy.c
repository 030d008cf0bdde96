/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COPY, ADD and WORKDIR steps. The files are read in a child process that mounts read-only
 * views of the stages involved in a private mount namespace (runtime/layer/rootview.c), so bale's
 * own process never changes its mounts and a crash leaves nothing mounted. The child writes
 * the layer tar into a pipe; the parent stores it as a blob while it streams, so the layer
 * touches the disk once.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/trace.h"
#include "common/xalloc.h"
#include "runtime/registry/addurl.h"
#include "runtime/build/copy.h"
#include "runtime/build/copy_mode.h"
#include "common/dirwalk.h"
#include "runtime/build/executor_internal.h"
#include "runtime/layer/layer.h"
#include "runtime/layer/rootview.h"
#include "runtime/store/store.h"
#include "common/banned.h"


int
exec_state_snapshots (struct executor *x, struct stage_state *s, const char ***out, size_t *n,
                      bale_error_t *err)
{
  const char **v = xcalloc (s->n_layers + 1, sizeof *v);
  size_t i;

  for (i = 0; i < s->n_layers; i++)
    {
      struct exec_layer *l = &s->layers[i];
      if (!l->snapshot)
        {
          cleanup_close int fd = store_blob_open (x->o->store, l->digest, err);
          if (fd < 0 || snapshot_ensure (store_snapshots_fd (x->o->store), l->diff_id, fd,
                                         &l->snapshot, err) < 0)
            {
              free (v);
              return bale_error_wrap (err, "unpacking layer %s", l->diff_id);
            }
        }
      v[s->n_layers - 1 - i] = l->snapshot; /* top first */
    }
  *out = v;
  *n = snapshot_stack_unique (v, s->n_layers);
  return 0;
}

struct fs_job
{
  const struct plan_step *step;
  const char **dest_layers, **src_layers;
  size_t n_dest, n_src;
  bool src_is_context;
  const char *context;
  const struct ignore_matcher *ignore;
  const char *dest_mp, *src_mp; /* mountpoints, created by the parent */
  const char *tmpdir;
  struct layer_write_opts wopts;
  time_t now;
  struct timespec step_start; /* the build cache's check of context files (copy_spec) */
  char *const *url_files; /* ADD <url>: the downloads, relative to context; else NULL */
};

static int
child_work (void *ctx, int layer_fd, struct child_report *rep, bale_error_t *err)
{
  const struct fs_job *j = ctx;
  const struct plan_step *s = j->step;
  cleanup_close int dest_fd = -1, src_fd = -1;
  struct layer_writer *w = NULL;
  struct layer_result res;
  int r;

  /* Views are copies when nothing may be mounted (BALE_FORCE_COPY, chroot isolation). */
  if ((j->n_dest > 0 || (!j->src_is_context && j->n_src > 0)) && !rootview_force_copy ()
      && rootview_unshare (err) < 0)
    return -1;
  if (j->n_dest > 0)
    {
      if (rootview_mount (j->dest_layers, j->n_dest, j->dest_mp, err) < 0)
        return -1;
      dest_fd = open (j->dest_mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dest_fd < 0)
        return bale_make_error (err, errno, "cannot open %s", j->dest_mp);
    }
  w = layer_writer_new (&j->wopts, layer_fd, err);
  if (!w)
    return -1;
  if (s->instr == BALE_I_WORKDIR)
    {
      uid_t uid = 0;
      gid_t gid = 0;
      bool chown = s->user && *s->user;
      r = chown ? copy_resolve_chown (dest_fd, s->user, &uid, &gid, err) : 0;
      if (r == 0)
        r = copy_mkdir_layer (dest_fd, s->argv[0], chown, uid, gid, j->now, w, err);
    }
  else
    {
      struct copy_spec spec = { 0 };
      struct copy_mode sym = { 0 };
      cleanup_ignore_matcher struct ignore_matcher *exclude = NULL;
      struct copy_heredoc *hd = xcalloc (s->n_files + 1, sizeof *hd);
      cleanup_free char *dest = NULL;
      size_t i;
      const char *d = s->argv[s->argc - 1];

      if (j->src_is_context)
        src_fd = open (j->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      else if (j->n_src > 0)
        {
          if (rootview_mount (j->src_layers, j->n_src, j->src_mp, err) < 0)
            {
              free (hd);
              layer_writer_free (w);
              return -1;
            }
          src_fd = open (j->src_mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
      else
        src_fd = open (j->src_mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* an empty stage */
      if (src_fd < 0)
        {
          free (hd);
          layer_writer_free (w);
          return bale_make_error (err, errno, "cannot open the copy source");
        }
      /* The destination relative to WORKDIR, keeping a trailing slash (D2). */
      if (*d == '/')
        dest = xstrdup (d);
      else if (*d == '\0' || strcmp (d, ".") == 0)
        dest = xasprintf ("%s/", s->workdir ? s->workdir : "/");
      else
        dest = xasprintf ("%s/%s", s->workdir ? s->workdir : "", d);
      for (i = 0; i < s->n_files; i++)
        {
          hd[i].name = s->files[i].name;
          hd[i].data = s->files[i].data;
          hd[i].len = s->files[i].len;
        }
      spec.src_fd = src_fd;
      spec.src_kind = j->src_is_context ? COPY_ROOT_CONTEXT : COPY_ROOT_IMAGE;
      spec.ignore = j->src_is_context ? j->ignore : NULL;
      spec.dest_fd = dest_fd;
      spec.sources = j->url_files ? j->url_files : s->argv;
      spec.n_sources = s->argc - 1;
      spec.heredocs = hd;
      spec.n_heredocs = s->n_files;
      spec.dest = dest;
      spec.keep_owner = !j->src_is_context;
      if (!j->src_is_context)
        {
          spec.src_layers = (const char *const *) j->src_layers;
          spec.n_src_layers = j->n_src;
          spec.src_path = j->src_mp;
        }
      spec.parents = s->parents;
      /* Docker never extracts a download, whatever it holds. */
      spec.unpack = s->instr == BALE_I_ADD && s->unpack != 0 && !j->url_files;
      spec.tmpdir = j->tmpdir;
      spec.now = j->now;
      if (j->src_is_context)
        {
          spec.written_since = j->step_start;
          spec.written = rep->written;
          spec.written_size = sizeof rep->written;
        }
      r = s->n_exclude ? ignore_matcher_from_list (s->exclude, s->n_exclude, &exclude, err) : 0;
      spec.exclude = exclude; /* fuzzer finding F27 */
      if (r == 0 && s->chown && *s->chown)
        {
          spec.chown_set = true;
          r = copy_resolve_chown (dest_fd, s->chown, &spec.uid, &spec.gid, err);
        }
      if (r == 0 && s->chmod && *s->chmod)
        {
          spec.chmod_set = true;
          if (s->chmod[0] >= '0' && s->chmod[0] <= '9')
            r = copy_parse_chmod (s->chmod, &spec.mode, err);
          else if ((r = copy_mode_parse (s->chmod, &sym, err)) == 0)
            spec.chmod_sym = &sym; /* fuzzer finding F26 */
        }
      trace_mark ("copy: views ready");
      if (r == 0)
        r = copy_to_layer (&spec, w, err);
      copy_mode_release (&sym);
      free (hd);
    }
  if (r == 0)
    r = layer_writer_finish (w, &res, err);
  layer_writer_free (w);
  if (r < 0)
    return -1;
  memcpy (rep->diff_id, res.diff_id, sizeof rep->diff_id);
  memcpy (rep->digest, res.digest, sizeof rep->digest);
  rep->size = res.size;
  return 0;
}

/* The layers a --from reads: a stage's state, or an image of the store (into tmp). what
   names the flag in errors ("COPY --from", "RUN --mount from"). */
int
exec_source_layers (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                    const struct plan_source *from, const char *what, struct stage_state *tmp,
                    struct stage_state **src, bale_error_t *err)
{
  struct store_image img = { 0 };
  char target[DIGEST_STRLEN + 1];
  int r;

  if (from->stage >= 0)
    {
      *src = &x->states[from->stage];
      return 0;
    }
  r = store_ref_lookup (x->o->store, from->image, target, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return plan_error_at (x->p, &s->node->span, err, "%s=%s: the image is not in the store "
                          "(load it with `bale load`, or pull it)", what, from->image);
  {
    bale_error_t e = NULL;
    if (store_image_read (x->o->store, target, &st->platform, &img, &e) < 0)
      {
        plan_error_at (x->p, &s->node->span, err, "%s=%s: %s", what, from->image, e->msg);
        bale_error_release (&e);
        return -1;
      }
  }
  exec_state_add_image (x, tmp, &img);
  store_image_release (&img);
  *src = tmp;
  return 0;
}


/* "1000" or "1000:1000": nothing to look up in the image. */
static bool
all_digits_spec (const char *s)
{
  for (; *s; s++)
    if ((*s < '0' || *s > '9') && *s != ':')
      return false;
  return true;
}

/* A RUN, COPY, ADD or WORKDIR of the stage after s, or a stage that builds on it or copies
   or mounts from it. */
bool
exec_needs_snapshot (struct executor *x, const struct plan_stage *st, const struct plan_step *s)
{
  const struct plan *p = x->p;
  size_t i, k;
  bool after = false;

  for (i = 0; i < st->n_steps; i++)
    {
      const struct plan_step *t = &st->steps[i];
      if (t == s)
        after = true;
      else if (after && (t->instr == BALE_I_RUN || t->instr == BALE_I_COPY || t->instr == BALE_I_ADD
                         || t->instr == BALE_I_WORKDIR))
        return true;
    }
  for (i = 0; i < p->n_stages; i++)
    {
      const struct plan_stage *o = &p->stages[i];
      if (o == st || !o->reachable)
        continue;
      if (o->base_stage == (int) st->index)
        return true;
      for (k = 0; k < o->n_steps; k++)
        {
          const struct plan_step *t = &o->steps[k];
          size_t m;
          if (t->from.stage == (int) st->index)
            return true;
          for (m = 0; t->mount_from && m < t->n_mounts; m++)
            if (t->mount_from[m].stage == (int) st->index)
              return true;
        }
    }
  return false;
}

int
exec_fs_step (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
              bale_error_t *err)
{
  struct stage_state *state = &x->states[st->index], tmp = { 0 }, *src = NULL;
  struct fs_job j = { 0 };
  cleanup_free char *tmpdir = store_area_path (x->o->store, STORE_AREA_TMP, NULL);
  cleanup_free char *mps = NULL, *dest_mp = NULL, *src_mp = NULL;
  char *url_dir = NULL, **url_files = NULL;
  int ret = -1;
  size_t i;

  j.step = s;
  j.context = x->o->context;
  j.ignore = x->o->ignore;
  j.tmpdir = tmpdir;
  j.now = x->o->epoch_set ? (time_t) x->o->epoch : time (NULL);
  j.step_start = x->step_start;
  j.wopts.compression = LAYER_COMPRESSION_NONE;
  j.wopts.epoch_set = x->o->epoch_set;
  j.wopts.epoch = x->o->epoch;
  if (s->instr == BALE_I_ADD)
    for (i = 0; i + 1 < s->argc; i++)
      if (addurl_is_url (s->argv[i]))
        {
          /* Downloaded here, where the network is; the child copies them like a context. */
          cleanup_error bale_error_t e = NULL;
          if (addurl_fetch (s->argv, s->argc - 1, s->checksum, tmpdir, &url_dir, &url_files,
                            &e) < 0)
            return plan_error_at (x->p, &s->node->span, err, "%s", e->msg); /* located */
          j.context = url_dir;
          j.ignore = NULL;
          j.url_files = url_files;
          break;
        }
  /* COPY --link (without --chmod, as BuildKit decides) builds the files on an empty
     filesystem: the layer holds them and the parents it creates with default metadata,
     independent of what is below. --chown names still need the stage's /etc/passwd. */
  if (s->link && !(s->chmod && *s->chmod) && !(s->chown && *s->chown && !all_digits_spec (s->chown)))
    j.dest_layers = xcalloc (1, sizeof *j.dest_layers), j.n_dest = 0;
  else if (exec_state_snapshots (x, state, &j.dest_layers, &j.n_dest, err) < 0)
    goto out;
  trace_mark ("copy: destination snapshots ready");
  if (s->instr != BALE_I_WORKDIR)
    {
      j.src_is_context = s->from.stage < 0 && !s->from.image;
      if (!j.src_is_context)
        {
          if (exec_source_layers (x, st, s, &s->from, "COPY --from", &tmp, &src, err) < 0
              || exec_state_snapshots (x, src, &j.src_layers, &j.n_src, err) < 0)
            goto out;
        }
    }
  mps = xasprintf ("%s/view.XXXXXX", tmpdir);
  if (!mkdtemp (mps))
    {
      bale_make_error (err, errno, "cannot create %s", mps);
      goto out;
    }
  dest_mp = xasprintf ("%s/dest", mps);
  src_mp = xasprintf ("%s/src", mps);
  if (mkdir (dest_mp, 0700) < 0 || mkdir (src_mp, 0700) < 0)
    {
      bale_make_error (err, errno, "cannot create mountpoints in %s", mps);
      goto out;
    }
  j.dest_mp = dest_mp;
  j.src_mp = src_mp;
  {
    struct exec_layer l = { 0 };
    /* A later step will read this layer through its snapshot: unpack it on the way in. */
    cleanup_free char *tree = exec_needs_snapshot (x, st, s) ? xasprintf ("%s/unpack", mps) : NULL;
    if (tree && (mkdir (tree, 0755) < 0 || chmod (tree, 0755) < 0))
      {
        free (tree);
        tree = NULL;
      }
    /* Without a tree, the child writes the store's file itself (runtime/build/exec_layer.c). */
    j.wopts.writeback = tree == NULL;
    ret = exec_child_layer_unpacked (x, s, child_work, &j, tree, &l, err);
    if (ret != 0)
      goto out; /* failed, or the deferred key's hit */
    exec_state_add_layer (state, &l, true);
    free (l.path);
    free (l.snapshot);
  }
out:
  if (mps)
    {
      /* Empty mountpoints, or views merged without overlayfs (runtime/layer/rootview_merge.c). */
      cleanup_close int tmp_fd = open (tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      bale_error_t e = NULL;
      if (tmp_fd >= 0)
        dirwalk_remove (tmp_fd, strrchr (mps, '/') + 1, mps, &e);
      bale_error_release (&e);
    }
  free (j.dest_layers);
  free (j.src_layers);
  exec_state_release (&tmp);
  addurl_cleanup (url_dir, url_files, url_files ? s->argc - 1 : 0);
  return ret;
}
