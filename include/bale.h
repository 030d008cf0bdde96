/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libbale: the public API of the bale Dockerfile compiler.
 *
 * Ownership: `const` pointers are borrowed; a `T **out` parameter receives ownership on
 * success only. Functions that can fail take `bale_error_t *err` last, return a negative int
 * (or NULL) on failure and then leave at least one error in *err, which the caller releases
 * with bale_error_release(). On success *err is not touched.
 */
#ifndef BALE_H
#define BALE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

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

#ifdef __cplusplus
}
#endif

#endif
