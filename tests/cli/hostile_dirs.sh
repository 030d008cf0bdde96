#!/bin/sh
# Directories bale writes into or reads from that came from elsewhere: a cache directory
# (--cache-to, --cache-from; a CI cache restored, another machine's export) and an OCI layout
# (-o type=oci,tar=false, bale load, --build-context oci-layout://). A symlink planted in one
# is never written through to a host file, and a FIFO never makes bale wait for ever: each
# case is an error naming the file, or is replaced, and the canary outside stays as it was.
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store

canary="$T_TMP/canary"
mkdir -p "$canary" && echo CANARY > "$canary/c"
canary_intact () {
  [ "$(cat "$canary/c")" = CANARY ] && [ "$(ls "$canary")" = c ] || { echo "the canary changed:"; ls -la "$canary"; head -c 64 "$canary/c" | od -c | head -3; return 1; }
}

printf 'FROM busybox\nRUN echo dirs > /x\n' > "$ctx/Dockerfile"
"$BALE" build -q --cache-to "type=local,dest=$T_TMP/c1" "$ctx" > /dev/null || exit 1
"$BALE" build -q -o "type=oci,tar=false,dest=$T_TMP/lay" "$ctx" > /dev/null || exit 1

# --cache-to wrote each blob to blobs/sha256/<hex>.tmp opened with O_TRUNC and no O_NOFOLLOW:
# a symlink planted under that name (the digests of a known build are known) had the layer
# written over the host file it named. Temporary names of bale's own and O_EXCL|O_NOFOLLOW now;
# a symlink planted as the blob itself is replaced, not taken for the blob.
cache_to_symlinks () {
  rm -rf "$T_TMP/c2" && mkdir -p "$T_TMP/c2/blobs/sha256"
  for f in $(ls "$T_TMP/c1/blobs/sha256"); do ln -s "$canary/c" "$T_TMP/c2/blobs/sha256/$f.tmp"; done
  "$BALE" build -q --cache-to "type=local,dest=$T_TMP/c2" "$ctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  canary_intact || return 1
  rm -rf "$T_TMP/c2" && mkdir -p "$T_TMP/c2/blobs/sha256"
  for f in $(ls "$T_TMP/c1/blobs/sha256"); do ln -s "$canary/c" "$T_TMP/c2/blobs/sha256/$f"; done
  "$BALE" build -q --cache-to "type=local,dest=$T_TMP/c2" "$ctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  canary_intact || return 1
  # the layers its keys name are files of the directory now, not the links
  for f in $(for k in "$T_TMP/c2/keys/"*; do sed 's/.*"digest":"sha256:\([0-9a-f]*\)".*/\1/' "$k"; echo; done); do
    [ -f "$T_TMP/c2/blobs/sha256/$f" ] && [ ! -L "$T_TMP/c2/blobs/sha256/$f" ] \
      || { echo "$f is not a file:"; ls -la "$T_TMP/c2/blobs/sha256"; return 1; }
  done
}
check "--cache-to: symlinks planted as blobs and their temporary files are not written through" cache_to_symlinks

# The directories of a cache directory (blobs, blobs/sha256, keys, mounts) planted as symlinks
# to a host directory: new files landed there. Now an error naming the symlink.
cache_to_dir_symlinks () {
  for d in blobs keys mounts; do
    rm -rf "$T_TMP/c3" && mkdir -p "$T_TMP/c3" && ln -s "$canary" "$T_TMP/c3/$d"
    fast_fail "cache directory .*c3: '$d' is a symlink, not a directory" \
      build -q --cache-to "type=local,dest=$T_TMP/c3" "$ctx" || return 1
    canary_intact || return 1
  done
}
check "--cache-to: blobs, keys or mounts as a symlink out: an error, nothing written there" cache_to_dir_symlinks

# --cache-from read each entry with a plain open: a FIFO among keys/ (or as a blob) made the
# build wait for a writer for ever. Files of a cache directory are regular files or no entry.
cache_from_fifo () {
  rm -rf "$T_TMP/c4" && cp -r "$T_TMP/c1" "$T_TMP/c4"
  mkfifo "$T_TMP/c4/keys/0000000000000000000000000000000000000000000000000000000000000000" "$T_TMP/c4/inputs.new"
  key=$(ls "$T_TMP/c4/keys" | grep -v '^0000' | head -1)
  blob=$(ls "$T_TMP/c4/blobs/sha256" | head -1)
  rm "$T_TMP/c4/blobs/sha256/$blob" && mkfifo "$T_TMP/c4/blobs/sha256/$blob"
  rm -f "$T_TMP/c4/inputs" && mkfifo "$T_TMP/c4/inputs"
  [ -n "$key" ] || return 1
  BALE_STORE="$T_TMP/store2" timeout 120 "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || return 1
  BALE_STORE="$T_TMP/store2" timeout 120 "$BALE" build -q --cache-from "type=local,src=$T_TMP/c4" "$ctx" > "$T_TMP/out" 2>&1 \
    || { cat "$T_TMP/out"; return 1; }
}
check "--cache-from: FIFOs as an entry, a blob and the inputs are skipped, not waited on" cache_from_fifo

