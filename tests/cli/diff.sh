#!/bin/sh
# bale diff end to end: images built from small Dockerfiles on the busybox base that differ
# in one way each; the expected line must appear, and nothing the images share.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
export SOURCE_DATE_EPOCH=1700000000

# image NAME LINE...: build a Dockerfile of LINEs as NAME:latest.
image () {
  name=$1
  shift
  printf '%s\n' "$@" > "$ctx/Dockerfile"
  "$BALE" build -q -t "$name" "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}

# differ A B EXPECTED...: `bale diff A B` exits 1 and prints exactly the EXPECTED lines.
differ () {
  a=$1 b=$2
  shift 2
  "$BALE" diff "$a" "$b" > "$T_TMP/out" 2>&1
  rc=$?
  printf '%s\n' "$@" > "$T_TMP/want"
  [ "$rc" = 1 ] && diff -u "$T_TMP/want" "$T_TMP/out" || { echo "exit $rc"; cat "$T_TMP/out"; return 1; }
}

# same A B [OPTIONS]: `bale diff` exits 0 and prints nothing.
same () {
  out=$("$BALE" diff "$@" 2>&1)
  rc=$?
  [ "$rc" = 0 ] && [ -z "$out" ] || { echo "exit $rc"; printf '%s\n' "$out"; return 1; }
}

RUN_F='RUN echo one > /f'
H_F='history[1] created_by: "RUN /bin/sh -c echo one > /f # buildkit"'

base_images () {
  image base 'FROM busybox' "$RUN_F" && image base2 'FROM busybox' "$RUN_F"
}
check "build the base image twice" base_images

check "identical builds: exit 0, no output" same base base2
check "an image against itself" same base base

env_value () {
  image env1 'FROM busybox' 'ENV A=1 B=x' && image env2 'FROM busybox' 'ENV A=2 B=x' &&
    differ env1 env2 'config Env A: 1 -> 2' \
      'history[1] created_by: "ENV A=1 B=x" -> "ENV A=2 B=x"'
}
check "an Env value, by key" env_value

label_and_fields () {
  image cfg 'FROM busybox' "$RUN_F" 'LABEL org.x="a b"' 'USER 1000' 'WORKDIR /w' \
    'CMD ["sh"]' 'STOPSIGNAL SIGINT' 'EXPOSE 80' &&
    "$BALE" diff base cfg > "$T_TMP/out"
  [ $? = 1 ] || return 1
  for want in 'config User: (none) -> 1000' 'config ExposedPorts 80/tcp: (none) -> {}' \
    'config WorkingDir: (none) -> /w' 'config Labels org.x: (none) -> "a b"' \
    'config StopSignal: (none) -> SIGINT' 'file /w: added (directory)'; do
    grep -qxF "$want" "$T_TMP/out" || { echo "missing: $want"; cat "$T_TMP/out"; return 1; }
  done
  grep -q '^config Cmd: \["sh"\] -> \["sh"\]' "$T_TMP/out" && return 1
  ! grep -q '^file /f' "$T_TMP/out"
}
check "config fields and labels; nothing about what is the same" label_and_fields

history_entry () {
  image hist 'FROM busybox' 'RUN echo one > /f # same result' &&
    differ base hist "$H_F"' -> "RUN /bin/sh -c echo one > /f # same result # buildkit"'
}
check "a history entry, files equal" history_entry

content () {
  image content 'FROM busybox' 'RUN echo two > /f' &&
    differ base content "$H_F"' -> "RUN /bin/sh -c echo two > /f # buildkit"' \
      'file /f: content sha256:2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c525434806 -> sha256:27dd8ed44a83ff94d557f9fd0412ed5a8cbca69ea04922d88c01184a07300a5a'
}
check "a file's content" content

mode_owner_mtime () {
  image meta 'FROM busybox' 'RUN echo one > /f && chmod 600 /f && chown 7:8 /f && touch -d @1600000000 /f' &&
    "$BALE" diff base meta > "$T_TMP/out"
  [ $? = 1 ] || return 1
  for want in 'file /f: mode 0644 -> 0600' 'file /f: owner 0:0 -> 7:8' \
    'file /f: mtime 1700000000 -> 1600000000'; do
    grep -qxF "$want" "$T_TMP/out" || { echo "missing: $want"; cat "$T_TMP/out"; return 1; }
  done
  ! grep -q 'file /f: content' "$T_TMP/out"
}
check "a file's mode, owner and mtime" mode_owner_mtime

symlink_target () {
  image ln1 'FROM busybox' 'RUN ln -s /a /l' && image ln2 'FROM busybox' 'RUN ln -s /b /l' &&
    differ ln1 ln2 'history[1] created_by: "RUN /bin/sh -c ln -s /a /l # buildkit" -> "RUN /bin/sh -c ln -s /b /l # buildkit"' \
      'file /l: symlink /a -> /b'
}
check "a symlink target" symlink_target

whiteout () {
  image wh 'FROM busybox' "$RUN_F" 'RUN rm /bin/ls' &&
    "$BALE" diff base wh > "$T_TMP/out"
  [ $? = 1 ] && grep -qxF 'file /bin/ls: removed (symlink)' "$T_TMP/out" &&
    grep -qxF 'rootfs diff_ids: 2 -> 3' "$T_TMP/out" &&
    ! grep -q '^file /f' "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
}
check "a file deleted by a later layer's whiteout" whiteout

opaque_dir () {
  image op1 'FROM busybox' 'RUN mkdir /o && echo 2 > /o/c' &&
    image op2 'FROM busybox' 'RUN mkdir /o && echo 1 > /o/a && echo 2 > /o/c' \
      'RUN rm -rf /o && mkdir /o && echo 2 > /o/c' &&
    "$BALE" build -q -t op2 --output "type=oci,dest=$T_TMP/op2.oci" "$ctx" > /dev/null || return 1
  # The test means something only if a layer really carries the opaque marker.
  found=
  for b in "$T_TMP"/op2.oci/blobs/sha256/*; do
    tar -tf "$b" 2> /dev/null | grep -q '^o/.wh..wh..opq$' && found=1
  done
  [ -n "$found" ] || { echo "no opaque marker in op2"; return 1; }
  "$BALE" diff op1 op2 > "$T_TMP/out"
  [ $? = 1 ] && ! grep -q '^file ' "$T_TMP/out" && grep -qxF 'rootfs diff_ids: 2 -> 3' "$T_TMP/out" ||
    { cat "$T_TMP/out"; return 1; }
}
check "an opaque directory hides what the layers below held" opaque_dir

ignore_timestamps () {
  SOURCE_DATE_EPOCH=1700000100 image later 'FROM busybox' "$RUN_F" || return 1
  "$BALE" diff base later > "$T_TMP/out"
  [ $? = 1 ] && grep -q '^config created: ' "$T_TMP/out" && grep -q '^history\[1\] created: ' "$T_TMP/out" &&
    grep -qxF 'file /f: mtime 1700000000 -> 1700000100' "$T_TMP/out" &&
    ! grep -v -e ' created: ' -e ': mtime ' "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  same base later --ignore-timestamps || return 1
  # Only time is left out: a content difference still shows.
  SOURCE_DATE_EPOCH=1700000100 image later2 'FROM busybox' 'RUN echo two > /f' || return 1
  "$BALE" diff --ignore-timestamps base later2 > "$T_TMP/out"
  [ $? = 1 ] && grep -q '^file /f: content ' "$T_TMP/out" && ! grep -q -e 'created:' -e 'mtime' "$T_TMP/out"
}
check "--ignore-timestamps hides created and mtimes, and only those" ignore_timestamps

json_output () {
  "$BALE" diff --format json base content > "$T_TMP/out"
  [ $? = 1 ] || return 1
  python3 - "$T_TMP/out" <<'EOF' || { cat "$T_TMP/out"; return 1; }
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 2, d
assert {k: d[0][k] for k in ("kind", "index", "field")} == {
    "kind": "history", "index": 1, "field": "created_by"}, d[0]
assert d[1] == {"kind": "file", "path": "/f", "field": "content",
    "a": "sha256:2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c525434806",
    "b": "sha256:27dd8ed44a83ff94d557f9fd0412ed5a8cbca69ea04922d88c01184a07300a5a"}, d[1]
EOF
  "$BALE" diff --format json base base2 > "$T_TMP/out" &&
    python3 -c 'import json, sys; assert json.load(open(sys.argv[1])) == []' "$T_TMP/out"
}
check "--format json parses and holds kind, path, field, a, b" json_output

oci_export () {
  image exp 'FROM busybox' "$RUN_F" 'RUN rm /bin/ls && mkdir /d && echo x > /d/y' 'LABEL a=b' &&
    "$BALE" build -q -t exp --output "type=oci,dest=$T_TMP/exp.oci" "$ctx" > /dev/null || return 1
  same exp "oci:$T_TMP/exp.oci" && same "oci:$T_TMP/exp.oci:latest" exp &&
    (cd "$T_TMP" && same ./exp.oci exp) || return 1
  # The layout is really read: against another image its differences show.
  "$BALE" diff "oci:$T_TMP/exp.oci" base > "$T_TMP/out"
  [ $? = 1 ] && grep -qxF 'config Labels a: b -> (none)' "$T_TMP/out" &&
    grep -qxF 'file /bin/ls: added (symlink)' "$T_TMP/out" &&
    grep -qxF 'file /d/y: removed (file)' "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
}
check "a store image equals its own --output type=oci export" oci_export

archives () {
  "$BALE" save -o "$T_TMP/base.tar" base && same base "docker-archive:$T_TMP/base.tar" &&
    (cd "$T_TMP/exp.oci" && tar -cf "$T_TMP/exp-oci.tar" .) &&
    same "oci-archive:$T_TMP/exp-oci.tar" exp
}
check "docker-archive: and oci-archive: operands" archives

errors () {
  "$BALE" diff base nosuch > "$T_TMP/out" 2>&1
  [ $? = 2 ] && grep -q "image 'nosuch'" "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  "$BALE" diff "oci:$T_TMP/none" base > "$T_TMP/out" 2>&1
  [ $? = 2 ] && grep -q "image 'oci:$T_TMP/none'" "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  "$BALE" diff "oci:$T_TMP/exp.oci:nosuchtag" base > "$T_TMP/out" 2>&1
  [ $? = 2 ] && grep -q "no image named 'nosuchtag'" "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  # A damaged layer: the message names the operand and the layer.
  cp -r "$T_TMP/exp.oci" "$T_TMP/bad.oci" || return 1
  for b in "$T_TMP"/bad.oci/blobs/sha256/*; do
    [ "$(stat -c %s "$b")" -gt 10000 ] && head -c 5000 "$b" > "$b.cut" && mv "$b.cut" "$b"
  done
  "$BALE" diff base "oci:$T_TMP/bad.oci" > "$T_TMP/out" 2>&1
  [ $? = 2 ] && grep -q "image 'oci:$T_TMP/bad.oci': layer 0 ('$T_TMP/bad.oci/blobs/sha256/" "$T_TMP/out" ||
    { cat "$T_TMP/out"; return 1; }
  "$BALE" diff base > /dev/null 2>&1
  [ $? = 2 ] || return 1
  "$BALE" diff --format yaml base base > /dev/null 2>&1
  [ $? = 2 ]
}
check "errors exit 2 and name the operand" errors

done_testing
