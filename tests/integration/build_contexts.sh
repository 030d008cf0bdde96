#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bale build contexts other than a directory: "-" (a tar, a compressed tar or a Dockerfile on
# stdin), git URLs served by `git daemon` on 127.0.0.1 (#ref:subdir, CVE-2019-13139's option
# injection refused, ext:: refused), and an http tarball or Dockerfile served by python's
# http.server on 127.0.0.1. A missing tool is a failure, never a skip.
set -u
. "${top_srcdir:-.}/tests/cli/lib.sh"

for tool in git python3 tar gzip; do
  command -v "$tool" > /dev/null 2>&1 || { echo "Bail out! '$tool' is not installed"; exit 1; }
done
busybox_store || { echo "Bail out! no busybox base"; exit 1; }
src=$T_TMP/src
mkdir -p "$src/sub"
printf '%s\n' 'FROM busybox' 'COPY f /f' 'RUN cat /f' > "$src/sub/Dockerfile"
echo from-the-context > "$src/sub/f"
printf '%s\n' 'FROM busybox' 'COPY sub/f /f' > "$src/Dockerfile.root"

stdin () {
  tar -cf - -C "$src/sub" . | "$BALE" build --progress=plain -t s1 - > /dev/null 2> "$T_TMP/err" &&
    grep -q '^#[0-9]* [0-9.]* from-the-context$' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  tar -czf - -C "$src" . | "$BALE" build -q -t s1 -f Dockerfile.root - > /dev/null 2> "$T_TMP/err" &&
    [ "$("$BALE" run s1 cat /f)" = from-the-context ] || { cat "$T_TMP/err"; return 1; }
  # A Dockerfile alone: an empty context.
  printf '%s\n' 'FROM busybox' 'RUN echo dockerfile-only' | "$BALE" build --progress=plain - > /dev/null 2> "$T_TMP/err" &&
    grep -q 'dockerfile-only$' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  printf 'FROM busybox\n' | { ! "$BALE" build -f x - 2> "$T_TMP/err"; } && grep -q 'ambiguous Dockerfile source' "$T_TMP/err" &&
    ! "$BALE" build "$T_TMP/nowhere" 2> "$T_TMP/err" && grep -q "unable to prepare context: path \"$T_TMP/nowhere\" not found" "$T_TMP/err"
}
check "- as the context: a tar, a gzip tar with -f inside it, a Dockerfile alone" stdin

# ---- git ---------------------------------------------------------------------------------------
(cd "$src" && git init -q && git add . && git -c user.email=t@t -c user.name=t commit -qm one && git tag v1 &&
  echo changed > sub/f && git -c user.email=t@t -c user.name=t commit -qam two &&
  git clone -q --bare . "$T_TMP/served/repo.git") || { echo "Bail out! git setup"; exit 1; }
start_server "$T_TMP/gitd.log" 'exec git daemon --listen=127.0.0.1 --port="$PORT" --base-path="$1" --export-all --reuseaddr' \
  "$T_TMP/served" || { echo "Bail out! git daemon did not start"; exit 1; }
repo=git://127.0.0.1:$port/repo.git

git_context () {
  "$BALE" build --progress=plain -t g1 "$repo#v1:sub" > /dev/null 2> "$T_TMP/err" &&
    grep -q "^#1 \[internal\] load git source $repo#v1:sub\$" "$T_TMP/err" &&
    [ "$("$BALE" run g1 cat /f)" = from-the-context ] || { cat "$T_TMP/err"; return 1; }
  # The default branch, and .git left out unless BUILDKIT_CONTEXT_KEEP_GIT_DIR.
  printf '%s\n' 'FROM busybox' 'COPY . /src' > "$T_TMP/Dockerfile.git"
  "$BALE" build -q -t g2 -f "$T_TMP/Dockerfile.git" "$repo#:sub" > /dev/null 2> "$T_TMP/err" &&
    [ "$("$BALE" run g2 cat /src/f)" = changed ] && ! "$BALE" run g2 ls /src/.git > /dev/null 2>&1 || { cat "$T_TMP/err"; return 1; }
  "$BALE" build -q -t g3 -f "$T_TMP/Dockerfile.git" --build-arg BUILDKIT_CONTEXT_KEEP_GIT_DIR=1 "$repo" > /dev/null 2> "$T_TMP/err" &&
    "$BALE" run g3 ls /src/.git/HEAD > /dev/null
}
check "git context from git daemon: #tag:subdir, #:subdir, .git kept only when asked" git_context

