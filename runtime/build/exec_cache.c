/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The build cache in the executor: a layer step's key, and reusing the layer recorded under
 * it. The key is the sha256 of a canonical JSON object of everything the layer's bytes can
 * depend on (docs/repro-security.md B4.13, CVE-2024-24557): the layers below (base image and
 * parents), the expanded instruction and its flags, workdir, user, platform and
 * SOURCE_DATE_EPOCH, and the content of what the step reads (context files after
 * .dockerignore, heredocs, --from layers, bind-mounted context trees). RUN also sees its
 * environment (ENV and ARG values); the proxy build args are left out, as BuildKit leaves
 * them out, and so are secrets' contents: a secret is keyed by its id only, so rotating a
 * token does not rebuild. File mtimes are not in the key either (BuildKit's content hash has
 * none): a hit keeps the times of the build that made the layer.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>
#include <libgen.h>

#include "common/oci/canonjson.h"
#include "codegen/dispatch.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/build/cache.h"
#include "runtime/build/cache_inputs.h"
#include "runtime/build/ctxhash.h"
#include "runtime/build/executor_internal.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* Bump when what a step writes for the same inputs changes (layer format, copy rules). */
#define KEY_VERSION 1

static json_t *
str_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

static json_t *
diff_ids (const struct stage_state *s)
{
  json_t *a = json_array ();
  size_t i;

  for (i = 0; i < s->n_layers; i++)
    json_array_append_new (a, json_string (s->layers[i].diff_id));
  return a;
}

/* ctxhash's listing, into the "ctxfiles" object of a miss's inputs: "MODE CONTENT". Paths or
   targets that are not UTF-8 cannot be JSON strings and are left out of the listing (the
   key still covers them). */
static void
list_file (void *ctx, const char *path, uint32_t mode, const char *content)
{
  cleanup_free char *v = S_ISREG (mode) || S_ISLNK (mode) ? xasprintf ("%o %s", mode, content)
                                                          : xasprintf ("%o", mode);
  json_t *j = json_string (v);

  if (j)
    json_object_set_new ((json_t *) ctx, path, j);
}

static struct ctxhash *
context_index (struct executor *x, bale_error_t *err)
{
  if (!x->ctxhash)
    {
      /* BuildKit's vertex for the context's transfer; bale reads the files in place. */
      struct progress_vertex v;
      progress_vertex_start (&v, x->o->events, "context", "[internal] load build context");
      x->ctxhash = ctxhash_open (store_path (x->o->store), x->o->context, err);
      if (x->ctxhash)
        ctxhash_set_since (x->ctxhash, &x->step_start);
      if (x->ctxhash && x->listing)
        ctxhash_set_list (x->ctxhash, list_file, x->listing);
      progress_vertex_end (&v, false, x->ctxhash ? NULL : (*err)->msg);
    }
  return x->ctxhash;
}

/* Describe the context files read into files (NULL: stop). */
static void
set_listing (struct executor *x, json_t *files)
{
  x->listing = files;
  if (x->ctxhash)
    ctxhash_set_list (x->ctxhash, files ? list_file : NULL, files);
}

/* Heredoc bodies (COPY sources, RUN scripts) by digest. */
static int
add_files (json_t *k, const struct plan_step *s, bale_error_t *err)
{
  json_t *a = json_array ();
  size_t i;

  json_object_set_new (k, "files", a);
  for (i = 0; i < s->n_files; i++)
    {
      char d[DIGEST_STRLEN + 1];
      if (digest_buffer (s->files[i].data, s->files[i].len, d, err) < 0)
        return -1;
      json_array_append_new (a, json_pack ("[s,s]", s->files[i].name, d));
    }
  return 0;
}

/* The diff_ids of the image a COPY --from names. */
static json_t *
image_diff_ids (struct executor *x, const struct plan_stage *st, const char *image,
                bale_error_t *err)
{
  struct store_image img = { 0 };
  char target[DIGEST_STRLEN + 1];
  json_t *a;
  size_t i;

  if (store_ref_lookup (x->o->store, image, target, err) <= 0
      || store_image_read (x->o->store, target, &st->platform, &img, err) < 0)
    return NULL;
  a = json_array ();
  for (i = 0; i < img.n_layers; i++)
    json_array_append_new (a, json_string (img.diff_ids[i]));
  store_image_release (&img);
  return a;
}

