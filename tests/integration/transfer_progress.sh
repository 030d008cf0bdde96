#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Transfers report their bytes (issue 17): pushing an image to a real docker-registry and pulling
# it as a base send, per blob, statuses whose byte counts rise to the blob's size (the size the
# registry's manifest gives), and --progress=plain prints them with BuildKit's sizes. A missing
# tool is a failure, never a skip.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

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
seen, times = {}, {}
for line in open(events):
    for s in json.loads(line).get("statuses", []):
        if re.fullmatch(r"sha256:[0-9a-f]{64}", s["id"]):
            seen.setdefault(s["id"], []).append((s["current"], s.get("total", 0), "completed" in s))
            times.setdefault(s["id"], []).append(s.get("timestamp", ""))
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
# Reports come at most every 100 ms (the meter's interval on the monotonic clock). The events
# carry the wall clock, read a moment later, and a preempted process reads it late: so the check
# is on the span, which only the first report's delay can shorten, by 100 ms allowed: N reports
# between the first and the last span at least (N - 2) x 100 ms. That reports come while bytes
# move at all is slow_pull's check, on a transfer made slow on purpose: how long a transfer
# takes here depends on the machine's load, not on bale.
def secs(t):
    # UTC ("Z"): timegm, not the local time of strptime's naive datetime (a DST change)
    import calendar, time
    m = re.match(r"(\d+-\d+-\d+T\d+:\d+:\d+)(\.\d+)?", t)
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0) if m else None
for blob, reports in seen.items():
    t = [secs(x) for x in times[blob]]
    if None in t:
        print("# a status without a timestamp:", blob, times[blob]); ok = False
        continue
    middle = t[1:-1]
    if len(middle) >= 3 and middle[-1] - middle[0] < (len(middle) - 2) * 0.1:
        print("# %d reports in %.3f s:" % (len(middle), middle[-1] - middle[0]), blob); ok = False
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

# The proxy starts here, not in the check, which would lose PROXY_PORT with its subshell.
start_proxy fault "127.0.0.1:$port" || { echo "Bail out! the slow proxy did not start"; exit 1; }

# A pull through regproxy.py's "slow" fault: the 24 MB layer's bytes arrive over 1.9 s or more,
# whatever the load, so its status must have reports between 0 and completed (at least one per
# 100 ms after the first 100 ms: 3 is far below that, and above the 2 a silent meter gives).
slow_pull () {
  sref=127.0.0.1:$PROXY_PORT/slow/progress/big:v1
  BALE_STORE="$T_TMP/store5" "$BALE" pull --insecure-registry "${sref%%/*}" --progress=rawjson "$sref" \
    > /dev/null 2> "$T_TMP/slow.json" || { tail -5 "$T_TMP/slow.json"; return 1; }
  big=$(jq -r '.layers | max_by(.size) | .digest' "$T_TMP/manifest.json")
  n=$(grep -o "\"id\":\"$big\"" "$T_TMP/slow.json" | wc -l)
  [ "$n" -ge 3 ] || { echo "# $n reports of $big"; grep "$big" "$T_TMP/slow.json" | head -5; return 1; }
}
check "a slow pull reports a blob's bytes while they move, between 0 and completed" slow_pull

# bale push and bale pull on their own (not inside a build) report the same bytes, under one
# vertex "pushing REF" / "pulling REF".
ref2=127.0.0.1:$port/progress/solo:v1
solo_push () {
  # Layers of its own: blobs the registry holds already would be mounted, not sent.
  mkdir -p "$T_TMP/ctx3" && printf '%s\n' 'FROM busybox' 'RUN head -c 24000000 /dev/urandom > /solo' > "$T_TMP/ctx3/Dockerfile" &&
    "$BALE" build -q -t solo "$T_TMP/ctx3" > /dev/null &&
    "$BALE" push --progress=rawjson solo "$ref2" > "$T_TMP/solo.digest" 2> "$T_TMP/solo-push.json" ||
    { tail -5 "$T_TMP/solo-push.json"; return 1; }
  grep -q "\"name\":\"pushing $ref2\"" "$T_TMP/solo-push.json" || { head -3 "$T_TMP/solo-push.json"; return 1; }
  ref=$ref2 check_blobs "$T_TMP/solo-push.json" size
}
check "bale push --progress=rawjson reports each blob's bytes, rising to the size the registry holds" solo_push

