/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The room of libbale's public API (include/bale.h): thin functions over the runtime that
 * turn its internal types into the opaque handles and plain structs an embedder sees. This
 * header is the rooms' view of those handles; nothing outside api/ includes it.
 */
#ifndef BALE_API_H
#define BALE_API_H

#include "bale.h"

struct store;

struct bale_store
{
  struct store *st;
};

#endif
