/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libbale: the public API of the bale Dockerfile compiler.
 *
 * Ownership: `const` pointers are borrowed; a `T **out` parameter receives ownership on
 * success only. Functions that can fail take `bale_error_t *err` last, return a negative int
 * (or NULL) on failure and then leave at least one error in *err, which the caller releases
 * with bale_error_release(). On success *err is not touched.
 *
 * Threads: every function is reentrant. Objects are not locked: one bale_store (and anything
 * derived from it) is used by one thread at a time; two threads may use two bale_store handles
 * of the same directory, and two processes may share a store (it locks itself on disk). The
 * one function meant to be called from another thread is bale_cancel_trigger().
 *
 * Process-wide effects (what an embedder inherits), minimised:
 *  - bale_build() forks ONE child process that runs the whole build: it enters its own mount
 *    namespace, sets its own signal handlers and forks the RUN sandboxes and stage workers
 *    beneath it. The calling process's mount namespace, signal dispositions and signal mask
 *    are never changed. The child is reaped by its pid (waitpid(pid)), never by waitpid(-1),
 *    so a SIGCHLD handler or a reaper thread of the embedder that reaps every child would
 *    steal its status: bale_build then fails with ECHILD. In a multi-threaded process the
 *    child runs only the calling thread (fork(2)): what other threads held is not used. The
 *    child is killed (PR_SET_PDEATHSIG) when the calling thread ends, so a caller killed
 *    with SIGKILL leaves no build running.
 *  - Descriptors bale opens are O_CLOEXEC; nothing is written to stdout or stderr by the
 *    library (progress and warnings go to the callback).
 *  - Registry access (pull, push, base images) uses libcurl; the first call may run
 *    curl_global_init(), which is not thread-safe: call bale_store_open() once from one thread
 *    before using bale from several.
 *  - As root, RUN steps need the privileges runc needs (namespaces, mounts); see
 *    docs/library.md for rootless use.
 */
#ifndef BALE_H
#define BALE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------------------------ */

enum bale_severity
{
  BALE_SEVERITY_ERROR = 0,
  BALE_SEVERITY_WARNING = 1,
};

/* A place in a source file. text/text_len, when set, is the source line, for a caret display. */
struct bale_loc
{
  const char *file;
  int line, col;         /* 1-based; col counts bytes */
  int end_line, end_col; /* end_col is exclusive */
  const char *text;
  size_t text_len;
};

struct bale_error_s
{
  int status; /* an errno value, or 0 */
  enum bale_severity severity;
  char *msg;
  char *file; /* NULL when the error has no source location */
  int line, col, end_line, end_col;
  char *source_line; /* the text of `line`, or NULL */
  char *hint;        /* e.g. `did you mean "FROM"?`, or NULL */
  struct bale_error_s *next; /* further errors of the same operation */
};
typedef struct bale_error_s *bale_error_t;

/* Free every error in the chain and set *err to NULL. Accepts NULL and an empty chain. */
void bale_error_release (bale_error_t *err);
/* One error as `FILE:LINE:COL: error: MESSAGE`, then the source line and a caret when known.
   The caller frees the result. */
char *bale_error_format (const struct bale_error_s *e);

/*
 * Making errors, for code that reports through the same type (an embedder wrapping bale's
 * errors with its own context, or a callback that fails). Each returns -status - 1, always
 * negative, so that `return bale_make_error (err, ENOENT, "...");` reads naturally. When *err
 * already holds an error the new one is appended to its chain.
 */
