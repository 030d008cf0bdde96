#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `bale save` into a real `docker load`, and `docker save` into `bale load`; TAP output.
#
# Starts a private dockerd (peers.sh: its own data root, socket and containerd namespaces, no
# networking) and stops it at the end. Needs root, as dockerd does; a missing dockerd is a
# failure, not a skip: CI installs docker.io (.ci/run). The image is Debian's busybox-static,
# packed by examples/busybox-image.sh.

. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"
set -u

# peers.sh: a dockerd of the test's own, stopped (SIGKILL after 20 s) and unmounted on exit.
need_root_and dockerd docker tar sha256sum
work=$T_TMP
start_dockerd

sh "${top_srcdir:-.}/examples/busybox-image.sh" "$work/hand.tar" bale-bb:1 || bail "cannot pack busybox"
"$BALE" load -i "$work/hand.tar" >/dev/null || bail "bale load of the base failed"
id=$("$BALE" images -q | head -1)

check "bale save of two names" sh -c '"$1" tag bale-bb:1 bale-bb:2 && "$1" save -o "$2" bale-bb:1 bale-bb:2' \
  _ "$BALE" "$work/saved.tar"
check "docker load accepts it, with both names" \
  sh -c 'docker load -i "$1" > "$2" && grep -qx "Loaded image: bale-bb:1" "$2" && grep -qx "Loaded image: bale-bb:2" "$2"' \
  _ "$work/saved.tar" "$work/load.out"
check "docker sees the image ID bale prints" \
  sh -c 'docker image inspect --format "{{.Id}}" bale-bb:1 | grep -q "^sha256:$1"' _ "$id"
check "docker run of the image" \
  sh -c 'docker run --rm --network none bale-bb:1 echo "Hello, World!" Welcome | grep -qx "Hello, World! Welcome"'
check "docker save, then bale load into a fresh store" \
  sh -c 'docker save -o "$1" bale-bb:2 && BALE_STORE="$2" "$3" load -i "$1" | grep -qx "Loaded image: bale-bb:2" &&
         BALE_STORE="$2" "$3" images -q | grep -qx "$4"' _ "$work/docker-saved.tar" "$work/store2" "$BALE" "$id"

done_testing
