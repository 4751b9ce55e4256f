#!/usr/bin/env bash
# Builds the Go interop helpers, offline:
#   test/interop/go/bin/gointerop         Go >= 1.19 + golang.org/x/mod 0.7.0 (golang-golang-x-mod-dev)
#   test/interop/sigsum/bin/sigsuminterop Go >= 1.22 + sigsum-go 0.11.1 (golang-sigsum-sigsum-go-dev)
# The newest Go found (`go` on PATH, /usr/lib/go-*/bin/go: Debian's golang-go, golang-1.23-go, ...)
# builds both.
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

# Any Go toolchain will do if it is new enough for the helper's go.mod: `go` on PATH and every
# Debian versioned toolchain (/usr/lib/go-*/bin/go: golang-1.19-go, golang-1.23-go, ...). The
# newest one found builds each helper.
go_version() { "$1" version 2>/dev/null | awk '{print $3}' | sed 's/^go//'; }
# version_ge A B: A >= B (dotted numbers)
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
NEWEST_GO=""
NEWEST_VER=""
for g in $(command -v go 2>/dev/null || true) /usr/lib/go-*/bin/go; do
  [ -x "$g" ] || continue
  v=$(go_version "$g")
  [ -n "$v" ] || continue
  if [ -z "$NEWEST_VER" ] || ! version_ge "$NEWEST_VER" "$v"; then NEWEST_GO=$g; NEWEST_VER=$v; fi
done
need() { awk '$1 == "go" {print $2; exit}' "$here/$1/go.mod"; }
# go_for DIR: the newest toolchain if it satisfies DIR/go.mod's `go` line, else empty.
go_for() {
  local want
  want=$(need "$1")
  if [ -n "$NEWEST_GO" ] && version_ge "$NEWEST_VER" "$want"; then echo "$NEWEST_GO"; fi
}
GO119=$(go_for go)
GO123=$(go_for sigsum)

# Test files run in parallel and may each call this script: serialise the builds.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/gossip-witness-interop-build.lock"
  flock 9
fi

status=0

if [ -z "$GO119" ]; then
  echo "interop: skipped (go helper: no Go >= $(need go) on PATH or in /usr/lib/go-*/bin (found: ${NEWEST_VER:-none}); run .ci/install-interop.sh)"
elif [ ! -d "$XMOD_SRC/sumdb/note" ]; then
  echo "interop: skipped (go helper: $XMOD_SRC missing; apt-get install golang-golang-x-mod-dev)"
else
  if (cd "$here/go" && "$GO119" build -o bin/gointerop .); then
    echo "interop: built go/bin/gointerop with $("$GO119" version | awk '{print $3}')"
  else
    echo "interop: FAILED to build go/bin/gointerop" >&2; status=1
  fi
fi

if [ -z "$GO123" ]; then
  echo "interop: skipped (sigsum helper: no Go >= $(need sigsum) on PATH or in /usr/lib/go-*/bin (found: ${NEWEST_VER:-none}); apt-get install -t bookworm-backports golang-1.23-go)"
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