int bale_make_error (bale_error_t *err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int bale_make_error_at (bale_error_t *err, const struct bale_loc *loc, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int bale_make_verror_at (bale_error_t *err, int status, const struct bale_loc *loc, const char *fmt,
                         va_list ap) __attribute__ ((format (printf, 4, 0)));
/* Prefix the message of every error in the chain with "context: ". Returns -status - 1 of the
   first. */
int bale_error_wrap (bale_error_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Move every error of *from to the end of *to's chain; *from is left NULL. */
void bale_error_join (bale_error_t *to, bale_error_t *from);
/* How many errors the chain holds. */
int bale_error_count (bale_error_t err);

/* ---- the Dockerfile AST ------------------------------------------------------------------ */

enum bale_instr
{
  BALE_I_UNKNOWN = 0,
  BALE_I_ADD,
  BALE_I_ARG,
  BALE_I_CMD,
  BALE_I_COPY,
  BALE_I_ENTRYPOINT,
  BALE_I_ENV,
  BALE_I_EXPOSE,
  BALE_I_FROM,
  BALE_I_HEALTHCHECK,
  BALE_I_LABEL,
  BALE_I_MAINTAINER,
  BALE_I_ONBUILD,
  BALE_I_RUN,
  BALE_I_SHELL,
  BALE_I_STOPSIGNAL,
  BALE_I_USER,
  BALE_I_VOLUME,
  BALE_I_WORKDIR,
};

/* A span of source text: 1-based lines, 1-based byte columns, end_col exclusive. */
struct bale_span
{
  int line, col, end_line, end_col;
};

/* One argument. value may hold NUL bytes (JSON "\u0000"), so len is authoritative. */
struct bale_word
{
  char *value;
  size_t len;
  struct bale_span span;
};

/* A builder flag such as --mount=type=cache,target=/x: name "mount", value "type=...".
   raw is the word as BuildKit keeps it (quotes and escapes removed, leading dashes kept). */
struct bale_flag
{
  char *raw;
  char *name;
  char *value; /* NULL for a bare --name */
  struct bale_span span;
};

struct bale_heredoc
{
  char *name;     /* the delimiter, quotes removed */
  char *content;  /* the body, verbatim, each line with its newline */
  size_t content_len;
  bool expand;    /* false when the delimiter was quoted */
  bool chomp;     /* <<- : leading tabs are stripped when the body is used */
  unsigned fd;    /* 3<<EOF gives 3; 0 when none was written */
  struct bale_span span; /* the body lines */
};

/*
 * One instruction. args follows BuildKit's node model (see docs/ast.md):
 *  - RUN, CMD, ENTRYPOINT, SHELL: the exec-form elements when json is set, else one word;
 *  - ADD, COPY, VOLUME: the JSON elements, or the whitespace-separated words;
 *  - ENV, LABEL: triples key, value, separator ("=", or "" for the legacy `KEY value` form);
 *  - HEALTHCHECK: the type word (CMD, NONE...) then the command as for CMD;
 *  - ONBUILD: no args; sub holds the trigger instruction;
 *  - everything else: the words, or the whole text as one word.
 */
struct bale_node
{
  enum bale_instr kind;
  char *keyword;  /* as written */
  char *original; /* the logical line, continuations joined */
  char *rest;     /* the text after the keyword and flags, trimmed */
  struct bale_span span;         /* the whole instruction, heredoc bodies included */
  struct bale_span keyword_span;
  struct bale_flag *flags;
  size_t n_flags;
  struct bale_word *args;
  size_t n_args;
  bool json;
  struct bale_node *sub; /* ONBUILD's trigger */
  struct bale_heredoc *heredocs;
  size_t n_heredocs;
  char **comments; /* the comment lines just before the instruction, without '#' */
  size_t n_comments;
};

struct bale_directive
{
  char *name; /* lowercased: syntax, escape or check */
  char *value;
  struct bale_span span;
};

struct bale_dockerfile
{
  char *path;   /* as given, e.g. "Dockerfile" or "-" */
  char *source; /* the whole file */
  size_t source_len;
  char escape;  /* '\\' or '`' */
  struct bale_directive *directives;
  size_t n_directives;
  struct bale_node *nodes;
  size_t n_nodes;
  struct bale_span span; /* from the first to the last instruction */
  bale_error_t warnings; /* e.g. empty continuation lines */
};

/*
 * Parse a Dockerfile the way BuildKit's parser does: lines, directives, continuations, flags,
 * arguments and heredocs, but no instruction-level checks (see bale_validate). path names the
 * file in locations. Every syntax error of the file is reported in *err (at most 20).
 */
int bale_parse (const char *path, const char *buf, size_t len, struct bale_dockerfile **out,
                bale_error_t *err);
/* bale_parse on a file; path "-" reads standard input. */
int bale_parse_file (const char *path, struct bale_dockerfile **out, bale_error_t *err);
/* Instruction-level checks (BuildKit's instructions.Parse): unknown instructions, flags,
   argument counts, ordering. Reports every error found, at most 20. */
int bale_validate (const struct bale_dockerfile *df, bale_error_t *err);
/* bale_parse then bale_validate, reporting the errors of both in file order. */
int bale_parse_checked (const char *path, const char *buf, size_t len,
                        struct bale_dockerfile **out, bale_error_t *err);
int bale_parse_file_checked (const char *path, struct bale_dockerfile **out, bale_error_t *err);
void bale_dockerfile_free (struct bale_dockerfile *df);

/* BuildKit's Node.Dump() of every instruction, one per line. The caller frees the result. */
char *bale_dump (const struct bale_dockerfile *df);
/* The AST as JSON text (schema in docs/ast.md); pretty when indent > 0. Caller frees. */
char *bale_ast_to_json (const struct bale_dockerfile *df, int indent);

/* The keyword of an instruction kind, upper case ("FROM"); "" for BALE_I_UNKNOWN. */
const char *bale_instr_name (enum bale_instr kind);

const char *bale_version (void);

/* ---- the image store --------------------------------------------------------------------- */

/* An opened image store (an OCI-layout-like directory, shared with the bale command). */
typedef struct bale_store bale_store;

/* Open (creating it if needed) the store at path; NULL: the bale command's default
   ($BALE_STORE, /var/lib/bale for root, else $XDG_DATA_HOME/bale). */
int bale_store_open (const char *path, bale_store **out, bale_error_t *err);
/* Close it (NULL is accepted). Every object obtained from it must be released first. */
void bale_store_close (bale_store *s);
/* The store's directory; borrowed from s. */
const char *bale_store_path (const bale_store *s);
/* The directory bale_store_open (NULL) opens: $BALE_STORE, /var/lib/bale for root (not root
   of bale's own user namespace), else $XDG_DATA_HOME/bale or ~/.local/share/bale. The caller
   frees it; NULL with *err when none can be chosen. */
char *bale_store_default_path (bale_error_t *err);

/*
 * Enter the isolation the bale command enters before any command that touches a store or
 * runs a step: isolation is "auto" (or NULL, or ""), "namespace" or "chroot", as
 * bale_build_options.isolation. As an ordinary user this makes the CALLING PROCESS root of a
 * new user namespace (newuidmap maps its subordinate ids, or its one id), so that stores
 * written as root can be read and layers extracted with their owners; "chroot" (or "auto"
 * where namespaces are refused) records in the process environment that RUN steps run
 * chrooted. Process-wide and not undone: call it first, while the process has one thread and
 * before any store is opened. An embedder running as root that only builds has no need of it
 * (bale_build's child enters the isolation of its options itself).
 */
int bale_isolation_enter (const char *isolation, bale_error_t *err);

/* One name of the store: a name (normalised: "docker.io/library/busybox:latest", or a
   "sha256:..." digest for an untagged image) and what it points at. */
struct bale_image
{
  char *name;
  char *digest; /* of the manifest or index: the Digest of `bale images --format json` */
  char *id;     /* the image ID (config digest), as `bale images` and `docker images` show */
};

/* Every name of the store, sorted. The caller frees the array with bale_images_free. */
int bale_images_list (bale_store *s, struct bale_image **out, size_t *n, bale_error_t *err);
void bale_images_free (struct bale_image *images, size_t n);
/* What `what` names (a name, a digest or a unique ID prefix, as `bale inspect` takes):
   its manifest or index digest in *digest, the image ID in *id and the image config (JSON
   text) in *config; each of the three may be NULL; the caller frees the strings. */
int bale_image_inspect (bale_store *s, const char *what, char **digest, char **id, char **config,
                        bale_error_t *err);
/* Give the image `what` names the name `name` too (`bale tag`). */
int bale_image_tag (bale_store *s, const char *what, const char *name, bale_error_t *err);
/* `bale rmi`: a name is removed; an ID or digest removes every name of that image. Blobs
   nothing else needs (names, pins, the build cache) are then deleted. */
int bale_image_remove (bale_store *s, const char *what, bale_error_t *err);
/* Import a docker-archive, an OCI archive or an OCI layout directory (`bale load`). The names
   recorded (normalised) are stored in *names, a NULL-terminated array the caller frees with
   bale_strv_free (names may be NULL). */
int bale_image_load (bale_store *s, const char *path, char ***names, bale_error_t *err);
/* Write the images what[0..n) as one docker-archive that `docker load` accepts (`bale save`). */
int bale_image_save (bale_store *s, const char *const *what, size_t n, const char *path,
                     bale_error_t *err);
/* The same, for names of image indexes (a multi-platform build): a docker-archive holds one
   image per name, so the index's image for platform ("linux/arm64"; NULL: the host's) is
   written, as `docker save --platform` does. *saved (may be NULL) receives n strings, freed
   with bale_strv_free: the platform of the image written for what[i] when it names an index,
   else "". */
int bale_image_save_platform (bale_store *s, const char *const *what, size_t n, const char *path,
                              const char *platform, char ***saved, bale_error_t *err);
/* Pull ref from its registry (platform NULL: the host's, else e.g. "linux/arm64"), with the
   credentials of ~/.docker/config.json; *digest (may be NULL) receives what ref now names. */
int bale_image_pull (bale_store *s, const char *ref, const char *platform, char **digest,
                     bale_error_t *err);
/* Push the image `what` names to dest (NULL: what itself, which must be a reference). */
int bale_image_push (bale_store *s, const char *what, const char *dest, char **digest,
                     bale_error_t *err);
/* Free a NULL-terminated array of strings (NULL is accepted). */
void bale_strv_free (char **v);

/* ---- building ---------------------------------------------------------------------------- */

/*
 * Progress: the events of `bale build --progress=rawjson` (docs/progress.md), BuildKit's
 * SolveStatus model. A build is a set of vertices, each started, then completed, cached or
 * failed, with sub-statuses (byte counts) and log lines on the way.
 */
enum bale_progress_kind
{
  BALE_PROGRESS_START = 1, /* the vertex started (name set) */
  BALE_PROGRESS_STATUS,    /* a sub-status of a running vertex (id, current, total, completed) */
  BALE_PROGRESS_LOG,       /* output of the vertex: data/len, one line without its newline */
  BALE_PROGRESS_DONE,      /* the vertex completed (started = when it started) */
  BALE_PROGRESS_CACHED,    /* the vertex completed from the build cache */
  BALE_PROGRESS_ERROR,     /* the vertex failed: error */
  BALE_PROGRESS_WARNING,   /* a warning about the vertex: data/len */
  BALE_PROGRESS_MISS,      /* the vertex missed the build cache: data/len says why (inputs
                              that differ from the last build of the step), one line */
  BALE_PROGRESS_MESSAGE,   /* a line for the user outside any vertex (vertex NULL), data/len
                              without its newline: a warning, a diagnostic of the Dockerfile
                              (formatted as bale_error_format does), a registry's or a cache
                              import's or export's message, as `bale build` prints them */
};

/* One event. Every string is borrowed for the duration of the callback only. Times are
   nanoseconds since 1970 (CLOCK_REALTIME). */
struct bale_progress_event
{
  enum bale_progress_kind kind;
  const char *vertex; /* "sha256:<hex>", the vertex's identity across its events */
  const char *name;   /* START, DONE, CACHED, ERROR: e.g. "[build 2/5] RUN make" */
  int64_t time;       /* when the event happened */
  int64_t started;    /* DONE, CACHED, ERROR: when the vertex started */
  /* STATUS */
  const char *id;     /* e.g. "transferring context:", "exporting layers"; a transfer's
                         blob digest "sha256:<hex>" (docs/progress.md) */
  int64_t current;    /* bytes (or items) done, 0 if not counted */
  int64_t total;      /* bytes expected, 0 if unknown */
  bool completed;     /* the status is finished */
  /* LOG, WARNING, MISS */
  int stream;         /* LOG: 1 stdout, 2 stderr */
  const char *data;
  size_t len;
  const char *error;  /* ERROR: the message */
};

/* Where events go: fn is called in the thread that called bale_build, one event at a time. */
struct bale_progress
{
  void (*fn) (void *ctx, const struct bale_progress_event *ev);
  void *ctx;
};

/* A cancellation token: bale_cancel_trigger() may be called from any thread (or a signal
   handler: it only writes to a pipe), before or during bale_build. A cancelled build stops
   its steps (they receive SIGTERM), keeps nothing and fails with ECANCELED. */
typedef struct bale_cancel bale_cancel;
int bale_cancel_new (bale_cancel **out, bale_error_t *err);
void bale_cancel_trigger (bale_cancel *c);
/* After the build that used it has returned. */
void bale_cancel_free (bale_cancel *c);

/* `bale build --secret id=ID,src=PATH` (path) or `id=ID,env=VAR` (value). */
struct bale_secret
{
  const char *id;
  const char *path;  /* a file, or NULL */
  const char *value; /* the secret itself, when path is NULL */
};

/*
 * What to build. Set struct_size to sizeof (struct bale_build_options) (BALE_BUILD_OPTIONS_INIT
 * does) and every other field to zero unless you want it: later versions append fields. Every
 * pointer is borrowed for the duration of bale_build. An option this version of the library
 * cannot honour fails the build with an error that names it; none is ignored.
 */
struct bale_build_options
{
  size_t struct_size;
  const char *context;    /* the build context directory (required) */
  const char *dockerfile; /* NULL: <context>/Dockerfile */
  const char *const *tags; /* names given to the image; none: kept under its digest */
  size_t n_tags;
  const char *const *build_args; /* "KEY=VALUE" */
  size_t n_build_args;
  const char *target; /* the stage to build; NULL: the last */
  /* Target platforms; none: the host's. This version builds for one platform, the host's
     (multi-platform builds are the CLI's, through binfmt): anything else is an error. */
  const char *const *platforms;
  size_t n_platforms;
  const struct bale_secret *secrets;
  size_t n_secrets;
  /* Build cache import and export (--cache-from, --cache-to): not supported by this version
     of the library (an error); the store's own build cache is always used. */
  const char *const *cache_from;
  size_t n_cache_from;
  const char *const *cache_to;
  size_t n_cache_to;
  /* Outputs besides the store (--output): not supported by this version (an error); use
     bale_image_save or bale_image_push on the result. */
  const char *const *outputs;
  size_t n_outputs;
  /* RUN steps: NULL or "default" (confined as runc's default spec confines a container);
     anything else is an error. */
  const char *isolation;
  const char *network; /* RUN's network: NULL or "default" (the host's), "none" or "host" */
  bool no_cache;       /* run every step again */
  bool pull;           /* pull base images the store lacks (else their absence is an error) */
  struct bale_progress progress; /* fn NULL: no events */
  bale_cancel *cancel;           /* NULL: the build cannot be cancelled */

  /* ---- every option of `bale build` (libbale 0.2); see also the section below -------- */
  /*
   * Any option of `bale build` as its command line spells it: option_names[i] is the long
   * name without its dashes ("output", "cache-to", "build-context", "secret", "ssh", "label",
   * "annotation", "no-cache-filter", "allow", "add-host", "ulimit", "shm-size", "compression",
   * "source-date-epoch", "push", "explain-cache", "check", "insecure-registry", "tls-ca",
   * "quiet", ...) and option_values[i] its value, NULL for a flag. The library parses them as
   * the command does (docs/cli.md), in order, after the fields above; an unknown name fails.
   */
  const char *const *option_names;
  const char *const *option_values;
  size_t n_options;
  const char *const *named_contexts; /* --build-context NAME=DIR|docker-image://REF|oci-layout://DIR */
  size_t n_named_contexts;
  const char *const *labels;         /* --label K=V */
  size_t n_labels;
  const char *const *annotations;    /* --annotation [manifest:]K=V */
  size_t n_annotations;
  const char *const *ssh;            /* --ssh ID[=SOCKET] */
  size_t n_ssh;
  const char *const *no_cache_filter; /* --no-cache-filter STAGE */
  size_t n_no_cache_filter;
  const char *source_date_epoch;     /* wins over the build arg and $SOURCE_DATE_EPOCH */
  const char *compression;           /* image outputs and pushes: gzip (NULL), gzip-single, zstd, none */
  bool push;                         /* push every tag to its registry */
  bool explain_cache;                /* MISS events: why each step that ran missed the cache */
  /* NULL, or receives the rest of the result (the caller releases it with
     bale_build_details_release). */
  struct bale_build_details *details;
};
#define BALE_BUILD_OPTIONS_INIT { .struct_size = sizeof (struct bale_build_options) }

/* What a build made: both digests "sha256:<hex>". */
struct bale_build_result
{
  char id[72];     /* the image ID (config digest), what `bale build` prints */
  char digest[72]; /* the manifest digest, the Digest of `bale images --format json` */
};

/* Build an image into the store (see the process-wide effects at the top). Errors carry
   Dockerfile locations (bale_error_format shows them as `Dockerfile:3:1: ...`). Several
   platforms make one OCI image index: res->id and res->digest are then both its digest. With
   the option "check" nothing is built (res is zeroed; details->lint_warnings). */
int bale_build (bale_store *s, const struct bale_build_options *o, struct bale_build_result *res,
                bale_error_t *err);

/* An event as one line of --progress=rawjson (BuildKit's SolveStatus JSON, newline included),
   for a renderer in another process or a log. The caller frees it. */
char *bale_progress_event_json (const struct bale_progress_event *ev);
/* Decode the complete lines of buf[0..len) (such lines), passing each event to p->fn; a line
   that is not one is skipped. Returns how many bytes were consumed (up to the last newline). */
size_t bale_progress_feed (const char *buf, size_t len, const struct bale_progress *p);

/* ---- building: the rest of a build's result ---------------------------------------------- */

/* What --metadata-file, --iidfile and -q --push need. Set struct_size to sizeof (struct
   bale_build_details) (BALE_BUILD_DETAILS_INIT); later versions append fields. */
struct bale_build_details
{
  size_t struct_size;
  char config[72];    /* the config digest; "" for an index (one per platform) */
  char pushed[72];    /* the manifest (or index) digest the last push sent; "" when none */
  bool index;         /* several platforms: an image index */
  char **names;       /* the tags, normalised ("docker.io/library/x:latest"), NULL-terminated */
  char *metadata;     /* buildx's --metadata-file JSON (containerimage.digest, ...) */
  int lint_warnings;  /* "check": how many build checks warned */
  char **written;     /* the files and directories the outputs wrote (not "-"), NULL-terminated */
  bool to_stdout;     /* an output went to the standard output */
};
#define BALE_BUILD_DETAILS_INIT { .struct_size = sizeof (struct bale_build_details) }
/* Free what bale_build put in d (not d itself); d is then zeroed but for struct_size. */
void bale_build_details_release (struct bale_build_details *d);
/* ---- plans and build checks -------------------------------------------------------------- */

/*
 * What to plan. Set struct_size to sizeof (struct bale_plan_options) (BALE_PLAN_OPTIONS_INIT
 * does) and every other field to zero unless you want it: later versions append fields. Every
 * pointer is borrowed for the duration of the call.
 */
struct bale_plan_options
{
  size_t struct_size;
  const char *context;    /* the build context directory: its .dockerignore feeds the
                             CopyIgnoredFile check; NULL: none */
  const char *dockerfile; /* NULL: <context>/Dockerfile ("./Dockerfile" without a context);
                             "-" reads standard input */
  const char *const *build_args; /* "KEY=VALUE"; BUILDKIT_DOCKERFILE_CHECK=... replaces the
                                    Dockerfile's `# check=` directive */
  size_t n_build_args;
  const char *target;   /* the stage to plan; NULL: the last */
  const char *platform; /* the target platform, e.g. "linux/arm64"; NULL: the host's */
  /* Base images' configs come from this store (never pulled); an image it lacks, or every
     image when store is NULL, is planned as an empty config with a warning. */
  bale_store *store;
  bool check;          /* run BuildKit's build checks on every stage (target NULL) or on
                          those the target needs: `bale lint`, `docker build --check` */
  bool allow_insecure; /* the security.insecure entitlement: RUN --security=insecure is
                          allowed; without it such a RUN is an error at its line */
  /* The RUN options of a build, checked as bale_build checks them (a bad one is an error);
     a plan does not depend on them. NULL/0: not given. */
  const char *network;               /* default, none or host */
  const char *const *add_hosts;      /* "NAME:IP" */
  size_t n_add_hosts;
  const char *const *ulimits;        /* "nofile=1024:2048" */
  size_t n_ulimits;
  const char *shm_size;              /* "64m" */
};
#define BALE_PLAN_OPTIONS_INIT { .struct_size = sizeof (struct bale_plan_options) }

/* A compiled Dockerfile: stages, steps with their arguments expanded, and the config each
   step leaves. Nothing was run. */
typedef struct bale_plan bale_plan;

/* Parse, check and compile the Dockerfile. Errors carry Dockerfile locations. With
   `# check=error=true` and a failed check, fails with the checks' warnings then "lint
   violation found for rules: ..." in *err. */
int bale_plan_new (const struct bale_plan_options *o, bale_plan **out, bale_error_t *err);
void bale_plan_free (bale_plan *p);
/* The warnings of parsing and planning, in order (build checks among them when o->check or
   the Dockerfile asked for them), each located, severity BALE_SEVERITY_WARNING. Borrowed
   from p. */
const struct bale_error_s *bale_plan_warnings (const bale_plan *p);
/* How many of those warnings are build checks (bale_check_rule is not NULL for them). */
int bale_plan_check_count (const bale_plan *p);
/* The plan as `bale plan` prints it (text), or as JSON text (`bale plan --format json`,
   indented by 2). all: also the stages the target does not need. The caller frees. */
char *bale_plan_to_text (const bale_plan *p, bool all);
char *bale_plan_to_json (const bale_plan *p, bool all);

/* The build checks (BuildKit's `docker build --check`) of the Dockerfile o names, every stage
   unless o->target is set: the warnings, located, are moved to *warnings (the caller releases
   them with bale_error_release); returns how many were build checks, or -1 with *err (syntax
   errors, or a failed check when the Dockerfile says `# check=error=true`). */
int bale_lint (const struct bale_plan_options *o, bale_error_t *warnings, bale_error_t *err);
/* The rule a build-check warning reports ("StageNameCasing"), or NULL when w is none. The
   message of such a warning is BuildKit's short form, "Rule: description". Static string. */
const char *bale_check_rule (const struct bale_error_s *w);

/* ---- explaining an image ----------------------------------------------------------------- */

/* What `docker run` of an image would be given. Set struct_size as for bale_plan_options
   (BALE_EXPLAIN_OPTIONS_INIT); pointers are borrowed for the duration of the call. */
struct bale_explain_options
{
  size_t struct_size;
  const char *image;    /* in the store: a name, digest or ID prefix; with layout: the image's
                           org.opencontainers.image.ref.name, or NULL for its only image */
  const char *layout;   /* an OCI image layout directory to read instead of the store */
  const char *platform; /* the image of a multi-platform index; NULL: the host's */
  const char *entrypoint; /* `docker run --entrypoint`: NULL when not given, "" clears it */
  const char *const *args; /* the arguments of `docker run IMAGE ARGS` */
  size_t n_args;
  const char *user;    /* `--user`, or NULL */
  const char *workdir; /* `--workdir`, or NULL */
  const char *const *env; /* `--env` "K=V" entries, over the image's Env */
  size_t n_env;
};
#define BALE_EXPLAIN_OPTIONS_INIT { .struct_size = sizeof (struct bale_explain_options) }

/* What `docker run` of the image executes (entrypoint, command, user, workdir, with where
   each came from: the build record the store keeps when bale built it), whether it can start
   (the start checks, run on the image's filesystem mounted read-only in a forked child
   process: they need root, and their outcome is "unknown" without a store s), and the
   traps. *json receives it as JSON text (docs/explain.md), *text as `bale explain` prints
   it; either may be NULL; the caller frees them. s may be NULL only with o->layout. */
int bale_explain (bale_store *s, const struct bale_explain_options *o, char **json, char **text,
                  bale_error_t *err);

/* ---- running a command in an image ------------------------------------------------------- */

/* `docker run --rm IMAGE ARGS`. BALE_RUN_OPTIONS_INIT sets struct_size and stdio to 0, 1, 2;
   pointers are borrowed for the duration of the call. */
struct bale_run_options
{
  size_t struct_size;
  const char *image;      /* a name, digest or ID prefix in the store */
  const char *platform;   /* the image of an index (a foreign one runs under its binfmt_misc
                             emulator); NULL: the host's */
  const char *entrypoint; /* replaces the image's ENTRYPOINT (and drops its CMD); NULL: not given */
  const char *const *args; /* replace the image's CMD */
  size_t n_args;
  const char *const *env; /* "K=V", over the image's Env */
  size_t n_env;
  const char *user;    /* name or uid[:gid]; NULL: the image's */
  const char *workdir; /* NULL: the image's */
  const char *network; /* NULL, "host" or "default": the host's; "none": only loopback */
  int stdio[3];        /* the command's standard input, output and error (-1 for stdin:
                          /dev/null) */
};
#define BALE_RUN_OPTIONS_INIT { .struct_size = sizeof (struct bale_run_options), .stdio = { 0, 1, 2 } }

/* Run the command `docker run` of the image would run, confined as a RUN step, in a
   throw-away overlay of the image (nothing of it is kept). The whole run happens in a forked
   child process, reaped by its pid: the caller's mount namespace, signal dispositions and mask
   are untouched; SIGINT, SIGTERM and SIGHUP sent to the child (e.g. the terminal's process
   group) stop the command. Needs root (see docs/library.md). *status receives docker run's
   exit status: the command's, or 128 + the signal that ended it; on failure (-1) 126 when the
   command cannot be executed, 127 when it is not found, else 125. */
int bale_run (bale_store *s, const struct bale_run_options *o, int *status, bale_error_t *err);

#ifdef __cplusplus
}
#endif

/* Images in detail, registries, pruning, cache explanations, binfmt. */
#include "bale/image.h"

#endif
