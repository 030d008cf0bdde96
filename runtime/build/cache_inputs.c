/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inputs of cache entries, and what differs between two of them (see cache_inputs.h). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/oci/canonjson.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/cache.h"
#include "runtime/build/cache_inputs.h"
#include "runtime/build/cache_mounts.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* Inputs files hold a listing of the context files a step read: bounded, but generous. */
#define MAX_INPUTS (64 * 1024 * 1024)

static const char *const pointer_dirs[] = { "steps", "chains" };

int
cache_inputs_write (struct store *s, const char *key, json_t *inputs, bale_error_t *err)
{
  cleanup_free char *text = NULL;

  if (!digest_hex (key))
    return bale_make_error (err, 0, "invalid cache key '%s'", key);
  text = json_dumps (inputs, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text)
    return bale_make_error (err, 0, "cannot encode the inputs of %s", key);
  return cache_file_write (s, "inputs", digest_hex (key), text, strlen (text), err);
}

static json_t *
read_json (struct store *s, const char *dir, const char *hex, size_t max)
{
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;
  struct strbuf sb = STRBUF_INIT;
  bale_error_t e = NULL;
  json_t *j = NULL;

  if (!hex)
    return NULL;
  {
    cleanup_free char *rel = xasprintf ("%s/%s", dir, hex);
    path = store_area_path (s, STORE_AREA_BUILDCACHE, rel);
  }
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0 && fileio_read_fd (fd, path, &sb, &e) == 0 && sb.len <= max)
    j = json_loadb (sb.buf, sb.len, 0, NULL);
  bale_error_release (&e);
  strbuf_release (&sb);
  return j;
}

json_t *
cache_inputs_read (struct store *s, const char *key)
{
  json_t *j = read_json (s, "inputs", digest_hex (key), MAX_INPUTS);

  if (j && !json_is_object (j))
    {
      json_decref (j);
      return NULL;
    }
  return j;
}

void
cache_inputs_remove (struct store *s, const char *key)
{
  cleanup_free char *path = NULL;

  if (!digest_hex (key))
    return;
  {
    cleanup_free char *rel = xasprintf ("inputs/%s", digest_hex (key));
    path = store_area_path (s, STORE_AREA_BUILDCACHE, rel);
  }
  unlink (path);
}

int
cache_pointer_get (struct store *s, enum cache_pointer kind, const char *id,
                   char key[DIGEST_STRLEN + 1])
{
  json_t *j = read_json (s, pointer_dirs[kind], digest_hex (id), 4096);
  const char *v = json_string_value (json_object_get (j, "key"));
  int found = v && digest_is_valid (v);

  if (found)
    memcpy (key, v, DIGEST_STRLEN + 1);
  json_decref (j);
  return found;
}

int
cache_pointer_set (struct store *s, enum cache_pointer kind, const char *id, const char *key,
                   bale_error_t *err)
{
  char have[DIGEST_STRLEN + 1];
  cleanup_free char *text = NULL;

  if (!digest_hex (id))
    return bale_make_error (err, 0, "invalid cache pointer '%s'", id);
  if (cache_pointer_get (s, kind, id, have) && strcmp (have, key) == 0)
    return 0;
  text = xasprintf ("{\"key\":\"%s\"}", key);
  return cache_file_write (s, pointer_dirs[kind], digest_hex (id), text, strlen (text), err);
}

int
cache_chain_id (const char *const *diff_ids, size_t n, char out[DIGEST_STRLEN + 1],
                bale_error_t *err)
{
  json_t *a = json_array ();
  cleanup_free char *text = NULL;
  size_t i, len;

  for (i = 0; i < n; i++)
    json_array_append_new (a, json_string (diff_ids[i]));
  text = canonjson_dumps (a, &len, err);
  json_decref (a);
  return text ? digest_buffer (text, len, out, err) : -1;
}

/* ---- in the fleet cache ------------------------------------------------------------------- */

static bool
is_hex_name (const char *name)
{
  return strlen (name) == 64 && strspn (name, "0123456789abcdef") == 64;
}

