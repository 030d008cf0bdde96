# Shared helpers for the CLI tests: TAP output, the bale binary, a scratch directory.
# shellcheck shell=sh
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
BALE="$top_builddir/bale"
T_NUM=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bale-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT

# check NAME COMMAND...: one TAP test that passes when COMMAND succeeds.
check () {
  name=$1
  shift
  T_NUM=$((T_NUM + 1))
  if out=$("$@" 2>&1); then
    echo "ok $T_NUM - $name"
  else
    echo "not ok $T_NUM - $name"
    printf '%s\n' "$out" | sed 's/^/# /'
    T_FAILED=$((T_FAILED + 1))
  fi
}

done_testing () {
  echo "1..$T_NUM"
  [ "$T_FAILED" -eq 0 ]
}

# busybox_archive FILE [NAME]: a docker-archive of a busybox base made from Debian's
# busybox-static by examples/busybox-image.sh (tests never pull from the internet).
busybox_archive () {
  sh "$top_srcdir/examples/busybox-image.sh" "$@"
}

# busybox_store: an absolute $BALE, a fresh store in $T_TMP holding the busybox base, and
# an empty build context in $ctx.
busybox_store () {
  case "$BALE" in /*) ;; *) BALE="$(pwd)/$BALE" ;; esac
  export BALE_STORE="$T_TMP/store"
  ctx="$T_TMP/ctx"
  mkdir -p "$ctx"
  busybox_archive "$T_TMP/busybox.tar" && "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null
}

. "$top_srcdir/tests/cli/ports.sh"
# start_registry: a docker-registry of the test's own on a free port of 127.0.0.1, storing in
# $T_TMP/registry; sets port and adds its pid to PIDS (for the caller's trap to kill). The
# port free_port found may be taken before the registry binds it (a client's connection on a
# busy machine): then the registry exits, and another port is tried (5 in all).
start_registry () {
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
      "$T_TMP/registry" "$port" > "$T_TMP/registry.yml"
    docker-registry serve "$T_TMP/registry.yml" > "$T_TMP/registry.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_listen $! "$port" && return 0
  done
  cat "$T_TMP/registry.log"
  return 1
}
