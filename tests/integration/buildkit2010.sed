# sed -E script over imgtree.py's config output (read by tests/integration/peers_compare.sh and
# tests/diff-fuzz/dfz.py, which takes its s/RE/REPL/ lines).
# docker 20.10's BuildKit writes the history of EXPOSE and HEALTHCHECK from Go's %v of its
# internal types ("EXPOSE map[80/tcp:{}]", "HEALTHCHECK &{["CMD" ...] "5s" ...}"); bale writes
# today's BuildKit text ("EXPOSE [80/tcp]", "HEALTHCHECK {Test:[CMD ...] Interval:5s ...}").
# Only that text is set aside: ExposedPorts and Healthcheck themselves are compared.
# Likewise 20.10 leaves --chown and --chmod out of COPY and ADD (today's BuildKit writes them
# before the sources), and writes an ARG without a default as `ARG K` even when --build-arg
# sets it, where today's writes the effective `ARG K=V`.
s/^(history [0-9]+ [a-z]+ (EXPOSE|HEALTHCHECK)) .*/\1 .../
s/^(history [0-9]+ layer (COPY|ADD))( --ch(own|mod)=[^ ]*)+/\1/
s/^(history [0-9]+ empty ARG [^= ]*)=.*/\1/
