/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parser object shared by the grammar actions and bale_parse(). */
#ifndef BALE_PARSER_INTERNAL_H
#define BALE_PARSER_INTERNAL_H

#include <stdbool.h>

#include "bale.h"
#include "common/srcfile.h"
#include "lexer/lex.h"

struct parser
{
  void *scanner; /* yyscan_t */
  struct lex_state lex;
  struct srcfile sf;
  struct bale_dockerfile *df;
  bale_error_t *err;
  bool eof;
};

/* The flex entry point (lexer/lexer.c), with the bison-bridge signature. */
union YYSTYPE;
int lexyy_lex (union YYSTYPE *lval, YYLTYPE *lloc, void *scanner);

#endif
