#!/bin/sh
# bale build -o as buildx parses it (local, tar, shorthands, several at once, stdout), --load,
# --label, --annotation and --metadata-file read by a script as buildx's keys.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }
df 'FROM busybox AS build' 'RUN mkdir /out && echo artifact > /out/a.txt && rm /bin/vi' \
   'FROM build' 'LABEL from=dockerfile'
o=$T_TMP/o

several () {
  "$BALE" build -q -t outs -o "$o/dir1" -o "type=local,dest=$o/dir2" -o "type=tar,dest=$o/fs.tar" \
    -o "type=oci,dest=$o/oci.tar,tar=true" -o "type=oci,dest=$o/ocidir" --load "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
  # Every output is there, not only the last one; local has the final files (whiteouts applied).
  [ "$(cat "$o/dir1/out/a.txt")" = artifact ] && [ "$(cat "$o/dir2/out/a.txt")" = artifact ] &&
    [ ! -e "$o/dir1/bin/vi" ] && [ -x "$o/dir1/bin/sh" ] &&
    tar -tf "$o/fs.tar" | grep -qx 'out/a.txt' && ! tar -tf "$o/fs.tar" | grep -q 'bin/vi$' &&
    tar -xOf "$o/fs.tar" out/a.txt | grep -qx artifact &&
    tar -tf "$o/oci.tar" | grep -qx 'index.json' && [ -f "$o/ocidir/index.json" ] &&
    grep -q '^sha256:' "$T_TMP/out" && "$BALE" images | grep -q '^outs '
}
check "several -o at once: local, shorthand, tar, oci archive and directory, --load" several

