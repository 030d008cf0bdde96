#!/bin/sh
# COPY, ADD and WORKDIR end to end: bale builds, umoci unpacks the OCI output, the tests
# look at the files (docs/semantics.md D1-D7).
. "${top_srcdir:-.}/tests/cli/lib.sh"

busybox_store
export SOURCE_DATE_EPOCH=1700000000

# build NAME: build $ctx/Dockerfile, unpack it to $T_TMP/NAME/rootfs.
build () {
  rm -rf "$T_TMP/$1" "$T_TMP/$1.oci"
  "$BALE" build -q -t "$1:latest" --output "type=oci,dest=$T_TMP/$1.oci" "$ctx" > /dev/null 2> "$T_TMP/err" ||
    { cat "$T_TMP/err"; return 1; }
  umoci unpack --image "$T_TMP/$1.oci:latest" "$T_TMP/$1" > /dev/null 2>&1
}
# owner_mode PATH: "uid:gid mode" of PATH.
owner_mode () { stat -c '%u:%g %a' "$1"; }

mkdir -p "$ctx/src/sub" "$ctx/data" "$ctx/node_modules/pkg"
echo a > "$ctx/src/a.txt"; echo b > "$ctx/src/b.txt"; echo c > "$ctx/src/sub/c.md"
echo d > "$ctx/data/d"; echo m > "$ctx/node_modules/pkg/m"; echo top > "$ctx/top.txt"
ln -s a.txt "$ctx/src/link"; ln "$ctx/src/a.txt" "$ctx/src/hard"
chmod 0750 "$ctx/src/sub"; touch -d @1600000000 "$ctx/src/b.txt"
printf 'node_modules\n*.tmp\n' > "$ctx/.dockerignore"; echo t > "$ctx/x.tmp"

dir_contents_and_rules () {
  printf '%s\n' 'FROM busybox' 'COPY src /app/' 'COPY top.txt /opt/renamed' \
    'COPY top.txt /opt/dir/' 'WORKDIR /work' 'COPY top.txt .' > "$ctx/Dockerfile"
  build t1 || return 1
  r=$T_TMP/t1/rootfs
  [ -f "$r/app/a.txt" ] && [ -f "$r/app/sub/c.md" ] && [ ! -e "$r/app/src" ] &&
    [ "$(cat "$r/opt/renamed")" = top ] && [ -f "$r/opt/dir/top.txt" ] && [ -f "$r/work/top.txt" ] &&
    [ "$(readlink "$r/app/link")" = a.txt ] &&
    [ "$(stat -c %i "$r/app/a.txt")" = "$(stat -c %i "$r/app/hard")" ] &&
    [ "$(owner_mode "$r/app/sub")" = "0:0 750" ] &&
    [ "$(stat -c %Y "$r/app/b.txt")" = 1600000000 ]
}
check "COPY: a directory copies its contents; slash rules; WORKDIR-relative; links and times kept" dir_contents_and_rules

wildcards_and_ignore () {
  printf '%s\n' 'FROM busybox' 'COPY src/*.txt nomatch* /w/' 'COPY . /ctx/' > "$ctx/Dockerfile"
  build t2 || return 1
  r=$T_TMP/t2/rootfs
  [ -f "$r/w/a.txt" ] && [ -f "$r/w/b.txt" ] && [ ! -e "$r/w/sub" ] &&
    [ -f "$r/ctx/top.txt" ] && [ ! -e "$r/ctx/node_modules" ] && [ ! -e "$r/ctx/x.tmp" ] &&
    [ -f "$r/ctx/Dockerfile" ]
}
check "COPY: wildcards (no match is fine) and .dockerignore" wildcards_and_ignore

# The directory a wildcard is matched in must exist (BuildKit walks it: "lstat ...: no such
# file or directory"), an excluded one too; an empty one, or a file, matches nothing (diff-fuzz
# F21).
wildcard_base_missing () {
  mkdir -p "$ctx/emptydir" || return 1
  for src in 'nodir/*.txt' 'nodir/*/x' 'node_modules/p*'; do
    printf '%s\n' 'FROM busybox' "COPY $src /w/" > "$ctx/Dockerfile"
    ! build t2b > /dev/null || return 1
    grep -qF "Dockerfile:2:1: error: COPY: \"$src\": \"${src%%/*}\" not found in the build context" "$T_TMP/err" ||
      { cat "$T_TMP/err"; return 1; }
  done
  printf '%s\n' 'FROM busybox' 'COPY emptydir/*.txt src/*/x* /w/' 'COPY src/a.txt/x* /v/' > "$ctx/Dockerfile"
  build t2b
}
check "COPY: the directory before a wildcard must exist; an empty one matches nothing" wildcard_base_missing

# With an exception in .dockerignore, the parents of what a directory copy keeps are added
# afterwards; the destination directory itself is not one of them, and took the mode of the
# source's first subdirectory (diff-fuzz F23: a read past the end of a name).
ignore_exception_dest_mode () {
  mkdir -p "$ctx/m3/c5" && chmod 0700 "$ctx/m3" && chmod 0750 "$ctx/m3/c5" && echo k > "$ctx/m3/c5/keep.tmp" &&
    cp "$ctx/.dockerignore" "$T_TMP/ign" && printf '!m3/c5/keep.tmp\n' >> "$ctx/.dockerignore" || return 1
  printf '%s\n' 'FROM busybox' 'COPY m3 /w/x7/' > "$ctx/Dockerfile"
  build t2c; rc=$?
  cp "$T_TMP/ign" "$ctx/.dockerignore"; rm -rf "$ctx/m3"
  r=$T_TMP/t2c/rootfs
  [ $rc = 0 ] && [ "$(owner_mode "$r/w/x7")" = "0:0 755" ] && [ "$(owner_mode "$r/w/x7/c5")" = "0:0 750" ] &&
    [ -f "$r/w/x7/c5/keep.tmp" ]
}
check "COPY of a directory with .dockerignore exceptions: the destination keeps mode 0755" ignore_exception_dest_mode

# A FIFO or a device in the context is copied as what it is, never opened for reading: a FIFO
# named by COPY or ADD hung the build for ever (hashing it for the cache key, or checking it for
# an archive), waiting for a writer.
special_files_never_read () {
  mkdir -p "$ctx/sp" && mkfifo "$ctx/sp/fifo" && mknod "$ctx/sp/zero" c 1 5 || return 1
  printf '%s\n' 'FROM busybox' 'COPY sp/fifo /f' 'ADD sp/fifo /a' 'COPY sp/zero /z' 'ADD sp/zero /y' 'COPY sp /d/' > "$ctx/Dockerfile"
  timeout 120 "$BALE" build -q -t t2d:latest --output "type=oci,dest=$T_TMP/t2d.oci" "$ctx" > /dev/null 2> "$T_TMP/err"; rc=$?
  rm -rf "$ctx/sp"
  [ $rc = 0 ] || { echo "exit $rc"; cat "$T_TMP/err"; return 1; }
  umoci unpack --image "$T_TMP/t2d.oci:latest" "$T_TMP/t2d" > /dev/null 2>&1 || return 1
  r=$T_TMP/t2d/rootfs
  # BuildKit's copy leaves FIFOs out, named or in a directory (diff-fuzz F28), devices not
  [ ! -e "$r/f" ] && [ ! -e "$r/a" ] && [ -c "$r/z" ] && [ -c "$r/y" ] && [ ! -e "$r/d/fifo" ] &&
    [ -c "$r/d/zero" ] && [ -d "$r/d" ]
}
check "COPY and ADD of a FIFO or a device in the context: FIFOs left out, devices copied, never read" special_files_never_read

