/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading whole files into a strbuf, with errors that name the file; writing and copying. */
#ifndef BALE_FILEIO_H
#define BALE_FILEIO_H

#include "bale.h"
#include "common/strbuf.h"

/* Append everything fd holds to sb, retrying on EINTR. path names the file in errors. */
int fileio_read_fd (int fd, const char *path, struct strbuf *sb, bale_error_t *err);

/* Write all len bytes of buf to fd, retrying on EINTR and short writes. 0, or -1 with errno. */
int fileio_write_all (int fd, const void *buf, size_t len);

/* Copy everything in from its offset on to out: copy_file_range (reflinks where the
   filesystem has them), else read and write. 0, or -1 with errno. */
int fileio_copy_fd (int in, int out);

#endif
