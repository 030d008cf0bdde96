/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bale command: global options, the subcommand table, and the one place errors are printed. */
#include <config.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <sys/stat.h>

#include "cli/apicmd.h"
#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/trace.h"
#include "common/banned.h"

/* The options of the bale command itself, and what a subcommand's failure exits with. */
struct cli_global
{
  const char *store;  /* --store, or NULL */
  bool quiet;
  int error_status;   /* exit status when the command fails; 0 means 1 */
  bool read_only;     /* the command never creates a store */
  bool usage;         /* the failure is a usage error: the help is pointed at */
};

struct subcommand
{
  const char *name;
  int (*fn) (int argc, char **argv, struct cli_global *g, bale_error_t *err);
  const char *summary;
};

static void usage (FILE *f);
static int bale_cmd_version (int argc, char **argv, struct cli_global *g, bale_error_t *err);
static int bale_cmd_help (int argc, char **argv, struct cli_global *g, bale_error_t *err);

/* The front program (bale, made with BALE_FRONT) runs the commands that need only the parser
   and planner itself, without loading libcurl, libarchive and what they load (README,
   "Start-up"); every other command is NULL here and runs in bale-core (cli/core.c). */
#ifdef BALE_FRONT
#define CORE(fn) NULL
#else
#define CORE(fn) fn
#endif

static const struct subcommand subcommands[] = {
  { "build", CORE (bale_cmd_build), "build an image from a Dockerfile" },
  { "run", CORE (bale_cmd_run), "run an image of the store, as docker run does" },
  { "explain", CORE (bale_cmd_explain), "show what `docker run IMAGE ARGS` executes, and why" },
  { "parse", bale_cmd_parse, "parse a Dockerfile and print its syntax tree" },
  { "plan", CORE (bale_cmd_plan), "show what each instruction will do, after expansion" },
  { "lint", CORE (bale_cmd_lint), "run BuildKit's build checks on a Dockerfile" },
  { "load", CORE (bale_cmd_load), "import a docker-archive, OCI archive or OCI layout into the store" },
  { "save", CORE (bale_cmd_save), "write images of the store as a docker-archive" },
  { "images", CORE (bale_cmd_images), "list the images of the store" },
  { "history", CORE (bale_cmd_history), "show the steps an image was made of" },
  { "tag", CORE (bale_cmd_tag), "give an image another name" },
  { "rmi", CORE (bale_cmd_rmi), "remove names, and the blobs no other name needs" },
  { "inspect", CORE (bale_cmd_inspect), "print details of images as JSON" },
  { "prune", CORE (bale_cmd_prune), "remove untagged images and unreferenced blobs" },
  { "diff", CORE (bale_cmd_diff), "show every difference between two images" },
  { "binfmt", CORE (bale_cmd_binfmt), "say which platforms RUN steps can run here; --install emulators" },
  { "cache", CORE (bale_cmd_cache), "why IMAGE_A IMAGE_B: the build inputs that differ between two images" },
  { "pull", CORE (bale_cmd_pull), "fetch an image from a registry into the store" },
  { "push", CORE (bale_cmd_push), "upload an image of the store to a registry" },
  { "login", CORE (bale_cmd_login), "record credentials for a registry" },
  { "logout", CORE (bale_cmd_logout), "remove the credentials of a registry" },
  { "version", bale_cmd_version, "print bale's version" },
  { "help", bale_cmd_help, "show the help of a command" },
};