# The copied-rootfs view (BALE_FORCE_COPY=1) made devices with mknodat and the umask: a 0666
# device of an ADDed archive came out 0644 through COPY --from (diff-fuzz F24).
view_device_mode () {
  python3 -c 'import tarfile,sys
t=tarfile.open(sys.argv[1],"w"); i=tarfile.TarInfo("t/null"); i.type=tarfile.CHRTYPE; i.devmajor,i.devminor=1,3; i.mode=0o666; t.addfile(i); t.close()' "$ctx/dev.tar" || return 1
  printf '%s\n' 'FROM busybox AS s0' 'ADD dev.tar /a/' 'FROM busybox' 'COPY --from=s0 /a /u/' > "$ctx/Dockerfile"
  BALE_FORCE_COPY=1 build t2e; rc=$?
  rm -f "$ctx/dev.tar"
  [ $rc = 0 ] && [ -c "$T_TMP/t2e/rootfs/u/t/null" ] && [ "$(owner_mode "$T_TMP/t2e/rootfs/u/t/null")" = "0:0 666" ]
}
check "copied-rootfs mode: devices keep their mode through COPY --from" view_device_mode

chown_chmod () {
  printf '%s\n' 'FROM busybox' 'COPY --chown=app --chmod=0600 top.txt /home/app/conf/t' \
    'COPY --chown=1234:55 data /num/' 'COPY --chown=app:staff top.txt /g' > "$ctx/Dockerfile"
  build t3 || return 1
  r=$T_TMP/t3/rootfs
  [ "$(owner_mode "$r/home/app/conf/t")" = "1000:1000 600" ] &&
    [ "$(owner_mode "$r/home/app/conf")" = "1000:1000 755" ] &&
    [ "$(owner_mode "$r/num/d")" = "1234:55 644" ] &&
    [ "$(owner_mode "$r/g")" = "1000:50 644" ]
}
check "COPY --chown by name and number, --chmod, created parents" chown_chmod

# --chmod is for what is copied: the directories the copy creates for its destination are
# 0755, and an existing destination keeps its mode, as docker 20.10's BuildKit has them (issue
# 16, diff-fuzz F3; today's fsutil gives created ones an octal --chmod's bits: F38).
chmod_created_dirs () {
  printf '%s\n' 'FROM busybox' 'COPY --chmod=600 src /private/' 'RUN mkdir /exists && chmod 0750 /exists' \
    'COPY --chmod=600 src /exists/' 'COPY --chmod=600 top.txt /newdir/' \
    'COPY --chmod=600 src /deep/er/' 'COPY --chmod=640 top.txt /nd2/f2' 'COPY --chmod=4751 top.txt /nd3/' \
    'COPY --chmod=u+x top.txt /nd4/' > "$ctx/Dockerfile"
  build t3m || return 1
  r=$T_TMP/t3m/rootfs
  for want in "private 755" "private/a.txt 600" "private/sub 600" "private/sub/c.md 600" \
    "exists 750" "exists/a.txt 600" "exists/sub 600" "newdir 755" "newdir/top.txt 600" \
    "deep 755" "deep/er 755" "deep/er/sub 600" "nd2 755" "nd2/f2 640" "nd3 755" \
    "nd4 755" "nd4/top.txt 744"; do
    got=$(stat -c %a "$r/${want% *}")
    [ "$got" = "${want#* }" ] || { echo "/${want% *}: mode $got, want ${want#* }"; return 1; }
  done
}
check "COPY --chmod: the directories it creates are 0755, an existing one keeps its mode" chmod_created_dirs

# --chmod in chmod(1)'s symbolic form, per entry from its own mode, as BSD setmode(3) with the
# daemon's umask 022 (BuildKit: fsutil and dchapes-mode); bale refused it (diff-fuzz F26).
chmod_symbolic () {
  mkdir -p "$ctx/sym/d" && echo a > "$ctx/sym/f644" && echo b > "$ctx/sym/f4755" && echo c > "$ctx/sym/d/in" &&
    chmod 644 "$ctx/sym/f644" && chmod 4755 "$ctx/sym/f4755" && chmod 600 "$ctx/sym/d/in" || return 1
  printf '%s\n' 'FROM busybox' 'COPY --chmod=go=u-w sym /a/' 'COPY --chmod=u=rwx,g=rx,o= sym /b/' \
    'COPY --chmod=+x,+w sym /c/' 'COPY --chmod=a+X,o+w sym /e/' 'COPY --chmod=ug=rw,+t sym/f4755 /f' > "$ctx/Dockerfile"
  build t3s; rc=$?
  rm -rf "$ctx/sym"
  r=$T_TMP/t3s/rootfs
  m () { stat -c %a "$r/$1"; }
  [ $rc = 0 ] && [ "$(m a/f644)" = 644 ] && [ "$(m a/f4755)" = 4755 ] && [ "$(m a/d/in)" = 644 ] &&
    [ "$(m b/f4755)" = 750 ] && [ "$(m b/d)" = 750 ] && [ "$(m c/f644)" = 755 ] && [ "$(m c/d/in)" = 711 ] &&
    [ "$(m e/f644)" = 646 ] && [ "$(m e/d)" = 757 ] && [ "$(m e/d/in)" = 602 ] && [ "$(m f)" = 1665 ] || return 1
  printf '%s\n' 'FROM busybox' 'COPY --chmod=u+q top.txt /x' > "$ctx/Dockerfile"
  ! build t3t && grep -q -- '--chmod=u+q: invalid mode' "$T_TMP/err"
}
check "COPY --chmod in symbolic form, from each entry's own mode" chmod_symbolic

