/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The subset of Go's text/template that docker's --format users write, over JSON values. */
#ifndef BALE_CLI_GOTEMPLATE_H
#define BALE_CLI_GOTEMPLATE_H

#include <stdbool.h>

#include <jansson.h>

#include "bale.h"

struct gotemplate;
struct strbuf;

/*
 * Parse a template: text and {{actions}} with trim markers ({{- -}}), comments, pipelines of
 * fields (.A.B, $, $x.A), literals, parenthesised pipelines and the functions docker adds
 * (json, join, split, lower, upper, title, pad, truncate) plus Go's (index, len, print,
 * printf, println, eq, ne, lt, le, gt, ge, and, or, not); if/else if/else, range (with
 * $i, $e :=), with, variables ($x := …, $x = …), break and continue. Anything else (define,
 * template, block, methods, unknown functions) fails here with its position, so a template
 * bale cannot run never prints something other than what docker would.
 */
int gotemplate_parse (const char *text, struct gotemplate **out, bale_error_t *err);

/*
 * Run t on data, appending its output to out. As
 * docker's map fallback (missingkey=error): a missing key is an error, a JSON null prints
 * "<no value>". With header set, every function returns its first argument unchanged, as
 * docker renders a table's header row from a map of column names.
 */
int gotemplate_exec (const struct gotemplate *t, json_t *data, bool header, struct strbuf *out,
                     bale_error_t *err);

void gotemplate_free (struct gotemplate *t);

#endif