# A cache directory's inputs bundle (what its entries were made from) is a tar unpacked in
# the store, whose inputs/ and steps/ files were then moved into the store by path: a bundle
# holding `inputs -> /host/dir` had every hex-named file of that host directory (a blob store,
# say) moved out of it. Now the directories are opened without following a symlink.
cache_inputs_symlink () {
  victim="$canary/v" && mkdir -p "$victim" && hex=$(printf '%064d' 0 | tr 0 a) && echo VICTIM > "$victim/$hex"
  rm -rf "$T_TMP/c5" && cp -r "$T_TMP/c1" "$T_TMP/c5"
  python3 - "$T_TMP/c5" "$victim" << 'PY2'
import hashlib, io, json, sys, tarfile
b = io.BytesIO()
with tarfile.open(fileobj=b, mode='w', format=tarfile.PAX_FORMAT) as t:
    for name in ('inputs', 'steps'):
        ti = tarfile.TarInfo(name)
        ti.type, ti.linkname = tarfile.SYMTYPE, sys.argv[2]
        t.addfile(ti)
data = b.getvalue()
h = hashlib.sha256(data).hexdigest()
open('%s/blobs/sha256/%s' % (sys.argv[1], h), 'wb').write(data)
open(sys.argv[1] + '/inputs', 'w').write(json.dumps({'digest': 'sha256:' + h, 'size': len(data)}))
PY2
  rm -rf "$T_TMP/store5" && BALE_STORE="$T_TMP/store5" "$BALE" load -i "$T_TMP/busybox.tar" > /dev/null || return 1
  BALE_STORE="$T_TMP/store5" timeout 120 "$BALE" build -q --cache-from "type=local,src=$T_TMP/c5" "$ctx" > "$T_TMP/out" 2>&1 \
    || { cat "$T_TMP/out"; return 1; }
  [ "$(cat "$victim/$hex" 2> /dev/null)" = VICTIM ] || { echo "the host file was moved:"; ls -la "$victim"; find "$T_TMP/store5" -name "$hex"; return 1; }
  rm -rf "$victim"
}
check "--cache-from: an inputs bundle whose inputs/ is a symlink to a host directory moves nothing out of it" cache_inputs_symlink

# -o type=oci,tar=false into a directory holding blobs -> a host directory: the blobs were
# written there; index.json -> a host file: it was read and its first word shown in the error.
oci_dest_symlinks () {
  rm -rf "$T_TMP/o1" && mkdir -p "$T_TMP/o1" && ln -s "$canary" "$T_TMP/o1/blobs"
  fast_fail "cannot write OCI layout .*o1': 'blobs' is a symlink, not a directory" \
    build -q -o "type=oci,tar=false,dest=$T_TMP/o1" "$ctx" || return 1
  canary_intact || return 1
  rm "$T_TMP/o1/blobs" && mkdir -p "$T_TMP/o1/blobs" && ln -s "$canary" "$T_TMP/o1/blobs/sha256"
  fast_fail "'sha256' is a symlink, not a directory" build -q -o "type=oci,tar=false,dest=$T_TMP/o1" "$ctx" || return 1
  canary_intact || return 1
  rm -rf "$T_TMP/o1" && mkdir -p "$T_TMP/o1" && ln -s "$canary/c" "$T_TMP/o1/index.json"
  fast_fail "'index.json' is a symlink" build -q -o "type=oci,tar=false,dest=$T_TMP/o1" "$ctx" || return 1
  ! grep -q CANARY "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  canary_intact || return 1
  rm "$T_TMP/o1/index.json" && mkfifo "$T_TMP/o1/index.json"
  fast_fail "'index.json' is not a regular file" build -q -o "type=oci,tar=false,dest=$T_TMP/o1" "$ctx"
}
check "-o type=oci,tar=false: blobs, blobs/sha256, index.json planted as symlinks or a FIFO: errors" oci_dest_symlinks

