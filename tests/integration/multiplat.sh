#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bale build --platform linux/amd64,linux/arm64: one image index from busybox bases of both
# architectures (Debian's busybox-static, amd64 and arm64), the arm64 RUN steps under
# qemu-user-static; the index pushed to a private docker-registry, read by skopeo and umoci,
# and its amd64 image pulled and run by a private dockerd. Needs root. A missing tool is a
# failure, never a skip.
#
# The arm64 busybox comes from Debian's mirror, fetched by .ci/run:
#   dpkg --add-architecture arm64 && apt-get update &&
#   (cd /var/cache/apt/archives && apt-get download busybox-static:arm64)
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/peers.sh"

need_root_and docker-registry skopeo umoci jq dpkg-deb python3
deb=$(ls ${BALE_ARM64_BUSYBOX_DEB:-/var/cache/apt/archives/busybox-static_*_arm64.deb} 2> /dev/null | head -1)
[ -n "$deb" ] || bail "no busybox-static arm64 package: run the apt-get download line of .ci/run"
[ -x /usr/bin/qemu-aarch64-static ] || bail "qemu-user-static is not installed (.ci/run installs it)"

REGISTERED=""
# What the test registered it removes again: the machine is left as it was found.
trap '[ -z "$REGISTERED" ] || echo -1 > "/proc/sys/fs/binfmt_misc/$REGISTERED"; cleanup_peers' EXIT

# The two bases, each a single-platform image in the store.
mkdir -p "$T_TMP/arm64"
dpkg-deb -x "$deb" "$T_TMP/arm64" || bail "cannot unpack $deb"
busybox_archive "$T_TMP/bb-amd64.tar" busybox-amd64:latest &&
  BUSYBOX="$T_TMP/arm64/bin/busybox" BUSYBOX_ARCH=arm64 busybox_archive "$T_TMP/bb-arm64.tar" busybox-arm64:latest &&
  "$BALE" load -i "$T_TMP/bb-amd64.tar" > /dev/null && "$BALE" load -i "$T_TMP/bb-arm64.tar" > /dev/null ||
  bail "cannot make the busybox bases"

# The arm64 RUN steps need qemu-user-static's handler; bale never registers one by itself,
# so the test does, as the README says, when the machine has none yet.
if ! "$BALE" binfmt linux/arm64 > /dev/null 2>&1; then
  echo "# registering qemu-aarch64: bale binfmt --install linux/arm64"
  "$BALE" binfmt --install linux/arm64 > /dev/null || bail "cannot register qemu-user-static's aarch64 handler"
  REGISTERED=qemu-aarch64
fi

binfmt_says () {
  "$BALE" binfmt linux/amd64 linux/arm64 > "$T_TMP/binfmt.out" &&
    grep -qx 'linux/amd64  *native' "$T_TMP/binfmt.out" &&
    grep -q '^linux/arm64  *emulated by [^ ]* (/[^ ]*, flags [A-Z]*F[A-Z]*)$' "$T_TMP/binfmt.out" ||
    { cat "$T_TMP/binfmt.out"; return 1; }
}
check "bale binfmt: amd64 native, arm64 under its qemu handler" binfmt_says

start_registry || bail "the registry did not start"
ref=127.0.0.1:$port/multi/app:v1

ctx="$T_TMP/ctx"
mkdir -p "$ctx"
# A cross-compiling builder (FROM --platform=$BUILDPLATFORM): its first RUN does not depend
# on the target and runs once; the second writes $TARGETARCH and runs per platform, natively.
cat > "$ctx/Dockerfile" << 'EOF'
ARG TARGETARCH
FROM --platform=$BUILDPLATFORM busybox-amd64 AS builder
RUN echo SHARED-$((40+2)) && echo "native $(uname -m)" > /native
ARG TARGETARCH
RUN echo "$TARGETARCH" > /target

FROM busybox-${TARGETARCH}
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT
COPY --from=builder /native /target /
RUN uname -m > /arch && echo "$TARGETPLATFORM|$TARGETOS|$TARGETARCH|$TARGETVARIANT|$BUILDPLATFORM|$BUILDOS|$BUILDARCH|$BUILDVARIANT" > /args
CMD ["cat", "/arch"]
EOF

