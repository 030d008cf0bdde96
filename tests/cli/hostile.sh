#!/bin/sh
# Hostile Dockerfiles that once cost the host memory or a way to its devices: each gets a precise
# error (or is confined) quickly, and nothing of the host changes.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store

# Forty ARGs, each twice the last: 2^40 bytes asked for (12 GB and minutes before the bound).
python3 - "$T_TMP/expo" << 'PY'
import sys
s = 'FROM busybox\nARG v0=xx\n'
for i in range(1, 40):
    s += 'ARG v%d=${v%d}${v%d}\n' % (i, i - 1, i - 1)
open(sys.argv[1], 'w').write(s + 'RUN echo ${#v39}\n')
PY
check "ARGs that double forty times: an error at the line past 1 MiB" \
  fast_fail 'expo:22:5: error: failed to process "\$\{v19\}\$\{v19\}": the expansion is longer than 1048576 bytes' \
  plan -f "$T_TMP/expo" "$ctx"

# A 512 KiB value copied by 3000 ENV lines: 1.5 GB of config and history (12 GB before the bound).
python3 - "$T_TMP/quad" << 'PY'
import sys
s = 'FROM busybox\nENV v0=xx\n'
for i in range(1, 19):
    s += 'ENV v%d=${v%d}${v%d}\n' % (i, i - 1, i - 1)
for i in range(3000):
    s += 'ENV w%d=$v18\n' % i
open(sys.argv[1], 'w').write(s)
PY
check "a 512 KiB value copied by 3000 ENV lines: an error past 64 MiB of expansions" \
  fast_fail "quad:1[0-9][0-9]:[0-9]+: error: the Dockerfile's expansions add up to more than 64 MiB" \
  plan -f "$T_TMP/quad" "$ctx"

# ${v//x/60000 y}: a substitution that would be 30 GB; ${v//60000 ?/y}: a 2^35-cell match.
python3 - "$T_TMP/repl" "$T_TMP/match" << 'PY'
import sys
s = 'FROM busybox\nENV v0=xx\n'
for i in range(1, 19):
    s += 'ENV v%d=${v%d}${v%d}\n' % (i, i - 1, i - 1)
open(sys.argv[1], 'w').write(s + 'ENV x=${v18//x/' + 'y' * 60000 + '}\n')
open(sys.argv[2], 'w').write(s + 'ENV z=${v18//' + '?' * 60000 + '/y}\n')
PY
check "a substitution past 1 MiB: an error" \
  fast_fail 'repl:21:7: error: failed to process .*substitution longer than 1048576 bytes' plan -f "$T_TMP/repl" "$ctx"
check "a pattern match of 2^35 cells: an error" \
  fast_fail 'match:21:7: error: failed to process .*a pattern of 60000 characters against a value of 524288 is too large' \
  plan -f "$T_TMP/match" "$ctx"

# Device nodes: a step holds CAP_MKNOD as under Docker, but where runc's device cgroup lets it
# open none but null, zero, full, random, urandom, tty and the ptys, bale's root, /dev and
# mounts are nodev. c 1:3 is the host's null (present everywhere): opening a copy of it made
# by mknod, in a layer of the image or in a cache mount, is refused; /dev/null itself works.
devices () {
  printf '%s\n' 'FROM busybox AS s' 'RUN mknod /layer-null c 1 3' 'FROM s' \
    'RUN echo ok > /dev/null && head -c 4 /dev/zero | od -An -c && echo devices-ok' \
    'RUN mknod /n c 1 3; echo x > /n && echo OPEN""ED-MKNOD; true' \
    'RUN mknod /dev/n2 c 1 3; echo x > /dev/n2 && echo OPEN""ED-DEV; true' \
    'RUN echo x > /layer-null && echo OPEN""ED-LAYER; true' \
    'RUN --mount=type=cache,target=/c mknod /c/n c 1 3; echo x > /c/n && echo OPEN""ED-CACHE; rm -f /c/n; true' \
    'RUN --mount=type=tmpfs,target=/t mknod /t/n c 1 3; echo x > /t/n && echo OPEN""ED-TMPFS; true' \
    > "$ctx/Dockerfile"
  "$BALE" build --no-cache --progress plain "$ctx" > "$T_TMP/dev.out" 2>&1 || { cat "$T_TMP/dev.out"; return 1; }
  ! grep OPENED "$T_TMP/dev.out" || return 1
  [ "$(grep -c 'Permission denied' "$T_TMP/dev.out")" -eq 5 ] || { cat "$T_TMP/dev.out"; return 1; }
  grep -q devices-ok "$T_TMP/dev.out" || { cat "$T_TMP/dev.out"; return 1; }
}
check "RUN: device nodes of the step, the image, a cache or a tmpfs cannot be opened" devices
copied_devices () { BALE_FORCE_COPY=1 devices; }
check "RUN: the same with a copied rootfs (BALE_FORCE_COPY=1)" copied_devices

