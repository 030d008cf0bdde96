/* SPDX-License-Identifier: GPL-2.0-or-later */
/* .dockerignore patterns: moby's ignorefile.ReadAll, patternmatcher.New and its matching. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/utf8.h"
#include "common/xalloc.h"
#include "common/ignore.h"
#include "common/ignore_re.h"
#include "common/banned.h"

/* bufio.Scanner's 64 KiB buffer must hold a line and its newline, or ReadAll fails. */
#define MAX_LINE 65535

/*
 * patternmatcher compiles each pattern lazily into one of four forms. Only the regexp form
 * needs an engine: the regular expression is built exactly as upstream builds it, then
 * compiled here into a tiny program for the subset of Go's RE2 syntax such strings can hold.
 */
enum match_type
{
  MATCH_EXACT,
  MATCH_PREFIX,
  MATCH_SUFFIX,
  MATCH_REGEXP,
};

struct pattern
{
  char *text; /* the cleaned pattern, without its '!' */
  size_t len;
  bool exclusion;
  enum match_type type;
  char *regexp;
  struct re_prog *prog;
  size_t lit; /* MATCH_REGEXP: the length of the text's literal start, which a match begins with */
};

struct ignore_matcher
{
  struct pattern *pat;
  size_t n, alloc;
  bool exclusions;
  bool wild_exceptions; /* an exception holds a wildcard, so no excluded dir can be skipped */
  char *source;
};

/* ---- Go string helpers ------------------------------------------------------------------ */

/* utf8.DecodeLastRune, for trimming from the end. */
static size_t
rune_before (const char *s, size_t len, uint32_t *r)
{
  size_t start = len - 1, lim = len >= 4 ? len - 4 : 0;

  while (start > lim && ((unsigned char) s[start] & 0xc0) == 0x80)
    start--;
  if (utf8_decode ((const unsigned char *) s + start, len - start, r) != len - start)
    {
      *r = RUNE_ERROR;
      return 1;
    }
  return len - start;
}

/* strings.TrimSpace: Unicode white space on both ends. */
static void
trim_space (const char **s, size_t *len)
{
  uint32_t r;
  size_t w;

  while (*len > 0 && (w = ignore_re_rune_at (*s, *len, &r)) && utf8_is_space (r))
    {
      *s += w;
      *len -= w;
    }
  while (*len > 0 && (w = rune_before (*s, *len, &r)) && utf8_is_space (r))
    *len -= w;
}

/* Handle a ".." element of filepath.Clean: drop the last element, or keep the ".." when
   a relative path has nothing left to drop. */
static void
clean_dotdot (struct strbuf *out, size_t *dotdot, bool rooted)
{
  size_t w = out->len;

  if (w > *dotdot)
    {
      w--;
      while (w > *dotdot && out->buf[w] != '/')
        w--;
      strbuf_setlen (out, w);
    }
  else if (!rooted)
    {
      if (out->len > 0)
        strbuf_addch (out, '/');
      strbuf_addstr (out, "..");
      *dotdot = out->len;
    }
}

/* Go's filepath.Clean on Unix. The caller frees the result. */
static char *
go_clean (const char *path, size_t n)
{
  struct strbuf out = STRBUF_INIT;
  bool rooted = n > 0 && path[0] == '/';
  size_t r = 0, dotdot = 0;

  if (rooted)
    {
      strbuf_addch (&out, '/');
      r = dotdot = 1;
    }
  while (r < n)
    {
      if (path[r] == '/')
        r++;
      else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/'))
        r++;
      else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/'))
        {
          r += 2;
          clean_dotdot (&out, &dotdot, rooted);
        }
      else
        {
          if (out.len != (rooted ? 1u : 0u))
            strbuf_addch (&out, '/');
          for (; r < n && path[r] != '/'; r++)
            strbuf_addch (&out, path[r]);
        }
    }
  if (out.len == 0)
    strbuf_addch (&out, '.');
  return strbuf_detach (&out, NULL);
}

/* Go's filepath.Dir: everything before the last slash, cleaned. */
static char *
go_dir (const char *path)
{
  const char *slash = strrchr (path, '/');

  return go_clean (path, slash ? (size_t) (slash - path) + 1 : 0);
}

/* ---- filepath.Match syntax -------------------------------------------------------------- */

