#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bale inside unprivileged docker containers (the way kaniko runs in CI): TAP output.
#
# bale builds its own image from the runtime stage of examples/bale/Dockerfile (Debian's
# packages from the mirror apt uses, on the mmdebstrap base of debian_base.sh; the binary is
# the one just built, in place of the example's build stage, which would compile bale again),
# loads it into a private dockerd (peers.sh) and runs `bale build` in `docker run` with
# Docker's default seccomp profile, capabilities and AppArmor profile and no --privileged:
#  - as the container's root: --isolation=auto must choose chroot and say so in its first
#    line, and the images of the examples, of a busybox Dockerfile that chowns, adds a user
#    and runs a step as that user, and of a Debian Dockerfile whose apt drops to _apt to
#    install from a file: repository (apt_repo.sh) must equal the ones root builds on the host
#    with namespaces (SOURCE_DATE_EPOCH), `bale diff` finding nothing;
#  - as the container's root, with the host's network: build and push to a registry, which
#    then holds root's image;
#  - as the image's ordinary user "build": no isolation works there (no user namespace, no
#    chroot), and the build must fail saying so and naming the fix;
#  - as "build" with --security-opt seccomp=unconfined --security-opt apparmor=unconfined:
#    auto must enter a user namespace (one id: Debian's newuidmap fails in Docker's capability
#    set) and chroot the steps in it (Docker's masked /proc paths refuse a fresh /proc there),
#    and the images must again be root's, the owners Dockerfile with its step as USER web
#    and a symbolic link's owner and the apt Dockerfile included.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"

need_root_and dockerd mmdebstrap docker-registry jq
top=$(cd "${top_srcdir:-.}" && pwd)
export SOURCE_DATE_EPOCH=1700000000

. "$top/tests/integration/debian_base.sh"
make_rootfs || bail "mmdebstrap failed"
pack > /dev/null || bail "cannot load the Debian base"
busybox_archive "$T_TMP/busybox.tar" > /dev/null || bail "cannot make the busybox image"
"$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || bail "cannot load busybox"

# bale's image: the example's runtime stage, with the binary built here.
img=$T_TMP/img
mkdir -p "$img"
cp "$BALE" "$BALE-core" "$img/" || bail "cannot copy bale and bale-core"
sed -n '/^FROM debian:bookworm$/,$p' "$top/examples/bale/Dockerfile" | sed 's|^COPY --from=build /src/bale /src/bale-core |COPY bale bale-core |' > "$img/Dockerfile"
grep -q '^COPY bale bale-core /usr/local/bin/$' "$img/Dockerfile" || bail "examples/bale/Dockerfile changed shape"
build_image () {
  "$BALE" build -q -t bale-test/bale "$img" > "$T_TMP/img.log" 2>&1 || { sed 's/^/# /' "$T_TMP/img.log"; return 1; }
  rm -f "$T_TMP/bale-image.tar"
  "$BALE" save -o "$T_TMP/bale-image.tar" bale-test/bale
}
check "bale builds its own image (examples/bale/Dockerfile's runtime stage) on the Debian base" build_image

start_dockerd
check "docker loads bale's image" sh -c 'docker load -i "$1" > /dev/null' sh "$T_TMP/bale-image.tar"

# What the containers build: the examples and a Dockerfile that changes owners.
in=$T_TMP/in
mkdir -p "$in/owners" "$T_TMP/out"
chmod 1777 "$T_TMP/out"
cp "$T_TMP/busybox.tar" "$T_TMP/debian.tar" "$in/"
. "$top/tests/integration/apt_repo.sh"
apt_context "$in/apt" || bail "cannot make the local repository (dpkg-dev)"
for ex in hello multistage; do cp -r "$top/examples/$ex" "$in/$ex"; done
printf 'data\n' > "$in/owners/f"
cat > "$in/owners/Dockerfile" << 'EOF'
FROM busybox
COPY --chown=1000:1000 f /home/f
RUN mkdir -p /srv/a/b && echo x > /srv/a/x && chown -R 33:33 /srv/a && chown 0:5 /srv/a/x \
 && ln -s x /srv/a/sym && chown -h 7:7 /srv/a/sym && chmod 4755 /srv/a/x && mkfifo /srv/fifo
RUN echo web:x:1234:1234::/home/app:/bin/sh >> /etc/passwd && echo web:x:1234: >> /etc/group \
 && mkdir -p /home/app && chown web:web /home/app
USER web
RUN touch /home/app/mine && id > /home/app/id
EOF
chmod -R a+rX "$in"
for ctx in hello multistage owners apt; do
  "$BALE" build -q -t "bale-test/$ctx" "$in/$ctx" > "$T_TMP/root-$ctx.id" 2>&1 ||
    { sed 's/^/# /' "$T_TMP/root-$ctx.id"; bail "the root build of $ctx failed"; }
  rm -f "$T_TMP/root-$ctx.tar"
  "$BALE" save -o "$T_TMP/root-$ctx.tar" "bale-test/$ctx" || bail "cannot save $ctx"