# .dockerignore holds for what a symlink leads to: BuildKit never sends an excluded file, so a
# COPY through a link to it (last component or in the middle) finds nothing.
ignored_links () {
  mkdir -p "$ctx/sec" "$ctx/d" && echo topsecret > "$ctx/sec/s" && echo topsecret > "$ctx/secret.txt"
  ln -sfn secret.txt "$ctx/link" && ln -sfn ../secret.txt "$ctx/d/l2" && ln -sfn sec "$ctx/dl"
  printf 'secret.txt\nsec\n' > "$ctx/.dockerignore"
  for src in link d/l2 dl/s dl 'lin[k]'; do
    printf 'FROM busybox\nCOPY %s /x\n' "$src" > "$ctx/Dockerfile"
    if "$BALE" build --no-cache "$ctx" > "$T_TMP/ign.out" 2>&1; then echo "$src: built"; return 1; fi
    grep -q "Dockerfile:2:1: error: COPY: .* leads to \"\(secret.txt\|sec/s\|sec\)\", excluded by .*\.dockerignore" "$T_TMP/ign.out" \
      || { echo "$src:"; cat "$T_TMP/ign.out"; return 1; }
  done
  rm -rf "$ctx/sec" "$ctx/d" "$ctx/secret.txt" "$ctx/link" "$ctx/dl" "$ctx/.dockerignore"
}
check "COPY through a symlink to a .dockerignore'd file or directory: an error naming both" ignored_links

# A path past PATH_MAX: Linux resolves none (BuildKit's MkdirAll fails the same), and 32000
# levels on one line would make a 1 GB layer. The error comes at the line, at once.
long_paths () {
  deep=$(python3 -c "print('/'.join(['a'] * 2100))")
  printf 'FROM busybox\nWORKDIR /%s\n' "$deep" > "$ctx/Dockerfile"
  fast_fail "Dockerfile:2:9: error: WORKDIR: the path is longer than 4095 bytes" build "$ctx" || return 1
  printf 'FROM busybox\nWORKDIR /%s\nCOPY Dockerfile %s\n' "$(python3 -c "print('/'.join(['b'] * 1200))")" "$deep" > "$ctx/Dockerfile"
  fast_fail "Dockerfile:3:17: error: the destination is longer than 4095 bytes" build "$ctx"
}
check "WORKDIR and COPY destinations past PATH_MAX: an error at the line" long_paths

# The Dockerfile and .dockerignore are read by name before anything else: a symlink of the
# context to a host file (bale runs as root in CI) would show that file's lines in a parse
# error. Out of the context is an error; a link inside it, or -f elsewhere, still works.
host_files () {
  c2="$T_TMP/ctx2" && mkdir -p "$c2/sub" && printf 'root:HOSTSECRET:1:0:::\n' > "$T_TMP/shadow"
  ln -sfn "$T_TMP/shadow" "$c2/Dockerfile"
  fast_fail "bale [a-z]+: 'Dockerfile' leads outside the build context" build "$c2" || return 1
  fast_fail "bale [a-z]+: 'Dockerfile' leads outside the build context" plan "$c2" || return 1
  ! grep -q HOSTSECRET "$T_TMP/out" || return 1
  printf 'FROM busybox\n' > "$c2/sub/Dockerfile.prod" && ln -sfn sub/Dockerfile.prod "$c2/Dockerfile"
  "$BALE" build -q "$c2" > /dev/null || return 1
  "$BALE" build -q -f "$T_TMP/shadow" "$c2" > "$T_TMP/out" 2>&1 && return 1
  grep -q "unknown instruction" "$T_TMP/out" || { cat "$T_TMP/out"; return 1; } # -f: the caller's file
  ln -sfn "$T_TMP/shadow" "$c2/.dockerignore"
  fast_fail "bale [a-z]+: '.dockerignore' leads outside the build context" build "$c2" || return 1
  rm "$c2/.dockerignore" && mkfifo "$c2/sub/fifo"
  fast_fail "bale [a-z]+: 'sub/fifo' in the build context is not a regular file" build -f "$c2/sub/fifo" "$c2"
}
check "a Dockerfile or .dockerignore that leads out of the context, or a FIFO: an error, the host file unread" host_files

