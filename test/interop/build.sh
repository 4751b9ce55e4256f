#!/usr/bin/env bash
# Builds the Go interop helpers, offline:
#   test/interop/go/bin/gointerop         Go 1.19 (golang-go) + golang.org/x/mod 0.7.0 (golang-golang-x-mod-dev)
#   test/interop/sigsum/bin/sigsuminterop Go 1.23 (golang-1.23-go) + sigsum-go 0.11.1 (golang-sigsum-sigsum-go-dev)
# Install the toolchains with .ci/install-interop.sh. A helper whose toolchain or library source is
# missing is not built: this prints "interop: skipped (reason)" for it and still exits 0 (the
# interop tests then skip with that reason). A build that fails with the tools present exits 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOWORK=off GOSUMDB=off GO111MODULE=on
# Keep Go's caches out of the work tree and writable even without a usable $HOME.
export GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/go-build}"
export GOPATH="${GOPATH:-${TMPDIR:-/tmp}/gossip-witness-gopath}"

XMOD_SRC=/usr/share/gocode/src/golang.org/x/mod
SIGSUM_SRC=/usr/share/gocode/src/sigsum.org/sigsum-go
GO119=""
if command -v go >/dev/null 2>&1; then GO119=$(command -v go); fi
for g in /usr/lib/go-1.19/bin/go; do [ -z "$GO119" ] && [ -x "$g" ] && GO119=$g; done
GO123=/usr/lib/go-1.23/bin/go

# Test files run in parallel and may each call this script: serialise the builds.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/gossip-witness-interop-build.lock"
  flock 9
fi

status=0

if [ -z "$GO119" ]; then
  echo "interop: skipped (go helper: no go toolchain; run .ci/install-interop.sh)"
elif [ ! -d "$XMOD_SRC/sumdb/note" ]; then
  echo "interop: skipped (go helper: $XMOD_SRC missing; apt-get install golang-golang-x-mod-dev)"
else
  if (cd "$here/go" && "$GO119" build -o bin/gointerop .); then
    echo "interop: built go/bin/gointerop with $("$GO119" version | awk '{print $3}')"
  else
    echo "interop: FAILED to build go/bin/gointerop" >&2; status=1
  fi
fi

if [ ! -x "$GO123" ]; then
  echo "interop: skipped (sigsum helper: $GO123 missing; apt-get install -t bookworm-backports golang-1.23-go)"
elif [ ! -d "$SIGSUM_SRC/pkg/checkpoint" ]; then
  echo "interop: skipped (sigsum helper: $SIGSUM_SRC missing; apt-get install -t bookworm-backports golang-sigsum-sigsum-go-dev)"
else
  if (cd "$here/sigsum" && "$GO123" build -o bin/sigsuminterop .); then
    echo "interop: built sigsum/bin/sigsuminterop with $("$GO123" version | awk '{print $3}')"
  else
    echo "interop: FAILED to build sigsum/bin/sigsuminterop" >&2; status=1
  fi
fi
exit $status
