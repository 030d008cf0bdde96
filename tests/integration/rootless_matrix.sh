#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every feature in every mode bale runs in (docs/rootless.md, "The matrix"): TAP output.
#
# Modes: root on the host; a user with a range in /etc/subuid and /etc/subgid; a user with
# none (one id); root of a user namespace mapping a user's range (a rootless podman
# container); in an unprivileged docker container (a private dockerd, Docker's default
# seccomp profile, capabilities and AppArmor profile, no --privileged: what a CI job gets)
# as the container's root, as a non-root user, and as that user with seccomp and AppArmor
# unconfined. bale, bale-core and the host's libraries are bind-mounted into a busybox image.
# Each cell builds a small context under SOURCE_DATE_EPOCH and passes when its image ID is
# root's, or when it fails with the error the matrix of docs/rootless.md says (the
# instruction's line and the reason). MATRIX=FILE also writes the cells as "feature mode
# result" lines. MODES="root sub one userns droot duser duserx" chooses the modes (root first).
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"

need_root_and useradd userdel runuser newuidmap newgidmap dockerd docker-registry ssh-agent python3
top=$(cd "${top_srcdir:-.}" && pwd)
bdir=$(cd "$(dirname "$BALE")" && pwd)
export SOURCE_DATE_EPOCH=1700000000
MODES=${MODES:-root sub one userns droot duser duserx}
MATRIX=${MATRIX:-$T_TMP/matrix}
PIDS=""
user=balemx$$
user1=balemx1x$$
trap 'for p in $PIDS; do kill "$p" 2> /dev/null; done; cleanup_peers; userdel -r "$user" > /dev/null 2>&1;
  userdel -r "$user1" > /dev/null 2>&1; rm -rf "$T_TMP"' EXIT
useradd -m -s /bin/sh "$user" || bail "useradd $user failed"
useradd -m -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user1" || bail "useradd $user1 failed"
grep -q "^$user:" /etc/subuid || bail "useradd gave $user no range in /etc/subuid"
chmod 755 "$T_TMP"
w=$T_TMP/w
mkdir -p "$w/ctx" "$w/out"
chmod 1777 "$w/out"

busybox_archive "$w/busybox.tar" > /dev/null || bail "cannot make the busybox image"

