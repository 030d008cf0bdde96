/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registry credentials in docker's config.json and through docker-credential-* helpers. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "runtime/registry/registry.h"
#include "common/banned.h"

extern char **environ;

/* Docker Hub's credentials live under the v1 index URL, a name from before registry v2. */
#define DOCKER_HUB_KEY "https://index.docker.io/v1/"
/* A helper's answer is a small JSON object; anything bigger is not one. */
#define MAX_HELPER_OUTPUT (64 * 1024)

void
registry_creds_release (struct registry_creds *c)
{
  free (c->username);
  if (c->secret)
    OPENSSL_cleanse (c->secret, strlen (c->secret));
  free (c->secret);
  c->username = c->secret = NULL;
}

char *
registry_docker_config_path (void)
{
  const char *dir = getenv ("DOCKER_CONFIG");
  const char *home = getenv ("HOME");

  if (dir && *dir)
    return xasprintf ("%s/config.json", dir);
  return xasprintf ("%s/.docker/config.json", home && *home ? home : "/");
}

char *
registry_base64 (const void *data, size_t len)
{
  char *out = xmalloc (4 * ((len + 2) / 3) + 1);

  EVP_EncodeBlock ((unsigned char *) out, data, (int) len);
  return out;
}

static int
b64_value (int c)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const char *p = c ? strchr (alphabet, c) : NULL;

  return p ? (int) (p - alphabet) : -1;
}

/* Decode standard base64 (padding optional); NULL when s is not base64. */
static char *
base64_decode (const char *s)
{
  size_t n = strlen (s), o = 0, i;
  char *out = xmalloc (n / 4 * 3 + 4);
  unsigned acc = 0;
  int bits = 0;

  for (i = 0; i < n && s[i] != '='; i++)
    {
      int v = b64_value ((unsigned char) s[i]);

      if (v < 0)
        {
          free (out);
          return NULL;
        }
      acc = (acc << 6) | (unsigned) v;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[o++] = (char) ((acc >> bits) & 0xff);
        }
    }
  out[o] = '\0';
  return out;
}

/* "https://host/v1/" → "host"; the forms docker and other tools have written as keys. */
static char *
key_host (const char *key)
{
  const char *p = strstr (key, "://");

  p = p ? p + 3 : key;
  return xstrndup (p, strcspn (p, "/"));
}

static bool
key_matches (const char *key, const char *domain)
{
  cleanup_free char *host = key_host (key);

  if (strcmp (domain, "docker.io") == 0)
    return strcmp (host, "index.docker.io") == 0 || strcmp (host, "docker.io") == 0
           || strcmp (host, "registry-1.docker.io") == 0;
  return strcmp (host, domain) == 0;
}

static int
creds_from_auth_entry (json_t *entry, const char *domain, struct registry_creds *out,
                       bale_error_t *err)
{
  const char *auth = json_string_value (json_object_get (entry, "auth"));
  const char *idt = json_string_value (json_object_get (entry, "identitytoken"));
  cleanup_free char *plain = auth && *auth ? base64_decode (auth) : NULL;
  char *colon = plain ? strchr (plain, ':') : NULL;

  if (idt && *idt)
    {
      out->username = xstrdup ("<token>");
      out->secret = xstrdup (idt);
      return 1;
    }
  if (auth == NULL || *auth == '\0')
    return 0;
  if (colon == NULL)
    return bale_make_error (err, 0, "invalid 'auth' for '%s' in docker config: not base64 of "
                            "user:password", domain);
  out->username = xstrndup (plain, (size_t) (colon - plain));
  out->secret = xstrdup (colon + 1);
  OPENSSL_cleanse (plain, strlen (plain));
  return 1;
}

/* ---- credential helpers ------------------------------------------------------------------- */