# An unknown name in --chown (or USER, for WORKDIR) is no error in BuildKit: its readUser leaves
# 0 for a user not found (or no /etc/passwd), the user's group for a group not found; docker
# 20.10 gives the same owners (diff-fuzz F36).
chown_unknown_user () {
  printf '%s\n' 'FROM busybox' 'COPY --chown=nosuch top.txt /a' 'COPY --chown=app:nosuch top.txt /b' \
    'COPY --chown=nosuch:app top.txt /c' 'COPY --chown=1234:nosuch top.txt /d' 'USER nosuch:staff' \
    'WORKDIR /w' 'USER 0' > "$ctx/Dockerfile"
  build t4 || return 1
  r=$T_TMP/t4/rootfs
  [ "$(owner_mode "$r/a")" = "0:0 644" ] && [ "$(owner_mode "$r/b")" = "1000:1000 644" ] &&
    [ "$(owner_mode "$r/c")" = "0:1000 644" ] && [ "$(owner_mode "$r/d")" = "1234:1234 644" ] &&
    [ "$(owner_mode "$r/w")" = "0:50 755" ] || return 1
  printf '%s\n' 'FROM scratch' 'COPY --chown=app:staff top.txt /s' > "$ctx/Dockerfile"
  build t4s && [ "$(owner_mode "$T_TMP/t4s/rootfs/s")" = "0:0 644" ]
}
check "COPY --chown and WORKDIR: unknown names give BuildKit's owners" chown_unknown_user

# COPY --parents and --exclude were parsed and then ignored: the files were copied flat, the
# excluded ones too (diff-fuzz F27). --parents is carried out (the path kept, after a "/./"
# pivot, its directories with the source's metadata); --exclude is a located error until it is.
parents_exclude () {
  mkdir -p "$ctx/pd/a" "$ctx/pd/b/c" && echo 1 > "$ctx/pd/a/f1" && echo 3 > "$ctx/pd/b/c/f3" &&
    chmod 0750 "$ctx/pd/a" && chmod 0711 "$ctx/pd" || return 1
  printf '%s\n' 'FROM busybox' 'COPY --parents pd/a/f1 pd/b/c/f3 /p/' 'COPY --parents pd/./a/f1 /q/' \
    'COPY --chown=1000:50 --parents pd/*/f1 /r' > "$ctx/Dockerfile"
  build t4p; rc=$?
  rm -rf "$ctx/pd"
  r=$T_TMP/t4p/rootfs
  [ $rc = 0 ] && [ "$(owner_mode "$r/p/pd")" = "0:0 711" ] && [ "$(owner_mode "$r/p/pd/a")" = "0:0 750" ] &&
    [ -f "$r/p/pd/a/f1" ] && [ -f "$r/p/pd/b/c/f3" ] && [ ! -e "$r/p/f1" ] && [ -f "$r/q/a/f1" ] &&
    [ ! -e "$r/q/pd" ] && [ "$(owner_mode "$r/r/pd/a")" = "1000:50 750" ] && [ -f "$r/r/pd/a/f1" ]
}
check "COPY --parents keeps the sources' paths" parents_exclude

# COPY/ADD --exclude as BuildKit's frontend and fsutil's copier do it (diff-fuzz F27): the
# patterns (.dockerignore syntax, '!' exceptions) are matched against the paths below each
# source or wildcard match, never the match itself (moby/buildkit#5489), from the copy's root
# with --parents; not expanded; not applied inside an ADDed archive or to a heredoc. The tree
# and the expected entries are those of BuildKit's testExcludedFilesOnCopy
# (frontend/dockerfile/exclude_patterns_test.go), from the context and from a stage.
exclude_tree () {
  rm -rf "$ctx/ex" && mkdir -p "$ctx/ex/dir1" "$ctx/ex/dir2" "$ctx/ex/dir3" "$ctx/ex/dir4" || return 1
  printf 2 > "$ctx/ex/dir1/file-101.png"; printf 3 > "$ctx/ex/dir1/file-102.txt"
  printf 4 > "$ctx/ex/dir1/file-103.jpeg"; printf 6 > "$ctx/ex/dir2/file-201.pdf"
  printf 7 > "$ctx/ex/dir2/file-202.jpeg"; printf 8 > "$ctx/ex/dir2/file-203.png"
  printf 9 > "$ctx/ex/dir3/file-301.mp3"; printf 10 > "$ctx/ex/dir3/file-302.mpeg"
  printf 11 > "$ctx/ex/dir4/file-401.txt"; ln -s file-401.txt "$ctx/ex/dir4/file-402.txt"
  ln -s file-404.txt "$ctx/ex/dir4/file-403.txt"; chmod 0750 "$ctx/ex/dir1"
}
# exclude_listing ROOT: "path kind content-or-mode" of every entry below ROOT, sorted.
exclude_listing () {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r f; do
    if [ -L "$f" ]; then echo "$f l $(readlink "$f")"
    elif [ -d "$f" ]; then echo "$f d $(stat -c %a "$f")"
    else echo "$f f $(cat "$f")"; fi
  done)
}
copy_exclude () {
  exclude_tree || return 1
  for from in ctx stage; do
    # from the context: ex, ex/dir3/, ex/dir*; from a stage holding ex's contents: ., dir3/, dir*
    if [ $from = ctx ]; then pre='FROM scratch AS base'; fl=; top=ex; d=ex/
    else pre='FROM scratch AS base
COPY ex /'; fl='--from=base '; top=.; d=; fi
    printf '%s\n' "$pre" \
      'FROM scratch AS b1' "COPY $fl--exclude=*/*.png --exclude=*/*.jpeg $top /1" \
      'FROM scratch AS b2' "COPY $fl--exclude=*/*.pdf --exclude=*/*.txt $top /2" \
      'FROM scratch AS b3' "COPY $fl--exclude=*.mp3 ${d}dir3/ /3/" \
      'FROM scratch AS b4' "COPY $fl--exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt ${d}dir* /4/" \
      'FROM scratch AS b5' "COPY $fl--exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf ${d}dir* /5" \
      'FROM scratch AS b6' "COPY $fl--exclude=* ${d}dir* /6" \
      'FROM scratch' 'COPY --from=b1 / /b1' 'COPY --from=b2 / /b2' 'COPY --from=b3 / /b3' \
      'COPY --from=b4 / /b4' 'COPY --from=b5 / /b5' 'COPY --from=b6 / /b6' > "$ctx/Dockerfile"
    [ $from = stage ] || sed -i 's/^COPY --exclude=\*\.mp3 ex/ADD --exclude=*.mp3 ex/; s/^COPY \(--exclude=\*\.mp\*\)/ADD \1/; s/^COPY --exclude=\* /ADD --exclude=* /' "$ctx/Dockerfile"
    build t4x || return 1
    exclude_listing "$T_TMP/t4x/rootfs" > "$T_TMP/got.$from"
  done
  cat > "$T_TMP/want" <<'EOF'
./b1 d 755
./b1/1 d 755
./b1/1/dir1 d 750
./b1/1/dir1/file-102.txt f 3
./b1/1/dir2 d 755
./b1/1/dir2/file-201.pdf f 6
./b1/1/dir3 d 755
./b1/1/dir3/file-301.mp3 f 9
./b1/1/dir3/file-302.mpeg f 10
./b1/1/dir4 d 755
./b1/1/dir4/file-401.txt f 11
./b1/1/dir4/file-402.txt l file-401.txt
./b1/1/dir4/file-403.txt l file-404.txt
./b2 d 755
./b2/2 d 755
./b2/2/dir1 d 750
./b2/2/dir1/file-101.png f 2
./b2/2/dir1/file-103.jpeg f 4
./b2/2/dir2 d 755
./b2/2/dir2/file-202.jpeg f 7
./b2/2/dir2/file-203.png f 8
./b2/2/dir3 d 755
./b2/2/dir3/file-301.mp3 f 9
./b2/2/dir3/file-302.mpeg f 10
./b2/2/dir4 d 755
./b3 d 755
./b3/3 d 755
./b3/3/file-302.mpeg f 10
./b4 d 755
./b4/4 d 755
./b4/4/file-302.mpeg f 10
./b5 d 755
./b5/5 d 755
./b5/5/file-102.txt f 3
./b5/5/file-401.txt f 11
./b5/5/file-402.txt l file-401.txt
./b5/5/file-403.txt l file-404.txt
./b6 d 755
./b6/6 d 755
EOF
  diff "$T_TMP/want" "$T_TMP/got.ctx" && diff "$T_TMP/want" "$T_TMP/got.stage" || return 1
  # A match is never excluded, only what is below it; '!' exceptions keep an excluded
  # directory as the parent of what they keep; --parents sees paths from the copy's root; the
  # flag is not expanded; an ADDed archive and a heredoc are copied whole.
  (cd "$ctx/ex" && tar cf ../ex.tar dir1) || return 1
  printf '%s\n' 'FROM scratch' 'ARG P=*.png' 'COPY --exclude=*.txt --exclude=dir1 ex/dir1/*.txt ex/dir4 /m/' \
    'COPY --exclude=dir1 --exclude=!dir1/file-102.txt ex /k/' \
    'COPY --parents --exclude=**/*.png --exclude=ex/dir3 ex/dir1 ex/dir2/file-203.png ex/dir3 /p/' \
    'COPY --exclude=$P ex/dir1 /v/' 'ADD --exclude=**/*.png ex.tar /t/' \
    'COPY --exclude=* <<EOF /h/' 'hd' 'EOF' > "$ctx/Dockerfile"
  build t4y; rc=$?
  rm -rf "$ctx/ex" "$ctx/ex.tar"
  [ $rc = 0 ] || return 1
  exclude_listing "$T_TMP/t4y/rootfs" > "$T_TMP/got"
  cat > "$T_TMP/want" <<'EOF'
./h d 755
./h/EOF f hd
./k d 755
./k/dir1 d 750
./k/dir1/file-102.txt f 3
./k/dir2 d 755
./k/dir2/file-201.pdf f 6
./k/dir2/file-202.jpeg f 7
./k/dir2/file-203.png f 8
./k/dir3 d 755
./k/dir3/file-301.mp3 f 9
./k/dir3/file-302.mpeg f 10
./k/dir4 d 755
./k/dir4/file-401.txt f 11
./k/dir4/file-402.txt l file-401.txt
./k/dir4/file-403.txt l file-404.txt
./m d 755
./m/file-102.txt f 3
./p d 755
./p/ex d 755
./p/ex/dir1 d 750
./p/ex/dir1/file-102.txt f 3
./p/ex/dir1/file-103.jpeg f 4
./t d 755
./t/dir1 d 750
./t/dir1/file-101.png f 2
./t/dir1/file-102.txt f 3
./t/dir1/file-103.jpeg f 4
./v d 755
./v/file-101.png f 2
./v/file-102.txt f 3
./v/file-103.jpeg f 4
EOF
  diff "$T_TMP/want" "$T_TMP/got" || return 1
  printf '%s\n' 'FROM scratch' 'COPY --exclude=a[ top.txt /x' > "$ctx/Dockerfile"
  ! build t4z && grep -q "Dockerfile:2:1: error: COPY --exclude: invalid pattern: syntax error in pattern 'a\['" "$T_TMP/err"
}
check "COPY/ADD --exclude: BuildKit's testExcludedFilesOnCopy trees, exceptions, --parents" copy_exclude