# Reading an OCI layout: index.json, a manifest or a layer that is a FIFO made bale load,
# bale diff and --build-context oci-layout:// wait for ever; blobs as a symlink led the reads out of it.
layout () { rm -rf "$T_TMP/L" && cp -r "$T_TMP/lay" "$T_TMP/L"; }
fifo_for () { rm "$T_TMP/L/$1" && mkfifo "$T_TMP/L/$1"; }
layout_reads () {
  manifest=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['manifests'][0]['digest'][7:])" "$T_TMP/lay/index.json")
  biggest=$(ls -S "$T_TMP/lay/blobs/sha256" | head -1)
  printf 'FROM x\n' > "$ctx/Dockerfile.nc"
  layout && fifo_for index.json
  BALE_STORE="$T_TMP/s3" fast_fail "'index.json' is not a regular file" load -i "$T_TMP/L" || return 1
  BALE_STORE="$T_TMP/s3" fast_fail "oci-layout://.*'index.json' is not a regular file" \
    build -f "$ctx/Dockerfile.nc" --build-context "x=oci-layout://$T_TMP/L" "$ctx" || return 1
  layout && fifo_for "blobs/sha256/$manifest"
  BALE_STORE="$T_TMP/s3" fast_fail "$manifest' is not a regular file" load -i "$T_TMP/L" || return 1
  layout && fifo_for "blobs/sha256/$biggest"
  BALE_STORE="$T_TMP/s3" fast_fail "$biggest' is not a regular file" load -i "$T_TMP/L" || return 1
  fast_fail "layer 0 has no valid sha256 digest, or its blob is not a regular file of the layout" \
    diff "oci:$T_TMP/lay" "oci:$T_TMP/L" || return 1
  layout && mv "$T_TMP/L/blobs" "$T_TMP/L/b2" && ln -s "$T_TMP/L/b2" "$T_TMP/L/blobs"
  BALE_STORE="$T_TMP/s3" fast_fail "cannot open directory 'blobs' \(a symlink is refused\)" load -i "$T_TMP/L" || return 1
  layout && ln -sf "$canary/c" "$T_TMP/L/index.json"
  BALE_STORE="$T_TMP/s3" fast_fail "'index.json' is a symlink" load -i "$T_TMP/L" || return 1
  ! grep -q CANARY "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  layout && BALE_STORE="$T_TMP/s3" timeout 120 "$BALE" load -i "$T_TMP/L" > /dev/null # the layout itself loads
}
check "OCI layouts read: FIFOs and symlinks as index.json, blobs and blobs/sha256 entries are errors" layout_reads

# --build-context x=oci-layout://DIR loaded the layout as `bale load` does, names and all: a
# layout whose index.json named its image docker.io/library/busybox:latest retagged the
# user's busybox, and every later FROM busybox built on the layout's image. BuildKit names
# nothing for a named context; bale now names the layout's image by its private name alone.
layout_names () {
  python3 - "$T_TMP/lay" "$T_TMP/P" << 'PY2'
import json, shutil, sys
shutil.rmtree(sys.argv[2], ignore_errors=True)
shutil.copytree(sys.argv[1], sys.argv[2])
idx = json.load(open(sys.argv[2] + '/index.json'))
idx['manifests'][0]['annotations'] = {'io.containerd.image.name': 'docker.io/library/busybox:latest',
                                      'org.opencontainers.image.ref.name': 'latest'}
json.dump(idx, open(sys.argv[2] + '/index.json', 'w'))
PY2
  before=$("$BALE" inspect --format "{{.Id}}" busybox:latest) && [ -n "$before" ] || return 1
  printf 'FROM x\nRUN cat /x\n' > "$ctx/Dockerfile.nc"
  "$BALE" build --progress plain --no-cache -f "$ctx/Dockerfile.nc" --build-context "x=oci-layout://$T_TMP/P:latest" "$ctx" > "$T_TMP/out" 2>&1 \
    || { cat "$T_TMP/out"; return 1; }
  grep -q '^#[0-9]* [0-9.]* dirs$' "$T_TMP/out" || { echo "not built on the layout's image:"; cat "$T_TMP/out"; return 1; }
  [ "$("$BALE" inspect --format "{{.Id}}" busybox:latest)" = "$before" ] || { echo "busybox:latest was retagged"; "$BALE" images; return 1; }
  ! "$BALE" images | grep -q named-context || { echo "the private name is left"; "$BALE" images; return 1; }
  # A docker-image:// context's name is the user's own image: the end of the build must not
  # remove it (an uninitialised flag once said "private"; UBSan saw it in CI's sanitizer build).
  printf 'FROM y\nCOPY --from=x /x /x\n' > "$ctx/Dockerfile.di"
  "$BALE" build -q --no-cache -f "$ctx/Dockerfile.di" --build-context "x=oci-layout://$T_TMP/P:latest" \
    --build-context y=docker-image://busybox:latest "$ctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  [ "$("$BALE" inspect --format "{{.Id}}" busybox:latest)" = "$before" ] || { echo "busybox:latest is gone"; "$BALE" images; return 1; }
}
check "--build-context: the layout's own names never tag images of the store, a docker-image:// name stays" layout_names