# The contexts, one per feature. base.tar: an archive with files of uids 1000 and 65534, a
# setuid file, a character and a block device, a hard link and a user.* xattr, ADDed into
# the base image every mode loads. Ids above a 65536-id range come from COPY --chown and
# RUN chown (copy, chown).
python3 - "$w/base.tar" << 'PY' || bail "cannot write base.tar"
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def add(name, kind=tarfile.REGTYPE, uid=0, gid=0, mode=0o644, data=b"", **kw):
    i = tarfile.TarInfo(name)
    i.type, i.uid, i.gid, i.mode, i.mtime = kind, uid, gid, mode, 1600000000
    for k, v in kw.items():
        setattr(i, k, v)
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
add("srv", tarfile.DIRTYPE, mode=0o755)
add("srv/app", uid=1000, gid=1000, data=b"app\n")
add("srv/nobody", uid=65534, gid=65534, data=b"nobody\n")
add("srv/suid", mode=0o4755, data=b"#!/bin/sh\n")
add("srv/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3)
add("srv/loop", tarfile.BLKTYPE, mode=0o660, gid=6, devmajor=7, devminor=0)
add("srv/hard", tarfile.LNKTYPE, uid=1000, gid=1000, linkname="srv/app")
add("srv/xattr", data=b"x\n", pax_headers={"SCHILY.xattr.user.bale": "yes"})
t.close()
PY

mkctx () { mkdir -p "$w/ctx/$1" && cat > "$w/ctx/$1/Dockerfile"; }
mkctx base << 'EOF'
FROM busybox
ADD base.tar /
EOF
cp "$w/base.tar" "$w/ctx/base/"
mkctx run << 'EOF'
FROM base
RUN echo shell > /shell
RUN ["/bin/sh", "-c", "echo exec > /exec"]
EOF
mkctx stages << 'EOF'
FROM base AS a
RUN echo a > /a && mkdir /d && ln -s x /d/l && chown -h 7:7 /d/l && mkfifo /d/p && chown 8:8 /d/p
FROM base AS b
RUN echo b > /b
FROM base
COPY --from=a /a /a
COPY --from=a /d /d
COPY --from=b /b /b
EOF
mkctx copy << 'EOF'
FROM base
COPY f /f
COPY --chown=1000:1000 f /owned
COPY --chown=65534:65534 --chmod=0700 f /nobody
COPY --chown=app:staff f /named
COPY --from=base /srv/app /from-base
COPY --from=base /srv /from-base-dir
COPY --chown=100000:100000 f /big
EOF
printf 'data\n' > "$w/ctx/copy/f"
mkctx addtar << 'EOF'
FROM base
ADD owners.tar.gz /add/
EOF
mkdir -p "$T_TMP/own/d"
printf 'o\n' > "$T_TMP/own/d/o"
tar -C "$T_TMP/own" --owner=1000 --group=1000 --mtime=@1600000000 -czf "$w/ctx/addtar/owners.tar.gz" d
mkctx addurl << 'EOF'
ARG URL
FROM base
ARG URL
ADD $URL /url
ADD --chown=1000:1000 $URL /url-owned
EOF
mkctx cache << 'EOF'
FROM base
RUN --mount=type=cache,target=/c echo kept > /c/k
RUN --mount=type=cache,target=/c cp /c/k /from-cache
EOF
mkctx bind << 'EOF'
FROM base
RUN --mount=type=bind,target=/ctx cp /ctx/f /bound
RUN --mount=type=bind,from=base,source=/srv,target=/s cp /s/app /bound-from
EOF
printf 'bound\n' > "$w/ctx/bind/f"
mkctx tmpfs << 'EOF'
FROM base
RUN --mount=type=tmpfs,target=/t echo t > /t/x && cp /t/x /from-tmpfs
EOF
mkctx secret << 'EOF'
FROM base
RUN --mount=type=secret,id=s cp /run/secrets/s /from-secret
EOF
printf 'sec\n' > "$w/ctx/secret.txt"
mkctx ssh << 'EOF'
FROM base
RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo ssh > /ssh
EOF
mkctx user << 'EOF'
FROM base
RUN mkdir -m 1777 /w && su -s /bin/sh app -c 'touch /w/app && id -u > /w/app-id' \
 && su -s /bin/sh nobody -c 'touch /w/nobody'
USER app
RUN touch /w/user-app && mkdir /w/d
USER root
RUN touch /w/root-again
EOF
mkctx chown << 'EOF'
FROM base
COPY --chown=100000:100000 f /big
RUN touch /a /b /c && chown 1000:1000 /a && chown 65534:65534 /b && chown 70000:70000 /c \
 && chown 1000:100000 /big && chown -h 33:33 /srv/hard && chown 4000000:4000000 /srv/xattr
RUN chown 7:70000 /c && chown 0:0 /big
EOF
printf 'data\n' > "$w/ctx/chown/f"
mkctx special << 'EOF'
FROM base
RUN cp /bin/busybox /suid && chmod 4755 /suid && chmod 2755 /srv/app && ln /srv/app /linked \
 && mknod /devnull c 1 3 && mkfifo /fifo && ln -s /srv/null /sym \
 && cat /srv/xattr > /dev/null && echo more >> /srv/xattr
EOF
mkctx exports << 'EOF'
FROM base
RUN echo out > /out && chown 1000:1000 /out
EOF
mkctx localout << 'EOF'
FROM busybox
RUN mkdir -p /o/d && echo out > /o/f && chown -R 1000:1000 /o && chmod 4755 /o/f && chmod 700 /o/d
EOF
chmod -R a+rX "$w"

# Servers of the test's own: files for ADD of a URL, a registry for --push.
mkdir -p "$T_TMP/www"
printf 'from the web\n' > "$T_TMP/www/file"
hport=$(free_port)
(cd "$T_TMP/www" && exec python3 -m http.server --bind 127.0.0.1 "$hport") > /dev/null 2>&1 &
PIDS="$PIDS $!"
wait_listen $! "$hport" || bail "the http server did not start"
url=http://127.0.0.1:$hport/file
start_registry || bail "the registry did not start"

# The container's image: busybox, with bale and the host's libraries bound in at run time.
case " $MODES " in *" d"*)
  start_dockerd
  docker load -i "$w/busybox.tar" > /dev/null || bail "docker cannot load busybox" ;;
