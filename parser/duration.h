/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Go duration strings ("1m30s", "500ms") to nanoseconds. */
#ifndef BALE_DURATION_H
#define BALE_DURATION_H

#include <stdbool.h>
#include <stdint.h>

/* Parse s as Go's time.ParseDuration does. Returns false when s is not a duration. */
bool duration_parse (const char *s, int64_t *out);

#endif
