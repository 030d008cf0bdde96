# Shared by the tests against the real peers: a private dockerd and a private buildah store,
# both under $T_TMP, torn down on exit whatever happens. Source it after tests/cli/lib.sh.
# shellcheck shell=sh

# The Debian package's docker CLI (20.10, with BuildKit built in). /usr/local/bin/docker may be
# another client or a wrapper; the tests talk to their own daemon with the one from docker.io.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
DOCKERD_PID=""
export DOCKER_HOST="unix://$T_TMP/docker.sock"
# No credential helpers or contexts from the host's ~/.docker.
export DOCKER_CONFIG="$T_TMP/docker-config"
mkdir -p "$DOCKER_CONFIG" && echo '{}' > "$DOCKER_CONFIG/config.json"

bail () { echo "Bail out! $1"; exit 1; }

# need TOOL...: every tool is installed, or the test bails out (CI installs them: .ci/run).
need () {
  for tool in "$@"; do
    command -v "$tool" > /dev/null 2>&1 ||
      bail "'$tool' is not installed (.ci/run installs it); refusing to skip"
  done
}

# need_root_and TOOL...: root, a built bale (made absolute: the tests cd) with a store of the
# test's own, and every TOOL.
need_root_and () {
  case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
  [ -x "$BALE" ] || bail "'$BALE' is not built"
  [ "$(id -u)" = 0 ] || bail "must run as root (the peers and bale's sandbox need it)"
  need "$@"
  export BALE_STORE="$T_TMP/store"
}

docker () { "$DOCKER_CLI" "$@"; }

# start_dockerd: a dockerd of our own (own socket, data, exec root and containerd namespace,
# no bridge or iptables), overlay2 unless $T_TMP is on overlayfs, where only vfs works.
start_dockerd () {
  [ -x "$DOCKER_CLI" ] || bail "'$DOCKER_CLI' is missing (apt-get install docker.io)"
  need dockerd
  driver=overlay2
  [ "$(stat -f -c %T "$T_TMP")" = overlayfs ] && driver=vfs
  dockerd --host "$DOCKER_HOST" --data-root "$T_TMP/docker-data" --exec-root "$T_TMP/docker-exec" \
    --pidfile "$T_TMP/docker.pid" --containerd-namespace "bale-test-$$" \
    --containerd-plugins-namespace "bale-test-plugins-$$" --iptables=false --ip-masq=false \
    --bridge=none --storage-driver "$driver" > "$T_TMP/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  # 120 s: a hang guard (dockerd starts in 1-3 s at idle; its first start on a loaded CI
  # machine also starts its containerd).
  for i in $(seq 600); do
    docker version > /dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2> /dev/null || break
    sleep 0.2
  done
  tail -20 "$T_TMP/dockerd.log" | sed 's/^/# /'
  bail "dockerd did not start"
}

# stop_dockerd: SIGTERM, then SIGKILL after 20 s; then nothing of it may stay mounted.
stop_dockerd () {
  [ -n "$DOCKERD_PID" ] || return 0
  kill -TERM "$DOCKERD_PID" 2> /dev/null
  for i in $(seq 100); do
    kill -0 "$DOCKERD_PID" 2> /dev/null || break
    sleep 0.2
  done
  kill -KILL "$DOCKERD_PID" 2> /dev/null
  wait "$DOCKERD_PID" 2> /dev/null
  DOCKERD_PID=""
}

# unmount_all: whatever the peers left mounted under $T_TMP, deepest first.
unmount_all () {
  awk -v t="$T_TMP" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2> /dev/null; done
}

cleanup_peers () {
  stop_servers
  stop_dockerd
  unmount_all
  rm -rf "$T_TMP"
}
trap 'cleanup_peers' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# buildah with a store of its own: vfs, so it needs no overlay mounts and leaves none.
buildah () {
  command buildah --root "$T_TMP/buildah/root" --runroot "$T_TMP/buildah/run" --storage-driver vfs "$@"
}