static int
copy_inputs (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
             json_t *k, bale_error_t *err)
{
  json_object_set_new (k, "chown", str_or_null (s->chown));
  json_object_set_new (k, "chmod", str_or_null (s->chmod));
  json_object_set_new (k, "checksum", str_or_null (s->checksum));
  json_object_set_new (k, "link", json_boolean (s->link));
  json_object_set_new (k, "parents", json_boolean (s->parents));
  json_object_set_new (k, "keep_git_dir", json_boolean (s->keep_git_dir));
  json_object_set_new (k, "unpack", json_integer (s->unpack));
  json_object_set_new (k, "exclude", json_strv (s->exclude, s->n_exclude));
  if (add_files (k, s, err) < 0)
    return -1;
  if (s->from.stage >= 0)
    json_object_set_new (k, "from", diff_ids (&x->states[s->from.stage]));
  else if (s->from.image)
    {
      json_t *ids = image_diff_ids (x, st, s->from.image, err);
      if (!ids)
        return -1;
      json_object_set_new (k, "from", ids);
    }
  else
    {
      struct ctxhash *h = context_index (x, err);
      cleanup_ignore_matcher struct ignore_matcher *exclude = NULL;
      struct digester d = { 0 };
      char dg[DIGEST_STRLEN + 1];
      if (!h || (s->n_exclude && ignore_matcher_from_list (s->exclude, s->n_exclude, &exclude, err) < 0)
          || digester_init (&d, err) < 0)
        return -1;
      if (ctxhash_sources (h, x->o->ignore, exclude, s->parents, s->argv, s->argc - 1, &d, err) < 0)
        {
          digester_release (&d);
          return -1;
        }
      if (digester_final (&d, dg, err) < 0)
        return -1;
      json_object_set_new (k, "context", json_string (dg));
    }
  return 0;
}

/* What a mount shows the step: a stage's or image's layers, a bind of the context by
   content, a secret by id. */
static int
mount_input (struct executor *x, const struct plan_stage *st, const struct plan_mount *m,
             const struct plan_source *from, json_t *inputs, bale_error_t *err)
{
  if (from && from->stage >= 0)
    json_array_append_new (inputs, diff_ids (&x->states[from->stage]));
  else if (from && from->image)
    {
      json_t *ids = image_diff_ids (x, st, from->image, err);
      if (!ids)
        return -1;
      json_array_append_new (inputs, ids);
    }
  else if (m->type == PLAN_MOUNT_BIND && !m->from)
    {
      struct ctxhash *h = context_index (x, err);
      cleanup_free char *clean = dispatch_clean_path (m->source ? m->source : "/");
      struct digester d = { 0 };
      char dg[DIGEST_STRLEN + 1];
      if (!h || digester_init (&d, err) < 0)
        return -1;
      if (ctxhash_tree (h, clean + 1, &d, err) < 0)
        {
          digester_release (&d);
          return -1;
        }
      if (digester_final (&d, dg, err) < 0)
        return -1;
      json_array_append_new (inputs, json_string (dg));
    }
  else if (m->type == PLAN_MOUNT_SECRET)
    {
      const char *id = m->id ? m->id : (m->target ? strrchr (m->target, '/') + 1 : "");
      bool given = false;
      size_t i;
      for (i = 0; i < x->o->n_secrets; i++)
        given |= strcmp (x->o->secrets[i].id, id) == 0;
      json_array_append_new (inputs, json_pack ("[s,b]", id, given));
    }
  else
    json_array_append_new (inputs, json_null ());
  return 0;
}

