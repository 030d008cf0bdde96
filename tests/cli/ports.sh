# Servers of a test's own on free ports (sourced by tests/cli/lib.sh and bench/lib.sh).
# shellcheck shell=sh

# free_port: a TCP port nothing listens on now. Only a guess: another process may take it
# before a server binds it; start_server copes with that.
free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_listen PID PORT: wait (60 s at most, a hang guard) until PID or a process it started
# listens on PORT (a listening socket of /proc/net/tcp{,6} on PORT is one of their
# descriptors: another process's listener does not count); fails at once when PID has exited,
# as a server does when another process took its port between free_port and its bind.
wait_listen () {
  python3 - "$1" "$2" << 'PY'
import os, sys, time
pid, port = int(sys.argv[1]), int(sys.argv[2])
def running():
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
def family():
    # pid and its descendants (git daemon, for one, serves from a child of the git command)
    parent = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                parent[int(p)] = int(open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, grew = {pid}, True
    while grew:
        more = {p for p, pp in parent.items() if pp in tree} - tree
        tree |= more
        grew = bool(more)
    return tree
def listens():
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add("socket:[%s]" % f[9])
    if not inodes:
        return False
    for p in family():
        try:
            fds = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (p, fd)) in inodes:
                    return True
            except OSError:
                pass
    return False
for _ in range(1200):
    if not running():
        sys.exit(1)
    if listens():
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}

# start_server LOG SCRIPT [ARG...]: a server of the caller's own on a free port: runs
# `sh -c SCRIPT server ARG...` in the background, with PORT in its environment and its output
# in LOG, and waits until it listens on PORT. SCRIPT should exec the server, so that the
# pid is the server's. A port that another process took before the server bound it makes the
# server exit: then another port is tried, 5 in all. Sets port and server_pid; the pid is
# also added to $T_TMP/servers when T_TMP is set (tests/cli/lib.sh's exit trap stops them,
# even those started in a check's subshell), and the caller stops it otherwise.
start_server () {
  _log=$1 _script=$2
  shift 2
  for _attempt in 1 2 3 4 5; do
    port=$(free_port) || return 1
    PORT=$port sh -c "$_script" server "$@" > "$_log" 2>&1 &
    server_pid=$!
    [ -z "${T_TMP:-}" ] || echo "$server_pid" >> "$T_TMP/servers"
    wait_listen "$server_pid" "$port" && return 0
    # exited (its port was taken), or not listening after 60 s: stopped either way
    kill "$server_pid" 2> /dev/null
    wait "$server_pid" 2> /dev/null
  done
  echo "# the server did not start: $_script" >&2
  sed 's/^/# /' "$_log" >&2
  return 1
}

# start_registry_in ROOT HOST [YAML...]: a docker-registry on a free port of HOST (127.0.0.x)
# storing in ROOT, its configuration ROOT.yml with the YAML lines added (under http:, say
# '  tls:' and its lines, or top-level sections), its log ROOT.log; sets port and server_pid as
# start_server does. REGISTRY_HTTP_ADDR (docker-registry's environment override of http.addr)
# gives it the port start_server picks.
start_registry_in () {
  _root=$1 _host=$2
  shift 2
  {
    printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n' "$_root"
    printf 'http:\n  addr: %s:0\n' "$_host"
    for _line in "$@"; do printf '%s\n' "$_line"; done
  } > "$_root.yml"
  # shellcheck disable=SC2016 # expanded by start_server's sh
  start_server "$_root.log" 'export REGISTRY_HTTP_ADDR="$1:$PORT"; exec docker-registry serve "$2"' "$_host" "$_root.yml"
}