build () {
  # arm64 again, spelt otherwise: one platform, built once.
  "$BALE" build --progress=plain --platform linux/amd64,linux/arm64 --platform arm64 --push -t "$ref" \
    -o "type=registry,name=$ref-2" \
    -o "type=oci,dest=$T_TMP/layout" --metadata-file "$T_TMP/md.json" --iidfile "$T_TMP/iid" "$ctx" \
    > "$T_TMP/build.out" 2> "$T_TMP/build.err" || { tail -30 "$T_TMP/build.err"; return 1; }
  "$BALE" tag "$ref" multi:1 || return 1
  # Said once, before the steps run.
  [ "$(grep -c '^#[0-9]* \[internal\] RUN steps for linux/arm64 run under emulation: binfmt_misc handler qemu-aarch64' "$T_TMP/build.err")" = 1 ] ||
    { echo "no (or more than one) emulation notice"; cat "$T_TMP/build.err"; return 1; }
  # Vertex names carry the platform, as BuildKit's do for several platforms.
  grep -q '^#[0-9]* \[linux/arm64 stage-1 3/3\] RUN uname -m' "$T_TMP/build.err" ||
    { cat "$T_TMP/build.err"; return 1; }
}
check "bale builds linux/amd64,linux/arm64, arm64 RUN steps under qemu-user-static" build

# shared_once LOG: the target-independent builder step ran once (its output once); the
# platforms build in parallel, so whichever came second took it from the first (CACHED).
shared_once () {
  [ "$(grep -c '^#[0-9]* [0-9.]* SHARED-42$' "$1")" = 1 ] ||
    { grep -n 'SHARED' "$1"; return 1; }
  [ "$(grep -A1 '^#[0-9]* \[.*builder 2/3\] RUN echo SHARED' "$1" | grep -c '^#[0-9]* CACHED$')" = 1 ] ||
    { cat "$1"; return 1; }
}
check "the FROM --platform=\$BUILDPLATFORM step that ignores the target ran once" shared_once "$T_TMP/build.err"

# --no-cache: the shared step still runs once (for one platform, taken by the other), and the
# index is the same bytes whatever order the parallel platforms ran in.
no_cache_twice () {
  for n in 1 2; do
    SOURCE_DATE_EPOCH=1700000000 "$BALE" build --no-cache --progress=plain --platform linux/amd64,linux/arm64 \
      --iidfile "$T_TMP/nc$n.iid" "$ctx" > /dev/null 2> "$T_TMP/nc$n.err" || { tail -30 "$T_TMP/nc$n.err"; return 1; }
    shared_once "$T_TMP/nc$n.err" || return 1
  done
  [ "$(cat "$T_TMP/nc1.iid")" = "$(cat "$T_TMP/nc2.iid")" ] ||
    { echo "index digests differ: $(cat "$T_TMP/nc1.iid") $(cat "$T_TMP/nc2.iid")"; return 1; }
}
check "--no-cache: the shared step runs once; the index digest does not depend on the scheduling" no_cache_twice

# in_image PLATFORM FILE WANT: bale run --platform PLATFORM multi:1 cat FILE prints WANT.
in_image () {
  got=$("$BALE" run --platform "$1" multi:1 cat "$2" 2>&1)
  [ "$got" = "$3" ] || { echo "$1 $2: got [$got], want [$3]"; return 1; }
}
per_platform () {
  in_image linux/amd64 /arch x86_64 &&
    in_image linux/arm64 /arch aarch64 &&
    in_image linux/amd64 /args "linux/amd64|linux|amd64||linux/amd64|linux|amd64|" &&
    in_image linux/arm64 /args "linux/arm64|linux|arm64||linux/amd64|linux|amd64|" &&
    in_image linux/arm64 /native "native x86_64" &&
    in_image linux/arm64 /target arm64 &&
    in_image linux/amd64 /target amd64 &&
    # Without --platform, the host's image of the index.
    [ "$("$BALE" run multi:1)" = x86_64 ]
}
check "per platform: uname -m (aarch64 under emulation) and the automatic platform ARGs" per_platform