# A directory copied over a destination where one of its names is another type: BuildKit's
# copy fails on a symlink or file where a directory goes and on a directory where a file goes,
# merges a directory into a directory (diff-fuzz F29; checked against docker 20.10).
type_clash_in_dir () {
  mkdir -p "$ctx/tc/sub" && echo x > "$ctx/tc/sub/in" && echo y > "$ctx/tc/f" || return 1
  printf '%s\n' 'FROM busybox' 'RUN mkdir -p /m && ln -s /tmp /m/sub' 'COPY tc /m/' > "$ctx/Dockerfile"
  ! build t4c && grep -q 'cannot copy to non-directory: /m/sub' "$T_TMP/err" || { rm -rf "$ctx/tc"; return 1; }
  printf '%s\n' 'FROM busybox' 'RUN mkdir -p /m/f' 'COPY tc /m/' > "$ctx/Dockerfile"
  ! build t4d && grep -q 'cannot replace to directory /m/f with file' "$T_TMP/err" || { rm -rf "$ctx/tc"; return 1; }
  printf '%s\n' 'FROM busybox' 'RUN mkdir -p /m/sub && echo old > /m/f' 'COPY tc /m/' > "$ctx/Dockerfile"
  build t4f; rc=$?
  rm -rf "$ctx/tc"
  [ $rc = 0 ] && [ "$(cat "$T_TMP/t4f/rootfs/m/f")" = y ] && [ -f "$T_TMP/t4f/rootfs/m/sub/in" ] || return 1
  # a directory's contents onto a file (F31)
  printf '%s\n' 'FROM busybox' 'COPY top.txt /w/f9' 'COPY data /w/f9/' > "$ctx/Dockerfile"
  ! build t4g && grep -q 'mkdir /w/f9: not a directory' "$T_TMP/err"
}
check "COPY of a directory over another type of entry fails as BuildKit's copy does" type_clash_in_dir

# A directory of the image that COPY or WORKDIR writes an entry into takes the step's time, as
# the kernel gives it under BuildKit (diff-fuzz F32): /tmp and /root here, not /etc.
existing_dir_time () {
  printf '%s\n' 'FROM busybox' 'COPY top.txt /tmp/' 'WORKDIR /root/w' > "$ctx/Dockerfile"
  SOURCE_DATE_EPOCH=1234567 build t4h || return 1
  r=$T_TMP/t4h/rootfs
  [ "$(stat -c %Y "$r/tmp")" = 1234567 ] && [ "$(stat -c %Y "$r/root")" = 1234567 ] &&
    [ "$(stat -c %Y "$r/etc")" != 1234567 ]
}
check "COPY and WORKDIR give a directory they write into the step's time" existing_dir_time

