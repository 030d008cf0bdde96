/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UTF-8 decoding and the few Unicode classes the Dockerfile rules depend on. */
#include <config.h>

#include "common/utf8.h"
#include "common/banned.h"

size_t
utf8_decode (const unsigned char *s, size_t n, uint32_t *rune)
{
  uint32_t r;
  size_t w, i;

  if (s[0] < 0x80)
    {
      *rune = s[0];
      return 1;
    }
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    w = 2, r = s[0] & 0x1f;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    w = 3, r = s[0] & 0x0f;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    w = 4, r = s[0] & 0x07;
  else
    return 0;
  if (n < w)
    return 0;
  for (i = 1; i < w; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      r = (r << 6) | (s[i] & 0x3f);
    }
  if ((w == 3 && r < 0x800) || (w == 4 && r < 0x10000) || r > 0x10ffff
      || (r >= 0xd800 && r <= 0xdfff))
    return 0;
  *rune = r;
  return w;
}

size_t
utf8_encode (uint32_t r, char *out)
{
  if (r < 0x80)
    {
      out[0] = (char) r;
      return 1;
    }
  if (r < 0x800)
    {
      out[0] = (char) (0xc0 | (r >> 6));
      out[1] = (char) (0x80 | (r & 0x3f));
      return 2;
    }
  if (r < 0x10000)
    {
      out[0] = (char) (0xe0 | (r >> 12));
      out[1] = (char) (0x80 | ((r >> 6) & 0x3f));
      out[2] = (char) (0x80 | (r & 0x3f));
      return 3;
    }
  out[0] = (char) (0xf0 | (r >> 18));
  out[1] = (char) (0x80 | ((r >> 12) & 0x3f));
  out[2] = (char) (0x80 | ((r >> 6) & 0x3f));
  out[3] = (char) (0x80 | (r & 0x3f));
  return 4;
}

bool
utf8_is_print (uint32_t r)
{
  if (r < 0x20 || r == 0x7f)
    return false;
  if (r < 0x7f)
    return true;
  if (r <= 0xa0 || r == 0xad)
    return false;
  if ((r >= 0x600 && r <= 0x605) || r == 0x61c || r == 0x6dd || r == 0x70f || r == 0x1680
      || r == 0x180e || (r >= 0x2000 && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f)
      || (r >= 0x205f && r <= 0x206f) || r == 0x3000 || (r >= 0xd800 && r <= 0xf8ff)
      || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb) || r == 0xfffe || r == 0xffff
      || (r >= 0xe0000 && r <= 0xe0fff) || r >= 0xf0000)
    return false;
  return true;
}

bool
utf8_is_space (uint32_t r)
{
  switch (r)
    {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202f: case 0x205f: case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200a;
    }
}

bool
utf8_is_letter (uint32_t r)
{
  if (r < 0x80)
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  if (r <= 0xff)
    return r == 0xaa || r == 0xb5 || r == 0xba || (r >= 0xc0 && r != 0xd7 && r != 0xf7);
  if (utf8_is_space (r) || !utf8_is_print (r))
    return false;
  /* General punctuation, symbols, arrows, box drawing, CJK punctuation, fullwidth ASCII punctuation. */
  if ((r >= 0x2000 && r <= 0x2bff) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xfe30 && r <= 0xfe4f)
      || (r >= 0xff00 && r <= 0xff20) || (r >= 0x1f000 && r <= 0x1faff))
    return false;
  return true;
}
