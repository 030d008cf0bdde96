#!/bin/sh
# RUN steps and `bale run` end to end, on a busybox base made from Debian's busybox-static.
# Results are checked by running them (bale run) and by unpacking the OCI output with umoci.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
examples="$top_srcdir/examples"

# df LINES...: write the context's Dockerfile.
df () { printf '%s\n' "$@" > "$ctx/Dockerfile"; }
# build NAME [ARGS]: build $ctx as NAME, also as an OCI layout unpacked at $T_TMP/NAME/rootfs.
build () {
  n=$1; shift
  rm -rf "$T_TMP/$n" "$T_TMP/$n.oci"
  "$BALE" build -q -t "$n:latest" --output "type=oci,dest=$T_TMP/$n.oci" "$@" "$ctx" > "$T_TMP/out" 2> "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
  umoci unpack --image "$T_TMP/$n.oci:latest" "$T_TMP/$n" > /dev/null 2>&1
}
# expect_run WANT IMAGE [ARGS]: bale run prints exactly WANT.
expect_run () {
  want=$1; shift
  got=$("$BALE" run "$@" 2>&1)
  [ "$got" = "$want" ] || { echo "bale run $*: got [$got], want [$want]"; return 1; }
}

seed_examples () {
  for ex in hello cmd cmd-entrypoint shell-entrypoint; do
    "$BALE" build -q -t "ex-$ex" "$examples/$ex" > /dev/null 2>&1 || { echo "build $ex"; return 1; }
  done
  expect_run "Hello, World! Welcome" ex-hello Welcome &&
    expect_run "Hello, World!" ex-hello &&
    expect_run "the default command" ex-cmd &&
    expect_run "replaced" ex-cmd echo replaced &&
    expect_run '${GREETING} from bale' ex-cmd-entrypoint &&
    expect_run "other args" ex-cmd-entrypoint other args &&
    expect_run "shell form, arguments ignored" ex-shell-entrypoint these are ignored &&
    expect_run "entrypoint replaced" --entrypoint /bin/echo ex-hello entrypoint replaced
}
check "seed examples: ENTRYPOINT, CMD, both, shell form, --entrypoint (bale run)" seed_examples

exit_status () {
  "$BALE" run busybox sh -c 'exit 7'
  [ $? -eq 7 ] || return 1
  # The command is PID 1, as in docker run: a signal it sends itself without a handler is
  # ignored; a fault kills it (128+11).
  "$BALE" run busybox sh -c 'kill -TERM $$' || return 1
  "$BALE" run busybox sh -c 'ulimit -s 256; f() { f; }; f'
  [ $? -eq 139 ]
}
check "bale run exits with the command's status (128+signal when killed)" exit_status

run_env_user_workdir () {
  df 'FROM busybox' 'ARG V=argval' 'ENV E=envval' 'USER app' 'WORKDIR /home/app/w' \
    'RUN echo "$V $E $(id -u):$(id -g) $(pwd) $HOSTNAME" > out' \
    'USER root' 'RUN --network=none ls /sys/class/net > /net'
  build r1 --build-arg HTTP_PROXY=http://proxy.invalid:3128 || return 1
  r=$T_TMP/r1/rootfs
  [ "$(cut -d' ' -f1-4 "$r/home/app/w/out")" = "argval envval 1000:1000 /home/app/w" ] &&
    [ "$(stat -c %u "$r/home/app/w")" = 1000 ] && [ "$(cat "$r/net")" = lo ] &&
    ! grep -q proxy "$T_TMP/r1.oci/blobs/sha256/"* 2>/dev/null
}
check "RUN: ARG and ENV values, USER, WORKDIR, network none; proxy args stay out of the image" run_env_user_workdir

# docker 20.10 gives every RUN the HTTP, HTTPS, FTP and NO proxy build args (both cases)
# undeclared, not ALL_PROXY, which a RUN sees only after ARG ALL_PROXY (diff-fuzz F65)
run_proxy_env () {
  df 'FROM busybox' 'RUN env | grep -i proxy | sort > /p1' 'ARG ALL_PROXY' 'RUN env | grep -i proxy | sort > /p2'
  build r1p --build-arg HTTPS_PROXY=http://h.invalid:1 --build-arg ALL_PROXY=http://a.invalid:2 || return 1
  r=$T_TMP/r1p/rootfs
  [ "$(cat "$r/p1" | tr '\n' ' ')" = "HTTPS_PROXY=http://h.invalid:1 https_proxy=http://h.invalid:1 " ] &&
    [ "$(cat "$r/p2" | tr '\n' ' ')" = "ALL_PROXY=http://a.invalid:2 HTTPS_PROXY=http://h.invalid:1 https_proxy=http://h.invalid:1 " ]
}
check "RUN: the proxy build args docker 20.10 passes undeclared (not ALL_PROXY)" run_proxy_env