static int
cmp_key (const void *a, const void *b)
{
  return strcmp ((const char *) a, ((const struct cache_keyed *) b)->key);
}

/* Hard-link src into dir/name (the store's own filesystem), or copy it. */
static void
bundle_file (const char *src, const char *dir, const char *name)
{
  cleanup_free char *dst = xasprintf ("%s/%s", dir, name);

  if (link (src, dst) < 0 && errno != EEXIST)
    {
      cleanup_close int in = open (src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      cleanup_close int out = in < 0 ? -1 : open (dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (out >= 0)
        (void) fileio_copy_fd (in, out);
    }
}

int
cache_inputs_pack (struct store *s, const struct cache_keyed *entries, size_t n,
                   char digest[DIGEST_STRLEN + 1], int64_t *size, bale_error_t *err)
{
  cleanup_free char *tmp = store_area_path (s, STORE_AREA_TMP, "inputs.XXXXXX");
  cleanup_free char *in_dir = NULL, *st_dir = NULL, *steps = NULL;
  cleanup_close int tmp_fd = -1;
  DIR *d;
  struct dirent *de;
  size_t i, found = 0;
  int ret;

  digest[0] = '\0';
  if (!mkdtemp (tmp))
    return bale_make_error (err, errno, "cannot create %s", tmp);
  in_dir = xasprintf ("%s/inputs", tmp);
  st_dir = xasprintf ("%s/steps", tmp);
  mkdir (in_dir, 0700);
  mkdir (st_dir, 0700);
  for (i = 0; i < n; i++)
    {
      cleanup_free char *rel = xasprintf ("inputs/%s", digest_hex (entries[i].key));
      cleanup_free char *src = store_area_path (s, STORE_AREA_BUILDCACHE, rel);
      if (access (src, F_OK) == 0)
        {
          bundle_file (src, in_dir, digest_hex (entries[i].key));
          found++;
        }
    }
  /* The steps whose last build is an exported entry: an importer compares with them. */
  steps = store_area_path (s, STORE_AREA_BUILDCACHE, "steps");
  if ((d = opendir (steps)) != NULL)
    {
      while ((de = readdir (d)) != NULL)
        {
          char id[DIGEST_STRLEN + 1], key[DIGEST_STRLEN + 1];
          cleanup_free char *src = NULL;
          if (!is_hex_name (de->d_name))
            continue;
          snprintf (id, sizeof id, "sha256:%.64s", de->d_name);
          if (!cache_pointer_get (s, CACHE_PTR_STEP, id, key)
              || !bsearch (key, entries, n, sizeof *entries, cmp_key))
            continue;
          src = xasprintf ("%s/%s", steps, de->d_name);
          bundle_file (src, st_dir, de->d_name);
        }
      closedir (d);
    }
  tmp_fd = found ? open (store_path (s), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  ret = found && tmp_fd >= 0
            ? cache_pack_dir (s, tmp_fd, tmp + strlen (store_path (s)) + 1, digest, size, err)
            : 0;
  cache_remove_temp (tmp);
  return ret;
}

/* Move the files of tmp/sub that the store lacks into buildcache/sub. */
static void
adopt (struct store *s, const char *tmp, const char *sub)
{
  cleanup_free char *top = store_area_path (s, STORE_AREA_BUILDCACHE, NULL);
  /* The bundle came from a cache directory: its "inputs" or "steps" may be a symlink (to a
     host directory whose hex-named files were moved into the store). Every directory is
     opened without following one, and files are moved between those descriptors. */
  cleanup_close int tfd = open (tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int from = tfd < 0 ? -1 : openat (tfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int topfd = -1, to = -1;
  bale_error_t e = NULL;
  DIR *d;
  struct dirent *de;

  if (from < 0)
    return;
  mkdir (top, 0700);
  if ((topfd = open (top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
      || (to = fileio_mkdir_open (topfd, sub, &e)) < 0 || !(d = fdopendir (from)))
    {
      bale_error_release (&e);
      return;
    }
  from = -1; /* d's now */
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      if (!is_hex_name (de->d_name) || fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0
          || !S_ISREG (st.st_mode))
        continue;
      /* This store's own history wins: it is the more recent for this runner. */
      if (faccessat (to, de->d_name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
        (void) renameat (dirfd (d), de->d_name, to, de->d_name);
    }
  closedir (d);
}

int
cache_inputs_unpack (struct store *s, int fd, const char *digest, int64_t size, bale_error_t *err)
{
  cleanup_free char *parent = store_area_path (s, STORE_AREA_TMP, NULL);
  cleanup_free char *tmp = NULL;

  if (cache_unpack_temp (parent, fd, digest, size, &tmp, err) < 0)
    return bale_error_wrap (err, "the inputs of the cache entries");
  adopt (s, tmp, "inputs");
  adopt (s, tmp, "steps");
  cache_remove_temp (tmp);
  return 0;
}

/* ---- explaining ---------------------------------------------------------------------------- */

static void
sep (struct strbuf *out)
{
  if (out->len)
    strbuf_addstr (out, "; ");
}

/* A value as short text for a message: a string itself, anything else as JSON. */
static char *
show (json_t *v)
{
  if (!v || json_is_null (v))
    return xstrdup ("(none)");
  if (json_is_string (v))
    return xstrdup (json_string_value (v));
  return json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static bool
differs (json_t *before, json_t *now, const char *field)
{
  json_t *a = json_object_get (before, field), *b = json_object_get (now, field);

  if (!a && !b)
    return false;
  return !a || !b || !json_equal (a, b);
}

static void
say_change (struct strbuf *out, const char *what, json_t *before, json_t *now, const char *field)
{
  cleanup_free char *a = show (json_object_get (before, field));
  cleanup_free char *b = show (json_object_get (now, field));

  sep (out);
  strbuf_addf (out, "%s changed (%s -> %s)", what, a, b);
}

/* The value part of a "KEY=VALUE" list entry, by key. */
static const char *
env_find (json_t *list, const char *entry, size_t klen)
{
  size_t i;
  json_t *v;

  json_array_foreach (list, i, v)
    {
      const char *s = json_string_value (v);
      if (s && strncmp (s, entry, klen) == 0 && (s[klen] == '=' || s[klen] == '\0'))
        return s;
    }
  return NULL;
}

/* Names only: values may be tokens a log must not show. */
static void
explain_env (struct strbuf *out, json_t *before, json_t *now)
{
  json_t *a = json_object_get (before, "env"), *b = json_object_get (now, "env"), *v;
  struct strbuf names = STRBUF_INIT;
  size_t i, n = 0;
  int pass;

  for (pass = 0; pass < 2; pass++)
    json_array_foreach (pass ? a : b, i, v)
      {
        const char *s = json_string_value (v), *other;
        size_t klen;
        if (!s)
          continue;
        klen = strcspn (s, "=");
        other = env_find (pass ? b : a, s, klen);
        /* A changed value is seen in both passes: counted in the first only. */
        if (other && (pass || strcmp (other, s) == 0))
          continue;
        if (n++ < CACHE_EXPLAIN_FILES)
          strbuf_addf (&names, "%s%.*s%s", names.len ? ", " : "", (int) klen, s,
                       !other ? (pass ? " (unset)" : " (new)") : "");
      }
  sep (out);
  if (n == 0)
    strbuf_addstr (out, "build args or environment reordered");
  else
    strbuf_addf (out, "build arg or ENV %s changed", names.buf);
  if (n > CACHE_EXPLAIN_FILES)
    strbuf_addf (out, " (%zu more)", n - CACHE_EXPLAIN_FILES);
  strbuf_release (&names);
}

/* "MODE CONTENT" → its two parts. */
static void
split_file (const char *v, char mode[16], const char **content)
{
  size_t n = strcspn (v, " ");

  snprintf (mode, 16, "%.*s", (int) (n < 15 ? n : 15), v);
  *content = v[n] ? v + n + 1 : "";
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* One changed path: "context file P added", "... changed (content, mode 0644 -> 0755)". */
static void
explain_file (struct strbuf *out, const char *path, json_t *was, json_t *is)
{
  char m1[16], m2[16];
  const char *c1, *c2;
  unsigned long x, y;

  sep (out);
  if (!was || !is)
    {
      strbuf_addf (out, "context file %s %s", path, was ? "removed" : "added");
      return;
    }
  split_file (json_string_value (was) ? json_string_value (was) : "", m1, &c1);
  split_file (json_string_value (is) ? json_string_value (is) : "", m2, &c2);
  strbuf_addf (out, "context file %s changed (", path);
  if (strcmp (c1, c2) != 0)
    strbuf_addstr (out, "content");
  if (strcmp (m1, m2) != 0)
    {
      x = strtoul (m1, NULL, 8);
      y = strtoul (m2, NULL, 8);
      strbuf_addstr (out, strcmp (c1, c2) != 0 ? ", " : "");
      if ((x & S_IFMT) != (y & S_IFMT))
        strbuf_addstr (out, "type");
      else
        strbuf_addf (out, "mode %04lo -> %04lo", x & 07777, y & 07777);
    }
  strbuf_addch (out, ')');
}

/* Context files added, removed, or with another content or mode: the first few by path. */
static void
explain_files (struct strbuf *out, json_t *before, json_t *now, const char *what)
{
  json_t *a = json_object_get (before, "ctxfiles"), *b = json_object_get (now, "ctxfiles"), *v;
  const char *path;
  const char **changed = NULL;
  size_t n = 0, alloc = 0, i;
  int pass;

  if (!json_is_object (a) || !json_is_object (b))
    {
      sep (out);
      strbuf_addf (out, "%s changed (the earlier build's file list is not known)", what);
      return;
    }
  for (pass = 0; pass < 2; pass++)
    json_object_foreach (pass ? a : b, path, v)
      {
        json_t *o = json_object_get (pass ? b : a, path);
        if ((pass && o) || (o && json_equal (o, v)))
          continue; /* seen in the first pass, or the same */
        XGROW (changed, alloc, n + 1);
        changed[n++] = path;
      }
  qsort (changed, n, sizeof *changed, cmp_str);
  for (i = 0; i < n && i < CACHE_EXPLAIN_FILES; i++)
    explain_file (out, changed[i], json_object_get (a, changed[i]), json_object_get (b, changed[i]));
  free (changed);
  if (n > CACHE_EXPLAIN_FILES)
    strbuf_addf (out, "; %zu more file%s", n - CACHE_EXPLAIN_FILES,
                 n - CACHE_EXPLAIN_FILES > 1 ? "s" : "");
  if (n == 0)
    {
      /* Same files, other description: which paths are hard links of one another, or the
         order of the sources. */
      sep (out);
      strbuf_addf (out, "%s changed (sources or hard links)", what);
    }
}

/* The parent layers: the base image, or an earlier step that made another layer. */
static void
explain_parent (struct strbuf *out, json_t *before, json_t *now, cache_made_fn made, void *ctx)
{
  json_t *a = json_object_get (before, "parent"), *b = json_object_get (now, "parent");
  size_t i, na = json_array_size (a), nb = json_array_size (b);
  const char *by = NULL, *id = NULL;

  sep (out);
  if (differs (before, now, "base"))
    {
      cleanup_free char *x = show (json_object_get (before, "base"));
      cleanup_free char *y = show (json_object_get (now, "base"));
      strbuf_addf (out, "base image changed (%s -> %s)", x, y);
      return;
    }
  for (i = 0; i < na && i < nb; i++)
    if (!json_equal (json_array_get (a, i), json_array_get (b, i)))
      break;
  if (i < nb)
    id = json_string_value (json_array_get (b, i));
  if (id && made)
    by = made (ctx, id);
  if (by)
    strbuf_addf (out, "parent layer changed: %s made another layer", by);
  else
    strbuf_addf (out, "parent layer changed (layer %zu of %zu)", i + 1, nb);
}

/* A mount of the key as its options are written: "type=bind,from=dep,target=/m" (the key holds
   the typed fields, or the text from older versions). */
static char *
mount_text (json_t *m)
{
  static const char *const fields[] = { "type", "from", "source", "target", "id" };
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  if (!json_is_object (m))
    return show (m);
  for (i = 0; i < sizeof fields / sizeof *fields; i++)
    {
      const char *v = json_string_value (json_object_get (m, fields[i]));
      if (v)
        strbuf_addf (&sb, "%s%s=%s", sb.len ? "," : "", fields[i], v);
    }
  return strbuf_detach (&sb, NULL);
}

/* Fields of the key by what they mean to a user. */
static const struct
{
  const char *field, *what;
} plain_fields[] = {
  { "platform", "platform" },
  { "epoch", "SOURCE_DATE_EPOCH" },
  { "workdir", "WORKDIR" },
  { "user", "USER" },
  { "chown", "--chown" },
  { "chmod", "--chmod" },
  { "checksum", "--checksum" },
  { "link", "--link" },
  { "parents", "--parents" },
  { "keep_git_dir", "--keep-git-dir" },
  { "unpack", "ADD --unpack" },
  { "exclude", "--exclude" },
  { "network", "RUN --network" },
  { "security", "RUN --security" },
  { "sandbox", "bale build --network/--add-host/--ulimit/--shm-size" },
  { "mounts", "RUN --mount options" },
};

char *
cache_inputs_explain (json_t *before, json_t *now, cache_made_fn made, void *made_ctx)
{
  struct strbuf out = STRBUF_INIT;
  size_t i;

  if (differs (before, now, "v"))
    {
      strbuf_addstr (&out, "the cache key format changed (another bale version)");
      return strbuf_detach (&out, NULL);
    }
  if (differs (before, now, "parent"))
    explain_parent (&out, before, now, made, made_ctx);
  if (differs (before, now, "instr") || differs (before, now, "step"))
    {
      cleanup_free char *was = show (json_object_get (before, "step"));
      sep (&out);
      strbuf_addf (&out, "instruction changed (was: %s)", was);
    }
  else if ((differs (before, now, "argv") || differs (before, now, "created_by"))
           && !differs (before, now, "env"))
    {
      /* The same text expanded otherwise: an ARG or ENV the step does not see as environment
         (a RUN sees them all; COPY only expands them). */
      cleanup_free char *was = show (json_object_get (before, "argv"));
      sep (&out);
      strbuf_addf (&out, "instruction changed after variable expansion (was: %s)", was);
    }
  for (i = 0; i < sizeof plain_fields / sizeof *plain_fields; i++)
    if (differs (before, now, plain_fields[i].field))
      say_change (&out, plain_fields[i].what, before, now, plain_fields[i].field);
  if (differs (before, now, "env"))
    explain_env (&out, before, now);
  if (differs (before, now, "context"))
    explain_files (&out, before, now, "context");
  if (differs (before, now, "mount_inputs"))
    {
      json_t *a = json_object_get (before, "mount_inputs"), *b = json_object_get (now, "mount_inputs");
      size_t k;
      for (k = 0; k < json_array_size (b); k++)
        if (!json_equal (json_array_get (a, k), json_array_get (b, k)))
          break;
      /* A bind mount of the context lists its files; a stage or image mount its layers. */
      if (json_is_string (json_array_get (b, k)) && json_is_string (json_array_get (a, k)))
        explain_files (&out, before, now, "a bind mount's context tree");
      else
        {
          cleanup_free char *m = mount_text (json_array_get (json_object_get (now, "mounts"), k));
          sep (&out);
          strbuf_addf (&out, "mount source changed (%s)", m);
        }
    }
  if (differs (before, now, "from"))
    {
      sep (&out);
      strbuf_addstr (&out, "the --from stage or image changed");
    }
  if (differs (before, now, "files"))
    {
      sep (&out);
      strbuf_addstr (&out, "a heredoc changed");
    }
  return strbuf_detach (&out, NULL);
}
