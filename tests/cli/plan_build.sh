#!/bin/sh
# `bale plan`, `bale build` of metadata-only images, and `bale explain`, from the command line.
# The OCI outputs are checked with the real clients skopeo and umoci.
. "${top_srcdir:-.}/tests/cli/lib.sh"

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
export BALE_STORE="$T_TMP/store"
ctx="$T_TMP/ctx"
mkdir -p "$ctx"

plan_shows_expanded_args () {
  cat > "$ctx/Dockerfile" <<'DF'
ARG BASE=scratch
FROM $BASE AS build
ARG V=1
ENV A=$V
COPY --chown=1:1 a b ./
FROM scratch
COPY --from=build /x /x
DF
  "$BALE" plan --build-arg V=7 --build-arg NOPE=1 "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" || return 1
  grep -q 'ENV  *metadata "A"="7"' "$T_TMP/out" &&
    grep -q 'COPY  *layer  *"a" "b" "./"' "$T_TMP/out" &&
    grep -q 'reads: context:a, context:b' "$T_TMP/out" &&
    grep -q 'needs: build' "$T_TMP/out" &&
    grep -q 'build-args \[NOPE\] were not consumed' "$T_TMP/err"
}
check "plan: expanded arguments, reads, needs, unused build arg warning" plan_shows_expanded_args

plan_json () {
  "$BALE" plan --format json --build-arg V=7 "$ctx" > "$T_TMP/plan.json" 2>/dev/null || return 1
  python3 - "$T_TMP/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
s = p["stages"][0]["steps"]
assert [x["kind"] for x in s] == ["metadata", "metadata", "layer"], s
assert s[2]["created_by"] == "COPY --chown=1:1 a b ./ # buildkit", s[2]
assert p["stages"][1]["needs"] == ["build"]
PY
}
check "plan --format json: kinds, created_by, needs" plan_json

bare_build_arg_from_environment () {
  printf 'FROM scratch\nARG V\nLABEL v=$V\n' > "$ctx/Dockerfile"
  V=fromenv "$BALE" plan --format json --build-arg V "$ctx" 2>/dev/null | grep -q '"v": "fromenv"' &&
    "$BALE" plan --format json --build-arg UNSET_IN_ENV "$ctx" 2>&1 | grep -q '"ARG V"'
}
check "plan: a bare --build-arg takes the environment, dropped when unset" bare_build_arg_from_environment

plan_error_is_located () {
  printf 'FROM scratch\nSTOPSIGNAL SIGNOPE\n' > "$ctx/Dockerfile"
  if "$BALE" plan "$ctx" > /dev/null 2> "$T_TMP/err"; then return 1; fi
  grep -q "Dockerfile:2:1: error: Invalid signal: SIGNOPE" "$T_TMP/err"
}
check "plan: errors are located, exit 1" plan_error_is_located

build_oci_layout () {
  cat > "$ctx/Dockerfile" <<'DF'
FROM scratch
ENV GREETING=hi
LABEL org.example=1
ENTRYPOINT ["echo","Hello, World!"]
CMD ["Welcome"]
EXPOSE 80
DF
  SOURCE_DATE_EPOCH=1700000000 "$BALE" build -q --iidfile "$T_TMP/iid" \
    --output "type=oci,dest=$T_TMP/oci" "$ctx" > "$T_TMP/id" || return 1
  [ "$(cat "$T_TMP/iid")" = "$(cat "$T_TMP/id")" ] || return 1
  skopeo inspect --config "oci:$T_TMP/oci" > "$T_TMP/config.json" || return 1
  python3 - "$T_TMP/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["created"] == "2023-11-14T22:13:20Z", c["created"]
assert c["config"]["Entrypoint"] == ["echo", "Hello, World!"]
assert c["config"]["Cmd"] == ["Welcome"]
assert c["config"]["ExposedPorts"] == {"80/tcp": {}}
# BuildKit's exporter encodes a nil slice of diff_ids: null, not []
assert c["rootfs"] == {"type": "layers", "diff_ids": None}, c["rootfs"]
assert all(h.get("empty_layer") for h in c["history"]), c["history"]
assert all(h["created"] == "2023-11-14T22:13:20Z" for h in c["history"]), c["history"]
PY
}
check "build: metadata-only image as an OCI layout that skopeo reads" build_oci_layout

build_untimed_config () {
  # No layer and no SOURCE_DATE_EPOCH: nothing has a time, and BuildKit writes the config
  # with "created":null and history entries without "created" (docker inspect shows year 1).
  "$BALE" build -q --output "type=oci,dest=$T_TMP/oci-untimed" "$ctx" > /dev/null || return 1
  skopeo inspect --raw --config "oci:$T_TMP/oci-untimed" > "$T_TMP/raw.json" || return 1
  python3 - "$T_TMP/raw.json" <<'PY'
import json, sys
raw = open(sys.argv[1]).read()
c = json.loads(raw)
assert '"created":null' in raw and c["created"] is None, raw
assert not any("created" in h for h in c["history"]), c["history"]
assert '"rootfs":{"type":"layers","diff_ids":null}' in raw, raw
PY
}
check "build: a metadata-only FROM scratch image without SOURCE_DATE_EPOCH has no time, as BuildKit's" build_untimed_config