solo_pull () {
  BALE_STORE="$T_TMP/store4" "$BALE" pull --progress=rawjson "$ref2" > "$T_TMP/pulled" \
    2> "$T_TMP/solo-pull.json" || { tail -5 "$T_TMP/solo-pull.json"; return 1; }
  cmp -s "$T_TMP/pulled" "$T_TMP/solo.digest" || { echo "pull printed $(cat "$T_TMP/pulled")"; return 1; }
  ref=$ref2 check_blobs "$T_TMP/solo-pull.json" digest
}
check "bale pull --progress=rawjson reports each blob's bytes, rising to its size in the manifest" solo_pull

# Without a terminal the default is plain: BuildKit's lines, a "[+] Pulling" summary, no colour
# (no escape at all); -q prints the digest alone.
solo_plain () {
  BALE_STORE="$T_TMP/store5" "$BALE" pull "$ref2" > "$T_TMP/pulled5" 2> "$T_TMP/plain5" < /dev/null ||
    { cat "$T_TMP/plain5"; return 1; }
  big=$(jq -r '.layers | max_by(.size) | .digest' "$T_TMP/manifest.json")
  grep -q "^#1 pulling $ref2\$" "$T_TMP/plain5" &&
    grep -q "^#1 $big 2[0-9]\.[0-9][0-9]MB / 2[0-9]\.[0-9][0-9]MB\( [0-9.]*s\)\? done\$" "$T_TMP/plain5" &&
    grep -q "^\[+\] Pulling [0-9.]*s (1/1) FINISHED\$" "$T_TMP/plain5" &&
    ! grep -q "$(printf '\033')" "$T_TMP/plain5" || { cat "$T_TMP/plain5"; return 1; }
  BALE_STORE="$T_TMP/store6" "$BALE" pull -q "$ref2" > "$T_TMP/pulled6" 2> "$T_TMP/quiet6" &&
    [ ! -s "$T_TMP/quiet6" ] && cmp -s "$T_TMP/pulled6" "$T_TMP/solo.digest" ||
    { echo "quiet pull:"; cat "$T_TMP/pulled6" "$T_TMP/quiet6"; return 1; }
  "$BALE" push -q solo "$ref2" > "$T_TMP/pushed7" 2> "$T_TMP/quiet7" && [ ! -s "$T_TMP/quiet7" ] ||
    { echo "quiet push:"; cat "$T_TMP/pushed7" "$T_TMP/quiet7"; return 1; }
  # -q with a mode that prints is refused, as bale build refuses it.
  ! "$BALE" pull -q --progress=plain "$ref2" > /dev/null 2>&1
}
check "bale pull: plain BuildKit lines and a Pulling summary without a terminal, no escapes; -q is silent" solo_plain

# In a pseudo-terminal (script) the default is the live tty view: it shows the rate of a blob
# under way and ends with the same summary; NO_COLOR leaves out the colours.
solo_tty () {
  command -v script > /dev/null || { echo "script (bsdutils) is not installed"; return 1; }
  BALE_STORE="$T_TMP/store8" NO_COLOR=1 script -qec "'$BALE' pull --progress=tty '$ref2'" /dev/null \
    > "$T_TMP/tty8" 2>&1 < /dev/null || { cat "$T_TMP/tty8"; return 1; }
  grep -q "Pulling [0-9.]*s (1/1) FINISHED" "$T_TMP/tty8" &&
    ! grep -q "$(printf '\033')\[3[0-9]m" "$T_TMP/tty8" || { cat -v "$T_TMP/tty8"; return 1; }
}
check "bale pull --progress=tty in a pseudo-terminal: the live view, then the summary; NO_COLOR: no colours" solo_tty

done_testing