done

# in_docker USER [docker options] -- SCRIPT: sh -c SCRIPT in bale's image, /in read-only.
in_docker () {
  u=$1
  shift
  opts=""
  while [ "$1" != -- ]; do opts="$opts $1"; shift; done
  shift
  # shellcheck disable=SC2086
  docker run --rm --network "${net:-none}" -u "$u" $opts -e SOURCE_DATE_EPOCH -v "$in:/in:ro" \
    -v "$T_TMP/out:/out" --entrypoint sh bale-test/bale -c "$1"
}

# same_in_docker USER MODE-LINE [docker option...]: every context of $ctxs built in the
# container gives root's image ID and files; the build's first line is MODE-LINE (a prefix).
same_in_docker () {
  u=$1 mode=$2
  shift 2
  rm -f "$T_TMP/out/"*
  in_docker "$u" "$@" -- '
    set -e
    bale load -i /in/busybox.tar > /dev/null
    bale load -i /in/debian.tar > /dev/null
    for c in '"$ctxs"'; do
      bale build -t bale-test/$c /in/$c > /out/$c.log 2>&1 || { cat /out/$c.log; exit 1; }
      bale save -o /out/$c.tar bale-test/$c
      tail -n 1 /out/$c.log > /out/$c.id
    done' || return 1
  for c in $ctxs; do
    head -n 1 "$T_TMP/out/$c.log" | grep -qF "$mode" ||
      { echo "$c: first line: $(head -n 1 "$T_TMP/out/$c.log")"; return 1; }
    [ "$(cat "$T_TMP/out/$c.id")" = "$(cat "$T_TMP/root-$c.id")" ] ||
      { echo "$c: $(cat "$T_TMP/out/$c.id") in docker, $(cat "$T_TMP/root-$c.id") as root"
        "$BALE" diff "docker-archive:$T_TMP/root-$c.tar" "docker-archive:$T_TMP/out/$c.tar" | head -n 40; return 1; }
    "$BALE" diff "docker-archive:$T_TMP/root-$c.tar" "docker-archive:$T_TMP/out/$c.tar" || return 1
  done
}
ctxs="hello multistage owners apt"
check "as the container's root under Docker's defaults, auto picks chroot and builds root's images: apt as _apt" \
  same_in_docker 0 "isolation: chroot, no namespaces (namespaces and mounts are refused here"

# The kaniko case end to end: the container's root builds and pushes to a registry (on the
# host's loopback: --network host, still Docker's default profile and capabilities), and
# what the registry holds is root's image.
# Started here, not in the check: a check runs in a subshell, and the port start_registry
# sets would not outlive it.
start_registry || { echo "Bail out! the registry did not start"; exit 1; }
push_in_docker () {
  ref=127.0.0.1:$port/rootless/hello
  net=host in_docker 0 -- '
    set -e
    bale load -i /in/busybox.tar > /dev/null
    bale build -q --push -t '"$ref"' /in/hello > /out/push.log 2>&1 || { cat /out/push.log; exit 1; }' ||
    return 1
  "$BALE" pull -q "$ref" > /dev/null || return 1
  got=$("$BALE" inspect "$ref" | jq -r '.[0].Id')
  [ "$got" = "$(cat "$T_TMP/root-hello.id")" ] || { echo "pushed $got, root built $(cat "$T_TMP/root-hello.id")"; return 1; }
}
check "as the container's root under Docker's defaults, bale builds and pushes root's image to a registry" push_in_docker

user_fails () {
  out=$(in_docker build -- 'bale load -i /in/busybox.tar' 2>&1) && { echo "it worked: $out"; return 1; }
  printf '%s\n' "$out" | grep -q "no isolation works here" &&
    printf '%s\n' "$out" | grep -q "seccomp=unconfined" || { echo "$out"; return 1; }
}
check "as an ordinary user under Docker's defaults, bale says no isolation works and names the fix" user_fails

# newuidmap fails in Docker's capability set (docs/rootless.md "Inside Docker, measured") and
# Docker's masked /proc paths refuse a step's fresh /proc: one id, steps chrooted inside it.
check "as an ordinary user with seccomp and AppArmor unconfined, auto picks one id and chroot: USER web, chown -h, apt as _apt" \
  same_in_docker build "rootless: one id, ownership recorded (newuidmap could not map the subordinate ids: newuidmap: write to uid_map failed: Operation not permitted); isolation: chroot, no namespaces (a step's namespaces cannot be made in bale's user namespace" \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined

done_testing
