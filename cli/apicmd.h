/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a subcommand written on the public API (include/bale.h) needs from the rest of the
 * CLI, and nothing of the runtime: every file of cli/ includes only this, bale.h and common/
 * (with the presentation helpers; docs/architecture.md, checked by tests/check_layers.py).
 */
#ifndef BALE_CLI_APICMD_H
#define BALE_CLI_APICMD_H

#include <stdbool.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>

#include "bale.h"
#include "common/strbuf.h"

struct cli_global;
struct option;

/* The store of --store, $BALE_STORE or the default, as a public handle. A command that only
   reads fails rather than create a store where there is none (cli/main.c, in bale-core). */
int cli_bale_store (const struct cli_global *g, bale_store **out, bale_error_t *err);

/* Options for a subcommand that takes only --help and min..max operands (max -1: any).
   Prints usage and exits on --help or bad usage; returns the index of the first operand. */
int cli_simple_args (int argc, char **argv, const char *usage, int min, int max, bale_error_t *err);
/* The --help line every command's usage text lists. */
#define CLI_HELP_USAGE "  -h, --help           print this help\n"
/* A bad option of `bale CMD` (cmd "" for bale's own): getopt said what; point at the help
   and exit 2. */
void cli_usage_error (const char *cmd) __attribute__ ((noreturn));
/* A usage error found by the command: "bale CMD: MESSAGE", the pointer to the help, exit 2. */
void cli_usage_fail (const char *cmd, const char *fmt, ...)
    __attribute__ ((noreturn, format (printf, 2, 3)));
/* Make the command's failure (its *err) a usage error: its line, then the pointer to the help,
   exit status (2; bale run's 125). Returns -1. */
int cli_usage_failure (struct cli_global *g, int status);
/* The front program (bale): execute bale-core with argv; returns only on a failure (127). */
int cli_exec_core (char **argv);

/* The exit status of the command when it fails (1 unless set): bale run's 125-127, bale
   diff's 2 (cli/main.c, which holds the struct cli_global of the bale command's options). */
void cli_set_error_status (struct cli_global *g, int status);
/* Print every diagnostic of a chain to stderr, in the one format editors understand. */
void cli_print_diagnostics (const struct bale_error_s *chain);
/* On a terminal (fd a tty), out's control characters other than tab and newline become text
   (ESC as ^[, as `cat -v` shows it, a C1 control as ?), so that what an image, a Dockerfile
   or a step wrote cannot set the title, write the clipboard (OSC 52) or move the cursor. A
   pipe or a file gets the bytes as they are, as docker prints them. */
void cli_shown_text (struct strbuf *out, int fd);
/* text to f, through cli_shown_text (stderr: errors quote a Dockerfile's line and a step's
   last output). */
void cli_fprint_shown (FILE *f, const char *text);

/*
 * The options `bale plan` and `bale lint` share with `bale build`, as a struct
 * bale_plan_options (cli/planopts.c): -f, --target, --build-arg, --platform, --check, the RUN
 * options (--allow, --network, --add-host, --ulimit, --shm-size) and the CONTEXT operand.
 */
struct cli_planopts
{
  struct bale_plan_options o; /* its pointers point into argv and the arrays below */
  char **build_args;          /* "K=V", a bare K resolved from the environment or dropped */
  const char **add_hosts, **ulimits;
  char *dockerfile;           /* CONTEXT/Dockerfile when -f is missing */
  char *platform;             /* the first --platform */
};
/* The getopt_long entries of the options `bale build`, `bale plan` and `bale lint` share;
   each command appends its own. */
#define CLI_PLANOPTS_LONG                                                                          \
  { "file", required_argument, NULL, 'f' }, { "target", required_argument, NULL, 0x100 },         \
      { "build-arg", required_argument, NULL, 0x101 },                                             \
      { "platform", required_argument, NULL, 0x102 }, { "check", no_argument, NULL, 0x103 },       \
      { "allow", required_argument, NULL, 0x110 }, { "network", required_argument, NULL, 0x111 },  \
      { "add-host", required_argument, NULL, 0x112 },                                              \
      { "ulimit", required_argument, NULL, 0x113 }, { "shm-size", required_argument, NULL, 0x114 }
/* Their lines of the usage text. */
#define CLI_RUNOPTS_USAGE                                                                          \
  "  --allow ENT          grant an entitlement: security.insecure (RUN --security=insecure),\n"   \
  "                       network.host (always granted)\n"                                        \
  "  --network MODE       network of RUN steps without --network: default (the host's),\n"      \
  "                       host or none\n"                                                         \
  "  --add-host NAME:IP   add a line to the /etc/hosts of every RUN step (repeatable)\n"          \
  "  --ulimit N=S[:H]     a resource limit of every RUN step, e.g. nofile=1024:2048\n"            \
  "  --shm-size SIZE      size of /dev/shm in RUN steps (default 64m)\n"
