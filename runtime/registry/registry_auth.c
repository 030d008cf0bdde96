/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registry authentication: WWW-Authenticate challenges, Basic, Bearer tokens and their cache. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/registry/registry.h"
#include "common/banned.h"

/* distribution's token spec: "expires_in … defaults to 60 seconds". */
#define DEFAULT_TOKEN_LIFETIME 60
/* Renew this long before a token expires, so that it does not expire in flight. */
#define TOKEN_MARGIN 10
#define MAX_TOKEN_ANSWER (1024 * 1024)

/* ---- WWW-Authenticate (RFC 7235 §4.1, RFC 6750 §3) ---------------------------------------- */

static bool
is_tchar (int c)
{
  return isalnum (c) || (c && strchr ("!#$%&'*+-.^_`|~", c));
}

static void
skip_ws (const char **p)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

static char *
read_token (const char **p)
{
  const char *s = *p;

  while (is_tchar ((unsigned char) **p))
    (*p)++;
  return *p > s ? xstrndup (s, (size_t) (*p - s)) : NULL;
}

/* A quoted-string after its opening quote; \-escapes kept literal, as the RFC says. */
static char *
read_quoted (const char **p, bale_error_t *err)
{
  struct strbuf sb = STRBUF_INIT;

  for (; **p && **p != '"'; (*p)++)
    {
      if (**p == '\\' && (*p)[1])
        (*p)++;
      strbuf_addch (&sb, **p);
    }
  if (**p != '"')
    {
      strbuf_release (&sb);
      bale_make_error (err, 0, "invalid WWW-Authenticate header: unterminated quoted string");
      return NULL;
    }
  (*p)++;
  return strbuf_detach (&sb, NULL);
}

static void
set_param (struct registry_challenge *c, const char *name, char *value)
{
  char **slot = strcasecmp (name, "realm") == 0     ? &c->realm
                : strcasecmp (name, "service") == 0 ? &c->service
                : strcasecmp (name, "scope") == 0   ? &c->scope
                : strcasecmp (name, "error") == 0   ? &c->error
                                                    : NULL;

  if (slot && *slot == NULL)
    *slot = value;
  else
    free (value);
}

/* The auth-params of one challenge, up to the next scheme (a token not followed by '='). */
static int
parse_params (const char **p, struct registry_challenge *c, bale_error_t *err)
{
  for (;;)
    {
      const char *save;
      cleanup_free char *name = NULL;
      char *value;

      skip_ws (p);
      while (**p == ',' || **p == ' ' || **p == '\t')
        (*p)++;
      save = *p;
      if (**p == '\0' || (name = read_token (p)) == NULL)
        return **p == '\0' ? 0 : bale_make_error (err, 0, "invalid WWW-Authenticate header");
      skip_ws (p);
      if (**p != '=')
        {
          *p = save; /* the next challenge's scheme */
          return 0;
        }
      (*p)++;
      skip_ws (p);
      if (**p == '"')
        {
          (*p)++;
          if ((value = read_quoted (p, err)) == NULL)
            return -1;
        }
      else if ((value = read_token (p)) == NULL)
        return bale_make_error (err, 0, "invalid WWW-Authenticate header: no value for '%s'",
                                name);
      set_param (c, name, value);
    }
}

void
registry_challenge_release (struct registry_challenge *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
  free (c->error);
  memset (c, 0, sizeof *c);
}

int
registry_challenge_parse (const char *value, struct registry_challenge *out, bale_error_t *err)
{
  const char *p = value;

  memset (out, 0, sizeof *out);
  while (*p)
    {
      struct registry_challenge c = { 0 };

      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (*p == '\0')
        break;
      if ((c.scheme = read_token (&p)) == NULL || parse_params (&p, &c, err) < 0)
        {
          registry_challenge_release (&c);
          registry_challenge_release (out);
          return c.scheme ? -1 : bale_make_error (err, 0, "invalid WWW-Authenticate header '%s'",
                                                  value);
        }
      /* Bearer is what we prefer when a registry offers more than one scheme. */
      if (out->scheme == NULL
          || (strcasecmp (c.scheme, "Bearer") == 0 && strcasecmp (out->scheme, "Bearer") != 0))
        {
          registry_challenge_release (out);
          *out = c;
        }
      else
        registry_challenge_release (&c);
    }
  if (out->scheme == NULL)
    return bale_make_error (err, 0, "empty WWW-Authenticate header");
  return 0;
}

