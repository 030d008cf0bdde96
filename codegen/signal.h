/* SPDX-License-Identifier: GPL-2.0-or-later */
/* STOPSIGNAL values, checked as moby/sys/signal.ParseSignal does for Linux. */
#ifndef BALE_SIGNAL_H
#define BALE_SIGNAL_H

#include <stdbool.h>

/* A non-zero decimal number, or a Linux signal name (case-insensitive, "SIG" optional). */
bool signal_valid (const char *s);

#endif
