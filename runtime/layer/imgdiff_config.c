/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differences between two image configs: every field, maps by key, history per entry. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime/layer/imgdiff.h"
#include "common/banned.h"

/* Where the differences of one object go, and how its fields are named. */
struct scope
{
  struct imgdiff *d;
  enum imgdiff_kind kind;
  long index;
};

/* The order fields are reported in: the ones people look at first. Fields not listed come
   after these, sorted, so that nothing a config holds goes unchecked. */
static const char *const top_order[] = { "architecture", "os", "os.version", "os.features",
                                         "variant", "created", "author", NULL };
static const char *const config_order[] = { "User", "ExposedPorts", "Env", "Entrypoint",
                                            "Cmd", "Volumes", "WorkingDir", "Labels",
                                            "StopSignal", "ArgsEscaped", "Healthcheck",
                                            "OnBuild", "Shell", NULL };
static const char *const history_order[] = { "created", "created_by", "author", "comment",
                                             "empty_layer", NULL };
/* Handled apart from the top-level fields. */
static const char *const top_skip[] = { "config", "rootfs", "history", NULL };

static bool
listed (const char *const *list, const char *key)
{
  for (; *list; list++)
    if (strcmp (*list, key) == 0)
      return true;
  return false;
}

/* JSON null and a missing field mean the same to every runtime: Docker writes "Cmd": null
   where other builders leave Cmd out. */
static json_t *
get (const json_t *o, const char *key)
{
  json_t *v = json_object_get (o, key);

  return json_is_null (v) ? NULL : v;
}

static json_t *
ref (json_t *v)
{
  return v ? json_incref (v) : NULL;
}

static void
compare_value (const struct scope *s, const char *field, json_t *a, json_t *b)
{
  if ((a || b) && !(a && b && json_equal (a, b)))
    imgdiff_add_take (s->d, s->kind, field, NULL, s->index, ref (a), ref (b));
}

static int
by_string (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The keys of a and b not in skip, sorted, each once; the array (NULL-terminated) is the
   caller's, the strings are the objects'. */
static const char **
other_keys (const json_t *a, const json_t *b, const char *const *skip)
{
  const char **keys = xcalloc (json_object_size (a) + json_object_size (b) + 1, sizeof *keys);
  const json_t *objs[2] = { a, b };
  size_t n = 0, k = 0, i;
  const char *key;
  json_t *v;

  for (i = 0; i < 2; i++)
    json_object_foreach ((json_t *) objs[i], key, v)
      if (!skip || !listed (skip, key))
        keys[n++] = key;
  qsort (keys, n, sizeof *keys, by_string);
  for (i = 0; i < n; i++)
    if (k == 0 || strcmp (keys[k - 1], keys[i]) != 0)
      keys[k++] = keys[i];
  keys[k] = NULL;
  return keys;
}

/* A map compared key by key ("Labels a.b: x -> y"); a and b may be NULL. */
static void
compare_map (const struct scope *s, const char *name, const json_t *a, const json_t *b)
{
  cleanup_free const char **keys = other_keys (a, b, NULL);
  size_t i;

  for (i = 0; keys[i]; i++)
    {
      cleanup_free char *field = xasprintf ("%s %s", name, keys[i]);
      compare_value (s, field, json_object_get (a, keys[i]), json_object_get (b, keys[i]));
    }
}

/* ["K=V", …] as {"K": "V"}: the last of a repeated key wins, as in a running container. */
static json_t *
env_map (const json_t *env)
{
  json_t *m = json_object ();
  size_t i;

  for (i = 0; i < json_array_size (env); i++)
    {
      const char *kv = json_string_value (json_array_get (env, i));
      const char *eq = kv ? strchr (kv, '=') : NULL;
      cleanup_free char *k = NULL;

      if (!kv)
        continue;
      k = eq ? xstrndup (kv, (size_t) (eq - kv)) : xstrdup (kv);
      json_object_set_new (m, k, eq ? json_string (eq + 1) : json_null ());
    }
  return m;
}

static void
compare_config_field (const struct scope *s, const char *key, json_t *a, json_t *b)
{
  if (strcmp (key, "Env") == 0)
    {
      json_t *ma = env_map (a), *mb = env_map (b);
      compare_map (s, key, ma, mb);
      json_decref (ma);
      json_decref (mb);
    }
  else if (strcmp (key, "Labels") == 0 || strcmp (key, "ExposedPorts") == 0
           || strcmp (key, "Volumes") == 0)
    compare_map (s, key, a, b);
  else
    compare_value (s, key, a, b);
}

typedef void (*field_fn) (const struct scope *s, const char *key, json_t *a, json_t *b);

/* Every field of a and b: the ones in order first, then the rest sorted; keys in skip are
   left to the caller. */
static void
compare_fields (const struct scope *s, const json_t *a, const json_t *b, const char *const *order,
                const char *const *skip, field_fn fn)
{
  cleanup_free const char **rest = NULL;
  size_t i;

  for (i = 0; order[i]; i++)
    fn (s, order[i], get (a, order[i]), get (b, order[i]));
  rest = other_keys (a, b, NULL);
  for (i = 0; rest[i]; i++)
    if (!listed (order, rest[i]) && !(skip && listed (skip, rest[i])))
      fn (s, rest[i], get (a, rest[i]), get (b, rest[i]));
}

static void
compare_plain (const struct scope *s, const char *key, json_t *a, json_t *b)
{
  if (strcmp (key, "created") == 0 && (s->d->flags & IMGDIFF_IGNORE_TIMESTAMPS))
    return;
  compare_value (s, key, a, b);
}

static void
compare_history (struct imgdiff *d, const json_t *a, const json_t *b)
{
  size_t na = json_array_size (a), nb = json_array_size (b), i;

  /* An entry only one side has is compared with an empty one: each of its fields shows. */
  for (i = 0; i < na || i < nb; i++)
    {
      json_auto_t *empty = json_object ();
      json_t *ea = i < na ? json_array_get (a, i) : empty;
      json_t *eb = i < nb ? json_array_get (b, i) : empty;
      struct scope s = { d, IMGDIFF_HISTORY, (long) i };

      compare_fields (&s, ea, eb, history_order, NULL, compare_plain);
    }
}

void
imgdiff_configs (struct imgdiff *d, const json_t *a, const json_t *b)
{
  struct scope top = { d, IMGDIFF_CONFIG, -1 };
  struct scope rootfs = { d, IMGDIFF_ROOTFS, -1 };
  static const char *const rootfs_skip[] = { "diff_ids", NULL };
  static const char *const none[] = { NULL };
  const json_t *ra = json_object_get (a, "rootfs"), *rb = json_object_get (b, "rootfs");
  size_t la = json_array_size (json_object_get (ra, "diff_ids"));
  size_t lb = json_array_size (json_object_get (rb, "diff_ids"));

  compare_fields (&top, a, b, top_order, top_skip, compare_plain);
  compare_fields (&top, get (a, "config"), get (b, "config"), config_order, NULL,
                  compare_config_field);
  if (la != lb)
    imgdiff_add_take (d, IMGDIFF_ROOTFS, "diff_ids", NULL, -1, json_integer ((json_int_t) la),
                      json_integer ((json_int_t) lb));
  compare_fields (&rootfs, ra, rb, none, rootfs_skip, compare_plain);
  compare_history (d, json_object_get (a, "history"), json_object_get (b, "history"));
}
