# Shared helpers for the CLI tests: TAP output, the bale binary, a scratch directory.
# shellcheck shell=sh
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
BALE="$top_builddir/bale"
T_NUM=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bale-test.XXXXXX")
PIDS=""
# stop_servers: stop the test's servers: start_server's and start_proxy's (listed in
# $T_TMP/servers, those started in a check's subshell too) and the pids a script adds to PIDS;
# SIGTERM, then wait until they are gone (a registry still writing would race the removal of
# its storage), SIGKILL after 10 s.
stop_servers () {
  _pids="$PIDS $(cat "$T_TMP/servers" 2> /dev/null)"
  for p in $_pids; do kill "$p" 2> /dev/null; done
  for p in $_pids; do
    i=0
    while running "$p" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    ! running "$p" || kill -KILL "$p"
  done
}
# running PID: PID is a process that has not exited (a zombie has).
running () { grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$1/status" 2> /dev/null; }
# On exit, SIGINT or SIGTERM: the servers stopped, the scratch directory removed.
trap 'stop_servers; rm -rf "$T_TMP"' EXIT
trap 'exit 1' INT TERM

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

# bail WHY: stop the whole script as TAP's "Bail out!" (a missing tool or a set-up that failed:
# never a silent skip).
bail () { echo "Bail out! $1"; exit 1; }

# fast_fail PATTERN ARGS...: bale ARGS fails, its output (in $T_TMP/out) matching PATTERN
# (grep -E), a plan within 20 s (hostile.sh's expansion bounds: minutes without them, 0.6 s at
# load 20 with them), any other command within 120 s (a hang guard: a FIFO or a loop would
# hold it for ever; builds with RUN steps take 0.9 s at load 20, several times that under ASan).
fast_fail () {
  pat=$1
  shift
  guard=120
  [ "$1" = plan ] && guard=20
  if timeout $guard "$BALE" "$@" > "$T_TMP/out" 2>&1; then echo "unexpected success"; return 1; fi
  [ $? -ne 124 ] || { echo "bale $1 still ran after $guard s"; return 1; }
  grep -Eq "$pat" "$T_TMP/out" || { echo "error does not match '$pat':"; cat "$T_TMP/out"; return 1; }
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

# busybox_plus_layer OUT TAG LAYER DIFF_ID: a docker-archive OUT of the busybox base
# ($T_TMP/busybox.tar, busybox_store's) and one more layer, the file LAYER as it is (hostile
# layers made by hand), with DIFF_ID in the config, tagged TAG.
busybox_plus_layer () {
  python3 - "$T_TMP/busybox.tar" "$@" << 'PY'
import io, json, sys, tarfile
src, out, tag, layer, diff_id = sys.argv[1:6]
base = tarfile.open(src)
member = lambda name: base.extractfile(next(m for m in base.getmembers() if m.name.lstrip("./") == name)).read()
manifest = json.loads(member("manifest.json"))[0]
config = json.loads(member(manifest["Config"]))
config["rootfs"]["diff_ids"] = [config["rootfs"]["diff_ids"][0], diff_id]
files = {"config.json": json.dumps(config).encode(), "l1.tar": member(manifest["Layers"][0]),
         "l2.bin": open(layer, "rb").read(),
         "manifest.json": json.dumps([{"Config": "config.json", "RepoTags": [tag],
                                       "Layers": ["l1.tar", "l2.bin"]}]).encode()}
with tarfile.open(out, "w") as t:
    for name, data in files.items():
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
PY
}

. "$top_srcdir/tests/cli/ports.sh"
# start_registry: a docker-registry of the test's own on a free port of 127.0.0.1 (start_server),
# storing in $T_TMP/registry; sets port. Start it at the script's top level: a check runs in a
# subshell, where the port it sets is lost.
start_registry () {
  start_registry_in "$T_TMP/registry" 127.0.0.1
}
# start_http DIR: python's http.server serving DIR on a free port of 127.0.0.1 (start_server,
# log DIR.log); sets port.
start_http () {
  # shellcheck disable=SC2016 # expanded by start_server's sh
  start_server "$1.log" 'cd "$1" && exec python3 -m http.server --bind 127.0.0.1 "$PORT"' "$1"
}
# start_proxy MODE UPSTREAM: tests/integration/regproxy.py in MODE in front of the registry at
# UPSTREAM, on a port of 127.0.0.1 it binds itself (port 0, no race) and writes to a file;
# sets PROXY_PORT once the file is there (60 s at most, a hang guard: python starts in a
# fraction of a second, in seconds at load 20).
start_proxy () {
  rm -f "$T_TMP/proxy-$1.port"
  python3 "$top_srcdir/tests/integration/regproxy.py" --upstream "$2" --port-file "$T_TMP/proxy-$1.port" "$1" \
    > /dev/null 2> "$T_TMP/proxy-$1.log" &
  proxy_pid=$!
  echo "$proxy_pid" >> "$T_TMP/servers"
  i=0
  while [ ! -s "$T_TMP/proxy-$1.port" ] && [ $i -lt 1200 ] && kill -0 "$proxy_pid" 2> /dev/null; do
    sleep 0.05; i=$((i + 1))
  done
  PROXY_PORT=$(cat "$T_TMP/proxy-$1.port" 2> /dev/null) ||
    { echo "# regproxy.py $1 did not start:"; sed 's/^/# /' "$T_TMP/proxy-$1.log"; return 1; }
}
