#!/bin/sh
# The dependency rules of docs/architecture.md over the sources' #include lines (a TAP test).
exec python3 "${top_srcdir:-$(dirname "$0")/../..}/tests/check_layers.py"
