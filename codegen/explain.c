/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale explain`: Docker's run-time ENTRYPOINT/CMD merge, with origins and warnings. */
#include <config.h>

#include <stdarg.h>
#include <string.h>

#include "codegen/explain.h"
#include "common/kv.h"
#include "common/oci/oci.h"
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

static const char *
str (const json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  return s ? s : "";
}

static char *
render (const json_t *v)
{
  return json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* The user, working directory and PATH the command runs with: --user, --workdir and --env
   over the image's User, WorkingDir and Env; docker's default PATH when none is set. */
static void
set_runtime (json_t *out, const json_t *config, const struct explain_opts *o)
{
  const json_t *env = json_object_get (config, "Env");
  const char *user = o->user ? o->user : json_string_value (json_object_get (config, "User"));
  const char *wd = o->workdir ? o->workdir : json_string_value (json_object_get (config, "WorkingDir"));
  struct kvlist l = KVLIST_INIT;
  size_t i;

  for (i = 0; i < json_array_size (env); i++)
    if (json_is_string (json_array_get (env, i)))
      kv_set_entry (&l, json_string_value (json_array_get (env, i)));
  for (i = 0; i < o->n_env; i++)
    kv_set_entry (&l, o->env[i]);
  json_object_set_new (out, "user", json_string (user ? user : ""));
  json_object_set_new (out, "workdir", json_string (wd && *wd ? wd : "/"));
  json_object_set_new (out, "path", json_string (kv_get (&l, "PATH") ? kv_get (&l, "PATH") : &OCI_DEFAULT_PATH_ENV[5]));
  kv_release (&l);
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

  /* The daemon's merge (daemon/create.go): any --entrypoint, even "", replaces the image's
     ENTRYPOINT and drops its CMD (`docker run --entrypoint '' IMAGE` has no command: "No
     command specified"); run arguments replace the CMD. */
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
  else if (o->entrypoint)
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
  set_runtime (out, config, o);
  json_object_set_new (out, "warnings", warnings);
  json_object_set_new (out, "advice", json_array ());
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

/* user, workdir, each check, and what docker run will do. */
static void
text_checks (struct strbuf *sb, const json_t *e)
{
  const json_t *checks = json_object_get (e, "checks");
  const char *outcome = json_string_value (json_object_get (e, "outcome"));
  size_t i;

  strbuf_addf (sb, "%-11s %s\n", "user", *str (e, "user") ? str (e, "user") : "root (default)");
  strbuf_addf (sb, "%-11s %s\n", "workdir", str (e, "workdir"));
  for (i = 0; i < json_array_size (checks); i++)
    {
      const json_t *c = json_array_get (checks, i);
      strbuf_addf (sb, "%-11s %-4s %s: %s\n", i ? "" : "checks", json_is_true (json_object_get (c, "ok")) ? "ok" : "FAIL",
                   str (c, "check"), str (c, "detail"));
    }
  if (!outcome)
    return;
  if (strcmp (outcome, "unknown") == 0)
    strbuf_addf (sb, "%-11s unknown: the image's filesystem could not be checked (%s)\n", "outcome", str (e, "checks_error"));
  else if (strcmp (outcome, "starts") == 0)
    strbuf_addf (sb, "%-11s the command starts; docker run exits with its status\n", "outcome");
  else
    {
      strbuf_addf (sb, "%-11s docker run fails %s: %s\n", "outcome",
                   strcmp (str (e, "stage"), "exec") == 0 ? "when the process executes it" : "before the command starts",
                   str (e, "error"));
      strbuf_addf (sb, "%-11s %d\n", "exit status", (int) json_integer_value (json_object_get (e, "exit_status")));
    }
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
  text_checks (&sb, e);
  for (i = 0; i < json_array_size (json_object_get (e, "advice")); i++)
    strbuf_addf (&sb, "advice: %s\n", json_string_value (json_array_get (json_object_get (e, "advice"), i)));
  for (i = 0; i < json_array_size (w); i++)
    strbuf_addf (&sb, "warning: %s\n", json_string_value (json_array_get (w, i)));
  free (argv);
  return strbuf_detach (&sb, NULL);
}

/* ---- what the start checks found, and the advice ---------------------------------------- */

static void advise (json_t *e, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
advise (json_t *e, const char *fmt, ...)
{
  struct strbuf sb = STRBUF_INIT;
  va_list ap;

  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  json_array_append_new (json_object_get (e, "advice"), json_string (sb.buf));
  strbuf_release (&sb);
}

static bool
is_from_args (const json_t *part)
{
  return strcmp (str (part, "origin"), "run arguments") == 0;
}

/* The failed check of a start that failed, or NULL. */
static const json_t *
failed_check (const json_t *check)
{
  const json_t *checks = json_object_get (check, "checks");

  for (size_t i = 0; i < json_array_size (checks); i++)
    if (json_is_false (json_object_get (json_array_get (checks, i), "ok")))
      return json_array_get (checks, i);
  return NULL;
}

/* The seed's confusion: arguments meant for a CMD program replaced it instead. */
static void
advise_cmd_replaced (json_t *e, const json_t *check, const json_t *cmd_check, const json_t *config)
{
  const json_t *img_cmd = json_object_get (config, "Cmd");
  const json_t *f = failed_check (check);
  json_t *appended;
  char *c, *a;

  if (!cmd_check || strcmp (str (cmd_check, "outcome"), "starts") != 0 || !f
      || strcmp (str (f, "check"), "command") != 0 || !is_from_args (json_object_get (e, "cmd"))
      || strcmp (str (json_object_get (e, "cmd"), "form"), "shell") == 0 || json_array_size (json_object_get (config, "Entrypoint"))
      || looks_shell_form (img_cmd, config))
    return;
  appended = json_deep_copy (img_cmd);
  json_array_extend (appended, json_object_get (e, "argv"));
  c = render (img_cmd);
  a = render (appended);
  advise (e, "the run arguments replace the image's CMD %s, and \"%s\" is not a program in the image: "
             "did you mean ENTRYPOINT %s so that the arguments are appended? `docker run` would then run %s",
          c, json_string_value (json_array_get (json_object_get (e, "argv"), 0)), c, a);
  free (c);
  free (a);
  json_decref (appended);
}

/* --entrypoint drops the image's CMD too. */
static void
advise_entrypoint_flag (json_t *e, const json_t *config)
{
  const json_t *img_cmd = json_object_get (config, "Cmd");
  const json_t *ep = json_object_get (json_object_get (e, "entrypoint"), "value");
  char *c;

  if (strcmp (str (json_object_get (e, "cmd"), "origin"), "cleared by --entrypoint") != 0 || !json_array_size (img_cmd))
    return;
  c = render (img_cmd);
  if (json_array_size (ep) == 0)
    advise (e, "--entrypoint '' clears the image's CMD %s too, so there is no command left; give the "
               "command after the image name (docker run --entrypoint '' IMAGE COMMAND...)", c);
  else
    advise (e, "--entrypoint drops the image's CMD %s too: give the arguments after the image name", c);
  free (c);
}

/* An ENTRYPOINT from the base image makes the Dockerfile's CMD its arguments. */
static void
advise_inherited_entrypoint (json_t *e, const json_t *prov)
{
  const json_t *ep_origin = json_object_get (prov, "entrypoint");
  const json_t *cmd_origin = json_object_get (prov, "cmd");
  const json_t *ep = json_object_get (e, "entrypoint"), *cmd = json_object_get (e, "cmd");
  char *ev, *cv;

  if (!json_object_get (ep_origin, "image") || !json_object_get (cmd_origin, "line")
      || strcmp (str (ep, "origin"), "--entrypoint") == 0 || is_from_args (cmd)
      || !json_array_size (json_object_get (ep, "value")))
    return;
  ev = render (json_object_get (ep, "value"));
  cv = render (json_object_get (cmd, "value"));
  advise (e, "the ENTRYPOINT %s is inherited from base image %s: the CMD %s (Dockerfile:%d) is passed to it "
             "as arguments, not run on its own; set ENTRYPOINT [] to run the CMD alone",
          ev, str (ep_origin, "image"), cv, (int) json_integer_value (json_object_get (cmd_origin, "line")));
  free (ev);
  free (cv);
}

/* What an ENTRYPOINT script does with the CMD or run arguments it is given. */
static void
advise_entrypoint_script (json_t *e, const json_t *check)
{
  const json_t *script = json_object_get (check, "script");
  const json_t *ep = json_object_get (json_object_get (e, "entrypoint"), "value");
  const json_t *cmd = json_object_get (json_object_get (e, "cmd"), "value");
  char *cv;

  if (!script || !json_array_size (ep) || !json_array_size (cmd)
      || strcmp (str (json_object_get (e, "entrypoint"), "form"), "shell") == 0)
    return;
  cv = render (cmd);
  if (json_is_true (json_object_get (script, "execs_args")))
    advise (e, "the ENTRYPOINT script %s ends with exec \"$@\": after its own setup it runs its "
               "arguments %s as the command", str (script, "path"), cv);
  else if (!json_is_true (json_object_get (script, "uses_args")))
    advise (e, "the ENTRYPOINT script %s never reads its arguments ($@, $*, $1): %s %s ignored",
            str (script, "path"), cv, is_from_args (json_object_get (e, "cmd")) ? "are" : "is");
  free (cv);
}

/* How to mend the failure the checks predict. */
static void
advise_failure (json_t *e, const json_t *check)
{
  const json_t *f = failed_check (check), *script = json_object_get (check, "script");
  const char *what = str (f, "check"), *argv0 = json_string_value (json_array_get (json_object_get (e, "argv"), 0));
  const char *resolved = str (check, "resolved");

  if (!f)
    return;
  if (strstr (str (check, "error"), "too many levels"))
    advise (e, "%s starts a chain of more #! scripts than the kernel follows (%d): let one of them name a binary", resolved, 5);
  else if (json_is_true (json_object_get (script, "crlf")))
    advise (e, "the #! line of %s ends in a carriage return: the script has Windows (CRLF) line endings; "
               "convert it (dos2unix, or RUN sed -i 's/\\r$//' %s)", str (script, "path"), str (script, "path"));
  else if (strcmp (what, "permission") == 0 || (strcmp (what, "command") == 0 && strstr (str (check, "error"), "permission denied")))
    advise (e, "make %s executable for the user it runs as: COPY --chmod=755, or RUN chmod +x %s", argv0 ? argv0 : "it", argv0 ? argv0 : "it");
  else if (strcmp (what, "loader") == 0)
    advise (e, "%s is dynamically linked and its loader is not in the image: use a base image with its "
               "C library, copy the loader and libraries in, or link the program statically", resolved);
  else if (strcmp (what, "interpreter") == 0)
    advise (e, "the interpreter named on the #! line of %s must be in the image: install it, or change the #! line", resolved);
  else if (strcmp (what, "user") == 0)
    advise (e, "the user must exist in the image's /etc/passwd (and a group in /etc/group): add it "
               "(RUN adduser ...), or give numeric ids (USER 1000:1000)");
  else if (strcmp (what, "command") == 0 && argv0 && argv0[0] != '/' && strchr (argv0, '/'))
    advise (e, "%s is relative to the working directory %s: set WORKDIR, or give an absolute path", argv0, str (e, "workdir"));
}

void
explain_add_checks (json_t *e, const json_t *check, const json_t *cmd_check, const json_t *config,
                    const json_t *prov)
{
  static const char *const keys[] = { "checks", "outcome", "stage", "error", "exit_status", "resolved", "script" };
  const json_t *cfg = json_object_get (config, "config");

  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (json_object_get (check, keys[i]))
      json_object_set (e, keys[i], json_object_get (check, keys[i]));
  advise_cmd_replaced (e, check, cmd_check, cfg);
  advise_entrypoint_flag (e, cfg);
  advise_inherited_entrypoint (e, prov);
  advise_entrypoint_script (e, check);
  advise_failure (e, check);
}

void
explain_checks_unavailable (json_t *e, const char *why)
{
  json_object_set_new (e, "checks", json_array ());
  json_object_set_new (e, "outcome", json_string ("unknown"));
  json_object_set_new (e, "stage", json_null ());
  json_object_set_new (e, "error", json_null ());
  json_object_set_new (e, "exit_status", json_null ());
  json_object_set_new (e, "checks_error", json_string (why));
}
