/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Go template subset of --format: what Go's text/template prints for the same template
   on the map docker falls back to, and a located error for what bale does not run. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/gotemplate.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "tests/testutil.h"

static const char *const data
    = "{\"Id\":\"sha256:abc\",\"RepoTags\":[\"a:1\",\"b:2\"],\"Size\":1234567,"
      "\"Config\":{\"Env\":[\"PATH=/bin\",\"X=1\"],\"Cmd\":[\"sh\"],\"Entrypoint\":null,"
      "\"Labels\":{\"z\":\"last\",\"a\":\"first\"},\"ExposedPorts\":{\"80/tcp\":{}}},"
      "\"Ratio\":0.5,\"Big\":1e7,\"Empty\":\"\",\"Flag\":true}";

struct row
{
  const char *tmpl;
  const char *want; /* NULL: an error, whose message contains err */
  const char *err;
};

static const struct row rows[] = {
  { "{{.Id}}", "sha256:abc", NULL },
  { "id={{ .Id }}!", "id=sha256:abc!", NULL },
  { "{{.Config.Env}}", "[PATH=/bin X=1]", NULL },
  { "{{json .Config.Env}}", "[\"PATH=/bin\",\"X=1\"]", NULL },
  { "{{json .Config.Labels}}", "{\"z\":\"last\",\"a\":\"first\"}", NULL },
  { "{{.Config.Labels}}", "map[a:first z:last]", NULL },
  { "{{.Config.ExposedPorts}}", "map[80/tcp:{}]", NULL },
  { "{{.Config.Entrypoint}}", "<no value>", NULL },
  { "{{json .Config.Entrypoint}}", "null", NULL },
  { "{{index .RepoTags 0}}", "a:1", NULL },
  { "{{index .Config.Labels \"a\"}}", "first", NULL },
  { "{{index .Config.Labels \"nope\"}}", "<no value>", NULL },
  { "{{.Size}} {{.Ratio}} {{.Big}}", "1234567 0.5 1e+07", NULL },
  { "{{range .RepoTags}}<{{.}}>{{end}}", "<a:1><b:2>", NULL },
  { "{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}", "0=a:1 1=b:2 ", NULL },
  { "{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}", "a:first;z:last;", NULL },
  { "{{range .Config.Cmd}}x{{else}}none{{end}}", "x", NULL },
  { "{{range .Config.Entrypoint}}x{{else}}none{{end}}", "none", NULL },
  { "{{range .RepoTags}}{{if eq . \"b:2\"}}{{break}}{{end}}{{.}}{{end}}", "a:1", NULL },
  { "{{range .RepoTags}}{{if eq . \"a:1\"}}{{continue}}{{end}}{{.}}{{end}}", "b:2", NULL },
  { "{{if .Empty}}yes{{else if .Flag}}flag{{else}}no{{end}}", "flag", NULL },
  { "{{if not .Flag}}a{{else}}b{{end}}", "b", NULL },
  { "{{with .Config}}{{.Cmd}}{{end}}", "[sh]", NULL },
  { "{{with .Empty}}x{{else}}empty{{end}}", "empty", NULL },
  { "{{join .Config.Env \",\"}}", "PATH=/bin,X=1", NULL },
  { "{{split \"a:b:c\" \":\"}}", "[a b c]", NULL },
  { "{{lower \"AbC\"}}{{upper \"x\"}}{{title \"hello world\"}}", "abcXHello World", NULL },
  { "{{.Id | printf \"%-12s|\"}}", "sha256:abc  |", NULL },
  { "{{printf \"%s=%d %q\" \"n\" 3 \"q\"}}", "n=3 \"q\"", NULL },
  { "{{len .RepoTags}} {{len .Id}}", "2 10", NULL },
  { "{{truncate .Id 6}}|{{pad .Id 1 2}}|", "sha256| sha256:abc  |", NULL },
  { "{{$t := index .RepoTags 1}}{{$t}}", "b:2", NULL },
  { "{{$x := 1}}{{if .Flag}}{{$x = 2}}{{end}}{{$x}}", "2", NULL },
  { "{{range .RepoTags}}{{$.Id}} {{end}}", "sha256:abc sha256:abc ", NULL },
  { "a  {{- .Flag -}}  b", "atrueb", NULL },
  { "{{/* a comment */}}x", "x", NULL },
  { "{{(index .RepoTags 1)}}", "b:2", NULL },
  { "{{and .Flag .Empty}}|{{or .Empty \"d\"}}", "|d", NULL },
  { "{{lt 1 2}} {{ge \"a\" \"b\"}} {{ne .Size 0}}", "true false true", NULL },
  { "{{print \"a\" 1 2 \"b\"}}", "a1 2b", NULL },
  { "{{println .Flag}}", "true\n", NULL },
  { "{{json .}}",
    "{\"Id\":\"sha256:abc\",\"RepoTags\":[\"a:1\",\"b:2\"],\"Size\":1234567,\"Config\":{\"Env\":"
    "[\"PATH=/bin\",\"X=1\"],\"Cmd\":[\"sh\"],\"Entrypoint\":null,\"Labels\":{\"z\":\"last\","
    "\"a\":\"first\"},\"ExposedPorts\":{\"80/tcp\":{}}},\"Ratio\":0.5,\"Big\":10000000.0,\"Empty\":"
    "\"\",\"Flag\":true}",
    NULL },
  /* what bale refuses, located */
  { "{{.Nope}}", NULL, "template: 1:3: map has no entry for key \"Nope\"" },
  { "{{.Id.X}}", NULL, "can't evaluate field X in type string" },
  { "{{nosuch .Id}}", NULL, "template: 1:3: function \"nosuch\" not defined" },
  { "{{html .Id}}", NULL, "function \"html\" is not supported by bale" },
  { "{{define \"x\"}}{{end}}", NULL, "{{define}} is not supported by bale" },
  { "{{template \"x\"}}", NULL, "{{template}} is not supported by bale" },
  { "{{if .Flag}}x", NULL, "unexpected EOF" },
  { "{{end}}", NULL, "unexpected {{end}}" },
  { "{{.Id", NULL, "template: 1:6:" },
  { "x\n{{index .RepoTags 5}}", NULL, "template: 2:3: error calling index: index out of range: 5" },
  { "{{printf \"%x\" 1}}", NULL, "the verb %x is not supported by bale" },
  { "{{printf \"%s %s\" 1}}", NULL, "missing operand" },
  { "{{eq .Id 1}}", NULL, "incompatible types for comparison" },
  { "{{$y}}", NULL, "undefined variable \"$y\"" },
  { "{{.Id 1}}", NULL, "can't give argument to non-function" },
  { "{{'a'}}", NULL, "character constants are not supported by bale" },
  { "{{join .Size \",\"}}", NULL, "expected a list" },
  { "{{range .Id}}{{end}}", NULL, "range can't iterate over sha256:abc" },
};

