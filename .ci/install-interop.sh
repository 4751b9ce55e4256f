#!/usr/bin/env bash
# Install the third-party tools the interop tests (test/interop/) run against.
# test/interop/build.sh builds the Go helpers with the newest Go it finds; the README's "Tests"
# section says what the interop tests cover. Idempotent; needs root (CI and dev machines run as root).
#
#   Debian main:               golang-go (Go 1.19), golang-golang-x-mod-dev (golang.org/x/mod 0.7.0 source),
#                              prometheus (for promtool: test/http/alerts-promtool.test.ts)
#   Debian bookworm-backports: sigsum-go 0.11.1, golang-1.23-go, golang-sigsum-sigsum-go-dev
#
# The backports suite is added using the mirror already configured in debian.sources, and only
# if no backports source file exists yet.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

MAIN_PKGS=(golang-go golang-golang-x-mod-dev prometheus parallel)
BPO_PKGS=(sigsum-go golang-1.23-go golang-sigsum-sigsum-go-dev)

have_all() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
  done
}

if have_all "${MAIN_PKGS[@]}" "${BPO_PKGS[@]}"; then
  echo "install-interop: all packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; else
    echo "install-interop: not root and no sudo; skipping" >&2
    exit 0
  fi
fi

f=/etc/apt/sources.list.d/backports.sources
if [ ! -f "$f" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
    | $SUDO tee "$f" >/dev/null
fi

$SUDO apt-get update
$SUDO apt-get install -y "${MAIN_PKGS[@]}"
$SUDO apt-get install -y -t bookworm-backports "${BPO_PKGS[@]}"
echo "install-interop: done"
