/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Times as docker's list commands print them. */
#ifndef BALE_CLI_HUMANTIME_H
#define BALE_CLI_HUMANTIME_H

#include <time.h>

/* RFC 3339 ("2024-05-01T10:00:00.123Z", "…+02:00") to a time; -1 when s is NULL or not one. */
time_t cli_parse_time (const char *s);

/* "3 weeks ago", as go-units HumanDuration of now - t plus " ago"; "N/A" for t < 0.
   The caller frees it. */
char *cli_time_since (time_t t);

/* t in RFC 3339 in the local time zone, as Go's time.Format (time.RFC3339). */
char *cli_time_rfc3339 (time_t t);

#endif
