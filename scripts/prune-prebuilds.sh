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
[ -d "$root" ] || { echo "prune-prebuilds: $root is not a directory" >&2; exit 2; }
before=$(du -sk "$root" | cut -f1)
# Paths are read line by line, so a directory name with spaces is fine.
find "$root" -type d -name prebuilds -prune -print | while IFS= read -r dir; do
  for sub in "$dir"/*; do
    [ -d "$sub" ] || continue
    name=$(basename "$sub")
    p=${name%%-*}
    archs=${name#*-}
    keep=no
    if [ "$p" = "$platform" ]; then
      for a in $(echo "$archs" | tr '+' ' '); do [ "$a" = "$arch" ] && keep=yes; done
    fi
    [ "$keep" = yes ] || rm -rf "$sub"
  done
done
after=$(du -sk "$root" | cut -f1)
echo "prune-prebuilds: kept $platform-$arch prebuilds, removed $((before - after)) KiB of other platforms'"