git_refused () {
  ! "$BALE" build -q "$repo#--upload-pack=touch $T_TMP/pwned:sub" 2> "$T_TMP/err" &&
    grep -q 'invalid git reference' "$T_TMP/err" && [ ! -e "$T_TMP/pwned" ] &&
    ! "$BALE" build -q "$repo#v1:../.." 2> "$T_TMP/err" && grep -q 'is not a directory in the repository' "$T_TMP/err" &&
    ! "$BALE" build -q "$repo#nosuchref" 2> "$T_TMP/err" && grep -q "git fetch of '$repo' at nosuchref failed" "$T_TMP/err" &&
    ! "$BALE" build -q "ext::sh -c touch% $T_TMP/pwned2" 2> "$T_TMP/err" && [ ! -e "$T_TMP/pwned2" ] ||
    { cat "$T_TMP/err"; return 1; }
  # An option as the host (ssh's -oProxyCommand), and a file:// URL: no transport but
  # http(s), ssh and git.
  ! "$BALE" build -q "ssh://-oProxyCommand=touch%20$T_TMP/pwned3/x.git" 2> "$T_TMP/err" && [ ! -e "$T_TMP/pwned3" ] &&
    grep -q "strange hostname" "$T_TMP/err" &&
    ! "$BALE" build -q "file://$T_TMP/served/repo.git#v1:sub" 2> "$T_TMP/err" && grep -q 'unable to prepare context' "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
}
check "git: an option as the ref or the host, a subdir out of the checkout, a missing ref, ext:: and file:// all refused" git_refused

# ---- http -------------------------------------------------------------------------------------
mkdir -p "$T_TMP/www"
tar -czf "$T_TMP/www/ctx.tar.gz" -C "$src/sub" Dockerfile f
printf '%s\n' 'FROM busybox' 'RUN echo remote-dockerfile' > "$T_TMP/www/Dockerfile"
start_http "$T_TMP/www" || { echo "Bail out! http.server did not start"; exit 1; }
hport=$port

http_context () {
  "$BALE" build -q -t h1 "http://127.0.0.1:$hport/ctx.tar.gz" > /dev/null 2> "$T_TMP/err" &&
    [ "$("$BALE" run h1 cat /f)" = changed ] || { cat "$T_TMP/err"; return 1; }
  "$BALE" build --progress=plain "http://127.0.0.1:$hport/Dockerfile" > /dev/null 2> "$T_TMP/err" &&
    grep -q '^#1 \[internal\] load remote build context$' "$T_TMP/err" && grep -q 'remote-dockerfile$' "$T_TMP/err" &&
    ! "$BALE" build -q "http://127.0.0.1:$hport/missing.tar" 2> "$T_TMP/err" && grep -q '404' "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
}
check "http(s) context from a local http server: a gzip tarball, a Dockerfile, a 404" http_context

# ---- named contexts -----------------------------------------------------------------------------
named () {
  command -v skopeo > /dev/null || { echo "skopeo is missing"; return 1; }
  mkdir -p "$T_TMP/named/dir" && echo from-a-directory > "$T_TMP/named/dir/d.txt"
  # The layout is written by skopeo, a real client, with a tag.
  skopeo copy -q "docker-archive:$T_TMP/busybox.tar" "oci:$T_TMP/named/layout:bb" || return 1
  printf '%s\n' 'FROM base' 'COPY --from=files d.txt /d.txt' 'COPY --from=laid /bin/busybox /bb2' \
    'RUN cat /d.txt && test -x /bb2 && echo named-ok' > "$T_TMP/named/Dockerfile"
  "$BALE" build --progress=plain -t n1 --build-context base=docker-image://busybox \
    --build-context "files=$T_TMP/named/dir" --build-context "laid=oci-layout://$T_TMP/named/layout:bb" \
    "$T_TMP/named" > /dev/null 2> "$T_TMP/err" &&
    grep -q 'from-a-directory$' "$T_TMP/err" && grep -q 'named-ok$' "$T_TMP/err" &&
    [ "$("$BALE" run n1 cat /d.txt)" = from-a-directory ] || { cat "$T_TMP/err"; return 1; }
  # The private names are gone; a missing tag and a bad name fail clearly.
  ! "$BALE" images | grep -q named-context &&
    ! "$BALE" build --build-context "laid=oci-layout://$T_TMP/named/layout:nope" "$T_TMP/named" 2> "$T_TMP/err" &&
    grep -q 'has no digest' "$T_TMP/err" &&
    ! "$BALE" build --build-context "Bad Name=x" "$T_TMP/named" 2> "$T_TMP/err" && grep -q 'invalid context name' "$T_TMP/err"
}
check "--build-context: docker-image://, a directory and a skopeo-written oci-layout:// for FROM and COPY --from" named

done_testing