/* ---- the connection ----------------------------------------------------------------------- */

struct token
{
  char *scopes; /* the key: the scope set as requested */
  char *token;
  time_t expires;
};

struct registry_conn
{
  char *domain;
  char *base; /* "https://host" */
  const struct registry_opts *opts;
  struct http_client *http;
  pthread_mutex_t lock;
  bool creds_loaded;
  struct registry_creds creds; /* username NULL: anonymous */
  bool basic;                  /* the registry asked for Basic */
  struct token *tokens;
  size_t n_tokens, tokens_alloc;
};

struct registry_conn *
registry_conn_new (const char *domain, const struct registry_opts *opts, bale_error_t *err)
{
  struct http_client_opts hopts = { .ca_file = opts->ca_file, .retries = opts->retries };
  cleanup_free char *host = registry_host (domain);
  struct registry_conn *c;
  struct http_client *http = http_client_new (&hopts, err);

  if (http == NULL)
    return NULL;
  c = xzalloc (sizeof *c);
  c->domain = xstrdup (domain);
  c->base = xasprintf ("%s://%s", registry_is_insecure (host, opts->insecure) ? "http" : "https",
                       host);
  c->opts = opts;
  c->http = http;
  pthread_mutex_init (&c->lock, NULL);
  return c;
}

void
registry_conn_free (struct registry_conn *c)
{
  size_t i;

  if (c == NULL)
    return;
  for (i = 0; i < c->n_tokens; i++)
    {
      free (c->tokens[i].scopes);
      free (c->tokens[i].token);
    }
  free (c->tokens);
  registry_creds_release (&c->creds);
  http_client_free (c->http);
  pthread_mutex_destroy (&c->lock);
  free (c->domain);
  free (c->base);
  free (c);
}

void
registry_conn_set_creds (struct registry_conn *c, const struct registry_creds *creds)
{
  registry_creds_release (&c->creds);
  c->creds.username = xstrdup (creds->username);
  c->creds.secret = xstrdup (creds->secret);
  c->creds_loaded = true;
}

/* Load the docker config's credentials once. Called with the lock held. */
static int
load_creds (struct registry_conn *c, bale_error_t *err)
{
  cleanup_free char *path = NULL;

  if (c->creds_loaded)
    return 0;
  path = c->opts->docker_config ? xstrdup (c->opts->docker_config) : registry_docker_config_path ();
  if (registry_creds_lookup (path, c->domain, &c->creds, err) < 0)
    return -1;
  c->creds_loaded = true;
  return 0;
}

static char *
basic_value (const struct registry_creds *cr)
{
  cleanup_free char *pair = xasprintf ("%s:%s", cr->username, cr->secret);
  cleanup_free char *b64 = registry_base64 (pair, strlen (pair));

  return xasprintf ("Basic %s", b64);
}

/* The Authorization value to send for scopes now, or NULL. Called with the lock held. */
static char *
current_auth (struct registry_conn *c, const char *scopes)
{
  time_t now = time (NULL);
  size_t i;

  if (c->basic && c->creds.username)
    return basic_value (&c->creds);
  for (i = 0; i < c->n_tokens; i++)
    if (strcmp (c->tokens[i].scopes, scopes) == 0 && c->tokens[i].expires > now + TOKEN_MARGIN)
      return xasprintf ("Bearer %s", c->tokens[i].token);
  return NULL;
}

static void
cache_token (struct registry_conn *c, const char *scopes, const char *token, time_t expires)
{
  size_t i;

  for (i = 0; i < c->n_tokens; i++)
    if (strcmp (c->tokens[i].scopes, scopes) == 0)
      break;
  if (i == c->n_tokens)
    {
      XGROW (c->tokens, c->tokens_alloc, c->n_tokens + 1);
      c->tokens[c->n_tokens].scopes = xstrdup (scopes);
      c->tokens[c->n_tokens++].token = NULL;
    }
  free (c->tokens[i].token);
  c->tokens[i].token = xstrdup (token);
  c->tokens[i].expires = expires;
}

/* ---- tokens (distribution docs/spec/auth/token.md, oauth.md) ------------------------------- */

/* Append "?name=value" to a URL ("&" after the first), or "&name=value" to a form body,
   percent-encoded. */
