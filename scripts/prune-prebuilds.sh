#!/bin/sh
# Deletes the native prebuilds of other platforms from node_modules (the container image runs on
# one): sodium-native ships 13 platforms (18 MB), classic-level 8 (4.6 MB). A prebuilds/<dir> is
# kept when its name is <platform>-<arch>[+<arch>...] for this Node's process.platform and
# process.arch (node-gyp-build's layout), e.g. linux-x64 or darwin-x64+arm64.
#   sh scripts/prune-prebuilds.sh [node_modules]      prints what it removed and the bytes saved
set -eu
root=${1:-node_modules}
platform=$(node -p process.platform)
arch=$(node -p process.arch)
saved=0
[ -d "$root" ] || { echo "prune-prebuilds: $root is not a directory" >&2; exit 2; }
for dir in $(find "$root" -type d -name prebuilds -prune); do
  for sub in "$dir"/*; do
    [ -d "$sub" ] || continue
    name=$(basename "$sub")
    p=${name%%-*}
    archs=${name#*-}
    keep=no
    if [ "$p" = "$platform" ]; then
      for a in $(echo "$archs" | tr '+' ' '); do [ "$a" = "$arch" ] && keep=yes; done
    fi
    if [ "$keep" = no ]; then
      kb=$(du -sk "$sub" | cut -f1)
      saved=$((saved + kb))
      rm -rf "$sub"
    fi
  done
done
echo "prune-prebuilds: kept $platform-$arch prebuilds, removed ${saved} KiB of other platforms'"
