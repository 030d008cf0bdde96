/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Go duration strings ("1m30s", "500ms") to nanoseconds. */
#ifndef BALE_DURATION_H
#define BALE_DURATION_H

#include <stdbool.h>
#include <stdint.h>

/* Parse s as Go's time.ParseDuration does. Returns false when s is not a duration. */
bool duration_parse (const char *s, int64_t *out);

/* Format ns as Go's time.Duration.String does ("1m30s", "500ms", "0s") into buf, which must
   hold DURATION_STRLEN bytes. Returns buf. */
#define DURATION_STRLEN 33
char *duration_format (int64_t ns, char buf[DURATION_STRLEN]);

#endif
