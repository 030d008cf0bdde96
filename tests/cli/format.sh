#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# docker's --format and friends: bale history, inspect --format (Go templates),
# images --filter and --format. Expected values follow docker/cli's formatters.
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
export BALE_STORE="$T_TMP/store"
ctx=$T_TMP/ctx
mkdir -p "$ctx"
echo hi > "$ctx/a.txt"
cat > "$ctx/Dockerfile" <<'DF'
FROM scratch
LABEL maintainer=me version=1.0
ENV PATH=/bin X=1
COPY a.txt /a.txt
EXPOSE 80
COPY a.txt /a/path/long/enough/to/be/cut/by/docker/history/at/45/b.txt
CMD ["/a"]
DF
printf 'FROM scratch\nLABEL version=2.0\nCOPY a.txt /new.txt\n' > "$ctx/Dockerfile.new"

build_images () {
  "$BALE" build -q --source-date-epoch 1700000000 -t demo:1 "$ctx" > "$T_TMP/demo.id" &&
    "$BALE" tag demo:1 other/demo:2 &&
    "$BALE" build -q --source-date-epoch 1800000000 -f "$ctx/Dockerfile.new" -t newer:1 "$ctx" > "$T_TMP/newer.id"
}
check "build two images at known times" build_images
ID=$(cat "$T_TMP/demo.id")
SHORT=$(echo "$ID" | cut -c8-19)

history_table () {
  "$BALE" history demo:1 > "$T_TMP/h" || return 1
  cat "$T_TMP/h"
  head -1 "$T_TMP/h" | grep -Eq '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$' &&
    [ "$(wc -l < "$T_TMP/h")" -eq 7 ] &&
    sed -n 2p "$T_TMP/h" | grep -Eq "^$SHORT   [0-9]+ (years|months) ago +CMD \[\"/a\"\] +0B +buildkit.dockerfile.v0\$" &&
    [ "$(grep -c '^<missing> ' "$T_TMP/h")" -eq 5 ] &&
    # docker's Ellipsis: 44 characters and U+2026
    grep -q 'COPY a.txt /a/path/long/enough/to/be/cut/by/…   ' "$T_TMP/h" &&
    grep -Eq '^<missing> .* LABEL maintainer=me version=1.0 +0B ' "$T_TMP/h"
}
check "history: docker's columns, newest first, the ID on the top row, <missing> below" history_table

history_options () {
  "$BALE" history --no-trunc --human=false demo:1 > "$T_TMP/h" || return 1
  cat "$T_TMP/h"
  head -1 "$T_TMP/h" | grep -Eq '^IMAGE +CREATED AT +CREATED BY +SIZE +COMMENT$' &&
    grep -q "^$ID " "$T_TMP/h" && grep -q 'b\.txt # buildkit' "$T_TMP/h" &&
    sed -n 2p "$T_TMP/h" | grep -Eq ' 2023-11-14T22:13:20(Z|[+-][0-9][0-9]:[0-9][0-9]) ' &&
    grep -Eq ' COPY a.txt /a.txt # buildkit +[0-9]+ +buildkit' "$T_TMP/h" &&
    "$BALE" history -H=false demo:1 | grep -q 'CREATED AT' &&
    [ "$("$BALE" history -q demo:1 | tr '\n' ' ')" = "$SHORT <missing> <missing> <missing> <missing> <missing> " ] &&
    [ "$("$BALE" history -q --no-trunc demo:1 | head -1)" = "$ID" ]
}
check "history --no-trunc, --human=false, -q" history_options

history_json () {
  "$BALE" history --format json demo:1 > "$T_TMP/h.json" || return 1
  python3 - "$T_TMP/h.json" "$SHORT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 6, rows
assert all(sorted(r) == ["Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size"] for r in rows), rows
assert rows[0]["ID"] == sys.argv[2] and rows[0]["CreatedBy"] == 'CMD ["/a"]', rows[0]
assert rows[-1]["CreatedBy"].startswith("LABEL "), rows[-1]
PY
  [ "$("$BALE" history --format '{{.ID}}|{{.Size}}' demo:1 | head -1)" = "$SHORT|0B" ] &&
    "$BALE" history --format 'table {{.ID}}\t{{.Size}}' demo:1 | head -1 | grep -Eq '^IMAGE +SIZE$'
}
check "history --format json, a template, a table" history_json

history_errors () {
  "$BALE" history nothere > "$T_TMP/out" 2> "$T_TMP/err" && return 1
  grep -q "no such image" "$T_TMP/err" && ! [ -s "$T_TMP/out" ] || return 1
  "$BALE" history > /dev/null 2> "$T_TMP/err"
  [ $? -eq 2 ] && grep -q "see 'bale history --help'" "$T_TMP/err"
}
check "history of a missing image fails; no image is a usage error (2)" history_errors

