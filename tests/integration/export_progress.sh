#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Exports and http(s) contexts report their bytes while they run (issue 17): every -o file
# export's status ("sending tarball", "copying files") starts at 0, never falls and ends
# completed at its total, which is what the output holds; a tarball context served by a local
# http server (python3 -m http.server on 127.0.0.1) reports "transferring context:" of its
# Content-Length; --cache-to (a directory, a registry) reports each blob it writes. Reports
# come at most every 100 ms (what they cost in CPU is bench/progress.sh's to measure). A
# missing tool is a failure, never a skip.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

for tool in python3 tar curl docker-registry; do
  command -v "$tool" > /dev/null 2>&1 || { echo "Bail out! '$tool' is not installed"; exit 1; }
done
busybox_store || { echo "Bail out! no busybox base"; exit 1; }

# A layer of 24 MB that does not compress: copying it takes several reports on most machines.
printf '%s\n' 'FROM busybox' 'RUN head -c 24000000 /dev/urandom > /big' > "$ctx/Dockerfile"
"$BALE" build -q -t big "$ctx" > /dev/null || { echo "Bail out! the image did not build"; exit 1; }

# statuses EVENTS VERTEX ID: the reports of status ID of the vertex named VERTEX in the rawjson
# EVENTS, one "current total completed" line each, after checking that they start at 0, never
# fall and that only the last is completed (the script fails otherwise).
statuses () {
  python3 - "$1" "$2" "$3" << 'PY'
import json, sys
reports, names = [], {}
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue  # what bale build says after the events ("wrote DEST")
    ev = json.loads(line)
    for v in ev.get("vertexes", []):
        names[v["digest"]] = v["name"]
    for s in ev.get("statuses", []):
        if s["id"] == sys.argv[3] and names.get(s["vertex"]) == sys.argv[2]:
            reports.append((s.get("current", 0), s.get("total", 0), "completed" in s))
counts = [c for c, _, _ in reports]
if not reports or counts[0] != 0 or counts != sorted(counts) or not reports[-1][2] \
        or any(r[2] for r in reports[:-1]):
    print("# bad reports of", sys.argv[2], reports); sys.exit(1)
for r in reports:
    print(r[0], r[1], int(r[2]))
PY
}

# last_is EVENTS VERTEX ID SIZE: the status ends completed with current = total = SIZE.
last_is () {
  statuses "$1" "$2" "$3" > "$T_TMP/st" || return 1
  tail -1 "$T_TMP/st" | grep -qx "$4 $4 1" || { echo "# $3 ends at $(tail -1 "$T_TMP/st"), want $4"; return 1; }
}

export_json () {
  "$BALE" build --progress=rawjson "$@" "$ctx" > /dev/null 2> "$T_TMP/ev.json" || { tail -5 "$T_TMP/ev.json"; return 1; }
}

oci_archive () {
  export_json -o "type=oci-archive,dest=$T_TMP/oci.tar" || return 1
  # The total is the members' bytes: what tar lists, headers left out.
  want=$(python3 -c 'import sys, tarfile; print(sum(m.size for m in tarfile.open(sys.argv[1]) if m.isfile()))' "$T_TMP/oci.tar")
  last_is "$T_TMP/ev.json" "exporting to oci image format" "sending tarball" "$want" &&
    # The compression is the exporter's first status, as BuildKit's "exporting layers".
    grep -q '"id":"exporting layers"' "$T_TMP/ev.json"
}
check "-o type=oci-archive: 'sending tarball' rises from 0 to the bytes the archive holds" oci_archive

docker_archive () {
  export_json -o "type=docker,dest=$T_TMP/docker.tar" || return 1
  want=$(python3 -c 'import sys, tarfile; print(sum(m.size for m in tarfile.open(sys.argv[1]) if m.isfile()))' "$T_TMP/docker.tar")
  last_is "$T_TMP/ev.json" "exporting to docker image format" "sending tarball" "$want"
}
check "-o type=docker: 'sending tarball' rises from 0 to the bytes the archive holds" docker_archive

oci_dir () {
  export_json -o "type=oci,dest=$T_TMP/ocidir,tar=false" || return 1
  want=$(find "$T_TMP/ocidir/blobs" -type f -printf '%s\n' | awk '{ n += $1 } END { print n }')
  last_is "$T_TMP/ev.json" "exporting to oci image format" "copying files" "$want"
}
check "-o type=oci,tar=false: 'copying files' rises from 0 to the bytes of the blobs" oci_dir