# Indexes nested four deep are allowed, their fan-out is not bounded: index.json naming an
# index 300 times, which names the next 300 times, walked each 300^3 times (minutes; 1000 would
# be days). Each document's children are walked once, each name recorded once.
fan_out () {
  python3 - "$T_TMP/lay" "$T_TMP/fan" 300 << 'PY2'
import json, hashlib, shutil, sys
src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst)
idx = json.load(open(dst + '/index.json'))
def put(doc):
    b = json.dumps(doc).encode()
    h = hashlib.sha256(b).hexdigest()
    open('%s/blobs/sha256/%s' % (dst, h), 'wb').write(b)
    return {'mediaType': 'application/vnd.oci.image.index.v1+json', 'digest': 'sha256:' + h, 'size': len(b)}
d = put({'schemaVersion': 2, 'manifests': [idx['manifests'][0]]})
for level in range(2):
    d = put({'schemaVersion': 2, 'manifests': [d] * k})
idx['manifests'] = [d] * k
json.dump(idx, open(dst + '/index.json', 'w'))
PY2
  BALE_STORE="$T_TMP/s4" timeout 120 "$BALE" load -i "$T_TMP/fan" > "$T_TMP/out" 2>&1 || { echo "bale load: $?"; tail -3 "$T_TMP/out"; return 1; }
  [ "$(grep -c 'Loaded image ID' "$T_TMP/out")" = 1 ] || { sort "$T_TMP/out" | uniq -c; return 1; }
}
check "bale load: an OCI layout of indexes that each name the next 300 times loads at once" fan_out

# -o type=local wrote a stage's device nodes, set-id bits and file capabilities as the image
# had them: as root, a world-writable `c 1 1` (/dev/mem), a block device, a setuid-root shell
# and a binary with cap_net_raw landed in the user's directory, usable by anyone on the host
# (BuildKit's local exporter does the same as root). Now they are left out, each with a
# warning naming the file, unless privileged-files=true; type=tar keeps them in the tar.
SYSCALLS=${SYSCALLS:-$top_builddir/tests/helpers/syscalls}
local_privileged () {
  [ -x "$SYSCALLS" ] || { echo "$SYSCALLS is not built"; return 1; }
  mkdir -p "$T_TMP/pctx" && cp "$SYSCALLS" "$T_TMP/pctx/syscalls"
  # setcap needs CAP_SETFCAP over the file: root's step has it; a rootless step may not.
  printf '%s\n' 'FROM busybox' 'COPY syscalls /bin/' \
    'RUN mknod /mem c 1 1 && chmod 666 /mem && mknod /disk b 7 0 && chmod 666 /disk && ln /mem /memlink && mkfifo /fifo && cp /bin/busybox /sh && chmod 4755 /sh && cp /bin/busybox /sg && chmod 2711 /sg && mkdir /shared && chmod 2775 /shared && cp /bin/busybox /ping && chmod 755 /ping && (syscalls setcap /ping || true)' \
    > "$T_TMP/pctx/Dockerfile"
  rm -rf "$T_TMP/lp"
  "$BALE" build -q --no-cache -o "type=local,dest=$T_TMP/lp" "$T_TMP/pctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  for f in mem disk memlink; do
    [ ! -e "$T_TMP/lp/$f" ] || { echo "$f exported:"; ls -la "$T_TMP/lp"; return 1; }
    grep -q "^warning: .*'$f': .*not created" "$T_TMP/out" || { echo "no warning for $f:"; cat "$T_TMP/out"; return 1; }
  done
  [ "$(stat -c %a "$T_TMP/lp/sh") $(stat -c %a "$T_TMP/lp/sg") $(stat -c %a "$T_TMP/lp/shared")" = "755 711 2775" ] &&
    [ -p "$T_TMP/lp/fifo" ] || { ls -la "$T_TMP/lp"; return 1; }
  grep -q "^warning: .*'sh': set-user-ID and set-group-ID bits cleared (mode 4755, written 0755)" "$T_TMP/out" &&
    grep -q "^warning: .*'sg': set-user-ID" "$T_TMP/out" || { cat "$T_TMP/out"; return 1; }
  has_cap () { python3 -c 'import os,sys; os.getxattr(sys.argv[1], "security.capability")' "$1" 2> /dev/null; }
  ! has_cap "$T_TMP/lp/ping" || { echo "ping kept its file capability"; return 1; }
  # The tar keeps everything (it is not unpacked on the host).
  "$BALE" build -q -o "type=tar,dest=$T_TMP/lp.tar" "$T_TMP/pctx" > /dev/null 2>&1 || return 1
  tar -tvf "$T_TMP/lp.tar" | grep -q '^crw-rw-rw- .* 1,\s*1 .*mem$' && tar -tvf "$T_TMP/lp.tar" | grep -q '^-rwsr-xr-x .* sh$' ||
    { tar -tvf "$T_TMP/lp.tar"; return 1; }
  fast_fail "privileged-files is a field of type=local only" build -q -o "type=tar,dest=$T_TMP/x.tar,privileged-files=true" "$T_TMP/pctx" || return 1
  [ "$(id -u)" = 0 ] || return 0 # only root can create the nodes the opt-in keeps
  rm -rf "$T_TMP/lp2"
  "$BALE" build -q -o "type=local,dest=$T_TMP/lp2,privileged-files=true" "$T_TMP/pctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  ! grep -q warning "$T_TMP/out" && [ -c "$T_TMP/lp2/mem" ] && [ -b "$T_TMP/lp2/disk" ] && [ "$(stat -c %a "$T_TMP/lp2/sh")" = 4755 ] &&
    has_cap "$T_TMP/lp2/ping" || { cat "$T_TMP/out"; ls -la "$T_TMP/lp2"; return 1; }
}
check "-o type=local: device nodes, set-id bits and file capabilities left out with a warning each; privileged-files=true keeps them" local_privileged