whiteouts_and_opaque () {
  df 'FROM busybox' 'RUN rm /etc/group && rm -rf /tmp && mkdir /tmp && touch /tmp/new' \
    'RUN mkdir -p /d && echo a > /d/a' 'RUN rm -rf /d && mkdir /d && echo b > /d/b'
  build r2 || return 1
  r=$T_TMP/r2/rootfs
  [ ! -e "$r/etc/group" ] && [ -f "$r/etc/passwd" ] && [ -f "$r/tmp/new" ] &&
    [ ! -e "$r/d/a" ] && [ -f "$r/d/b" ] &&
    "$BALE" run r2 sh -c 'test ! -e /etc/group && test ! -e /d/a && cat /d/b' | grep -qx b
}
check "RUN: deletes and replaced directories become whiteouts (umoci and bale run agree)" whiteouts_and_opaque

links_and_specials () {
  df 'FROM busybox' 'RUN mkdir /l && echo x > /l/f && ln /l/f /l/hard && ln -s f /l/soft && mkfifo /l/fifo && mknod /l/null c 1 3 && chmod 4755 /l/f'
  build r3 || return 1
  r=$T_TMP/r3/rootfs
  [ "$(stat -c %i "$r/l/f")" = "$(stat -c %i "$r/l/hard")" ] && [ "$(readlink "$r/l/soft")" = f ] &&
    [ -p "$r/l/fifo" ] && [ -c "$r/l/null" ] && [ "$(stat -c %a "$r/l/f")" = 4755 ]
}
check "RUN: hard links, symlinks, FIFOs, devices and setuid bits reach the layer" links_and_specials

etc_files_not_in_layer () {
  df 'FROM scratch' 'COPY --from=busybox / /' 'RUN rm /etc/passwd; cat /etc/hosts > /hosts.copy'
  build r4 || return 1
  r=$T_TMP/r4/rootfs
  [ -s "$r/hosts.copy" ] && [ ! -e "$r/etc/hosts" ] && [ ! -e "$r/etc/resolv.conf" ] && [ ! -e "$r/etc/hostname" ]
}
check "RUN: /etc/hosts, resolv.conf and hostname are provided, never in the layer" etc_files_not_in_layer

buildkit_host () {
  # What BuildKit's RUN step sees (measured with docker 20.10): host name buildkitsandbox, on
  # the localhost line of a read-only /etc/hosts; no HOSTNAME in the environment (busybox sh
  # sets its own shell variable); no /etc/hostname of its own. bale run keeps docker run's:
  # HOSTNAME set and /etc/hostname writable.
  df 'FROM busybox' \
    'RUN { hostname; echo "H=$(env | grep -c ^HOSTNAME=)"; cat /etc/hosts; test -e /etc/hostname || echo no-hostname; (: >> /etc/hosts) || echo hosts-ro; (: >> /etc/resolv.conf) || echo resolv-ro; } > /seen 2>/dev/null'
  build rhost || return 1
  printf 'buildkitsandbox\nH=0\n127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\nno-hostname\nhosts-ro\nresolv-ro\n' > "$T_TMP/seen.want"
  diff "$T_TMP/seen.want" "$T_TMP/rhost/rootfs/seen" &&
    [ "$("$BALE" run busybox sh -c 'echo $HOSTNAME; cat /etc/hostname; (: >> /etc/hosts) && echo rw')" = "$(printf 'bale\nbale\nrw')" ]
}
check "RUN: the host name, /etc/hosts and environment of BuildKit's step; bale run keeps docker run's" buildkit_host

failure_is_located () {
  df 'FROM busybox' 'RUN echo some output; echo to stderr >&2; exit 3'
  build r5 && return 1
  grep -q "Dockerfile:2:1: error: RUN returned exit code 3" "$T_TMP/err" &&
    grep -q "to stderr" "$T_TMP/err" && ! "$BALE" images | grep -q '^r5 '
}
check "RUN: a failing command is a located error with its output's tail" failure_is_located

cache_mount_persists () {
  df 'FROM busybox' 'ARG N' 'RUN --mount=type=cache,target=/cache,id=c1 echo $N >> /cache/log && cp /cache/log /seen'
  build r6 --build-arg N=1 && build r6 --build-arg N=2 || return 1
  [ "$(cat "$T_TMP/r6/rootfs/seen" | tr '\n' ' ')" = "1 2 " ] && [ ! -e "$T_TMP/r6/rootfs/cache/log" ]
}
check "RUN --mount=type=cache persists across builds and stays out of the image" cache_mount_persists