tar_and_local () {
  export_json -o "type=tar,dest=$T_TMP/fs.tar" -o "type=local,dest=$T_TMP/fs" || return 1
  # sending tarball: the tar's own bytes; copying files: the layers applied (busybox's and the
  # 24 MB one), in each output.
  last_is "$T_TMP/ev.json" "exporting to client tarball" "sending tarball" "$(stat -c %s "$T_TMP/fs.tar")" &&
    statuses "$T_TMP/ev.json" "exporting to client tarball" "copying files" > "$T_TMP/copy" &&
    statuses "$T_TMP/ev.json" "exporting to client directory" "copying files" >> "$T_TMP/copy" &&
    [ "$(grep -c ' 1$' "$T_TMP/copy")" = 2 ] &&
    awk '$3 == 1 && ($1 != $2 || $1 < 24000000) { bad = 1 } END { exit bad }' "$T_TMP/copy" &&
    [ "$(stat -c %s "$T_TMP/fs/big")" = 24000000 ] || { cat "$T_TMP/copy"; return 1; }
}
check "-o type=tar and type=local: 'copying files' of the layers, 'sending tarball' to the tar's size" tar_and_local

plain_export () {
  "$BALE" build --progress=plain -o "type=oci-archive,dest=$T_TMP/plain.tar" "$ctx" > /dev/null 2> "$T_TMP/plain" ||
    { cat "$T_TMP/plain"; return 1; }
  # BuildKit's units: "#N sending tarball 24.06MB / 24.06MB 0.1s done", and the summary keeps it.
  grep -q '^#[0-9]* sending tarball 2[0-9]\.[0-9][0-9]MB / 2[0-9]\.[0-9][0-9]MB\( [0-9.]*s\)\? done$' "$T_TMP/plain" &&
    grep -q '^ => => sending tarball 2[0-9]\.[0-9][0-9]MB / 2[0-9]\.[0-9][0-9]MB  *[0-9.]*s$' "$T_TMP/plain" ||
    { cat "$T_TMP/plain"; return 1; }
}
check "--progress=plain: an export's byte counts in BuildKit's units, kept in the summary" plain_export

# --cache-to: each blob the export writes is a transfer of the vertex BuildKit names
# "exporting cache to client directory" / "exporting cache to registry", its id the blob's
# digest, rising from 0 to the blob's size (what the cache directory holds, what the registry
# serves).
cache_local () {
  export_json --cache-to "type=local,dest=$T_TMP/cache,mode=max" || return 1
  v="exporting cache to client directory"
  n=0
  for f in "$T_TMP"/cache/blobs/sha256/*; do
    last_is "$T_TMP/ev.json" "$v" "sha256:${f##*/}" "$(stat -c %s "$f")" || return 1
    n=$((n + 1))
  done
  # the 24 MB layer among them
  [ "$n" -ge 2 ] && find "$T_TMP/cache/blobs" -size +23000k | grep -q . || { ls -lR "$T_TMP/cache"; return 1; }
}
check "--cache-to type=local: each blob's bytes rise from 0 to its size in the cache directory" cache_local

# Started here, not in the check: a check runs in a subshell, and the port start_registry
# sets would not outlive it.
start_registry || { echo "Bail out! the registry did not start"; exit 1; }
cache_registry () {
  export_json --cache-to "type=registry,ref=127.0.0.1:$port/cache:big,mode=max" || { echo "build failed"; return 1; }
  v="exporting cache to registry"
  # The layers of the artifact's manifest, as the registry serves them.
  curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:$port/v2/cache/manifests/big" > "$T_TMP/cm.json" || { echo "no manifest"; return 1; }
  python3 -c 'import json,sys; [print(l["digest"], l["size"]) for l in json.load(open(sys.argv[1]))["layers"]]' \
    "$T_TMP/cm.json" > "$T_TMP/layers" || return 1
  # A layer the store keeps uncompressed is compressed as it goes: its transfer is named by
  # the store's digest and ends at the size the registry holds. Every transfer of the vertex
  # rises from 0 and ends completed; every layer's size is where one ended.
  python3 - "$T_TMP/ev.json" "$v" "$T_TMP/layers" << 'PY' || return 1
import json, sys
names, reports = {}, {}
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    ev = json.loads(line)
    for x in ev.get("vertexes", []):
        names[x["digest"]] = x["name"]
    for st in ev.get("statuses", []):
        if names.get(st["vertex"]) == sys.argv[2] and st["id"].startswith("sha256:") and " " not in st["id"]:
            reports.setdefault(st["id"], []).append((st.get("current", 0), st.get("total", 0), "completed" in st))
ends = set()
for i, r in reports.items():
    counts = [c for c, _, _ in r]
    if counts[0] != 0 or counts != sorted(counts) or not r[-1][2] or r[-1][0] != r[-1][1]:
        print("# bad reports of", i, r); sys.exit(1)
    ends.add(r[-1][0])
sizes = [int(l.split()[1]) for l in open(sys.argv[3])]
if not sizes or any(sz not in ends for sz in sizes) or max(sizes) < 23000000:
    print("# layer sizes", sizes, "transfers ended at", sorted(ends)); sys.exit(1)
PY
  # plain: BuildKit's units under the vertex, and in the summary.
  "$BALE" build --progress=plain --cache-to "type=registry,ref=127.0.0.1:$port/plaincache:c,mode=max" "$ctx" \
    > /dev/null 2> "$T_TMP/cplain" || { cat "$T_TMP/cplain"; return 1; }
  grep -q '^#[0-9]* exporting cache to registry$' "$T_TMP/cplain" &&
    grep -Eq '^ => => sha256:[0-9a-f]{64} 2[0-9]\.[0-9]{2}MB / 2[0-9]\.[0-9]{2}MB +[0-9.]+s$' "$T_TMP/cplain" ||
    { cat "$T_TMP/cplain"; return 1; }
}
check "--cache-to type=registry: each blob pushed rises from 0 to its size; plain shows the MB" cache_registry