other_commands () {
  # diff and explain read the index's image of --platform; load keeps a whole index.
  "$BALE" diff --platform linux/arm64 multi:1 busybox-arm64 > "$T_TMP/diff.out"
  [ $? = 1 ] && grep -q '^rootfs diff_ids: 3 -> 1$' "$T_TMP/diff.out" &&
    "$BALE" explain --platform linux/arm64 multi:1 | grep -q '^CMD  *\["cat","/arch"\]' &&
    "$BALE" build -q --platform linux/amd64,linux/arm64 -t multi:oci -o "type=oci-archive,dest=$T_TMP/multi.tar" "$ctx" > /dev/null &&
    BALE_STORE="$T_TMP/store3" "$BALE" load -i "$T_TMP/multi.tar" | grep -qx 'Loaded image: multi:oci' &&
    [ "$(BALE_STORE="$T_TMP/store3" "$BALE" run --platform linux/arm64 multi:oci cat /args)" = "linux/arm64|linux|arm64||linux/amd64|linux|amd64|" ] &&
    [ "$(BALE_STORE="$T_TMP/store3" "$BALE" run --platform linux/amd64 multi:oci cat /target)" = amd64 ] ||
    { cat "$T_TMP/diff.out"; return 1; }
}
check "diff and explain --platform, an oci-archive of the index loaded whole" other_commands

inspect_platform () {
  # --platform selects the index's manifest; the host's (amd64) without it.
  [ "$("$BALE" inspect --platform linux/arm64 multi:1 | jq -r '.[0].Architecture')" = arm64 ] &&
    [ "$("$BALE" inspect multi:1 | jq -r '.[0].Architecture')" = amd64 ] &&
    ! "$BALE" inspect --platform linux/s390x multi:1 > /dev/null 2> "$T_TMP/insp.err" &&
    grep -q 's390x' "$T_TMP/insp.err" || { cat "$T_TMP/insp.err"; return 1; }
}
check "inspect --platform selects the image of the index" inspect_platform

cache_every_platform () {
  # --cache-to carries both platforms' steps: a fresh store with --cache-from runs none.
  "$BALE" build -q --platform linux/amd64,linux/arm64 --cache-to "type=local,dest=$T_TMP/cache,mode=max" "$ctx" > /dev/null &&
    BALE_STORE="$T_TMP/store4" "$BALE" load -i "$T_TMP/bb-amd64.tar" > /dev/null &&
    BALE_STORE="$T_TMP/store4" "$BALE" load -i "$T_TMP/bb-arm64.tar" > /dev/null &&
    BALE_STORE="$T_TMP/store4" "$BALE" build --progress=plain --platform linux/amd64,linux/arm64 \
      --cache-from "type=local,src=$T_TMP/cache" "$ctx" > /dev/null 2> "$T_TMP/cache.err" || return 1
  [ "$(grep -c '^#[0-9]* CACHED$' "$T_TMP/cache.err")" = 12 ] && ! grep -q SHARED-42 "$T_TMP/cache.err" ||
    { cat "$T_TMP/cache.err"; return 1; }
}
check "--cache-to and --cache-from carry every platform's steps" cache_every_platform

index_in_store () {
  idx=$(cat "$T_TMP/build.out")
  blob="$BALE_STORE/blobs/sha256/$(echo "$idx" | cut -c8-)"
  [ "$(cat "$T_TMP/iid")" = "$idx" ] &&
    [ "$(jq -r .mediaType "$blob")" = application/vnd.oci.image.index.v1+json ] &&
    [ "$(jq -r '[.manifests[].platform | .os + "/" + .architecture] | join(",")' "$blob")" = linux/amd64,linux/arm64 ] &&
    "$BALE" images | grep -q "^multi  *1  *$(echo "$idx" | cut -c8-19) " &&
    [ "$(jq -r '."containerimage.descriptor".mediaType' "$T_TMP/md.json")" = application/vnd.oci.image.index.v1+json ] ||
    { cat "$blob" "$T_TMP/md.json"; "$BALE" images; return 1; }
}
check "the store names the index; the image ID and --iidfile are its digest" index_in_store

