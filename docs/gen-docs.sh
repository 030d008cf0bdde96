#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Generate bale's man pages and its bash and zsh completions from one source: the --help
# texts of the built binary, which tests/cli/help.sh keeps equal to the getopt tables.
#   sh docs/gen-docs.sh BALE OUTDIR
# writes OUTDIR/man/bale.1, OUTDIR/man/bale-COMMAND.1 for every command, and
# OUTDIR/completion/bale.bash and OUTDIR/completion/_bale.
set -eu
BALE=$1
OUT=$2
VERSION=$("$BALE" --version | sed 's/^bale //')
mkdir -p "$OUT/man" "$OUT/completion"
US=$(printf '\037') # the field separator of parsed records: tabs would merge empty fields
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bale-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$BALE" --help > "$tmp/global.help"
# "  build      build an image from a Dockerfile" -> "build<TAB>summary"
sed -n 's/^  \([a-z][a-z]*\)  *\(.*\)$/\1	\2/p' "$tmp/global.help" > "$tmp/commands"

# parse HELP: the help text as records, one a line:
#   U synopsis line | O short long arg description | A operand description | T free text
# separated by US (\037)
# Option lines are "  [-x, ]--long[ ARG|=ARG|[=ARG]]  description"; deeper-indented
# lines continue the entry above.
parse () {
  awk '
  function flush() { if (kind != "") print kind "\037" rec "\037" desc; kind = ""; rec = ""; desc = "" }
  NR == 1 || (inusage && /^ +\[/) { sub(/^usage: /, ""); sub(/^ +/, ""); print "U\037" $0; inusage = 1; next }
  { inusage = 0 }
  /^ +(-[A-Za-z0-9], )?--[a-z]/ {
    flush()
    line = $0; sub(/^ +/, "", line)
    short = ""
    if (line ~ /^-[A-Za-z0-9], /) { short = substr(line, 1, 2); line = substr(line, 5) }
    spec = line; d = ""
    if (match(line, /  +/)) { spec = substr(line, 1, RSTART - 1); d = substr(line, RSTART + RLENGTH) }
    long = spec; arg = ""
    if (match(spec, /[ =[]/)) { long = substr(spec, 1, RSTART - 1); arg = substr(spec, RSTART) }
    sub(/^ /, "", arg)
    kind = "O"; rec = short "\037" long "\037" arg; desc = d
    next
  }
  /^  [A-Z][A-Z_]*  / {
    flush()
    line = $0; sub(/^ +/, "", line)
    match(line, /  +/)
    kind = "A"; rec = substr(line, 1, RSTART - 1); desc = substr(line, RSTART + RLENGTH)
    next
  }
  /^      +[^ ]/ && kind != "" { line = $0; sub(/^ +/, "", line); desc = desc " " line; next }
  { flush(); if ($0 != "") print "T\037" $0 }
  END { flush() }
  ' "$1"
}

# roff TEXT: escaped for a man page line.
roff () {
  printf '%s\n' "$1" | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

man_page () { # NAME SUMMARY PARSED TITLE
  name=$1 summary=$2 parsed=$3
  upper=$(printf '%s' "$name" | tr 'a-z' 'A-Z')
  {
    printf '.TH "%s" "1" "" "bale %s" "bale manual"\n' "$upper" "$VERSION"
    printf '.SH NAME\n%s \\- %s\n' "$(roff "$name")" "$(roff "$summary")"
    printf '.SH SYNOPSIS\n.nf\n'
    grep "^U$US" "$parsed" | cut -d "$US" -f2- | while IFS= read -r l; do roff "$l"; done
    printf '.fi\n'
    if grep -q "^T$US" "$parsed"; then
      printf '.SH DESCRIPTION\n'
      grep "^T$US" "$parsed" | cut -d "$US" -f2- | while IFS= read -r l; do roff "$l"; printf '.br\n'; done
    fi
    if grep -q "^A$US" "$parsed"; then
      printf '.SH OPERANDS\n'
      grep "^A$US" "$parsed" | while IFS=$US read -r _ op d; do
        printf '.TP\n.B %s\n%s\n' "$(roff "$op")" "$(roff "$d")"
      done
    fi
    printf '.SH OPTIONS\n'
    grep "^O$US" "$parsed" | while IFS=$US read -r _ short long arg d; do
      spec=${short:+$short, }$long
      printf '.TP\n.B %s%s\n%s\n' "$(roff "$spec")" "${arg:+ $(roff "$arg")}" "$(roff "$d")"
    done
    printf '.SH SEE ALSO\n'
    if [ "$name" = bale ]; then
      cut -f1 "$tmp/commands" | sed 's/.*/.BR bale-& (1)/' | sed '$!s/$/,/'
    else
      printf '.BR bale (1)\n'
    fi
  } > "$OUT/man/$name.1"
}

parse "$tmp/global.help" > "$tmp/global.parsed"
grep -v "^T$US\\(commands:\\|  \\)" "$tmp/global.parsed" | grep -v "^T${US}Run " > "$tmp/global.p2" || true
man_page bale "a daemonless Dockerfile compiler" "$tmp/global.p2"
while IFS='	' read -r cmd summary; do
  "$BALE" "$cmd" --help > "$tmp/$cmd.help"
  parse "$tmp/$cmd.help" > "$tmp/$cmd.parsed"
  man_page "bale-$cmd" "$summary" "$tmp/$cmd.parsed"
done < "$tmp/commands"

# ---- bash ----------------------------------------------------------------------------------
words () { # PARSED: the option words of a command
  grep "^O$US" "$1" | cut -d "$US" -f2,3 | tr "$US" '\n' | grep . | tr '\n' ' ' | sed 's/ $//'
}
takes_arg () { # PARSED: the options that take an argument, as a case pattern
  grep "^O$US" "$1" | awk -F "$US" '$4 != "" && $4 !~ /^\[=/ { if ($2 != "") print $2; print $3 }' | tr '\n' '|' | sed 's/|$//'
}
{
  printf '# bash completion for bale %s, generated from its --help by docs/gen-docs.sh\n' "$VERSION"
  cat <<'EOF'
_bale_images () {
  bale images --format '{{.Repository}}:{{.Tag}}' 2> /dev/null | grep -v '^<none>'
}
_bale () {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd="" i opts args
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --store) ((i++)) ;;
      -*) ;;
      *) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  case $cmd in
EOF
  printf '    "")\n      opts="%s"\n      args="%s"\n      ;;\n' "$(words "$tmp/global.parsed")" "$(cut -f1 "$tmp/commands" | tr '\n' ' ' | sed 's/ $//')"
  while IFS='	' read -r cmd summary; do
    p=$tmp/$cmd.parsed
    printf '    %s)\n      opts="%s"\n' "$cmd" "$(words "$p")"
    ta=$(takes_arg "$p")
    [ -n "$ta" ] && printf '      case $prev in %s) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac\n' "$ta"
    case $cmd in
      run|inspect|history|tag|rmi|push|save|diff|explain) printf '      args=$(_bale_images)\n' ;;
      help) printf '      args="%s"\n' "$(cut -f1 "$tmp/commands" | tr '\n' ' ' | sed 's/ $//')" ;;
      *) printf '      args=\n' ;;
    esac
    printf '      ;;\n'
  done < "$tmp/commands"
  cat <<'EOF'
    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -z $cmd || -n $args ]]; then
    COMPREPLY=($(compgen -W "$args" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _bale bale
EOF
} > "$OUT/completion/bale.bash"

# ---- zsh -----------------------------------------------------------------------------------
zq () { # TEXT: for inside a single-quoted _arguments spec: no quotes, brackets or colons
  printf '%s' "$1" | sed -e "s/'/’/g" -e 's/\[/(/g' -e 's/\]/)/g' -e 's/:/ /g' -e 's/\\/\\\\/g'
}
zspecs () { # PARSED
  grep "^O$US" "$1" | while IFS=$US read -r _ short long arg d; do
    d=$(zq "$d")
    tail=""
    case $arg in
      "" | \[=*) ;;
      *) tail=":$(zq "$arg"):_files" ;;
    esac
    if [ -n "$short" ]; then
      printf "      '(%s %s)'{%s,%s}'[%s]%s' \\\\\n" "$short" "$long" "$short" "$long" "$d" "$tail"
    else
      printf "      '%s[%s]%s' \\\\\n" "$long" "$d" "$tail"
    fi
  done
}
{
  printf '#compdef bale\n# zsh completion for bale %s, generated from its --help by docs/gen-docs.sh\n' "$VERSION"
  printf '_bale () {\n  local -a commands\n  commands=(\n'
  while IFS='	' read -r cmd summary; do
    printf "    '%s:%s'\n" "$cmd" "$(zq "$summary")"
  done < "$tmp/commands"
  printf '  )\n'
  cat <<'EOF'
  local i=2
  while (( i < CURRENT )) && [[ ${words[i]} == -* ]]; do
    [[ ${words[i]} == --store ]] && (( i++ ))
    (( i++ ))
  done
  if (( CURRENT <= i )); then
EOF
  printf '    _arguments \\\n'
  zspecs "$tmp/global.parsed"
  printf "      '*::command:->cmd'\n"
  printf '    [[ $state == cmd ]] && _describe command commands\n    return\n  fi\n'
  printf '  shift $(( i - 1 )) words\n  (( CURRENT -= i - 1 ))\n  case ${words[1]} in\n'
  while IFS='	' read -r cmd summary; do
    printf '    %s)\n      _arguments -s \\\n' "$cmd"
    zspecs "$tmp/$cmd.parsed"
    printf "      '*:argument:_files' ;;\n"
  done < "$tmp/commands"
  printf '  esac\n}\n_bale "$@"\n'
} > "$OUT/completion/_bale"
