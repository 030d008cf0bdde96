#!/bin/sh
# bale build --explain-cache: every step that misses names the inputs that differ from the last
# build of the same step (issue 20), one test per kind of input; a rebuild with nothing changed
# names nothing. Also `bale cache why A B`, the early cutoff under SOURCE_DATE_EPOCH, and RUN
# cache mounts shared through a --cache-to type=local directory (tests/integration/registry.sh
# shares them through a registry).
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
unset SOURCE_DATE_EPOCH

df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }
# build [ARGS]: build $ctx with --explain-cache; the progress in $T_TMP/err.
build () {
  "$BALE" build --progress=plain --explain-cache -t t:latest "$@" "$ctx" > "$T_TMP/id" 2> "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
}
# miss STEP TEXT: the step's vertex (its name ends with STEP) says MISS: ...TEXT...
miss () {
  n=$(grep "^#[0-9]* \[.*\] $1\$" "$T_TMP/err" | head -1 | sed 's/^#\([0-9]*\) .*/\1/')
  [ -n "$n" ] && grep -F "#$n MISS: " "$T_TMP/err" | grep -qF -- "$2" ||
    { echo "step '$1' does not say: $2"; cat "$T_TMP/err"; return 1; }
}
no_miss () { ! grep -q " MISS: " "$T_TMP/err" || { echo "a MISS was said"; cat "$T_TMP/err"; return 1; }; }

mkdir -p "$ctx/src"
for f in main a b c d w x y z; do echo "$f" > "$ctx/src/$f.c"; done

first_and_same () {
  df 'FROM busybox' 'ARG V=1' 'COPY src /src' 'RUN echo $V > /v' 'RUN cat /src/main.c > /out'
  build && miss "COPY src /src" "no earlier build of this step in this store" || return 1
  build && no_miss && [ "$(grep -c CACHED "$T_TMP/err")" -ge 4 ]
}
check "first build: no earlier build; a rebuild with nothing changed names nothing" first_and_same

context_content () {
  for f in main w x y z; do echo "changed $f" > "$ctx/src/$f.c"; done
  build && miss "COPY src /src" "context file src/main.c changed (content)" &&
    miss "COPY src /src" "; 2 more files" || return 1
  build && no_miss
}
check "context file content: named, with a count of the others" context_content

context_added_removed () {
  echo new > "$ctx/src/new.c"
  build && miss "COPY src /src" "context file src/new.c added" || return 1
  rm "$ctx/src/c.c"
  build && miss "COPY src /src" "context file src/c.c removed"
}
check "context files added and removed" context_added_removed

context_mode () {
  chmod 0755 "$ctx/src/d.c"
  build && miss "COPY src /src" "context file src/d.c changed (mode 0644 -> 0755)"
}
check "context file mode" context_mode

owner_not_keyed () {
  chown 123:456 "$ctx/src/d.c"
  build && no_miss
}
check "a context file's owner is not an input (COPY writes 0:0): nothing missed" owner_not_keyed

parent_layer () {
  echo again > "$ctx/src/main.c"
  build && miss "RUN echo 1 > /v" "parent layer changed: COPY src /src made another layer"
}
check "parent layer: names the earlier step that made another layer" parent_layer

build_arg () {
  build --build-arg V=2 && miss "RUN echo 2 > /v" "build arg or ENV V changed" || return 1
  ! grep -q "instruction changed" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}
check "build arg: named (not its value), not reported as an instruction change" build_arg

instruction () {
  df 'FROM busybox' 'ARG V=1' 'COPY src /src' 'RUN echo $V > /v' 'RUN cat /src/main.c > /out2'
  build && miss "RUN cat /src/main.c > /out2" "instruction changed (was: RUN cat /src/main.c > /out)"
}
check "instruction text" instruction

mount_source () {
  df 'FROM busybox' 'RUN --mount=type=bind,source=src,target=/m cat /m/a.c > /a'
  build || return 1
  echo "a changed" > "$ctx/src/a.c"
  build && miss "RUN --mount=type=bind,source=src,target=/m cat /m/a.c > /a" "context file src/a.c changed (content)" || return 1
  df 'FROM busybox AS dep' 'ARG D=1' 'RUN echo $D > /d' 'FROM busybox' 'RUN --mount=type=bind,from=dep,target=/m cat /m/d > /d'
  build || return 1
  build --build-arg D=2 && miss "RUN --mount=type=bind,from=dep,target=/m cat /m/d > /d" "mount source changed (type=bind,from=dep,target=/m)"
}
check "a mount's source: a bind of the context (files named), a stage" mount_source