esac

# in MODE CMD...: CMD run as the mode's user, with a store of its own, in $w.
in_mode () {
  m=$1
  shift
  case $m in
    root) (cd "$w" && BALE_STORE="$T_TMP/s-root" "$@") ;;
    sub) runuser -u "$user" -- env -u BALE_STORE SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" sh -c 'cd "$0" && exec "$@"' "$w" "$@" ;;
    one) runuser -u "$user1" -- env -u BALE_STORE SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" sh -c 'cd "$0" && exec "$@"' "$w" "$@" ;;
    # What a rootless podman container gives: root of a user namespace that maps the user and
    # its range (unshare --map-auto runs newuidmap as podman does).
    userns) runuser -u "$user" -- env BALE_STORE="/home/$user/nsstore" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" \
              unshare --map-root-user --map-auto sh -c 'cd "$0" && exec "$@"' "$w" "$@" ;;
    droot|duser|duserx)
      case $m in
        droot) u=0:0 sec="" ;;
        duser) u=1000:1000 sec="" ;;
        duserx) u=1000:1000 sec="--security-opt seccomp=unconfined --security-opt apparmor=unconfined" ;;
      esac
      mkdir -p "$T_TMP/h-$m" && chown "$u" "$T_TMP/h-$m"
      # shellcheck disable=SC2086
      docker run --rm --network host -u "$u" $sec -e SOURCE_DATE_EPOCH -e HOME="$T_TMP/h-$m" \
        -e BALE_STORE="$T_TMP/h-$m/store" -e LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu -w "$w" \
        -v /usr/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:ro -v /usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro \
        -v /lib64:/lib64:ro \
        -v "$bdir:$bdir:ro" -v /usr/bin/ssh-agent:/usr/bin/ssh-agent:ro -v "$T_TMP:$T_TMP" \
        busybox "$@" ;;
  esac
}

# The base every mode builds on: root's, saved, loaded by each mode.
chmod a+r "$w/busybox.tar"
in_mode root "$BALE" load -i "$w/busybox.tar" > /dev/null &&
  in_mode root "$BALE" build -q -t base "$w/ctx/base" > /dev/null 2>&1 &&
  in_mode root "$BALE" save -o "$w/base-image.tar" base || bail "root cannot build the base"
chmod a+r "$w/base-image.tar"

# build MODE CTX [OPTIONS...]: bale build of CTX in MODE; its output in $w/out/MODE-CTX.log.
build () {
  m=$1 c=$2
  shift 2
  rm -f "$w/out/$m-$c.log" "$w/out/$m-$c.iid"
  case $c in
    ssh) in_mode "$m" sh -c 'eval "$(ssh-agent -s)" > /dev/null || exit 1; "$@"; r=$?; kill "$SSH_AGENT_PID"; exit $r' \
           sh "$BALE" build --progress=plain --no-cache --iidfile "$w/out/$m-$c.iid" --ssh default "$@" "$w/ctx/$c" ;;
    *) in_mode "$m" "$BALE" build --progress=plain --no-cache --iidfile "$w/out/$m-$c.iid" --build-arg "URL=$url" --secret "id=s,src=$w/ctx/secret.txt" \
         "$@" "$w/ctx/$c" ;;
  esac > "$w/out/$m-$c.log" 2>&1
}

# expect MODE FEATURE: what docs/rootless.md's matrix says, "same" or a pattern of the error.
expect () {
  case $1:$2 in
    duser:*) echo "no isolation works here: an ordinary user needs a user namespace" ;;
    *) echo same ;;
  esac
}

cell () {
  printf '%s %s %s\n' "$2" "$1" "$3" >> "$MATRIX"
}