# An http context: a tarball served on 127.0.0.1 by python3's http.server.
mkdir -p "$T_TMP/www" "$T_TMP/hctx"
printf '%s\n' 'FROM busybox' 'COPY data /data' > "$T_TMP/hctx/Dockerfile"
head -c 16000000 /dev/urandom > "$T_TMP/hctx/data"
tar -C "$T_TMP/hctx" -cf "$T_TMP/www/ctx.tar" Dockerfile data
start_http "$T_TMP/www" || { echo "Bail out! the http server did not start"; exit 1; }
hport=$port

http_context () {
  "$BALE" build --progress=rawjson "http://127.0.0.1:$hport/ctx.tar" > /dev/null 2> "$T_TMP/http.json" ||
    { tail -5 "$T_TMP/http.json"; return 1; }
  size=$(stat -c %s "$T_TMP/www/ctx.tar")
  v="[internal] load remote build context"
  last_is "$T_TMP/http.json" "$v" "transferring context:" "$size" &&
    # Every report knows the total: the server sent a Content-Length.
    statuses "$T_TMP/http.json" "$v" "transferring context:" | awk -v s="$size" '$2 != s { bad = 1 } END { exit bad }'
}
check "an http(s) context: 'transferring context:' rises from 0 to its Content-Length" http_context

http_plain () {
  "$BALE" build --progress=plain --no-cache "http://127.0.0.1:$hport/ctx.tar" > /dev/null 2> "$T_TMP/http.plain" ||
    { cat "$T_TMP/http.plain"; return 1; }
  grep -q '^#1 \[internal\] load remote build context$' "$T_TMP/http.plain" &&
    grep -q '^#1 transferring context: 16\.[0-9][0-9]MB / 16\.[0-9][0-9]MB\( [0-9.]*s\)\? done$' "$T_TMP/http.plain" ||
    { cat "$T_TMP/http.plain"; return 1; }
}
check "--progress=plain: the http context's bytes of its total" http_plain

# The cost. A report costs a clock read per buffer and, at most every METER_INTERVAL_NS (100 ms),
# one event; what keeps progress cheap is that bound, so the check is the bound itself, in three
# exports of 24 MB with --progress=rawjson. The meter reads the monotonic clock and the event
# carries the wall clock, read a moment later (later still when the process is preempted), so
# the check is on the span, which only the first report's delay can shorten, by 100 ms allowed:
# N reports between a transfer's first (0 of total) and its last (completed) span at least
# (N - 2) x 100 ms. A meter reporting every buffer gives hundreds of reports in a second and
# fails. What the bound saves in CPU time is bench/progress.sh's to measure: a CPU time limit
# here failed CI on a loaded machine.
rate () {
  outs=""
  for i in 0 1 2; do outs="$outs -o type=oci-archive,dest=$T_TMP/cost$i.tar"; done
  # shellcheck disable=SC2086 # $outs is three words of -o and their values
  export_json $outs || return 1
  python3 - "$T_TMP/ev.json" << 'PY'
import datetime, json, sys
def ns(t):
    # RFC 3339 with up to 9 digits of fraction: whole seconds from fromisoformat, the rest by hand
    base, _, frac = t.rstrip("Z").partition(".")
    d = datetime.datetime.fromisoformat(base).replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + int((frac + "000000000")[:9])
series = {}
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    for s in json.loads(line).get("statuses", []):
        series.setdefault((s["vertex"], s["id"]), []).append((ns(s["timestamp"]), "completed" in s))
moving = 0
for key, reports in series.items():
    middle = [t for t, done in reports[1:] if not done]
    moving += len(middle)
    if len(middle) >= 3 and middle[-1] - middle[0] < (len(middle) - 2) * 100 * 10**6:
        print("# %s: %d reports in %.1f ms" % (key[1], len(middle), (middle[-1] - middle[0]) / 1e6)); sys.exit(1)
print("# %d transfers, %d reports while bytes moved" % (len(series), moving))
sys.exit(0 if series else 1)
PY
}
check "a transfer reports its bytes at most every 100 ms, whatever its size (three exports of 24 MB)" rate

done_testing
