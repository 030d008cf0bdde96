/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal UTF-8 decoding and character classes, matching Go's unicode/utf8 where BuildKit relies on it. */
#ifndef BALE_UTF8_H
#define BALE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode one rune from s (n > 0 bytes available). Returns its width, or 0 when the bytes are not
 * valid UTF-8 (overlong forms, surrogates and values above U+10FFFF are invalid, as in Go).
 */
size_t utf8_decode (const unsigned char *s, size_t n, uint32_t *rune);
/* Encode r into out (at least 4 bytes); returns the width. */
size_t utf8_encode (uint32_t r, char *out);
/* Go's strconv.IsPrint, approximated outside Latin-1 by excluding the format, control,
   private-use and separator code points. */
bool utf8_is_print (uint32_t r);
/* Go's unicode.IsSpace. */
bool utf8_is_space (uint32_t r);
/* Go's unicode.IsLetter for ASCII and Latin-1; any rune above U+00FF that is not a space,
   punctuation or symbol block is taken as a letter (used for variable names). */
bool utf8_is_letter (uint32_t r);

#endif
