#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Images bale writes as OCI layouts, unpacked by umoci and run by runc; TAP output.
#
# `bale build --output type=oci,dest=DIR -t name:tag` of each example, then `umoci unpack
# --image DIR:tag BUNDLE`: the process args umoci derives from ENTRYPOINT and CMD must be
# Docker's, and `runc run` of the bundle must print what the example promises. Needs root.
# A missing tool is a failure, not a skip.

set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"

need_root_and umoci runc python3
examples="$top_srcdir/examples"
RUNC_ROOT="$T_TMP/runc"

busybox_store || bail "cannot load the busybox base into bale"

# unpack EXAMPLE: build it as an OCI layout tagged v1 and unpack it to $T_TMP/EXAMPLE.
unpack () {
  "$BALE" build -q -t "bale-runc/$1:v1" --output "type=oci,dest=$T_TMP/$1.oci" "$examples/$1" \
    > /dev/null || { echo "bale build $1 failed"; return 1; }
  umoci unpack --image "$T_TMP/$1.oci:v1" "$T_TMP/$1" > /dev/null
}

# process EXAMPLE: the bundle's process as one line: uid:gid cwd args (JSON).
process () {
  python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["process"]
print("%d:%d %s %s" % (p["user"]["uid"], p["user"]["gid"], p["cwd"], json.dumps(p["args"])))' \
    "$T_TMP/$1/config.json"
}

expect_process () {
  got=$(process "$1")
  [ "$got" = "$2" ] || { echo "$1: got [$got], want [$2]"; return 1; }
}

# runc_run EXAMPLE [ARG...]: run the bundle without a terminal, ARGs appended to its args.
runc_run () {
  ex=$1
  shift
  python3 -c 'import json, sys
f = sys.argv[1]
c = json.load(open(f))
c["process"]["terminal"] = False
c["process"]["args"] += sys.argv[2:]
json.dump(c, open(f, "w"))' "$T_TMP/$ex/config.json" "$@" &&
    runc --root "$RUNC_ROOT" run --bundle "$T_TMP/$ex" "bale-$ex-$$" < /dev/null
}

expect_output () {
  want=$1
  shift
  got=$(runc_run "$@" 2>&1)
  [ "$got" = "$want" ] || { echo "runc run $*: got [$got], want [$want]"; return 1; }
}

unpack_all () {
  for ex in hello cmd cmd-entrypoint shell-entrypoint multistage; do
    unpack "$ex" || return 1
  done
}
check "bale builds the examples as OCI layouts; umoci unpacks them" unpack_all

# shell-entrypoint keeps its CMD, set before ENTRYPOINT in the same stage (BuildKit's rule);
# sh -c takes it as $0 and the following positional parameters, and ignores it.
process_args () {
  expect_process hello '0:0 / ["echo", "Hello, World!"]' &&
    expect_process cmd '0:0 / ["echo", "the default command"]' &&
    expect_process cmd-entrypoint '0:0 / ["/bin/echo", "${GREETING}", "from", "bale"]' &&
    expect_process shell-entrypoint \
      '0:0 / ["/bin/sh", "-c", "echo shell form, arguments ignored", "never", "used"]' &&
    expect_process multistage '1000:1000 / ["greet", "no", "arguments"]'
}
check "umoci derives Docker's process from ENTRYPOINT, CMD, shell form and USER" process_args

environment () {
  python3 -c 'import json, sys
env = json.load(open(sys.argv[1]))["process"]["env"]
assert "GREETING=hello" in env and any(e.startswith("PATH=/usr/local/sbin:") for e in env), env' \
    "$T_TMP/cmd-entrypoint/config.json"
}
check "the bundle's environment is the image's Env" environment

run_all () {
  expect_output "Hello, World! Welcome" hello Welcome &&
    expect_output "the default command" cmd &&
    expect_output '${GREETING} from bale' cmd-entrypoint &&
    expect_output "shell form, arguments ignored" shell-entrypoint &&
    expect_output "built by bale: no arguments" multistage
}
check "runc run of each bundle prints what the example promises" run_all

no_containers_left () {
  [ -z "$(runc --root "$RUNC_ROOT" list -q 2> /dev/null)" ]
}
check "runc keeps no container behind" no_containers_left

done_testing
