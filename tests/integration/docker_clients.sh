#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Images bale builds, run by a real dockerd that this test starts (docker.io); TAP output.
#
# The examples/ images leave bale two ways, `bale save` and `bale build --output
# type=docker-archive`; `docker load` takes both and `docker run` must print exactly what
# Docker's ENTRYPOINT/CMD rules say. Needs root. A missing tool is a failure, not a skip.

set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"

need_root_and dockerd tar
examples="$top_srcdir/examples"
all="hello cmd cmd-entrypoint shell-entrypoint multistage"

start_dockerd
busybox_store || bail "cannot load the busybox base into bale"

# The examples, each as a named image in the store and as a docker-archive of its own.
build_examples () {
  for ex in $all; do
    "$BALE" build -q -t "bale-example/$ex" --output "type=docker-archive,dest=$T_TMP/$ex.tar" \
      "$examples/$ex" > "$T_TMP/$ex.id" || { echo "bale build $ex failed"; return 1; }
  done
}
check "bale builds the examples, with docker-archive outputs" build_examples

# expect_run WANT IMAGE [ARGS]: `docker run --rm --network none IMAGE ARGS` prints WANT.
expect_run () {
  want=$1
  shift
  got=$(docker run --rm --network none "$@" 2>&1)
  [ "$got" = "$want" ] || { echo "docker run $*: got [$got], want [$want]"; return 1; }
}

# run_examples PREFIX: the examples, loaded as PREFIX/NAME, behave as Docker's rules say.
run_examples () {
  p=$1
  expect_run "Hello, World! Welcome" "$p/hello" Welcome &&
    expect_run "Hello, World!" "$p/hello" &&
    expect_run "the default command" "$p/cmd" &&
    expect_run "replaced by the run arguments" "$p/cmd" echo replaced by the run arguments &&
    expect_run '${GREETING} from bale' "$p/cmd-entrypoint" &&
    expect_run "these replace CMD" "$p/cmd-entrypoint" these replace CMD &&
    expect_run "shell form, arguments ignored" "$p/shell-entrypoint" these are ignored &&
    expect_run "built by bale: no arguments" "$p/multistage" &&
    expect_run "built by bale: a b" "$p/multistage" a b &&
    expect_run "app" --entrypoint id "$p/multistage" -un &&
    expect_run "entrypoint replaced" --entrypoint echo "$p/hello" entrypoint replaced
}

save_and_load () {
  names=$(for ex in $all; do printf 'bale-example/%s ' "$ex"; done)
  # shellcheck disable=SC2086
  "$BALE" save -o "$T_TMP/saved.tar" $names || return 1
  docker load -i "$T_TMP/saved.tar" > "$T_TMP/load.out" || return 1
  for ex in $all; do
    grep -qx "Loaded image: bale-example/$ex:latest" "$T_TMP/load.out" ||
      { cat "$T_TMP/load.out"; return 1; }
  done
}
check "docker load takes a bale save of five images" save_and_load
check "docker run of the saved examples: ENTRYPOINT, CMD, both, shell form, USER, multistage" \
  run_examples bale-example

same_ids () {
  for ex in $all; do
    id=$(docker image inspect -f '{{.Id}}' "bale-example/$ex") || return 1
    [ "$id" = "$(cat "$T_TMP/$ex.id")" ] || { echo "$ex: docker ID $id, bale ID $(cat "$T_TMP/$ex.id")"; return 1; }
  done
}
check "docker computes the image IDs bale printed" same_ids

config_as_built () {
  hc=$(docker image inspect -f '{{json .Config.Healthcheck}}' bale-example/cmd-entrypoint) &&
    [ "$hc" = '{"Test":["CMD","/bin/true"],"Interval":30000000000,"Timeout":3000000000}' ] &&
    [ "$(docker image inspect -f '{{.Config.User}}' bale-example/multistage)" = app ] &&
    docker history --no-trunc --format '{{.CreatedBy}}' bale-example/multistage > "$T_TMP/hist" &&
    grep -qx 'COPY /src/greet /usr/local/bin/greet # buildkit' "$T_TMP/hist" ||
    { echo "healthcheck $hc"; cat "$T_TMP/hist"; return 1; }
}
check "docker inspect and docker history see bale's config" config_as_built

load_outputs () {
  for ex in $all; do
    docker rmi -f "bale-example/$ex" > /dev/null || return 1
  done
  for ex in $all; do
    docker load -i "$T_TMP/$ex.tar" > "$T_TMP/load.out" &&
      grep -qx "Loaded image: bale-example/$ex:latest" "$T_TMP/load.out" &&
      docker tag "bale-example/$ex" "bale-output/$ex" || { cat "$T_TMP/load.out"; return 1; }
  done
}
check "docker load takes each --output type=docker-archive" load_outputs
check "docker run of those: the same outputs" run_examples bale-output

# And back: what docker saves, bale loads and runs.
round_trip () {
  docker save -o "$T_TMP/from-docker.tar" bale-output/hello &&
    BALE_STORE="$T_TMP/store2" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null &&
    BALE_STORE="$T_TMP/store2" "$BALE" load -i "$T_TMP/from-docker.tar" > /dev/null &&
    [ "$(BALE_STORE="$T_TMP/store2" "$BALE" run bale-output/hello again)" = "Hello, World! again" ]
}
check "docker save of it: bale loads and runs it" round_trip

no_containers_left () {
  [ -z "$(docker ps -aq)" ]
}
check "every docker run --rm cleaned up after itself" no_containers_left

done_testing