static int
run_inputs (struct executor *x, const struct plan_stage *st, const struct plan_step *s, json_t *k,
            bale_error_t *err)
{
  json_t *inputs = json_array (), *mounts = json_array ();
  struct kvlist env = KVLIST_INIT;
  size_t i;

  kv_state_get (&s->env, &env);
  json_object_set_new (k, "env", json_strv (env.kv, env.n));
  kv_release (&env);
  json_object_set_new (k, "mounts", mounts);
  json_object_set_new (k, "mount_inputs", inputs);
  json_object_set_new (k, "network", str_or_null (s->network));
  json_object_set_new (k, "security", str_or_null (s->security));
  /* bale build's sandbox options are part of BuildKit's ExecOp too (its network, extra hosts,
     ulimits, the /dev/shm mount); left out when unset, so other builds keep their keys. */
  if (x->o->network || x->o->n_hosts || x->o->n_rlimits || x->o->shm_size)
    {
      json_t *sb = json_object (), *hosts = json_array (), *lims = json_array ();
      json_object_set_new (sb, "none", json_boolean (exec_run_network (x, s) == SANDBOX_NET_NONE));
      for (i = 0; i < x->o->n_hosts; i++)
        json_array_append_new (hosts, json_pack ("[s,s]", x->o->hosts[i].name, x->o->hosts[i].ip));
      for (i = 0; i < x->o->n_rlimits; i++)
        json_array_append_new (lims, json_pack ("[i,I,I]", x->o->rlimits[i].resource,
                                                (json_int_t) x->o->rlimits[i].soft,
                                                (json_int_t) x->o->rlimits[i].hard));
      json_object_set_new (sb, "hosts", hosts);
      json_object_set_new (sb, "ulimits", lims);
      json_object_set_new (sb, "shm", json_integer ((json_int_t) x->o->shm_size));
      json_object_set_new (k, "sandbox", sb);
    }
  for (i = 0; i < s->n_mounts; i++)
    {
      /* The typed fields: equal mounts, however written, share a key. */
      json_array_append_new (mounts, plan_mount_json (&s->mounts[i]));
      if (mount_input (x, st, &s->mounts[i], s->mount_from ? &s->mount_from[i] : NULL, inputs, err) < 0)
        return -1;
    }
  return add_files (k, s, err);
}

static bool
is_remote (const char *s)
{
  return strncmp (s, "http://", 7) == 0 || strncmp (s, "https://", 8) == 0
         || strncmp (s, "git://", 6) == 0 || strncmp (s, "git@", 4) == 0;
}

static int
digest_json (json_t *k, char key[DIGEST_STRLEN + 1], bale_error_t *err)
{
  size_t len;
  cleanup_free char *text = canonjson_dumps (k, &len, err);

  return text ? digest_buffer (text, len, key, err) : -1;
}

/* The step's key into key; failures (a missing source, say) leave the step uncached, so
   running it reports the error as it always did. ADD of a URL is never looked up: what the
   server sends is only known after the download (the steps after it still hit when the
   download gives the same layer). */
static int
step_key (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
          char key[DIGEST_STRLEN + 1], json_t **inputs, bale_error_t *err)
{
  const struct bale_platform *pl = st->platform.os ? &st->platform : &x->p->target_platform;
  cleanup_free char *platform = platform_format (pl);
  json_auto_t *k = json_object ();
  size_t i;
  int r = 0;

  if (s->instr == BALE_I_ADD)
    for (i = 0; i + 1 < s->argc; i++)
      if (is_remote (s->argv[i]))
        return bale_make_error (err, 0, "remote sources are not cached");
  json_object_set_new (k, "v", json_integer (KEY_VERSION));
  json_object_set_new (k, "parent", diff_ids (&x->states[st->index]));
  json_object_set_new (k, "platform", json_string (platform));
  json_object_set_new (k, "epoch", x->o->epoch_set ? json_integer (x->o->epoch) : json_null ());
  json_object_set_new (k, "instr", json_string (bale_instr_name (s->instr)));
  json_object_set_new (k, "argv", json_strv (s->argv, s->argc));
  json_object_set_new (k, "created_by", str_or_null (s->created_by));
  json_object_set_new (k, "workdir", str_or_null (s->workdir));
  if (s->instr == BALE_I_RUN && s->workdir_raw)
    json_object_set_new (k, "workdir_raw", json_string (s->workdir_raw));
  json_object_set_new (k, "user", str_or_null (s->user));
  if (inputs)
    {
      /* The listing is not part of the key: it says which files the context digest covered. */
      json_t *files = json_object ();
      set_listing (x, files);
      if (s->instr == BALE_I_COPY || s->instr == BALE_I_ADD)
        r = copy_inputs (x, st, s, k, err);
      else if (s->instr == BALE_I_RUN)
        r = run_inputs (x, st, s, k, err);
      set_listing (x, NULL);
      if (r == 0)
        r = digest_json (k, key, err);
      if (r < 0)
        {
          json_decref (files);
          return -1;
        }
      json_object_set_new (k, "ctxfiles", files);
      json_object_set_new (k, "step", json_string (s->node->original));
      if (st->base_stage >= 0)
        json_object_set_new (k, "base", json_sprintf ("stage %s", x->p->stages[st->base_stage].display));
      else
        json_object_set_new (k, "base", json_sprintf ("%s%s%s", st->base ? st->base : "scratch",
                                                      st->base_digest ? " " : "",
                                                      st->base_digest ? st->base_digest : ""));
      *inputs = json_incref (k);
      return 0;
    }
  if (s->instr == BALE_I_COPY || s->instr == BALE_I_ADD)
    r = copy_inputs (x, st, s, k, err);
  else if (s->instr == BALE_I_RUN)
    r = run_inputs (x, st, s, k, err);
  if (r < 0)
    return -1;
  return digest_json (k, key, err);
}