/* Go's getEsc: one character of a class, maybe escaped, that must not end the pattern. */
static bool
glob_class_char (const char **pp, const char *end)
{
  const char *p = *pp;
  uint32_t r;
  size_t w;

  if (p == end || *p == '-' || *p == ']')
    return false;
  if (*p == '\\' && ++p == end)
    return false;
  w = utf8_decode ((const unsigned char *) p, end - p, &r);
  if (w == 0 || p + w == end)
    return false;
  *pp = p + w;
  return true;
}

static bool
glob_class (const char **pp, const char *end)
{
  const char *p = *pp + 1;
  int nrange = 0;

  if (p < end && *p == '^')
    p++;
  while (p == end || *p != ']' || nrange == 0)
    {
      if (!glob_class_char (&p, end))
        return false;
      if (*p == '-')
        {
          p++;
          if (!glob_class_char (&p, end))
            return false;
        }
      nrange++;
    }
  *pp = p + 1;
  return true;
}

/*
 * Whether Go's filepath.Match(pattern, ".") would report ErrBadPattern: patternmatcher.New
 * runs it for the syntax check alone. Go checks chunk by chunk (the text between stars),
 * but a '*' never ends a chunk inside a class, so one pass over the whole pattern that
 * skips stars finds the same errors: a class that is empty, unterminated, or has a bare
 * '-' or ']' where a character belongs, and a trailing backslash.
 */
static bool
glob_syntax_ok (const char *p)
{
  const char *end = p + strlen (p);

  while (p < end)
    {
      if (*p == '\\')
        {
          if (++p == end)
            return false;
          p++;
        }
      else if (*p == '[')
        {
          if (!glob_class (&p, end))
            return false;
        }
      else
        p++;
    }
  return true;
}

/* ---- the pattern as upstream's regular expression --------------------------------------- */

static void
add_rune (struct strbuf *sb, uint32_t r)
{
  char buf[4];

  strbuf_add (sb, buf, utf8_encode (r, buf));
}

/* "**": the start of a pattern makes a suffix match, its end a prefix match. */
static enum match_type
double_star (const char **pp, const char *end, struct strbuf *re, enum match_type type, int i)
{
  const char *p = *pp + 1;

  if (p < end && *p == '/')
    p++;
  if (p < end)
    {
      strbuf_addstr (re, "(.*/)?");
      type = MATCH_REGEXP;
    }
  else if (type == MATCH_EXACT)
    type = MATCH_PREFIX;
  else
    {
      strbuf_addstr (re, ".*");
      type = MATCH_REGEXP;
    }
  *pp = p;
  return i == 0 ? MATCH_SUFFIX : type;
}

/*
 * Pattern.compile, character for character. text/scanner drops a leading BOM and reads
 * invalid UTF-8 as U+FFFD. Upstream means to escape the regexp metacharacters ".+()|{}$",
 * but its shouldEscape bitmap is [8]byte indexed by b%8 with bit b/8, and the bit is lost
 * for bytes of 64 and above, so '|', '{' and '}' reach the regexp unescaped and act as
 * alternation and repetition. '^' is not in the set at all. We keep both bugs.
 */