static void
add_param (struct strbuf *sb, bool form, const char *name, const char *value)
{
  const char *p;

  strbuf_addf (sb, "%c%s=", form || strchr (sb->buf, '?') ? '&' : '?', name);
  for (p = value; *p; p++)
    if (isalnum ((unsigned char) *p) || strchr ("-._~", *p))
      strbuf_addch (sb, *p);
    else
      strbuf_addf (sb, "%%%02X", (unsigned char) *p);
}

/* The realm must be https unless its host may be reached over http anyway: the token request
   carries the password. */
static int
check_realm (struct registry_conn *c, const char *realm, bale_error_t *err)
{
  cleanup_free char *host = NULL;

  if (strncmp (realm, "https://", 8) == 0)
    return 0;
  if (strncmp (realm, "http://", 7) == 0)
    {
      host = xstrndup (realm + 7, strcspn (realm + 7, "/?#"));
      if (registry_is_insecure (host, c->opts->insecure))
        return 0;
    }
  return bale_make_error (err, 0, "registry '%s' sends its token realm '%s' over plain http; "
                          "name its host with --insecure-registry to allow it", c->domain, realm);
}

static int
parse_token_answer (struct registry_conn *c, const char *scopes, const struct http_response *resp,
                    char **token, bale_error_t *err)
{
  json_auto_t *doc = json_loadb (resp->body.buf, resp->body.len, 0, NULL);
  const char *t = json_string_value (json_object_get (doc, "token"));
  json_int_t ttl = json_integer_value (json_object_get (doc, "expires_in"));

  if (t == NULL || *t == '\0')
    t = json_string_value (json_object_get (doc, "access_token"));
  if (t == NULL || *t == '\0')
    return bale_make_error (err, 0, "token server of registry '%s' gave no token for '%s'",
                            c->domain, scopes);
  if (ttl < DEFAULT_TOKEN_LIFETIME)
    ttl = DEFAULT_TOKEN_LIFETIME;
  cache_token (c, scopes, t, time (NULL) + (time_t) ttl);
  *token = xstrdup (t);
  return 0;
}

/* Fetch a token for scopes from the challenge's realm. Called with the lock held. */
static int
fetch_token (struct registry_conn *c, const struct registry_challenge *ch, const char *scopes,
             char **token, bale_error_t *err)
{
  struct strbuf url = STRBUF_INIT;
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  cleanup_free char *auth = NULL, *form = NULL;
  static const char *const form_headers[]
      = { "Content-Type: application/x-www-form-urlencoded", NULL };
  cleanup_free char *copy = xstrdup (scopes);
  char *save = NULL, *sc;
  int ret;

  if (ch->realm == NULL || check_realm (c, ch->realm, err) < 0)
    return ch->realm ? -1 : bale_make_error (err, 0, "registry '%s' sent a Bearer challenge "
                                             "without a realm", c->domain);
  strbuf_addstr (&url, ch->realm);
  if (ch->service)
    add_param (&url, false, "service", ch->service);
  /* One scope= per scope (token.md); strtok_r is not banned, strtok is. */
  for (sc = strtok_r (copy, " ", &save); sc; sc = strtok_r (NULL, " ", &save))
    add_param (&url, false, "scope", sc);
  if (c->creds.username && strcmp (c->creds.username, "<token>") == 0)
    {
      /* An identity token is a refresh token of the OAuth2 grant (oauth.md). */
      struct strbuf f = STRBUF_INIT;
      strbuf_addstr (&f, "grant_type=refresh_token&client_id=bale");
      add_param (&f, true, "refresh_token", c->creds.secret);
      add_param (&f, true, "service", ch->service ? ch->service : "");
      add_param (&f, true, "scope", scopes);
      form = strbuf_detach (&f, NULL);
      req.method = "POST";
      req.body = form;
      req.body_len = strlen (form);
      req.headers = form_headers;
      strbuf_setlen (&url, strlen (ch->realm));
    }
  else if (c->creds.username)
    req.authorization = auth = basic_value (&c->creds);
  req.url = url.buf;
  req.max_body = MAX_TOKEN_ANSWER;
  ret = http_do (c->http, &req, &resp, err);
  if (ret == 0 && resp.status != 200)
    ret = registry_http_error (c->creds.username ? "token request with credentials refused"
                                                 : "anonymous token request refused", &resp, err);
  if (ret == 0)
    ret = parse_token_answer (c, scopes, &resp, token, err);
  if (ret < 0)
    bale_error_wrap (err, "registry '%s' (realm '%s', scope '%s')", c->domain, ch->realm, scopes);
  http_response_release (&resp);
  strbuf_release (&url);
  return ret;
}

