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