static enum match_type
to_regexp (const char *p, struct strbuf *re)
{
  const char *end = p + strlen (p);
  enum match_type type = MATCH_EXACT;
  uint32_t r;
  int i;

  strbuf_addch (re, '^');
  if (strncmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3;
  for (i = 0; p < end; i++)
    {
      p += ignore_re_rune_at (p, end - p, &r);
      if (r == '*' && p < end && *p == '*')
        type = double_star (&p, end, re, type, i);
      else if (r == '*' || r == '?')
        {
          strbuf_addstr (re, r == '*' ? "[^/]*" : "[^/]");
          type = MATCH_REGEXP;
        }
      else if (r != 0 && r < 0x80 && strchr (".+()$", (int) r))
        {
          strbuf_addch (re, '\\');
          strbuf_addch (re, (char) r);
        }
      else if (r == '\\' && p < end)
        {
          strbuf_addch (re, '\\');
          p += ignore_re_rune_at (p, end - p, &r);
          add_rune (re, r);
          type = MATCH_REGEXP;
        }
      else
        {
          add_rune (re, r);
          if (r == '[' || r == ']')
            type = MATCH_REGEXP;
        }
    }
  if (type == MATCH_REGEXP)
    strbuf_addch (re, '$');
  return type;
}

/* ---- patterns --------------------------------------------------------------------------- */

static size_t regexp_runs; /* ignore_regexp_runs; walks match on threads */

size_t
ignore_regexp_runs (void)
{
  return __atomic_load_n (&regexp_runs, __ATOMIC_RELAXED);
}

/* Pattern.match on the first len bytes of s. */
static bool
pattern_match (const struct pattern *pat, const char *s, size_t len)
{
  const char *suffix = pat->text + 2;
  size_t slen = pat->len - 2;

  switch (pat->type)
    {
    case MATCH_EXACT:
      return len == pat->len && memcmp (s, pat->text, len) == 0;
    case MATCH_PREFIX:
      return len >= slen && memcmp (s, pat->text, slen) == 0;
    case MATCH_SUFFIX:
      if (len >= slen && memcmp (s + len - slen, suffix, slen) == 0)
        return true;
      /* a pattern "** / foo" (no spaces) matches "foo" itself */
      return slen > 0 && suffix[0] == '/' && len == slen - 1 && memcmp (s, suffix + 1, len) == 0;
    default:
      /* Most paths differ from a pattern in its first bytes: the regexp is for the others
         (a context of 10,000 files and 10,000 patterns took 144 s). */
      if (len < pat->lit || memcmp (s, pat->text, pat->lit) != 0)
        return false;
      __atomic_fetch_add (&regexp_runs, 1, __ATOMIC_RELAXED);
      return ignore_re_match (pat->prog, s, len);
    }
}

/* The pattern matches the path or one of the parents in `parent` (filepath.Dir of it),
   tried from the top down, as MatchesOrParentMatches does. That is what makes "foo"
   exclude "foo/bar/baz", and "!foo/keep" re-include "foo/keep/x". */
static bool
matches_or_parent (const struct pattern *pat, const char *path, const char *parent)
{
  size_t k;

  if (pattern_match (pat, path, strlen (path)))
    return true;
  if (strcmp (parent, ".") == 0)
    return false;
  for (k = 0;; k++)
    if (parent[k] == '/' || parent[k] == '\0')
      {
        if (pattern_match (pat, parent, k))
          return true;
        if (parent[k] == '\0')
          return false;
      }
}

static void
pattern_release (struct pattern *pat)
{
  free (pat->text);
  free (pat->regexp);
  ignore_re_free (pat->prog);
}

/* How many bytes at the start of text every path the pattern's regexp matches begins with:
   ASCII up to the first glob or regexp character. A '{' repeats the byte before it, and a '|'
   anywhere makes the regexp an alternation (to_regexp passes both on, as upstream does), so
   neither leaves a literal start. */
static size_t
literal_start (const char *text)
{
  size_t n;

  if (strchr (text, '|'))
    return 0;
  n = strcspn (text, "*?[]\\{}^");
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) text[i] >= 0x80)
      return i;
  return text[n] == '{' && n > 0 ? n - 1 : n;
}

/* Compile what patternmatcher compiles lazily, so a bad regexp is reported now. */
static int
pattern_compile (struct pattern *pat, const char *text, const char **why)
{
  struct strbuf re = STRBUF_INIT;

  pat->text = xstrdup (text);
  pat->len = strlen (text);
  pat->type = to_regexp (text, &re);
  if (pat->type != MATCH_REGEXP)
    {
      strbuf_release (&re);
      return 0;
    }
  pat->regexp = strbuf_detach (&re, NULL);
  pat->lit = literal_start (text);
  pat->prog = ignore_re_compile (pat->regexp, why);
  return pat->prog ? 0 : -1;
}

/* patternmatcher.New for one pattern. The text was already cleaned by ReadAll, but New
   trims and cleans it again with its '!' still on: "!/" becomes "!", which is then
   rejected like a lone '!'. */
