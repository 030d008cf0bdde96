/* SPDX-License-Identifier: GPL-2.0-or-later */
/* COPY source resolution over real directory trees: literals, wildcards, ignore, escapes. */
#include <config.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runtime/build/copy_resolve.h"
#include "tests/testutil.h"

static char root[] = "/tmp/bale-copyres.XXXXXX";
static int root_fd = -1;

static void
mk (const char *rel, const char *content)
{
  assert_int_equal (test_mk (root, rel, content), 0);
}

static void
ln (const char *target, const char *rel)
{
  assert_int_equal (test_ln (root, target, rel), 0);
}

static int
setup (void **state)
{
  (void) state;
  assert_non_null (mkdtemp (root));
  mk ("a.txt", "a");
  mk ("b.txt", "b");
  mk ("c.md", "c");
  mk ("dir", NULL);
  mk ("dir/x", "x");
  mk ("dir/sub", NULL);
  mk ("dir/sub/y.txt", "y");
  mk ("dir2", NULL);
  mk ("dir2/z", "z");
  mk ("node_modules", NULL);
  mk ("node_modules/m", "m");
  ln ("a.txt", "link-in");
  ln ("/etc/passwd", "link-abs");
  ln ("../../etc", "link-up");
  root_fd = open (root, O_RDONLY | O_DIRECTORY);
  return root_fd < 0;
}

static int
teardown (void **state)
{
  char *cmd = xasprintf ("rm -rf %s", root);
  (void) state;
  close (root_fd);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  return 0;
}

/* Resolve src and render "rel(base,type) ..." or "error: msg". */
static char *
resolve (const char *src, enum copy_root_kind kind, const char *ignore_text)
{
  struct ignore_matcher *ign = NULL;
  struct copy_sources out = { 0 };
  bale_error_t err = NULL;
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  if (ignore_text)
    assert_int_equal (ignore_matcher_parse (ignore_text, strlen (ignore_text), &ign, &err), 0);
  if (copy_resolve (root_fd, kind, src, ign, &out, &err) < 0)
    strbuf_addf (&sb, "error: %s", err->msg);
  else
    for (i = 0; i < out.n; i++)
      strbuf_addf (&sb, "%s%s(%s,%s)", i ? " " : "", out.v[i].rel, out.v[i].base,
                   S_ISDIR (out.v[i].st.st_mode) ? "dir" : "file");
  bale_error_release (&err);
  copy_sources_release (&out);
  ignore_matcher_free (ign);
  return strbuf_detach (&sb, NULL);
}

#define EXPECT(src, kind, ign, want)                                                       \
  do                                                                                       \
    {                                                                                      \
      char *got_ = resolve (src, kind, ign);                                               \
      if (strcmp (got_, want) != 0)                                                        \
        test_fail ("%s: got <%s>, want <%s>", src, got_, want);                            \
      free (got_);                                                                         \
    }                                                                                      \
  while (0)

static void
test_literals (void **state)
{
  (void) state;
  EXPECT ("a.txt", COPY_ROOT_CONTEXT, NULL, "a.txt(a.txt,file)");
  EXPECT ("./dir/", COPY_ROOT_CONTEXT, NULL, "dir(dir,dir)");
  EXPECT ("/dir/sub/y.txt", COPY_ROOT_CONTEXT, NULL, "dir/sub/y.txt(y.txt,file)");
  EXPECT (".", COPY_ROOT_CONTEXT, NULL, "(,dir)");
  EXPECT ("dir/../b.txt", COPY_ROOT_CONTEXT, NULL, "b.txt(b.txt,file)");
  EXPECT ("missing", COPY_ROOT_CONTEXT, NULL, "error: \"missing\": not found in the build context");
  /* The top-level symlink is followed, and keeps its own name. */
  EXPECT ("link-in", COPY_ROOT_CONTEXT, NULL, "link-in(link-in,file)");
}