static bool
cache_disabled (const struct executor *x, const struct plan_stage *st)
{
  size_t i;

  if (x->o->no_cache)
    return true;
  for (i = 0; i < x->o->n_no_cache_stages; i++)
    if ((st->name && strcmp (st->name, x->o->no_cache_stages[i]) == 0)
        || strcmp (st->display, x->o->no_cache_stages[i]) == 0)
      return true;
  return false;
}

void
exec_cache_unlock (struct executor *x)
{
  if (x->key_lock >= 0)
    close (x->key_lock);
  x->key_lock = -1;
}

/* o->shared_dir (a build of several platforms): wait while another platform runs the step of
   this key, then hold the key until the step is recorded. True when this build has recorded
   the key already: its layer is taken even under --no-cache, which asks for every step to run
   once in this build, not once per platform. */
static bool
claim_key (struct executor *x, const char *key)
{
  cleanup_free char *lock = NULL, *mark = NULL;
  int fd;

  exec_cache_unlock (x);
  if (!x->o->shared_dir || !*key)
    return false;
  lock = xasprintf ("%s/%s.lock", x->o->shared_dir, digest_hex (key));
  mark = xasprintf ("%s/%s", x->o->shared_dir, digest_hex (key));
  fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0)
    {
      while (flock (fd, LOCK_EX) < 0 && errno == EINTR)
        ;
      x->key_lock = fd;
    }
  return access (mark, F_OK) == 0;
}

/* Which step of which project this is, the same on every machine that checks the project out
   under the same name: the context directory's and the Dockerfile's names, the stage and the
   step's index in it. A miss compares with the last build of this identity. */
static void
step_identity (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
               char id[DIGEST_STRLEN + 1])
{
  cleanup_free char *ctx = realpath (x->o->context ? x->o->context : ".", NULL);
  cleanup_free char *df = xstrdup (x->o->dockerfile ? x->o->dockerfile : "Dockerfile");
  json_auto_t *j = json_pack ("[s,s,s,s,I]", "bale-step", ctx ? basename (ctx) : "",
                              basename (df), st->display, (json_int_t) (s - st->steps));
  bale_error_t e = NULL;

  id[0] = '\0';
  if (!j || digest_json (j, id, &e) < 0)
    id[0] = '\0';
  bale_error_release (&e);
}

static const char *
made_by (void *ctx, const char *diff_id)
{
  struct executor *x = ctx;
  size_t i;

  for (i = x->n_made; i-- > 0;)
    if (strcmp (x->made[i].diff_id, diff_id) == 0)
      return x->made[i].what;
  return NULL;
}

/* Why the step with key (and now its inputs) missed: compared with the last build of the
   same step in this store. */