static int
add_pattern (struct ignore_matcher *m, const char *text, const struct bale_loc *loc,
             bale_error_t *err)
{
  cleanup_free char *clean = NULL;
  struct pattern pat = { NULL, 0, false, MATCH_EXACT, NULL, NULL, 0 };
  const char *p = text, *why = NULL;
  size_t len = strlen (text);

  trim_space (&p, &len);
  if (len == 0)
    return 0;
  p = clean = go_clean (p, len);
  if (*p == '!')
    {
      if (p[1] == '\0')
        return bale_make_error_at (err, loc, "illegal exclusion pattern '!'");
      pat.exclusion = true;
      p++;
    }
  if (!glob_syntax_ok (p))
    return bale_make_error_at (err, loc, "syntax error in pattern '%s'", p);
  if (pattern_compile (&pat, p, &why) < 0)
    {
      pattern_release (&pat);
      return bale_make_error_at (err, loc, "syntax error in pattern '%s': %s", p, why);
    }
  if (pat.exclusion)
    m->exclusions = true;
  if (pat.exclusion && strpbrk (pat.text, "*[]?^\\"))
    m->wild_exceptions = true;
  XGROW (m->pat, m->alloc, m->n + 1);
  m->pat[m->n++] = pat;
  return 0;
}

/* ignorefile.ReadAll for one line, then New. A '#' only starts a comment in column 0, and
   a lone '!' is kept here so that New reports it. */
static int
parse_line (struct ignore_matcher *m, const char *line, size_t len, const struct bale_loc *loc,
            bale_error_t *err)
{
  cleanup_free char *clean = NULL;
  struct strbuf sb = STRBUF_INIT;
  bool invert;
  int ret;

  if (len > 0 && line[0] == '#')
    return 0;
  trim_space (&line, &len);
  if (len == 0)
    return 0;
  invert = line[0] == '!';
  if (invert)
    {
      strbuf_addch (&sb, '!');
      line++, len--;
      trim_space (&line, &len);
    }
  if (len > 0)
    {
      clean = go_clean (line, len);
      strbuf_addstr (&sb, clean + (clean[0] == '/' && clean[1] != '\0'));
    }
  ret = add_pattern (m, sb.buf, loc, err);
  strbuf_release (&sb);
  return ret;
}