# RUN --mount=type=ssh gets a read-only agent, as BuildKit's readOnlyAgent: a step may list the
# keys and ask for signatures, never remove them (19, 18), add one (17, 25), add a smartcard
# key (20: the agent loads a PKCS#11 library by path, CVE-2023-38408's way in), lock (22) or unlock
# (23) the agent, or send extensions (27). The user's agent was bound into the step as it is,
# and a step emptied it. agentc sends one-byte requests and prints the answers' types.
cat > "$T_TMP/agentc.c" << 'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static int rd (int fd, unsigned char *b, size_t n)
{ for (size_t g = 0; g < n;) { ssize_t r = read (fd, b + g, n - g); if (r <= 0) return -1; g += (size_t) r; } return 0; }
int main (int argc, char **argv)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);
  snprintf (a.sun_path, sizeof a.sun_path, "%s", getenv ("SSH_AUTH_SOCK"));
  if (connect (fd, (struct sockaddr *) &a, sizeof a) < 0) return 1;
  for (int i = 1; i < argc; i++)
    {
      unsigned char m[5] = { 0, 0, 0, 1, (unsigned char) atoi (argv[i]) }, h[4], b[65536];
      unsigned len;
      if (write (fd, m, 5) != 5 || rd (fd, h, 4) < 0) { printf ("%s:closed\n", argv[i]); return 1; }
      len = (unsigned) h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
      if (len == 0 || len > sizeof b || rd (fd, b, len) < 0) return 1;
      printf ("%s:%d\n", argv[i], b[0]);
    }
  return 0;
}
EOF
ssh_agent_read_only () {
  mkdir -p "$T_TMP/ag" && ${CC:-cc} -static -O2 -o "$T_TMP/ag/agentc" "$T_TMP/agentc.c" || return 1
  ssh-keygen -q -t ed25519 -N '' -C bale-test -f "$T_TMP/key" < /dev/null || return 1
  eval "$(ssh-agent -s -a "$T_TMP/agent.sock")" > /dev/null || return 1
  ssh-add -q "$T_TMP/key" 2> /dev/null || { kill "$SSH_AGENT_PID"; return 1; }
  printf '%s\n' 'FROM busybox' 'COPY agentc /' 'RUN --mount=type=ssh /agentc 11 19 18 17 20 25 22 23 27 11 | tr "\n" " "' \
    > "$T_TMP/ag/Dockerfile"
  "$BALE" build --no-cache --progress plain --ssh default "$T_TMP/ag" > "$T_TMP/ag.out" 2>&1; st=$?
  keys=$(ssh-add -l 2>&1)
  kill "$SSH_AGENT_PID"
  [ $st = 0 ] && grep -q '11:12 19:5 18:5 17:5 20:5 25:5 22:5 23:5 27:5 11:12' "$T_TMP/ag.out" || { cat "$T_TMP/ag.out"; return 1; }
  case $keys in *bale-test*) ;; *) echo "the agent lost its key: $keys"; return 1 ;; esac
}
check "RUN --mount=type=ssh: a read-only agent, the user's keys stay" ssh_agent_read_only

