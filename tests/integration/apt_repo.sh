# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-or-later
# apt_context DIR: a build context whose Dockerfile (FROM debian:bookworm, debian_base.sh) runs
# apt-get update and install from a file: repository in the context (no network): apt drops to
# _apt (setgroups, setresgid, setresuid) and checks that it cannot become root again, dpkg
# unpacks a directory as NAME.dpkg-new and renames it, and a package file belongs to 1:1.
# Then setpriv becomes _apt (PR_SET_KEEPCAPS, capset): what it makes is _apt's, and chown back
# to root is refused. Last, useradd adds a user (rewriting /etc/shadow and /etc/gshadow with
# the owner it reads: root:shadow) and files are chowned to it and to others. useradd takes the
# password's change day in /etc/shadow from SOURCE_DATE_EPOCH, not the clock: builds on each
# side of midnight UTC (root's first, the other mode's later) gave two images. Needs root
# (the package's owner), dpkg-deb and dpkg-scanpackages.
apt_context () {
  mkdir -p "$1/pkg/DEBIAN" "$1/pkg/srv/balet" "$1/repo" || return 1
  printf 'Package: balet\nVersion: 1.0\nArchitecture: all\nMaintainer: bale <bale@example.invalid>\nDescription: bale test\n' \
    > "$1/pkg/DEBIAN/control"
  echo data > "$1/pkg/srv/balet/owned"
  chown -R 1:1 "$1/pkg/srv/balet"
  dpkg-deb --build "$1/pkg" "$1/repo/balet_1.0_all.deb" > /dev/null &&
    (cd "$1/repo" && dpkg-scanpackages . /dev/null > Packages 2> /dev/null) || return 1
  rm -rf "$1/pkg"
  cat > "$1/Dockerfile" << 'EOT'
FROM debian:bookworm
COPY repo /repo
RUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* \
 && echo 'deb [trusted=yes] file:/repo ./' > /etc/apt/sources.list.d/local.list \
 && apt-get update && apt-get install -y balet \
 && rm -rf /var/lib/apt/lists/*_Packages /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log
RUN setpriv --reuid=_apt --regid=nogroup --clear-groups sh -c \
   'id > /tmp/id && mkdir /tmp/d && echo x > /tmp/d/f && ln -s f /tmp/d/l && mkfifo /tmp/d/p' \
 && ! setpriv --reuid=_apt --regid=nogroup --clear-groups chown 0 /tmp/d/f 2> /dev/null
RUN SOURCE_DATE_EPOCH=1700000000 useradd -m -u 1500 app && install -d -o app -g app /srv/data \
 && chown -R 42:65534 /var/cache/apt
EOT
  chmod -R a+rX "$1"
}
