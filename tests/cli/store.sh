#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The store commands from the command line: load, images, tag, inspect, save, rmi, prune.
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
MKIMAGE=${MKIMAGE:-${top_builddir:-.}/tests/helpers/mkimage}
case "$MKIMAGE" in /*) ;; *) MKIMAGE="$(pwd)/$MKIMAGE" ;; esac
STORE=$T_TMP/store
export BALE_STORE="$STORE"
sha () { sha256sum "$1" | cut -d' ' -f1; }

# A legacy (Docker < 25) docker-archive made with tar alone: <id>/layer.tar, <config>.json,
# manifest.json, repositories.
hand_archive () {
  d=$T_TMP/hand
  rm -rf "$d" && mkdir -p "$d/root" "$d/arch/v1id" || return 1
  printf 'hello from a hand-made layer\n' > "$d/root/hello"
  tar -C "$d/root" --owner=0 --group=0 --numeric-owner -cf "$d/arch/v1id/layer.tar" hello || return 1
  diff_id=sha256:$(sha "$d/arch/v1id/layer.tar")
  printf '{"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z","config":{"Cmd":["/hello"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$diff_id" > "$d/arch/config.json"
  cfg=$(sha "$d/arch/config.json")
  mv "$d/arch/config.json" "$d/arch/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["hand:v1"],"Layers":["v1id/layer.tar"]}]\n' "$cfg" > "$d/arch/manifest.json"
  printf '{"hand":{"v1":"v1id"}}\n' > "$d/arch/repositories"
  printf '1.0' > "$d/arch/v1id/VERSION"
  tar -C "$d/arch" -cf "$1" . && echo "$cfg" > "$T_TMP/hand.id"
}

load_hand () {
  hand_archive "$T_TMP/hand.tar" || return 1
  "$BALE" load -i "$T_TMP/hand.tar" > "$T_TMP/out" || return 1
  grep -qx 'Loaded image: hand:v1' "$T_TMP/out"
}
check "load a hand-made legacy docker-archive" load_hand

load_gzipped () {
  gzip -c "$T_TMP/hand.tar" > "$T_TMP/hand.tar.gz" &&
    BALE_STORE=$T_TMP/store-gz "$BALE" load -i "$T_TMP/hand.tar.gz" | grep -qx 'Loaded image: hand:v1' &&
    BALE_STORE=$T_TMP/store-gz2 "$BALE" load < "$T_TMP/hand.tar.gz" | grep -qx 'Loaded image: hand:v1'
}
check "load a compressed archive (docker save | gzip), from a file and from stdin" load_gzipped

images_table () {
  "$BALE" images > "$T_TMP/out" || return 1
  id=$(cut -c1-12 "$T_TMP/hand.id")
  head -1 "$T_TMP/out" | grep -Eq '^REPOSITORY   TAG       IMAGE ID       CREATED +SIZE$' &&
    grep -Eq "^hand +v1 +$id +[0-9]+ (months|years) ago +[0-9.]+k?B\$" "$T_TMP/out"
}
check "images prints docker's columns and a 12-digit ID" images_table

images_json () {
  "$BALE" images --format json > "$T_TMP/out.json" || return 1
  python3 - "$T_TMP/out.json" "$(cat "$T_TMP/hand.id")" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
r = rows[0]
assert (r["Repository"], r["Tag"], r["ID"]) == ("hand", "v1", sys.argv[2][:12]), r
assert r["CreatedAt"] == "2024-01-02T03:04:05Z" and r["Digest"].startswith("sha256:"), r
EOF
}
check "images --format json" images_json

load_mkimage () {
  "$MKIMAGE" "$T_TMP/layout" "$T_TMP/d.tar" "$T_TMP/o.tar" "mk:1" > "$T_TMP/digests" || return 1
  "$BALE" load -i "$T_TMP/d.tar" | grep -qx 'Loaded image: mk:1' &&
    "$BALE" load -i "$T_TMP/o.tar" | grep -qx 'Loaded image: mk:1' &&
    "$BALE" load -i "$T_TMP/layout" | grep -qx 'Loaded image: mk:1' &&
    "$BALE" images | grep -q '^mk  *1 '
}
check "load a Docker 25 docker-archive, an OCI archive and an OCI layout" load_mkimage

tag_and_inspect () {
  "$BALE" tag hand:v1 example.com/team/app:2 || return 1
  "$BALE" tag "$(cut -c1-12 "$T_TMP/hand.id")" other || return 1
  "$BALE" inspect other > "$T_TMP/inspect.json" || return 1
  python3 - "$T_TMP/inspect.json" "$(cat "$T_TMP/hand.id")" <<'EOF'
import json, sys
[img] = json.load(open(sys.argv[1]))
assert img["Id"] == "sha256:" + sys.argv[2], img["Id"]
assert sorted(img["RepoTags"]) == ["example.com/team/app:2", "hand:v1", "other:latest"], img["RepoTags"]
assert img["Architecture"] == "amd64" and img["Os"] == "linux", img
assert img["Config"]["Cmd"] == ["/hello"], img["Config"]
assert img["RootFS"]["Type"] == "layers" and len(img["RootFS"]["Layers"]) == 1
assert img["Created"] == "2024-01-02T03:04:05Z" and img["Size"] > 0
EOF
}
check "tag by name and by ID, inspect" tag_and_inspect

normalized_names () {
  "$BALE" inspect docker.io/library/hand:v1 > /dev/null &&
    "$BALE" inspect library/other > /dev/null &&
    "$BALE" inspect "sha256:$(cat "$T_TMP/hand.id")" > /dev/null
}
check "names are normalised as Docker does; IDs resolve" normalized_names

save_round_trip () {
  "$BALE" save -o "$T_TMP/saved.tar" hand:v1 mk:1 || return 1
  tar -xOf "$T_TMP/saved.tar" manifest.json > "$T_TMP/manifest.json" || return 1
  python3 - "$T_TMP/manifest.json" <<'EOF'
import json, sys
items = json.load(open(sys.argv[1]))
assert sorted(t for i in items for t in i["RepoTags"]) == ["hand:v1", "mk:1"], items
for i in items:
    assert i["Config"].startswith("blobs/sha256/") and len(i["Layers"]) == 1, i
EOF
  BALE_STORE=$T_TMP/store2 "$BALE" load -i "$T_TMP/saved.tar" > "$T_TMP/out" || return 1
  grep -qx 'Loaded image: hand:v1' "$T_TMP/out" && grep -qx 'Loaded image: mk:1' "$T_TMP/out" &&
    "$BALE" --store "$T_TMP/store2" images -q | grep -qx "$(cut -c1-12 "$T_TMP/hand.id")"
}
check "save two images, load them into another store (--store)" save_round_trip

save_to_stdout () {
  "$BALE" save mk:1 > "$T_TMP/stdout.tar" && tar -tf "$T_TMP/stdout.tar" | grep -qx manifest.json &&
    BALE_STORE=$T_TMP/store3 "$BALE" load -i "$T_TMP/stdout.tar" | grep -qx 'Loaded image: mk:1'
}
check "save to standard output" save_to_stdout

rmi_removes_blobs () {
  "$BALE" rmi other > "$T_TMP/out" || return 1
  grep -qx 'Untagged: other:latest' "$T_TMP/out" || return 1
  # The image still has names: its blobs stay.
  [ -f "$STORE/blobs/sha256/$(cat "$T_TMP/hand.id")" ] || return 1
  "$BALE" rmi hand:v1 example.com/team/app:2 > "$T_TMP/out" || return 1
  grep -q '^Deleted: sha256:' "$T_TMP/out" && [ ! -f "$STORE/blobs/sha256/$(cat "$T_TMP/hand.id")" ] &&
    ! "$BALE" images | grep -q '^hand '
}
check "rmi untags, and deletes blobs no name needs" rmi_removes_blobs

prune_untagged () {
  # An archive without RepoTags gives an untagged image.
  hand_archive "$T_TMP/h2.tar" || return 1
  mkdir -p "$T_TMP/untagged" && tar -C "$T_TMP/untagged" -xf "$T_TMP/h2.tar" || return 1
  sed 's/"RepoTags":\["hand:v1"\]/"RepoTags":null/' "$T_TMP/untagged/manifest.json" > "$T_TMP/m" &&
    mv "$T_TMP/m" "$T_TMP/untagged/manifest.json" && tar -C "$T_TMP/untagged" -cf "$T_TMP/h3.tar" . || return 1
  "$BALE" load -i "$T_TMP/h3.tar" | grep -q '^Loaded image ID: sha256:' || return 1
  "$BALE" images | grep -q '^<none>  *<none> ' || return 1
  "$BALE" prune > "$T_TMP/out" || return 1
  grep -q '^Total reclaimed space: ' "$T_TMP/out" && ! "$BALE" images | grep -q '<none>' &&
    "$BALE" images | grep -q '^mk '
}
check "prune removes untagged images and keeps named ones" prune_untagged

errors_name_things () {
  "$BALE" rmi nothere 2> "$T_TMP/err" && return 1
  grep -qx "bale rmi: no such image: 'nothere'" "$T_TMP/err" || return 1
  "$BALE" load -i "$T_TMP/missing.tar" 2> "$T_TMP/err" && return 1
  grep -q "cannot load '$T_TMP/missing.tar': No such file or directory" "$T_TMP/err" || return 1
  head -c 4096 /dev/urandom > "$T_TMP/junk.tar"
  "$BALE" load -i "$T_TMP/junk.tar" 2> "$T_TMP/err" && return 1
  grep -q "cannot read archive '$T_TMP/junk.tar'" "$T_TMP/err" || return 1
  "$BALE" inspect mk:1 nothere > "$T_TMP/out" 2> "$T_TMP/err" && return 1
  grep -qx "bale inspect: no such image: 'nothere'" "$T_TMP/err" && grep -q '"mk:1"' "$T_TMP/out" || return 1
  mkdir -p "$T_TMP/notlayout" && "$BALE" load -i "$T_TMP/notlayout" 2> "$T_TMP/err" && return 1
  grep -q "'$T_TMP/notlayout' is a directory but not an OCI layout" "$T_TMP/err" || return 1
  "$BALE" tag mk:1 'Bad:Name!' 2> "$T_TMP/err" && return 1
  grep -q "invalid image name" "$T_TMP/err"
}
check "errors name the image or the file; exit status 1" errors_name_things

traversal_rejected () {
  python3 - "$T_TMP/evil.tar" <<'EOF' || return 1
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b'[{"Config":"c.json","RepoTags":["evil:1"],"Layers":["../../etc/passwd"]}]'
    info = tarfile.TarInfo("manifest.json"); info.size = len(data)
    t.addfile(info, io.BytesIO(data))
    info = tarfile.TarInfo("../escape"); info.size = 1
    t.addfile(info, io.BytesIO(b"x"))
EOF
  "$BALE" load -i "$T_TMP/evil.tar" 2> "$T_TMP/err" && return 1
  grep -q "unsafe path '../escape'" "$T_TMP/err" && [ ! -e "$T_TMP/escape" ] &&
    ! "$BALE" images | grep -q '^evil '
}
check "a docker-archive with a path outside the archive is refused" traversal_rejected

# diff_ids NAME: the image's layer diff_ids as snapshot names (hex), one a line.
diff_ids () {
  "$BALE" inspect "$1" > "$T_TMP/inspect.json" &&
    python3 -c 'import json, sys; [print(l.split(":")[1]) for l in json.load(open(sys.argv[1]))[0]["RootFS"]["Layers"]]' "$T_TMP/inspect.json"
}

snapshots_collected () (
  export BALE_STORE="$T_TMP/snapstore"
  ctx=$T_TMP/snapctx
  mkdir -p "$ctx" && printf 'FROM busybox\nRUN echo gc > /gc\n' > "$ctx/Dockerfile" || exit 1
  busybox_archive "$T_TMP/busybox.tar" && "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || exit 1
  "$BALE" build -q -t gc-run "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; exit 1; }
  base=$(diff_ids busybox | tail -1) && top=$(diff_ids gc-run | tail -1) || exit 1
  snaps=$BALE_STORE/snapshots
  [ -d "$snaps/$base/fs" ] && [ -d "$snaps/$top/fs" ] || { ls -la "$snaps"; exit 1; }
  mkdir -p "$snaps/$top.tmp/fs/ro" && chmod 0555 "$snaps/$top.tmp/fs/ro" || exit 1
  # rmi: the build cache entry of the RUN step still names its layer, so the snapshot stays.
  "$BALE" rmi gc-run > /dev/null && [ -d "$snaps/$top/fs" ] && [ ! -e "$snaps/$top.tmp" ] || { ls -la "$snaps"; exit 1; }
  # prune drops the build cache: the RUN layer's snapshot and lock go, the base's stays.
  "$BALE" prune > /dev/null || exit 1
  ls "$snaps" > "$T_TMP/snaps"
  ! grep -q "^$top" "$T_TMP/snaps" && grep -qx "$base" "$T_TMP/snaps" || { cat "$T_TMP/snaps"; exit 1; }
  # A new build unpacks what it needs again (its RUN layer may be another one: /gc gets a
  # new mtime when the step runs in another second).
  "$BALE" build -q -t gc-run "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; exit 1; }
  top=$(diff_ids gc-run | tail -1) || exit 1
  [ -d "$snaps/$top/fs" ] || { echo "no snapshot of the new RUN layer $top"; ls -la "$snaps"; exit 1; }
  [ "$("$BALE" run gc-run cat /gc)" = gc ]
)
check "prune removes the snapshots of layers nothing names any more, and only those" snapshots_collected

existing_commands () {
  printf 'FROM scratch\n' > "$T_TMP/Dockerfile" && "$BALE" parse -f "$T_TMP/Dockerfile" > /dev/null &&
    "$BALE" --help | grep -q '^  images '
}
check "parse still works; help lists the store commands" existing_commands

done_testing