# The destination of a directory's contents, made or already there, has the step's time, as
# docker 20.10's copier leaves it (today's fsutil gives it the source directory's: diff-fuzz
# F42), whatever the source; an empty directory copied keeps its own.
dir_dest_time () {
  mkdir -p "$ctx/dt/sub" "$ctx/dt/e" && echo x > "$ctx/dt/sub/f" && touch -d @1500000000 "$ctx/dt/sub" "$ctx/dt/e" "$ctx/dt" ||
    return 1
  printf '%s\n' 'FROM busybox' 'RUN mkdir /exists' 'COPY dt /new/' 'COPY dt /exists/' 'COPY dt/sub/f /fdest/' \
    'COPY --from=busybox /etc /etcopy/' 'COPY . /croot/' 'COPY dt top.txt /dl/' 'COPY top.txt dt /fl/' > "$ctx/Dockerfile"
  build t4t; rc=$?
  rm -rf "$ctx/dt"
  r=$T_TMP/t4t/rootfs
  t () { stat -c %Y "$r/$1"; }
  [ $rc = 0 ] && [ "$(t new)" = 1700000000 ] && [ "$(t new/e)" = 1500000000 ] && [ "$(t exists)" = 1700000000 ] &&
    [ "$(t fdest)" = 1700000000 ] && [ "$(t etcopy)" = 1700000000 ] &&
    [ "$(t croot)" = 1700000000 ] && [ "$(t dl)" = 1700000000 ] && [ "$(t fl)" = 1700000000 ] &&
    [ "$(t fl/e)" = 1500000000 ]
}
check "COPY of a directory: its destination has the step's time" dir_dest_time

# Hard links are kept within one source (a directory, a wildcard's matches), not between two
# sources of one COPY: BuildKit copies each with a copier of its own (diff-fuzz F43).
hardlinks_per_source () {
  mkdir -p "$ctx/hl/d" && echo x > "$ctx/hl/a" && ln "$ctx/hl/a" "$ctx/hl/b" && ln "$ctx/hl/a" "$ctx/hl/d/c" || return 1
  printf '%s\n' 'FROM busybox' 'COPY hl/a hl/b /two/' 'COPY hl/[ab] /wild/' 'COPY hl/a hl/d /mix/' 'COPY hl /dir/' > "$ctx/Dockerfile"
  build t4l; rc=$?
  rm -rf "$ctx/hl"
  r=$T_TMP/t4l/rootfs
  i () { stat -c %i "$r/$1"; }
  [ $rc = 0 ] && [ "$(i two/a)" != "$(i two/b)" ] && [ "$(i wild/a)" = "$(i wild/b)" ] &&
    [ "$(i mix/a)" != "$(i mix/c)" ] && [ "$(i dir/a)" = "$(i dir/d/c)" ] && [ "$(i dir/a)" = "$(i dir/b)" ]
}
check "COPY keeps hard links within one source, not between two" hardlinks_per_source

# ADD --checksum is for one remote source: a local file's was ignored (diff-fuzz F34);
# dockerfile2llb's two errors, located.
add_checksum_local () {
  sum=sha256:98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4
  printf '%s\n' 'FROM busybox' "ADD --checksum=$sum top.txt /x" > "$ctx/Dockerfile"
  ! build t4k && grep -q 'Dockerfile:2:1: error: checksum requires HTTP(S) or Git sources' "$T_TMP/err" || return 1
  printf '%s\n' 'FROM busybox' "ADD --checksum=$sum http://127.0.0.1:9/a http://127.0.0.1:9/b /x/" > "$ctx/Dockerfile"
  ! build t4l && grep -q "Dockerfile:2:1: error: checksum can't be specified for multiple sources" "$T_TMP/err"
}
check "ADD --checksum of a local file or of two sources is an error" add_checksum_local

# A symlink to a directory whose entries .dockerignore excludes: COPY through the link copied
# them (a secret listed in .dockerignore included); BuildKit's context has none (diff-fuzz F35).
ignore_through_symlink () {
  mkdir -p "$ctx/sl/sec" && echo s > "$ctx/sl/sec/key" && echo k > "$ctx/sl/sec/ok" &&
    ln -s sl/sec "$ctx/slink" && cp "$ctx/.dockerignore" "$T_TMP/ign" 2>/dev/null; rc0=$?
  printf 'sl/sec/key\n' >> "$ctx/.dockerignore"
  printf '%s\n' 'FROM busybox' 'COPY slink /s/' > "$ctx/Dockerfile"
  build t4s; rc=$?
  printf '%s\n' 'FROM busybox' 'COPY slink/key /k' > "$ctx/Dockerfile"
  ! build t4u; rc2=$?
  grep -q '"slink/key": "slink/key" leads to "sl/sec/key", excluded by ' "$T_TMP/err"; rc3=$?
  rm -rf "$ctx/sl" "$ctx/slink"
  if [ $rc0 = 0 ]; then cp "$T_TMP/ign" "$ctx/.dockerignore"; else rm -f "$ctx/.dockerignore"; fi
  [ $rc = 0 ] && [ -f "$T_TMP/t4s/rootfs/s/ok" ] && [ ! -e "$T_TMP/t4s/rootfs/s/key" ] && [ $rc2 = 0 ] && [ $rc3 = 0 ]
}
check "COPY through a symlink to a directory: .dockerignore'd entries stay out" ignore_through_symlink

from_stage_keeps_owners () {
  printf '%s\n' 'FROM busybox AS build' 'COPY --chown=7:8 top.txt /out/bin' 'FROM scratch' \
    'COPY --from=build /out /dist' 'COPY --from=0 /bin/busybox /bin/' \
    'COPY --from=busybox /etc/passwd /etc/' > "$ctx/Dockerfile"
  build t5 || return 1
  r=$T_TMP/t5/rootfs
  [ "$(owner_mode "$r/dist/bin")" = "7:8 644" ] && [ -x "$r/bin/busybox" ] && [ -f "$r/etc/passwd" ] &&
    [ "$(ls "$r" | tr '\n' ' ')" = "bin dist etc " ]
}
check "COPY --from a stage, an index and an image keeps owners" from_stage_keeps_owners

add_archives () {
  mkdir -p "$T_TMP/arc/dir" && echo in > "$T_TMP/arc/dir/f" &&
    tar -C "$T_TMP/arc" -czf "$ctx/a.tgz" dir && tar -C "$T_TMP/arc" -cf "$ctx/plain.tar" dir &&
    cp "$ctx/a.tgz" "$ctx/renamed.bin" || return 1
  printf '%s\n' 'FROM busybox' 'ADD a.tgz /x/' 'ADD plain.tar /y' 'ADD renamed.bin /z/' \
    'COPY a.tgz /c/' > "$ctx/Dockerfile"
  build t6 || return 1
  r=$T_TMP/t6/rootfs
  [ "$(cat "$r/x/dir/f")" = in ] && [ "$(cat "$r/y/dir/f")" = in ] && [ "$(cat "$r/z/dir/f")" = in ] &&
    [ -f "$r/c/a.tgz" ]
}
check "ADD extracts local archives by content; COPY does not" add_archives