static void
test_escapes (void **state)
{
  (void) state;
  EXPECT ("../x", COPY_ROOT_CONTEXT, NULL, "error: \"../x\": the path leads outside the build context");
  EXPECT ("dir/../../x", COPY_ROOT_CONTEXT, NULL,
          "error: \"dir/../../x\": the path leads outside the build context");
  EXPECT ("link-abs", COPY_ROOT_CONTEXT, NULL,
          "error: \"link-abs\": symlink \"link-abs\" leads outside the build context");
  EXPECT ("link-up/passwd", COPY_ROOT_CONTEXT, NULL,
          "error: \"link-up/passwd\": symlink \"link-up/passwd\" leads outside the build context");
  /* In an image filesystem ".." stops at the root and absolute links stay inside. */
  EXPECT ("../a.txt", COPY_ROOT_IMAGE, NULL, "a.txt(a.txt,file)");
  EXPECT ("link-abs", COPY_ROOT_IMAGE, NULL, "error: \"link-abs\": not found in the source filesystem");
}

static void
test_wildcards (void **state)
{
  (void) state;
  EXPECT ("*.txt", COPY_ROOT_CONTEXT, NULL, "a.txt(a.txt,file) b.txt(b.txt,file)");
  EXPECT ("dir*", COPY_ROOT_CONTEXT, NULL, "dir(dir,dir) dir2(dir2,dir)");
  EXPECT ("dir/*/y.*", COPY_ROOT_CONTEXT, NULL, "dir/sub/y.txt(y.txt,file)");
  EXPECT ("[ab].txt", COPY_ROOT_CONTEXT, NULL, "a.txt(a.txt,file) b.txt(b.txt,file)");
  EXPECT ("nomatch*", COPY_ROOT_CONTEXT, NULL, "");
  /* BuildKit walks the directory before the first pattern: a missing one is an error, an
     existing one that holds no match is not (diff-fuzz F21) */
  EXPECT ("missingdir/*", COPY_ROOT_CONTEXT, NULL, "error: \"missingdir/*\": \"missingdir\" not found in the build context");
  EXPECT ("dir/*/nomatch*", COPY_ROOT_CONTEXT, NULL, "");
  EXPECT ("[", COPY_ROOT_CONTEXT, NULL, "error: \"[\": syntax error in pattern");
}

static void
test_ignore (void **state)
{
  (void) state;
  EXPECT ("*", COPY_ROOT_CONTEXT, "node_modules\n*.md\nlink-*\n",
          "a.txt(a.txt,file) b.txt(b.txt,file) dir(dir,dir) dir2(dir2,dir)");
  EXPECT ("c.md", COPY_ROOT_CONTEXT, "*.md\n",
          "error: \"c.md\": not found in the build context (excluded by .dockerignore)");
  /* .dockerignore is for the context only. */
  EXPECT ("c.md", COPY_ROOT_IMAGE, "*.md\n", "c.md(c.md,file)");
}

static void
test_target (void **state)
{
  struct copy_source f = { .rel = (char *) "a.txt", .base = (char *) "a.txt" };
  struct copy_source d = { .rel = (char *) "dir", .base = (char *) "dir" };
  char *t;

  (void) state;
  f.st.st_mode = S_IFREG | 0644;
  d.st.st_mode = S_IFDIR | 0755;
  t = copy_target ("/app/", false, &f);
  assert_string_equal (t, "/app/a.txt");
  free (t);
  t = copy_target ("/app", true, &f);
  assert_string_equal (t, "/app/a.txt");
  free (t);
  t = copy_target ("/app", false, &f);
  assert_string_equal (t, "/app");
  free (t);
  t = copy_target ("/app/", false, &d);
  assert_string_equal (t, "/app");
  free (t);
  t = copy_target ("/", false, &d);
  assert_string_equal (t, "/");
  free (t);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_literals),  cmocka_unit_test (test_escapes),
    cmocka_unit_test (test_wildcards), cmocka_unit_test (test_ignore),
    cmocka_unit_test (test_target),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
