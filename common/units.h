/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes in bytes as Docker's command line spells them. */
#ifndef BALE_UNITS_H
#define BALE_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * go-units RAMInBytes, which docker's MemBytes options (--shm-size, --keep-storage, tmpfs and
 * cache sizes) read: NUMBER[.FRACTION][ ][kmgtp][i][b] in any case, binary multiples: "512",
 * "64m", "1.5g", "10 GiB". No sign, exponent, hex or surrounding space; at most 2^63 - 1024.
 * Returns false for anything else, *out untouched.
 */
bool units_parse_bytes (const char *s, uint64_t *out);

#endif