# BuildKit unpacks what decompresses to a tar (its first header read), not what merely starts
# like gzip, bzip2 or xz: a compressed text file, or an empty tar, is copied as it is (found by
# the differential fuzzer, tests/diff-fuzz/FINDINGS.md F18).
add_compressed_non_tar () {
  echo plain > "$T_TMP/p" && gzip -nc "$T_TMP/p" > "$ctx/p.gz" && bzip2 -c "$T_TMP/p" > "$ctx/p.bz2" &&
    xz -c "$T_TMP/p" > "$ctx/p.xz" && head -c 1024 /dev/zero > "$ctx/empty.tar" &&
    tar -C "$T_TMP/arc" -cJf "$ctx/a.txz" dir || return 1
  printf '%s\n' 'FROM busybox' 'ADD p.gz p.bz2 p.xz empty.tar /n/' 'ADD a.txz /j/' > "$ctx/Dockerfile"
  build t6b || return 1
  r=$T_TMP/t6b/rootfs
  cmp "$r/n/p.gz" "$ctx/p.gz" && cmp "$r/n/p.bz2" "$ctx/p.bz2" && cmp "$r/n/p.xz" "$ctx/p.xz" &&
    cmp "$r/n/empty.tar" "$ctx/empty.tar" && [ "$(cat "$r/j/dir/f")" = in ]
}
check "ADD copies a compressed file that is no tar as it is" add_compressed_non_tar

# BuildKit unpacks an ADD chrooted into its destination (moby's chrootarchive): a directory
# the archive does not name, found there as a symlink, is followed with the destination as
# "/" (`top2 -> /` leads to /d itself, `top -> real` to /d/real), and one leading nowhere
# fails the ADD; a directory the archive names replaces the symlink (diff-fuzz F60, checked
# against docker 20.10). A PAX sparse file is unpacked with its holes, an old GNU one refused
# as moby refuses it (F59).
add_archive_through_symlinks () {
  ctx=$T_TMP/atctx # (check runs this in a subshell: the other tests keep their context)
  rm -rf "$T_TMP/at" "$ctx" && mkdir -p "$ctx" && mkdir -p "$T_TMP/at/top" "$T_TMP/at/top2" "$T_TMP/at/top3" "$T_TMP/at/top4" &&
    echo f > "$T_TMP/at/top/f" && echo f2 > "$T_TMP/at/top2/f2" && echo f3 > "$T_TMP/at/top3/f3" &&
    echo f4 > "$T_TMP/at/top4/f4" && truncate -s 3M "$T_TMP/at/sp" && printf end >> "$T_TMP/at/sp" || return 1
  tar -C "$T_TMP/at" -cf "$ctx/at1.tar" top/f top2/f2 && tar -C "$T_TMP/at" -cf "$ctx/at2.tar" top3/f3 &&
    tar -C "$T_TMP/at" -cf "$ctx/at3.tar" top4 && tar -C "$T_TMP/at" --sparse --format=posix -cf "$ctx/sp.tar" sp &&
    tar -C "$T_TMP/at" --sparse --format=gnu -cf "$ctx/spg.tar" sp || return 1
  printf '%s\n' 'FROM busybox' \
    'RUN mkdir -p /d/real && ln -s real /d/top && ln -s / /d/top2 && ln -s /tmp /d/top3 && ln -s /tmp /d/top4' \
    'ADD at1.tar at3.tar sp.tar /d/' > "$ctx/Dockerfile"
  build t6c || return 1
  r=$T_TMP/t6c/rootfs
  [ "$(cat "$r/d/real/f")" = f ] && [ "$(cat "$r/d/f2")" = f2 ] && [ -L "$r/d/top" ] && [ -L "$r/d/top2" ] &&
    [ ! -e "$r/f2" ] && [ ! -L "$r/d/top4" ] && [ "$(cat "$r/d/top4/f4")" = f4 ] && [ -L "$r/tmp" -o -d "$r/tmp" ] &&
    [ ! -e "$r/tmp/f4" ] && [ "$(stat -c %s "$r/d/sp")" = 3145731 ] && [ "$(tail -c 3 "$r/d/sp")" = end ] || return 1
  printf '%s\n' 'FROM busybox' 'RUN mkdir -p /d && ln -s /tmp /d/top3' 'ADD at2.tar /d/' > "$ctx/Dockerfile"
  ! build t6d 2> /dev/null || { echo "ADD through a symlink leading nowhere in the destination built"; return 1; }
  grep -q 'open /d/top3: no such directory' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  printf '%s\n' 'FROM busybox' 'ADD spg.tar /d/' > "$ctx/Dockerfile"
  ! build t6e 2> /dev/null || { echo "ADD of an old GNU sparse file built"; return 1; }
  grep -q 'unhandled tar header type 83' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}
check "ADD unpacks through the destination's symlinks as into a chroot; PAX sparse files" add_archive_through_symlinks

# The symlinks an ADDed archive's parents meet in the destination are resolved by the one
# resolver (runtime/fs/inroot), with the destination as "/": as the kernel resolves them in
# moby's chroot, a missing or non-directory component before a ".." fails the ADD (docker
# 20.10: "open /top/f: no such file or directory", "open /top2/g: not a directory"), where the
# second walker bale had applied ".." to the name and wrote into /d/real. A chain of links with
# absolute targets and ".." above the top stays inside /d; a loop names itself precisely.
add_archive_link_chain () {
  ctx=$T_TMP/alctx
  rm -rf "$T_TMP/al" "$ctx" && mkdir -p "$ctx" "$T_TMP/al/top" "$T_TMP/al/top2" "$T_TMP/al/ch" "$T_TMP/al/lp" &&
    echo f > "$T_TMP/al/top/f" && echo g > "$T_TMP/al/top2/g" && echo c > "$T_TMP/al/ch/c" &&
    echo l > "$T_TMP/al/lp/l" && tar -C "$T_TMP/al" -cf "$ctx/a1.tar" top/f && tar -C "$T_TMP/al" -cf "$ctx/a2.tar" top2/g &&
    tar -C "$T_TMP/al" -cf "$ctx/a3.tar" ch/c && tar -C "$T_TMP/al" -cf "$ctx/a4.tar" lp/l || return 1
  printf '%s\n' 'FROM busybox' 'RUN mkdir -p /d/real && ln -s missing/../real /d/top' 'ADD a1.tar /d/' > "$ctx/Dockerfile"
  ! build t6f 2> /dev/null || { echo "missing/../real: built"; return 1; }
  grep -q 'open /d/top: no such directory' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  printf '%s\n' 'FROM busybox' 'RUN mkdir -p /d/real && touch /d/file && ln -s file/../real /d/top2' 'ADD a2.tar /d/' > "$ctx/Dockerfile"
  ! build t6g 2> /dev/null || { echo "file/../real: built"; return 1; }
  grep -q 'open /d/top2: not a directory' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  printf '%s\n' 'FROM busybox' \
    'RUN mkdir -p /d/etc/x && ln -s /l1 /d/ch && ln -s ../../../../l2/ /d/l1 && ln -s /../etc/./x /d/l2 && ln -s lp /d/lp' \
    'ADD a3.tar /d/' > "$ctx/Dockerfile"
  build t6h || return 1
  r=$T_TMP/t6h/rootfs
  [ "$(cat "$r/d/etc/x/c")" = c ] && [ -L "$r/d/ch" ] && [ ! -e "$r/etc/x" ] && [ ! -e "$r/l1" ] || { ls -R "$r/d"; return 1; }
  # a link inside a directory reached through a link: followed from where the first led
  mkdir -p "$T_TMP/al/n1/n2" && echo n > "$T_TMP/al/n1/n2/n" && tar -C "$T_TMP/al" -cf "$ctx/a5.tar" n1/n2/n || return 1
  printf '%s\n' 'FROM busybox' 'RUN mkdir -p /d/real/other && ln -s real /d/n1 && ln -s /real/other /d/real/n2' \
    'ADD a5.tar /d/' > "$ctx/Dockerfile"
  build t6j || return 1
  [ "$(cat "$T_TMP/t6j/rootfs/d/real/other/n")" = n ] && [ -L "$T_TMP/t6j/rootfs/d/n1" ] || { ls -R "$T_TMP/t6j/rootfs/d"; return 1; }
  printf '%s\n' 'FROM busybox' 'RUN mkdir /d && ln -s lp /d/lp' 'ADD a4.tar /d/' > "$ctx/Dockerfile"
  ! build t6i 2> /dev/null || { echo "a symlink loop: built"; return 1; }
  grep -q 'open /d/lp: too many levels of symbolic links (more than 40' "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
}
check "ADD through destination symlinks: resolved in the destination as the kernel would, chains kept inside, loops named" add_archive_link_chain

