/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A layer's bytes into a file without the page cache (issue 21): the writer copies them into
 * aligned chunks, and a thread hashes each full chunk and writes it with O_DIRECT while the
 * writer fills the next one. A big RUN layer was written into the page cache, one more copy
 * of what the step just wrote (and the fsync then wrote it again): on this machine that copy
 * was half of the layer's CPU time. The bytes and their digest are the same as a plain
 * write's; only what is not a whole chunk (the last bytes, or all of a small layer) goes
 * through the page cache, and so does everything when the file system refuses O_DIRECT.
 */
#ifndef BALE_LAYER_DIRECTOUT_H
#define BALE_LAYER_DIRECTOUT_H

#include <stddef.h>

#include "common/error.h"
#include "common/oci/digest.h"

struct directout;

/* Write to fd (a new file, at offset 0, the caller's) and feed every byte to d, in order.
   Nothing happens to fd before the first whole chunk. */
struct directout *directout_new (int fd, struct digester *d);
/* Take len bytes; -1 with errno when an earlier chunk could not be written. */
int directout_write (struct directout *o, const void *buf, size_t len);
/* Write what is left and wait for the thread: the file then holds every byte and d has
   seen them. fd is back without O_DIRECT. */
int directout_finish (struct directout *o, bale_error_t *err);
/* Stop the thread and free (after finish, or to abandon the file). */
void directout_free (struct directout *o);

#endif
