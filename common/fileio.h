/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading whole files into a strbuf, with errors that name the file; writing and copying. */
#ifndef BALE_FILEIO_H
#define BALE_FILEIO_H

#include "bale.h"
#include "common/strbuf.h"

/* Append everything fd holds to sb, retrying on EINTR. path names the file in errors. */
int fileio_read_fd (int fd, const char *path, struct strbuf *sb, bale_error_t *err);

/* Open path under dirfd with flags (O_NOFOLLOW and O_CLOEXEC added) through no symlink: each
   directory on the way is opened in turn with O_NOFOLLOW, then the last component, so a
   symlink anywhere in path is an error naming it, never followed, whatever the kernel offers.
   path is relative: an absolute path, a ".." or an empty one is an error (dirfd may be
   AT_FDCWD; a caller that trusts a prefix such as the store's directory opens it first).
   The descriptor, or -1 with err. */
int fileio_open_beneath (int dirfd, const char *path, int flags, bale_error_t *err);

/* Open dirfd/name (as fileio_open_beneath: no symlink on the way) for reading when it is a
   regular file: a FIFO (opened without waiting) or a device is an error. The descriptor, or
   -1 with err. */
int fileio_open_regular (int dirfd, const char *name, bale_error_t *err);

/* Read dirfd/name (as fileio_open_regular) into sb, for a file that came with an input (an
   OCI layout, a cache directory): a regular file reached through no symlink, of at most max
   bytes. A FIFO or a device is an error, not a wait or an endless read. */
int fileio_read_regular (int dirfd, const char *name, size_t max, struct strbuf *sb,
                         bale_error_t *err);

/* Create (unless it exists) and open the directory dirfd/name, which must be a directory
   itself: a symlink there is an error, never followed. The descriptor, or -1 with err. */
int fileio_mkdir_open (int dirfd, const char *name, bale_error_t *err);

/* Write all len bytes of buf to fd, retrying on EINTR and short writes. 0, or -1 with errno. */
int fileio_write_all (int fd, const void *buf, size_t len);

/* Copy everything in from its offset on to out: copy_file_range (reflinks where the
   filesystem has them), else read and write. 0, or -1 with errno. */
int fileio_copy_fd (int in, int out);

#endif