# The tty view shows what a step prints as text, as BuildKit's vt100 emulator does: no escape
# sequence of the step reaches the user's terminal (OSC 52 writes the clipboard, OSC 0 the
# title, CSI moves the cursor over bale's frame). script(1) gives the build a terminal. The
# step runs on after it printed until the test has seen its text on the terminal and creates
# go in its cache mount (120 s at most, a hang guard): the live view shows a running step's
# output, and how soon it draws depends on the machine's load.
tty_escapes () {
  command -v script > /dev/null || { echo "script (util-linux) is missing"; return 1; }
  mkdir -p "$T_TMP/esc"
  printf '%s\n' 'FROM busybox' \
    'RUN --mount=type=cache,target=/c,id=esc printf "\033]52;c;ZWNobyBwd25lZA==\007\033]0;FAKE-TITLE\007vis\tible-\033[31mred\033[0m-\033[9;9Htext\r\n"; i=0; while [ ! -e /c/go ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done' \
    > "$T_TMP/esc/Dockerfile"
  rm -rf "$BALE_STORE/cache/esc"
  script -qfec "'$BALE' build --no-cache --progress tty '$T_TMP/esc'" /dev/null > "$T_TMP/esc.raw" 2>&1 < /dev/null &
  pid=$!
  i=0
  until grep -aq 'vis ible-red-text' "$T_TMP/esc.raw" || [ $i -ge 1200 ] || ! kill -0 $pid 2> /dev/null; do
    sleep 0.1; i=$((i + 1))
  done
  mkdir -p "$BALE_STORE/cache/esc" && touch "$BALE_STORE/cache/esc/go"
  wait $pid || { cat "$T_TMP/esc.raw"; return 1; }
  ! grep -aq -e "$(printf '\033')]" -e "$(printf '\033')\[9;9H" "$T_TMP/esc.raw" ||
    { echo "an escape sequence of the step reached the terminal:"; cat -v "$T_TMP/esc.raw"; return 1; }
  grep -aq 'vis ible-red-text' "$T_TMP/esc.raw" || { echo "the step's text is missing:"; cat -v "$T_TMP/esc.raw"; return 1; }
}
check "--progress tty: a step's escape sequences never reach the terminal, its text does" tty_escapes

# The same on a terminal at the end of a build (session 31): the tty view's last frame (the
# summary), the failed step's logs and bale's error (which quotes the Dockerfile's line and
# the step's last output) printed a Dockerfile's raw escapes and a failing step's OSC 52 as
# they came, and --progress plain on a terminal printed everything raw. Now all of it is
# text on a terminal (^[ as cat -v); a pipe still gets the bytes, as BuildKit prints them.
final_escapes () {
  command -v script > /dev/null || { echo "script (util-linux) is missing"; return 1; }
  mkdir -p "$T_TMP/fesc"
  printf 'FROM busybox\nRUN true "\033]0;DF-TITLE\007" && printf "\\033]52;c;eA==\\007failing\\n" && false\n' > "$T_TMP/fesc/Dockerfile"
  for mode in tty plain; do
    script -qfec "'$BALE' build --no-cache --progress $mode '$T_TMP/fesc'" /dev/null > "$T_TMP/fesc.raw" 2>&1 < /dev/null
    ! grep -aq "$(printf '\033')]" "$T_TMP/fesc.raw" ||
      { echo "$mode: an escape sequence reached the terminal:"; cat -v "$T_TMP/fesc.raw"; return 1; }
    grep -aq 'failing' "$T_TMP/fesc.raw" && grep -aq 'RUN true "' "$T_TMP/fesc.raw" ||
      { echo "$mode: the text is missing:"; cat -v "$T_TMP/fesc.raw"; return 1; }
  done
  "$BALE" build --no-cache --progress plain "$T_TMP/fesc" > "$T_TMP/fesc.pipe" 2>&1
  grep -aq "$(printf '\033')]52;c;eA==" "$T_TMP/fesc.pipe" || { echo "a pipe lost the bytes"; cat -v "$T_TMP/fesc.pipe"; return 1; }
}
check "the end of a build on a terminal (summary, failed logs, the error, plain view): escapes shown as text, a pipe gets the bytes" final_escapes

# An image's strings (labels, history, USER, WORKDIR, ENTRYPOINT) listed on a terminal by
# history, images, inspect --format and explain: their escape sequences are shown as ^[...,
# not obeyed (OSC 0 set the title, OSC 52 the clipboard, CSI 2J cleared the screen). A pipe
# still gets the bytes, as docker prints them.
listing_escapes () {
  mkdir -p "$T_TMP/esc2"
  printf 'FROM busybox\nLABEL x="\033]0;TITLE\007"\nWORKDIR "/w\033[2J"\nRUN echo "\033]52;c;ZWNobyBwd24K\007" > /dev/null\nUSER "u\033]52;c;ZWNobwo=\007"\nENTRYPOINT ["/bin/e\033]0;T\007x"]\n' \
    > "$T_TMP/esc2/Dockerfile"
  "$BALE" build -q -t esc:2 "$T_TMP/esc2" > /dev/null || return 1
  for c in "history esc:2" "history --no-trunc esc:2" "inspect --format {{.Config.Labels.x}} esc:2" "explain esc:2"; do
    script -qfec "'$BALE' $c" /dev/null > "$T_TMP/esc2.raw" 2>&1 < /dev/null
    ! grep -aq "$(printf '\033')" "$T_TMP/esc2.raw" || { echo "$c: an escape reached the terminal:"; cat -v "$T_TMP/esc2.raw"; return 1; }
    grep -aq '\^\[' "$T_TMP/esc2.raw" || { echo "$c: the escape is not shown:"; cat -v "$T_TMP/esc2.raw"; return 1; }
  done
  "$BALE" inspect --format '{{.Config.Labels.x}}' esc:2 | grep -q "$(printf '\033')]0;TITLE" # a pipe: the bytes
}
check "history, inspect --format, explain on a terminal: an image's escape sequences are shown, not obeyed" listing_escapes