# feature MODE FEATURE: build it in MODE; root's image ID, or the error expect names.
feature () {
  m=$1 f=$2 want=$(expect "$1" "$2")
  build "$m" "$f"
  rc=$?
  if [ "$want" = same ]; then
    [ $rc = 0 ] || { cell "$m" "$f" "fails"; cat "$w/out/$m-$f.log"; return 1; }
    got=$(cat "$w/out/$m-$f.iid")
    [ "$got" = "$(cat "$w/out/root-$f.iid")" ] ||
      { cell "$m" "$f" "differs"; echo "$m: $got, root: $(cat "$w/out/root-$f.iid")"; return 1; }
    cell "$m" "$f" same
  else
    [ $rc != 0 ] || { cell "$m" "$f" "builds, expected to fail"; head -n 3 "$w/out/$m-$f.log"; grep "$f" "$w/out/$m-$f.log" | head -n 5; return 1; }
    grep -q "$want" "$w/out/$m-$f.log" || { cell "$m" "$f" "fails otherwise"; cat "$w/out/$m-$f.log"; return 1; }
    # A step's refusal names its instruction and line.
    case $want in *RUN*) grep -q "/Dockerfile:[23]:1: error: RUN" "$w/out/$m-$f.log" ||
      { cell "$m" "$f" "fails without its line"; cat "$w/out/$m-$f.log"; return 1; } ;; esac
    cell "$m" "$f" "refused"
  fi
}

