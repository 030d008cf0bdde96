/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A port of Go's path/filepath.Match (match.go) for Unix, kept close to the original so its
 * corner cases carry over: the star/chunk split, backtracking only over stars, and
 * ErrBadPattern for a malformed class or a trailing backslash.
 */
#include <config.h>

#include <string.h>

#include "common/utf8.h"
#include "common/gomatch.h"
#include "common/banned.h"

/* The next UTF-8 character of s (len bytes); invalid bytes count as U+FFFD of width 1. */
static int
next_rune (const char *s, size_t len, size_t *width)
{
  uint32_t r;
  size_t w = len ? utf8_decode ((const unsigned char *) s, len, &r) : 0;

  if (w == 0)
    {
      *width = 1;
      return 0xFFFD;
    }
  *width = w;
  return (int) r;
}

/* scanChunk: a leading run of stars, then the pattern up to the next unescaped star outside
   a class. */
static void
scan_chunk (const char **pattern, bool *star, const char **chunk, size_t *chunk_len)
{
  const char *p = *pattern;
  size_t i;
  bool inrange = false;

  *star = false;
  while (*p == '*')
    {
      p++;
      *star = true;
    }
  for (i = 0; p[i]; i++)
    {
      if (p[i] == '\\')
        {
          if (p[i + 1])
            i++;
        }
      else if (p[i] == '[')
        inrange = true;
      else if (p[i] == ']')
        inrange = false;
      else if (p[i] == '*' && !inrange)
        break;
    }
  *chunk = p;
  *chunk_len = i;
  *pattern = p + i;
}

/* getEsc: one possibly escaped character of a class; -1 on a bad pattern. */
static int
get_esc (const char **chunk, const char *end, int *r)
{
  const char *c = *chunk;
  size_t w;

  if (c >= end || *c == '-' || *c == ']')
    return -1;
  if (*c == '\\')
    {
      c++;
      if (c >= end)
        return -1;
    }
  *r = next_rune (c, (size_t) (end - c), &w);
  if (*r == 0xFFFD && w == 1 && (unsigned char) *c >= 0x80)
    return -1;
  c += w;
  if (c >= end)
    return -1;
  *chunk = c;
  return 0;
}

/*
 * matchChunk: whether chunk matches a prefix of s; *rest is what is left of s. Returns 1, 0,
 * or -1 for a bad pattern.
 */
static int
match_chunk (const char *chunk, size_t chunk_len, const char *s, const char **rest)
{
  const char *end = chunk + chunk_len;
  bool failed = false; /* keep scanning the pattern for errors after a mismatch, as Go does */
  size_t slen = strlen (s);

  while (chunk < end)
    {
      if (!failed && slen == 0)
        failed = true;
      switch (*chunk)
        {
        case '[':
          {
            int r = 0, lo, hi;
            size_t w = 0;
            bool negated, match = false;
            int nrange = 0;
            if (!failed)
              {
                r = next_rune (s, slen, &w);
                s += w;
                slen -= w;
              }
            chunk++;
            negated = chunk < end && *chunk == '^';
            if (negated)
              chunk++;
            for (;;)
              {
                if (chunk < end && *chunk == ']' && nrange > 0)
                  {
                    chunk++;
                    break;
                  }
                if (get_esc (&chunk, end, &lo) < 0)
                  return -1;
                hi = lo;
                if (*chunk == '-')
                  {
                    chunk++;
                    if (get_esc (&chunk, end, &hi) < 0)
                      return -1;
                  }
                if (lo <= r && r <= hi)
                  match = true;
                nrange++;
              }
            if (match == negated)
              failed = true;
            break;
          }
        case '?':
          if (!failed)
            {
              size_t w;
              if (*s == '/')
                failed = true;
              next_rune (s, slen, &w);
              s += w;
              slen -= w;
            }
          chunk++;
          break;
        case '\\':
          chunk++;
          if (chunk >= end)
            return -1;
          /* fallthrough */
        default:
          if (!failed)
            {
              if (*chunk != *s)
                failed = true;
              s++;
              slen--;
            }
          chunk++;
          break;
        }
    }
  if (failed)
    return 0;
  *rest = s;
  return 1;
}

int
gomatch (const char *pattern, const char *name)
{
  for (;;)
    {
      bool star;
      const char *chunk, *rest;
      size_t chunk_len;
      int r;

      if (*pattern == '\0')
        return *name == '\0';
      scan_chunk (&pattern, &star, &chunk, &chunk_len);
      if (star && chunk_len == 0)
        /* A trailing star matches the rest of the name unless it holds a '/'. */
        return strchr (name, '/') == NULL;
      r = match_chunk (chunk, chunk_len, name, &rest);
      if (r < 0)
        return -1;
      /* The chunk matched here: done if it was the end of both, else keep going unless a
         star can still absorb more. */
      if (r == 1 && (*rest == '\0' || *pattern != '\0'))
        {
          name = rest;
          continue;
        }
      if (star)
        {
          size_t i;
          bool found = false;
          /* Look for a match with the star absorbing name[:i+1]; stars never cross '/'. */
          for (i = 0; name[i] && name[i] != '/'; i++)
            {
              r = match_chunk (chunk, chunk_len, name + i + 1, &rest);
              if (r < 0)
                return -1;
              if (r == 1)
                {
                  if (*pattern == '\0' && *rest != '\0')
                    continue;
                  name = rest;
                  found = true;
                  break;
                }
            }
          if (found)
            continue;
        }
      /* Go keeps scanning the rest of the pattern for errors before reporting no match. */
      while (*pattern)
        {
          scan_chunk (&pattern, &star, &chunk, &chunk_len);
          if (match_chunk (chunk, chunk_len, "", &rest) < 0)
            return -1;
        }
      return 0;
    }
}

bool
gomatch_has_meta (const char *pattern)
{
  /* fsutil's containsWildcards, which splits a COPY source into the path opened as it is and
     the pattern matched: `*`, `?` or `[` not escaped by a backslash. A name with only
     backslashes is a literal one, backslashes and all (FINDINGS F55). */
  for (; *pattern; pattern++)
    if (*pattern == '\\')
      {
        if (!*++pattern)
          break;
      }
    else if (*pattern == '*' || *pattern == '?' || *pattern == '[')
      return true;
  return false;
}
