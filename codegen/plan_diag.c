/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Located diagnostics of the compiler: an error or a warning at a span of the Dockerfile.
   Below the planner, the dispatch and the build checks, which all report through them. */
#include <config.h>

#include <stdarg.h>

#include "codegen/plan.h"
#include "common/error.h"
#include "common/srcfile.h"
#include "common/banned.h"

static void make_at (const struct plan *p, bale_error_t *err, const struct bale_span *span,
                     enum bale_severity sev, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 5, 0)));

static void
make_at (const struct plan *p, bale_error_t *err, const struct bale_span *span, enum bale_severity sev,
         const char *fmt, va_list ap)
{
  struct srcfile sf;
  struct bale_loc loc;
  bale_error_t e = NULL;

  srcfile_init (&sf, p->df->path, p->df->source, p->df->source_len);
  loc = srcfile_loc (&sf, span);
  bale_make_verror_at (&e, 0, &loc, fmt, ap);
  srcfile_release (&sf);
  e->severity = sev;
  bale_error_join (err, &e);
}

int
plan_error_at (const struct plan *p, const struct bale_span *span, bale_error_t *err, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  make_at (p, err, span, BALE_SEVERITY_ERROR, fmt, ap);
  va_end (ap);
  return -1;
}

void
plan_warning_at (struct plan *p, const struct bale_span *span, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  make_at (p, &p->warnings, span, BALE_SEVERITY_WARNING, fmt, ap);
  va_end (ap);
}