build_reproducible () {
  SOURCE_DATE_EPOCH=1700000000 "$BALE" build -q --output "type=oci-archive,dest=$T_TMP/a.tar" "$ctx" > /dev/null &&
    SOURCE_DATE_EPOCH=1700000000 "$BALE" build -q --output "type=oci-archive,dest=$T_TMP/b.tar" "$ctx" > /dev/null &&
    cmp "$T_TMP/a.tar" "$T_TMP/b.tar" &&
    skopeo inspect "oci-archive:$T_TMP/a.tar" > /dev/null
}
check "build: SOURCE_DATE_EPOCH gives bit-identical archives" build_reproducible

build_umoci_stat () {
  rm -rf "$T_TMP/oci2"
  SOURCE_DATE_EPOCH=0 "$BALE" build -q -f "$ctx/Dockerfile" --output "type=oci,dest=$T_TMP/oci2" "$ctx" > /dev/null || return 1
  # umoci wants a tag: name the index entry as a tagged build would.
  python3 - "$T_TMP/oci2/index.json" <<'PY'
import json, sys
p = sys.argv[1]; i = json.load(open(p))
i["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
json.dump(i, open(p, "w"))
PY
  umoci stat --image "$T_TMP/oci2:latest" --json > "$T_TMP/stat.json" &&
    python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["history"]; assert len(h)==5, h' "$T_TMP/stat.json"
}
check "build: umoci stat reads the history" build_umoci_stat

build_docker_archive () {
  SOURCE_DATE_EPOCH=0 "$BALE" build -q --output "type=docker-archive,dest=$T_TMP/d.tar" "$ctx" > /dev/null &&
    tar -tf "$T_TMP/d.tar" | grep -qx manifest.json &&
    skopeo inspect "docker-archive:$T_TMP/d.tar" > /dev/null
}
check "build: docker-archive output" build_docker_archive

build_failure_writes_nothing () {
  printf 'FROM scratch\nENV A=1\nCOPY missing /a\n' > "$ctx/Dockerfile"
  if "$BALE" build -q -t never --output "type=oci,dest=$T_TMP/never" "$ctx" > /dev/null 2> "$T_TMP/err"; then return 1; fi
  grep -q 'Dockerfile:3:1: error: COPY: "missing": not found in the build context' "$T_TMP/err" &&
    [ ! -e "$T_TMP/never" ] && ! "$BALE" images | grep -q '^never '
}
check "build: a failing step is located, and writes no output and no name" build_failure_writes_nothing

build_bad_output () {
  ! "$BALE" build --output type=tarball,dest=x "$ctx" 2> "$T_TMP/err" &&
    grep -q "unknown type 'tarball'" "$T_TMP/err" &&
    ! "$BALE" build --output type=oci "$ctx" 2> "$T_TMP/err" && grep -q "dest is required for oci exporter" "$T_TMP/err"
}
check "build: bad --output specs are rejected" build_bad_output

explain_traps () {
  cat > "$ctx/Dockerfile" <<'DF'
FROM scratch AS base
CMD ["serve"]
FROM base
ENTRYPOINT /app/run --port 80
ENTRYPOINT /app/run --port 8080
DF
  "$BALE" build -q --output "type=oci,dest=$T_TMP/ex" "$ctx" > /dev/null 2>&1 || return 1
  "$BALE" explain --dir "$T_TMP/ex" > "$T_TMP/out" || return 1
  grep -q '^ENTRYPOINT  \["/bin/sh","-c","/app/run --port 8080"\]  shell$' "$T_TMP/out" &&
    grep -q "Dockerfile:5: ENTRYPOINT /app/run --port 8080 (stage stage-1)" "$T_TMP/out" &&
    grep -q '^CMD         (none)$' "$T_TMP/out" &&
    grep -q 'warning: the CMD at .*Dockerfile:2 (stage base) was dropped by the ENTRYPOINT at .*Dockerfile:4' "$T_TMP/out" &&
    grep -q 'warning: stage stage-1 has 2 ENTRYPOINT instructions (lines 4, 5)' "$T_TMP/out" &&
    grep -q 'warning: the ENTRYPOINT is in shell form: /bin/sh runs as PID 1' "$T_TMP/out" &&
    grep -q 'warning: ENTRYPOINT is in shell form: CMD and run arguments will be ignored' "$T_TMP/out"
}
check "explain: dropped CMD, several ENTRYPOINTs, shell form, signals" explain_traps

explain_run_arguments () {
  printf 'FROM scratch\nENTRYPOINT ["echo","Hello, World!"]\nCMD ["x"]\n' > "$ctx/Dockerfile"
  rm -rf "$T_TMP/ex2"
  "$BALE" build -q --output "type=oci,dest=$T_TMP/ex2" "$ctx" > /dev/null 2>&1 || return 1
  "$BALE" explain --dir "$T_TMP/ex2" -- Welcome | grep -q '^runs        \["echo","Hello, World!","Welcome"\]$' &&
    "$BALE" explain --dir "$T_TMP/ex2" | grep -q '^runs        \["echo","Hello, World!","x"\]$' &&
    "$BALE" explain --dir "$T_TMP/ex2" --entrypoint /bin/sh | grep -q '^runs        \["/bin/sh"\]$' &&
    "$BALE" explain --dir "$T_TMP/ex2" --format json -- a b |
      python3 -c 'import json,sys; e=json.load(sys.stdin); assert e["argv"]==["echo","Hello, World!","a","b"] and e["warnings"]==[], e'
}
check "explain: run arguments replace CMD and follow an exec ENTRYPOINT" explain_run_arguments

explain_shell_cmd_signals () {
  printf 'FROM scratch\nCMD python app.py\n' > "$ctx/Dockerfile"
  rm -rf "$T_TMP/ex3"
  "$BALE" build -q --output "type=oci,dest=$T_TMP/ex3" "$ctx" > /dev/null 2>&1 || return 1
  "$BALE" explain --dir "$T_TMP/ex3" | grep -q 'warning: the CMD is in shell form: /bin/sh runs as PID 1' &&
    ! "$BALE" explain --dir "$T_TMP/ex3" -- python other.py | grep -q warning
}
check "explain: a shell-form CMD will not get signals, unless replaced" explain_shell_cmd_signals

explain_without_provenance () {
  # Another builder's image: no build record, shell form recognised by its shape.
  BALE_STORE="$T_TMP/empty-store" "$BALE" explain --dir "$T_TMP/ex3" > "$T_TMP/out" &&
    grep -q 'from the image config (no bale build record)' "$T_TMP/out" &&
    grep -q '^CMD         \["/bin/sh","-c","python app.py"\]  shell$' "$T_TMP/out"
}
check "explain: images without a build record" explain_without_provenance

build_on_store_image () {
  busybox_archive "$T_TMP/busybox.tar" || return 1
  "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || return 1
  printf 'FROM busybox\nENTRYPOINT ["/bin/echo"]\nLABEL x=1\n' > "$ctx/Dockerfile"
  "$BALE" build -q -t bbtest:1 "$ctx" > "$T_TMP/id" 2>/dev/null || return 1
  "$BALE" images | grep -q '^bbtest  *1  ' || return 1
  "$BALE" inspect bbtest:1 > "$T_TMP/inspect.json" || return 1
  python3 - "$T_TMP/inspect.json" "$(cat "$T_TMP/id")" <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))[0]