/* Parse argv with getopt_long over opts (CLI_PLANOPTS_LONG, the command's own options, and
   --help): the shared ones go into *po, the others to own (ctx, c, optarg), which returns 0
   or -1 with *err. --help prints usage to stdout and exits 0; a bad option prints it to
   stderr and exits 2. Then the CONTEXT operand (at most one, "." by default) and the
   Dockerfile path are settled. Release *po with cli_planopts_release, even on failure. */
int cli_planopts_parse (int argc, char **argv, const char *cmd, const struct option *opts,
                        void (*usage) (FILE *), int (*own) (void *ctx, int c, const char *arg, bale_error_t *err),
                        void *ctx, struct cli_planopts *po, bale_error_t *err);
void cli_planopts_release (struct cli_planopts *po);
/* The last line of `bale lint` and `bale build --check`: how many check warnings were
   printed, in BuildKit's words. */
void cli_check_report (int n);
/* The store base images are planned from: *out is NULL when there is none to read (a plan
   then says each base image is missing), never an error. */
int cli_plan_store (const struct cli_global *g, bale_store **out);

/* --quiet of the command line (bale -q CMD). */
bool cli_quiet (const struct cli_global *g);

/* ---- the image commands' shared presentation and names (cli/imgpresent.c) ---- */

/* Split a stored name into Docker's familiar repository ("busybox", "ghcr.io/a/b") and tag,
   both for the caller to free. A digest (an untagged image) gives "<none>" twice and -1. */
int cli_familiar (const char *full, char **repo, char **tag);
/* "4.26MB", as Docker prints sizes. The caller frees it. */
char *cli_human_size (int64_t size);
/* "Untagged: busybox:latest" for a name, "Deleted: sha256:…" for an untagged image. */
void cli_print_untagged (const char *full);
/* An image name for -t or tag: Docker's rules, with its message for capitals. */
int cli_check_name (const char *name, bale_error_t *err);

/* The options of the commands that talk to registries (pull, push, login), as the public
   API's bale_registry_options. */
struct cli_progress;
struct cli_regopts
{
  struct bale_registry_options o;
  const char **insecure; /* o.insecure points here */
  size_t n_insecure, insecure_alloc;
  const char *progress;           /* --progress MODE (pull, push); NULL: auto */
  struct cli_progress *renderer;  /* open between cli_regopts_start and _finish */
};
/* Defaults and $BALE_INSECURE_REGISTRY; progress lines go to stderr unless quiet. */
void cli_regopts_init (struct cli_regopts *r, bool quiet);
/* Handle option c (from CLI_REGISTRY_OPTIONS); false when it is not one of them. */
bool cli_regopts_option (struct cli_regopts *r, int c, const char *arg);
void cli_regopts_release (struct cli_regopts *r);
/* pull and push: the transfer drawn as bale build draws its steps (cli/progress.h), the
   header saying title ("Pulling"): each blob's bytes in plain (BuildKit's lines), tty (with
   the rate; colours only on a terminal without NO_COLOR) or rawjson; nothing when quiet
   (-q, or --progress=quiet|none). */
int cli_regopts_start (struct cli_regopts *r, const char *title, bale_error_t *err);
/* The summary (plain, tty), before the command prints its result. Idempotent. */
void cli_regopts_finish (struct cli_regopts *r);
/* getopt_long values outside the range of option letters, so no subcommand's letters clash. */
#define CLI_OPT_INSECURE 0x1001
#define CLI_OPT_TLS_CA 0x1002
#define CLI_OPT_PROGRESS 0x1003
/* --progress of pull and push. */
#define CLI_PROGRESS_OPTION { "progress", required_argument, NULL, CLI_OPT_PROGRESS }
#define CLI_PROGRESS_USAGE                                                                         \
  "      --progress MODE   auto (tty on a terminal, else plain), plain, tty, rawjson, quiet or\n" \
  "                        none: each blob's bytes, as bale build shows them (docs/progress.md)\n"

/* The getopt_long entries for --insecure-registry and --tls-ca, and their help text. */
#define CLI_REGISTRY_OPTIONS                                                                       \
  { "insecure-registry", required_argument, NULL, CLI_OPT_INSECURE },                            \
  { "tls-ca", required_argument, NULL, CLI_OPT_TLS_CA }
#define CLI_REGISTRY_USAGE                                                                         \
  "      --insecure-registry HOST[:PORT]  use plain http for this registry (repeatable)\n"        \
  "      --tls-ca FILE     also trust the CA certificates in FILE (PEM)\n"

/* The subcommands. */
int bale_cmd_explain (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_lint (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_parse (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_plan (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_run (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_save (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_tag (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_binfmt (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_cache (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_history (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_images (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_inspect (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_load (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_login (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_logout (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_prune (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_pull (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_push (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_rmi (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_build (int argc, char **argv, struct cli_global *g, bale_error_t *err);
int bale_cmd_diff (int argc, char **argv, struct cli_global *g, bale_error_t *err);

#endif
