#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# --help cannot drift from the options: every long option of every getopt table in cli/
# has its own line, with a description, in its command's --help (and the global ones in
# `bale --help`); every command answers --help with status 0.
. "${top_srcdir:-.}/tests/cli/lib.sh"

SRC=${top_srcdir:-.}/cli

OPT_RE='\{ *"[a-z0-9-]+", *(no|required|optional)_argument'

# macro_body NAME: the lines of the cli/*.h macro NAME (a shared part of getopt tables).
macro_body () {
  awk -v name="$1" '$1 == "#define" && $2 == name { on = 1 } on { print; if (!/\\$/) on = 0 }' "$SRC"/*.h
}

# options_of FILE: the long options of the getopt tables in FILE, with those of the
# shared table macros (BUILDOPTS_LONG, CLI_REGISTRY_OPTIONS, ...) it uses.
options_of () {
  {
    grep -oE "$OPT_RE" "$1"
    for m in $(grep -h '^#define [A-Z_]* *\\$' "$SRC"/*.h | awk '{ print $2 }'); do
      grep -q "\<$m\>" "$1" && macro_body "$m" | grep -oE "$OPT_RE"
    done
  } | cut -d'"' -f2 | sort -u
}

# described HELP_FILE OPTION: OPTION starts a line of the help, followed by its argument
# (if any), two spaces and a description.
described () {
  grep -Eq -- "^ +(-[A-Za-z0-9], )?--$2(\[?[= ][^ ]+)?  +[^ ]" "$1"
}

commands () {
  "$BALE" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'
}

every_command_has_help () {
  n=0
  for c in $(commands); do
    n=$((n + 1))
    "$BALE" "$c" --help > "$T_TMP/$c.help" 2> "$T_TMP/err" || { echo "$c --help failed"; cat "$T_TMP/err"; return 1; }
    head -1 "$T_TMP/$c.help" | grep -q "^usage: bale $c" || { echo "$c: no usage line"; return 1; }
    described "$T_TMP/$c.help" help || { echo "$c: --help not described"; return 1; }
    [ -s "$T_TMP/err" ] && { echo "$c --help wrote to stderr"; return 1; }
  done
  [ "$n" -ge 20 ] || { echo "only $n commands"; return 1; }
}
check "every command answers --help (exit 0, usage line, -h/--help listed)" every_command_has_help

every_option_listed () {
  missing=0
  for c in $(commands); do
    f=$SRC/cmd_$c.c
    [ -f "$f" ] || continue
    "$BALE" "$c" --help > "$T_TMP/$c.help" 2> /dev/null
    for o in $(options_of "$f"); do
      described "$T_TMP/$c.help" "$o" || { echo "bale $c --help: --$o is not listed with a description"; missing=1; }
    done
  done
  "$BALE" --help > "$T_TMP/global.help" || return 1
  for o in $(options_of "$SRC/main.c"); do
    described "$T_TMP/global.help" "$o" || { echo "bale --help: --$o is not listed with a description"; missing=1; }
  done
  [ "$missing" -eq 0 ]
}
check "every long option of every getopt table is in its command's --help" every_option_listed

# The check itself must see a missing option: a help without --file is caught.
check_catches_drift () {
  "$BALE" build --help > "$T_TMP/build.help" || return 1
  grep -v -- '--file' "$T_TMP/build.help" > "$T_TMP/cut.help"
  described "$T_TMP/build.help" file && ! described "$T_TMP/cut.help" file &&
    options_of "$SRC/cmd_build.c" | grep -qx file && options_of "$SRC/cmd_pull.c" | grep -qx tls-ca
}
check "the drift check sees an option left out" check_catches_drift

help_command () {
  "$BALE" help images > "$T_TMP/a" && "$BALE" images --help > "$T_TMP/b" && cmp "$T_TMP/a" "$T_TMP/b"
}
check "bale help CMD is bale CMD --help" help_command

# The synopsis (the usage lines before the first option line) names every option: it says
# [OPTIONS], or lists each long option of the command's getopt tables (--help aside), so
# that no flag hides from the first lines of --help.
synopsis_complete () {
  bad=0
  for c in $(commands); do
    f=$SRC/cmd_$c.c
    [ -f "$f" ] || continue
    "$BALE" "$c" --help > "$T_TMP/help"
    awk 'NR == 1 || (!done && /^ +\[/) { print; next } { done = 1 }' "$T_TMP/help" > "$T_TMP/syn"
    grep -q '\[OPTIONS\]' "$T_TMP/syn" && continue
    for o in $(options_of "$f"); do
      [ "$o" = help ] && continue
      # the long name, or the short one the help pairs with it ("-f, --file")
      short=$(grep -oE -- "-[A-Za-z0-9], --$o\>" "$T_TMP/help" | head -1 | cut -c2)
      grep -q -- "--$o\>" "$T_TMP/syn" || { [ -n "$short" ] && grep -q -- "-$short\>" "$T_TMP/syn"; } ||
        { echo "bale $c: --$o is not in the synopsis:"; cat "$T_TMP/syn"; bad=1; }
    done
  done
  [ "$bad" -eq 0 ]
}
check "every command's synopsis says [OPTIONS] or names each of its options" synopsis_complete

done_testing