base_image () {
  mkdir -p "$T_TMP/base"
  printf 'FROM busybox\nRUN echo 1 > /b\n' > "$T_TMP/base/Dockerfile"
  "$BALE" build -q -t base2 "$T_TMP/base" > /dev/null 2>&1 || return 1
  df 'FROM base2' 'RUN echo x > /x'
  build || return 1
  printf 'FROM busybox\nRUN echo 2 > /b\n' > "$T_TMP/base/Dockerfile"
  "$BALE" build -q -t base2 "$T_TMP/base" > /dev/null 2>&1 || return 1
  build && miss "RUN echo x > /x" "base image changed (docker.io/library/base2:latest sha256:"
}
check "base image digest" base_image

no_cache_filter () {
  df 'FROM busybox AS one' 'RUN echo one > /one'
  build && build --no-cache-filter one && miss "RUN echo one > /one" "--no-cache-filter one" || return 1
  build --no-cache && miss "RUN echo one > /one" "--no-cache"
}
check "--no-cache-filter and --no-cache" no_cache_filter

rawjson_always () {
  df 'FROM busybox' 'RUN echo raw1 > /r'
  "$BALE" build --progress=rawjson -t t "$ctx" > /dev/null 2> "$T_TMP/raw" || { cat "$T_TMP/raw"; return 1; }
  df 'FROM busybox' 'RUN echo raw2 > /r'
  "$BALE" build --progress=rawjson -t t "$ctx" > /dev/null 2> "$T_TMP/raw" || { cat "$T_TMP/raw"; return 1; }
  grep '"cacheMisses"' "$T_TMP/raw" | grep -qF 'instruction changed (was: RUN echo raw1 > /r)' ||
    { cat "$T_TMP/raw"; return 1; }
}
check "--progress=rawjson carries the reasons without --explain-cache" rawjson_always

plain_silent () {
  df 'FROM busybox' 'RUN echo silent1 > /r'
  "$BALE" build --progress=plain -t t "$ctx" > /dev/null 2> "$T_TMP/err" || return 1
  df 'FROM busybox' 'RUN echo silent2 > /r'
  "$BALE" build --progress=plain -t t "$ctx" > /dev/null 2> "$T_TMP/err" || return 1
  no_miss
}
check "without --explain-cache, plain progress says nothing more" plain_silent

# runs ID: how many times a RUN with a cache mount of that id counted itself.
runs () { if [ -f "$BALE_STORE/cache/$1/n" ]; then wc -l < "$BALE_STORE/cache/$1/n"; else echo 0; fi; }

# Early cutoff (docs/cache.md): keys follow content, so a RUN that runs again but writes the
# layer it wrote before leaves the steps after it cached. The RUN reads the file through a
# bind mount: a file copied into a layer is in every later step's parent (and rightly so:
# they can read it).
early_cutoff () {
  df 'FROM busybox' \
     'RUN --mount=type=bind,source=in.txt,target=/in.txt --mount=type=cache,target=/c,id=cut1 echo x >> /c/n; wc -c < /in.txt > /len' \
     'RUN --mount=type=cache,target=/c,id=cut2 echo x >> /c/n; cp /len /len2'
  echo aaa > "$ctx/in.txt"
  build --source-date-epoch 1700000000 || return 1
  echo bbb > "$ctx/in.txt"
  build --source-date-epoch 1700000000 || return 1
  [ "$(runs cut1)" -eq 2 ] && [ "$(runs cut2)" -eq 1 ] &&
    grep -q "MISS: context file in.txt changed (content)" "$T_TMP/err" &&
    grep -q "CACHED \\[3/3\\] RUN --mount=type=cache,target=/c,id=cut2" "$T_TMP/err" ||
    { echo "cut1 ran $(runs cut1), cut2 $(runs cut2) times"; cat "$T_TMP/err"; return 1; }
}
check "early cutoff: a RUN that makes the same layer again leaves the later steps cached" early_cutoff