# -o type=local into a directory that holds the user's files (dest=. in a project, $HOME):
# the layers' whiteouts and opaque markers were applied to it, so an image's `.wh.NAME`
# deleted the user's NAME and `DIR/.wh..wh..opq` emptied the user's DIR (session 31).
# BuildKit's local exporter writes the final tree over the directory and deletes nothing:
# now a whiteout removes only what an earlier layer of the same export wrote.
local_whiteouts () {
  python3 - "$T_TMP/wh.layer" << 'PY' || return 1
import io, sys, tarfile
with tarfile.open(sys.argv[1], mode="w", format=tarfile.PAX_FORMAT) as t:
    for name in [".wh.keep", "home/", "home/.wh..wh..opq", "home/mine"]:
        ti = tarfile.TarInfo(name.rstrip("/")); ti.mtime = 0
        if name.endswith("/"):
            ti.type = tarfile.DIRTYPE; ti.mode = 0o755
        t.addfile(ti, io.BytesIO(b""))
PY
  busybox_plus_layer "$T_TMP/wh.tar" whiteouts:1 "$T_TMP/wh.layer" "sha256:$(sha256sum "$T_TMP/wh.layer" | cut -d' ' -f1)" || return 1
  "$BALE" load -i "$T_TMP/wh.tar" > /dev/null || return 1
  d=$T_TMP/lw
  rm -rf "$d" && mkdir -p "$d/home/user/.ssh" "$d/opt" && echo k > "$d/keep" && echo id > "$d/home/user/.ssh/id" &&
    echo u > "$d/opt/userfile" || return 1
  mkdir -p "$T_TMP/wctx" && printf '%s\n' 'FROM whiteouts:1' 'RUN mkdir -p /opt && echo old > /opt/old' \
    'RUN rm -rf /opt && mkdir /opt && echo new > /opt/new' > "$T_TMP/wctx/Dockerfile"
  "$BALE" build -q --no-cache -o "type=local,dest=$d" "$T_TMP/wctx" > "$T_TMP/out" 2>&1 || { cat "$T_TMP/out"; return 1; }
  [ "$(cat "$d/keep")" = k ] && [ "$(cat "$d/home/user/.ssh/id")" = id ] && [ -e "$d/home/mine" ] &&
    [ "$(cat "$d/opt/userfile")" = u ] && [ "$(cat "$d/opt/new")" = new ] && [ ! -e "$d/opt/old" ] &&
    [ -x "$d/bin/busybox" ] || { echo "the destination after the export:"; find "$d" -not -path "*/bin/*" | sort; return 1; }
}
check "-o type=local: the layers' whiteouts and opaque markers never remove the destination's own files" local_whiteouts

check "the canary outside the store and the destinations never changed" canary_intact

done_testing