pushed () {
  skopeo inspect --tls-verify=false --raw "docker://$ref" > "$T_TMP/raw.json" || return 1
  [ "$(jq -r .mediaType "$T_TMP/raw.json")" = application/vnd.oci.image.index.v1+json ] &&
    [ "$(jq -r '[.manifests[].platform.architecture] | join(",")' "$T_TMP/raw.json")" = amd64,arm64 ] &&
    # type=registry pushes the same index.
    [ "$(skopeo inspect --tls-verify=false --raw "docker://$ref-2" | sha256sum)" = "$(sha256sum < "$T_TMP/raw.json")" ] &&
    [ "$(jq -r '."containerimage.digest"' "$T_TMP/md.json")" = "sha256:$(sha256sum < "$T_TMP/raw.json" | cut -c1-64)" ] ||
    { cat "$T_TMP/raw.json" "$T_TMP/md.json"; return 1; }
  skopeo --override-arch arm64 copy --src-tls-verify=false "docker://$ref" "oci:$T_TMP/arm64-copy:arm" > /dev/null &&
    (cd "$T_TMP" && umoci unpack --rootless --image arm64-copy:arm unpacked > /dev/null) &&
    [ "$(cat "$T_TMP/unpacked/rootfs/arch")" = aarch64 ] &&
    [ "$(jq -r .architecture "$T_TMP/arm64-copy/blobs/sha256/$(jq -r .config.digest "$T_TMP/arm64-copy/blobs/sha256/$(jq -r '.manifests[0].digest' "$T_TMP/arm64-copy/index.json" | cut -c8-)" | cut -c8-)")" = arm64 ]
}
check "--push: skopeo reads the index, skopeo copy --override-arch arm64 and umoci unpack its image" pushed

oci_output () {
  top=$(jq -r '.manifests[0].digest' "$T_TMP/layout/index.json" | cut -c8-)
  [ "$(jq -r '.manifests[0].mediaType' "$T_TMP/layout/index.json")" = application/vnd.oci.image.index.v1+json ] &&
    [ "$(jq -r '[.manifests[].platform.architecture] | join(",")' "$T_TMP/layout/blobs/sha256/$top")" = amd64,arm64 ] &&
    skopeo --override-arch arm64 inspect "oci:$T_TMP/layout:v1" | jq -e '.Architecture == "arm64"' > /dev/null ||
    { cat "$T_TMP/layout/index.json"; return 1; }
}
check "-o type=oci writes the index" oci_output

refusals () {
  ! "$BALE" build --platform linux/amd64,linux/arm64 -o "type=docker,dest=$T_TMP/d.tar" "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q 'docker exporter does not currently support exporting manifest lists' "$T_TMP/err" &&
    [ ! -e "$T_TMP/d.tar" ] &&
    ! "$BALE" plan --platform linux/amd64,linux/arm64 "$ctx" > /dev/null 2> "$T_TMP/err" &&
    grep -q 'one --platform at a time' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}
check "-o type=docker refuses a multi-platform build before building" refusals

pull_one_platform () {
  BALE_STORE="$T_TMP/store2" "$BALE" pull -q --platform linux/arm64 "$ref" > /dev/null &&
    [ "$(BALE_STORE="$T_TMP/store2" "$BALE" run --platform linux/arm64 "$ref")" = aarch64 ] || return 1
  # The store has the index and its arm64 image: a build for both pulls the amd64 one.
  mkdir -p "$T_TMP/ctx2" && printf 'FROM %s\nRUN cp /arch /arch2\n' "$ref" > "$T_TMP/ctx2/Dockerfile" &&
    BALE_STORE="$T_TMP/store2" "$BALE" build -q --platform linux/arm64,linux/amd64 -t two "$T_TMP/ctx2" > /dev/null &&
    [ "$(BALE_STORE="$T_TMP/store2" "$BALE" run --platform linux/amd64 two cat /arch2)" = x86_64 ] &&
    [ "$(BALE_STORE="$T_TMP/store2" "$BALE" run --platform linux/arm64 two cat /arch2)" = aarch64 ]
}
check "bale pull --platform linux/arm64 of the index, run under emulation; a build pulls the other image" pull_one_platform

save_platform () {
  # A docker-archive holds one image per name: the host's of the index, said on stderr, or
  # the one --platform names; a single-platform image that does not serve it is refused.
  "$BALE" save -o "$T_TMP/save.tar" multi:1 2> "$T_TMP/save.err" &&
    grep -qx 'multi:1: an image index: saved its linux/amd64 image (--platform selects another)' "$T_TMP/save.err" &&
    "$BALE" save --platform linux/arm64 -o "$T_TMP/save-arm.tar" multi:1 2> "$T_TMP/save.err" &&
    grep -qx 'multi:1: an image index: saved its linux/arm64 image' "$T_TMP/save.err" &&
    BALE_STORE="$T_TMP/store5" "$BALE" load -i "$T_TMP/save-arm.tar" > /dev/null &&
    [ "$(BALE_STORE="$T_TMP/store5" "$BALE" inspect multi:1 | jq -r '.[0].Architecture')" = arm64 ] &&
    "$BALE" save -o "$T_TMP/save-bb.tar" busybox-amd64 2> "$T_TMP/save.err" && [ ! -s "$T_TMP/save.err" ] &&
    ! "$BALE" save --platform linux/arm64 -o "$T_TMP/save-bb.tar" busybox-amd64 2> "$T_TMP/save.err" ||
    { cat "$T_TMP/save.err"; return 1; }
}
check "save of an index: the host's image, said; --platform selects another" save_platform

# Two platforms of two independent stages each: with a job limit of 2 (BALE_JOBS, as make -j),
# at most two RUN steps run at once over both platforms (one jobserver pipe), and two do.
mkdir -p "$T_TMP/ctx-jobs"
cat > "$T_TMP/ctx-jobs/Dockerfile" << 'EOF'
ARG TARGETARCH
FROM busybox-${TARGETARCH} AS a
RUN sleep 2 && echo a > /a
FROM busybox-${TARGETARCH} AS b
RUN sleep 2 && echo b > /b
FROM busybox-${TARGETARCH}
COPY --from=a /a /a
COPY --from=b /b /b
EOF
shared_limit () {
  BALE_JOBS=2 "$BALE" build --no-cache --progress=rawjson --platform linux/amd64,linux/arm64 "$T_TMP/ctx-jobs" \
    > /dev/null 2> "$T_TMP/jobs.json" || { tail -5 "$T_TMP/jobs.json"; return 1; }
  python3 - "$T_TMP/jobs.json" << 'PY'
import json, sys
from datetime import datetime, timezone
def t(s):  # RFC 3339 in UTC with nanoseconds: microseconds are enough here
    base, _, frac = s.rstrip("Z").partition(".")
    return datetime.fromisoformat(base).replace(tzinfo=timezone.utc).timestamp() + float("0." + (frac or "0"))
spans = {}
for line in open(sys.argv[1]):
    for v in json.loads(line).get("vertexes", []):
        if "] RUN sleep" not in v["name"]:
            continue
        span = spans.setdefault(v["digest"], [t(v["started"]), None])
        if "completed" in v:
            span[1] = t(v["completed"])
edges = sorted([(a, 1) for a, b in spans.values()] + [(b, -1) for a, b in spans.values()])
most = run = 0
for _, d in edges:
    run += d
    most = max(most, run)
print("# %d RUN steps, at most %d at once" % (len(spans), most))
sys.exit(0 if len(spans) == 4 and most == 2 else 1)
PY
}
check "platforms share one job limit: BALE_JOBS=2 runs two of the four RUN steps at a time" shared_limit

start_dockerd
docker_runs () {
  docker pull -q "$ref" > /dev/null && [ "$(docker run --rm --network none "$ref")" = x86_64 ]
}
check "docker pulls the amd64 image of the index and runs it" docker_runs

done_testing