# -o type=local writes every file as the user who runs bale, as BuildKit's client does (its
# syncTargetDiffCopy sets each file's uid and gid to its own): the same files in every mode
# (docs/rootless.md), which a rootless user can remove. The tar keeps the image's owners.
local_owner () {
  printf '%s\n' 'FROM busybox' 'RUN mkdir /lo && touch /lo/f && chown -R 1000:50 /lo && chmod 4755 /lo/f && ln -s f /lo/l && chown -h 7:7 /lo/l' \
    > "$ctx/Dockerfile.lo"
  "$BALE" build -q -f "$ctx/Dockerfile.lo" -o "$o/lo" -o "type=tar,dest=$o/lo.tar" "$ctx" > /dev/null 2> "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
  got=$(cd "$o/lo" && stat -c '%n %u:%g %a' lo lo/f lo/l)
  # The set-user-ID bit is cleared on the host (hostile_dirs.sh local_privileged), with a warning.
  [ "$got" = "lo 0:0 755
lo/f 0:0 755
lo/l 0:0 777" ] && grep -q "'lo/f': set-user-ID and set-group-ID bits cleared" "$T_TMP/err" ||
    { echo "got [$got]"; cat "$T_TMP/err"; return 1; }
  tar -tvf "$o/lo.tar" --numeric-owner lo/f | grep -q '^-rwsr-xr-x 1000/50 ' || { tar -tvf "$o/lo.tar" --numeric-owner lo; return 1; }
}
check "-o type=local: every file is the caller's, as BuildKit's client writes them; the tar keeps owners" local_owner

to_stdout () {
  "$BALE" build -q -o - "$ctx" > "$T_TMP/fs2.tar" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  # stdout holds the tar alone (no image ID after it).
  tar -tf "$T_TMP/fs2.tar" | grep -qx 'out/a.txt' && tar -xOf "$T_TMP/fs2.tar" out/a.txt | grep -qx artifact &&
    "$BALE" build -q -o type=tar,dest=- "$ctx" | tar -tf - | grep -qx 'out/a.txt'
}
check "-o - and type=tar,dest=-: the files as a tar on stdout, nothing else" to_stdout

bad_outputs () {
  ! "$BALE" build -o - -o type=tar,dest=- "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q 'multiple outputs configured to write to stdout' "$T_TMP/err" &&
    : > "$T_TMP/afile" && ! "$BALE" build -o "$T_TMP/afile" "$ctx" 2> "$T_TMP/err" &&
    grep -q "destination directory $T_TMP/afile is a file" "$T_TMP/err" &&
    ! "$BALE" build -o type=tar "$ctx" 2> "$T_TMP/err" && grep -q 'dest is required for tar exporter' "$T_TMP/err" &&
    ! "$BALE" build -o dest=x,name=y "$ctx" 2> "$T_TMP/err" && grep -q 'type is required for output' "$T_TMP/err" &&
    ! "$BALE" build -o type=zip,dest=x "$ctx" 2> "$T_TMP/err" && grep -q "unknown type 'zip'" "$T_TMP/err"
}
check "bad -o: two on stdout, a file as directory, missing dest or type, unknown type" bad_outputs

labels () {
  "$BALE" build -q -t lab --label org.example.a=1 --label empty --label from=cli \
    --annotation org.example.note=hello --annotation manifest:org.example.two=2 \
    -o "type=oci,dest=$o/annotated" "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  "$BALE" inspect lab > "$T_TMP/inspect.json" &&
    [ "$(jq -r '.[0].Config.Labels["org.example.a"]' "$T_TMP/inspect.json")" = 1 ] &&
    [ "$(jq -r '.[0].Config.Labels.empty' "$T_TMP/inspect.json")" = "" ] &&
    [ "$(jq -r '.[0].Config.Labels.from' "$T_TMP/inspect.json")" = cli ] || { cat "$T_TMP/inspect.json"; return 1; }
  m=$(jq -r '.manifests[0].digest' "$o/annotated/index.json" | cut -d: -f2)
  [ "$(jq -r '.annotations["org.example.note"]' "$o/annotated/blobs/sha256/$m")" = hello ] &&
    [ "$(jq -r '.annotations["org.example.two"]' "$o/annotated/blobs/sha256/$m")" = 2 ] || return 1
  ! "$BALE" build --label =x "$ctx" 2> "$T_TMP/err" && grep -q 'empty key' "$T_TMP/err" &&
    ! "$BALE" build --annotation index:a=b "$ctx" 2> "$T_TMP/err" && grep -q 'index annotations need a multi-platform image' "$T_TMP/err" &&
    ! "$BALE" build --annotation manifest-descriptor:a=b "$ctx" 2> "$T_TMP/err" && grep -q "unsupported type 'manifest-descriptor'" "$T_TMP/err"
}
check "--label lands in the config (a CLI label wins), --annotation in the manifest" labels

# A multi-platform build (FROM scratch: no step to emulate): index: annotations in the image
# index, manifest: (the default) in each platform's manifest, manifest,index: in both.
index_annotations () {
  mkdir -p "$T_TMP/mp" && echo mp > "$T_TMP/mp/f" && printf '%s\n' 'FROM scratch' 'COPY f /f' > "$T_TMP/mp/Dockerfile"
  "$BALE" build -q --platform linux/amd64,linux/arm64 --annotation index:org.example.idx=i \
    --annotation manifest,index:org.example.both=b --annotation org.example.m=m \
    -o "type=oci,dest=$o/mp,tar=false" "$T_TMP/mp" > "$T_TMP/id" 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  b=$o/mp/blobs/sha256
  i=$(jq -r '.manifests[0].digest' "$o/mp/index.json" | cut -d: -f2)
  [ "$(jq -c .annotations "$b/$i")" = '{"org.example.idx":"i","org.example.both":"b"}' ] &&
    [ "$(jq '.manifests | length' "$b/$i")" = 2 ] || { jq . "$b/$i"; return 1; }
  for m in $(jq -r '.manifests[].digest' "$b/$i" | cut -d: -f2); do
    [ "$(jq -c .annotations "$b/$m")" = '{"org.example.both":"b","org.example.m":"m"}' ] || { jq . "$b/$m"; return 1; }
  done
}
check "--annotation index: lands in a multi-platform build's index, manifest: in each manifest" index_annotations

metadata () {
  "$BALE" build -t meta:v1 -t meta:v2 --metadata-file "$T_TMP/md.json" --iidfile "$T_TMP/iid" "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
  # A script as CI pipelines use buildx's file: the keys, the digests they name.
  python3 - "$T_TMP/md.json" "$BALE_STORE" "$(cat "$T_TMP/iid")" << 'EOF' || { cat "$T_TMP/md.json"; return 1; }
import hashlib, json, sys
raw = open(sys.argv[1]).read()
md = json.loads(raw)
assert not raw.endswith("\n") and raw.startswith('{\n  "'), "not MarshalIndent"
assert list(md) == sorted(md), "keys not sorted"
digest = md["containerimage.digest"]
manifest = open(sys.argv[2] + "/blobs/sha256/" + digest[7:], "rb").read()
assert "sha256:" + hashlib.sha256(manifest).hexdigest() == digest
assert json.loads(manifest)["config"]["digest"] == md["containerimage.config.digest"] == sys.argv[3]
assert md["containerimage.descriptor"]["digest"] == digest
assert md["containerimage.descriptor"]["size"] == len(manifest)
assert md["image.name"] == "docker.io/library/meta:v1,docker.io/library/meta:v2", md["image.name"]
EOF
  # Only local outputs: buildx's exporters answer nothing.
  "$BALE" build -q -o "$o/mdlocal" --metadata-file "$T_TMP/md2.json" "$ctx" > /dev/null &&
    [ "$(cat "$T_TMP/md2.json")" = "{}" ]
}
check "--metadata-file: buildx's keys and format, the manifest and config digests" metadata

done_testing