# CVE-2019-5736: runc's container process re-executed the host's runc through /proc/self/exe
# (a "#!/proc/self/exe" interpreter) and then wrote it. Before its execve the step's PID 1 is
# a fork of bale-core: running /proc/self/exe, directly or as an interpreter, must not run it
# in the step, and bale's binaries stay as they were.
self_exe () {
  before=$(cat "$top_builddir/bale" "$top_builddir/bale-core" | sha256sum)
  printf '%s\n' 'FROM busybox' 'RUN printf "#!/proc/self/exe version\n" > /evil && chmod +x /evil' \
    'RUN ["/evil"]' > "$ctx/Dockerfile"
  fast_fail 'exec /evil: no such file or directory' build --no-cache --progress plain "$ctx" || return 1
  printf '%s\n' 'FROM busybox' 'RUN ["/proc/self/exe", "version"]' > "$ctx/Dockerfile"
  fast_fail 'exec /proc/self/exe: no such file or directory' build --no-cache --progress plain "$ctx" || return 1
  ! grep -q "bale [0-9]" "$T_TMP/out" && [ "$(cat "$top_builddir/bale" "$top_builddir/bale-core" | sha256sum)" = "$before" ]
}
check "RUN of /proc/self/exe, directly or as a script's interpreter, never runs bale-core in the step" self_exe


