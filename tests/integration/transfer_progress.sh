#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Transfers report their bytes (issue 17): pushing an image to a real docker-registry and pulling
# it as a base send, per blob, statuses whose byte counts rise to the blob's size (the size the
# registry's manifest gives), and --progress=plain prints them with BuildKit's sizes. A missing
# tool is a failure, never a skip.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T_TMP"' EXIT INT TERM

for tool in docker-registry skopeo python3 jq; do
  command -v "$tool" > /dev/null 2>&1 || { echo "Bail out! '$tool' is not installed"; exit 1; }
done
busybox_store || { echo "Bail out! no busybox base"; exit 1; }
start_registry || { echo "Bail out! the registry did not start"; exit 1; }

# A layer of 24 MB that does not compress: its upload and download take several reports.
printf '%s\n' 'FROM busybox' 'RUN head -c 24000000 /dev/urandom > /big' > "$ctx/Dockerfile"
ref=127.0.0.1:$port/progress/big:v1

# check_blobs EVENTS: for every status of a blob (id "sha256:<64 hex>") in the rawjson EVENTS:
# it starts at 0, its counts never fall, its last one is completed; and every layer and the
# config of the manifest at $ref ends at exactly its size there.
check_blobs () {
  skopeo inspect --tls-verify=false --raw "docker://$ref" > "$T_TMP/manifest.json" || return 1
  python3 - "$1" "$T_TMP/manifest.json" "$2" << 'PY'
import json, re, sys
events, manifest, by = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
seen = {}
for line in open(events):
    for s in json.loads(line).get("statuses", []):
        if re.fullmatch(r"sha256:[0-9a-f]{64}", s["id"]):
            seen.setdefault(s["id"], []).append((s["current"], s.get("total", 0), "completed" in s))
ok = True
for blob, reports in seen.items():
    counts = [c for c, _, _ in reports]
    if counts[0] != 0 or counts != sorted(counts) or not reports[-1][2] or any(r[2] for r in reports[:-1]):
        print("#", blob, reports); ok = False
finals = sorted(r[-1][0] for r in seen.values())
want = [d["size"] for d in manifest["layers"] + [manifest["config"]]]
# A push names a layer compressed on the way by its stored digest: compare sizes. A pull names
# every blob by the manifest's digest: compare both.
for d in manifest["layers"] + [manifest["config"]]:
    if by == "digest" and (d["digest"] not in seen or seen[d["digest"]][-1][0] != d["size"]):
        print("# no final report of", d["digest"], d["size"]); ok = False
    if by == "size" and d["size"] not in finals:
        print("# no blob ended at", d["size"], finals); ok = False
# The big layer took more than its first and last report.
if max(len(r) for r in seen.values()) < 3:
    print("# no report between the first and the last", seen); ok = False
sys.exit(0 if ok else 1)
PY
}

push_bytes () {
  "$BALE" build --progress=rawjson --push -t "$ref" "$ctx" > /dev/null 2> "$T_TMP/push.json" ||
    { tail -5 "$T_TMP/push.json"; return 1; }
  check_blobs "$T_TMP/push.json" size
}
check "a push reports each blob's bytes, rising to the size the registry holds" push_bytes

mkdir -p "$T_TMP/ctx2"
printf 'FROM %s\nRUN true\n' "$ref" > "$T_TMP/ctx2/Dockerfile"

pull_bytes () {
  BALE_STORE="$T_TMP/store2" "$BALE" build --progress=rawjson "$T_TMP/ctx2" > /dev/null \
    2> "$T_TMP/pull.json" || { tail -5 "$T_TMP/pull.json"; return 1; }
  check_blobs "$T_TMP/pull.json" digest
}
check "a pull reports each blob's bytes, rising to its size in the manifest" pull_bytes

pull_plain () {
  BALE_STORE="$T_TMP/store3" "$BALE" build --progress=plain "$T_TMP/ctx2" > /dev/null \
    2> "$T_TMP/plain" || { cat "$T_TMP/plain"; return 1; }
  big=$(jq -r '.layers | max_by(.size) | .digest' "$T_TMP/manifest.json")
  # BuildKit's plain line: "#N sha256:… 24.01MB / 24.01MB 0.3s done" (the time when over 0.01 s).
  grep -q "^#[0-9]* $big 2[0-9]\.[0-9][0-9]MB / 2[0-9]\.[0-9][0-9]MB\( [0-9.]*s\)\? done\$" "$T_TMP/plain" &&
    # and the summary keeps the size.
    grep -q "^ => => $big 2[0-9]\.[0-9][0-9]MB / 2[0-9]\.[0-9][0-9]MB  *[0-9.]*s\$" "$T_TMP/plain" ||
    { cat "$T_TMP/plain"; return 1; }
}
check "--progress=plain prints a pulled blob's size" pull_plain

done_testing
