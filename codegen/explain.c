/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale explain`: Docker's run-time ENTRYPOINT/CMD merge, with origins and warnings. */
#include <config.h>

#include <stdarg.h>
#include <string.h>

#include "codegen/explain.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static json_t *
strv (char *const *v, size_t n)
{
  json_t *a = json_array ();
  size_t i;

  for (i = 0; i < n; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

/* Without provenance, shell form is recognised by its shape: the image's SHELL (default
   /bin/sh -c) followed by exactly one string, which is what dispatch produces. */
static bool
looks_shell_form (const json_t *value, const json_t *config)
{
  const json_t *shell = json_object_get (config, "Shell");
  size_t n = json_array_size (value), k, i;
  static const char *const dflt[] = { "/bin/sh", "-c" };

  k = json_array_size (shell) ? json_array_size (shell) : 2;
  if (n != k + 1)
    return false;
  for (i = 0; i < k; i++)
    {
      const char *want = json_array_size (shell) ? json_string_value (json_array_get (shell, i)) : dflt[i];
      const char *got = json_string_value (json_array_get (value, i));
      if (!want || !got || strcmp (want, got) != 0)
        return false;
    }
  return true;
}

static char *
origin_text (const json_t *origin)
{
  if (json_is_object (origin) && json_object_get (origin, "image"))
    return xasprintf ("inherited from base image %s",
                      json_string_value (json_object_get (origin, "image")));
  if (json_is_object (origin) && json_object_get (origin, "line"))
    {
      const char *file = json_string_value (json_object_get (origin, "dockerfile"));
      return xasprintf ("%s:%d: %s (stage %s%s)", file ? file : "Dockerfile",
                        (int) json_integer_value (json_object_get (origin, "line")),
                        json_string_value (json_object_get (origin, "text")),
                        json_string_value (json_object_get (origin, "stage")),
                        json_is_true (json_object_get (origin, "onbuild")) ? ", an ONBUILD trigger" : "");
    }
  return NULL;
}

static json_t *
part (const json_t *value, const json_t *origin, const json_t *config, const char *dockerfile,
      const char *override)
{
  json_t *o = json_object ();
  bool shell;
  char *text = NULL;

  json_object_set_new (o, "value", value ? json_deep_copy (value) : json_array ());
  if (override)
    json_object_set_new (o, "origin", json_string (override));
  else if (origin && !json_is_null (origin))
    {
      json_t *copy = json_deep_copy (origin);
      if (dockerfile)
        json_object_set_new (copy, "dockerfile", json_string (dockerfile));
      text = origin_text (copy);
      json_decref (copy);
      json_object_set_new (o, "origin", json_string (text ? text : "from the image config"));
    }
  else if (json_array_size (value))
    json_object_set_new (o, "origin", json_string ("from the image config (no bale build record)"));
  else
    json_object_set_new (o, "origin", json_string ("not set"));
  free (text);
  if (origin && json_is_string (json_object_get (origin, "form")))
    shell = strcmp (json_string_value (json_object_get (origin, "form")), "shell") == 0;
  else
    shell = looks_shell_form (value, config);
  if (json_array_size (value) && !override)
    json_object_set_new (o, "form", json_string (shell ? "shell" : "exec"));
  return o;
}

static bool
is_shell (const json_t *part)
{
  const char *f = json_string_value (json_object_get (part, "form"));
  return f && strcmp (f, "shell") == 0;
}

/* The script of a shell-form value starts with exec: the shell replaces itself. */
static bool
execs (const json_t *value)
{
  const char *s = json_string_value (json_array_get (value, json_array_size (value) - 1));
  while (s && (*s == ' ' || *s == '\t'))
    s++;
  return s && strncmp (s, "exec ", 5) == 0;
}

static void
warn (json_t *w, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
warn (json_t *w, const char *fmt, ...)
{
  struct strbuf sb = STRBUF_INIT;
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  json_array_append_new (w, json_string (sb.buf));
  strbuf_release (&sb);
}

static char *
render (const json_t *v)
{
  return json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
}

json_t *
explain_image (const json_t *image_config, const json_t *prov, const struct explain_opts *o)
{
  const json_t *config = json_object_get (image_config, "config");
  const json_t *img_ep = json_object_get (config, "Entrypoint");
  const json_t *img_cmd = json_object_get (config, "Cmd");
  const char *dockerfile = json_string_value (json_object_get (prov, "dockerfile"));
  json_t *out = json_object (), *warnings = json_array (), *ep, *cmd, *argv;
  bool args_given = o->n_args > 0;
  size_t i;

  /* daemon/create.go: a user ENTRYPOINT replaces the image's and its CMD; `--entrypoint ""`
     clears the ENTRYPOINT but keeps the image CMD; run arguments replace the CMD. */
  if (o->entrypoint)
    {
      json_t *v = json_array ();
      if (*o->entrypoint)
        json_array_append_new (v, json_string (o->entrypoint));
      ep = part (v, NULL, config, NULL, "--entrypoint");
      json_decref (v);
    }
  else
    ep = part (img_ep, json_object_get (prov, "entrypoint"), config, dockerfile, NULL);
  if (args_given)
    {
      json_t *v = strv (o->args, o->n_args);
      cmd = part (v, NULL, config, NULL, "run arguments");
      json_decref (v);
    }
  else if (o->entrypoint && *o->entrypoint)
    cmd = part (NULL, NULL, config, NULL, "cleared by --entrypoint");
  else
    cmd = part (img_cmd, json_object_get (prov, "cmd"), config, dockerfile, NULL);

  argv = json_array ();
  json_array_extend (argv, json_object_get (ep, "value"));
  json_array_extend (argv, json_object_get (cmd, "value"));

  /* The traps. */
  if (!o->entrypoint && is_shell (ep))
    {
      if (args_given)
        warn (warnings, "ENTRYPOINT is in shell form: the run arguments are ignored (the shell "
                        "gets them as $0, $1, ... and the command never sees them); use the exec "
                        "form ENTRYPOINT [\"...\"]");
      else if (json_array_size (img_cmd))
        {
          char *c = render (img_cmd);
          warn (warnings, "ENTRYPOINT is in shell form: CMD %s is ignored (the shell gets it as "
                          "$0, $1, ...); use the exec form ENTRYPOINT [\"...\"]", c);
          free (c);
        }
      else
        warn (warnings, "ENTRYPOINT is in shell form: CMD and run arguments will be ignored; use "
                        "the exec form ENTRYPOINT [\"...\"]");
    }
  if (json_object_get (prov, "cmd_dropped") && !args_given && !o->entrypoint)
    {
      const json_t *d = json_object_get (prov, "cmd_dropped");
      const json_t *orig = json_object_get (d, "origin"), *by = json_object_get (d, "by");
      const char *file = dockerfile ? dockerfile : "Dockerfile";
      int by_line = (int) json_integer_value (json_object_get (by, "line"));

      if (json_object_get (orig, "image"))
        {
          char *val = render (json_object_get (orig, "value"));
          warn (warnings, "the CMD %s inherited from base image %s was dropped by the ENTRYPOINT "
                          "at %s:%d; add a CMD after it to give default arguments",
                val, json_string_value (json_object_get (orig, "image")), file, by_line);
          free (val);
        }
      else
        warn (warnings, "the CMD at %s:%d (stage %s) was dropped by the ENTRYPOINT at %s:%d "
                        "(stage %s): an ENTRYPOINT resets a CMD from an earlier stage; repeat the "
                        "CMD after the ENTRYPOINT",
              file, (int) json_integer_value (json_object_get (orig, "line")),
              json_string_value (json_object_get (orig, "stage")), file, by_line,
              json_string_value (json_object_get (by, "stage")));
    }
  for (i = 0; i < json_array_size (json_object_get (prov, "multiple")); i++)
    {
      const json_t *m = json_array_get (json_object_get (prov, "multiple"), i);
      const json_t *lines = json_object_get (m, "lines");
      struct strbuf sb = STRBUF_INIT;
      size_t k;
      for (k = 0; k < json_array_size (lines); k++)
        strbuf_addf (&sb, "%s%d", k ? ", " : "", (int) json_integer_value (json_array_get (lines, k)));
      warn (warnings, "stage %s has %zu %s instructions (lines %s): only the last one counts",
            json_string_value (json_object_get (m, "stage")), json_array_size (lines),
            json_string_value (json_object_get (m, "instruction")), sb.buf);
      strbuf_release (&sb);
    }
  /* PID 1 is a shell: it does not forward SIGTERM, so `docker stop` waits and kills. */
  if (json_array_size (json_object_get (ep, "value")) ? is_shell (ep) && !execs (json_object_get (ep, "value"))
                                                      : is_shell (cmd) && !execs (json_object_get (cmd, "value")))
    warn (warnings, "the %s is in shell form: /bin/sh runs as PID 1 and does not pass SIGTERM "
                    "on, so `docker stop` waits 10 s and kills it; use the exec form, or start "
                    "the command with exec",
          json_array_size (json_object_get (ep, "value")) ? "ENTRYPOINT" : "CMD");
  if (json_array_size (argv) == 0)
    warn (warnings, "no command: the image has neither ENTRYPOINT nor CMD, so `docker run` "
                    "fails with \"no command specified\" unless given one");

  json_object_set_new (out, "image", json_string (o->image ? o->image : ""));
  json_object_set_new (out, "entrypoint", ep);
  json_object_set_new (out, "cmd", cmd);
  json_object_set_new (out, "argv", argv);
  json_object_set_new (out, "warnings", warnings);
  return out;
}

static void
text_part (struct strbuf *sb, const char *name, const json_t *p)
{
  const json_t *v = json_object_get (p, "value");
  char *s = render (v);
  const char *form = json_string_value (json_object_get (p, "form"));

  if (json_array_size (v))
    strbuf_addf (sb, "%-11s %s%s%s\n", name, s, form ? "  " : "", form ? form : "");
  else
    strbuf_addf (sb, "%-11s (none)\n", name);
  strbuf_addf (sb, "%-11s %s\n", "", json_string_value (json_object_get (p, "origin")));
  free (s);
}

char *
explain_to_text (const json_t *e)
{
  struct strbuf sb = STRBUF_INIT;
  const json_t *w = json_object_get (e, "warnings");
  char *argv = render (json_object_get (e, "argv"));
  size_t i;

  if (*json_string_value (json_object_get (e, "image")))
    strbuf_addf (&sb, "%-11s %s\n", "image", json_string_value (json_object_get (e, "image")));
  text_part (&sb, "ENTRYPOINT", json_object_get (e, "entrypoint"));
  text_part (&sb, "CMD", json_object_get (e, "cmd"));
  strbuf_addf (&sb, "%-11s %s\n", "runs", argv);
  for (i = 0; i < json_array_size (w); i++)
    strbuf_addf (&sb, "warning: %s\n", json_string_value (json_array_get (w, i)));
  free (argv);
  return strbuf_detach (&sb, NULL);
}