static int
spawn_helper (const char *prog, const char *verb, int *in, int *out, pid_t *pid, bale_error_t *err)
{
  char *argv[] = { (char *) prog, (char *) verb, NULL };
  int pin[2], pout[2], ret;
  posix_spawn_file_actions_t fa;

  if (pipe2 (pin, O_CLOEXEC) < 0)
    return bale_make_error (err, errno, "cannot run '%s'", prog);
  if (pipe2 (pout, O_CLOEXEC) < 0)
    {
      close (pin[0]);
      close (pin[1]);
      return bale_make_error (err, errno, "cannot run '%s'", prog);
    }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, pin[0], 0);
  posix_spawn_file_actions_adddup2 (&fa, pout[1], 1);
  ret = posix_spawnp (pid, prog, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (pin[0]);
  close (pout[1]);
  if (ret != 0)
    {
      close (pin[1]);
      close (pout[0]);
      return bale_make_error (err, ret, "cannot run credential helper '%s'", prog);
    }
  *in = pin[1];
  *out = pout[0];
  return 0;
}

/* Run `docker-credential-NAME verb` with input on stdin; its stdout into *out. The exit
   status is returned (>= 0), or -1 with an error. */
static int
run_helper (const char *name, const char *verb, const char *input, struct strbuf *out,
            bale_error_t *err)
{
  cleanup_free char *prog = xasprintf ("docker-credential-%s", name);
  cleanup_close int in = -1, rd = -1;
  void (*old) (int) = signal (SIGPIPE, SIG_IGN);
  pid_t pid;
  int status, ret;

  ret = spawn_helper (prog, verb, &in, &rd, &pid, err);
  if (ret == 0)
    {
      /* A helper that exits without reading gives EPIPE here: its exit status tells more. */
      fileio_write_all (in, input, strlen (input));
      close (in);
      in = -1;
      ret = fileio_read_fd (rd, prog, out, err);
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      if (ret == 0)
        ret = WIFEXITED (status) ? WEXITSTATUS (status) : 128;
    }
  signal (SIGPIPE, old);
  return ret;
}

static int
creds_from_helper (const char *name, const char *server, struct registry_creds *out,
                   bale_error_t *err)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  json_auto_t *doc = NULL;
  const char *user, *secret;
  int status = run_helper (name, "get", server, &sb, err);

  if (status < 0)
    return -1;
  /* docker-credential-helpers' client.Get: this message means "anonymous", not failure. */
  if (status != 0 && strstr (sb.buf, "credentials not found"))
    return 0;
  if (status != 0)
    return bale_make_error (err, 0, "credential helper 'docker-credential-%s' failed for '%s' "
                            "(exit status %d): %.200s", name, server, status, sb.buf);
  if (sb.len > MAX_HELPER_OUTPUT || (doc = json_loadb (sb.buf, sb.len, 0, NULL)) == NULL)
    return bale_make_error (err, 0, "credential helper 'docker-credential-%s' gave no JSON for "
                            "'%s'", name, server);
  user = json_string_value (json_object_get (doc, "Username"));
  secret = json_string_value (json_object_get (doc, "Secret"));
  if (secret == NULL || *secret == '\0')
    return 0;
  out->username = xstrdup (user ? user : "");
  out->secret = xstrdup (secret);
  return 1;
}

/* ---- lookup ------------------------------------------------------------------------------- */

static json_t *
load_config (const char *path, bool *missing, bale_error_t *err)
{
  json_error_t jerr;
  json_t *doc;

  *missing = access (path, F_OK) < 0 && errno == ENOENT;
  if (*missing)
    return json_object ();
  doc = json_load_file (path, 0, &jerr);
  if (doc == NULL || !json_is_object (doc))
    {
      json_decref (doc);
      bale_make_error (err, 0, "cannot read docker config '%s': %s", path,
                       doc ? "not a JSON object" : jerr.text);
      return NULL;
    }
  return doc;
}

int
registry_creds_lookup (const char *config_path, const char *domain, struct registry_creds *out,
                       bale_error_t *err)
{
  bool missing;
  json_auto_t *doc = load_config (config_path, &missing, err);
  const char *server = strcmp (domain, "docker.io") == 0 ? DOCKER_HUB_KEY : domain;
  const char *helper, *key;
  json_t *auths, *entry;

  memset (out, 0, sizeof *out);
  if (doc == NULL)
    return -1;
  helper = json_string_value (json_object_get (json_object_get (doc, "credHelpers"), domain));
  if (helper == NULL)
    helper = json_string_value (json_object_get (doc, "credsStore"));
  if (helper && *helper)
    return creds_from_helper (helper, server, out, err);
  auths = json_object_get (doc, "auths");
  json_object_foreach (auths, key, entry)
    if (key_matches (key, domain))
      return creds_from_auth_entry (entry, domain, out, err);
  return 0;
}

