#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bale's gzip layers (one gzip member per MiB, libdeflate; or --compression gzip-single) read
# back with independent readers: Python's gzip module, umoci (an OCI layout export), skopeo
# (containers/image's pgzip reader, from a push to a real docker-registry on 127.0.0.1) and
# GNU gzip; each must give the tar whose sha256 is the config's diff_id. The multi-member
# layers really have several members, the gzip-single ones exactly one (what Python's
# zlib.decompressobj(wbits=31) reads to the end). A missing tool is a failure, never a skip.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

for tool in docker-registry skopeo umoci python3 gzip jq; do
  command -v "$tool" > /dev/null 2>&1 || { echo "Bail out! '$tool' is not installed"; exit 1; }
done
busybox_store || { echo "Bail out! no busybox base"; exit 1; }

start_registry || { echo "Bail out! the registry did not start"; exit 1; }

# A layer of several MiB (three copies of busybox and a long text): several members.
printf '%s\n' 'FROM busybox' \
  'RUN cat /bin/busybox /bin/busybox /bin/busybox > /big && seq 1 400000 > /seq' > "$ctx/Dockerfile"
"$BALE" build -q -t big "$ctx" > "$T_TMP/iid" 2> "$T_TMP/err" || { sed 's/^/# /' "$T_TMP/err"; echo "Bail out! build failed"; exit 1; }

# check_layers DIR MODE: every file DIR/blobs/sha256/* that is gzip decompresses with Python's
# gzip module to a tar whose sha256 is one of DIR's config diff_ids, each diff_id once; with
# MODE "members" the biggest layer has more than one gzip member, with "single" each has one
# and zlib.decompressobj(wbits=31) (which stops after a member) reads it to the end.
check_layers () {
  python3 - "$1" "$2" << 'PY'
import gzip, hashlib, json, os, sys, zlib
d, mode = sys.argv[1], sys.argv[2]
blobs = os.path.join(d, "blobs", "sha256")
def load(h):
    with open(os.path.join(blobs, h), "rb") as f:
        return f.read()
def doc(h):
    return json.loads(load(h))
index = json.load(open(os.path.join(d, "index.json")))
m = doc(index["manifests"][0]["digest"][7:])
config = doc(m["config"]["digest"][7:])
want = config["rootfs"]["diff_ids"]
got, members = [], []
for l in m["layers"]:
    assert l["mediaType"].endswith("gzip"), l["mediaType"]
    raw = load(l["digest"][7:])
    assert hashlib.sha256(raw).hexdigest() == l["digest"][7:], "blob digest"
    got.append("sha256:" + hashlib.sha256(gzip.decompress(raw)).hexdigest())
    n, rest = 0, raw
    while rest:
        z = zlib.decompressobj(wbits=31)
        z.decompress(rest)
        assert z.eof, "truncated member"
        rest, n = z.unused_data, n + 1
    members.append(n)
assert got == want, (got, want)
if mode == "members":
    assert max(members) > 1, members
else:
    assert members == [1] * len(members), members
print(members)
PY
}

export_oci () {
  rm -rf "$T_TMP/oci" && mkdir -p "$T_TMP/oci" &&
    "$BALE" build -q --compression "$1" -o "type=oci,tar=false,dest=$T_TMP/oci" "$ctx" > /dev/null
}

oci_members () {
  export_oci gzip && check_layers "$T_TMP/oci" members
}
check "an OCI export has multi-member gzip layers that Python's gzip module reads back" oci_members

# umoci unpacks the export (tagged here: bale's index names no ref) with its own gzip reader.
umoci_unpack () {
  python3 - "$T_TMP/oci/index.json" << 'PY' || return 1
import json, sys
p = sys.argv[1]
i = json.load(open(p))
i["manifests"][0].setdefault("annotations", {})["org.opencontainers.image.ref.name"] = "v1"
json.dump(i, open(p, "w"))
PY
  rm -rf "$T_TMP/bundle" && umoci unpack --image "$T_TMP/oci:v1" "$T_TMP/bundle" > /dev/null || return 1
  bb=$(stat -c %s "$T_TMP/bundle/rootfs/bin/busybox") &&
    [ "$(stat -c %s "$T_TMP/bundle/rootfs/big")" -eq $((3 * bb)) ] &&
    [ "$(wc -l < "$T_TMP/bundle/rootfs/seq")" -eq 400000 ]
}
check "umoci unpacks the multi-member layers" umoci_unpack

# gzip -d reads every member; its output is the diff_id.
gnu_gzip () {
  python3 - "$T_TMP/oci" << 'PY' > "$T_TMP/pairs" || return 1
import json, os, sys
d = sys.argv[1]
def doc(h):
    return json.load(open(os.path.join(d, "blobs", "sha256", h)))
m = doc(json.load(open(os.path.join(d, "index.json")))["manifests"][0]["digest"][7:])
for l, diff in zip(m["layers"], doc(m["config"]["digest"][7:])["rootfs"]["diff_ids"]):
    print(l["digest"][7:], diff[7:])
PY
  while read -r blob diff; do
    [ "$(gzip -dc < "$T_TMP/oci/blobs/sha256/$blob" | sha256sum | cut -c1-64)" = "$diff" ] || return 1
  done < "$T_TMP/pairs"
}
check "GNU gzip -d gives the diff_ids" gnu_gzip

single () {
  export_oci gzip-single && check_layers "$T_TMP/oci" single
}
check "--compression gzip-single writes one gzip member per layer" single

# skopeo (containers/image) pulls the pushed image and decompresses each layer
# (--dest-decompress), checking them against the diff_ids; then Python checks the blobs of
# the push too. Pushed twice, compressed again each time (no push cache): the same digest.
push_skopeo () {
  ref=127.0.0.1:$port/t/big:$1
  rm -f "$BALE_STORE/push-cache.json"
  d1=$("$BALE" push -q --compression "$1" big "$ref") || return 1
  rm -f "$BALE_STORE/push-cache.json"
  d2=$("$BALE" push -q --compression "$1" big "$ref-again") || return 1
  [ "$d1" = "$d2" ] || { echo "two pushes gave $d1 and $d2"; return 1; }
  rm -rf "$T_TMP/pulled" &&
    skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$T_TMP/pulled:v1" > /dev/null &&
    check_layers "$T_TMP/pulled" "$2" > /dev/null &&
    rm -rf "$T_TMP/dir" &&
    skopeo copy -q --src-tls-verify=false --dest-decompress "docker://$ref" "dir:$T_TMP/dir" > /dev/null &&
    python3 - "$T_TMP/dir" << 'PY'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
cfg = json.load(open(os.path.join(d, m["config"]["digest"][7:])))
for l, diff in zip(m["layers"], cfg["rootfs"]["diff_ids"]):
    data = open(os.path.join(d, l["digest"][7:]), "rb").read()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == diff, (l, diff)
PY
}
check "a push (compressed while uploading) reads back in skopeo and Python" push_skopeo gzip members
check "a gzip-single push reads back in skopeo and Python" push_skopeo gzip-single single

done_testing