secret_and_bind_mounts () {
  printf 's3cr3t' > "$T_TMP/token"
  echo ctxfile > "$ctx/inctx"
  df 'FROM busybox' 'RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /got' \
    'ENV TOKEN=public-value' \
    'RUN --mount=type=secret,id=tok,env=TOKEN echo "${#TOKEN} $(ls /run/secrets 2>/dev/null | wc -l)" > /env' \
    'RUN --mount=type=secret,id=tok stat -c "%a %u:%g" /run/secrets/tok > /mode' \
    'RUN --mount=type=secret,source=tok,target=/etc/tok,uid=1000,gid=5,mode=0440 stat -c "%a %u:%g %s" /etc/tok > /mode2' \
    'RUN --mount=type=secret,id=nope,env=NOPE echo "[${NOPE-unset}]" > /optional' \
    'RUN --mount=type=bind,target=/ctx cat /ctx/inctx > /bound' \
    'RUN --mount=type=bind,source=inctx,target=/f,rw echo changed >> /f && cat /f > /rwfile' \
    'RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch > /tmpfs'
  build r7 --secret "id=tok,src=$T_TMP/token" || return 1
  r=$T_TMP/r7/rootfs
  [ "$(cat "$r/got")" = 6 ] && [ "$(cat "$r/bound")" = ctxfile ] && [ "$(cat "$r/tmpfs")" = x ] &&
    [ "$(cat "$r/rwfile")" = "$(printf 'ctxfile\nchanged')" ] && [ "$(cat "$ctx/inctx")" = ctxfile ] && [ ! -e "$r/f" ] &&
    [ "$(cat "$r/env")" = "6 0" ] && [ "$(cat "$r/mode")" = "400 0:0" ] &&
    [ "$(cat "$r/mode2")" = "440 1000:5 6" ] && [ "$(cat "$r/optional")" = "[unset]" ] &&
    [ ! -e "$r/etc/tok" ] && [ -z "$(ls -A "$BALE_STORE/tmp")" ] &&
    [ ! -e "$r/run/secrets/tok" ] && [ -z "$(ls -A "$r/ctx")" ] && [ -z "$(ls -A "$r/scratch")" ] &&
    ! grep -rq s3cr3t "$T_TMP/r7.oci" && ! grep -q s3cr3t "$BALE_STORE"/blobs/sha256/* 2>/dev/null
}
check "RUN secret (file with mode/uid/gid, env=), bind and tmpfs mounts: visible to the step, never in the image" secret_and_bind_mounts

# BuildKit bind-mounts its transfer of the context, from which .dockerignore removed entries:
# an ignored file (a secret kept beside the sources) is not in the mount, an exception is, rw
# or not; the context itself is left as it was (diff-fuzz F22, checked against docker 20.10).
bind_context_ignored () {
  mkdir -p "$ctx/sec" "$ctx/keep" && echo s3cret > "$ctx/sec/token" && echo env > "$ctx/.env" &&
    echo y > "$ctx/sec/yes" && echo k > "$ctx/keep/k" && chmod 0750 "$ctx/keep" &&
    printf 'sec\n.env\n!sec/yes\n' > "$ctx/.dockerignore" || return 1
  df 'FROM busybox' 'RUN --mount=type=bind,target=/c find /c | sort > /l; cat /c/sec/* > /v; stat -c %a /c/keep > /m' \
    'RUN --mount=type=bind,source=sec,target=/s,rw ls /s > /s2 && echo w > /s/new' 'RUN --mount=type=bind,source=.env,target=/e true'
  if build r7i || ! grep -q "Dockerfile:4:1: error: .*'.env' not found in the build context" "$T_TMP/err"; then
    cat "$T_TMP/err"; return 1
  fi
  df 'FROM busybox' 'RUN --mount=type=bind,target=/c find /c | sort > /l; cat /c/sec/* > /v; stat -c %a /c/keep > /m' \
    'RUN --mount=type=bind,source=sec,target=/s,rw ls /s > /s2 && echo w > /s/new'
  build r7i || return 1
  r=$T_TMP/r7i/rootfs
  rm -f "$ctx/.dockerignore"
  [ "$(grep -v '^/c/inctx$' "$r/l")" = "$(printf '/c\n/c/.dockerignore\n/c/Dockerfile\n/c/keep\n/c/keep/k\n/c/sec\n/c/sec/yes')" ] &&
    [ "$(cat "$r/v")" = y ] && [ "$(cat "$r/m")" = 750 ] && [ "$(cat "$r/s2")" = yes ] &&
    ! grep -rq s3cret "$T_TMP/r7i.oci" && [ ! -e "$ctx/sec/new" ] && [ "$(cat "$ctx/sec/token")" = s3cret ] ||
    { cat "$r/l" "$r/v"; return 1; }
  rm -rf "$ctx/sec" "$ctx/keep" "$ctx/.env"
}
check "RUN --mount=type=bind of the context: what .dockerignore excludes is not there" bind_context_ignored

ssh_mounts () {
  # A listening unix socket stands in for ssh-agent: bale binds it, it does not speak to it.
  python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(600)' \
    "$T_TMP/agent.sock" & agent=$!
  i=0; while [ ! -S "$T_TMP/agent.sock" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
  df 'FROM busybox' \
    'RUN --mount=type=ssh test -S /run/buildkit/ssh_agent.0 && echo "$SSH_AUTH_SOCK" > /sock' \
    'RUN --mount=type=ssh,id=work,target=/a.sock --mount=type=ssh test -S /a.sock && test -S /run/buildkit/ssh_agent.1 && echo "$SSH_AUTH_SOCK" > /sock2' \
    'RUN --mount=type=ssh,id=absent echo "[${SSH_AUTH_SOCK-}]" > /absent'
  build r9 --ssh "default=$T_TMP/agent.sock" --ssh "work=$T_TMP/agent.sock"; st=$?
  r=$T_TMP/r9/rootfs
  [ $st = 0 ] && [ "$(cat "$r/sock")" = /run/buildkit/ssh_agent.0 ] && [ "$(cat "$r/sock2")" = /a.sock ] &&
    [ "$(cat "$r/absent")" = "[]" ] && [ -z "$(ls -A "$r/run/buildkit")" ] && [ ! -e "$r/a.sock" ] || { kill $agent; return 1; }
  # A required agent that was not given, a key file, and uid= are clear errors.
  df 'FROM busybox' 'RUN --mount=type=ssh,required=true true'
  ! "$BALE" build -q "$ctx" > /dev/null 2> "$T_TMP/err" && grep -q 'no ssh agent "default" was given' "$T_TMP/err" &&
    ! "$BALE" build -q --ssh "default=$T_TMP/token" "$ctx" > /dev/null 2> "$T_TMP/err" && grep -q "is not an agent socket" "$T_TMP/err" || { kill $agent; return 1; }
  # uid/gid/mode: the step gets a relay socket that has them (the agent's keeps its own).
  df 'FROM busybox' 'USER app' 'RUN --mount=type=ssh,uid=1000,gid=1000,mode=0660 stat -c "%u:%g %a %F" "$SSH_AUTH_SOCK" > /tmp/st'
  build r9b --ssh "default=$T_TMP/agent.sock" && [ "$(cat "$T_TMP/r9b/rootfs/tmp/st")" = "1000:1000 660 socket" ] &&
    [ "$(stat -c %a "$T_TMP/agent.sock")" != 660 ] && ! ls -d "${TMPDIR:-/tmp}"/bale-ssh.* 2> /dev/null
  st=$?; kill $agent; return $st
}
check "RUN --mount=type=ssh binds the agent socket given with --ssh, SSH_AUTH_SOCK set" ssh_mounts
bad_mount_numbers () {
  for m in "type=secret,id=x,mode=9" "type=cache,target=/c,uid=root" "type=secret,id=x,gid=-1"; do
    df 'FROM busybox' "RUN --mount=$m true"
    ! "$BALE" build -q "$ctx" > /dev/null 2> "$T_TMP/err" && grep -q "Dockerfile:2:1: .*--mount=$m: " "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  done
}
check "RUN --mount: a mode, uid or gid that is not a number is a located error" bad_mount_numbers

secret_from_env () {
  df 'FROM busybox' 'RUN --mount=type=secret,id=gh,env=GH echo "${#GH}" > /len'
  GH_TOKEN_TEST=abcdefgh build r10 --secret id=gh,env=GH_TOKEN_TEST && [ "$(cat "$T_TMP/r10/rootfs/len")" = 8 ] || return 1
  ! "$BALE" build -q --secret id=gh,env=UNSET_VAR_FOR_TEST "$ctx" > /dev/null 2> "$T_TMP/err" && grep -q "UNSET_VAR_FOR_TEST is not set" "$T_TMP/err"
}
check "--secret id=ID,env=VAR takes the secret from the environment" secret_from_env

heredoc_run () {
  df 'FROM busybox' 'RUN <<EOF' 'echo one > /h1' 'echo two >> /h1' 'EOF' \
    'RUN <<EOF' '#!/bin/sh' 'echo "script $0" > /h2' 'EOF'
  build r8 || return 1
  [ "$(cat "$T_TMP/r8/rootfs/h1" | tr '\n' ' ')" = "one two " ] && grep -q "^script " "$T_TMP/r8/rootfs/h2"
}
check "RUN heredocs: inline scripts and #! files" heredoc_run

# A #! heredoc is made with llb.Mkfile(NAME) in an empty scratch mounted at /dev/pipes and run
# as path.Join("/dev/pipes/", NAME) (diff-fuzz F50): ./s runs as /dev/pipes/s; a/b cannot be
# made there and ../x would run /dev/x, so both fail, located. bale mounted them at
# /dev/pipes/a/b and /x (clamped to the root) and ran them.
heredoc_run_names () {
  df 'FROM busybox' 'RUN <<./s' '#!/bin/sh' 'echo "script $0" > /h3' './s'
  build r8b || return 1
  [ "$(cat "$T_TMP/r8b/rootfs/h3")" = "script /dev/pipes/s" ] || { cat "$T_TMP/r8b/rootfs/h3"; return 1; }
  df 'FROM busybox' 'RUN <<a/b' '#!/bin/sh' 'true' 'a/b'
  build r8c && { echo "a/b: built"; return 1; }
  grep -q '/Dockerfile:2:5: error: RUN <<a/b: .*(open /a/b: no such file or directory)' "$T_TMP/err" || return 1
  df 'FROM busybox' 'RUN <<../x' '#!/bin/sh' 'true' '../x'
  build r8c && { echo "../x: built"; return 1; }
  grep -q '/Dockerfile:2:5: error: RUN <<../x: BuildKit mounts the script at /dev/pipes/x but runs /dev/x' "$T_TMP/err"
}
check "RUN #! heredoc names: cleaned as BuildKit runs them; a directory in the name is an error" heredoc_run_names

no_fd_leak () {
  df 'FROM busybox' 'RUN ls /proc/self/fd > /fds'
  exec 7< /dev/null
  build r9
  s=$?
  exec 7<&-
  [ $s -eq 0 ] && [ "$(tr '\n' ' ' < "$T_TMP/r9/rootfs/fds")" = "0 1 2 3 " ]
}
check "RUN: no descriptor of bale reaches the step" no_fd_leak

interrupt_cleans_up () {
  # A duration no other process on the machine sleeps for: this test's own step, and no other
  # test run's (several suites may run at once on a developer's machine).
  naps="sleep 1$$"
  df 'FROM busybox' "RUN $naps"
  "$BALE" build -q "$ctx" > /dev/null 2>&1 &
  pid=$!
  # Hang guards of 60 s: the step's start, and its end after bale's exit (its sandbox dies of
  # bale's signal, asynchronously).
  for i in $(seq 600); do pgrep -fx "$naps" > /dev/null && break; sleep 0.1; done
  pgrep -fx "$naps" > /dev/null || { kill $pid; echo "the step never started"; return 1; }
  kill -TERM $pid
  wait $pid && return 1
  for i in $(seq 600); do pgrep -fx "$naps" > /dev/null || break; sleep 0.1; done
  ! pgrep -fx "$naps" > /dev/null || { echo "the step still runs 60 s after bale's exit"; return 1; }
  ! grep -q "$BALE_STORE" /proc/self/mountinfo && [ -z "$(ls "$BALE_STORE/tmp")" ]
}
check "SIGTERM during RUN kills the step, leaves no process, mount or temporary directory" interrupt_cleans_up

multistage_example () {
  "$BALE" build -q -t ex-multi "$examples/multistage" > /dev/null 2>&1 &&
    expect_run "built by bale: no arguments" ex-multi &&
    expect_run "built by bale: a b" ex-multi a b
}
check "multi-stage example: RUN in one stage, COPY --from into another, USER" multistage_example

parallel_stages () {
  # Each stage waits (up to 120 s, a hang guard) for a file the other one creates in a shared
  # cache mount: built one after the other, the first would time out and fail.
  df 'FROM busybox AS a' \
    'RUN --mount=type=cache,target=/c,id=par touch /c/a && i=0 && while [ ! -e /c/b ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done && test -e /c/b && echo a > /a' \
    'FROM busybox AS b' \
    'RUN --mount=type=cache,target=/c,id=par touch /c/b && i=0 && while [ ! -e /c/a ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done && test -e /c/a && echo b > /b' \
    'FROM scratch' 'COPY --from=a /a /a' 'COPY --from=b /b /b'
  rm -rf "$BALE_STORE/cache/par"
  # BALE_JOBS: two jobs at once whatever the number of CPUs (one by default on a 1-CPU machine).
  BALE_JOBS=2 build r10 || return 1
  [ "$(cat "$T_TMP/r10/rootfs/a" "$T_TMP/r10/rootfs/b" | tr '\n' ' ')" = "a b " ]
}
check "independent stages run at the same time" parallel_stages

parallel_stage_failure () {
  # Stage a sleeps for months (a duration of this test's own, as in interrupt_cleans_up) once
  # it has said so in a shared cache mount; stage b fails when it sees that (exit 1 if it
  # never does). The build ends only if b's failure stops a running a: 300 s is a hang guard,
  # not a time limit. BALE_JOBS=2: both stages run at once, whatever the number of CPUs.
  naps="sleep 3$$"
  df 'FROM busybox AS a' "RUN --mount=type=cache,target=/c,id=fail touch /c/a && $naps" \
    'FROM busybox AS b' \
    'RUN --mount=type=cache,target=/c,id=fail i=0; while [ ! -e /c/a ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; test -e /c/a && exit 4' \
    'FROM scratch' 'COPY --from=a /bin/sh /a' 'COPY --from=b /bin/sh /b'
  rm -rf "$BALE_STORE/cache/fail"
  BALE_JOBS=2 timeout 300 "$BALE" build -q "$ctx" > /dev/null 2> "$T_TMP/err"; rc=$?
  [ $rc -ne 124 ] || { echo "the build still waited for stage a after 300 s"; return 1; }
  [ $rc -ne 0 ] && grep -q "Dockerfile:4:1: error: RUN returned exit code 4" "$T_TMP/err" ||
    { echo "exit $rc"; cat "$T_TMP/err"; return 1; }
  for i in $(seq 600); do pgrep -fx "$naps" > /dev/null || break; sleep 0.1; done
  ! pgrep -fx "$naps" > /dev/null || { echo "stage a's step still runs 60 s after bale's exit"; return 1; }
}
check "a failing stage stops the others and is reported with its location" parallel_stage_failure

foreign_platform_is_clear () {
  # linux/s390x where no binfmt_misc handler is registered: bale runs in a mount namespace
  # whose binfmt_misc is an empty stand-in (a tmpfs whose status says enabled). The machine's
  # own may have every qemu-user-static handler (systemd-binfmt registers them all when the
  # package is installed), or none, or what multiplat.sh registered.
  other=linux/s390x
  cat > "$T_TMP/nobinfmt" << EOF
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs /proc/sys/fs/binfmt_misc &&
  echo enabled > /proc/sys/fs/binfmt_misc/status && exec "\$0" "\$@"' '$BALE' "\$@"
EOF
  chmod +x "$T_TMP/nobinfmt"
  ! "$T_TMP/nobinfmt" binfmt "$other" > "$T_TMP/err" 2>&1 &&
    grep -q "no binfmt_misc handler for s390x ELF executables is registered" "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  df 'FROM scratch' 'COPY Dockerfile /x' 'RUN true'
  BALE=$T_TMP/nobinfmt build r12 --platform "$other" && return 1
  grep -q "Dockerfile:3:1: error: RUN: cannot run $other binaries on this machine: .*install Debian's qemu-user-static package" "$T_TMP/err" || return 1
  df 'FROM busybox' 'CMD ["sh"]'
  BALE=$T_TMP/nobinfmt build r12 --platform "$other" && return 1
  grep -q "Dockerfile:1:6: error: base image docker.io/library/busybox:latest: .*is for platform" "$T_TMP/err"
}
check "a foreign --platform: RUN and base images fail with a located, plain reason" foreign_platform_is_clear

copied_rootfs_fallback () {
  # Where overlayfs cannot be used, RUN works on a copied rootfs and a walking differ: the
  # same changes must come out (BALE_FORCE_COPY=1 takes that path here).
  df 'FROM busybox' 'RUN rm /etc/group && mkdir -p /d/e && echo a > /d/e/a && ln -s a /d/e/l' \
    'RUN rm -rf /d && mkdir /d && echo b > /d/b && chmod 600 /etc/passwd'
  rm -rf "$T_TMP/fc" "$T_TMP/fc.oci"
  BALE_FORCE_COPY=1 "$BALE" build -t fc:latest --output "type=oci,dest=$T_TMP/fc.oci" "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  grep -q "RUN steps run on a copied root filesystem (slower): overlayfs cannot be used: BALE_FORCE_COPY=1" "$T_TMP/err" || return 1
  umoci unpack --image "$T_TMP/fc.oci:latest" "$T_TMP/fc" > /dev/null 2>&1 || return 1
  r=$T_TMP/fc/rootfs
  [ ! -e "$r/etc/group" ] && [ ! -e "$r/d/e" ] && [ "$(cat "$r/d/b")" = b ] &&
    [ "$(stat -c %a "$r/etc/passwd")" = 600 ] && [ -x "$r/bin/busybox" ] &&
    [ "$("$BALE" run fc cat /d/b)" = b ]
}
check "RUN without overlayfs: a copied rootfs, the same layers' effect" copied_rootfs_fallback

merged_views_fallback () {
  # COPY, WORKDIR and RUN --mount=from read stages through views; without overlayfs the
  # layers are merged by hand (whiteouts, opaque directories, links): the image must be the
  # one the overlay views give, and the snapshots untouched.
  echo f > "$ctx/f"
  df 'FROM busybox AS a' 'RUN rm /etc/group && mkdir -p /d/e && echo a > /d/e/a && ln -s a /d/e/l' \
    'RUN rm -rf /d && mkdir /d && echo b > /d/b && chmod 600 /etc/passwd' \
    'COPY --chown=nobody f /d/' 'WORKDIR /d/w' \
    'FROM busybox' 'COPY --from=a /d /copied' 'COPY --from=a /etc /etc-a' \
    'RUN --mount=type=bind,from=a,source=/d,target=/m ls -a /m > /listed && cat /m/b >> /listed'
  for mode in overlay copy; do
    rm -rf "$T_TMP/mv-$mode.oci"
    if [ $mode = copy ]; then export BALE_FORCE_COPY=1; fi
    "$BALE" build --no-cache --source-date-epoch 1700000000 -t "mv-$mode" --output "type=oci,dest=$T_TMP/mv-$mode.oci" "$ctx" \
      > /dev/null 2> "$T_TMP/err"; st=$?
    unset BALE_FORCE_COPY
    [ $st = 0 ] || { cat "$T_TMP/err"; return 1; }
  done
  "$BALE" diff "mv-overlay" "mv-copy" > "$T_TMP/diff" || { cat "$T_TMP/diff"; return 1; }
  umoci unpack --image "$T_TMP/mv-copy.oci:latest" "$T_TMP/mv" > /dev/null 2>&1 || return 1
  r=$T_TMP/mv/rootfs
  [ ! -e "$r/etc-a/group" ] && [ ! -e "$r/copied/e" ] && [ "$(stat -c %u "$r/copied/f")" = 65534 ] &&
    [ -d "$r/copied/w" ] && grep -qx b "$r/listed" && [ -z "$(ls -A "$BALE_STORE/tmp")" ] &&
    [ "$(stat -c %a "$r/etc-a/passwd")" = 600 ]
}
check "COPY, WORKDIR and RUN --mount=from without overlayfs: merged views, the same image" merged_views_fallback

bind_mount_from_stage () {
  df 'FROM busybox AS tools' 'RUN mkdir /out && echo "from tools" > /out/msg' 'FROM busybox' \
    'RUN --mount=type=bind,from=tools,source=/out,target=/mnt cat /mnt/msg > /got' \
    'RUN --mount=type=bind,from=busybox,target=/bb test -x /bb/bin/busybox && echo ok > /got2'
  build r13 || return 1
  r=$T_TMP/r13/rootfs
  [ "$(cat "$r/got")" = "from tools" ] && [ "$(cat "$r/got2")" = ok ] && [ ! -e "$r/mnt/msg" ] &&
    ! grep -q "$BALE_STORE" /proc/self/mountinfo
}
check "RUN --mount=type=bind from a stage and from an image" bind_mount_from_stage

rw_bind_mounts () {
  mkdir -p "$ctx/sub" && echo orig > "$ctx/sub/f"
  df 'FROM busybox AS tools' 'RUN mkdir /out && echo t > /out/t' 'FROM busybox' \
    'RUN --mount=type=bind,source=sub,target=/m,rw echo changed > /m/f && echo new > /m/n && cat /m/f > /got' \
    'RUN --mount=type=bind,from=tools,source=/out,target=/o,rw echo w > /o/t && cat /o/t > /got2' \
    'RUN --mount=type=bind,from=tools,source=/out,target=/o cat /o/t > /got3'
  # With overlayfs, and without (the writable views are then copies).
  for force in 0 1; do
    BALE_FORCE_COPY=$force build r14 --no-cache || return 1
    r=$T_TMP/r14/rootfs
    [ "$(cat "$r/got")" = changed ] && [ "$(cat "$r/got2")" = w ] && [ "$(cat "$r/got3")" = t ] &&
      [ "$(cat "$ctx/sub/f")" = orig ] && [ ! -e "$ctx/sub/n" ] && [ -z "$(ls -A "$r/m")" ] && [ ! -e "$r/o/t" ] &&
      [ -z "$(ls -A "$BALE_STORE/tmp")" ] || { echo "BALE_FORCE_COPY=$force"; return 1; }
  done
}
check "RUN --mount=type=bind,rw: the step writes, nothing keeps it (context, stage, image; with and without overlayfs)" rw_bind_mounts

# A step's scratch (overlayfs's work directory) and the cache entries a --no-cache rebuild
# replaces are removed by the build's reaper process while the build goes on (also with
# stages in parallel processes, which share it): after the build, tmp/ is empty, and the
# entries that replaced them serve the next build, which then makes the same image.
reaped_scratch () {
  df 'FROM busybox AS a' 'RUN echo a1 > /a1' 'RUN echo a2 > /a2' 'FROM busybox AS b' 'RUN echo b > /b' \
    'FROM busybox' 'COPY --from=a /a2 /' 'COPY --from=b /b /' 'RUN cat /a2 /b > /ab'
  build r14r || return 1
  for _ in 1 2; do
    build r14r --no-cache && [ "$(cat "$T_TMP/r14r/rootfs/ab")" = "a2
b" ] && [ -z "$(ls -A "$BALE_STORE/tmp")" ] || return 1
  done
  id=$(cat "$T_TMP/out") && build r14r && [ "$(cat "$T_TMP/out")" = "$id" ]
}
check "a step's scratch and replaced cache entries are removed by the reaper, none left after the build" reaped_scratch

# A step's mount namespace outlives its command until the reaper closes it (its overlay's
# unmount runs there, while the layer is written): a process the step left behind must not
# outlive the step with it, nor write into the layer, its snapshot or the next step.
held_namespace () {
  df 'FROM busybox' \
    'RUN (sleep 1; echo late > /late; echo late > /tmp/late) > /dev/null 2>&1 & echo started' \
    'RUN sleep 2; ls / /tmp > /listing'
  build r14n --no-cache || return 1
  sleep 2
  r=$T_TMP/r14n/rootfs
  [ ! -e "$r/late" ] && [ ! -e "$r/tmp/late" ] && ! grep -qx late "$r/listing" &&
    [ -z "$(find "$BALE_STORE/snapshots" -name late)" ] && [ -z "$(ls -A "$BALE_STORE/tmp")" ]
}
check "a process a step leaves behind dies with it, though the step's mounts go later" held_namespace

run_user_groups () {
  # docker run and today's BuildKit RUN steps list the primary group among the supplementary
  # groups (BuildKit's ensureAdditionalGids, CVE-2023-25173; docker 20.10's RUN did not:
  # diff-fuzz F39), root's too.
  expect_run "uid=1000(app) gid=1000(app) groups=50(staff),1000(app)" -u app busybox id &&
    expect_run "uid=1000(app) gid=50(staff) groups=50(staff)" -u 1000:50 busybox id &&
    expect_run "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)" -u nobody busybox id || return 1
  df 'FROM busybox' 'RUN id > /tmp/id0' 'USER app' 'RUN id > /tmp/id' 'USER app:staff' 'RUN id > /tmp/id2' \
    'USER 4242' 'RUN id > /tmp/id3'
  build r15 && [ "$(cat "$T_TMP/r15/rootfs/tmp/id")" = "uid=1000(app) gid=1000(app) groups=50(staff),1000(app)" ] &&
    [ "$(cat "$T_TMP/r15/rootfs/tmp/id0")" = "uid=0(root) gid=0(root) groups=0(root)" ] &&
    [ "$(cat "$T_TMP/r15/rootfs/tmp/id2")" = "uid=1000(app) gid=50(staff) groups=50(staff)" ] &&
    [ "$(cat "$T_TMP/r15/rootfs/tmp/id3")" = "uid=4242 gid=0(root) groups=0(root)" ]
}
check "bale run -u and RUN: the primary group among the supplementary ones, as docker run and BuildKit set them" run_user_groups

# stub_layer OCI N: the Nth layer (from 0, the base's) of the OCI layout's image, listed
# (tar -tv, numeric owners) into $T_TMP/layer, and its etc/ extracted into $T_TMP/lx.
stub_layer () {
  m=$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)
  l=$(jq -r ".layers[$2].digest" "$1/blobs/sha256/$m" | cut -d: -f2)
  tar -tvf "$1/blobs/sha256/$l" --numeric-owner > "$T_TMP/layer" || return 1
  rm -rf "$T_TMP/lx" && mkdir "$T_TMP/lx" && tar -xf "$1/blobs/sha256/$l" -C "$T_TMP/lx" 2> /dev/null
  return 0
}
# F25: BuildKit makes the mount points of /etc/hosts and /etc/resolv.conf when the image lacks
# them, removes them after the step and leaves /etc with the time they were made: the step's
# layer holds etc/ (the image's mode and owner, the step's time); an image with both files
# gives a RUN layer without it; an image without /etc gets one, 0755 root.
run_stub_parent () {
  mkdir -p "$ctx/etcf" && echo '127.0.0.1 localhost' > "$ctx/etcf/hosts" &&
    echo 'nameserver 127.0.0.1' > "$ctx/etcf/resolv.conf" || return 1
  df 'FROM busybox AS plain' 'RUN true' 'FROM busybox AS full' 'COPY etcf/ /etc/' 'RUN true' \
    'FROM busybox AS odd' 'RUN chmod 0750 /etc && chown 5:6 /etc' 'RUN true' \
    'RUN echo x > /etc/foo' \
    'FROM scratch' 'COPY --from=plain /bin /bin' 'RUN true'
  for force in 0 1; do
    t0=$(date +%s)
    BALE_FORCE_COPY=$force build r16 --no-cache --target plain || return 1
    t1=$(date +%s)
    stub_layer "$T_TMP/r16.oci" 1 || return 1
    mt=$(stat -c %Y "$T_TMP/lx/etc")
    [ "$(wc -l < "$T_TMP/layer")" = 1 ] && grep -q '^drwxr-xr-x 0/0 .* etc/$' "$T_TMP/layer" &&
      [ "$mt" -ge "$t0" ] && [ "$mt" -le "$t1" ] || { echo "BALE_FORCE_COPY=$force plain ($t0-$t1):"; cat "$T_TMP/layer"; return 1; }
    BALE_FORCE_COPY=$force build r16 --no-cache --target full || return 1
    stub_layer "$T_TMP/r16.oci" 2 && [ ! -s "$T_TMP/layer" ] || { echo "BALE_FORCE_COPY=$force full:"; cat "$T_TMP/layer"; return 1; }
    # The image's mode and owner (the step before changed them); a step that writes in /etc
    # gives the entry once.
    BALE_FORCE_COPY=$force build r16 --no-cache --target odd || return 1
    stub_layer "$T_TMP/r16.oci" 2 && [ "$(wc -l < "$T_TMP/layer")" = 1 ] &&
      grep -q '^drwxr-x--- 5/6 .* etc/$' "$T_TMP/layer" && stub_layer "$T_TMP/r16.oci" 3 &&
      [ "$(grep -c ' etc/$' "$T_TMP/layer")" = 1 ] && grep -q ' etc/foo$' "$T_TMP/layer" ||
      { echo "BALE_FORCE_COPY=$force odd:"; cat "$T_TMP/layer"; return 1; }
    BALE_FORCE_COPY=$force build r16 --no-cache || return 1
    stub_layer "$T_TMP/r16.oci" 1 && [ "$(wc -l < "$T_TMP/layer")" = 1 ] &&
      grep -q '^drwxr-xr-x 0/0 .* etc/$' "$T_TMP/layer" || { echo "BALE_FORCE_COPY=$force scratch:"; cat "$T_TMP/layer"; return 1; }
  done
}
check "RUN on an image without /etc/hosts or /etc/resolv.conf: the layer holds etc/ with the step's time (F25)" run_stub_parent

done_testing
