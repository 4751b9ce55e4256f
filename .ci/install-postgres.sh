#!/usr/bin/env bash
# Install PostgreSQL for the PostgreSQL store tests (test/store/postgres*.test.ts, issue 17) from
# Debian's `postgresql` package. The tests start their own throwaway cluster from it (initdb +
# pg_ctl on a free 127.0.0.1 port, as the `postgres` user: PostgreSQL refuses to run as root) and
# stop it; GW_TEST_PG_URL (a superuser URL) points them at an existing server instead.
# Idempotent; needs root or sudo.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

have() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && id -u postgres >/dev/null 2>&1; }

if have; then
  echo "install-postgres: postgresql already installed"
else
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; else
      echo "install-postgres: not root and no sudo; cannot install postgresql" >&2
      exit 1
    fi
  fi
  # A fresh machine may have no package lists yet. The package's own cluster is not used.
  $SUDO apt-get install -y postgresql || { $SUDO apt-get update && $SUDO apt-get install -y postgresql; }
fi
have || { echo "install-postgres: initdb or the postgres user is missing after the install" >&2; exit 1; }
ls -d /usr/lib/postgresql/*/bin | tail -n 1
echo "install-postgres: done"