static char *
explain_miss (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
              const char *key, json_t *now)
{
  char id[DIGEST_STRLEN + 1], last[DIGEST_STRLEN + 1];
  json_auto_t *before = NULL;
  char *why;
  size_t i;

  if (x->o->no_cache)
    return xstrdup ("--no-cache");
  for (i = 0; i < x->o->n_no_cache_stages; i++)
    if ((st->name && strcmp (st->name, x->o->no_cache_stages[i]) == 0)
        || strcmp (st->display, x->o->no_cache_stages[i]) == 0)
      return xasprintf ("--no-cache-filter %s", x->o->no_cache_stages[i]);
  if (!*key)
    return xstrdup (s->instr == BALE_I_ADD ? "a remote source is never cached"
                                           : "no cache key (a source cannot be read)");
  step_identity (x, st, s, id);
  if (!*id || !cache_pointer_get (x->o->store, CACHE_PTR_STEP, id, last))
    return xstrdup ("no earlier build of this step in this store");
  if (strcmp (last, key) == 0)
    return xstrdup ("same inputs as the last build, but its cache entry or layer is gone "
                    "(pruned)");
  before = cache_inputs_read (x->o->store, last);
  if (!before)
    return xstrdup ("the inputs of the last build of this step are not known");
  why = now ? cache_inputs_explain (before, now, made_by, x) : NULL;
  if (!why || !*why)
    {
      free (why);
      why = xstrdup ("inputs changed");
    }
  return why;
}

static void
miss_clear (struct executor *x)
{
  json_decref (x->miss_inputs);
  x->miss_inputs = NULL;
  free (x->miss_reason);
  x->miss_reason = NULL;
}

/* A hit: the entry e's layer on top of the stage. */
static void
take_hit (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
          const char *key, struct cache_entry *e)
{
  struct exec_layer l = { 0 };
  bale_error_t ignored = NULL;
  char id[DIGEST_STRLEN + 1];

  exec_cache_unlock (x);
  step_identity (x, st, s, id);
  if (*id)
    cache_pointer_set (x->o->store, CACHE_PTR_STEP, id, key, &ignored);
  bale_error_release (&ignored);
  if (e->created_ns == 0)
    {
      /* An entry of an older bale has no time: give it one, so the rebuilds after this one
         write the same config. */
      e->created_ns = exec_now_ns ();
      cache_record (x->o->store, key, e, &ignored);
      bale_error_release (&ignored);
    }
  l.created_ns = e->created_ns;
  l.media_type = e->media_type;
  memcpy (l.digest, e->digest, sizeof l.digest);
  memcpy (l.diff_id, e->diff_id, sizeof l.diff_id);
  l.size = e->size;
  l.path = store_blob_path (x->o->store, e->digest);
  exec_state_add_layer (&x->states[st->index], &l, true);
  free (l.path);
}

int
exec_cache_lookup (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                   char key[DIGEST_STRLEN + 1])
{
  bool ours;
  struct cache_entry e;
  bale_error_t ignored = NULL;

  miss_clear (x);
  key[0] = '\0';
  if (!x->o->store || step_key (x, st, s, key, NULL, &ignored) < 0)
    {
      bale_error_release (&ignored);
      key[0] = '\0';
      if (x->o->store && x->o->explain_cache)
        x->miss_reason = explain_miss (x, st, s, key, NULL);
      return 0;
    }
  ours = claim_key (x, key);
  if ((cache_disabled (x, st) && !ours) || !cache_lookup (x->o->store, key, &e))
    {
      /* Taken again with the listing of the context files: a miss runs the step, which
         costs far more than describing its sources a second time from the index. */
      if (step_key (x, st, s, key, &x->miss_inputs, &ignored) < 0)
        bale_error_release (&ignored);
      if (x->o->explain_cache)
        x->miss_reason = explain_miss (x, st, s, key, x->miss_inputs);
      return 0;
    }
  take_hit (x, st, s, key, &e);
  return 1;
}

