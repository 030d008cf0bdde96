/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale build -o`: parsing buildx's output specs and writing the filesystem outputs. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/build/buildoutput.h"
#include "common/oci/canonjson.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/dirwalk.h"
#include "runtime/build/buildevents.h"
#include "runtime/build/executor.h"
#include "runtime/build/progress.h"
#include "runtime/layer/layer.h"
#include "runtime/store/store.h"
#include "common/banned.h"

/* The fields of a CSV record (encoding/csv as buildx uses it: a field may be quoted, "" is
   a quote inside one). NULL with an error for an unterminated quote. */
static char **
csv_fields (const char *s, size_t *n, bale_error_t *err)
{
  char **v = NULL;
  size_t alloc = 0;
  struct strbuf f = STRBUF_INIT;
  const char *p = s;

  *n = 0;
  for (;;)
    {
      strbuf_reset (&f);
      if (*p == '"')
        {
          for (p++; *p && !(*p == '"' && p[1] != '"'); p++)
            {
              if (*p == '"')
                p++;
              strbuf_addch (&f, *p);
            }
          if (*p != '"')
            {
              strbuf_release (&f);
              for (size_t i = 0; i < *n; i++)
                free (v[i]);
              free (v);
              bale_make_error (err, 0, "invalid output '%s': unterminated quote", s);
              return NULL;
            }
          p++;
        }
      while (*p && *p != ',')
        strbuf_addch (&f, *p++);
      XGROW (v, alloc, *n + 2);
      v[(*n)++] = xstrdup (f.buf ? f.buf : "");
      v[*n] = NULL;
      if (*p != ',')
        break;
      p++;
    }
  strbuf_release (&f);
  return v;
}

static int
set_type (struct build_output *o, const char *type, int tar, const char *spec, bale_error_t *err)
{
  static const struct { const char *name; enum output_type t; } types[] = {
    { "local", OUT_LOCAL }, { "tar", OUT_TAR }, { "oci", OUT_OCI },
    { "oci-archive", OUT_OCI_ARCHIVE }, { "docker", OUT_DOCKER_ARCHIVE },
    { "docker-archive", OUT_DOCKER_ARCHIVE }, { "registry", OUT_REGISTRY }, { "image", OUT_STORE },
  };
  size_t i;

  for (i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp (type, types[i].name) == 0)
      break;
  if (i == sizeof types / sizeof types[0])
    return bale_make_error (err, 0, "-o '%s': unknown type '%s' (want local, tar, oci, docker, image or registry)", spec, type);
  o->type = types[i].t;
  /* type=oci is a directory here (bale's meaning before buildx's); tar=true makes it the
     archive buildx writes by default. type=docker without dest loads: the store has it. */
  if (o->type == OUT_OCI && tar == 1)
    o->type = OUT_OCI_ARCHIVE;
  if (o->type == OUT_OCI_ARCHIVE && tar == 0)
    o->type = OUT_OCI;
  if (o->type == OUT_DOCKER_ARCHIVE && !o->dest)
    o->type = OUT_STORE;
  return 0;
}

static int
parse_bool (const char *key, const char *v, int *out, const char *spec, bale_error_t *err)
{
  if (!*v || strcmp (v, "true") == 0 || strcmp (v, "1") == 0)
    *out = 1;
  else if (strcmp (v, "false") == 0 || strcmp (v, "0") == 0)
    *out = 0;
  else
    return bale_make_error (err, 0, "-o '%s': non-bool value specified for %s", spec, key);
  return 0;
}

static int
parse_fields (struct build_output *o, char **f, size_t n, const char *spec, bale_error_t *err)
{
  const char *type = NULL;
  int tar = -1, push = -1, privileged = -1;
  size_t i;

  for (i = 0; i < n; i++)
    {
      char *eq = strchr (f[i], '='), *k;
      if (!eq)
        return bale_make_error (err, 0, "-o '%s': invalid value %s", spec, f[i]);
      *eq = '\0';
      for (k = f[i]; *k; k++)
        if (*k >= 'A' && *k <= 'Z')
          *k = (char) (*k - 'A' + 'a');
      if (strcmp (f[i], "type") == 0)
        type = eq + 1;
      else if (strcmp (f[i], "dest") == 0 || strcmp (f[i], "name") == 0 || strcmp (f[i], "ref") == 0)
        {
          free (o->dest);
          o->dest = xstrdup (eq + 1);
        }
      else if (strcmp (f[i], "tar") == 0 || strcmp (f[i], "push") == 0)
        {
          if (parse_bool (f[i], eq + 1, f[i][0] == 't' ? &tar : &push, spec, err) < 0)
            return -1;
        }
      else if (strcmp (f[i], "privileged-files") == 0)
        {
          if (parse_bool (f[i], eq + 1, &privileged, spec, err) < 0)
            return -1;
        }
      else
        return bale_make_error (err, 0, "-o '%s': unknown field '%s'", spec, f[i]);
    }
  if (!type)
    return bale_make_error (err, 0, "-o '%s': type is required for output", spec);
  if (set_type (o, type, tar, spec, err) < 0)
    return -1;
  if (o->type == OUT_STORE && push == 1)
    o->type = OUT_REGISTRY;
  if (privileged >= 0 && o->type != OUT_LOCAL)
    return bale_make_error (err, 0, "-o '%s': privileged-files is a field of type=local only", spec);
  o->privileged_files = privileged == 1;
  if (o->type != OUT_STORE && (!o->dest || !*o->dest))
    return bale_make_error (err, 0, "-o '%s': dest is required for %s exporter", spec, type);
  return 0;
}

int
buildoutput_parse (struct build_outputs *o, const char *spec, bale_error_t *err)
{
  struct build_output out = { 0 };
  size_t n, i;
  char **f = csv_fields (spec, &n, err);
  int r = 0;

  if (!f)
    return -1;
  /* buildx's shorthands: one field that is not type=: "-" is a tar on stdout, anything else
     a local directory. */
  if (n == 1 && strncmp (f[0], "type=", 5) != 0)
    {
      out.type = strcmp (f[0], "-") == 0 ? OUT_TAR : OUT_LOCAL;
      out.dest = xstrdup (f[0]);
      if (!*out.dest)
        r = bale_make_error (err, 0, "-o: empty output");
    }
  else
    r = parse_fields (&out, f, n, spec, err);
  for (i = 0; i < n; i++)
    free (f[i]);
  free (f);
  if (r < 0)
    {
      free (out.dest);
      return -1;
    }
  XGROW (o->v, o->alloc, o->n + 1);
  o->v[o->n++] = out;
  return 0;
}

static bool
on_stdout (const struct build_output *o)
{
  return o->dest && strcmp (o->dest, "-") == 0
         && (o->type == OUT_TAR || o->type == OUT_OCI_ARCHIVE || o->type == OUT_DOCKER_ARCHIVE);
}

bool
buildoutput_stdout (const struct build_outputs *o)
{
  for (size_t i = 0; i < o->n; i++)
    if (on_stdout (&o->v[i]))
      return true;
  return false;
}

int
buildoutput_check (const struct build_outputs *o, bale_error_t *err)
{
  size_t i, n = 0;

  for (i = 0; i < o->n; i++)
    {
      const struct build_output *b = &o->v[i];
      struct stat st;
      if (on_stdout (b) && ++n > 1)
        return bale_make_error (err, 0, "multiple outputs configured to write to stdout");
      if (on_stdout (b) && isatty (STDOUT_FILENO))
        return bale_make_error (err, 0, "dest file is required for %s exporter. refusing to write to console",
                                b->type == OUT_TAR ? "tar" : "oci");
      if ((b->type == OUT_LOCAL || b->type == OUT_OCI) && stat (b->dest, &st) == 0 && !S_ISDIR (st.st_mode))
        return bale_make_error (err, 0, "destination directory %s is a file", b->dest);
      if ((b->type == OUT_TAR || b->type == OUT_OCI_ARCHIVE || b->type == OUT_DOCKER_ARCHIVE)
          && !on_stdout (b) && stat (b->dest, &st) == 0 && S_ISDIR (st.st_mode))
        return bale_make_error (err, 0, "destination file %s is a directory", b->dest);
    }
  return 0;
}

void
buildoutput_release (struct build_outputs *o)
{
  for (size_t i = 0; i < o->n; i++)
    free (o->v[i].dest);
  free (o->v);
  memset (o, 0, sizeof *o);
}

/* ---- local and tar ------------------------------------------------------------------------ */

/* What a tree for the host left out (layer_extract_opts.strip), as a warning. */
static void
say_stripped (void *ctx, const char *msg)
{
  bale_error_t e = NULL;

  bale_make_error (&e, 0, "-o type=local: %s (privileged-files=true keeps it)", msg);
  build_say_warnings (ctx, e);
  bale_error_release (&e);
}

/* The layers applied in order, their bytes counted as "copying files" (BuildKit's local
   exporter status) of v. caller_owns: every file is the caller's (layer.h). strip: the tree
   is for the host, what gives privileges there is left out and said there (NULL: kept). */
static int
apply_layers (const struct exec_image *img, int root_fd, bool caller_owns, struct progress_vertex *v,
              const struct build_say *strip, struct layer_export *export, bale_error_t *err)
{
  struct meter m = METER_INIT (progress_transfer, v, "copying files");
  int64_t total = 0;
  size_t i;

  for (i = 0; i < img->n_layers; i++)
    total += img->layers[i].size;
  meter_begin (&m, total);
  for (i = 0; i < img->n_layers; i++)
    {
      struct layer_extract_opts lo = { .mode = LAYER_EXTRACT_MERGED, .meter = &m,
                                       .strip = strip ? say_stripped : NULL,
                                       .strip_ctx = (void *) strip, .caller_owns = caller_owns,
                                       .export = export };
      cleanup_close int fd = open (img->layers[i].path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return bale_make_error (err, errno, "cannot open layer '%s'", img->layers[i].path);
      if (layer_extract (fd, root_fd, &lo, NULL, err) < 0)
        return bale_error_wrap (err, "layer %s", img->layers[i].digest);
    }
  meter_end (&m, total);
  return 0;
}

static int
mkdir_p (const char *path, bale_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  char *p;

  for (p = copy + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (copy, 0755) < 0 && errno != EEXIST)
          return bale_make_error (err, errno, "cannot create '%s'", copy);
        *p = '/';
      }
  if (mkdir (copy, 0755) < 0 && errno != EEXIST)
    return bale_make_error (err, errno, "cannot create '%s'", copy);
  return 0;
}

static int
write_local (const struct exec_image *img, const struct build_output *out, struct progress_vertex *v,
             const struct build_say *say, bale_error_t *err)
{
  const char *dest = out->dest;
  cleanup_close int fd = -1;

  if (mkdir_p (dest, err) < 0)
    return -1;
  fd = open (dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open '%s'", dest);
  /* BuildKit's client writes every file as its own user (syncTargetDiffCopy): the image's
     owners would leave a rootless user files of its subordinate ids it cannot remove.
     The destination may hold the user's files: the layers' whiteouts remove only what the
     export wrote (layer_extract_opts.export). */
  {
    struct layer_export *export = layer_export_new ();
    int r = apply_layers (img, fd, true, v, out->privileged_files ? NULL : say, export, err);
    layer_export_free (export);
    return r;
  }
}

/* The tree in a scratch directory of the store, then one uncompressed tar of it, its bytes
   counted as "sending tarball" (BuildKit's tar exporter status; the total is not known
   before the end). */
static int
write_tar (struct store *s, const struct exec_image *img, const char *dest, struct progress_vertex *v,
           bale_error_t *err)
{
  struct meter m = METER_INIT (progress_transfer, v, "sending tarball");
  cleanup_free char *tmp = store_area_path (s, STORE_AREA_TMP, NULL);
  cleanup_free char *dir = store_area_path (s, STORE_AREA_TMP, "fs-XXXXXX");
  cleanup_close int root = -1, out = -1, parent = -1;
  struct layer_write_opts wo = { .compression = LAYER_COMPRESSION_NONE, .meter = &m };
  struct layer_result res;
  int ret = -1;

  if (!mkdtemp (dir))
    return bale_make_error (err, errno, "cannot create %s", dir);
  root = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    bale_make_error (err, errno, "cannot open %s", dir);
  else if (apply_layers (img, root, false, v, NULL, NULL, err) == 0)
    {
      out = strcmp (dest, "-") == 0 ? dup (STDOUT_FILENO)
                                    : open (dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (out < 0)
        bale_make_error (err, errno, "cannot create '%s'", dest);
      else
        {
          meter_begin (&m, 0);
          if ((ret = layer_write_dir (root, &wo, out, &res, err)) == 0)
            meter_end (&m, res.size);
        }
    }
  parent = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent >= 0)
    {
      bale_error_t e = NULL;
      dirwalk_remove (parent, strrchr (dir, '/') + 1, dir, &e);
      bale_error_release (&e);
    }
  return ret;
}

int
buildoutput_write_fs (struct store *s, const struct exec_image *img, const struct build_output *out,
                      struct progress_vertex *v, const struct build_say *say, bale_error_t *err)
{
  int r = out->type == OUT_LOCAL ? write_local (img, out, v, say, err) : write_tar (s, img, out->dest, v, err);
  return r < 0 ? bale_error_wrap (err, "-o type=%s,dest=%s", out->type == OUT_LOCAL ? "local" : "tar", out->dest) : 0;
}

/* ---- --label and --annotation ------------------------------------------------------------- */

/* Split "K=V" (a bare K is K=""), as buildx's listToMap; an empty key is an error. */
static int
split_kv (const char *what, const char *kv, char **k, const char **v, bale_error_t *err)
{
  const char *eq = strchr (kv, '=');

  *k = eq ? xasprintf ("%.*s", (int) (eq - kv), kv) : xstrdup (kv);
  *v = eq ? eq + 1 : "";
  if (!**k)
    {
      free (*k);
      return bale_make_error (err, 0, "%s: invalid key-value pair \"%s\": empty key", what, kv);
    }
  return 0;
}

int
buildoutput_labels (struct exec_image *img, const char *const *labels, size_t n, bale_error_t *err)
{
  json_t *cfg, *c, *l;
  char *text;
  size_t len, i;

  if (n == 0)
    return 0;
  cfg = json_loadb (img->config, img->config_len, 0, NULL);
  if (!cfg)
    return bale_make_error (err, 0, "--label: the image config does not parse");
  if (!json_is_object (c = json_object_get (cfg, "config")))
    json_object_set_new (cfg, "config", c = json_object ());
  if (!json_is_object (l = json_object_get (c, "Labels")))
    json_object_set_new (c, "Labels", l = json_object ());
  for (i = 0; i < n; i++)
    {
      char *k;
      const char *v;
      if (split_kv ("--label", labels[i], &k, &v, err) < 0)
        {
          json_decref (cfg);
          return -1;
        }
      json_object_set_new (l, k, json_string (v));
      free (k);
    }
  text = canonjson_dumps (cfg, &len, err);
  json_decref (cfg);
  if (!text)
    return -1;
  free (img->config);
  img->config = text;
  img->config_len = len;
  if (digest_buffer (img->config, img->config_len, img->config_digest, err) < 0)
    return -1;
  return exec_image_set_manifest (img, err);
}

/* An --annotation as buildx spells it, [TYPE[,TYPE...]:]KEY=VALUE: whether it goes to the
   manifests (the default) and to the index, and where KEY=VALUE starts. */
static int
annotation_types (const char *a, bool *manifest, bool *index, const char **kv, bale_error_t *err)
{
  const char *colon = strchr (a, ':'), *eq = strchr (a, '='), *t;

  *manifest = *index = false;
  *kv = a;
  if (!eq)
    return bale_make_error (err, 0, "invalid annotation \"%s\", expected key=value", a);
  if (!colon || colon > eq)
    {
      *manifest = true;
      return 0;
    }
  for (t = a; t < colon; t += strcspn (t, ",:") + 1)
    {
      size_t len = strcspn (t, ",:");
      if (len == 8 && strncmp (t, "manifest", 8) == 0)
        *manifest = true;
      else if (len == 5 && strncmp (t, "index", 5) == 0)
        *index = true;
      else
        /* manifest-descriptor, index-descriptor and per-platform [os/arch] selectors are
           not written by bale. */
        return bale_make_error (err, 0, "--annotation \"%s\": unsupported type '%.*s' (want manifest "
                                "or index)", a, (int) len, t);
    }
  *kv = colon + 1;
  return 0;
}

int
buildoutput_annotations (struct exec_image *img, const char *const *annotations, size_t n,
                         bool multi, bale_error_t *err)
{
  size_t i;
  bool set = false;

  for (i = 0; i < n; i++)
    {
      const char *kv, *v;
      bool manifest, index;
      char *k;
      if (annotation_types (annotations[i], &manifest, &index, &kv, err) < 0)
        return -1;
      /* BuildKit refuses index annotations for an image that has no index. */
      if (index && !multi)
        return bale_make_error (err, 0, "--annotation \"%s\": index annotations need a "
                                "multi-platform image (--platform P1,P2)", annotations[i]);
      if (!manifest)
        continue;
      if (split_kv ("--annotation", kv, &k, &v, err) < 0)
        return -1;
      if (!img->annotations)
        img->annotations = json_object ();
      json_object_set_new (img->annotations, k, json_string (v));
      free (k);
      set = true;
    }
  return set ? exec_image_set_manifest (img, err) : 0;
}

int
buildoutput_index_annotations (const char *const *annotations, size_t n, json_t **out,
                               bale_error_t *err)
{
  size_t i;

  *out = NULL;
  for (i = 0; i < n; i++)
    {
      const char *kv, *v;
      bool manifest, index;
      char *k;
      if (annotation_types (annotations[i], &manifest, &index, &kv, err) < 0)
        goto fail;
      if (!index)
        continue;
      if (split_kv ("--annotation", kv, &k, &v, err) < 0)
        goto fail;
      if (!*out)
        *out = json_object ();
      json_object_set_new (*out, k, json_string (v));
      free (k);
    }
  return 0;
fail:
  json_decref (*out);
  *out = NULL;
  return -1;
}