# ADD of a local archive: BuildKit's unpack makes the destination 0755 (with --chown's owner)
# and untars with the archive's modes: --chmod changes nothing there (diff-fuzz F40; checked
# against docker 20.10). A file that is no archive takes it, its new parents stay 0755 (F3).
add_archive_chmod () {
  mkdir -p "$T_TMP/ac/sub" && echo a > "$T_TMP/ac/a" && echo b > "$T_TMP/ac/sub/b" &&
    chmod 0755 "$T_TMP/ac/a" && tar cf "$ctx/ac.tar" -C "$T_TMP/ac" . || return 1
  printf '%s\n' 'FROM busybox' 'ADD --chmod=600 ac.tar /x/y/' 'ADD --chmod=640 --chown=app ac.tar /z/' \
    'ADD --chmod=600 top.txt /n/m/' > "$ctx/Dockerfile"
  build t9a; rc=$?
  rm -f "$ctx/ac.tar"
  r=$T_TMP/t9a/rootfs
  [ $rc = 0 ] && [ "$(owner_mode "$r/x")" = "0:0 755" ] && [ "$(owner_mode "$r/x/y")" = "0:0 755" ] &&
    [ "$(owner_mode "$r/x/y/a")" = "0:0 755" ] && [ "$(owner_mode "$r/x/y/sub/b")" = "0:0 644" ] &&
    [ "$(owner_mode "$r/z")" = "1000:1000 755" ] && [ "$(owner_mode "$r/z/sub")" = "1000:1000 755" ] &&
    [ "$(owner_mode "$r/z/a")" = "1000:1000 755" ] && [ "$(owner_mode "$r/n")" = "0:0 755" ] &&
    [ "$(owner_mode "$r/n/m")" = "0:0 755" ] &&
    [ "$(owner_mode "$r/n/m/top.txt")" = "0:0 600" ]
}
check "ADD --chmod leaves an archive's entries and destination alone, as BuildKit's unpack" add_archive_chmod

heredoc () {
  printf '%s\n' 'FROM busybox' 'ARG NAME=world' 'COPY <<EOF /etc/hello' 'hello $NAME' 'EOF' \
    "COPY <<'EOF' /etc/raw" 'hello $NAME' 'EOF' > "$ctx/Dockerfile"
  build t7 || return 1
  r=$T_TMP/t7/rootfs
  [ "$(cat "$r/etc/hello")" = "hello world" ] && [ "$(cat "$r/etc/raw")" = 'hello $NAME' ]
}
check "COPY heredocs, expanded unless quoted" heredoc

# A COPY or ADD heredoc is made with llb.Mkfile(NAME) in an empty scratch, NAME cleaned against
# "/" (diff-fuzz F50): ../x and /z land in the destination as x and z; a name with a directory
# left in it cannot be made there and fails, located. bale wrote <<../../etc/x to /etc/x.
heredoc_names () {
  printf '%s\n' 'FROM busybox' 'RUN mkdir /app' 'COPY <<../x <</z /app/' 'x' '../x' 'z' '/z' \
    'ADD <<./y /app/' 'y' './y' > "$ctx/Dockerfile"
  build t7b || return 1
  r=$T_TMP/t7b/rootfs
  [ "$(cat "$r/app/x")" = x ] && [ "$(cat "$r/app/z")" = z ] && [ "$(cat "$r/app/y")" = y ] &&
    [ ! -e "$r/x" ] && [ ! -e "$r/z" ] || return 1
  printf '%s\n' 'FROM busybox' 'RUN mkdir /app' 'COPY <<../../etc/x /app/' 'x' '../../etc/x' > "$ctx/Dockerfile"
  build t7c && { echo "../../etc/x: built"; return 1; }
  grep -q '/Dockerfile:3:6: error: COPY <<../../etc/x: .*(open /etc/x: no such file or directory)' "$T_TMP/err" || return 1
  printf '%s\n' 'FROM busybox' 'ADD <<a/b /app/' 'x' 'a/b' > "$ctx/Dockerfile"
  build t7c && { echo "a/b: built"; return 1; }
  grep -q '/Dockerfile:2:5: error: ADD <<a/b: .*(open /a/b: no such file or directory)' "$T_TMP/err"
}
check "COPY and ADD heredoc names: cleaned as BuildKit makes them; a directory in the name is an error" heredoc_names

# A FIFO a stage's RUN made: docker 20.10's COPY --from leaves it out, named (no file at all) or
# in a directory, as from the context (diff-fuzz F28, F51); a directory destination is still made.
stage_fifo_left_out () {
  printf '%s\n' 'FROM busybox AS s' 'RUN mkfifo /fifo && mkdir /d && mkfifo /d/f && echo a > /d/a' \
    'FROM busybox' 'COPY --from=s /fifo /x' 'COPY --from=s /fifo /xd/' 'COPY --from=s /d /y/' \
    'COPY --from=s / /w/' > "$ctx/Dockerfile"
  build t7d || return 1
  r=$T_TMP/t7d/rootfs
  [ ! -e "$r/x" ] && [ -d "$r/xd" ] && [ -z "$(ls -A "$r/xd")" ] && [ "$(ls -A "$r/y")" = a ] &&
    [ ! -e "$r/w/fifo" ] && [ "$(ls -A "$r/w/d")" = a ]
}
check "COPY --from a stage's FIFO: left out, named or in a directory, as docker 20.10" stage_fifo_left_out

