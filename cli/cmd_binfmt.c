/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale binfmt`: which platforms RUN steps can run here, and registering emulators on request. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/apicmd.h"
#include "common/banned.h"

/* The architectures `bale binfmt` reports and --install registers by default: those Debian's
   qemu-user-static emulates and images are commonly built for. */
static const char *const default_arches[] = { "amd64", "arm64", "arm", "386", "riscv64", "ppc64le", "s390x" };

static void
binfmt_usage (FILE *f)
{
  fputs ("usage: bale binfmt [--install] [PLATFORM...]\n"
         "  Says how this machine runs RUN steps of each platform: natively, under the\n"
         "  binfmt_misc handler that emulates it, or not at all. bale never registers a\n"
         "  handler by itself.\n"
         "  --install   register Debian's qemu-user-static handlers (from " BALE_BINFMT_CONF_DIR ")\n"
         "              for the platforms given (default: all but this machine's); needs root\n"
         CLI_HELP_USAGE,
         f);
}

/* One line per platform; 0 when it can run, 1 when it cannot. */
static int
report (const struct bale_binfmt_status *st)
{
  if (st->how == BALE_BINFMT_NATIVE)
    printf ("%-16s native\n", st->platform);
  else if (st->how == BALE_BINFMT_EMULATED)
    printf ("%-16s emulated by %s (%s, flags %s)\n", st->platform, st->handler, st->interpreter,
            st->flags);
  else
    printf ("%-16s %s\n", st->platform, st->reason);
  return st->how == BALE_BINFMT_NONE;
}

int
bale_cmd_binfmt (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const struct option opts[] = {
    { "install", no_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool do_install = false;
  size_t n = 0, i, n_cannot = 0;
  int ch, ret = 0;

  (void) g;
  while ((ch = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (ch)
      {
      case 'i': do_install = true; break;
      case 'h': binfmt_usage (stdout); exit (0);
      default: cli_usage_error ("binfmt");
      }
  n = optind < argc ? (size_t) (argc - optind) : sizeof default_arches / sizeof default_arches[0];
  for (i = 0; i < n && ret == 0; i++)
    {
      struct bale_binfmt_status st;
      const char *spec = optind < argc ? argv[optind + (int) i] : default_arches[i];
      if ((do_install && bale_binfmt_install (spec, err) < 0)
          || bale_binfmt_status (spec, &st, err) < 0)
        ret = -1;
      else
        {
          n_cannot += (size_t) report (&st);
          bale_binfmt_status_release (&st);
        }
    }
  /* Named platforms are a question: the status answers it (0: every one runs here). */
  if (ret == 0 && n_cannot && optind < argc)
    ret = bale_make_error (err, 0, "%zu of the platforms cannot run here", n_cannot);
  return ret;
}
