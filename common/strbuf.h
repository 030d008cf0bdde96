/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growable byte buffer that is always NUL-terminated (after git's strbuf.h). */
#ifndef BALE_STRBUF_H
#define BALE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * buf is never NULL once initialised: an empty strbuf points to a static "".
 * len does not count the terminating NUL; the contents may hold NUL bytes.
 */
struct strbuf
{
  size_t alloc;
  size_t len;
  char *buf;
};

#define STRBUF_INIT { 0, 0, (char *) strbuf_empty }
extern const char strbuf_empty[];

void strbuf_init (struct strbuf *sb);
void strbuf_release (struct strbuf *sb);
/* Hand the buffer to the caller (who frees it) and reset sb to empty. */
char *strbuf_detach (struct strbuf *sb, size_t *len);
void strbuf_grow (struct strbuf *sb, size_t extra);
void strbuf_reset (struct strbuf *sb);
void strbuf_setlen (struct strbuf *sb, size_t len);
void strbuf_add (struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr (struct strbuf *sb, const char *s);
void strbuf_addch (struct strbuf *sb, int c);
void strbuf_addf (struct strbuf *sb, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void strbuf_vaddf (struct strbuf *sb, const char *fmt, va_list ap) __attribute__ ((format (printf, 2, 0)));
/* Append s as Go's strconv.Quote would render it (used by BuildKit's dump format). */
void strbuf_add_goquote (struct strbuf *sb, const char *s, size_t len);

static inline void
cleanup_strbuf_fn (struct strbuf *sb)
{
  strbuf_release (sb);
}
#define cleanup_strbuf __attribute__ ((cleanup (cleanup_strbuf_fn)))

#endif
