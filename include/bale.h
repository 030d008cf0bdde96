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
 *    child runs only the calling thread (fork(2)): what other threads held is not used.
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
};
#define BALE_BUILD_OPTIONS_INIT { .struct_size = sizeof (struct bale_build_options) }

/* What a build made: both digests "sha256:<hex>". */
struct bale_build_result
{
  char id[72];     /* the image ID (config digest), what `bale build` prints */
  char digest[72]; /* the manifest digest, the Digest of `bale images --format json` */
};

/* Build an image into the store (see the process-wide effects at the top). Errors carry
   Dockerfile locations (bale_error_format shows them as `Dockerfile:3:1: ...`). */
int bale_build (bale_store *s, const struct bale_build_options *o, struct bale_build_result *res,
                bale_error_t *err);

#ifdef __cplusplus
}
#endif

/* Images in detail, registries, pruning, cache explanations, binfmt. */
#include "bale/image.h"

#endif
