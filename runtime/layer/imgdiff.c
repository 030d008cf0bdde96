/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The list of differences between two images, and its text and JSON forms. */
#include <config.h>

#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/layer/imgdiff.h"
#include "common/banned.h"

static const char *const kind_names[] = {
  [IMGDIFF_CONFIG] = "config",
  [IMGDIFF_ROOTFS] = "rootfs",
  [IMGDIFF_HISTORY] = "history",
  [IMGDIFF_FILE] = "file",
};

void
imgdiff_add_take (struct imgdiff *d, enum imgdiff_kind kind, const char *field, const char *path,
                  long index, json_t *a, json_t *b)
{
  struct imgdiff_item *it;

  xgrow ((void **) &d->items, &d->alloc, d->n + 1, sizeof *d->items);
  it = &d->items[d->n++];
  it->kind = kind;
  it->field = xstrdup (field);
  it->path = path ? xstrdup (path) : NULL;
  it->index = index;
  it->a = a;
  it->b = b;
}

void
imgdiff_release (struct imgdiff *d)
{
  size_t i;

  for (i = 0; i < d->n; i++)
    {
      free (d->items[i].field);
      free (d->items[i].path);
      json_decref (d->items[i].a);
      json_decref (d->items[i].b);
    }
  free (d->items);
  d->items = NULL;
  d->n = d->alloc = 0;
}

/* A string that cannot be mistaken for anything else on the line is printed as it is:
   `PATH: /a -> /b` reads better than `PATH: "/a" -> "/b"`. */
static bool
bare (const char *s)
{
  if (*s == '\0' || strcmp (s, "(none)") == 0 || strcmp (s, "->") == 0)
    return false;
  for (; *s; s++)
    if ((unsigned char) *s <= ' ' || *s == '"' || *s == '\\' || (unsigned char) *s >= 0x7f)
      return false;
  return true;
}

static void
add_value (struct strbuf *sb, const json_t *v)
{
  char *s;

  if (!v)
    {
      strbuf_addstr (sb, "(none)");
      return;
    }
  if (json_is_string (v) && bare (json_string_value (v)))
    {
      strbuf_addstr (sb, json_string_value (v));
      return;
    }
  s = json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  strbuf_addstr (sb, s);
  free (s);
}

/* Paths are printed as they are, except bytes that would break the one-line-per-difference
   form (control characters) and the backslash that escapes them: those become \xHH, as in
   layer_list. */
static void
add_path (struct strbuf *sb, const char *path)
{
  for (; *path; path++)
    {
      unsigned char c = (unsigned char) *path;

      if (c < 0x20 || c == 0x7f || c == '\\')
        strbuf_addf (sb, "\\x%02x", c);
      else
        strbuf_addch (sb, (char) c);
    }
}

static void
add_line (struct strbuf *sb, const struct imgdiff_item *it)
{
  switch (it->kind)
    {
    case IMGDIFF_HISTORY:
      strbuf_addf (sb, "history[%ld] %s: ", it->index, it->field);
      break;
    case IMGDIFF_FILE:
      strbuf_addstr (sb, "file ");
      add_path (sb, it->path);
      strbuf_addf (sb, ": %s", it->field);
      /* added/removed say it all; the type that appeared or vanished follows in brackets. */
      if (strcmp (it->field, "added") == 0 || strcmp (it->field, "removed") == 0)
        {
          strbuf_addstr (sb, " (");
          add_value (sb, it->a ? it->a : it->b);
          strbuf_addstr (sb, ")\n");
          return;
        }
      strbuf_addch (sb, ' ');
      break;
    default:
      strbuf_addf (sb, "%s %s: ", kind_names[it->kind], it->field);
    }
  add_value (sb, it->a);
  strbuf_addstr (sb, " -> ");
  add_value (sb, it->b);
  strbuf_addch (sb, '\n');
}

char *
imgdiff_to_text (const struct imgdiff *d)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  for (i = 0; i < d->n; i++)
    add_line (&sb, &d->items[i]);
  return strbuf_detach (&sb, NULL);
}

json_t *
imgdiff_to_json (const struct imgdiff *d)
{
  json_t *arr = json_array ();
  size_t i;

  for (i = 0; i < d->n; i++)
    {
      const struct imgdiff_item *it = &d->items[i];
      json_t *o = json_object ();

      json_object_set_new (o, "kind", json_string (kind_names[it->kind]));
      if (it->path)
        json_object_set_new (o, "path", json_string (it->path));
      if (it->kind == IMGDIFF_HISTORY)
        json_object_set_new (o, "index", json_integer (it->index));
      json_object_set_new (o, "field", json_string (it->field));
      json_object_set (o, "a", it->a ? it->a : json_null ());
      json_object_set (o, "b", it->b ? it->b : json_null ());
      json_array_append_new (arr, o);
    }
  return arr;
}
