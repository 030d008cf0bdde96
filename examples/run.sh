#!/bin/sh
# Build and run the examples with bale, as the README's first command does: a busybox base
# from Debian's busybox-static, then `bale build` and `bale run` of each example. Needs root
# (bale's sandbox uses mount and PID namespaces). The store is examples/.store unless
# BALE_STORE says otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bale=${BALE:-$here/../bale}
export BALE_STORE=${BALE_STORE:-$here/.store}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bale-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

sh "$here/busybox-image.sh" "$tmp/busybox.tar"
"$bale" load -i "$tmp/busybox.tar"
for ex in seed-cmd hello cmd cmd-entrypoint shell-entrypoint multistage; do
  "$bale" build -q -t "bale-example/$ex" "$here/$ex" > /dev/null
done
set -x
"$bale" run bale-example/hello Welcome
"$bale" run bale-example/cmd
"$bale" run bale-example/cmd echo replaced by the run arguments
"$bale" run bale-example/cmd-entrypoint
"$bale" run bale-example/cmd-entrypoint these replace CMD
"$bale" run bale-example/shell-entrypoint these are ignored
"$bale" run bale-example/multistage
"$bale" explain bale-example/shell-entrypoint
"$bale" explain bale-example/seed-cmd -- Welcome
"$bale" explain bale-example/hello -- Welcome
