#!/bin/sh
# The dependency rules of docs/architecture.md over the calls between the library's object
# files in the build tree (nm): no cycle, no call from a lower room to a higher one (a TAP test).
exec python3 "${top_srcdir:-$(dirname "$0")/../..}/tests/check_layers.py" --calls "${top_builddir:-.}"
