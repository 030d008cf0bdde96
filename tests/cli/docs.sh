#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages and the bash and zsh completions docs/gen-docs.sh makes from the --help
# texts: one page per command, every option in each, pages groff renders without warnings,
# completions that complete commands and options; `make install` installs them.
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
GEN=$T_TMP/gen
commands () {
  "$BALE" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'
}
# long_options CMD: the long options CMD's --help lists (bale's own for "bale")
long_options () {
  if [ "$1" = bale ]; then "$BALE" --help; else "$BALE" "$1" --help; fi |
    sed -n 's/^ *\(-[A-Za-z0-9], \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p' | sort -u
}

generate () {
  sh "${top_srcdir:-.}/docs/gen-docs.sh" "$BALE" "$GEN" && [ -s "$GEN/completion/bale.bash" ] &&
    [ -s "$GEN/completion/_bale" ] && [ -s "$GEN/man/bale.1" ] &&
    [ -s "${top_builddir:-.}/gen-docs/man/bale-build.1" ]
}
check "gen-docs.sh makes the pages and completions (and the build made them too)" generate

man_pages () {
  n=0
  for c in bale $(commands); do
    page=$GEN/man/bale-$c.1
    [ "$c" = bale ] && page=$GEN/man/bale.1
    [ -s "$page" ] || { echo "no page for $c"; return 1; }
    groff -man -Tutf8 -ww -z "$page" 2> "$T_TMP/warn" && ! [ -s "$T_TMP/warn" ] ||
      { echo "$page:"; cat "$T_TMP/warn"; return 1; }
    grep -q '^\.SH SYNOPSIS' "$page" && grep -q '^\.SH OPTIONS' "$page" || { echo "$page: sections"; return 1; }
    for o in $(long_options "$c"); do
      grep -q "^\.B .*$(printf '%s' "$o" | sed 's/-/\\\\-/g')\\>" "$page" ||
        { echo "$page: no $o"; return 1; }
    done
    n=$((n + 1))
  done
  [ "$n" -ge 21 ] && [ "$(ls "$GEN/man" | wc -l)" -eq "$n" ] &&
    groff -man -Tascii -P-cbou "$GEN/man/bale-history.1" 2> /dev/null | grep -q -- "--no-trunc"
}
check "a man page per command, rendered without warnings, listing every option" man_pages

# complete WORDS...: what the bash completion offers for the last word
complete_bash () {
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bale; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$GEN/completion/bale.bash" "$@"
}

bash_completion () {
  bash -n "$GEN/completion/bale.bash" &&
    complete_bash bale hi | grep -qx history &&
    complete_bash bale --store /x im | grep -qx images &&
    complete_bash bale build --ta | grep -qx -- --target &&
    complete_bash bale history --no | grep -qx -- --no-trunc &&
    [ -z "$(complete_bash bale build --nosuch)" ] || return 1
  for c in $(commands); do
    for o in $(long_options "$c"); do
      complete_bash bale "$c" "$o" | grep -qx -- "$o" || { echo "bash: $c $o"; return 1; }
    done
  done
}
check "bash completion: commands, every option of every command" bash_completion

zsh_completion () {
  f=$GEN/completion/_bale
  head -1 "$f" | grep -qx '#compdef bale' || return 1
  # Every spec line quotes evenly, so zsh reads each as one word.
  awk '/^ +\x27/ { n = gsub(/\x27/, "&"); if (n % 2) { print "odd quotes: " $0; bad = 1 } } END { exit bad }' "$f" || return 1
  for c in $(commands); do
    grep -q "^    '$c:" "$f" && grep -q "^    $c)" "$f" || { echo "zsh: command $c"; return 1; }
    for o in $(long_options "$c"); do
      sed -n "/^    $c)/,/;;/p" "$f" | grep -q -e "$o\\[" -e ",$o}" || { echo "zsh: $c $o"; return 1; }
    done
  done
}
check "zsh completion: every command, every option, balanced quotes" zsh_completion

install_them () {
  make -s -C "${top_builddir:-.}" install-data-local DESTDIR="$T_TMP/inst" prefix=/usr > /dev/null || return 1
  [ -s "$T_TMP/inst/usr/share/man/man1/bale-images.1" ] &&
    [ -s "$T_TMP/inst/usr/share/bash-completion/completions/bale" ] &&
    [ -s "$T_TMP/inst/usr/share/zsh/vendor-completions/_bale" ] &&
    [ "$(ls "$T_TMP/inst/usr/share/man/man1" | wc -l)" -eq "$(ls "$GEN/man" | wc -l)" ]
}
check "make install puts the pages and completions in place" install_them

done_testing