static int
parse_text (struct ignore_matcher *m, const char *text, size_t len, const char *name,
            bale_error_t *err)
{
  size_t start = 0, end, lineno = 0;
  const char *nl;
  int ret;

  for (; start < len; start = end + 1)
    {
      const char *line = text + start;
      int n = (int) ++lineno;
      struct bale_loc loc = { name, n, 1, n, 1, line, 0 };

      nl = memchr (line, '\n', len - start);
      end = nl ? (size_t) (nl - text) : len;
      loc.text_len = end - start;
      if (loc.text_len > MAX_LINE)
        return bale_make_error_at (err, &loc, "line is longer than %d bytes", MAX_LINE);
      if (memchr (line, '\0', loc.text_len))
        return bale_make_error_at (err, &loc, "line holds a NUL byte");
      if (loc.text_len > 0 && line[loc.text_len - 1] == '\r')
        loc.text_len--;
      if (lineno == 1 && loc.text_len >= 3 && memcmp (line, "\xef\xbb\xbf", 3) == 0)
        ret = parse_line (m, line + 3, loc.text_len - 3, &loc, err);
      else
        ret = parse_line (m, line, loc.text_len, &loc, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* ---- the public API --------------------------------------------------------------------- */

void
ignore_matcher_free (struct ignore_matcher *m)
{
  size_t i;

  if (m == NULL)
    return;
  for (i = 0; i < m->n; i++)
    pattern_release (&m->pat[i]);
  free (m->pat);
  free (m->source);
  free (m);
}

static int
parse_named (const char *text, size_t len, const char *name, struct ignore_matcher **out,
             bale_error_t *err)
{
  struct ignore_matcher *m = xzalloc (sizeof *m);

  if (parse_text (m, text, len, name, err) < 0)
    {
      ignore_matcher_free (m);
      return -1;
    }
  *out = m;
  return 0;
}

int
ignore_matcher_parse (const char *text, size_t len, struct ignore_matcher **out,
                      bale_error_t *err)
{
  return parse_named (text, len, ".dockerignore", out, err);
}

int
ignore_matcher_from_list (char *const *patterns, size_t n, struct ignore_matcher **out,
                          bale_error_t *err)
{
  struct ignore_matcher *m = xzalloc (sizeof *m);
  size_t i;

  for (i = 0; i < n; i++)
    {
      int r = strlen (patterns[i]) > MAX_LINE
                ? bale_make_error (err, 0, "pattern is longer than %d bytes", MAX_LINE)
                : add_pattern (m, patterns[i], NULL, err);
      if (r < 0)
        {
          ignore_matcher_free (m);
          return -1;
        }
    }
  *out = m;
  return 0;
}

/* Read a whole file. Returns 1 when it does not exist. */
static int
read_file (const char *path, struct strbuf *sb, bale_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 1;
  if (fd < 0)
    return bale_make_error (err, errno, "cannot open '%s'", path);
  return fileio_read_fd (fd, path, sb, err);
}

int
ignore_matcher_load (const char *context_dir, const char *dockerfile_path,
                     struct ignore_matcher **out, bale_error_t *err)
{
  cleanup_strbuf struct strbuf text = STRBUF_INIT;
  cleanup_free char *path = NULL;
  int ret = 1;

  if (dockerfile_path && strcmp (dockerfile_path, "-") != 0)
    {
      path = xasprintf ("%s.dockerignore", dockerfile_path);
      ret = read_file (path, &text, err);
    }
  if (ret > 0)
    {
      free (path);
      path = xasprintf ("%s/.dockerignore", context_dir);
      ret = read_file (path, &text, err);
    }
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      *out = xzalloc (sizeof **out);
      return 0;
    }
  if (parse_named (text.buf, text.len, path, out, err) < 0)
    return -1;
  (*out)->source = steal_pointer (&path);
  return 0;
}

bool
ignore_matches (const struct ignore_matcher *m, const char *relpath)
{
  cleanup_free char *parent = NULL;
  bool matched = false;
  size_t i;

  if (m == NULL || m->n == 0)
    return false;
  parent = go_dir (relpath);
  /* Every pattern is tried in order and the last one that matches decides, so
     "*.md" then "!README.md" keeps README.md. */
  for (i = 0; i < m->n; i++)
    {
      /* An inclusion cannot change a match, nor an exception a non-match. */
      if (m->pat[i].exclusion != matched)
        continue;
      if (matches_or_parent (&m->pat[i], relpath, parent))
        matched = !m->pat[i].exclusion;
    }
  return matched;
}

bool
ignore_has_exceptions (const struct ignore_matcher *m)
{
  return m != NULL && m->exclusions;
}

bool
ignore_ignores_root (const struct ignore_matcher *m)
{
  size_t i;

  for (i = 0; m != NULL && i < m->n; i++)
    if (!m->pat[i].exclusion
        && (strcmp (m->pat[i].text, "*") == 0 || strcmp (m->pat[i].text, "**") == 0
            || strcmp (m->pat[i].text, "**/*") == 0))
      return true;
  return false;
}

/* fsutil's test: pattern + "/" starts with dir + "/". */
static bool
names_path_below (const struct pattern *pat, const char *dir, size_t len)
{
  return pat->len >= len && memcmp (pat->text, dir, len) == 0
         && (pat->text[len] == '/' || pat->text[len] == '\0');
}

enum ignore_dir
ignore_check_dir (const struct ignore_matcher *m, const char *dir)
{
  size_t i, len = strlen (dir);

  if (!ignore_matches (m, dir))
    return IGNORE_DIR_KEEP;
  if (!m->exclusions)
    return IGNORE_DIR_SKIP;
  if (m->wild_exceptions)
    return IGNORE_DIR_SEARCH;
  for (i = 0; i < m->n; i++)
    if (m->pat[i].exclusion && names_path_below (&m->pat[i], dir, len))
      return IGNORE_DIR_ENTER;
  return IGNORE_DIR_SKIP;
}

const char *
ignore_matcher_source (const struct ignore_matcher *m)
{
  return m ? m->source : NULL;
}

char *
ignore_matcher_describe (const struct ignore_matcher *m)
{
  static const char *const names[] = { "exact", "prefix", "suffix", "regexp" };
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  for (i = 0; m && i < m->n; i++)
    {
      const struct pattern *pat = &m->pat[i];
      strbuf_addf (&sb, "%s%s %s\n", pat->exclusion ? "!" : "", names[pat->type],
                   pat->regexp ? pat->regexp : pat->text);
    }
  return strbuf_detach (&sb, NULL);
}