/* ---- login and logout --------------------------------------------------------------------- */

static int
write_config (const char *path, json_t *doc, bale_error_t *err)
{
  cleanup_free char *dir = xstrdup (path), *tmp = xasprintf ("%s.tmp%ld", path, (long) getpid ());
  cleanup_free char *text = json_dumps (doc, JSON_INDENT (1));
  char *slash = strrchr (dir, '/');
  cleanup_close int fd = -1;

  if (slash && slash != dir)
    {
      *slash = '\0';
      if (mkdir (dir, 0700) < 0 && errno != EEXIST)
        return bale_make_error (err, errno, "cannot create '%s'", dir);
    }
  /* 0600 from the start: the file holds passwords. */
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || fileio_write_all (fd, text, strlen (text)) < 0 || fileio_write_all (fd, "\n", 1) < 0
      || fsync (fd) < 0 || rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return bale_make_error (err, saved, "cannot write docker config '%s'", path);
    }
  return 0;
}

/* Remove every key that names domain; true when there was one. */
static bool
remove_keys (json_t *auths, const char *domain)
{
  bool found = false;
  const char *key;
  json_t *v;
  void *tmp;

  json_object_foreach_safe (auths, tmp, key, v)
    if (key_matches (key, domain))
      {
        json_object_del (auths, key);
        found = true;
      }
  return found;
}

/* `docker-credential-NAME store` (creds) or `erase` (creds NULL), as docker login/logout do
   when the config names a helper for the registry. */
static int
helper_store (const char *helper, const char *server, const struct registry_creds *creds,
              bale_error_t *err)
{
  cleanup_strbuf struct strbuf out = STRBUF_INIT;
  json_auto_t *in = creds ? json_pack ("{s:s,s:s,s:s}", "ServerURL", server, "Username",
                                       creds->username, "Secret", creds->secret)
                          : NULL;
  char *text = in ? json_dumps (in, JSON_COMPACT) : xstrdup (server);
  int status = run_helper (helper, creds ? "store" : "erase", text, &out, err);

  OPENSSL_cleanse (text, strlen (text));
  free (text);
  if (status > 0 && creds == NULL && strstr (out.buf, "credentials not found"))
    return bale_make_error (err, 0, "not logged in to '%s'", server);
  if (status > 0)
    return bale_make_error (err, 0, "credential helper 'docker-credential-%s' failed to %s the "
                            "credentials of '%s' (exit status %d): %.200s", helper,
                            creds ? "store" : "erase", server, status, out.buf);
  return status < 0 ? -1 : 0;
}

int
registry_creds_store (const char *config_path, const char *domain,
                      const struct registry_creds *creds, bale_error_t *err)
{
  bool missing;
  json_auto_t *doc = load_config (config_path, &missing, err);
  const char *server = strcmp (domain, "docker.io") == 0 ? DOCKER_HUB_KEY : domain;
  const char *helper;
  json_t *auths;
  bool found;

  if (doc == NULL)
    return -1;
  auths = json_object_get (doc, "auths");
  if (!json_is_object (auths))
    {
      auths = json_object ();
      json_object_set_new (doc, "auths", auths);
    }
  helper = json_string_value (json_object_get (json_object_get (doc, "credHelpers"), domain));
  if (helper == NULL)
    helper = json_string_value (json_object_get (doc, "credsStore"));
  if (helper && *helper)
    {
      /* The secret goes to the helper; config.json only lists the registry, as docker does. */
      if (helper_store (helper, server, creds, err) < 0)
        return -1;
      remove_keys (auths, domain);
      if (creds)
        json_object_set_new (auths, server, json_object ());
      return write_config (config_path, doc, err);
    }
  found = remove_keys (auths, domain);
  if (creds == NULL && !found)
    return bale_make_error (err, 0, "not logged in to '%s'", domain);
  if (creds)
    {
      cleanup_free char *pair = xasprintf ("%s:%s", creds->username, creds->secret);
      cleanup_free char *b64 = registry_base64 (pair, strlen (pair));

      OPENSSL_cleanse (pair, strlen (pair));
      json_object_set_new (auths, server, json_pack ("{s:s}", "auth", b64));
    }
  return write_config (config_path, doc, err);
}
