#!/bin/sh
# The exported surface of libbale.so is deliberate: exactly the symbols of
# tests/data/abi/symbols.txt (name@@version), all bale_*, and the soname libbale.so.1. A new
# public function is added to include/bale.h, include/bale.map and the list together.
. "${top_srcdir:-.}/tests/cli/lib.sh"

so=$(ls "$top_builddir"/.libs/libbale.so.1.* 2>/dev/null | head -1)
check "libbale.so was built" test -n "$so"
nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sort > "$T_TMP/exported"
check "the exported symbols are exactly tests/data/abi/symbols.txt" \
  diff -u "$top_srcdir/tests/data/abi/symbols.txt" "$T_TMP/exported"
check "every exported symbol is bale_* in version node BALE_1.0" \
  sh -c "! grep -v '^bale_[a-z0-9_]*@@BALE_1\.0\$' '$T_TMP/exported'"
check "the soname is libbale.so.1" \
  sh -c "readelf -d '$so' | grep -q 'SONAME.*\\[libbale\\.so\\.1\\]'"
# Every function that include/bale.h (and the include/bale/*.h it includes) declares is exported (a declaration without its line in
# include/bale.map would link for the CLI, which uses the convenience library, and fail for
# an embedder).
sed -n 's/^[a-z].*[ *]\(bale_[a-z0-9_]*\) (.*/\1/p' "$top_srcdir/include/bale.h" \
  "$top_srcdir"/include/bale/*.h | sort -u > "$T_TMP/declared"
sed 's/@@.*//' "$T_TMP/exported" > "$T_TMP/names"
check "every function declared in include/bale.h is exported" \
  diff -u "$T_TMP/declared" "$T_TMP/names"
done_testing