bool
exec_cache_defer (struct executor *x, const struct plan_stage *st, const struct plan_step *s)
{
  char id[DIGEST_STRLEN + 1], last[DIGEST_STRLEN + 1];
  bale_error_t ignored = NULL;

  /* Not with --explain-cache (the reason is said when the step starts), a build of several
     platforms (the key is locked before the step runs) or --cache-from (its entries were
     made elsewhere); only a COPY from the context, whose layer is not needed as a snapshot
     (its parent then writes nothing but waits for the child). */
  if (!x->o->store || x->o->explain_cache || x->o->shared_dir || x->o->cache_imported
      || s->instr != BALE_I_COPY || s->from.stage >= 0 || s->from.image
      || exec_needs_snapshot (x, st, s))
    return false;
  /* A step built before in this store (it has the pointer of its last key) is likely a hit,
     and a hit needs no layer: looked up first, as always. */
  step_identity (x, st, s, id);
  if (!*id || (!cache_disabled (x, st) && cache_pointer_get (x->o->store, CACHE_PTR_STEP, id, last)))
    return false;
  /* The context's index is loaded (and its progress vertex said) before the step's own. */
  if (!context_index (x, &ignored))
    {
      bale_error_release (&ignored);
      return false;
    }
  /* Likely read for the first time since the files were written or the machine started. */
  ctxhash_set_cold (x->ctxhash, true);
  return true;
}

int
exec_cache_lookup_deferred (struct executor *x, const struct plan_step *s)
{
  const struct plan_stage *st = x->deferred.st;
  char *key = x->deferred.key;
  struct cache_entry e;
  bale_error_t ignored = NULL;
  int r;

  x->deferred.st = NULL;
  miss_clear (x);
  key[0] = '\0';
  /* Taken with the listing at once: a miss is what is expected. */
  r = step_key (x, st, s, key, &x->miss_inputs, &ignored);
  ctxhash_set_cold (x->ctxhash, false);
  if (r < 0)
    {
      bale_error_release (&ignored);
      key[0] = '\0';
      return 0;
    }
  if (cache_disabled (x, st) || !cache_lookup (x->o->store, key, &e))
    {
      /* The miss's inputs (the listing of every file read) are written now, while the child
         writes the layer, rather than after it. */
      if (x->miss_inputs && cache_inputs_write (x->o->store, key, x->miss_inputs, &ignored) == 0)
        memcpy (x->deferred.inputs_written, key, sizeof x->deferred.inputs_written);
      bale_error_release (&ignored);
      return 0;
    }
  miss_clear (x);
  take_hit (x, st, s, key, &e);
  return 1;
}

void
exec_cache_step_start (struct executor *x)
{
  /* The clock the kernel stamps files with (current_time): CLOCK_REALTIME runs up to a tick
     ahead of it, and a file written in that tick after the step began would look older. */
  clock_gettime (CLOCK_REALTIME_COARSE, &x->step_start);
  x->layer_written[0] = '\0';
  if (x->ctxhash)
    free (ctxhash_take_changed (x->ctxhash));
}

/* The first context entry of the listing (files, a RUN's every entry; else the directories,
   and those holding what is listed) gone or written since the step began, or NULL. */
static char *
listing_written (struct executor *x, const struct plan_step *s)
{
  json_t *files = x->miss_inputs ? json_object_get (x->miss_inputs, "ctxfiles") : NULL, *v;
  bool every = s->instr == BALE_I_RUN;
  cleanup_free char *dir = NULL;
  const char *path;

  json_object_foreach (files, path, v)
    {
      const char *slash = strrchr (path, '/');
      size_t len = slash ? (size_t) (slash - path) : 0;
      /* "MODE ...": a directory's mode is 40xxx in octal, and no other type's begins so. */
      bool is_dir = strncmp (json_string_value (v), "40", 2) == 0;
      if ((every || is_dir) && ctxhash_changed_since (x->ctxhash, path, &x->step_start))
        return xstrdup (path);
      /* The directory holding it, once for a run of entries in it: an entry added there (a
         wildcard's new match) is in the layer and not in the key. */
      if (dir && strlen (dir) == len && strncmp (dir, path, len) == 0)
        continue;
      free (dir);
      dir = xstrndup (path, len);
      if (!json_object_get (files, dir) && ctxhash_changed_since (x->ctxhash, dir, &x->step_start))
        return xstrdup (*dir ? dir : ".");
    }
  return NULL;
}

