/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Phase timestamps for benchmarks (bench/breakdown.sh): with BALE_TRACE=FILE, every
 * trace_mark appends "SECONDS PID WHAT" (CLOCK_MONOTONIC, microseconds) to FILE, one write
 * per line with O_APPEND, so the lines of the build's processes (stages, layer children,
 * sandboxes) interleave whole. Without BALE_TRACE a mark costs one branch.
 */
#ifndef BALE_TRACE_H
#define BALE_TRACE_H

#include <stdbool.h>

/* The trace file's descriptor, or -1 when tracing is off. A process that closes its
   descriptors (the sandbox's init) keeps this one to trace on. */
int trace_fd (void);

/* One line: WHAT and printf-style details. */
void trace_mark (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