/* The scope set to ask for: ours, plus the challenge's when it names another. */
static char *
merge_scopes (const char *ours, const char *theirs)
{
  if (theirs == NULL || *theirs == '\0' || strstr (ours, theirs))
    return xstrdup (ours);
  if (*ours == '\0')
    return xstrdup (theirs);
  return xasprintf ("%s %s", ours, theirs);
}

/* React to a 401: the Authorization value to retry with, or NULL with an error. */
static char *
answer_challenge (struct registry_conn *c, const char *scopes, const char *what,
                  const struct http_response *resp, bale_error_t *err)
{
  const char *hdr = http_response_header (resp, "WWW-Authenticate");
  struct registry_challenge ch;
  char *token = NULL, *ret = NULL;

  if (hdr == NULL)
    {
      bale_make_error (err, 0, "%s: HTTP status 401 without an authentication challenge", what);
      return NULL;
    }
  if (registry_challenge_parse (hdr, &ch, err) < 0)
    return NULL;
  pthread_mutex_lock (&c->lock);
  if (load_creds (c, err) == 0)
    {
      if (strcasecmp (ch.scheme, "Bearer") == 0)
        {
          cleanup_free char *all = merge_scopes (scopes, ch.scope);
          if (fetch_token (c, &ch, all, &token, err) == 0)
            {
              cache_token (c, scopes, token, time (NULL) + DEFAULT_TOKEN_LIFETIME);
              ret = xasprintf ("Bearer %s", token);
            }
        }
      else if (strcasecmp (ch.scheme, "Basic") == 0 && c->creds.username)
        {
          c->basic = true;
          ret = basic_value (&c->creds);
        }
      else if (strcasecmp (ch.scheme, "Basic") == 0)
        bale_make_error (err, 0, "%s: registry '%s' requires a login (bale login %s)", what,
                         c->domain, c->domain);
      else
        bale_make_error (err, 0, "%s: unsupported authentication scheme '%s'", what, ch.scheme);
    }
  pthread_mutex_unlock (&c->lock);
  free (token);
  registry_challenge_release (&ch);
  return ret;
}

int
registry_do (struct registry_conn *c, const char *scopes, const struct http_request *req,
             struct http_response *resp, bale_error_t *err)
{
  struct http_request r = *req;
  cleanup_free char *auth = NULL, *what = xasprintf ("%s %s", req->method, req->url);

  /* Upload Locations may point elsewhere (a storage service): credentials are for the
     registry's own origin only, as for redirects. */
  if (!http_same_origin (c->base, req->url))
    return http_do (c->http, req, resp, err);
  pthread_mutex_lock (&c->lock);
  auth = current_auth (c, scopes);
  pthread_mutex_unlock (&c->lock);
  r.authorization = auth;
  if (http_do (c->http, &r, resp, err) < 0)
    return -1;
  /* A streamed body is gone: the caller reports the 401 (the POST before it got the token). */
  if (resp->status != 401 || req->source)
    return 0;
  free (auth);
  if ((auth = answer_challenge (c, scopes, what, resp, err)) == NULL)
    return -1;
  http_response_release (resp);
  r.authorization = auth;
  if (http_do (c->http, &r, resp, err) < 0)
    return -1;
  if (resp->status == 401)
    {
      registry_http_error (c->creds.username ? "credentials refused" : "authentication required",
                           resp, err);
      return bale_error_wrap (err, "%s", what);
    }
  return 0;
}

int
registry_check_login (struct registry_conn *c, bale_error_t *err)
{
  cleanup_free char *url = xasprintf ("%s/v2/", c->base);
  struct http_request req = HTTP_REQUEST_INIT;
  struct http_response resp;
  int ret;

  req.url = url;
  ret = registry_do (c, "", &req, &resp, err);
  if (ret == 0 && resp.status != 200)
    ret = registry_http_error (url, &resp, err);
  http_response_release (&resp);
  return ret;
}

const char *
registry_conn_base (const struct registry_conn *c)
{
  return c->base;
}