# ---- exports, bale run and bale prune, of the exports context's image ----
# out MODE NAME [OPTIONS...]: build exports with OPTIONS in MODE, -t mx/exports.
out () {
  m=$1 n=$2
  shift 2
  in_mode "$m" "$BALE" build -q -t mx/exports "$@" "$w/ctx/exports" > "$w/out/$m-$n.log" 2>&1 ||
    { cell "$m" "$n" fails; cat "$w/out/$m-$n.log"; return 1; }
}
# same_file MODE NAME: the mode's output file or directory listing is root's.
same_out () {
  cmp "$w/out/root-$2" "$w/out/$1-$2" || { cell "$1" "$2" differs; return 1; }
  cell "$1" "$2" same
}
exp_oci () { out "$1" oci -o "type=oci,dest=$w/out/$1-oci.d" && cp "$w/out/$1-oci.d/index.json" "$w/out/$1-oci" && same_out "$1" oci; }
exp_ociar () { out "$1" oci-archive -o "type=oci,dest=$w/out/$1-oci-archive,tar=true" && same_out "$1" oci-archive; }
exp_docker () { out "$1" docker -o "type=docker,dest=$w/out/$1-docker" && same_out "$1" docker; }
exp_tar () { out "$1" tar -o "type=tar,dest=$w/out/$1-tar" && same_out "$1" tar; }
# local: the files, their types, modes and sizes are root's, and belong to the mode's user,
# who can remove them (BuildKit's client writes every file as its own user).
exp_local () {
  in_mode "$1" "$BALE" build -q -o "type=local,dest=$w/out/$1-local.d" "$w/ctx/localout" > "$w/out/$1-local.log" 2>&1 ||
    { cell "$1" local fails; cat "$w/out/$1-local.log"; return 1; }
  (cd "$w/out/$1-local.d" && find . -printf '%p %y %m %s\n' | sort) > "$w/out/$1-local"
  same_out "$1" local || return 1
  others=$(in_mode "$1" find "$w/out/$1-local.d" ! -user "$(in_mode "$1" id -u)" | head -n 3)
  [ -z "$others" ] || { cell "$1" local "owned by others"; echo "not the user's: $others"; return 1; }
  in_mode "$1" rm -rf "$w/out/$1-local.d" || { cell "$1" local "cannot be removed by the user"; return 1; }
}
# A device node in a local export is left out with a warning in every mode (the tree is the
# host's: hostile_dirs.sh local_privileged); asked for with privileged-files=true, root makes
# it, an ordinary user cannot (nor can BuildKit's client) and the export fails naming the file
# and the way out.
exp_localdev () {
  in_mode "$1" "$BALE" build -q -o "type=local,dest=$w/out/$1-localdev0.d" "$w/ctx/exports" > "$w/out/$1-localdev0.log" 2>&1 &&
    [ -d "$w/out/$1-localdev0.d/srv" ] && ! [ -e "$w/out/$1-localdev0.d/srv/null" ] &&
    grep -q "^warning: .*'srv/null': device node (character 1:3) not created" "$w/out/$1-localdev0.log" ||
    { cell "$1" local-devices "not left out"; cat "$w/out/$1-localdev0.log"; return 1; }
  in_mode "$1" "$BALE" build -q -o "type=local,dest=$w/out/$1-localdev.d,privileged-files=true" "$w/ctx/exports" > "$w/out/$1-localdev.log" 2>&1
  rc=$?
  case $1 in
    root | droot)
      [ $rc = 0 ] && [ -c "$w/out/$1-localdev.d/srv/null" ] || { cell "$1" local-devices fails; cat "$w/out/$1-localdev.log"; return 1; }
      cell "$1" local-devices "left out; same with privileged-files" ;;
    *)
      [ $rc != 0 ] && grep -q "cannot create device 'srv/[a-z]*': an ordinary user cannot make device nodes (export with -o type=tar" "$w/out/$1-localdev.log" ||
        { cell "$1" local-devices "fails otherwise"; cat "$w/out/$1-localdev.log"; return 1; }
      cell "$1" local-devices "left out; refused with privileged-files" ;;
  esac
}
exp_push () {
  in_mode "$1" "$BALE" build -q --push -t "127.0.0.1:$port/mx/$1" "$w/ctx/exports" > "$w/out/$1-push.log" 2>&1 ||
    { cell "$1" push fails; cat "$w/out/$1-push.log"; return 1; }
  tail -n 1 "$w/out/$1-push.log" > "$w/out/$1-push" && same_out "$1" push
}
exp_cache () {
  out "$1" cache-to --cache-to "type=local,dest=$w/out/$1-cache,mode=max" || return 1
  in_mode "$1" "$BALE" --store "$w/out/fresh-$1" load -i "$w/base-image.tar" > /dev/null &&
    in_mode "$1" "$BALE" --store "$w/out/fresh-$1" build --progress=plain --cache-from "type=local,src=$w/out/$1-cache" \
    "$w/ctx/exports" > "$w/out/$1-cache-from.log" 2>&1 || { cell "$1" cache-from fails; cat "$w/out/$1-cache-from.log"; return 1; }
  grep -q '^#[0-9]* CACHED' "$w/out/$1-cache-from.log" || { cell "$1" cache-from "not cached"; cat "$w/out/$1-cache-from.log"; return 1; }
  cell "$1" cache-to/from same
}
exp_run () {
  got=$(in_mode "$1" "$BALE" run --rm mx/exports sh -c 'cat /out; stat -c %u:%g /out /srv/nobody /srv/app' 2>&1)
  [ "$got" = "out
1000:1000
65534:65534
1000:1000" ] || { cell "$1" bale-run differs; echo "got [$got]"; return 1; }
  cell "$1" bale-run same
}
exp_prune () {
  in_mode "$1" sh -c '"$0" rmi mx/exports > /dev/null && "$0" prune > /dev/null' "$BALE" ||
    { cell "$1" bale-prune fails; return 1; }
  cell "$1" bale-prune works
}
loads () {
  in_mode "$1" sh -c '"$0" load -i "$1" && "$0" load -i "$2"' "$BALE" "$w/busybox.tar" "$w/base-image.tar" > "$w/out/$1-load.log" 2>&1
  rc=$?
  if [ "$1" = duser ]; then
    [ $rc != 0 ] && grep -q "$(expect duser load)" "$w/out/$1-load.log" || { cat "$w/out/$1-load.log"; return 1; }
    cell "$1" load refused
  else
    [ $rc = 0 ] || { cat "$w/out/$1-load.log"; return 1; }
  fi
}

features="run stages copy addtar addurl cache bind tmpfs secret ssh user chown special exports"
for m in $MODES; do
  check "$m: loads busybox and the base image" loads "$m"
  for f in $features; do
    check "$m: $f" feature "$m" "$f"
  done
  [ "$m" = duser ] && continue
  for e in oci ociar docker tar local localdev push cache run prune; do
    check "$m: export $e" "exp_$e" "$m"
  done
done

done_testing
