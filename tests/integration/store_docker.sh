#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `bale save` into a real `docker load`, and `docker save` into `bale load`; TAP output.
#
# Starts a private dockerd (its own data root and socket, vfs, no networking) and stops it at
# the end. Needs root, as dockerd does; a missing dockerd is a failure, not a skip: CI
# installs docker.io (.ci/run). The image is Debian's busybox-static, packed by
# examples/busybox-image.sh.

. "${top_srcdir:-.}/tests/cli/lib.sh"
set -u

case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
bail () { echo "Bail out! $1"; exit 1; }

for tool in dockerd docker tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || bail "'$tool' is not installed (apt-get install -y docker.io); refusing to skip"
done
[ "$(id -u)" = 0 ] || bail "dockerd needs root"

work=$T_TMP
export BALE_STORE="$work/store"
export DOCKER_HOST="unix://$work/docker.sock"
dockerd_pid=""
stop_dockerd () {
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null
    # dockerd stops its containerd before it exits; wait so the data root can be removed.
    i=0
    while kill -0 "$dockerd_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
  fi
  rm -rf "$work"
}
trap stop_dockerd EXIT
trap 'exit 1' INT TERM

# Its own containerd namespaces, as peers.sh's: where a system containerd runs (docker.io's
# service on a Debian machine with systemd), dockerd uses it, and "moby" is the system
# dockerd's namespace.
dockerd --data-root "$work/docker" --exec-root "$work/exec" --pidfile "$work/docker.pid" \
  --containerd-namespace "bale-test-$$" --containerd-plugins-namespace "bale-test-plugins-$$" \
  -H "$DOCKER_HOST" --storage-driver vfs --iptables=false --ip6tables=false --bridge=none \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
i=0
until docker version >/dev/null 2>&1; do
  i=$((i + 1))
  [ $i -lt 600 ] && kill -0 "$dockerd_pid" 2>/dev/null \
    || { sed 's/^/# /' "$work/dockerd.log" | tail -20; bail "dockerd did not start"; }
  sleep 0.2
done

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
