/* SPDX-License-Identifier: GPL-2.0-or-later */
/* docker's --format for list commands (images, history): templates, "json", "table …". */
#ifndef BALE_CLI_TABLE_H
#define BALE_CLI_TABLE_H

#include <jansson.h>

#include "bale.h"

/*
 * Print rows (an array of objects) as docker's formatter does: format NULL, "" or "table"
 * is default_table; "json" prints each row as one JSON line; "table TEMPLATE" prints a
 * header (the template run on headers, the column names) and the rows, aligned as Go's
 * tabwriter (minimum width 10, padding 3); any other format is a template run per row.
 * A literal \t or \n in the format is a tab or newline, as docker reads it.
 */
int cli_format_rows (const char *format, const char *default_table, json_t *rows, json_t *headers,
                     bale_error_t *err);

/* A --format template of a command that prints one object per operand (inspect): the
   template's output and a newline per object, the format taken as it is. */
int cli_format_objects (const char *format, json_t *objects, bale_error_t *err);

/* Print text to stdout; on a terminal, its control characters other than tab and newline
   are shown as text (^[ for ESC, ? for a C1 control): the text came from an image. */
void cli_print_shown (const char *text);

#endif