static const struct subcommand *
find_command (const char *name)
{
  size_t i;

  for (i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (strcmp (name, subcommands[i].name) == 0)
      return &subcommands[i];
  return NULL;
}

static int
bale_cmd_version (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  (void) g;
  cli_simple_args (argc, argv, "usage: bale version\nPrint bale's version.\n", 0, 0, err);
  printf ("bale %s\n", bale_version ());
  return 0;
}

/* `bale help CMD` is `bale CMD --help`. */
static int
bale_cmd_help (int argc, char **argv, struct cli_global *g, bale_error_t *err)
{
  const struct subcommand *c;
  char *args[] = { NULL, "--help", NULL };

  if (argc < 2)
    {
      usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs ("usage: bale help [COMMAND]\nShow the help of COMMAND (as bale COMMAND --help), or of bale.\n"
             CLI_HELP_USAGE, stdout);
      return 0;
    }
  if (!(c = find_command (argv[1])) || c->fn == bale_cmd_help)
    cli_usage_fail ("help", "unknown command '%s'", argv[1]);
  args[0] = argv[1];
  optind = 0;
  return c->fn (2, args, g, err);
}

static void
usage (FILE *f)
{
  size_t i;

  fputs ("usage: bale [--store DIR] COMMAND [OPTIONS]\n\ncommands:\n", f);
  for (i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    fprintf (f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
  fputs ("\noptions:\n"
         "      --store DIR      the image store (default $BALE_STORE, /var/lib/bale for root,\n"
         "                       else $XDG_DATA_HOME/bale); also accepted after COMMAND\n"
         "  -h, --help           print this help\n"
         "      --version        print bale's version\n"
         "\nRun 'bale COMMAND --help' for a command's options.\n", f);
}

/* What errors are prefixed with: "bale", then "bale CMD" once the command is known (as getopt
   names the program), never the path the binary was run by. */
static const char *program = "bale";

void
cli_usage_error (const char *cmd)
{
  fprintf (stderr, "see 'bale%s%s --help'\n", *cmd ? " " : "", cmd);
  exit (2);
}

void
cli_usage_fail (const char *cmd, const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "bale%s%s: ", *cmd ? " " : "", cmd);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  cli_usage_error (cmd);
}

/*
 * What comes from images (labels, history, names) and from a Dockerfile or a step's output
 * (quoted by an error) and goes to the user's terminal: on a terminal, each control character but tab and newline is shown as text (ESC
 * as ^[, as `cat -v` shows it, a C1 control as ?), so that an image cannot set the title,
 * write the clipboard (OSC 52) or move the cursor over the listing. A pipe or a file gets the
 * bytes as they are, as docker prints them.
 */
void
cli_shown_text (struct strbuf *out, int fd)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;
  size_t i;

  if (!isatty (fd))
    return;
  for (i = 0; i < out->len; i++)
    {
      unsigned char c = (unsigned char) out->buf[i];
      if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
        {
          strbuf_addch (&sb, '^');
          strbuf_addch (&sb, (char) (c ^ 0x40));
        }
      else if (c == 0xc2 && i + 1 < out->len && (unsigned char) out->buf[i + 1] >= 0x80
               && (unsigned char) out->buf[i + 1] <= 0x9f)
        {
          strbuf_addch (&sb, '?');
          i++;
        }
      else
        strbuf_addch (&sb, (char) c);
    }
  {
    struct strbuf old = *out;
    *out = sb;
    sb = old; /* released on return */
  }
}

void
cli_fprint_shown (FILE *f, const char *text)
{
  cleanup_strbuf struct strbuf sb = STRBUF_INIT;

  strbuf_addstr (&sb, text);
  cli_shown_text (&sb, fileno (f));
  fwrite (sb.buf, 1, sb.len, f);
}

void
cli_print_diagnostics (const struct bale_error_s *chain)
{
  const struct bale_error_s *e;

  for (e = chain; e; e = e->next)
    {
      char *text = bale_error_format (e);
      cli_fprint_shown (stderr, text);
      fputc ('\n', stderr);
      free (text);
    }
}

/* The errors of a failed command: each with the one prefix "bale CMD: ". An error without a
   location drops bale_error_format's "error: " (the prefix says it); a located one keeps the
   compiler's "FILE:LINE:COL: error: " after it. */
static void
print_errors (const struct bale_error_s *chain)
{
  const struct bale_error_s *e;

  for (e = chain; e; e = e->next)
    {
      char *text = bale_error_format (e);
      const char *t = text;

      if (!e->file && strncmp (t, "error: ", 7) == 0)
        t += 7;
      /* on a terminal as text: an error quotes the Dockerfile's line and a step's last
         output, which may hold escape sequences (OSC 52 writes the clipboard) */
      fprintf (stderr, "%s: ", program);
      cli_fprint_shown (stderr, t);
      fputc ('\n', stderr);
      free (text);
    }
}

/* A usage error of a command that reached bale_make_error: one line and the pointer to the
   help, status 2 (bale run: docker's 125). */
int
cli_usage_failure (struct cli_global *g, int status)
{
  g->usage = true;
  g->error_status = status;
  return -1;
}

void
cli_set_error_status (struct cli_global *g, int status)
{
  g->error_status = status;
}

bool
cli_quiet (const struct cli_global *g)
{
  return g->quiet;
}

#ifndef BALE_FRONT
int
cli_bale_store (const struct cli_global *g, bale_store **out, bale_error_t *err)
{
  cleanup_free char *path = g->store ? xstrdup (g->store) : bale_store_default_path (err);
  struct stat st;

  if (!path)
    return -1;
  /* Commands that only read never create a store where there is none. */
  if (g->read_only && stat (path, &st) < 0 && errno == ENOENT)
    return bale_make_error (err, 0, "no store at '%s' (nothing was built, pulled or loaded there yet)",
                            path);
  return bale_store_open (path, out, err);
}

/* Commands that never touch the store or a sandbox need no user namespace. */
static bool
needs_userns (const char *name)
{
  static const char *const plain[] = { "parse", "plan", "lint", "login", "logout", "version", "help" };

  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    if (strcmp (name, plain[i]) == 0)
      return false;
  return true;
}

#endif

static int
parse_global (int argc, char **argv, struct cli_global *g)
{
  static const struct option opts[] = {
    { "store", required_argument, NULL, 's' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  /* '+' stops at the subcommand: its options are its own. */
  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 's': g->store = optarg; break;
      case 'h': usage (stdout); exit (0);
      case 'V': printf ("bale %s\n", bale_version ()); exit (0);
      default: cli_usage_error ("");
      }
  return optind;
}

/* --store DIR (or --store=DIR) given after the subcommand, as docker takes global flags:
   taken out of argv before the subcommand parses it, up to "--" or, for run (whose
   arguments after the image are the command's), the first operand. */
static int
take_store_option (int argc, char **argv, struct cli_global *g)
{
  bool operand_stops = strcmp (argv[0], "run") == 0;
  int i, j;

  for (i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    {
      if (operand_stops && argv[i][0] != '-')
        break;
      if (strcmp (argv[i], "--store") == 0 && i + 1 < argc)
        {
          g->store = argv[i + 1];
          for (j = i; j + 2 <= argc; j++)
            argv[j] = argv[j + 2];
          argc -= 2, i--;
        }
      else if (strncmp (argv[i], "--store=", 8) == 0)
        {
          g->store = argv[i] + 8;
          for (j = i; j + 1 <= argc; j++)
            argv[j] = argv[j + 1];
          argc--, i--;
        }
    }
  return argc;
}

#ifndef BALE_FRONT
/* The isolation wanted: `bale build --isolation=X` (the command parses it again and ignores
   it), else BALE_ISOLATION, else auto (NULL). It is needed before the command runs, while
   the process has one thread. */
static const char *
wanted_isolation (int argc, char **argv, bool build)
{
  const char *v = getenv ("BALE_ISOLATION");

  for (int i = 1; build && i < argc && strcmp (argv[i], "--") != 0; i++)
    if (strncmp (argv[i], "--isolation=", 12) == 0)
      v = argv[i] + 12;
    else if (strcmp (argv[i], "--isolation") == 0 && i + 1 < argc)
      v = argv[++i];
  return v;
}
#endif

int
main (int argc, char **argv)
{
  struct cli_global g = { 0 };
  bale_error_t err = NULL;
  const struct subcommand *cmd;
  char *name;
  int first, ret;

#ifdef BALE_FRONT
  trace_mark ("main: bale started");
#else
  trace_mark ("main: bale-core started");
#endif
  g.store = getenv ("BALE_STORE");
  /* getopt names the program by argv[0]: "bale", not the path bale was run by (bale-core is
     executed with the front's argv, so it says "bale" too). */
  argv[0] = (char *) "bale";
  first = parse_global (argc, argv, &g);
  if (first >= argc)
    {
      usage (stderr);
      return 2;
    }
  cmd = find_command (argv[first]);
  if (!cmd)
    {
      fprintf (stderr, "bale: unknown command '%s'\n", argv[first]);
      cli_usage_error ("");
    }
#ifdef BALE_FRONT
  if (cmd->fn == NULL
      || (cmd->fn == bale_cmd_help && first + 1 < argc && find_command (argv[first + 1])
          && find_command (argv[first + 1])->fn == NULL))
    return cli_exec_core (argv); /* with the arguments as given: bale-core parses them again */
#endif
  argc = first + take_store_option (argc - first, argv + first, &g);
  {
    /* Commands that only read, or that need an image the store has already (tag, rmi, run,
       push): where there is no store they fail, and leave none behind. */
    static const char *const readers[] = { "plan",  "images", "history", "inspect", "explain", "diff", "save",
                                           "parse", "cache",  "lint",    "tag",     "rmi",     "run",  "push" };
    for (size_t k = 0; k < sizeof readers / sizeof readers[0]; k++)
      g.read_only |= strcmp (argv[first], readers[k]) == 0;
  }
  /* getopt names the program in its messages: "bale build: unrecognized option". */
  name = xasprintf ("bale %s", argv[first]);
  argv[first] = name;
  program = name;
  optind = 0;
#ifdef BALE_FRONT
  ret = cmd->fn (argc - first, argv + first, &g, &err); /* none needs a user namespace */
#else
  /* First of all, while the process has one thread and nothing open: as an ordinary user,
     become root of a user namespace, or find that steps must run chrooted
     (bale_isolation_enter). */
  /* `bale CMD --help` only prints: the man pages are made from it at build time, by a
     user who may have no subordinate IDs. */
  if (needs_userns (cmd->name) && !(argc > first + 1 && strcmp (argv[first + 1], "--help") == 0))
    ret = bale_isolation_enter (wanted_isolation (argc - first, argv + first,
                                                  strcmp (cmd->name, "build") == 0),
                                &err) < 0
              ? -1
              : cmd->fn (argc - first, argv + first, &g, &err);
  else
    ret = cmd->fn (argc - first, argv + first, &g, &err);
#endif
  if (ret < 0)
    {
      print_errors (err);
      if (g.usage)
        fprintf (stderr, "see '%s --help'\n", name);
      bale_error_release (&err);
      free (name);
      return g.error_status ? g.error_status : 1;
    }
  free (name);
  trace_mark ("main: done");
  /* A subcommand may pass on an exit status (bale run: the command's). */
  return ret > 255 ? 255 : ret;
}
