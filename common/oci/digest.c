/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming SHA-256 over OpenSSL's EVP interface, producing OCI digest strings. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/oci/digest.h"
#include "common/error.h"
#include "common/banned.h"

#define DIGEST_PREFIX "sha256:"
#define PREFIX_LEN 7
#define HEX_LEN 64

int
digester_init (struct digester *d, bale_error_t *err)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();

  d->ctx = NULL;
  d->size = 0;
  if (ctx == NULL || EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL) != 1)
    {
      EVP_MD_CTX_free (ctx);
      return bale_make_error (err, 0, "cannot initialise 'sha256'");
    }
  d->ctx = ctx;
  return 0;
}

int
digester_copy (struct digester *dst, const struct digester *src, bale_error_t *err)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();

  dst->ctx = NULL;
  dst->size = src->size;
  if (ctx == NULL || EVP_MD_CTX_copy_ex (ctx, src->ctx) != 1)
    {
      EVP_MD_CTX_free (ctx);
      return bale_make_error (err, 0, "cannot copy a 'sha256' context");
    }
  dst->ctx = ctx;
  return 0;
}

void
digester_update (struct digester *d, const void *data, size_t len)
{
  /* EVP_DigestUpdate on an initialised SHA-256 context cannot fail short of memory
     corruption, so there is nothing useful to report. */
  EVP_DigestUpdate (d->ctx, data, len);
  d->size += (int64_t) len;
}

static void
hex_encode (const unsigned char *md, unsigned int n, char *out)
{
  static const char hex[] = "0123456789abcdef";
  unsigned int i;

  for (i = 0; i < n; i++)
    {
      out[2 * i] = hex[md[i] >> 4];
      out[2 * i + 1] = hex[md[i] & 0xf];
    }
  out[2 * n] = '\0';
}

int
digester_final (struct digester *d, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  int ok = EVP_DigestFinal_ex (d->ctx, md, &n);

  digester_release (d);
  if (ok != 1 || n * 2 != HEX_LEN)
    return bale_make_error (err, 0, "cannot finish 'sha256'");
  memcpy (out, DIGEST_PREFIX, PREFIX_LEN);
  hex_encode (md, n, out + PREFIX_LEN);
  return 0;
}

void
digester_release (struct digester *d)
{
  EVP_MD_CTX_free (d->ctx);
  d->ctx = NULL;
}

int
digest_buffer (const void *data, size_t len, char out[DIGEST_STRLEN + 1], bale_error_t *err)
{
  struct digester d;
  int ret = digester_init (&d, err);

  if (ret < 0)
    return ret;
  digester_update (&d, data, len);
  return digester_final (&d, out, err);
}

int
digest_file (int fd, char out[DIGEST_STRLEN + 1], int64_t *size, bale_error_t *err)
{
  struct digester d;
  char buf[65536];
  int ret = digester_init (&d, err);

  if (ret < 0)
    return ret;
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          digester_release (&d);
          return bale_make_error (err, errno, "cannot read file to digest");
        }
      if (n == 0)
        break;
      digester_update (&d, buf, (size_t) n);
    }
  if (size)
    *size = d.size;
  return digester_final (&d, out, err);
}

bool
digest_is_valid (const char *s)
{
  size_t i;

  if (s == NULL || strncmp (s, DIGEST_PREFIX, PREFIX_LEN) != 0)
    return false;
  for (i = 0; i < HEX_LEN; i++)
    {
      char c = s[PREFIX_LEN + i];

      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
        return false;
    }
  return s[PREFIX_LEN + HEX_LEN] == '\0';
}

const char *
digest_hex (const char *s)
{
  return digest_is_valid (s) ? s + PREFIX_LEN : NULL;
}
