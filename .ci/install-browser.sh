#!/usr/bin/env bash
# Install headless Chromium for the browser test of the client bundle (test/policy/browser.test.ts),
# from Debian's own `chromium` package: playwright-core drives it with executablePath
# /usr/bin/chromium (downloading a browser build does not work on these machines).
# Idempotent; needs root or sudo.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed' && [ -x /usr/bin/chromium ]; then
  echo "install-browser: chromium already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; else
    echo "install-browser: not root and no sudo; cannot install chromium" >&2
    exit 1
  fi
fi

# A fresh machine may have no package lists yet.
$SUDO apt-get install -y chromium || { $SUDO apt-get update && $SUDO apt-get install -y chromium; }
/usr/bin/chromium --version 2>/dev/null || true
echo "install-browser: done"