bool
exec_cache_settled (struct executor *x, const struct plan_step *s, char key[DIGEST_STRLEN + 1])
{
  cleanup_free char *changed = x->ctxhash ? ctxhash_take_changed (x->ctxhash) : NULL;

  if (!*key || !x->ctxhash)
    return true;
  /* The files the key read and the files the layer's child read were checked as they were
     read (a file the key took from the index unchanged is what the key describes). */
  if (!changed && *x->layer_written)
    changed = xstrdup (x->layer_written);
  if (!changed)
    changed = listing_written (x, s);
  if (!changed)
    return true;
  {
    cleanup_free char *msg = xasprintf ("context file '%s' changed while the step ran: the step is "
                                        "not cached",
                                        changed);
    progress_vertex_warn (&x->vertex, msg);
  }
  if (*x->deferred.inputs_written)
    cache_inputs_remove (x->o->store, x->deferred.inputs_written);
  x->deferred.inputs_written[0] = '\0';
  key[0] = '\0';
  return false;
}

/* The miss's inputs, kept with the entry; this step's and this layer stack's pointers. */
static void
record_inputs (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
               const char *key)
{
  const struct stage_state *ss = &x->states[st->index];
  const char **ids = xcalloc (ss->n_layers + 1, sizeof *ids);
  char id[DIGEST_STRLEN + 1], chain[DIGEST_STRLEN + 1];
  bale_error_t ignored = NULL;
  size_t i;

  for (i = 0; i < ss->n_layers; i++)
    ids[i] = ss->layers[i].diff_id;
  step_identity (x, st, s, id);
  if ((strcmp (x->deferred.inputs_written, key) == 0
       || cache_inputs_write (x->o->store, key, x->miss_inputs, &ignored) == 0)
      && (!*id || cache_pointer_set (x->o->store, CACHE_PTR_STEP, id, key, &ignored) == 0)
      && cache_chain_id (ids, ss->n_layers, chain, &ignored) == 0)
    cache_pointer_set (x->o->store, CACHE_PTR_CHAIN, chain, key, &ignored);
  bale_error_release (&ignored);
  free (ids);
}

void
exec_cache_record (struct executor *x, const struct plan_stage *st, const struct plan_step *s,
                   const char *key)
{
  const struct stage_state *ss = &x->states[st->index];
  const struct exec_layer *l;
  struct cache_entry e = { 0 };
  bale_error_t ignored = NULL;

  if (ss->n_layers == 0)
    {
      exec_cache_unlock (x);
      return;
    }
  l = &ss->layers[ss->n_layers - 1];
  XGROW (x->made, x->alloc_made, x->n_made + 1);
  memcpy (x->made[x->n_made].diff_id, l->diff_id, sizeof l->diff_id);
  x->made[x->n_made++].what = xstrdup (s->node->original);
  if (!*key)
    {
      exec_cache_unlock (x);
      return;
    }
  memcpy (e.digest, l->digest, sizeof e.digest);
  memcpy (e.diff_id, l->diff_id, sizeof e.diff_id);
  e.size = l->size;
  e.created_ns = l->created_ns;
  snprintf (e.media_type, sizeof e.media_type, "%s", l->media_type);
  /* A cache that cannot be written only makes the next build slower. */
  if (cache_record (x->o->store, key, &e, &ignored) == 0)
    {
      if (x->miss_inputs)
        record_inputs (x, st, s, key);
      if (x->o->shared_dir)
        {
          /* The mark that the shared step is done: the other platforms take its layer. */
          cleanup_free char *mark = xasprintf ("%s/%s", x->o->shared_dir, digest_hex (key));
          int fd = open (mark, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
          if (fd >= 0)
            close (fd);
        }
    }
  else if (*x->deferred.inputs_written)
    cache_inputs_remove (x->o->store, x->deferred.inputs_written);
  bale_error_release (&ignored);
  x->deferred.inputs_written[0] = '\0';
  miss_clear (x);
  exec_cache_unlock (x);
}

void
exec_cache_finish (struct executor *x)
{
  bale_error_t ignored = NULL;

  /* A step that failed after its inputs were written has no entry for them. */
  if (*x->deferred.inputs_written)
    cache_inputs_remove (x->o->store, x->deferred.inputs_written);
  x->deferred.inputs_written[0] = '\0';
  ctxhash_save (x->ctxhash, &ignored);
  bale_error_release (&ignored);
  ctxhash_free (x->ctxhash);
  x->ctxhash = NULL;
  miss_clear (x);
  while (x->n_made > 0)
    free (x->made[--x->n_made].what);
  free (x->made);
  x->made = NULL;
  x->alloc_made = 0;
}