# Decompression bombs (session 31). A tar reader takes zeros for the end of the archive, so
# a layer whose tar is followed by gzip members of zeros (1 KiB each per MiB) was accepted,
# every byte hashed for its diff_id: 15 s of one CPU per MiB sent, in `bale load`, in a build
# FROM it (a pulled layer: tests/integration/registry.sh) and in ADD. A trailer past 16 MiB
# that is also longer than the compressed blob is refused, naming the layer; an ADDed archive
# is not read past its end; BALE_MAX_LAYER_SIZE caps what one layer or archive unpacks to.
# bomb_archive OUT TRAILER-MIB [uncompressed]: a docker-archive of busybox and one layer (a
# file, then TRAILER MiB of zeros after the tar's end, gzip unless uncompressed; kept as
# OUT.layer).
bomb_archive () {
  python3 - "$1.layer" "$2" "$3" > "$1.id" << 'PY' || return 1
import gzip, hashlib, io, os, sys, tarfile
out, mib, plain = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "uncompressed"
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    # owned by the caller: layertool extracts it as a user too
    ti = tarfile.TarInfo("hello"); data = b"hi\n"; ti.size = len(data); ti.mtime = 0
    ti.uid, ti.gid = os.getuid(), os.getgid()
    t.addfile(ti, io.BytesIO(data))
zeros = b"\0" * (1 << 20)
stream = raw.getvalue() + zeros * mib
open(out, "wb").write(stream if plain else gzip.compress(raw.getvalue(), mtime=0) + gzip.compress(zeros, mtime=0) * mib)
print("sha256:" + hashlib.sha256(stream).hexdigest())
PY
  busybox_plus_layer "$1" "bomb:$2" "$1.layer" "$(cat "$1.id")"
}
decompression_bombs () {
  bomb_archive "$T_TMP/bomb.tar" 40 && bomb_archive "$T_TMP/pad.tar" 4 && bomb_archive "$T_TMP/plain.tar" 20 uncompressed || return 1
  # load's diff_id check of a compressed layer: 40 MiB of zeros from 40 KiB, refused past 16 MiB
  fast_fail "layer 'sha256:[0-9a-f]{64}': more than [0-9]+ bytes after the end of the tar archive, from [0-9]+ bytes of compressed layer: a decompression bomb, refused" \
    load -i "$T_TMP/bomb.tar" || return 1
  ! "$BALE" image inspect bomb:40 > /dev/null 2>&1 || { echo "bomb:40 stored"; return 1; }
  # the same check when a layer is unpacked (a snapshot), on the stored blob
  mkdir -p "$T_TMP/x2" || return 1
  ! "$top_builddir/tests/helpers/layertool" extract "$T_TMP/bomb.tar.layer" "$T_TMP/x2" > "$T_TMP/out" 2>&1 &&
    grep -q "a decompression bomb, refused" "$T_TMP/out" || { echo "layertool extract:"; cat "$T_TMP/out"; return 1; }
  # a compressed trailer under 16 MiB (padding of any record size), and an uncompressed
  # layer's of 20 MiB (it costs what it sends), load and run
  "$BALE" load -i "$T_TMP/pad.tar" > /dev/null && "$BALE" load -i "$T_TMP/plain.tar" > /dev/null &&
    [ "$("$BALE" run bomb:4 cat /hello)" = hi ] && [ "$("$BALE" run bomb:20 cat /hello)" = hi ] || return 1
  # ADD of the bomb: unpacked, the zeros after its end never read
  cp "$T_TMP/bomb.tar.layer" "$ctx/bomb.tgz" && head -c 6291456 /dev/urandom > "$T_TMP/big" &&
    tar -C "$T_TMP" -czf "$ctx/big.tgz" big && printf '%s\n' 'FROM busybox' 'ADD bomb.tgz /b/' > "$ctx/Dockerfile" &&
    "$BALE" build -q -t addbomb "$ctx" > /dev/null && [ "$("$BALE" run addbomb cat /b/hello)" = hi ] || return 1
  # a PAX sparse file of 1 TiB in 10 KiB of archive (a layer of 1 TiB of zeros to read and
  # compress); one of 100 MiB unpacks as before (F59)
  rm -rf "$T_TMP/sp" && mkdir -p "$T_TMP/sp" && truncate -s 1T "$T_TMP/sp/huge" &&
    tar -C "$T_TMP/sp" --sparse --format=posix -cf "$ctx/huge.tar" huge && rm "$T_TMP/sp/huge" &&
    truncate -s 100M "$T_TMP/sp/ok" && echo end >> "$T_TMP/sp/ok" &&
    tar -C "$T_TMP/sp" --sparse --format=posix -cf "$ctx/ok.tar" ok || return 1
  printf '%s\n' 'FROM busybox' 'ADD huge.tar /s/' > "$ctx/Dockerfile"
  fast_fail "ADD \"huge.tar\": cannot unpack: .*entry 'huge': sparse files of 1099511627776 bytes from [0-9]+ bytes of archive: more than 1 GiB plus 1024 times the archive's bytes, refused as a size bomb" \
    build --no-cache "$ctx" || return 1
  printf '%s\n' 'FROM busybox' 'ADD ok.tar /s/' > "$ctx/Dockerfile"
  "$BALE" build -q --no-cache -t sparseok "$ctx" > /dev/null &&
    [ "$("$BALE" run sparseok stat -c %s /s/ok)" = 104857604 ] || return 1
  BALE_MAX_LAYER_SIZE=64m fast_fail "entry 'ok': sparse files of 104857604 bytes .* refused as a size bomb \(BALE_MAX_LAYER_SIZE\)" \
    build --no-cache "$ctx" || return 1
  printf '%s\n' 'FROM busybox' 'ADD big.tgz /b/' > "$ctx/Dockerfile"
  BALE_MAX_LAYER_SIZE=1m fast_fail 'ADD "big.tgz": cannot unpack: .*the archive is larger than 1048576 bytes uncompressed \(BALE_MAX_LAYER_SIZE\)' \
    build --no-cache "$ctx" || return 1
  BALE_MAX_LAYER_SIZE=lots fast_fail 'BALE_MAX_LAYER_SIZE="lots": not a size in bytes' build --no-cache "$ctx" || return 1
  BALE_MAX_LAYER_SIZE=64m "$BALE" build -q --no-cache -t addbig "$ctx" > /dev/null || return 1
  # bale diff reads every file of both images' layers
  BALE_MAX_LAYER_SIZE=4m fast_fail "layer 1 .*'/b/big': the layer is larger than 4194304 bytes uncompressed \(BALE_MAX_LAYER_SIZE\)" \
    diff busybox addbig
}
check "decompression bombs: a layer's trailer of zeros past 16 MiB and its blob refused, naming the layer; ADD stops at the tar's end; sparse files bounded; BALE_MAX_LAYER_SIZE caps a layer" decompression_bombs

done_testing
