# Free ports and waiting for a server to listen (sourced by tests/cli/lib.sh and bench/lib.sh).
# shellcheck shell=sh

# free_port: a TCP port nothing listens on now, for a server of our own on 127.0.0.1.
free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT: wait (10 s at most) until something listens on 127.0.0.1:PORT.
wait_port () {
  python3 - "$1" << 'PY'
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}
# wait_listen PID PORT: wait (30 s at most) until PID listens on PORT (a listening socket of
# /proc/net/tcp on PORT is one of PID's descriptors); fails at once when PID has exited, as a
# server does when another process took its port between free_port and its bind.
wait_listen () {
  python3 - "$1" "$2" << 'PY'
import os, sys, time
pid, port = sys.argv[1], int(sys.argv[2])
def running():
    try:
        return open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
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
    try:
        fds = os.listdir("/proc/%s/fd" % pid)
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink("/proc/%s/fd/%s" % (pid, fd)) in inodes:
                return True
        except OSError:
            pass
    return False
for _ in range(600):
    if not running():
        sys.exit(1)
    if listens():
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}
