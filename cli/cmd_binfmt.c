/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `bale binfmt`: which platforms RUN steps can run here, and registering emulators on request. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/oci/platform.h"
#include "runtime/sandbox/binfmt.h"
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
         "  --install   register Debian's qemu-user-static handlers (from " BINFMT_CONF_DIR ")\n"
         "              for the platforms given (default: all but this machine's); needs root\n"
         CLI_HELP_USAGE,
         f);
}

/* One line per platform; 0 when it can run, 1 when it cannot. */
static int
report (const struct bale_platform *host, const struct bale_platform *pl)
{
  cleanup_free char *name = platform_format (pl);
  struct binfmt_handler h;
  bale_error_t e = NULL;
  int how = binfmt_lookup (BINFMT_MISC_DIR, host, pl, &h, &e);

  if (how == BINFMT_NATIVE)
    printf ("%-16s native\n", name);
  else if (how == BINFMT_EMULATED)
    printf ("%-16s emulated by %s (%s, flags %s)\n", name, h.name, h.interpreter, h.flags);
  else
    printf ("%-16s %s\n", name, e ? e->msg : "cannot run");
  binfmt_handler_release (&h);
  bale_error_release (&e);
  return how == BINFMT_NONE;
}

/* --install: register pl's emulator unless this machine runs pl already. */
static int
install (const struct bale_platform *host, const struct bale_platform *pl, bale_error_t *err)
{
  struct binfmt_handler h;
  bale_error_t e = NULL;
  int how = binfmt_lookup (BINFMT_MISC_DIR, host, pl, &h, &e);

  binfmt_handler_release (&h);
  bale_error_release (&e);
  if (how != BINFMT_NONE)
    return 0;
  if (geteuid () != 0)
    return bale_make_error (err, 0, "binfmt --install: registering a handler needs root");
  return binfmt_install (BINFMT_MISC_DIR, BINFMT_CONF_DIR, pl->arch, err);
}

int
bale_cmd_binfmt (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  static const struct option opts[] = {
    { "install", no_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct bale_platform host = { 0 };
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
  if (platform_host (&host, err) < 0)
    return -1;
  n = optind < argc ? (size_t) (argc - optind) : sizeof default_arches / sizeof default_arches[0];
  for (i = 0; i < n && ret == 0; i++)
    {
      struct bale_platform pl = { 0 };
      const char *spec = optind < argc ? argv[optind + (int) i] : default_arches[i];
      if (platform_parse (spec, &pl, err) < 0 || (do_install && install (&host, &pl, err) < 0))
        ret = -1;
      else
        n_cannot += (size_t) report (&host, &pl);
      platform_release (&pl);
    }
  /* Named platforms are a question: the status answers it (0: every one runs here). */
  if (ret == 0 && n_cannot && optind < argc)
    ret = bale_make_error (err, 0, "binfmt: %zu of the platforms cannot run here", n_cannot);
  platform_release (&host);
  return ret;
}