static void
test_rows (void **state)
{
  json_auto_t *v = json_loads (data, 0, NULL);
  size_t i;

  (void) state;
  assert_non_null (v);
  for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
    {
      cleanup_strbuf struct strbuf out = STRBUF_INIT;
      bale_error_t err = NULL;
      struct gotemplate *t = NULL;
      int ret = gotemplate_parse (rows[i].tmpl, &t, &err);

      if (ret == 0)
        ret = gotemplate_exec (t, v, false, &out, &err);
      gotemplate_free (t);
      if (rows[i].want)
        {
          if (ret < 0)
            fail_msg ("%s: %s", rows[i].tmpl, err->msg);
          if (strcmp (out.buf, rows[i].want) != 0)
            fail_msg ("%s: got '%s', want '%s'", rows[i].tmpl, out.buf, rows[i].want);
        }
      else
        {
          if (ret == 0)
            fail_msg ("%s: no error, printed '%s'", rows[i].tmpl, out.buf);
          if (strstr (err->msg, rows[i].err) == NULL)
            fail_msg ("%s: error '%s', want '%s'", rows[i].tmpl, err->msg, rows[i].err);
          bale_error_release (&err);
        }
    }
}

/* A table header: column names in place of fields, docker's functions as the identity. */
static void
test_header (void **state)
{
  json_auto_t *names = json_pack ("{s:s, s:s}", "ID", "IMAGE ID", "Size", "SIZE");
  cleanup_strbuf struct strbuf out = STRBUF_INIT;
  struct gotemplate *t = NULL;
  bale_error_t err = NULL;

  (void) state;
  assert_int_equal (gotemplate_parse ("{{.ID}}\t{{json .Size}}\t{{lower .ID}}", &t, &err), 0);
  assert_int_equal (gotemplate_exec (t, names, true, &out, &err), 0);
  assert_string_equal (out.buf, "IMAGE ID\tSIZE\tIMAGE ID");
  gotemplate_free (t);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_rows),
    cmocka_unit_test (test_header),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