inspect_format () {
  [ "$("$BALE" inspect --format '{{.Id}}' demo:1)" = "$ID" ] &&
    [ "$("$BALE" inspect -f '{{index .RepoTags 0}} {{len .RepoTags}}' demo:1)" = "demo:1 2" ] &&
    [ "$("$BALE" inspect -f '{{.Config.Env}}' demo:1)" = "[PATH=/bin X=1]" ] &&
    [ "$("$BALE" inspect -f '{{.Config.ExposedPorts}}|{{.Config.Labels}}' demo:1)" = "map[80/tcp:{}]|map[maintainer:me version:1.0]" ] &&
    [ "$("$BALE" inspect -f '{{range .RepoTags}}<{{.}}>{{end}}' demo:1)" = "<demo:1><other/demo:2>" ] &&
    [ "$("$BALE" inspect -f '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}' demo:1)" = "maintainer=me;version=1.0;" ] &&
    [ "$("$BALE" inspect -f '{{if eq .Os "linux"}}linux{{else}}other{{end}}' demo:1 newer:1)" = "linux
linux" ] &&
    [ "$("$BALE" inspect -f '{{join .Config.Env ","}}' demo:1)" = "PATH=/bin,X=1" ] &&
    "$BALE" inspect -f '{{json .Config}}' demo:1 > "$T_TMP/config.json" &&
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["Env"]==["PATH=/bin","X=1"] and c["Cmd"]==["/a"], c' "$T_TMP/config.json" &&
    [ "$(wc -l < "$T_TMP/config.json")" -eq 1 ]
}
check "inspect --format: fields, index, range, if/eq, join, json" inspect_format

inspect_json () {
  "$BALE" inspect --format json demo:1 newer:1 > "$T_TMP/i.json" || return 1
  [ "$(wc -l < "$T_TMP/i.json")" -eq 1 ] &&
    python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert len(a)==2 and a[0]["Id"]==sys.argv[2], a' "$T_TMP/i.json" "$ID"
}
check "inspect --format json: one compact array" inspect_json

inspect_errors () {
  for t in '{{.Nope}}' '{{slice .Id 1}}' '{{template "x"}}' '{{.Id' '{{nosuch .Id}}'; do
    "$BALE" inspect -f "$t" demo:1 > "$T_TMP/out" 2> "$T_TMP/err" && { echo "$t succeeded"; return 1; }
    [ -s "$T_TMP/out" ] && { echo "$t printed:"; cat "$T_TMP/out"; return 1; }
    grep -q '^bale inspect: --format: template: 1:[0-9]*: ' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  done
  grep -q 'function "nosuch" not defined' "$T_TMP/err"
}
check "inspect --format: unknown keys, functions and constructs fail, print nothing" inspect_errors

images_filters () {
  [ "$("$BALE" images -q -f reference=demo)" = "$SHORT" ] &&
    [ "$("$BALE" images --format '{{.Repository}}:{{.Tag}}' -f 'reference=*/demo:*')" = "other/demo:2" ] &&
    [ "$("$BALE" images --format '{{.Repository}}' -f reference=demo -f reference=newer | sort | tr '\n' ' ')" = "demo newer " ] &&
    [ "$("$BALE" images --format '{{.Repository}}' -f label=version=2.0)" = "newer" ] &&
    [ "$("$BALE" images --format '{{.Repository}}' -f label=maintainer | sort | tr '\n' ' ')" = "demo other/demo " ] &&
    [ "$("$BALE" images --format '{{.Repository}}' -f label=maintainer -f reference=other/*)" = "other/demo" ] &&
    [ "$("$BALE" images --format '{{.Repository}}' -f since=demo:1)" = "newer" ] &&
    [ "$("$BALE" images --format '{{.Repository}}' -f before=newer:1 | sort | tr '\n' ' ')" = "demo other/demo " ] &&
    [ "$("$BALE" images -q -f dangling=true)" = "" ] &&
    [ "$("$BALE" images -q -f dangling=false | wc -l)" -eq 3 ]
}
check "images --filter reference, label, since, before, dangling (values OR, keys AND)" images_filters

images_dangling () {
  "$BALE" build -q --source-date-epoch 1750000000 -f "$ctx/Dockerfile.new" -t newer:1 --label x=y "$ctx" > /dev/null &&
    "$BALE" images -f dangling=true | grep -Eq '^<none> +<none> +[0-9a-f]{12} ' &&
    ! "$BALE" images -f dangling=false | grep -q '<none>'
}
check "images -f dangling=true lists the untagged images" images_dangling

images_format () {
  "$BALE" images --format 'table {{.Repository}}\t{{.ID}}' -f reference=demo > "$T_TMP/out" &&
    [ "$(cat "$T_TMP/out")" = "REPOSITORY   IMAGE ID
demo         $SHORT" ] &&
    [ "$("$BALE" images --no-trunc -q -f reference=demo)" = "$ID" ] &&
    "$BALE" images --digests -f reference=demo | head -1 | grep -Eq '^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$'
}
check "images --format table TEMPLATE, --no-trunc, --digests" images_format

images_errors () {
  "$BALE" images -f bogus=1 2> "$T_TMP/err" && return 1
  grep -q "invalid filter 'bogus'" "$T_TMP/err" &&
    ! "$BALE" images -f dangling=maybe 2> /dev/null &&
    ! "$BALE" images -f since=nothere 2> /dev/null &&
    ! "$BALE" images -f reference 2> /dev/null &&
    ! "$BALE" images --format '{{.Nope}}' > "$T_TMP/out" 2> /dev/null && ! [ -s "$T_TMP/out" ]
}
check "images: unknown filters, bad values and bad templates fail" images_errors

done_testing
