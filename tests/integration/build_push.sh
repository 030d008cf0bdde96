#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bale build --push against a real docker-registry on 127.0.0.1: -q prints the pushed manifest
# digest, --metadata-file names it (containerimage.digest) as skopeo sees it, and the push is
# a vertex of the plain progress. A missing tool is a failure, never a skip.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

for tool in docker-registry skopeo python3 jq; do
  command -v "$tool" > /dev/null 2>&1 || { echo "Bail out! '$tool' is not installed"; exit 1; }
done
busybox_store || { echo "Bail out! no busybox base"; exit 1; }

start_registry || { echo "Bail out! the registry did not start"; exit 1; }

printf '%s\n' 'FROM busybox' 'RUN echo pushed > /p' > "$ctx/Dockerfile"
ref=127.0.0.1:$port/cli/pushed:v1

push_digest () {
  "$BALE" build -q --push -t "$ref" --metadata-file "$T_TMP/md.json" --iidfile "$T_TMP/iid" "$ctx" \
    > "$T_TMP/out" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  remote=$(skopeo inspect --tls-verify=false "docker://$ref" | jq -r .Digest) || return 1
  [ "$(cat "$T_TMP/out")" = "$remote" ] || { echo "-q printed $(cat "$T_TMP/out"), registry has $remote"; return 1; }
  [ "$(jq -r '."containerimage.digest"' "$T_TMP/md.json")" = "$remote" ] &&
    [ "$(jq -r '."containerimage.descriptor".digest' "$T_TMP/md.json")" = "$remote" ] &&
    [ "$(jq -r '."image.name"' "$T_TMP/md.json")" = "$ref" ] &&
    # The config digest stays the image ID, as --iidfile writes it.
    [ "$(jq -r '."containerimage.config.digest"' "$T_TMP/md.json")" = "$(cat "$T_TMP/iid")" ] &&
    [ "$(skopeo inspect --tls-verify=false --raw --config "docker://$ref" | sha256sum | cut -c1-64)" = "$(cut -c8- "$T_TMP/iid")" ] ||
    { cat "$T_TMP/md.json"; return 1; }
}
check "--push -q prints, and --metadata-file names, the manifest digest the registry has" push_digest

push_progress () {
  "$BALE" build --progress=plain --push -t "$ref" -o "type=registry,name=$ref-2" "$ctx" \
    > "$T_TMP/out" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  grep -q "^#[0-9]* pushing $ref\$" "$T_TMP/err" && grep -q "^#[0-9]* pushing $ref-2\$" "$T_TMP/err" &&
    grep -q "^#[0-9]* pushing manifest for $ref@sha256:[0-9a-f]\{64\} done\$" "$T_TMP/err" &&
    # Without -q, stdout keeps the image ID; the pushed image is the same config.
    [ "sha256:$(skopeo inspect --tls-verify=false --raw --config "docker://$ref-2" | sha256sum | cut -c1-64)" = "$(cat "$T_TMP/out")" ] ||
    { cat "$T_TMP/err"; return 1; }
}
check "pushes are vertices of the plain progress; type=registry pushes too" push_progress

done_testing