assert i["Id"] == sys.argv[2], (i["Id"], sys.argv[2])
assert i["Config"]["Entrypoint"] == ["/bin/echo"] and "Cmd" not in i["Config"], i["Config"]
assert len(i["RootFS"]["Layers"]) == 1, i["RootFS"]
PY
}
check "build: FROM an image in the store, -t names the result" build_on_store_image

explain_store_image_dropped_cmd () {
  "$BALE" explain bbtest:1 > "$T_TMP/out" || return 1
  grep -q 'warning: the CMD \["sh"\] inherited from base image docker.io/library/busybox:latest was dropped by the ENTRYPOINT at .*Dockerfile:2' "$T_TMP/out" &&
    grep -q '^runs        \["/bin/echo"\]$' "$T_TMP/out" &&
    "$BALE" explain busybox | grep -q 'from the image config (no bale build record)'
}
check "explain: an image in the store, the base CMD dropped by ENTRYPOINT" explain_store_image_dropped_cmd

build_missing_base () {
  # Not in the store, so bale pulls it, from a registry that is not there.
  printf 'FROM 127.0.0.1:1/not/here:1\nCMD ["x"]\n' > "$ctx/Dockerfile"
  if "$BALE" build -q "$ctx" > /dev/null 2> "$T_TMP/err"; then return 1; fi
  grep -q "Dockerfile:1:6: error: base image 127.0.0.1:1/not/here:1: .*Couldn't connect" "$T_TMP/err" &&
    "$BALE" plan "$ctx" 2>&1 | grep -q 'base image 127.0.0.1:1/not/here:1 is not in the store: planning with an empty image config'
}
check "build: a base image that can be neither found nor pulled is a located error; plan never pulls" build_missing_base

done_testing
