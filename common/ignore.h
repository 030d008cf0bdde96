/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The .dockerignore matcher: moby/patternmatcher and its ignorefile reader, ported to C. */
#ifndef BALE_IGNORE_H
#define BALE_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/*
 * A compiled list of ignore patterns. It is immutable once built, so one matcher may be
 * shared by several walks.
 *
 * Semantics are those of BuildKit's main build context (docs/semantics.md D10):
 *
 *  - The file is read as ignorefile.ReadAll does: a UTF-8 BOM on the first line is dropped,
 *    lines whose first byte is '#' are comments, every other line is trimmed of Unicode
 *    white space, blank lines are skipped, a leading '!' marks an exception (the rest is
 *    trimmed again), and the pattern is cleaned like Go's filepath.Clean with one leading
 *    '/' removed: "/foo/" is "foo" and "./a/../b" is "b".
 *
 *  - Each pattern is then compiled as patternmatcher.New does: Go filepath.Match syntax
 *    ('*', '?', '[...]', '\\' escapes) plus '**', which spans any number of path segments,
 *    none included. A pattern is turned into the same regular expression upstream builds
 *    and run by a small built-in engine that follows Go's regexp semantics, so the quirks
 *    carry over: '^' is not escaped (it anchors), "[!a]" is the set {'!', 'a'}, not a
 *    negation, and a class like "[^a]" matches '/' too.
 *
 *  - Patterns apply in order and the last one that matches wins; an exception un-ignores.
 *    A pattern that matches a parent directory matches everything below it.
 */
struct ignore_matcher;

/*
 * Build a matcher from the text of an ignore file (len bytes, NUL bytes not allowed).
 * Errors carry the line and are reported against the name ".dockerignore": a lone '!'
 * is "illegal exclusion pattern '!'", a pattern that Go's filepath.Match would reject is
 * a syntax error. On success *out receives a matcher the caller frees.
 */
int ignore_matcher_parse (const char *text, size_t len, struct ignore_matcher **out,
                          bale_error_t *err);

/*
 * Build a matcher from a list of patterns as patternmatcher.New takes them (COPY --exclude):
 * each is trimmed and cleaned, a leading '!' makes an exception; unlike an ignore file there
 * are no comments and a leading '/' stays (so "/a" matches nothing). Errors as above, without
 * a location.
 */
int ignore_matcher_from_list (char *const *patterns, size_t n, struct ignore_matcher **out,
                              bale_error_t *err);

/*
 * Load the ignore file of a build: "<dockerfile_path>.dockerignore", the file beside the
 * Dockerfile named after it, takes precedence over "<context_dir>/.dockerignore".
 * dockerfile_path may be NULL or "-" (standard input), in which case only the context's
 * file is tried. When neither file exists *out is an empty matcher that ignores nothing.
 * The Dockerfile and the ignore file stay readable by the build even when a pattern
 * matches them: the caller reads them directly, not through the context walk.
 */
int ignore_matcher_load (const char *context_dir, const char *dockerfile_path,
                         struct ignore_matcher **out, bale_error_t *err);

/*
 * Whether relpath is ignored: patternmatcher's MatchesOrParentMatches. relpath is relative
 * to the context root, slash-separated and clean ("a/b", not "./a/b" or "a//b"), as
 * context_walk reports it. A NULL matcher ignores nothing.
 */
bool ignore_matches (const struct ignore_matcher *m, const char *relpath);

/* How many times a pattern's regexp has run in this process (the literal start of a pattern
   keeps most paths from it), for tests. */
size_t ignore_regexp_runs (void);

/* Whether any pattern is an exception ('!'), like patternmatcher's Exclusions(). */
bool ignore_has_exceptions (const struct ignore_matcher *m);

/* Whether a pattern excludes every entry of the root (star, double star, or double star then
   slash and star), as BuildKit's copySourceRootIgnored asks before it warns of `COPY . ...`. */
bool ignore_ignores_root (const struct ignore_matcher *m);

/* What a walk does with a directory; see ignore_check_dir. */
enum ignore_dir
{
  IGNORE_DIR_KEEP,   /* not excluded: report it and walk it */
  IGNORE_DIR_SKIP,   /* excluded, and nothing below can be re-included: do not open it */
  IGNORE_DIR_ENTER,  /* excluded, but an exception names a path below: report it, walk it */
  IGNORE_DIR_SEARCH, /* excluded, but a wildcard exception might re-include something below:
                        walk it, and report it only before a kept entry inside */
};

/*
 * Decide for the directory dir ("a/b") as BuildKit's fsutil walker does. With no
 * exceptions an excluded directory is skipped. When every exception is a plain path (none
 * of "*?[]^\\"), it is entered only if an exception lies inside it ("dir/..."). Any
 * wildcard exception forces the walk into every excluded directory.
 */
enum ignore_dir ignore_check_dir (const struct ignore_matcher *m, const char *dir);

/* The file the matcher was loaded from, or NULL (parsed from memory, or no file found). */
const char *ignore_matcher_source (const struct ignore_matcher *m);

/*
 * One line per pattern, for tests and debugging: its form ("exact", "prefix", "suffix" or
 * "regexp") and its cleaned text, or for the regexp form the expression patternmatcher
 * builds, such as "regexp ^a[^/]*$". Exceptions start with '!'. The caller frees it.
 */
char *ignore_matcher_describe (const struct ignore_matcher *m);

/* Free the matcher. Accepts NULL. */
void ignore_matcher_free (struct ignore_matcher *m);

static inline void
cleanup_ignore_matcher_fn (struct ignore_matcher **m)
{
  ignore_matcher_free (*m);
}
#define cleanup_ignore_matcher __attribute__ ((cleanup (cleanup_ignore_matcher_fn)))

#endif