cache_why () {
  df 'FROM busybox' 'ARG V=1' 'COPY src /src' 'RUN echo $V > /v'
  "$BALE" build -q -t why:a "$ctx" > /dev/null 2>&1 || return 1
  echo "why" > "$ctx/src/main.c"
  "$BALE" build -q --build-arg V=7 -t why:b "$ctx" > /dev/null 2>&1 || return 1
  "$BALE" cache why why:a why:b > "$T_TMP/why" 2>&1 || { cat "$T_TMP/why"; return 1; }
  grep -qF 'layer 2: COPY src /src: context file src/main.c changed (content)' "$T_TMP/why" &&
    grep -qF 'layer 3: RUN echo $V > /v: parent layer changed (layer 2 of 2); build arg or ENV V changed' "$T_TMP/why" ||
    { cat "$T_TMP/why"; return 1; }
  [ "$("$BALE" cache why why:a why:a)" = "same layers" ] || return 1
  ! "$BALE" cache why why:a 2> /dev/null
}
check "bale cache why A B: per layer, the inputs that differ" cache_why

local_mounts () {
  df 'FROM busybox' 'RUN --mount=type=cache,target=/c,id=npm echo warm > /c/marker'
  "$BALE" build --cache-to "type=local,dest=$T_TMP/lc,cache-mounts=true" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q "exported 1 cache entries and 1 cache mounts" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  # mode=max without cache-mounts=false exports them too; cache-mounts=false never.
  "$BALE" build --cache-to "type=local,dest=$T_TMP/lc2,mode=max,cache-mounts=false" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    ! grep -q "cache mounts" "$T_TMP/err" && [ ! -e "$T_TMP/lc2/mounts/npm" ] || { cat "$T_TMP/err"; return 1; }
  df 'FROM busybox' 'RUN --mount=type=cache,target=/c,id=npm test "$(cat /c/marker)" = warm'
  BALE_STORE="$T_TMP/fresh" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null &&
    BALE_STORE="$T_TMP/fresh" "$BALE" build --cache-from "type=local,src=$T_TMP/lc" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q "imported 1 cache entries and 1 cache mounts" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}
check "cache mounts through a local cache directory: a fresh store starts warm" local_mounts

fleet_explain () {
  # Runner A exports; runner B (a fresh store) imports and changes a file: its miss compares
  # with A's build of the step, whose inputs came with the cache.
  df 'FROM busybox' 'COPY src /src' 'RUN ls /src > /l'
  "$BALE" build --cache-to "type=local,dest=$T_TMP/fx" "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  [ -f "$T_TMP/fx/inputs" ] || { echo "no inputs exported"; ls "$T_TMP/fx"; return 1; }
  echo "fleet" > "$ctx/src/b.c"
  BALE_STORE="$T_TMP/fresh3" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null &&
    BALE_STORE="$T_TMP/fresh3" build --cache-from "type=local,src=$T_TMP/fx" &&
    miss "COPY src /src" "context file src/b.c changed (content)"
}
check "the fleet cache carries the entries' inputs: a fresh runner's miss says why" fleet_explain

bad_mount_dir () {
  # A cache directory whose mount names a path outside <store>/cache is not taken.
  mkdir -p "$T_TMP/lc3/keys" "$T_TMP/lc3/blobs/sha256" "$T_TMP/lc3/mounts"
  cp "$T_TMP/lc/mounts/npm" "$T_TMP/lc3/mounts/..npm"
  cp "$T_TMP"/lc/blobs/sha256/* "$T_TMP/lc3/blobs/sha256/"
  df 'FROM busybox' 'RUN true'
  BALE_STORE="$T_TMP/fresh2" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null &&
    BALE_STORE="$T_TMP/fresh2" "$BALE" build -q --cache-from "type=local,src=$T_TMP/lc3" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    [ ! -e "$T_TMP/fresh2/cache/..npm" ] || { cat "$T_TMP/err"; return 1; }
}
check "a cache mount id that is not one plain directory name is never imported" bad_mount_dir

done_testing