escapes_are_errors () {
  printf '%s\n' 'FROM busybox' 'COPY ../secret /x' > "$ctx/Dockerfile"
  build t8 && return 1
  grep -q 'error: COPY: "../secret": the path leads outside the build context' "$T_TMP/err" || return 1
  ln -sf /etc/passwd "$ctx/out-link"
  printf '%s\n' 'FROM busybox' 'COPY out-link /x' > "$ctx/Dockerfile"
  if build t8; then rm -f "$ctx/out-link"; return 1; fi
  rm -f "$ctx/out-link"
  grep -q 'error: COPY: "out-link": symlink "out-link" leads outside the build context' "$T_TMP/err"
}
check "COPY: ../ and symlinks leading out of the context are errors" escapes_are_errors

destinations_resolved_in_image () {
  printf '%s\n' 'FROM busybox AS base' 'RUN true' > /dev/null
  printf '%s\n' 'FROM busybox AS base' 'COPY top.txt /usr/lib/keep' 'FROM base' \
    'COPY --from=busybox /bin/busybox /tmp/' 'COPY top.txt /tmp/../opt/' \
    'COPY top.txt /bin/sh-top' > "$ctx/Dockerfile"
  build t9 || return 1
  r=$T_TMP/t9/rootfs
  [ -f "$r/usr/lib/keep" ] && [ -x "$r/tmp/busybox" ] && [ -f "$r/opt/top.txt" ] &&
    [ -f "$r/bin/sh-top" ] && [ -L "$r/bin/sh" ]
}
check "COPY: destinations are cleaned and resolved in the image" destinations_resolved_in_image

reproducible_layers () {
  printf '%s\n' 'FROM busybox' 'COPY src /app/' 'WORKDIR /srv' > "$ctx/Dockerfile"
  "$BALE" build -q --output "type=oci-archive,dest=$T_TMP/r1.tar" "$ctx" > /dev/null 2>&1 &&
    touch "$ctx/src/a.txt" && sleep 1 &&
    "$BALE" build -q --output "type=oci-archive,dest=$T_TMP/r2.tar" "$ctx" > /dev/null 2>&1 &&
    cmp "$T_TMP/r1.tar" "$T_TMP/r2.tar"
}
check "SOURCE_DATE_EPOCH: rebuilding after touching a file gives the same bytes" reproducible_layers

copy_link () {
  printf '%s\n' 'FROM busybox' 'COPY --link top.txt /etc/linked/' > "$ctx/Dockerfile"
  build t11 || return 1
  l=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]+"/index.json")); m=json.load(open(sys.argv[1]+"/blobs/sha256/"+i["manifests"][-1]["digest"][7:])); print(m["layers"][-1]["digest"][7:])' "$T_TMP/t11.oci")
  # The layer holds the new file and the parents it creates with default metadata, not the
  # base's /etc.
  [ "$(tar -tvzf "$T_TMP/t11.oci/blobs/sha256/$l" | awk '{print $1, $2, $6}' | tr '\n' ' ')" = \
    "drwxr-xr-x 0/0 etc/ drwxr-xr-x 0/0 etc/linked/ -rw-r--r-- 0/0 etc/linked/top.txt " ] &&
    [ -f "$T_TMP/t11/rootfs/etc/passwd" ] && [ -f "$T_TMP/t11/rootfs/etc/linked/top.txt" ]
}
check "COPY --link: a layer independent of what is below" copy_link

snapshot_while_copying () {
  # A COPY that a later step reads is unpacked as it is stored (its snapshot is there when
  # the RUN needs it); a last COPY nothing reads is not unpacked at all.
  printf '%s\n' 'FROM busybox' 'COPY src /app/' 'RUN cat /app/a.txt /app/sub/c.md > /seen' 'COPY top.txt /last' > "$ctx/Dockerfile"
  rm -rf "$BALE_STORE/snapshots" && mkdir "$BALE_STORE/snapshots" || return 1
  "$BALE" build --no-cache -q -t t12 "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  "$BALE" inspect t12 > "$T_TMP/t12.json" || return 1
  set -- $(python3 -c 'import json,sys; print(" ".join(l[7:] for l in json.load(open(sys.argv[1]))[0]["RootFS"]["Layers"]))' "$T_TMP/t12.json")
  copy=$2 last=$4
  [ -f "$BALE_STORE/snapshots/$copy/fs/app/a.txt" ] && [ "$(stat -c '%u:%g %a' "$BALE_STORE/snapshots/$copy/fs/app/sub")" = "0:0 750" ] &&
    [ ! -e "$BALE_STORE/snapshots/$last" ] && [ -z "$(ls -A "$BALE_STORE/tmp")" ] &&
    [ "$("$BALE" run t12 cat /seen | tr '\n' ' ')" = "a c " ]
}
check "a COPY a later step reads has its snapshot (unpacked as it streams in), a last COPY none" snapshot_while_copying

snapshot_earlier_boot () {
  # Snapshots are not synced: each is marked with the boot it was made in, and one from an
  # earlier boot (which a crash may have left with empty files) is unpacked again from its
  # blob. Made as t12 made it: the COPY's (adopted as it streamed in) and busybox's.
  boot=$(cat /proc/sys/kernel/random/boot_id)
  set -- $(python3 -c 'import json,sys; print(" ".join(l[7:] for l in json.load(open(sys.argv[1]))[0]["RootFS"]["Layers"]))' "$T_TMP/t12.json")
  base=$1 copy=$2
  for s in "$base" "$copy"; do
    [ -f "$BALE_STORE/snapshots/$s/boot.$boot" ] || { echo "snapshot $s has no mark of this boot"; return 1; }
    mv "$BALE_STORE/snapshots/$s/boot.$boot" "$BALE_STORE/snapshots/$s/boot.00000000-0000-0000-0000-000000000000" || return 1
  done
  # What a crash could leave: the files' names without their data.
  : > "$BALE_STORE/snapshots/$copy/fs/app/a.txt"
  : > "$BALE_STORE/snapshots/$base/fs/bin/busybox"
  "$BALE" build --no-cache -q -t t12 "$ctx" > /dev/null 2> "$T_TMP/err" || { cat "$T_TMP/err"; return 1; }
  [ "$("$BALE" run t12 cat /seen | tr '\n' ' ')" = "a c " ] &&
    [ -s "$BALE_STORE/snapshots/$copy/fs/app/a.txt" ] && [ -s "$BALE_STORE/snapshots/$base/fs/bin/busybox" ] &&
    [ -f "$BALE_STORE/snapshots/$base/boot.$boot" ] && [ -f "$BALE_STORE/snapshots/$copy/boot.$boot" ] &&
    [ -z "$(ls "$BALE_STORE/snapshots" | grep -v '\.lock$' | grep '\.')" ]
}
check "a snapshot unsynced in an earlier boot is unpacked again from its blob" snapshot_earlier_boot

done_testing
